use constnet::network;

network! {
    struct Net: [1, 4, 4] => conv(8, 5)
}

fn main() {}
