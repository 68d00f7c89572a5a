use constnet::network;

network! {
    struct Net: [4294967296, 1, 1] => conv(4294967296, 1)
}

fn main() {}
