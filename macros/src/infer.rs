//! Shape inference: `lower::Network` → [`TypedNetwork`].
//!
//! After `infer`, every layer has concrete input and output shapes, every
//! residual block a main path and shortcut that agree, every parameter
//! tensor a name, an offset in the flat parameter array and an initializer,
//! and every count fits in `usize`. Inference stops at the first broken
//! link: every later shape would be noise.

use proc_macro2::Span;

use crate::diag;
use crate::layers::spec::{InitSpec, Role};
use crate::layers::{InitHint, LayerKind};
use crate::lower::{Block, Layer, Network, Node};
use crate::vocab::{Init, Loss, Shape};

/// A network whose shapes are all known.
pub(crate) struct TypedNetwork<'a> {
    pub(crate) net: &'a Network<'a>,
    /// Every layer in declaration order (a block's main path, then its
    /// shortcut); [`TypedNode`]s index into it.
    pub(crate) layers: Vec<TypedLayer<'a>>,
    /// The top-level chain.
    pub(crate) chain: Vec<TypedNode>,
    pub(crate) output: Shape,
    pub(crate) tensors: Vec<Tensor>,
    /// Elements of the flat parameter array (trainable and running statistics).
    pub(crate) store_len: usize,
    /// Trainable parameters.
    pub(crate) param_count: usize,
    pub(crate) loss: Loss,
    /// Warnings: what compiles but is likely not what was meant.
    pub(crate) notes: Vec<Note>,
}

/// A warning about a network that compiles: where it points and what it
/// says, under a name rustc shows with it (`emit::note`).
pub(crate) struct Note {
    pub(crate) name: &'static str,
    pub(crate) span: Span,
    pub(crate) message: String,
}

/// One element of a typed chain.
pub(crate) enum TypedNode {
    /// An index into [`TypedNetwork::layers`].
    Layer(usize),
    Block(TypedBlock),
}

/// A residual block with its shapes.
pub(crate) struct TypedBlock {
    pub(crate) main: Vec<TypedNode>,
    /// `None`: the identity.
    pub(crate) shortcut: Option<Vec<TypedNode>>,
    pub(crate) output: Shape,
    /// Trainable parameters of both paths.
    pub(crate) param_count: usize,
    /// Where block errors and the residual add point: `residual(…)`.
    pub(crate) span: Span,
    /// The block as written.
    pub(crate) text: String,
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

/// The state of one inference: what has been placed so far.
struct Walk<'a> {
    layers: Vec<TypedLayer<'a>>,
    tensors: Vec<Tensor>,
    /// Tensors whose initializer depends on what their layer feeds.
    pending: Vec<(usize, usize)>,
    offset: usize,
    param_count: usize,
    kind_counts: Vec<(&'static str, usize)>,
    /// Sum of every layer's output length. The training workspace holds
    /// each output, its gradient and a batch-norm copy, and the arena a few
    /// outputs at once, so four times this sum bounds every buffer total
    /// `emit` computes.
    activations: usize,
}

pub(crate) fn infer<'a>(net: &'a Network<'a>) -> syn::Result<TypedNetwork<'a>> {
    let mut walk = Walk {
        layers: Vec::new(),
        tensors: Vec::new(),
        pending: Vec::new(),
        offset: 0,
        param_count: 0,
        kind_counts: Vec::new(),
        activations: net.input.len().unwrap_or(usize::MAX),
    };
    let (chain, output, _) = walk.chain(&net.chain, net.input, None)?;
    if let Some((asserted, tokens)) = &net.output
        && *asserted != output
    {
        let last = net.chain.last().map_or(String::new(), node_text);
        return Err(syn::Error::new_spanned(
            tokens,
            diag::output_mismatch(asserted, &output, &last),
        ));
    }
    let loss = match &net.loss {
        Some((loss, _)) => *loss,
        None => match net.chain.last() {
            Some(Node::Layer(layer)) => layer.kind.default_loss(),
            Some(Node::Residual(_)) | None => Loss::MeanSquaredError,
        },
    };
    let notes = mse_by_default(net).into_iter().collect();
    let Walk {
        layers,
        mut tensors,
        pending,
        offset,
        param_count,
        ..
    } = walk;
    for (tensor, layer) in pending {
        let init = weight_init(net, &layers, &chain, layer);
        tensors[tensor].init = match (tensors[tensor].role, init) {
            (Role::Bias, Init::PyTorch) => TensorInit::Random(Init::PyTorch),
            (Role::Bias, _) => TensorInit::Constant(0.0),
            _ => TensorInit::Random(init),
        };
    }
    Ok(TypedNetwork {
        net,
        layers,
        chain,
        output,
        tensors,
        store_len: offset,
        param_count,
        loss,
        notes,
    })
}

/// The note on a network that reads as a classifier but trains with the
/// mean squared error because it names no loss.
///
/// The rule: no `loss = …` option, and the last layer is an `affine` with
/// at least 2 outputs, so nothing (no softmax, no sigmoid, no other
/// activation) follows the scores. That is the shape of a classifier whose
/// `-> softmax` was forgotten: integer labels then train as one-hot MSE
/// targets, which learns, but slowly and badly calibrated. A regressor with
/// several outputs says `loss = mse`, which silences the note; a network
/// ending in an activation (`relu`, `tanh`) or a convolution (an image
/// output, as autoencoders have) is taken to mean what it says.
fn mse_by_default(net: &Network) -> Option<Note> {
    if net.loss.is_some() {
        return None;
    }
    let Some(Node::Layer(last)) = net.chain.last() else {
        return None;
    };
    let LayerKind::Affine(affine) = &last.kind else {
        return None;
    };
    if affine.outputs < 2 {
        return None;
    }
    Some(Note {
        name: "mse_without_softmax",
        span: last.tokens.clone().into_iter().next()?.span(),
        message: diag::mse_by_default(&last.text),
    })
}

fn node_text(node: &Node) -> String {
    match node {
        Node::Layer(layer) => layer.text.clone(),
        Node::Residual(block) => block.text.clone(),
    }
}

impl<'a> Walk<'a> {
    /// Types a chain from `input`; returns its items, its output and the
    /// text of its last layer (the producer of what follows).
    fn chain(
        &mut self,
        nodes: &'a [Node],
        mut shape: Shape,
        mut producer: Option<&'a str>,
    ) -> syn::Result<(Vec<TypedNode>, Shape, Option<&'a str>)> {
        let mut items = Vec::with_capacity(nodes.len());
        for node in nodes {
            match node {
                Node::Layer(layer) => {
                    let index = self.layer(layer, shape, producer)?;
                    shape = self.layers[index].output;
                    producer = Some(&layer.text);
                    items.push(TypedNode::Layer(index));
                }
                Node::Residual(block) => {
                    let typed = self.block(block, shape, producer)?;
                    shape = typed.output;
                    producer = Some(&block.text);
                    items.push(TypedNode::Block(typed));
                }
            }
        }
        Ok((items, shape, producer))
    }

    fn block(
        &mut self,
        block: &'a Block,
        input: Shape,
        producer: Option<&'a str>,
    ) -> syn::Result<TypedBlock> {
        let params_before = self.param_count;
        let (main, main_out, _) = self.chain(&block.main, input, producer)?;
        let (shortcut, short_out) = match &block.shortcut {
            None => (None, input),
            Some(nodes) => {
                let (items, out, _) = self.chain(nodes, input, producer)?;
                (Some(items), out)
            }
        };
        if main_out != short_out {
            let why = match shortcut {
                None => diag::residual_needs_shortcut(&main_out, &input),
                Some(_) => diag::residual_paths_differ(&main_out, &short_out),
            };
            return Err(diag::cannot_take_input(
                &block.tokens,
                &block.text,
                &input,
                &why,
            ));
        }
        Ok(TypedBlock {
            main,
            shortcut,
            output: main_out,
            param_count: self.param_count - params_before,
            span: diag::span_of(&block.tokens),
            text: block.text.clone(),
        })
    }

    /// Types one layer and places its tensors; returns its index.
    fn layer(
        &mut self,
        layer: &'a Layer,
        shape: Shape,
        producer: Option<&str>,
    ) -> syn::Result<usize> {
        let fail = |why: &str| diag::cannot_take_input(&layer.tokens, &layer.text, &shape, why);
        let output = layer
            .kind
            .out_shape(shape, producer)
            .map_err(|why| fail(&why))?;
        self.activations = output
            .len()
            .and_then(|n| self.activations.checked_add(n))
            .filter(|total| total.checked_mul(4).is_some())
            .ok_or_else(|| fail(&diag::activations_overflow()))?;
        let index = self.layers.len();
        let first = self.tensors.len();
        let mut field = None;
        let mut count = 0usize;
        let overflow = || fail(&diag::size_overflow("parameter count"));
        if let Some(params) = layer.kind.params(shape) {
            let n = match self
                .kind_counts
                .iter_mut()
                .find(|(k, _)| *k == params.prefix)
            {
                Some((_, n)) => {
                    *n += 1;
                    *n
                }
                None => {
                    self.kind_counts.push((params.prefix, 1));
                    1
                }
            };
            let name = format!("{}{n}", params.prefix);
            for spec in params.tensors {
                let len = spec.len();
                let init = match spec.init {
                    InitSpec::Constant(v) => TensorInit::Constant(v),
                    InitSpec::Weight => {
                        self.pending.push((self.tensors.len(), index));
                        TensorInit::Random(Init::XavierNormal)
                    }
                    InitSpec::Bias => {
                        self.pending.push((self.tensors.len(), index));
                        TensorInit::Constant(0.0)
                    }
                };
                if spec.role.is_trainable() {
                    count = count.checked_add(len).ok_or_else(overflow)?;
                }
                self.tensors.push(Tensor {
                    name: format!("{name}.{}", spec.suffix),
                    shape: spec.shape,
                    offset: self.offset,
                    len,
                    role: spec.role,
                    fan_in: spec.fan_in,
                    fan_out: spec.fan_out,
                    init,
                });
                self.offset = self.offset.checked_add(len).ok_or_else(overflow)?;
            }
            field = Some(name);
        }
        self.param_count = self.param_count.checked_add(count).ok_or_else(overflow)?;
        self.layers.push(TypedLayer {
            layer,
            input: shape,
            output,
            field,
            tensors: first..self.tensors.len(),
            param_count: count,
        });
        Ok(index)
    }
}

/// The weight initializer of layer `index`: its own choice, else the
/// network's, else He for layers feeding the ReLU family and Xavier
/// otherwise.
///
/// "Feeding" follows the data: the rest of the layer's chain, then what
/// follows the block the chain ends, looking past layers that do not change
/// the activation's input distribution much (pooling, dropout, batch norm,
/// flatten). A residual block in the way ends the search.
fn weight_init(net: &Network, layers: &[TypedLayer], chain: &[TypedNode], index: usize) -> Init {
    if let Some(init) = layers[index].layer.kind.init().or(net.init) {
        return init;
    }
    let mut followers = Vec::new();
    let found = followers_of(chain, index, &[], &mut followers);
    if found {
        for item in followers {
            match item {
                TypedNode::Layer(k) => match layers[*k].layer.kind.init_hint() {
                    InitHint::He => return Init::HeNormal,
                    InitHint::Transparent => continue,
                    InitHint::Stop => break,
                },
                TypedNode::Block(_) => break,
            }
        }
    }
    Init::XavierNormal
}

/// Collects, for the layer `index`, the items that consume its output in
/// order: the rest of its chain, then the rest of each enclosing chain.
fn followers_of<'t>(
    items: &'t [TypedNode],
    index: usize,
    outer: &[&'t [TypedNode]],
    out: &mut Vec<&'t TypedNode>,
) -> bool {
    for (j, item) in items.iter().enumerate() {
        match item {
            TypedNode::Layer(k) if *k == index => {
                out.extend(&items[j + 1..]);
                for rest in outer.iter().rev() {
                    out.extend(rest.iter());
                }
                return true;
            }
            TypedNode::Layer(_) => {}
            TypedNode::Block(block) => {
                let mut enclosing = outer.to_vec();
                enclosing.push(&items[j + 1..]);
                if followers_of(&block.main, index, &enclosing, out) {
                    return true;
                }
                if let Some(shortcut) = &block.shortcut
                    && followers_of(shortcut, index, &enclosing, out)
                {
                    return true;
                }
            }
        }
    }
    false
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

    fn notes(src: &str) -> Vec<String> {
        with_typed(src, |t| {
            t.unwrap().notes.iter().map(|n| n.message.clone()).collect()
        })
    }

    #[test]
    fn several_scores_without_a_loss_get_the_mse_note() {
        assert_eq!(
            notes("struct N: [4] => affine(8) -> relu -> dense(10)"),
            [
                "this network ends in `dense(10)` without softmax and trains with mean squared \
                 error on its outputs; end it with `-> softmax` for classification, or write \
                 `loss = mse` to keep MSE and silence this"
            ]
        );
        for quiet in [
            "struct N: [4] => affine(8) -> relu -> affine(10), loss = mse",
            "struct N: [4] => affine(10) -> softmax",
            "struct N: [4] => affine(10) -> sigmoid",
            "struct N: [4] => affine(10) -> tanh",
            "struct N: [4] => affine(8) -> relu -> affine(1)",
            "struct N: [1, 4, 4] => conv(2, 3)",
            "struct N: [8] => residual(affine(8) -> relu -> affine(8))",
        ] {
            assert!(notes(quiet).is_empty(), "{quiet}");
        }
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
            "`pool(3)` cannot take input [4, 4, 4]: height 4 is not divisible by pool size 3 \
             (4 % 3 = 1); use `round = floor` to drop it, as PyTorch does, or `pad = same` to \
             pad it, as Keras does"
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

    #[test]
    fn pytorch_init_draws_biases_with_the_weight_fan_in() {
        with_typed(
            "struct N: [1, 6, 6] => conv(2, 3, init = pytorch) -> relu -> affine(3), init = pytorch",
            |t| {
                let t = t.unwrap();
                let random = TensorInit::Random(Init::PyTorch);
                let got: Vec<_> = t.tensors.iter().map(|t| (t.init, t.fan_in)).collect();
                assert_eq!(got, [(random, 9), (random, 9), (random, 32), (random, 32)]);
            },
        );
        with_typed("struct N: [4] => affine(3)", |t| {
            let t = t.unwrap();
            assert_eq!(t.tensors[1].init, TensorInit::Constant(0.0));
        });
    }
}
