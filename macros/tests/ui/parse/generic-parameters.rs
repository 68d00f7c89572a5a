use constnet::network;

network! {
    struct Net<E>: [4] => affine(3)
}

fn main() {}
