use constnet::network;

network! {
    struct Net: [28, 28] => affine(10)
}

fn main() {}
