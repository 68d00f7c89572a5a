//! MLPerf Tiny's reference networks: shapes, parameter counts, training on
//! synthetic data, allocation-free inference.

// `pytorch` and `tflite_networks` check the same declarations against
// PyTorch's and TensorFlow Lite's outputs.
pub(crate) use crate::nets::mlperf as models;

use constnet::Network;
use models::{AutoEncoder, DsCnn, MobileNetV1, ResNet8};

#[test]
fn reference_models_have_the_published_parameter_counts() {
    assert_eq!(DsCnn::<f32>::PARAM_COUNT, 23_756);
    assert_eq!(ResNet8::<f32>::PARAM_COUNT, 78_186);
    assert_eq!(MobileNetV1::<f32>::PARAM_COUNT, 213_586);
    assert_eq!(AutoEncoder::<f32>::PARAM_COUNT, 267_928);
}

#[test]
fn reference_models_have_the_published_shapes() {
    let shape = |layers: &[constnet::LayerInfo], name: &str| {
        layers
            .iter()
            .find(|l| l.name == name)
            .map(|l| l.output.to_vec())
    };
    assert_eq!(shape(DsCnn::<f32>::LAYERS, "conv1"), Some(vec![64, 25, 5]));
    assert_eq!(
        shape(DsCnn::<f32>::LAYERS, "global_avgpool"),
        Some(vec![64])
    );
    assert_eq!(
        shape(ResNet8::<f32>::LAYERS, "conv4"),
        Some(vec![32, 16, 16])
    );
    assert_eq!(shape(ResNet8::<f32>::LAYERS, "conv7"), Some(vec![64, 8, 8]));
    assert_eq!(
        shape(MobileNetV1::<f32>::LAYERS, "conv1"),
        Some(vec![8, 48, 48])
    );
    assert_eq!(
        shape(MobileNetV1::<f32>::LAYERS, "conv27"),
        Some(vec![256, 3, 3])
    );
    assert_eq!(<AutoEncoder<f32> as Network>::OUTPUT_LEN, 640);
    println!("{}", ResNet8::<f32>::seeded(0).summary());
}

#[path = "../../examples/mlperf_tiny/synthetic.rs"]
mod synthetic;

/// Each model memorizes a few synthetic samples: the mean loss of the last
/// pass is at most half that of the first, within a hundred-odd steps (DS-CNN's
/// dropout slows it most); the example trains longer.
#[test]
fn reference_models_learn_synthetic_data() {
    fn halves<N>(
        name: &str,
        mut net: N,
        ts: &[impl constnet::loss::Target<N::Output>],
        steps: usize,
    ) where
        N: constnet::Trainable<Elem = f32> + Network + Sync,
    {
        let xs = synthetic::inputs::<N::Input>(ts.len(), 1);
        let (first, last) = synthetic::memorize(&mut net, &xs, ts, steps, 8, 3e-3).unwrap();
        assert!(last <= first / 2.0, "{name}: loss {first} -> {last}");
    }
    halves(
        "ds-cnn",
        DsCnn::<f32>::seeded(0),
        &synthetic::labels(16, 12, 2),
        120,
    );
    halves(
        "resnet8",
        ResNet8::<f32>::seeded(0),
        &synthetic::labels(16, 10, 2),
        40,
    );
    halves(
        "mobilenet",
        MobileNetV1::<f32>::seeded(0),
        &synthetic::labels(16, 2, 2),
        40,
    );
    let xs = synthetic::inputs::<[f32; 640]>(16, 1);
    halves("autoencoder", AutoEncoder::<f32>::seeded(0), &xs, 40);
}
