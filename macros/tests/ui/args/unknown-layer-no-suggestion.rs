use constnet::network;

network! {
    struct Net: [4] => affine(4) -> frobnicate
}

fn main() {}
