use constnet::network;

network! {
    struct Net: [4] => affine(4) -> softmax -> affine(10)
}

fn main() {}
