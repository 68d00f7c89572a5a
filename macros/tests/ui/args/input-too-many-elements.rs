use constnet::network;

network! {
    struct Net: [4294967296, 4294967296, 2] => relu
}

fn main() {}
