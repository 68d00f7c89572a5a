use constnet::network;

network! {
    struct Net: [1, 8, 8] => pool(2, pad = 2)
}

fn main() {}
