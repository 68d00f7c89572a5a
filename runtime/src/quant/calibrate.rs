//! Post-training static quantization: a trained `f32` network and a
//! calibration set in, its [`QNet`] out.
//!
//! 1. Every value's range is observed over the calibration set: the `f32`
//!    network's batch pass keeps each step's output (`Network::HIDDEN`),
//!    which is what the int8 program's values stand for.
//! 2. Each range becomes a scale and zero point (asymmetric int8, the range
//!    widened to hold 0 so that zero, and so padding and ReLU, are exact).
//!    [`Method`] chooses the range: the extremes, a percentile, or the
//!    clipping that minimizes the squared quantization error.
//! 3. Each layer's weights, with a batch norm after it folded in
//!    (`w · γ/√(σ² + ε)`, `(b − μ) · γ/√(σ² + ε) + β`), are quantized
//!    symmetrically per output channel (`max |w| / 127`), its bias to int32
//!    at `input_scale · weight_scale`, and its Q31 multipliers computed as
//!    TFLite computes them.

use std::vec::Vec;

use super::add::AddParams;
use super::net::{Buffer, QNet, Quantizable};
use super::program::{
    ADD_WORDS, CHANNEL_WORDS, Op, Program, VALUE_WORDS, Value, Weighted, weighted,
};
use super::requantize::multiplier;
use crate::inference::hidden;

/// How a value's range is chosen from what calibration saw.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Method {
    /// The smallest and largest value seen.
    MinMax,
    /// The given percentiles of the values seen (`99.99` keeps all but the
    /// top and bottom 0.01 %), so rare outliers do not stretch the scale.
    Percentile(f64),
    /// The clipping of the seen range that minimizes the mean squared
    /// quantization error (clipping plus rounding), over a histogram.
    Mse,
}

/// Why a network could not be quantized.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QuantizeError {
    /// The calibration set is empty.
    #[error("quantization needs at least one calibration sample")]
    NoSamples,
    /// A parameter or activation is NaN or infinite.
    #[error(
        "`{name}` holds a value that is not finite; a network that diverged cannot be quantized"
    )]
    NonFinite {
        /// The step or tensor.
        name: &'static str,
    },
    /// A percentile outside `(50, 100]`.
    #[error("percentile {0} is outside (50, 100]")]
    Percentile(f64),
}

/// Samples per batch pass while calibrating: bounds the workspace.
const CHUNK: usize = 64;
/// Histogram bins per value for [`Method::Percentile`] and [`Method::Mse`].
const BINS: usize = 2048;

/// Quantizes `net`, calibrating every value's range on `samples` with
/// `method`.
///
/// # Errors
/// [`QuantizeError`] for an empty calibration set, a bad percentile, or
/// a value that is not finite.
///
/// # Examples
/// ```
/// use constnet::{network, Network};
/// use constnet::quant::{self, Method, QNet};
///
/// network! { struct Tiny: [4] => affine(8) -> relu -> affine(3) -> softmax }
///
/// let net = Tiny::<f32>::seeded(7);
/// let samples: Vec<[f32; 4]> = (0..32).map(|i| [i as f32 / 32.0, 0.5, -0.25, 1.0]).collect();
/// let q: QNet<Tiny> = quant::quantize(&net, &samples, Method::MinMax)?;
/// let (f, i) = (net.predict(&samples[3]), q.predict(&samples[3]));
/// assert!(f.iter().zip(&i).all(|(a, b)| (a - b).abs() < 0.05));
/// # Ok::<(), quant::QuantizeError>(())
/// ```
pub fn quantize<N: Quantizable>(
    net: &N,
    samples: &[N::Input],
    method: Method,
) -> Result<QNet<N>, QuantizeError> {
    if samples.is_empty() {
        return Err(QuantizeError::NoSamples);
    }
    if let Method::Percentile(p) = method
        && !(p > 50.0 && p <= 100.0)
    {
        return Err(QuantizeError::Percentile(p));
    }
    let p = &N::PROGRAM;
    let params = net.params();
    for t in N::TENSORS {
        if params[t.range()].iter().any(|v| !v.is_finite()) {
            return Err(QuantizeError::NonFinite { name: t.name });
        }
    }
    let ranges = calibrate(net, samples, method)?;
    let mut words = N::Words::ZERO;
    let mut weights = N::Weights::ZERO;
    let w = words.as_mut();
    for (v, &(lo, hi)) in ranges.iter().enumerate() {
        let (scale, zp) = scale_zero_point(lo, hi);
        w[v * VALUE_WORDS] = scale.to_bits() as i32;
        w[v * VALUE_WORDS + 1] = i32::from(zp);
    }
    let scale_of = |w: &[i32], v: &Value| f32::from_bits(w[v.quant * VALUE_WORDS] as u32);
    for step in p.steps {
        let (s_in, s_out) = (scale_of(w, &step.input), scale_of(w, &step.output));
        if let Some((layer, outputs)) = weighted(step) {
            let n = step.weight_len();
            let q = &mut weights.as_mut()[layer.int8..][..n];
            let channels = &mut w[layer.words..][..outputs * CHANNEL_WORDS];
            quantize_layer(params, layer, outputs, (s_in, s_out), q, channels);
        } else if let Op::Add { skip, words: at } = &step.op {
            let k = AddParams::words_of(s_in, scale_of(w, skip), s_out);
            w[*at..*at + ADD_WORDS].copy_from_slice(&k);
        }
    }
    Ok(QNet::from_parts(weights, words).with_door_of(net))
}

/// Scale and zero point of the range `[lo, hi]`, widened to hold 0:
/// `scale = (hi − lo) / 255`, `zero_point = round(−128 − lo / scale)`.
pub fn scale_zero_point(lo: f32, hi: f32) -> (f32, i8) {
    let (lo, hi) = (lo.min(0.0), hi.max(0.0));
    let span = hi - lo;
    if span <= 0.0 || !span.is_finite() {
        return (1.0, 0);
    }
    let scale = span / 255.0;
    let zp = libm::roundf(-128.0 - lo / scale).clamp(-128.0, 127.0) as i8;
    (scale, zp)
}

/// One layer's int8 weights and its channels' words (bias, weight scale,
/// multiplier, shift; each block `outputs` long), a batch norm folded in.
fn quantize_layer(
    params: &[f32],
    layer: &Weighted,
    outputs: usize,
    (s_in, s_out): (f32, f32),
    q: &mut [i8],
    words: &mut [i32],
) {
    let per = q.len() / outputs;
    let (bias, rest) = words.split_at_mut(outputs);
    let (scales, rest) = rest.split_at_mut(outputs);
    let (multipliers, shifts) = rest.split_at_mut(outputs);
    for (o, qo) in q.chunks_exact_mut(per).enumerate() {
        let w = &params[layer.weight + o * per..][..per];
        let b = layer.bias.map_or(0.0, |at| f64::from(params[at + o]));
        let (gain, b) = match layer.norm {
            None => (1.0, b),
            Some(n) => {
                let at = |t: usize| f64::from(params[t + o]);
                let gain = at(n.scale) / (at(n.var) + n.eps).sqrt();
                (gain, (b - at(n.mean)) * gain + at(n.shift))
            }
        };
        let max = w
            .iter()
            .fold(0.0f64, |m, &v| m.max((f64::from(v) * gain).abs()));
        let scale = if max > 0.0 { (max / 127.0) as f32 } else { 1.0 };
        for (qv, &v) in qo.iter_mut().zip(w) {
            let r = (f64::from(v) * gain / f64::from(scale)).round();
            *qv = r.clamp(-127.0, 127.0) as i8;
        }
        let bias_scale = f64::from(s_in * scale);
        bias[o] = (b / bias_scale)
            .round()
            .clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32;
        scales[o] = scale.to_bits() as i32;
        (multipliers[o], shifts[o]) = multiplier(s_in, scale, s_out);
    }
}

/// Whether every multiplier and shift of `net` is the one its scales give
/// (as TFLite's `Prepare` computes it): a file that breaks this was not
/// written by a quantizer.
pub(crate) fn multipliers_follow<N: Quantizable>(net: &QNet<N>) -> bool {
    let p = &N::PROGRAM;
    let w = net.words().as_ref();
    let scale = |v: &Value| f32::from_bits(w[v.quant * VALUE_WORDS] as u32);
    p.steps.iter().all(|step| match (weighted(step), &step.op) {
        (Some((layer, n)), _) => {
            let c = &w[layer.words..][..n * CHANNEL_WORDS];
            (0..n).all(|o| {
                let s_w = f32::from_bits(c[n + o] as u32);
                let m = multiplier(scale(&step.input), s_w, scale(&step.output));
                m == (c[2 * n + o], c[3 * n + o])
            })
        }
        (None, Op::Add { skip, words: at }) => {
            let k = AddParams::words_of(scale(&step.input), scale(skip), scale(&step.output));
            w[*at..*at + ADD_WORDS] == k
        }
        (None, _) => true,
    })
}

/// Where calibration reads each value: `Network::HIDDEN` index, or the raw
/// input (`None`).
fn sources(p: &Program) -> Vec<(usize, Option<usize>)> {
    let mut out = std::vec![(p.input.quant, p.input.hidden)];
    for s in p.steps {
        out.push((s.output.quant, s.output.hidden));
    }
    out
}

/// Each value's `(lo, hi)` over the calibration set.
fn calibrate<N: Quantizable>(
    net: &N,
    samples: &[N::Input],
    method: Method,
) -> Result<Vec<(f32, f32)>, QuantizeError> {
    let p = &N::PROGRAM;
    let sources = sources(p);
    let mut ranges = std::vec![(f32::INFINITY, f32::NEG_INFINITY); p.values];
    visit(net, samples, &sources, |v, values| {
        let r = &mut ranges[v];
        for &x in values {
            r.0 = r.0.min(x);
            r.1 = r.1.max(x);
        }
    });
    for (v, r) in ranges.iter().enumerate() {
        if !(r.0.is_finite() && r.1.is_finite()) {
            let name = p
                .steps
                .iter()
                .find(|s| s.output.quant == v)
                .map_or("input", |s| s.name);
            return Err(QuantizeError::NonFinite { name });
        }
    }
    let percentile = match method {
        Method::MinMax => return Ok(ranges),
        Method::Percentile(q) => Some(q),
        Method::Mse => None,
    };
    let mut hists = std::vec![std::vec![0u64; BINS]; p.values];
    visit(net, samples, &sources, |v, values| {
        let (lo, hi) = ranges[v];
        let width = (hi - lo).max(f32::MIN_POSITIVE);
        for &x in values {
            let bin = ((x - lo) / width * BINS as f32) as usize;
            hists[v][bin.min(BINS - 1)] += 1;
        }
    });
    Ok(ranges
        .iter()
        .zip(&hists)
        .map(|(&(lo, hi), h)| match percentile {
            Some(q) => percentile_range(h, (lo, hi), q),
            None => mse_range(h, (lo, hi)),
        })
        .collect())
}

/// Runs the `f32` network over `samples` in chunks and gives `see` each
/// value's outputs.
fn visit<N: Quantizable>(
    net: &N,
    samples: &[N::Input],
    sources: &[(usize, Option<usize>)],
    mut see: impl FnMut(usize, &[f32]),
) {
    use crate::Tensor;
    for chunk in samples.chunks(CHUNK) {
        let outputs = hidden(net, chunk);
        for &(v, h) in sources {
            match h {
                Some(h) => see(v, &outputs[h].values),
                None => {
                    for x in chunk {
                        see(v, x.as_flat());
                    }
                }
            }
        }
    }
}

/// The bin edges' values.
fn edge((lo, hi): (f32, f32), bin: usize) -> f32 {
    lo + (hi - lo) * bin as f32 / BINS as f32
}

/// The range from the `100 − q` to the `q` percentile of a histogram.
fn percentile_range(h: &[u64], range: (f32, f32), q: f64) -> (f32, f32) {
    let total: u64 = h.iter().sum();
    let cut = ((1.0 - q / 100.0) * total as f64) as u64;
    let mut seen = 0;
    let low = h
        .iter()
        .position(|&n| {
            seen += n;
            seen > cut
        })
        .unwrap_or(0);
    seen = 0;
    let high = BINS
        - 1
        - h.iter()
            .rev()
            .position(|&n| {
                seen += n;
                seen > cut
            })
            .unwrap_or(0);
    (edge(range, low), edge(range, high + 1))
}

/// The clipping of `range` to `[lo', hi']` (both ends moved inwards in
/// steps of 1/64 of the histogram) with the least squared error of
/// quantizing the histogram's values.
fn mse_range(h: &[u64], range: (f32, f32)) -> (f32, f32) {
    let error = |(lo, hi): (f32, f32)| {
        let (scale, zp) = scale_zero_point(lo, hi);
        h.iter()
            .enumerate()
            .filter(|&(_, &n)| n > 0)
            .map(|(bin, &n)| {
                let x = (edge(range, bin) + edge(range, bin + 1)) / 2.0;
                let q = (libm::roundf(x / scale) + f32::from(zp)).clamp(-128.0, 127.0);
                let back = (q - f32::from(zp)) * scale;
                n as f64 * f64::from(x - back).powi(2)
            })
            .sum::<f64>()
    };
    let mut best = (error(range), range);
    for lo_step in 0..32 {
        for hi_step in 0..32 {
            let lo = edge(range, lo_step * BINS / 64);
            let hi = edge(range, BINS - hi_step * BINS / 64);
            let e = error((lo, hi));
            if e < best.0 {
                best = (e, (lo, hi));
            }
        }
    }
    best.1
}
