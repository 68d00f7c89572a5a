use constnet::network;

network! {
    struct Net: [2, 16] => conv(4, 3)
}

fn main() {}
