use constnet::network;

network! {
    struct Net: [1, 28, 28] => conv(0, 5) -> relu(2) -> pool(2, strides = 2) -> sigmod -> affine(10, init = glorot)
}

fn main() {}
