use constnet::network;

network! {
    struct Net: [4] => affine(4, init = glorot)
}

fn main() {}
