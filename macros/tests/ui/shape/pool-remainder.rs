use constnet::network;

network! {
    struct Odd: [1, 5, 5] => conv(4, 2) -> pool(3)
}

fn main() {}
