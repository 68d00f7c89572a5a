use constnet::network;

network! {
    struct Net: [16] => Dense(10) -> softmax
}

fn main() {}
