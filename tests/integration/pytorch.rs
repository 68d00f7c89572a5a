//! MLPerf Tiny's DS-CNN, ResNet-8 and MobileNetV1 against PyTorch: weights
//! that PyTorch wrote load through `persist::load_safetensors` and give
//! PyTorch's logits and probabilities.
//!
//! The fixtures in `tests/fixtures/pytorch/` were written by
//! `scripts/pytorch_fixtures.py` (torch 2.15.0; the version is also in each
//! file's metadata), which builds the modules to the declarations in
//! `examples/mlperf_tiny/models.rs`. The tests need no torch. The
//! AutoEncoder has no fixture: 1.07 MB of weights, and no convolution.
//!
//! Tolerance: every logit and probability within 1e-5 of PyTorch's,
//! absolute (both are of order 1: logits within ±1, probabilities in
//! [0, 1]). PyTorch's own float32 logits differ from float64 by up to
//! 1.2e-6 on MobileNetV1 (27 convolutions) and 2e-7 on the others, so the
//! bound leaves room for rounding and none for a wrong layer.

use std::path::PathBuf;

use crate::mlperf::models::{DsCnn, MobileNetV1, ResNet8};
use constnet::{Network, Tensor, persist};
use safetensors::{Dtype, SafeTensors};

const TOLERANCE: f32 = 1e-5;

fn fixture(file: &str) -> PathBuf {
    [
        env!("CARGO_MANIFEST_DIR"),
        "tests",
        "fixtures",
        "pytorch",
        file,
    ]
    .iter()
    .collect()
}

/// A float32 tensor of `file` with its shape, checked to be `expected`.
fn tensor(file: &SafeTensors<'_>, name: &str, expected: &[usize]) -> Vec<f32> {
    let view = file
        .tensor(name)
        .unwrap_or_else(|e| panic!("`{name}`: {e}"));
    assert_eq!(view.dtype(), Dtype::F32, "`{name}` dtype");
    assert_eq!(view.shape(), expected, "`{name}` shape");
    view.data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// The largest absolute difference of `ours` from `theirs` with its index,
/// and the largest difference relative to the largest magnitude among
/// `theirs` (per element it would blow up for logits near zero).
fn worst(ours: &[f32], theirs: &[f32]) -> (f32, f32, usize) {
    assert_eq!(ours.len(), theirs.len());
    let (mut abs, mut at) = (0.0f32, 0);
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        let diff = (a - b).abs();
        assert!(diff.is_finite(), "element {i}: ours {a}, PyTorch's {b}");
        if diff > abs {
            (abs, at) = (diff, i);
        }
    }
    let scale = theirs.iter().fold(0.0f32, |m, b| m.max(b.abs()));
    (abs, abs / scale, at)
}

/// Loads `<stem>.safetensors` into a fresh `N`, runs every stored input
/// through `logits`, `predict` and `predict_batch`, and compares with
/// PyTorch's outputs from `<stem>.io.safetensors`.
fn check<N>(stem: &str, net: &mut N, logits: impl Fn(&N, &N::Input) -> N::Output)
where
    N: Network<Elem = f32> + Sync,
    N::Input: Tensor<Elem = f32>,
    N::Output: Tensor<Elem = f32>,
{
    persist::load_safetensors(net, fixture(&format!("{stem}.safetensors")))
        .unwrap_or_else(|e| panic!("{stem}: {e}"));
    let bytes = std::fs::read(fixture(&format!("{stem}.io.safetensors"))).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let samples = file.tensor("inputs").unwrap().shape()[0];
    let input_shape: Vec<usize> = [&[samples], N::INPUT_SHAPE].concat();
    let output_shape = [samples, N::OUTPUT_LEN];
    let inputs = tensor(&file, "inputs", &input_shape);
    let xs = <N::Input as Tensor>::batch_of(&inputs);
    assert_eq!(xs.len(), samples);

    let ours_logits: Vec<f32> = xs
        .iter()
        .flat_map(|x| logits(net, x).as_flat().to_vec())
        .collect();
    let ours_predict: Vec<f32> = xs
        .iter()
        .flat_map(|x| net.predict(x).as_flat().to_vec())
        .collect();
    let mut batch = vec![<N::Output as Tensor>::zeroed(); samples];
    constnet::inference::predict_batch(net, xs, &mut batch);

    let theirs_logits = tensor(&file, "logits", &output_shape);
    let theirs_probs = tensor(&file, "probabilities", &output_shape);
    let comparisons = [
        ("logits", &ours_logits[..], &theirs_logits),
        ("predict", &ours_predict[..], &theirs_probs),
        (
            "predict_batch",
            N::Output::batch_flat(&batch),
            &theirs_probs,
        ),
    ];
    for (what, ours, theirs) in comparisons {
        let (abs, rel, at) = worst(ours, theirs);
        println!("{stem} {what}: max abs diff {abs:.2e}, relative to the largest {rel:.2e}");
        assert!(
            abs <= TOLERANCE,
            "{stem} {what}: sample {}, output {}: ours {}, PyTorch's {} (diff {abs:.2e})",
            at / N::OUTPUT_LEN,
            at % N::OUTPUT_LEN,
            ours[at],
            theirs[at],
        );
    }
}

#[test]
fn pytorch_ds_cnn_matches() {
    check("ds_cnn", &mut DsCnn::<f32>::seeded(0), DsCnn::logits);
}

#[test]
fn pytorch_resnet8_matches() {
    check("resnet8", &mut ResNet8::<f32>::seeded(0), ResNet8::logits);
}

#[test]
fn pytorch_mobilenet_v1_matches() {
    check(
        "mobilenet_v1",
        &mut MobileNetV1::<f32>::seeded(0),
        MobileNetV1::logits,
    );
}

#[test]
fn pytorch_fixtures_name_their_torch_version() {
    for stem in ["ds_cnn", "resnet8", "mobilenet_v1"] {
        for file in [
            format!("{stem}.safetensors"),
            format!("{stem}.io.safetensors"),
        ] {
            let bytes = std::fs::read(fixture(&file)).unwrap();
            let (_, meta) = SafeTensors::read_metadata(&bytes).unwrap();
            let meta = meta.metadata().as_ref().unwrap();
            let torch = meta.get("torch").map(String::as_str).unwrap_or_default();
            assert!(torch.starts_with("2.15.0"), "{file}: torch `{torch}`");
            assert_eq!(
                meta.get("script").map(String::as_str),
                Some("scripts/pytorch_fixtures.py"),
                "{file}"
            );
        }
    }
}
