use constnet::network;

network! {
    struct Net: [4] => affine(4) -> relu(0.1)
}

fn main() {}
