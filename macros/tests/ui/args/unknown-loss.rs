use constnet::network;

network! {
    struct Net: [4] => affine(1), loss = hinge
}

fn main() {}
