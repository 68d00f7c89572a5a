use constnet::network;

network! {
    struct Net: [4] => affine(1), lr = 0.1
}

fn main() {}
