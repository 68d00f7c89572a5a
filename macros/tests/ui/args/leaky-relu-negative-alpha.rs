use constnet::network;

network! {
    struct Net: [4] => affine(4) -> leaky_relu(alpha = -0.1)
}

fn main() {}
