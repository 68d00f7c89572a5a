use constnet::network;

network! {
    struct Net: [1, 6, 6] => conv(2, 3) -> relu -> affine(4), loss = mse
}

fn main() {
    let net = Net::<f32>::zeroed();
    let mut arena = [0.0f32; 4];
    let _ = net.predict_in(&[[[0.0; 6]; 6]; 1], &mut arena);
}
