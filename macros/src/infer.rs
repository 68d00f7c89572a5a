//! Shape inference: `lower::Network` → [`TypedNetwork`].
//!
//! After `infer`, every layer has concrete input and output shapes, every
//! parameter tensor a name, an offset in the flat parameter array and an
//! initializer, and every count fits in `usize`. Inference stops at the first
//! broken link: every later shape would be noise.

use crate::diag;
use crate::layers::InitHint;
use crate::layers::spec::{InitSpec, Role};
use crate::lower::{Layer, Network};
use crate::vocab::{Init, Loss, Shape};

/// A network whose shapes are all known.
pub(crate) struct TypedNetwork<'a> {
    pub(crate) net: &'a Network<'a>,
    pub(crate) layers: Vec<TypedLayer<'a>>,
    pub(crate) output: Shape,
    pub(crate) tensors: Vec<Tensor>,
    /// Elements of the flat parameter array (trainable and running statistics).
    pub(crate) store_len: usize,
    /// Trainable parameters.
    pub(crate) param_count: usize,
    pub(crate) loss: Loss,
}

/// A layer with its shapes.
pub(crate) struct TypedLayer<'a> {
    pub(crate) layer: &'a Layer,
    pub(crate) input: Shape,
    pub(crate) output: Shape,
    /// `conv1`, `affine2`, …, for layers with parameters.
    pub(crate) field: Option<String>,
    /// Indices into [`TypedNetwork::tensors`].
    pub(crate) tensors: std::ops::Range<usize>,
    /// Trainable parameters of this layer.
    pub(crate) param_count: usize,
}

/// A named parameter tensor placed in the flat array.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tensor {
    pub(crate) name: String,
    pub(crate) shape: Vec<usize>,
    pub(crate) offset: usize,
    pub(crate) len: usize,
    pub(crate) role: Role,
    pub(crate) fan_in: usize,
    pub(crate) fan_out: usize,
    pub(crate) init: TensorInit,
}

/// A tensor's resolved initializer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum TensorInit {
    Constant(f64),
    Random(Init),
}

pub(crate) fn infer<'a>(net: &'a Network<'a>) -> syn::Result<TypedNetwork<'a>> {
    let mut shape = net.input;
    let mut layers = Vec::with_capacity(net.layers.len());
    let mut tensors: Vec<Tensor> = Vec::new();
    let mut offset = 0usize;
    let mut param_count = 0usize;
    let mut kind_counts: Vec<(&str, usize)> = Vec::new();
    let mut producer: Option<&str> = None;
    // Sum of every layer's output length. The training workspace holds each
    // output, its gradient and a batch-norm copy, and the arena two outputs,
    // so four times this sum bounds every buffer total `emit` computes.
    let mut activations = net.input.len().unwrap_or(usize::MAX);
    for (i, layer) in net.layers.iter().enumerate() {
        let output = layer
            .kind
            .out_shape(shape, producer)
            .map_err(|why| diag::cannot_take_input(&layer.tokens, &layer.text, &shape, &why))?;
        activations = output
            .len()
            .and_then(|n| activations.checked_add(n))
            .filter(|total| total.checked_mul(4).is_some())
            .ok_or_else(|| {
                diag::cannot_take_input(
                    &layer.tokens,
                    &layer.text,
                    &shape,
                    &diag::activations_overflow(),
                )
            })?;
        let first = tensors.len();
        let mut field = None;
        let mut count = 0usize;
        let overflow = || {
            diag::cannot_take_input(
                &layer.tokens,
                &layer.text,
                &shape,
                &diag::size_overflow("parameter count"),
            )
        };
        if let Some(params) = layer.kind.params(shape) {
            let n = match kind_counts.iter_mut().find(|(k, _)| *k == params.prefix) {
                Some((_, n)) => {
                    *n += 1;
                    *n
                }
                None => {
                    kind_counts.push((params.prefix, 1));
                    1
                }
            };
            let name = format!("{}{n}", params.prefix);
            for spec in params.tensors {
                let len = spec.len();
                let init = match spec.init {
                    InitSpec::Constant(v) => TensorInit::Constant(v),
                    InitSpec::Weight => TensorInit::Random(weight_init(net, i)),
                };
                if spec.role.is_trainable() {
                    count = count.checked_add(len).ok_or_else(overflow)?;
                }
                tensors.push(Tensor {
                    name: format!("{name}.{}", spec.suffix),
                    shape: spec.shape,
                    offset,
                    len,
                    role: spec.role,
                    fan_in: spec.fan_in,
                    fan_out: spec.fan_out,
                    init,
                });
                offset = offset.checked_add(len).ok_or_else(overflow)?;
            }
            field = Some(name);
        }
        param_count = param_count.checked_add(count).ok_or_else(overflow)?;
        layers.push(TypedLayer {
            layer,
            input: shape,
            output,
            field,
            tensors: first..tensors.len(),
            param_count: count,
        });
        shape = output;
        producer = Some(&layer.text);
    }
    if let Some((asserted, tokens)) = &net.output
        && *asserted != shape
    {
        let last = net.layers.last().map_or("", |l| l.text.as_str());
        return Err(syn::Error::new_spanned(
            tokens,
            diag::output_mismatch(asserted, &shape, last),
        ));
    }
    let loss = match &net.loss {
        Some((loss, _)) => *loss,
        None => net
            .layers
            .last()
            .map_or(Loss::MeanSquaredError, |l| l.kind.default_loss()),
    };
    Ok(TypedNetwork {
        net,
        layers,
        output: shape,
        tensors,
        store_len: offset,
        param_count,
        loss,
    })
}

/// The weight initializer of layer `i`: its own choice, else the network's,
/// else He for layers feeding the ReLU family and Xavier otherwise.
///
/// "Feeding" looks past layers that do not change the activation's input
/// distribution much (pooling, dropout, batch norm, flatten).
fn weight_init(net: &Network, i: usize) -> Init {
    if let Some(init) = net.layers[i].kind.init().or(net.init) {
        return init;
    }
    for later in &net.layers[i + 1..] {
        match later.kind.init_hint() {
            InitHint::He => return Init::HeNormal,
            InitHint::Transparent => continue,
            InitHint::Stop => break,
        }
    }
    Init::XavierNormal
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::Invocation;

    fn with_typed<R>(src: &str, f: impl FnOnce(syn::Result<TypedNetwork>) -> R) -> R {
        let inv: Invocation = syn::parse_str(src).unwrap();
        let def = &inv.networks[0];
        let net = crate::lower::lower(&def.header, def.body.as_ref().unwrap()).unwrap();
        f(infer(&net))
    }

    fn shapes(src: &str) -> syn::Result<Vec<String>> {
        with_typed(src, |t| {
            Ok(t?.layers.iter().map(|l| l.output.to_string()).collect())
        })
    }

    #[test]
    fn simple_conv_net_shapes() {
        let shapes = shapes(
            "struct N: [1, 28, 28] => conv(30, 5) -> relu -> pool(2) \
             -> affine(100) -> relu -> affine(10) -> softmax",
        )
        .unwrap();
        assert_eq!(
            shapes,
            [
                "[30, 24, 24]",
                "[30, 24, 24]",
                "[30, 12, 12]",
                "[100]",
                "[100]",
                "[10]",
                "[10]"
            ]
        );
    }

    #[test]
    fn simple_conv_net_params() {
        with_typed(
            "struct N: [1, 28, 28] => conv(30, 5) -> relu -> pool(2) \
             -> affine(100) -> relu -> affine(10) -> softmax",
            |t| {
                let t = t.unwrap();
                let names: Vec<&str> = t.tensors.iter().map(|t| t.name.as_str()).collect();
                assert_eq!(
                    names,
                    [
                        "conv1.weight",
                        "conv1.bias",
                        "affine1.weight",
                        "affine1.bias",
                        "affine2.weight",
                        "affine2.bias"
                    ]
                );
                let counts: Vec<usize> = t.layers.iter().map(|l| l.param_count).collect();
                assert_eq!(counts, [780, 0, 0, 432_100, 0, 1_010, 0]);
                assert_eq!(t.param_count, 433_890);
                assert_eq!(t.tensors[2].offset, 780);
                assert_eq!(t.tensors[0].init, TensorInit::Random(Init::HeNormal));
                assert_eq!(t.tensors[4].init, TensorInit::Random(Init::XavierNormal));
                assert_eq!(t.loss, Loss::CrossEntropy);
            },
        );
    }

    #[test]
    fn pool_rejects_remainder() {
        let err = shapes("struct N: [1, 5, 5] => conv(4, 2) -> pool(3)").unwrap_err();
        assert_eq!(
            err.to_string(),
            "`pool(3)` cannot take input [4, 4, 4]: height 4 is not divisible by pool size 3 (4 % 3 = 1)"
        );
    }

    #[test]
    fn conv_after_affine_names_the_producer() {
        let err = shapes("struct N: [1, 8, 8] => affine(100) -> conv(8, 3)").unwrap_err();
        assert_eq!(
            err.to_string(),
            "`conv(8, 3)` cannot take input [100]: it needs [channels, height, width], \
             and `affine(100)` produced a flat vector"
        );
    }

    #[test]
    fn activation_total_must_fit() {
        // Each output fits, and so do the weights (2^62), but the training
        // workspace (every output plus two gradient buffers) would not.
        let err = shapes("struct N: [1, 1, 1] => conv(4611686018427387904, 1) -> avgpool(1)")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "`conv(4611686018427387904, 1)` cannot take input [1, 1, 1]: the activations of \
             all layers together overflow usize (the training workspace holds each layer's \
             output, its gradient and a batch-norm copy)"
        );
    }

    #[test]
    fn output_assertion_is_checked() {
        let err = shapes("struct N: [4] => affine(10) => [12]").unwrap_err();
        assert_eq!(
            err.to_string(),
            "expected output [12], found [10] (the output of `affine(10)`)"
        );
        assert!(shapes("struct N: [4] => affine(10) => [10]").is_ok());
    }

    #[test]
    fn batchnorm_counts_only_trainable_params() {
        with_typed(
            "struct N: [1, 8, 8] => conv(4, 3) -> batchnorm -> relu",
            |t| {
                let t = t.unwrap();
                assert_eq!(t.layers[1].param_count, 8);
                assert_eq!(t.store_len, 4 * 9 + 4 + 16);
            },
        );
    }

    #[test]
    fn explicit_inits_win() {
        with_typed(
            "struct N: [4] => affine(3, init = he_uniform) -> sigmoid -> affine(2), init = normal(0.01)",
            |t| {
                let t = t.unwrap();
                assert_eq!(t.tensors[0].init, TensorInit::Random(Init::HeUniform));
                assert_eq!(t.tensors[2].init, TensorInit::Random(Init::Normal(0.01)));
                assert_eq!(t.loss, Loss::MeanSquaredError);
            },
        );
    }
}
