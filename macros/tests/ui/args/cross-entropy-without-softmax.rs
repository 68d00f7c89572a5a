use constnet::network;

network! {
    struct Net: [4] => affine(10), loss = cross_entropy
}

fn main() {}
