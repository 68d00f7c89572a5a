use constnet::network;

network! {
    struct Net: [1, 8, 8] => conv1d(4, 3)
}

fn main() {}
