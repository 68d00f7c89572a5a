use constnet::network;

network! {
    struct Net: [1, 8, 8] => conv(4, 3, padding = 1)
}

fn main() {}
