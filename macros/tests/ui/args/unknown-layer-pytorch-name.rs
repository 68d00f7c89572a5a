use constnet::network;

network! {
    struct Net: [1, 8, 8] => conv(4, 3) -> MaxPool2d(2)
}

fn main() {}
