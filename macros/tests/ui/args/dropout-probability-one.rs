use constnet::network;

network! {
    struct Net: [4] => affine(4) -> dropout(1.0)
}

fn main() {}
