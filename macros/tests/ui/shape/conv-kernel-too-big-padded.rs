use constnet::network;

network! {
    struct Net: [1, 8, 2] => conv(8, (3, 7), pad = (1, 2))
}

fn main() {}
