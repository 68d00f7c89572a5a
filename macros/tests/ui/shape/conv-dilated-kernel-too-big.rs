use constnet::network;

network! {
    struct Net: [1, 4, 4] => conv(2, 3, dilation = 2)
}

fn main() {}
