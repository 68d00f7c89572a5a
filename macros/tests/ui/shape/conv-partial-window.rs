use constnet::network;

network! {
    struct Net: [1, 28, 28] => conv(4, 5, stride = 2)
}

fn main() {}
