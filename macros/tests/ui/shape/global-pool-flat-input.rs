use constnet::network;

network! {
    struct Net: [10] => affine(8) -> global_avgpool
}

fn main() {}
