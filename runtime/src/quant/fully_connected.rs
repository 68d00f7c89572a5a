//! Fully connected int8 layer: TFLite's `FullyConnected` for int8
//! (per-tensor or per-channel weights). With
//! [`RequantizeF64`](super::requantize::RequantizeF64) it computes what
//! TensorFlow's reference kernel computes; with
//! [`Requantize`](super::requantize::Requantize), what TFLite Micro's
//! reference kernel computes.

use super::requantize::OutputStage;

/// `y = requantize(Σ w·(x − input_zero_point) + b)` per output, over a batch.
///
/// Weights are symmetric int8 (zero point 0), one row per output as
/// TFLite stores them; the bias is int32 at scale `input_scale ·
/// weight_scale`.
///
/// # Shapes
/// - `w`: `[OUT, IN]`, `b`: `[OUT]`
/// - `x`: `[batch, IN]`, `y`: `[batch, OUT]`
pub fn forward<const IN: usize, const OUT: usize>(
    w: &[[i8; IN]; OUT],
    b: &[i32; OUT],
    input_zero_point: i8,
    out: &impl OutputStage,
    x: &[[i8; IN]],
    y: &mut [[i8; OUT]],
) {
    assert_eq!(
        x.len(),
        y.len(),
        "fully_connected: {} inputs, {} outputs",
        x.len(),
        y.len()
    );
    let offset = -i32::from(input_zero_point);
    for (x, y) in x.iter().zip(y.iter_mut()) {
        for (o, (row, y)) in w.iter().zip(y.iter_mut()).enumerate() {
            // int32 accumulation wraps as TFLite's compiled kernels do.
            let acc = row.iter().zip(x).fold(0i32, |acc, (&w, &x)| {
                acc.wrapping_add(i32::from(w) * (i32::from(x) + offset))
            });
            *y = out.output(o, acc.wrapping_add(b[o]));
        }
    }
}
