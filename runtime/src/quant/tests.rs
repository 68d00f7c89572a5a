//! Every int8 kernel against the outputs TensorFlow Lite's reference
//! kernels gave for the same model and inputs (`tests/fixtures/tflite/`,
//! written by `scripts/tflite_int8_ops.py`). The multipliers are computed
//! here from the float32 scales the model stores, as TFLite computes them,
//! and every output must be the same integer.

use serde::Deserialize;
use std::string::String;
use std::vec::Vec;

use super::add::{self, AddParams};
use super::program::{ConvGeometry, PoolGeometry};
use super::requantize::{FULL_RANGE, Requantize, RequantizeF64, relu_range};
use super::{conv2d, fully_connected, pool};

#[derive(Deserialize)]
struct Fixture {
    tensorflow: String,
    op: String,
    activation: String,
    stride: Option<[usize; 2]>,
    pad: Option<[usize; 2]>,
    kernel: Option<[usize; 2]>,
    inputs: Vec<Quantized>,
    output: Quantized,
    weights: Option<Weights>,
    bias: Option<Vec<i32>>,
    samples: Vec<Sample>,
}

#[derive(Deserialize)]
struct Quantized {
    shape: Vec<usize>,
    scale: f32,
    zero_point: i8,
}

#[derive(Deserialize)]
struct Weights {
    shape: Vec<usize>,
    scales: Vec<f32>,
    values: Vec<i8>,
}

#[derive(Deserialize)]
struct Sample {
    inputs: Vec<Vec<i8>>,
    output: Vec<i8>,
}

fn load(json: &str, op: &str) -> Fixture {
    let f: Fixture = serde_json::from_str(json).expect("fixture parses");
    assert_eq!(f.op, op);
    assert_eq!(
        f.tensorflow, "2.21.0",
        "fixtures name the TensorFlow that wrote them"
    );
    assert_eq!(f.samples.len(), 20);
    f
}

impl Fixture {
    fn range(&self) -> (i8, i8) {
        match self.activation.as_str() {
            "relu" => relu_range(self.output.zero_point),
            "none" => FULL_RANGE,
            other => panic!("activation {other}"),
        }
    }

    /// The weights' scales, one per output channel.
    fn weight_scales<const F: usize>(&self) -> &[f32; F] {
        let w = self.weights.as_ref().expect("weights");
        w.scales
            .as_slice()
            .try_into()
            .expect("one scale per channel")
    }

    /// The weights' Q31 output stage, from the scales as TFLite's `Prepare` computes it.
    fn requantize<const F: usize>(&self) -> Requantize<F> {
        let scales = self.weight_scales();
        let (input, output) = (&self.inputs[0], &self.output);
        Requantize::per_channel(
            input.scale,
            scales,
            output.scale,
            output.zero_point,
            self.range(),
        )
    }

    fn bias<const F: usize>(&self) -> [i32; F] {
        self.bias
            .as_deref()
            .expect("bias")
            .try_into()
            .expect("one bias per channel")
    }

    fn geometry(&self, kernel: Option<[usize; 2]>, stride: [usize; 2], pad: [usize; 2]) {
        assert_eq!(
            (self.kernel, self.stride, self.pad),
            (kernel, Some(stride), Some(pad))
        );
    }
}

/// A TFLite NHWC sample (batch 1) in constnet's `[C][H][W]`.
fn chw<const C: usize, const H: usize, const W: usize>(nhwc: &[i8]) -> [[[i8; W]; H]; C] {
    assert_eq!(nhwc.len(), C * H * W);
    core::array::from_fn(|c| {
        core::array::from_fn(|y| core::array::from_fn(|x| nhwc[(y * W + x) * C + c]))
    })
}

/// Compares one sample's outputs; on a mismatch, says how many and by how much.
fn assert_same(op: &str, sample: usize, got: &[i8], want: &[i8]) -> usize {
    assert_eq!(got.len(), want.len());
    let diffs: Vec<i32> = got
        .iter()
        .zip(want)
        .map(|(&g, &w)| (i32::from(g) - i32::from(w)).abs())
        .filter(|&d| d != 0)
        .collect();
    assert!(
        diffs.is_empty(),
        "{op}, sample {sample}: {} of {} outputs differ from TFLite's, by up to {}",
        diffs.len(),
        got.len(),
        diffs.iter().max().unwrap_or(&0)
    );
    got.len()
}

/// [`assert_same`] for one sample's `[C][H][W]` output against TFLite's
/// NHWC one.
fn assert_same_chw<const C: usize, const H: usize, const W: usize>(
    op: &str,
    sample: usize,
    got: &[[[i8; W]; H]; C],
    want_nhwc: &[i8],
) -> usize {
    let want = chw::<C, H, W>(want_nhwc);
    assert_same(
        op,
        sample,
        got.as_flattened().as_flattened(),
        want.as_flattened().as_flattened(),
    )
}

/// Runs a convolution fixture; `tap(f, c, ky, kx)` is the weight's index in
/// TFLite's flat layout.
fn check_conv<
    const C: usize,
    const H: usize,
    const W: usize,
    const F: usize,
    const G: usize,
    const CG: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const O: usize,
>(
    f: &Fixture,
    tap: impl Fn(usize, usize, usize, usize) -> usize,
) -> usize {
    f.geometry(None, [S; 2], [P; 2]);
    let values = &f.weights.as_ref().expect("weights").values;
    let w: Vec<i8> = (0..F * CG * K * K)
        .map(|i| {
            let (o, c, ky, kx) = (i / (CG * K * K), i / (K * K) % CG, i / K % K, i % K);
            values[tap(o, c, ky, kx)]
        })
        .collect();
    let g = ConvGeometry {
        c: C,
        h: H,
        w: W,
        f: F,
        groups: G,
        kernel: (K, K),
        stride: (S, S),
        pad: (P, P),
        out: (O, O),
    };
    assert!(g.is_valid());
    let (b, out) = (f.bias::<F>(), f.requantize::<F>());
    let zp = f.inputs[0].zero_point;
    let mut compared = 0;
    for (i, s) in f.samples.iter().enumerate() {
        let x = chw::<C, H, W>(&s.inputs[0]);
        let mut y = [[[0i8; O]; O]; F];
        let flat = y.as_flattened_mut().as_flattened_mut();
        conv2d::forward(
            &g,
            None,
            (&w, &b),
            zp,
            &out,
            x.as_flattened().as_flattened(),
            flat,
        );
        compared += assert_same_chw(&f.op, i, &y, &s.output);
    }
    compared
}

#[test]
fn conv2d_with_relu_matches_tflite() {
    let f = load(
        include_str!("../../../tests/fixtures/tflite/conv2d.json"),
        "CONV_2D",
    );
    assert_eq!(f.weights.as_ref().unwrap().shape, [4, 3, 3, 3]);
    assert_eq!(f.activation, "relu");
    // TFLite's filters are [O][KH][KW][I].
    let n = check_conv::<3, 8, 8, 4, 1, 3, 3, 1, 1, 8>(&f, |o, c, ky, kx| {
        ((o * 3 + ky) * 3 + kx) * 3 + c
    });
    assert_eq!(n, 20 * 8 * 8 * 4);
}

#[test]
fn conv2d_at_stride_2_with_padding_after_matches_tflite() {
    let f = load(
        include_str!("../../../tests/fixtures/tflite/conv2d_stride2.json"),
        "CONV_2D",
    );
    assert_eq!(f.weights.as_ref().unwrap().shape, [3, 3, 3, 2]);
    let n = check_conv::<2, 8, 8, 3, 1, 2, 3, 2, 0, 4>(&f, |o, c, ky, kx| {
        ((o * 3 + ky) * 3 + kx) * 2 + c
    });
    assert_eq!(n, 20 * 4 * 4 * 3);
}

#[test]
fn depthwise_conv2d_matches_tflite() {
    let f = load(
        include_str!("../../../tests/fixtures/tflite/depthwise_conv2d.json"),
        "DEPTHWISE_CONV_2D",
    );
    assert_eq!(f.weights.as_ref().unwrap().shape, [1, 3, 3, 4]);
    // TFLite's depthwise filters are [1][KH][KW][C · M].
    let n = check_conv::<4, 6, 6, 4, 4, 1, 3, 1, 1, 6>(&f, |o, _, ky, kx| (ky * 3 + kx) * 4 + o);
    assert_eq!(n, 20 * 6 * 6 * 4);
}

/// TensorFlow's reference kernel for this operator requantizes in `f64`,
/// so the check runs with [`RequantizeF64`]; the Q31 stage differs from it
/// in one output of the 200 (sample 4, channel 0: 120.4994 before the zero
/// point, rounded once to 120; the Q31 path's two roundings give 121).
#[test]
fn fully_connected_matches_tflite() {
    let f = load(
        include_str!("../../../tests/fixtures/tflite/fully_connected.json"),
        "FULLY_CONNECTED",
    );
    let values = &f.weights.as_ref().unwrap().values;
    let (input, output) = (&f.inputs[0], &f.output);
    let scales = f.weight_scales::<10>();
    let out = RequantizeF64::per_channel(
        input.scale,
        scales,
        output.scale,
        output.zero_point,
        f.range(),
    );
    let b = f.bias::<10>();
    let mut compared = 0;
    for (i, s) in f.samples.iter().enumerate() {
        let mut y = [0i8; 10];
        let zp = f.inputs[0].zero_point;
        fully_connected::forward((values, &b), zp, &out, &s.inputs[0], &mut y);
        compared += assert_same(&f.op, i, &y, &s.output);
    }
    assert_eq!(compared, 20 * 10);
}

/// A pool over 3 channels with square windows and a square output.
fn pool_geometry(
    (h, w): (usize, usize),
    k: usize,
    stride: usize,
    pad: usize,
    o: usize,
) -> PoolGeometry {
    let g = PoolGeometry {
        c: 3,
        h,
        w,
        kernel: (k, k),
        stride: (stride, stride),
        pad: (pad, pad),
        out: (o, o),
    };
    assert!(g.is_valid());
    g
}

#[test]
fn max_pool_matches_tflite() {
    let f = load(
        include_str!("../../../tests/fixtures/tflite/max_pool.json"),
        "MAX_POOL_2D",
    );
    f.geometry(Some([2, 2]), [2, 2], [0, 0]);
    let mut compared = 0;
    for (i, s) in f.samples.iter().enumerate() {
        let x = chw::<3, 8, 8>(&s.inputs[0]);
        let mut y = [[[0i8; 4]; 4]; 3];
        let g = pool_geometry((8, 8), 2, 2, 0, 4);
        let flat = y.as_flattened_mut().as_flattened_mut();
        pool::max_forward(&g, x.as_flattened().as_flattened(), flat, f.range());
        compared += assert_same_chw(&f.op, i, &y, &s.output);
    }
    assert_eq!(compared, 20 * 4 * 4 * 3);
}

#[test]
fn average_pool_with_partial_windows_matches_tflite() {
    let f = load(
        include_str!("../../../tests/fixtures/tflite/average_pool.json"),
        "AVERAGE_POOL_2D",
    );
    f.geometry(Some([3, 3]), [2, 2], [1, 1]);
    let mut compared = 0;
    for (i, s) in f.samples.iter().enumerate() {
        let x = chw::<3, 7, 7>(&s.inputs[0]);
        let mut y = [[[0i8; 4]; 4]; 3];
        let g = pool_geometry((7, 7), 3, 2, 1, 4);
        let flat = y.as_flattened_mut().as_flattened_mut();
        pool::avg_forward(&g, x.as_flattened().as_flattened(), flat, f.range());
        compared += assert_same_chw(&f.op, i, &y, &s.output);
    }
    assert_eq!(compared, 20 * 4 * 4 * 3);
}

#[test]
fn add_of_two_scales_matches_tflite() {
    let f = load(
        include_str!("../../../tests/fixtures/tflite/add.json"),
        "ADD",
    );
    let [a, b] = [&f.inputs[0], &f.inputs[1]];
    assert_ne!(
        a.scale, b.scale,
        "the fixture checks the rescaling of two different scales"
    );
    assert_eq!(a.shape, f.output.shape);
    let params = AddParams::new(
        [a.scale, b.scale],
        [a.zero_point, b.zero_point],
        f.output.scale,
        f.output.zero_point,
        f.range(),
    );
    let mut compared = 0;
    for (i, s) in f.samples.iter().enumerate() {
        let mut y = [0i8; 48];
        add::forward(&params, &s.inputs[0], &s.inputs[1], &mut y);
        compared += assert_same(&f.op, i, &y, &s.output);
    }
    assert_eq!(compared, 20 * 48);
}
