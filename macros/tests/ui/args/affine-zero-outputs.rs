use constnet::network;

network! {
    struct Net: [4] => affine(0)
}

fn main() {}
