use constnet::network;

network! {
    struct Net: [4] => residual()
}

fn main() {}
