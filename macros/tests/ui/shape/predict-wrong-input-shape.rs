use constnet::network;

network! {
    struct Net: [1, 28, 28] => conv(4, 5) -> relu -> pool(2) -> affine(10) -> softmax
}

fn main() {
    let net = Net::<f32>::zeroed();
    let _ = net.predict(&[[[0.0f32; 27]; 28]; 1]);
}
