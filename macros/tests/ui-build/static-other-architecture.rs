//! A weight file of another architecture fails the build of a `static`:
//! `relu-net.cnet` was written by `[4] => affine(3) -> relu -> affine(2)`,
//! whose tensors have the same names and shapes as this network's.

use constnet::{Inline, network};

network! {
    struct Net: [4] => affine(3) -> tanh -> affine(2), loss = mse
}

static NET: Net<f32, Inline> = Net::from_le_bytes(include_bytes!("relu-net.cnet"));

fn main() {
    let _ = NET.predict(&[0.0; 4]);
}
