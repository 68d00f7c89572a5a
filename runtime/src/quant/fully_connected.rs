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
#[inline(never)]
pub fn forward(
    (w, b): (&[i8], &[i32]),
    input_zero_point: i8,
    out: &impl OutputStage,
    x: &[i8],
    y: &mut [i8],
) {
    let offset = -i32::from(input_zero_point);
    let n = x.len();
    let mut o = 0;
    while o < y.len() {
        // ROWS outputs at a time, then one: their sums, then one loop
        // over them (a single copy of the output stage in the code).
        let mut acc = [0i32; ROWS];
        let k = if o + ROWS <= y.len() {
            let rows: [&[i8]; ROWS] = core::array::from_fn(|k| &w[(o + k) * n..][..n]);
            acc = dots(&rows, x, offset);
            ROWS
        } else {
            [acc[0]] = dots(&[&w[o * n..][..n]], x, offset);
            1
        };
        for (i, &acc) in acc[..k].iter().enumerate() {
            y[o + i] = out.output(o + i, acc.wrapping_add(b[o + i]));
        }
        o += k;
    }
}

/// Outputs per pass over the input: 4 where each input load is worth
/// sharing (a Cortex-M), 1 where the compiler turns one row's sum into
/// vector instructions (x86-64). Integer sums are exact: the same integers
/// either way.
const ROWS: usize = if cfg!(target_arch = "x86_64") { 1 } else { 4 };

/// `Σ w·(x + offset)` of each row, wrapping as TFLite's compiled kernels
/// do; not inlined, so its accumulators stay in registers.
#[inline(never)]
fn dots<const R: usize>(rows: &[&[i8]; R], x: &[i8], offset: i32) -> [i32; R] {
    let mut acc = [0i32; R];
    for (i, &xv) in x.iter().enumerate() {
        let xv = i32::from(xv) + offset;
        for (a, row) in acc.iter_mut().zip(rows) {
            *a = a.wrapping_add(i32::from(row[i]) * xv);
        }
    }
    acc
}
