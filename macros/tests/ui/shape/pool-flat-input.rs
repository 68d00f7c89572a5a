use constnet::network;

network! {
    struct Net: [64] => pool(2)
}

fn main() {}
