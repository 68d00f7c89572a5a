use constnet::network;

network! {
    struct Net: [1, 8, 8] => conv(4, 3, bias = 0)
}

fn main() {}
