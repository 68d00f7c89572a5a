use constnet::network;

network! {
    struct Net: [4] => residual(affine(4) -> softmax)
}

fn main() {}
