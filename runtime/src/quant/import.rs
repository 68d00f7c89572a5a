//! A quantized network from parameters another quantizer computed, such as
//! TensorFlow Lite's converter: int8 weights, weight scales, int32 biases
//! and each value's scale and zero point. The multipliers and shifts are
//! computed from the scales as TFLite's `Prepare` computes them, so the
//! network then gives TFLite's integers.

use super::add::AddParams;
use super::net::{Buffer, QNet, Quantizable};
use super::program::{ADD_WORDS, CHANNEL_WORDS, DOOR_WORDS, Op, Step, VALUE_WORDS, weighted};
use super::requantize::multiplier;
use super::run::fold_door;

/// The parameters of one step that makes a new value: a layer with
/// weights, or a residual add (no weights, scales nor bias).
#[derive(Debug, Clone, Copy)]
pub struct Layer<'a> {
    /// int8 weights in the `f32` network's layout (PyTorch's: convolutions
    /// `[F, C / groups, KH, KW]`, affine `[out, in]` with inputs in
    /// `[C][H][W]` order).
    pub weights: &'a [i8],
    /// One scale per output channel, or one for the whole tensor.
    pub weight_scales: &'a [f32],
    /// int32 biases at `input_scale · weight_scale` (empty: no bias).
    pub bias: &'a [i32],
    /// The output's scale and zero point.
    pub output: (f32, i8),
}

/// Why parameters do not fit a network's int8 program.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ImportError {
    /// Another number of layers than the program's steps that make values.
    #[error("{found} layers given; the int8 program has {expected} steps with weights or adds")]
    Layers {
        /// The program's count.
        expected: usize,
        /// The count given.
        found: usize,
    },
    /// A tensor of the wrong length.
    #[error("step `{step}`: {what} has {found} values, expected {expected}")]
    Length {
        /// The step's name.
        step: &'static str,
        /// Which tensor.
        what: &'static str,
        /// The program's length.
        expected: usize,
        /// The length given.
        found: usize,
    },
    /// A scale that is not finite and positive.
    #[error("step `{step}`: a scale is not finite and positive")]
    Scale {
        /// The step's name (`input` for the input's).
        step: &'static str,
    },
}

/// Builds the int8 network from `input`'s scale and zero point and one
/// [`Layer`] per step that makes a value, in step order. The door (leading
/// preprocessing) is the identity: see [`QNet::with_door_of`].
///
/// # Errors
/// [`ImportError`] when the layers do not fit the program.
pub fn from_params<N: Quantizable>(
    input: (f32, i8),
    layers: &[Layer],
) -> Result<QNet<N>, ImportError> {
    let p = &N::PROGRAM;
    let producing: std::vec::Vec<&Step> = p
        .steps
        .iter()
        .filter(|s| weighted(s).is_some() || matches!(s.op, Op::Add { .. }))
        .collect();
    let producers = producing.len();
    if producers != layers.len() {
        return Err(ImportError::Layers {
            expected: producers,
            found: layers.len(),
        });
    }
    let positive = |s: f32, step| {
        if s.is_finite() && s > 0.0 {
            Ok(s)
        } else {
            Err(ImportError::Scale { step })
        }
    };
    let mut weights = N::Weights::ZERO;
    let mut words = N::Words::ZERO;
    let w = words.as_mut();
    let set_value = |w: &mut [i32], v: usize, (scale, zp): (f32, i8)| {
        w[v * VALUE_WORDS] = scale.to_bits() as i32;
        w[v * VALUE_WORDS + 1] = i32::from(zp);
    };
    set_value(w, p.input.quant, (positive(input.0, "input")?, input.1));
    if !p.door.is_empty() {
        for c in 0..p.channels {
            let at = p.door_words() + c * DOOR_WORDS;
            w[at] = 1.0f32.to_bits() as i32;
        }
    }
    for (step, layer) in producing.into_iter().zip(layers) {
        let out = (positive(layer.output.0, step.name)?, layer.output.1);
        set_value(w, step.output.quant, out);
        let scale = |v: &super::program::Value| f32::from_bits(w[v.quant * VALUE_WORDS] as u32);
        let s_in = scale(&step.input);
        if let Some((l, n)) = weighted(step) {
            let check = |what, expected, found| {
                if expected == found {
                    Ok(())
                } else {
                    Err(ImportError::Length {
                        step: step.name,
                        what,
                        expected,
                        found,
                    })
                }
            };
            check("weights", step.weight_len(), layer.weights.len())?;
            if layer.weight_scales.len() != 1 {
                check("weight_scales", n, layer.weight_scales.len())?;
            }
            if !layer.bias.is_empty() {
                check("bias", n, layer.bias.len())?;
            }
            weights.as_mut()[l.int8..][..layer.weights.len()].copy_from_slice(layer.weights);
            let c = &mut w[l.words..][..n * CHANNEL_WORDS];
            for o in 0..n {
                let s_w = layer.weight_scales[o.min(layer.weight_scales.len() - 1)];
                let s_w = positive(s_w, step.name)?;
                c[o] = layer.bias.get(o).copied().unwrap_or(0);
                c[n + o] = s_w.to_bits() as i32;
                (c[2 * n + o], c[3 * n + o]) = multiplier(s_in, s_w, out.0);
            }
        } else if let Op::Add { skip, words: at } = &step.op {
            let k = AddParams::words_of(s_in, scale(skip), out.0);
            w[*at..*at + ADD_WORDS].copy_from_slice(&k);
        }
    }
    Ok(QNet::from_parts(weights, words))
}

impl<N: Quantizable> QNet<N> {
    /// The same network with its door (the leading `normalize` and
    /// `rescale`, applied before quantizing an `f32` input) taken from the
    /// `f32` network's parameters.
    pub fn with_door_of(mut self, net: &N) -> Self {
        let p = &N::PROGRAM;
        if !p.door.is_empty() {
            for c in 0..p.channels {
                let (a, b) = fold_door(p.door, net.params(), c);
                let at = p.door_words() + c * DOOR_WORDS;
                self.words.as_mut()[at] = a.to_bits() as i32;
                self.words.as_mut()[at + 1] = b.to_bits() as i32;
            }
        }
        self
    }
}
