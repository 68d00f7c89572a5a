//! int8 networks from the declaration: calibration, batch-norm folding,
//! the door, residual adds, the file format and its refusals, the layer
//! table. (Same integers as TFLite: `tflite_networks.rs`.)

use constnet::data::{Dataset, Digits, InMemory};
use constnet::optim::Adam;
use constnet::persist::PersistError;
use constnet::persist::int8::{self, Fault};
use constnet::quant::{self, Method, QNet, Quantizable};
use constnet::rand::rngs::StdRng;
use constnet::rand::{RngExt, SeedableRng};
use constnet::train::{Progress, Trainer, fit_normalization};
use constnet::{Network, Tensor, network};

network! {
    struct SmallCnn: [1, 8, 8] => normalize -> conv(8, 3) -> relu -> pool(2)
        -> affine(10) -> softmax
    struct Separable: [1, 12, 8] =>
        conv(8, 3, stride = 2, pad = same) -> batchnorm -> relu -> dropout(0.2)
        -> dwconv(3, pad = same) -> batchnorm -> relu6 -> conv(8, 1) -> batchnorm -> relu
        -> global_avgpool -> affine(4) -> softmax
    struct Res: [2, 6, 6] => conv(4, 3, pad = 1) -> batchnorm -> relu
        -> residual(conv(4, 3, pad = 1) -> relu -> conv(4, 3, pad = 1) -> batchnorm)
        -> relu -> avgpool(2) -> affine(3), loss = mse
    struct ReluHead: [4] => rescale(0.5, offset = 1) -> affine(8) -> relu -> affine(3), loss = mse
    struct Relu6Head: [4] => rescale(0.5, offset = 1) -> affine(8) -> relu6 -> affine(3), loss = mse
    struct Other: [4] => affine(9) -> relu -> affine(3), loss = mse
}

type Image8 = [[[f32; 8]; 8]; 1];

/// `n` samples of `X` uniform in `[lo, hi)`.
fn uniform<X: Tensor<Elem = f32>>(n: usize, (lo, hi): (f32, f32), seed: u64) -> Vec<X> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let mut x = X::zeroed();
            x.as_flat_mut()
                .iter_mut()
                .for_each(|v| *v = rng.random_range(lo..hi));
            x
        })
        .collect()
}

/// Gives every batch norm running statistics away from the identity, so
/// folding them is tested.
fn perturb_batch_norms<N: Network<Elem = f32>>(net: &mut N, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    for t in N::TENSORS {
        let (lo, hi) = match t.name.rsplit('.').next() {
            Some("running_mean") => (-0.3, 0.3),
            Some("running_var") => (0.5, 2.0),
            Some("weight") if t.name.starts_with("batchnorm") => (0.5, 1.5),
            Some("bias") if t.name.starts_with("batchnorm") => (-0.2, 0.2),
            _ => continue,
        };
        for v in &mut net.params_mut()[t.range()] {
            *v = rng.random_range(lo..hi);
        }
    }
}

/// The largest difference between the `f32` network's output and the
/// dequantized int8 one, over `xs`, in units of the output scale; and the
/// share of samples whose largest output is the same.
fn agreement<N: Quantizable>(net: &N, q: &QNet<N>, xs: &[N::Input]) -> (f32, f64) {
    let (scale, _) = q.output_quant();
    let mut worst = 0.0f32;
    let mut same = 0;
    for x in xs {
        let (f, i) = (net.predict(x), q.predict(x));
        let argmax = |v: &[f32]| (0..v.len()).fold(0, |b, k| if v[k] > v[b] { k } else { b });
        same += usize::from(argmax(f.as_flat()) == argmax(i.as_flat()));
        for (a, b) in f.as_flat().iter().zip(i.as_flat()) {
            worst = worst.max((a - b).abs() / scale);
        }
    }
    (worst, same as f64 / xs.len() as f64)
}

#[test]
fn the_program_and_its_sizes_are_constants() {
    type Q = QNet<SmallCnn>;
    // conv 8·1·3·3 = 72 weights, affine 10·8·3·3 = 720.
    const { assert!(Q::WEIGHT_BYTES == 72 + 720) };
    // Values: the input, the conv's (pooled) output, the logits; a door
    // word pair for the one input channel; 4 words per output channel.
    const { assert!(Q::PROGRAM.words == 3 * 2 + 2 + 4 * (8 + 10)) };
    const { assert!(Q::FLASH_BYTES == 792 + 4 * (8 + 72)) };
    // One byte per value element as the f32 arena places them, then the
    // conv's scratch: up to 3 bytes to align it, an int32 per filter, a
    // pair of filters widened (9 taps rounded up to 12, 4 bytes per tap of
    // a pair), the widened columns of a unit of pool windows (all 9
    // windows of the 3×3 pooled output, 24 pairs of columns allowed; 2×2
    // cells), and 2 columns of 12 before they are widened.
    const { assert!(Q::PROGRAM.scratch == 3 + 4 * 8 + 4 * 12 + 9 * 2 * (4 * 12) + 2 * 12) };
    const { assert!(Q::ARENA_BYTES == SmallCnn::<f32>::ARENA_LEN + Q::PROGRAM.scratch) };
    let p = Q::PROGRAM;
    assert_eq!(
        p.steps.len(),
        2,
        "normalize is the door, relu and pool fold into the conv"
    );
    assert_eq!(p.steps[0].text, "conv(8, 3) -> relu -> pool(2)");
    assert!(p.softmax);
    let table = Q::summary().to_string();
    assert!(table.contains("conv1") && table.contains("792"), "{table}");
    // Batch norms and their activations merge into the layer before them;
    // dropout is a view.
    assert_eq!(QNet::<Separable>::PROGRAM.steps.len(), 5);
    assert_eq!(
        QNet::<Separable>::PROGRAM.steps[1].act,
        quant::program::Act::Relu6,
        "{:?}",
        QNet::<Separable>::PROGRAM.steps[1]
    );
}

#[test]
fn a_trained_cnn_keeps_its_accuracy_in_int8() {
    let data: InMemory<Image8, usize> = Digits::load();
    let (train, test) = data.split(0.25, 3);
    let mut net = SmallCnn::<f32>::seeded(1);
    fit_normalization(&mut net, &train).unwrap();
    Trainer::new()
        .epochs(6)
        .batch_size(32)
        .seed(2)
        .progress(Progress::Quiet)
        .fit(&mut net, &train, None, &mut Adam::new(0.01))
        .unwrap();
    let calibration: Vec<Image8> = train.inputs()[..200].to_vec();
    let accuracy = |predict: &dyn Fn(&Image8) -> usize| {
        let hits = (0..test.len())
            .filter(|&i| predict(&test.inputs()[i]) == test.targets()[i])
            .count();
        hits as f64 / test.len() as f64
    };
    let f32_acc = accuracy(&|x| net.predict_class(x));
    assert!(f32_acc > 0.9, "f32 accuracy {f32_acc}");
    for method in [Method::MinMax, Method::Percentile(99.99), Method::Mse] {
        let q = quant::quantize(&net, &calibration, method).unwrap();
        let int8_acc = accuracy(&|x| q.predict_class(x));
        println!("{method:?}: f32 {f32_acc:.4}, int8 {int8_acc:.4}");
        assert!(
            (f32_acc - int8_acc).abs() <= 0.01,
            "{method:?}: f32 {f32_acc}, int8 {int8_acc}"
        );
    }
}

#[test]
fn batch_norm_folds_into_the_layer_before_it() {
    let mut net = Separable::<f32>::seeded(5);
    perturb_batch_norms(&mut net, 6);
    let xs: Vec<[[[f32; 8]; 12]; 1]> = uniform(64, (-1.0, 1.0), 7);
    let q = quant::quantize(&net, &xs, Method::MinMax).unwrap();
    let (worst, same) = agreement(&net, &q, &xs);
    assert!(worst < 0.5 * 255.0 / 16.0 && same >= 0.9, "{worst} {same}");
}

#[test]
fn residual_adds_rescale_both_operands() {
    let mut net = Res::<f32>::seeded(8);
    perturb_batch_norms(&mut net, 9);
    let xs: Vec<[[[f32; 6]; 6]; 2]> = uniform(64, (-2.0, 2.0), 10);
    let q = quant::quantize(&net, &xs, Method::MinMax).unwrap();
    let (worst, _) = agreement(&net, &q, &xs);
    // A few output steps: each layer rounds once, the add twice.
    assert!(worst < 6.0, "{worst}");
}

#[test]
fn the_door_applies_leading_preprocessing_before_quantizing() {
    let net = ReluHead::<f32>::seeded(11);
    let xs: Vec<[f32; 4]> = uniform(128, (-4.0, 4.0), 12);
    let q = quant::quantize(&net, &xs, Method::MinMax).unwrap();
    let (scale, zp) = q.input_quant();
    // rescale maps [-4, 4) to [-1, 3): scale 4 / 255, zero point -64.
    assert!((scale - 4.0 / 255.0).abs() < 1e-3, "{scale}");
    assert!((-66..=-62).contains(&zp), "{zp}");
    let x = [2.0, -2.0, 0.0, 3.5];
    let qx = q.quantize_input(&x);
    for (&q, &x) in qx.iter().zip(&x) {
        let back = (f32::from(q) - f32::from(zp)) * scale;
        assert!((back - (x * 0.5 + 1.0)).abs() <= scale, "{x} → {q}");
    }
    let (worst, _) = agreement(&net, &q, &xs);
    assert!(worst < 4.0, "{worst}");
}

#[test]
fn files_round_trip_and_refuse_other_networks_programs_and_damage() {
    let net = ReluHead::<f32>::seeded(13);
    let xs: Vec<[f32; 4]> = uniform(32, (-4.0, 4.0), 14);
    let q = quant::quantize(&net, &xs, Method::MinMax).unwrap();
    let bytes = int8::to_bytes(&q);
    assert_eq!(bytes.len(), int8::file_len::<ReluHead>());
    let back: QNet<ReluHead> = int8::from_bytes(&bytes).unwrap();
    assert_eq!(back, q);
    let fault = |r: Result<_, PersistError>| match r {
        Err(PersistError::Int8 { fault }) => fault,
        other => panic!("expected an int8 fault, got {other:?}"),
    };
    // Another architecture.
    assert_eq!(
        fault(int8::from_bytes::<Other>(&bytes).map(|_| ())),
        Fault::Signature
    );
    // The same architecture with ReLU6 where the file has ReLU.
    assert_eq!(
        fault(int8::from_bytes::<Relu6Head>(&bytes).map(|_| ())),
        Fault::Signature
    );
    // The same architecture, quantized into another program (written by
    // another layout of the int8 steps): the fingerprint differs.
    let mut other_program = bytes.clone();
    other_program[16] ^= 1;
    let sum = int8::checksum(&other_program).to_le_bytes();
    other_program[36..40].copy_from_slice(&sum);
    assert_eq!(
        fault(int8::from_bytes::<ReluHead>(&other_program).map(|_| ())),
        Fault::Program
    );
    // Another quantization scheme.
    let mut scheme = bytes.clone();
    scheme[24] = 2;
    let sum = int8::checksum(&scheme).to_le_bytes();
    scheme[36..40].copy_from_slice(&sum);
    assert_eq!(
        fault(int8::from_bytes::<ReluHead>(&scheme).map(|_| ())),
        Fault::Scheme
    );
    // Damage anywhere past the header.
    let mut flipped = bytes.clone();
    flipped[int8::HEADER_LEN + 5] ^= 0x10;
    assert_eq!(
        fault(int8::from_bytes::<ReluHead>(&flipped).map(|_| ())),
        Fault::Checksum
    );
    assert_eq!(
        fault(int8::from_bytes::<ReluHead>(&bytes[..bytes.len() - 1]).map(|_| ())),
        Fault::Length
    );
    assert_eq!(
        fault(int8::from_bytes::<ReluHead>(&bytes[..7]).map(|_| ())),
        Fault::ShortHeader
    );
    // A multiplier that does not follow from the scales, checksum fixed up.
    let mut words = *q.words();
    let p = &QNet::<ReluHead>::PROGRAM;
    let first = quant::program::weighted(&p.steps[0]).unwrap().0.words;
    words[first + 2 * 8] ^= 1 << 3;
    let forged = int8::to_bytes(&QNet::<ReluHead>::from_parts(*q.weights(), words));
    assert_eq!(
        fault(int8::from_bytes::<ReluHead>(&forged).map(|_| ())),
        Fault::Mismatch
    );
    // A scale that is not positive.
    let mut words = *q.words();
    words[0] = (-1.0f32).to_bits() as i32;
    let forged = int8::to_bytes(&QNet::<ReluHead>::from_parts(*q.weights(), words));
    assert_eq!(
        fault(int8::from_bytes::<ReluHead>(&forged).map(|_| ())),
        Fault::Scale
    );
    // Saved and loaded through a file.
    let path = std::env::temp_dir().join(format!("constnet-int8-{}.q8", std::process::id()));
    int8::save(&q, &path).unwrap();
    assert_eq!(int8::load::<ReluHead>(&path).unwrap(), q);
    let err = int8::load::<Other>(&path).unwrap_err();
    assert!(
        err.to_string().contains("different network architecture"),
        "{err}"
    );
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn calibration_refuses_what_it_cannot_quantize() {
    let mut net = Other::<f32>::seeded(15);
    assert!(matches!(
        quant::quantize(&net, &[], Method::MinMax),
        Err(quant::QuantizeError::NoSamples)
    ));
    let xs: Vec<[f32; 4]> = uniform(4, (-1.0, 1.0), 16);
    assert!(matches!(
        quant::quantize(&net, &xs, Method::Percentile(20.0)),
        Err(quant::QuantizeError::Percentile(_))
    ));
    net.params_mut()[3] = f32::NAN;
    let err = quant::quantize(&net, &xs, Method::MinMax).unwrap_err();
    assert!(err.to_string().contains("affine1.weight"), "{err}");
}
