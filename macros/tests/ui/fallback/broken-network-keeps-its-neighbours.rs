use constnet::network;

// One invocation, three networks: the middle one has a syntax error, the
// others expand and work as usual.
network! {
    struct Before: [2] => affine(2) -> relu
    struct Broken: [4] => affine(3) -> -> relu
    struct After: [2] => affine(1) -> sigmoid
}

fn main() {
    let _ = Before::<f32>::zeroed().predict(&[1.0, 2.0]);
    let _ = After::<f32>::zeroed().predict(&[1.0, 2.0]);
    let _: Option<Broken> = None;
}
