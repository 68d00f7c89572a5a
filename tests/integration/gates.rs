//! The classic perceptron logic gates, with the textbook weights set by hand
//! through `set_tensor`: AND, NAND and OR as single perceptrons, and XOR as
//! NAND and OR feeding AND in a two-layer network.
//!
//! `step` outputs 1 for a positive input and 0 otherwise; none of the
//! weighted sums below is 0, so every output is exactly 0 or 1.

use constnet::network;

network! {
    /// One perceptron: `step(w · x + b)`.
    struct Perceptron: [2] => affine(1) -> step
    /// XOR = AND(NAND(x), OR(x)).
    struct Xor: [2] => affine(2) -> step -> affine(1) -> step
}

const INPUTS: [[f32; 2]; 4] = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]];

const AND: ([f32; 2], f32) = ([0.5, 0.5], -0.7);
const NAND: ([f32; 2], f32) = ([-0.5, -0.5], 0.7);
const OR: ([f32; 2], f32) = ([0.5, 0.5], -0.2);

fn perceptron((weight, bias): ([f32; 2], f32)) -> Perceptron {
    let mut net = Perceptron::zeroed();
    net.set_tensor("affine1.weight", &weight).unwrap();
    net.set_tensor("affine1.bias", &[bias]).unwrap();
    net
}

/// The gate's output for each of `INPUTS`.
fn truth_table(gate: impl Fn(&[f32; 2]) -> [f32; 1]) -> [f32; 4] {
    INPUTS.map(|x| gate(&x)[0])
}

#[test]
fn and_gate() {
    let net = perceptron(AND);
    assert_eq!(truth_table(|x| net.predict(x)), [0.0, 0.0, 0.0, 1.0]);
}

#[test]
fn nand_gate() {
    let net = perceptron(NAND);
    assert_eq!(truth_table(|x| net.predict(x)), [1.0, 1.0, 1.0, 0.0]);
}

#[test]
fn or_gate() {
    let net = perceptron(OR);
    assert_eq!(truth_table(|x| net.predict(x)), [0.0, 1.0, 1.0, 1.0]);
}

#[test]
fn xor_from_nand_or_and() {
    let mut net = Xor::<f32>::zeroed();
    // Row 0 of the first layer is NAND, row 1 is OR ([out, in] layout).
    let hidden = [NAND.0, OR.0].concat();
    net.set_tensor("affine1.weight", &hidden).unwrap();
    net.set_tensor("affine1.bias", &[NAND.1, OR.1]).unwrap();
    net.set_tensor("affine2.weight", &AND.0).unwrap();
    net.set_tensor("affine2.bias", &[AND.1]).unwrap();
    assert_eq!(truth_table(|x| net.predict(x)), [0.0, 1.0, 1.0, 0.0]);
}
