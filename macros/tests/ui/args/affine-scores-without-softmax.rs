//! Ten scores from a last `affine` and no `loss = …`: the network trains
//! with the mean squared error, which the macro notes with a warning (a
//! deprecation, spanned at the last layer). `deny(deprecated)` makes it an
//! error here so that the snapshot records it.
#![deny(deprecated)]

use constnet::network;

network! {
    struct Classifier: [4] => affine(8) -> relu -> affine(10)
}

fn main() {}
