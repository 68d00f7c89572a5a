use constnet::network;

network! {
    struct Net: [1, 8, 8] => pool(2, stride = 2, stride = 1)
}

fn main() {}
