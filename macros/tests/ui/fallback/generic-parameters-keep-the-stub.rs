use constnet::network;

network! {
    struct Net<E>: [4] => affine(3)
}

fn main() {
    let _ = Net::<f32>::zeroed().predict(&[1.0, 2.0, 3.0, 4.0]);
}
