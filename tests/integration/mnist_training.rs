//! Short training runs on the real MNIST, ignored unless asked for
//! (`cargo test -- --ignored` with `MNIST_DIR` set; CI runs them), so a
//! machine without MNIST shows them as ignored rather than passing them.
//! The full runs are the `two_layer_net` and `mnist_cnn` examples; these
//! check that learning starts right.

use constnet::data::{Batches, Dataset, Mnist};
use constnet::network;
use constnet::optim::Sgd;
use constnet::train::{Stepper, evaluate};

network! {
    struct TwoLayerNet: [784] => affine(50) -> sigmoid -> affine(10) -> softmax, init = normal(0.01)
}

#[test]
#[ignore = "needs MNIST: set MNIST_DIR and run with --ignored (CI does)"]
fn two_layer_net_loss_falls_well_below_ln_10() {
    let dir = std::env::var_os("MNIST_DIR").expect("MNIST_DIR names the MNIST directory");
    let mnist = Mnist::<[f32; 784]>::load(&dir).expect("MNIST_DIR holds MNIST");
    let mut net = TwoLayerNet::<f32>::seeded(0);
    let mut stepper = Stepper::<TwoLayerNet>::new(0).threads(2);
    let mut opt = Sgd::new(0.1);
    let order = Batches::new(mnist.train.len(), 100, 0).epoch(0);
    let (mut xs, mut ts) = (Vec::new(), Vec::new());
    let mut losses = Vec::new();
    for chunk in order.order().chunks(100).take(600) {
        mnist.train.gather_into(chunk, &mut xs, &mut ts);
        losses.push(stepper.step(&mut net, &xs, &ts, &mut opt).unwrap().loss);
    }
    let tail: f64 = losses[losses.len() - 50..].iter().sum::<f64>() / 50.0;
    let ln10 = 10f64.ln();
    assert!(
        (losses[0] - ln10).abs() < 0.1,
        "initial loss {} should be about ln 10",
        losses[0]
    );
    assert!(
        tail < ln10 / 2.0,
        "mean loss of the last 50 steps is {tail}, not below half of ln 10 = {ln10:.3}"
    );
    let test = evaluate(&net, &mnist.test, 1000).unwrap();
    assert!(
        test.accuracy.unwrap_or_default() > 0.75,
        "test accuracy after one epoch: {}",
        test.accuracy.unwrap_or_default()
    );
    println!(
        "one epoch: last-50 mean loss {tail:.3}, test accuracy {:.2}%",
        100.0 * test.accuracy.unwrap_or_default()
    );
}
