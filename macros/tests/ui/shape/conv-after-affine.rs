use constnet::network;

network! {
    struct Net: [1, 8, 8] => affine(100) -> conv(8, 3)
}

fn main() {}
