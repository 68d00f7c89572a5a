use constnet::network;

network! {
    struct Net: [1, 9, 9] => conv(4, 3, stride = 2, round = ceil)
}

fn main() {}
