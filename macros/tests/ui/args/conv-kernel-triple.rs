use constnet::network;

network! {
    struct Net: [1, 8, 8] => conv(4, (3, 3, 3))
}

fn main() {}
