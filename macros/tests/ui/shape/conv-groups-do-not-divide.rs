use constnet::network;

network! {
    struct Net: [6, 8, 8] => conv(8, 3, groups = 4)
}

fn main() {}
