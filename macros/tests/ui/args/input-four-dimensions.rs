use constnet::network;

network! {
    struct Net: [1, 1, 28, 28] => affine(10)
}

fn main() {}
