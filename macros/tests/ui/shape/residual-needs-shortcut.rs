use constnet::network;

network! {
    struct Net: [3, 8, 8] => residual(conv(4, 3, pad = 1))
}

fn main() {}
