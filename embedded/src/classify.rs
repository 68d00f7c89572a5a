//! The body of the inference demos: run one network over the test inputs in
//! flash, print a line per input, then the measurements.

use constnet::quant::{QNet, Quantizable};
use constnet::{LayerInfo, Network, Role, TensorInfo};

use crate::probe::{self, Out, Timer};
use crate::report;

/// Sizes of the network that [`run`] reports.
pub struct Sizes {
    /// `Net::ARENA_BYTES`.
    pub arena_bytes: usize,
    /// `Net::PARAM_BYTES`.
    pub param_bytes: usize,
    /// Multiply-accumulates per inference, from [`macs`].
    pub macs: usize,
}

impl Sizes {
    /// The sizes of `N`.
    pub const fn of<N: Network>() -> Self {
        let elem = core::mem::size_of::<N::Elem>();
        Sizes {
            arena_bytes: N::ARENA_LEN * elem,
            param_bytes: N::STORE_LEN * elem,
            macs: macs(N::TENSORS, N::LAYERS),
        }
    }
}

impl Sizes {
    /// The sizes of the int8 form of `N`: its arena, its int8 weights and
    /// 32-bit words, and the MACs of its program.
    pub const fn int8<N: Quantizable>() -> Self {
        let steps = N::PROGRAM.steps;
        let mut macs = 0;
        let mut s = 0;
        while s < steps.len() {
            macs += steps[s].macs();
            s += 1;
        }
        Sizes {
            arena_bytes: QNet::<N>::ARENA_BYTES,
            param_bytes: QNet::<N>::FLASH_BYTES,
            macs,
        }
    }
}

/// Multiply-accumulates of one inference, exactly, from the layer geometry:
/// each weight tensor (convolution, depthwise convolution, affine) is used
/// once per output position of its layer, so it contributes its length times
/// the layer's output height × width (1 for a vector output). Biases, batch
/// norm, pooling and activations are not MACs, as in MLPerf Tiny's counts.
pub const fn macs(tensors: &[TensorInfo], layers: &[LayerInfo]) -> usize {
    let mut total = 0;
    let mut t = 0;
    while t < tensors.len() {
        let tensor = &tensors[t];
        if matches!(tensor.role, Role::Weight) {
            let mut l = 0;
            while l < layers.len() {
                if owns(layers[l].name, tensor.name) {
                    let out = layers[l].output;
                    let positions = if out.len() == 3 { out[1] * out[2] } else { 1 };
                    total += tensor.len * positions;
                    break;
                }
                l += 1;
            }
        }
        t += 1;
    }
    total
}

/// Whether `tensor` (`conv3.weight`) belongs to the layer named `layer` (`conv3`).
const fn owns(layer: &str, tensor: &str) -> bool {
    let (layer, tensor) = (layer.as_bytes(), tensor.as_bytes());
    if tensor.len() <= layer.len() || tensor[layer.len()] != b'.' {
        return false;
    }
    let mut i = 0;
    while i < layer.len() {
        if layer[i] != tensor[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// What [`run`] knows about the right output of each input.
pub enum Check<'a, const K: usize> {
    /// The true labels (MNIST): each line names the label and the arg-max,
    /// and `accuracy n/total` closes the output. Bit identity with the host
    /// is left to a `diff` of the lines.
    Labels(&'a [u8]),
    /// The host's outputs, from its portable build: each is compared bit for
    /// bit, `identical n/total` closes the output, and any difference (or a
    /// missing expected output) makes the QEMU session exit with a failure.
    Bits(&'a [[f32; K]]),
}

/// Runs `predict` on every input, prints one line each
/// ([`report::prediction`] with [`Check::Labels`], [`report::sample`] with
/// [`Check::Bits`]) and the closing line of `check`, then `#` lines with the
/// stack high-water mark, `sizes` and the SysTick ticks per inference, and
/// ends the QEMU session: with a failure if [`Check::Bits`] found a
/// difference.
///
/// Paints the stack first, so the caller's frame (where the arena lives)
/// counts as used.
#[inline(always)]
pub fn run<I, const K: usize>(
    inputs: &[I],
    check: Check<'_, K>,
    mut predict: impl FnMut(&I) -> [f32; K],
    sizes: Sizes,
) -> ! {
    let mut out = Out::open();
    let Some(peripherals) = cortex_m::Peripherals::take() else {
        probe::exit(false)
    };
    let timer = Timer::start(peripherals.SYST);
    probe::paint_stack();

    let (mut right, mut total_ticks, mut min_ticks, mut max_ticks) = (0, 0u32, u32::MAX, 0);
    for (k, x) in inputs.iter().enumerate() {
        let (y, ticks) = timer.time(|| predict(x));
        total_ticks = total_ticks.saturating_add(ticks);
        min_ticks = min_ticks.min(ticks);
        max_ticks = max_ticks.max(ticks);
        match check {
            Check::Labels(labels) => {
                let label = labels.get(k).copied().unwrap_or(u8::MAX);
                right += usize::from(report::argmax(&y) == usize::from(label));
                out.write(report::prediction(k, label, &y).finish());
            }
            Check::Bits(expected) => {
                right += usize::from(expected.get(k).is_some_and(|e| report::same_bits(e, &y)));
                out.write(report::sample(k, &y).finish());
            }
        }
    }
    let all_right = match check {
        Check::Labels(_) => {
            out.write(report::accuracy(right, inputs.len()).finish());
            // Accuracy is the weights' property, checked on the host.
            true
        }
        Check::Bits(_) => {
            out.write(report::identical(right, inputs.len()).finish());
            right == inputs.len()
        }
    };

    let stack = probe::stack_high_water();
    out.measure("stack_high_water_bytes", stack as u32);
    out.measure("arena_bytes", sizes.arena_bytes as u32);
    out.measure("param_bytes", sizes.param_bytes as u32);
    out.measure("macs", sizes.macs as u32);
    out.measure("ticks_min", min_ticks);
    out.measure("ticks_mean", total_ticks / inputs.len().max(1) as u32);
    out.measure("ticks_max", max_ticks);
    out.measure("instructions_per_tick", probe::INSTRUCTIONS_PER_TICK);
    probe::exit(all_right)
}
