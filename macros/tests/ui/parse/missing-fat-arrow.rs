use constnet::network;

network! {
    struct Net: [4] affine(3) -> relu
}

fn main() {}
