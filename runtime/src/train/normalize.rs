//! Fitting the statistics of a network's `normalize` layers to data.

use std::prelude::rust_2024::*;
use std::vec;

use crate::data::Dataset;
use crate::{Network, Role, Scalar, Tensor, Workspace};

/// Why [`fit_normalization`] could not fit a layer. The network keeps the
/// statistics it had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FitError {
    /// There were no samples.
    #[error("cannot fit `{layer}` on an empty dataset")]
    Empty {
        /// The `normalize` layer, such as `normalize1`.
        layer: &'static str,
    },
    /// A NaN or an infinity reached the layer: the statistics would be NaN.
    #[error(
        "cannot fit `{layer}`: channel {channel} of its input has a NaN or an infinity \
         (sample {sample}); clean the data first"
    )]
    NonFinite {
        /// The `normalize` layer.
        layer: &'static str,
        /// The channel (feature) that had it, from 0.
        channel: usize,
        /// The first sample, by position in the dataset, that had it.
        sample: usize,
    },
}

/// Samples run through the network at a time while fitting.
const CHUNK: usize = 256;

/// Fits every `normalize` layer of `net`, in order, to the inputs of `data`:
/// each layer's mean and standard deviation (population, per channel, or
/// per feature after a flat layer) become those of the values that reach it
/// through the layers before it, fitted first. A constant channel gets a
/// standard deviation of 1, so it becomes 0 rather than NaN. The statistics
/// are parameters: they are saved and loaded with the rest and never
/// trained. Returns how many layers it fitted.
///
/// Fit on the training set only, so that no statistic leaks from the
/// validation or test data; inference then takes raw inputs.
///
/// # Errors
/// [`FitError`] when `data` is empty or a NaN or an infinity reaches a
/// layer; `net` is unchanged then.
///
/// # Examples
/// ```
/// use constnet::data::InMemory;
/// use constnet::{network, train};
///
/// network! {
///     struct Scaled: [2] => normalize -> affine(1)
/// }
/// let data = InMemory::new(vec![[1.0f32, 100.0], [3.0, 300.0]], vec![0usize, 1])?;
/// let mut net = Scaled::<f32>::seeded(0);
/// assert_eq!(train::fit_normalization(&mut net, &data)?, 1);
/// assert_eq!(net.tensor("normalize1.mean").unwrap(), [2.0, 200.0]);
/// assert_eq!(net.tensor("normalize1.std").unwrap(), [1.0, 100.0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn fit_normalization<N, D>(net: &mut N, data: &D) -> Result<usize, FitError>
where
    N: Network,
    D: Dataset<Input = N::Input> + ?Sized,
    N::Input: Clone,
    D::Target: Clone,
{
    let mut fitted = 0;
    // Taken once, at the first layer: what a failure restores.
    let mut before: Option<Vec<N::Elem>> = None;
    let mut tensors = N::TENSORS.iter();
    while let Some(mean) = tensors.find(|t| t.role == Role::Mean) {
        let Some(std) = tensors.find(|t| t.role == Role::Std) else {
            break;
        };
        let layer = mean.name.strip_suffix(".mean").unwrap_or(mean.name);
        let Some(step) = N::HIDDEN.iter().find(|h| h.name == layer) else {
            continue;
        };
        // The layer as the identity, so its output is its input.
        let before = before.get_or_insert_with(|| net.params().to_vec());
        net.params_mut()[mean.range()].fill(N::Elem::ZERO);
        net.params_mut()[std.range()].fill(N::Elem::ONE);
        match channel_stats(net, data, step, layer) {
            Ok((means, stds)) => {
                for (dst, v) in net.params_mut()[mean.range()].iter_mut().zip(means) {
                    *dst = N::Elem::from_f64(v);
                }
                for (dst, v) in net.params_mut()[std.range()].iter_mut().zip(stds) {
                    *dst = N::Elem::from_f64(v);
                }
                fitted += 1;
            }
            Err(e) => {
                // Layers fitted before this one are undone too.
                net.params_mut().copy_from_slice(before);
                return Err(e);
            }
        }
    }
    Ok(fitted)
}

/// Mean and standard deviation per channel of `step`'s output over `data`.
fn channel_stats<N, D>(
    net: &N,
    data: &D,
    step: &crate::HiddenInfo,
    layer: &'static str,
) -> Result<(Vec<f64>, Vec<f64>), FitError>
where
    N: Network,
    D: Dataset<Input = N::Input> + ?Sized,
    N::Input: Clone,
    D::Target: Clone,
{
    if data.is_empty() {
        return Err(FitError::Empty { layer });
    }
    let channels = step.shape.first().copied().unwrap_or(1).max(1);
    let positions = step.len / channels;
    // Sums of deviations from a first estimate (the first sample's channel
    // means) keep the variance accurate when the mean is large.
    let mut shift: Option<Vec<f64>> = None;
    let (mut sum, mut sum_sq) = (vec![0.0f64; channels], vec![0.0f64; channels]);
    let (mut xs, mut ts) = (Vec::new(), Vec::new());
    let mut work = Vec::new();
    let mut index = Vec::new();
    let mut ys = Vec::new();
    let indices: Vec<usize> = (0..data.len()).collect();
    for (chunk_no, chunk) in indices.chunks(CHUNK).enumerate() {
        data.gather_into(chunk, &mut xs, &mut ts);
        let batch = xs.len();
        work.clear();
        work.resize(N::workspace_len(batch), N::Elem::ZERO);
        index.clear();
        index.resize(N::index_len(batch), 0u32);
        ys.clear();
        ys.resize(batch, <N::Output as Tensor>::zeroed());
        let mut ws = Workspace {
            data: &mut work,
            index: &mut index,
        };
        net.forward_batch(&xs, &mut ws, &mut ys);
        let start = step.start(batch);
        let values = &work[start..start + batch * step.len];
        for (s, sample) in values.chunks_exact(step.len).enumerate() {
            let shift = shift.get_or_insert_with(|| {
                sample
                    .chunks_exact(positions)
                    .map(|c| c.iter().map(|v| v.to_f64()).sum::<f64>() / positions as f64)
                    .collect()
            });
            for (c, channel) in sample.chunks_exact(positions).enumerate() {
                for v in channel {
                    let d = v.to_f64() - shift[c];
                    if !d.is_finite() {
                        let sample = chunk_no * CHUNK + s;
                        return Err(FitError::NonFinite {
                            layer,
                            channel: c,
                            sample,
                        });
                    }
                    sum[c] += d;
                    sum_sq[c] += d * d;
                }
            }
        }
    }
    let n = (data.len() * positions) as f64;
    let shift = shift.unwrap_or_default();
    let means = sum.iter().zip(&shift).map(|(s, k)| k + s / n).collect();
    let stds = sum
        .iter()
        .zip(&sum_sq)
        .map(|(s, q)| {
            let var = (q / n - (s / n) * (s / n)).max(0.0);
            let std = var.sqrt();
            if std > 0.0 { std } else { 1.0 }
        })
        .collect();
    Ok((means, stds))
}
