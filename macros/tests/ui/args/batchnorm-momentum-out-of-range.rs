use constnet::network;

network! {
    struct Net: [4] => affine(4) -> batchnorm(momentum = 1.5)
}

fn main() {}
