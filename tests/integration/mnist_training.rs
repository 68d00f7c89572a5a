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

/// int8 test accuracy of `q` on `data`.
fn int8_accuracy<N: constnet::quant::Quantizable>(
    q: &constnet::quant::QNet<N>,
    data: &constnet::data::InMemory<N::Input, usize>,
) -> f64 {
    let hits = (0..data.len())
        .filter(|&i| q.predict_class(&data.inputs()[i]) == data.targets()[i])
        .count();
    hits as f64 / data.len() as f64
}

#[test]
#[ignore = "needs MNIST: set MNIST_DIR and run with --ignored (CI does)"]
fn digits_cnn_keeps_its_mnist_accuracy_in_int8() {
    use constnet::data::Scaling;
    use constnet::quant::{self, Method};
    type Image = [[[f32; 28]; 28]; 1];
    let dir = std::env::var_os("MNIST_DIR").expect("MNIST_DIR names the MNIST directory");
    let mnist = Mnist::<Image>::load_with(&dir, Scaling::Raw).expect("MNIST_DIR holds MNIST");
    let mut net = crate::nets::Digits::<f32>::seeded(0);
    constnet::persist::from_bytes(
        &mut net,
        include_bytes!("../../embedded/assets/digits.cnet"),
    )
    .unwrap();
    let f32_acc = evaluate(&net, &mnist.test, 1000).unwrap().accuracy.unwrap();
    let start = std::time::Instant::now();
    let q = quant::quantize(&net, &mnist.train.inputs()[..1000], Method::MinMax).unwrap();
    let calibrated = start.elapsed();
    let int8_acc = int8_accuracy(&q, &mnist.test);
    println!(
        "Digits on MNIST's 10,000 test images: f32 {:.2}%, int8 {:.2}% (calibrated on 1,000 training images in {calibrated:?}, evaluated in {:?})",
        100.0 * f32_acc,
        100.0 * int8_acc,
        start.elapsed() - calibrated
    );
    assert!(
        (f32_acc - int8_acc).abs() <= 0.005,
        "f32 {f32_acc}, int8 {int8_acc}"
    );
}

#[test]
#[ignore = "needs MNIST: set MNIST_DIR and run with --ignored (CI does)"]
fn simple_conv_net_keeps_its_mnist_accuracy_in_int8() {
    use constnet::optim::Adam;
    use constnet::quant::{self, Method};
    use constnet::train::{Progress, Trainer};
    type Image = [[[f32; 28]; 28]; 1];
    network! {
        struct SimpleConvNet: [1, 28, 28] => conv(30, 5) -> relu -> pool(2)
            -> affine(100) -> relu -> affine(10) -> softmax
    }
    let dir = std::env::var_os("MNIST_DIR").expect("MNIST_DIR names the MNIST directory");
    let mnist = Mnist::<Image>::load(&dir).expect("MNIST_DIR holds MNIST");
    let mut net = SimpleConvNet::<f32>::seeded(1);
    Trainer::new()
        .epochs(1)
        .batch_size(100)
        .seed(1)
        .progress(Progress::Quiet)
        .fit(&mut net, &mnist.train, None, &mut Adam::new(1e-3))
        .unwrap();
    let f32_acc = evaluate(&net, &mnist.test, 1000).unwrap().accuracy.unwrap();
    let q = quant::quantize(&net, &mnist.train.inputs()[..1000], Method::MinMax).unwrap();
    let int8_acc = int8_accuracy(&q, &mnist.test);
    println!(
        "SimpleConvNet after one epoch, MNIST's 10,000 test images: f32 {:.2}%, int8 {:.2}%",
        100.0 * f32_acc,
        100.0 * int8_acc
    );
    assert!(f32_acc > 0.97, "f32 {f32_acc}");
    assert!(
        (f32_acc - int8_acc).abs() <= 0.005,
        "f32 {f32_acc}, int8 {int8_acc}"
    );
}
