//! An int8 file of another network fails the build of a `static`:
//! `relu-net.q8` was quantized from `[4] => affine(3) -> relu -> affine(2)`
//! (constnet's int8 format), and this network clamps to ReLU6 instead.

use constnet::network;
use constnet::persist::int8;
use constnet::quant::QNet;

network! {
    struct Net: [4] => affine(3) -> relu6 -> affine(2), loss = mse
}

static NET: QNet<Net> = int8::decode(include_bytes!("relu-net.q8"));

fn main() {
    let _ = NET.predict(&[0.0; 4]);
}
