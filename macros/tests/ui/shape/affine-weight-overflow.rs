use constnet::network;

network! {
    struct Net: [1, 100000, 100000] => affine(4000000000)
}

fn main() {}
