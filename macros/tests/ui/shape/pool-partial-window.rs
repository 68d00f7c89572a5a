use constnet::network;

network! {
    struct Net: [1, 6, 6] => pool(3, stride = 2)
}

fn main() {}
