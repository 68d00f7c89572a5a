//! The quantized network: [`QNet<N>`], the int8 form of a network `N`
//! that `network!` declared, and [`Quantizable`], what the macro generates
//! for it.

use core::fmt;

use super::program::{Program, Step};
use super::run;
use crate::Tensor;
use crate::network::Network;

/// A fixed-size array of `T`: the buffers of a quantized network, whose
/// lengths `network!` computes.
pub trait Buffer<T>:
    AsRef<[T]> + AsMut<[T]> + Copy + fmt::Debug + Send + Sync + 'static + sealed::Sealed
{
    /// All zeros.
    const ZERO: Self;
    /// Its length.
    const LEN: usize;
}

mod sealed {
    pub trait Sealed {}
}

macro_rules! buffers {
    ($($t:ty),*) => {$(
        impl<const N: usize> sealed::Sealed for [$t; N] {}
        impl<const N: usize> Buffer<$t> for [$t; N] {
            const ZERO: Self = [0; N];
            const LEN: usize = N;
        }
    )*};
}
buffers!(i8, i32);

/// A network with an int8 form: `network!` implements it for every `f32`
/// network whose layers all have int8 kernels (convolutions, affine layers,
/// batch norm after either, ReLU and ReLU6, max and average pooling,
/// residual adds, dropout, leading `normalize` and `rescale`, a final
/// softmax).
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no int8 form",
    note = "int8 networks take convolutions, affine layers, batch norm right after either, \
            relu, relu6, pools, residual adds, dropout, leading normalize or rescale, \
            and a final softmax; `{Self}` has another layer, or is not f32"
)]
pub trait Quantizable: Network<Elem = f32> {
    /// The int8 program.
    const PROGRAM: Program;
    /// The int8 weights: `[i8; PROGRAM.weights]`.
    type Weights: Buffer<i8>;
    /// The 32-bit words: `[i32; PROGRAM.words]`.
    type Words: Buffer<i32>;
    /// The arena of one inference: `[i8; PROGRAM.arena]`.
    type Arena: Buffer<i8>;
    /// One quantized input sample: `[i8; INPUT_LEN]`.
    type Int8Input: Buffer<i8>;
    /// One int8 output: `[i8; OUTPUT_LEN]`.
    type Int8Output: Buffer<i8>;
}

/// The int8 form of network `N`: int8 weights, int32 biases, a Q31
/// multiplier and shift per output channel, a scale and zero point per
/// value, computed as TensorFlow Lite computes them.
///
/// Build one from a trained network with [`quantize`](super::quantize)
/// (calibration), from TFLite's parameters with
/// [`QNet::from_parts`], or from a file
/// ([`persist::int8::decode`](crate::persist::int8::decode) in a `static`,
/// [`persist::int8::load`](crate::persist::int8::load) at run time). Inference needs neither
/// heap nor std: its arena, [`QNet::ARENA_BYTES`], lives on the stack.
pub struct QNet<N: Quantizable> {
    pub(crate) weights: N::Weights,
    pub(crate) words: N::Words,
}

impl<N: Quantizable> Clone for QNet<N> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<N: Quantizable> Copy for QNet<N> {}

impl<N: Quantizable> PartialEq for QNet<N> {
    fn eq(&self, other: &Self) -> bool {
        self.weights.as_ref() == other.weights.as_ref()
            && self.words.as_ref() == other.words.as_ref()
    }
}

impl<N: Quantizable> fmt::Debug for QNet<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QNet")
            .field("network", &N::NAME)
            .field("flash_bytes", &Self::FLASH_BYTES)
            .field("arena_bytes", &Self::ARENA_BYTES)
            .finish_non_exhaustive()
    }
}

impl<N: Quantizable> QNet<N> {
    /// The program it runs.
    pub const PROGRAM: Program = N::PROGRAM;
    /// Bytes of parameters: the int8 weights and the 32-bit words.
    pub const FLASH_BYTES: usize = N::PROGRAM.weights + 4 * N::PROGRAM.words;
    /// Bytes of the arena one inference needs (on the stack), besides the
    /// caller's input and output: the values, then the convolutions'
    /// scratch.
    pub const ARENA_BYTES: usize = N::PROGRAM.arena;
    /// Bytes of the int8 weights.
    pub const WEIGHT_BYTES: usize = N::PROGRAM.weights;

    /// From its integers: `weights` as [`QNet::weights`] lays them out,
    /// `words` as [`QNet::words`] does. No check: they come from code that
    /// computed them ([`quantize`](super::quantize), an importer); files go
    /// through [`persist::int8::from_bytes`](crate::persist::int8::from_bytes).
    pub const fn from_parts(weights: N::Weights, words: N::Words) -> Self {
        Self { weights, words }
    }

    /// The int8 weights, every layer's in step order
    /// ([`Weighted::int8`](super::program::Weighted::int8)).
    pub fn weights(&self) -> &N::Weights {
        &self.weights
    }

    /// The 32-bit words (see [`program`](super::program)).
    pub fn words(&self) -> &N::Words {
        &self.words
    }

    /// The input's scale and zero point (after the leading preprocessing).
    pub fn input_quant(&self) -> (f32, i8) {
        run::quant_of(self.words.as_ref(), &N::PROGRAM.input)
    }

    /// The int8 output's scale and zero point (before a final softmax).
    pub fn output_quant(&self) -> (f32, i8) {
        run::quant_of(self.words.as_ref(), &N::PROGRAM.output)
    }

    /// Quantizes an input sample: the leading preprocessing in `f32`, then
    /// `round(x / scale) + zero_point`, saturated.
    pub fn quantize_input(&self, x: &N::Input) -> N::Int8Input {
        let mut q = N::Int8Input::ZERO;
        run::enter(&N::PROGRAM, self.words.as_ref(), x.as_flat(), q.as_mut());
        q
    }

    /// An int8 output, dequantized: `scale · (q − zero_point)`.
    pub fn dequantize(&self, q: &N::Int8Output) -> N::Output {
        let (scale, zp) = self.output_quant();
        let mut y = <N::Output as Tensor>::zeroed();
        for (y, &q) in y.as_flat_mut().iter_mut().zip(q.as_ref()) {
            *y = scale * f32::from(i16::from(q) - i16::from(zp));
        }
        y
    }

    /// The network's output for an int8 output: dequantized, then the final
    /// softmax if the network ends with one.
    pub fn dequantize_output(&self, q: &N::Int8Output) -> N::Output {
        let logits = self.dequantize(q);
        if !N::PROGRAM.softmax {
            return logits;
        }
        let mut y = <N::Output as Tensor>::zeroed();
        crate::loss::softmax_row(logits.as_flat(), y.as_flat_mut());
        y
    }

    /// The dequantized int8 output for an `f32` input, without the final
    /// softmax: the logits.
    pub fn logits(&self, x: &N::Input) -> N::Output {
        self.dequantize(&self.predict_int8(&self.quantize_input(x)))
    }

    /// The int8 output for an int8 input (already preprocessed and
    /// quantized with [`QNet::input_quant`]).
    pub fn predict_int8(&self, x: &N::Int8Input) -> N::Int8Output {
        let mut arena = N::Arena::ZERO;
        let p = &N::PROGRAM;
        let input = x.as_ref();
        if let Some(at) = p.input.at {
            arena.as_mut()[at..at + p.input.len].copy_from_slice(input);
        }
        let y = run::run::<N>(
            self.weights.as_ref(),
            self.words.as_ref(),
            input,
            arena.as_mut(),
        );
        let mut out = N::Int8Output::ZERO;
        out.as_mut().copy_from_slice(y);
        out
    }

    /// The network's output for an `f32` input, quantized at the door.
    pub fn predict(&self, x: &N::Input) -> N::Output {
        self.dequantize_output(&self.predict_int8(&self.quantize_input(x)))
    }

    /// The index of the largest output (the lowest index among ties).
    pub fn predict_class(&self, x: &N::Input) -> usize {
        let y = self.predict_int8(&self.quantize_input(x));
        let mut best = 0;
        for (i, &v) in y.as_ref().iter().enumerate() {
            if v > y.as_ref()[best] {
                best = i;
            }
        }
        best
    }

    /// The layer table: each step with its bytes of weights and words, and
    /// the totals.
    pub fn summary() -> Summary {
        Summary {
            name: N::NAME,
            program: &N::PROGRAM,
        }
    }

    /// The dequantized weights of step `s`: `w · scale` per output channel,
    /// in the layout of the `f32` network's weight (empty for a step
    /// without weights). For inspection and for tests that compare against
    /// the float network.
    #[cfg(feature = "std")]
    pub fn dequantized_weights(&self, s: usize) -> std::vec::Vec<f32> {
        let step = &N::PROGRAM.steps[s];
        let Some((layer, outputs)) = super::program::weighted(step) else {
            return std::vec::Vec::new();
        };
        let w = &self.weights.as_ref()[layer.int8..][..step.weight_len()];
        let scales = &self.words.as_ref()[layer.words + outputs..][..outputs];
        let per = step.weight_len() / outputs;
        w.iter()
            .enumerate()
            .map(|(i, &q)| f32::from(q) * f32::from_bits(scales[i / per] as u32))
            .collect()
    }
}

/// The int8 layer table `QNet::summary` returns; `Display` prints it.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    name: &'static str,
    program: &'static Program,
}

impl Summary {
    /// The steps, in order.
    pub fn steps(&self) -> &'static [Step] {
        self.program.steps
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.program;
        writeln!(f, "{} (int8)", self.name)?;
        writeln!(
            f,
            "{:<8} {:<40} {:>8} {:>10} {:>8} {:>10}",
            "step", "layers", "output", "weights B", "words B", "MACs"
        )?;
        let mut macs = 0;
        for s in p.steps {
            let text = s.text;
            let text = if text.len() > 40 {
                &text[..text.floor_char_boundary(40)]
            } else {
                text
            };
            writeln!(
                f,
                "{:<8} {:<40} {:>8} {:>10} {:>8} {:>10}",
                s.name,
                text,
                s.output.len,
                s.weight_len(),
                4 * s.word_len(),
                s.macs()
            )?;
            macs += s.macs();
        }
        let words = 4 * p.words;
        writeln!(
            f,
            "flash {} B (weights {} B, biases, multipliers and scales {} B); arena {} B; {} MACs",
            p.weights + words,
            p.weights,
            words,
            p.arena,
            macs
        )
    }
}
