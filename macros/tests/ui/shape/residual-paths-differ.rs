use constnet::network;

network! {
    struct Net: [3, 8, 8] => residual(conv(4, 3, pad = 1), shortcut = conv(4, 1, stride = 2, round = floor))
}

fn main() {}
