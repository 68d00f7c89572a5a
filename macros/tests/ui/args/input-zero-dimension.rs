use constnet::network;

network! {
    struct Net: [1, 0, 28] => affine(10)
}

fn main() {}
