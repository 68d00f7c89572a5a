use constnet::network;

network! {
    struct Net: [4] => affine(10) -> relu => [12]
}

fn main() {}
