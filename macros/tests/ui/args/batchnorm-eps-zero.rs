use constnet::network;

network! {
    struct Net: [4] => affine(4) -> batchnorm(eps = 0)
}

fn main() {}
