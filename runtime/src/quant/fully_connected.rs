//! Fully connected int8 layer: TFLite's `FullyConnected` for int8
//! (per-tensor or per-channel weights). With
//! [`RequantizeF64`](super::requantize::RequantizeF64) it computes what
//! TensorFlow's reference kernel computes; with
//! [`Requantize`](super::requantize::Requantize), what TFLite Micro's
//! reference kernel computes.

use super::requantize::OutputStage;

/// `y = requantize(Σ w·(x − input_zero_point) + b)` per output, for one
/// sample.
///
/// Weights are symmetric int8 (zero point 0), one row per output as
/// TFLite stores them; the bias is int32 at scale `input_scale ·
/// weight_scale`.
///
/// # Shapes
/// - `w`: `[OUT, IN]`, `b`: `[OUT]`, `x`: `[IN]`, `y`: `[OUT]`
pub fn forward(
    (w, b): (&[i8], &[i32]),
    input_zero_point: i8,
    out: &impl OutputStage,
    x: &[i8],
    y: &mut [i8],
) {
    let offset = -i32::from(input_zero_point);
    for (o, ((row, y), &b)) in w.chunks_exact(x.len()).zip(y.iter_mut()).zip(b).enumerate() {
        // int32 accumulation wraps as TFLite's compiled kernels do.
        let acc = row.iter().zip(x).fold(0i32, |acc, (&w, &x)| {
            acc.wrapping_add(i32::from(w) * (i32::from(x) + offset))
        });
        *y = out.output(o, acc.wrapping_add(b));
    }
}
