use constnet::network;

network! {
    struct Net: [4] => residual(relu, skip = affine(4))
}

fn main() {}
