use constnet::network;

network! {
    struct Net: [1, 8, 8] => conv(0, 3)
}

fn main() {}
