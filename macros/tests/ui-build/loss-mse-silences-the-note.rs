//! `loss = mse` keeps the mean squared error on purpose: the network of
//! `ui/args/affine-scores-without-softmax.rs` compiles without the note,
//! even under `deny(deprecated)`. So do networks that end in softmax, in
//! another activation, or in a single output.
#![deny(deprecated)]

use constnet::network;

network! {
    struct Regressor: [4] => affine(8) -> relu -> affine(10), loss = mse
    struct Classifier: [4] => affine(8) -> relu -> affine(10) -> softmax
    struct Bounded: [4] => affine(8) -> relu -> affine(10) -> tanh
    struct Single: [4] => affine(8) -> relu -> affine(1)
}

fn main() {
    let x = [0.5f32; 4];
    assert_eq!(Regressor::<f32>::seeded(0).predict(&x).len(), 10);
    assert_eq!(Classifier::<f32>::seeded(0).predict(&x).len(), 10);
    assert_eq!(Bounded::<f32>::seeded(0).predict(&x).len(), 10);
    assert_eq!(Single::<f32>::seeded(0).predict(&x).len(), 1);
}
