//! Fusion and buffer plan: [`TypedNetwork`] → [`Plan`].
//!
//! After `plan`, layers are grouped into steps (an activation folded into the
//! affine or convolution before it, a max pool into the convolution before
//! it), each step knows which step it reads from, and the ping-pong arena of
//! single-sample inference is laid out. (The training workspace's buffers
//! are each op's own business: `emit::ops`.)
//!
//! Folding rules:
//! - An activation folds into the affine or convolution before it when its
//!   derivative can be computed from its output (every activation but
//!   `prelu`), unless it is the last layer and the loss works on its input
//!   (sigmoid with binary cross-entropy).
//! - A max pool whose windows tile its input folds into the convolution (and
//!   folded activation) before it: pooling commutes with monotonic
//!   activations, so backward needs only the argmax and the pooled output.
//! - `flatten` and a standalone `identity` are views, not steps with buffers.

use crate::diag;
use crate::infer::TypedNetwork;
use crate::layers::LayerKind;
use crate::layers::activation::Act;
use crate::layers::batchnorm::BatchNorm;
use crate::layers::dropout::Dropout;
use crate::layers::pool::Reduce;
use crate::vocab::{Loss, Shape};

/// The whole plan.
pub(crate) struct Plan<'a> {
    pub(crate) typed: &'a TypedNetwork<'a>,
    pub(crate) steps: Vec<Step>,
    pub(crate) head: Head,
    pub(crate) arena: Arena,
    /// False when a layer has no gradient (`step`).
    pub(crate) trainable: bool,
}

/// A fused group of layers.
pub(crate) struct Step {
    pub(crate) op: Op,
    /// The first layer of the step (an index into `typed.layers`).
    pub(crate) layer: usize,
    pub(crate) input: Shape,
    pub(crate) output: Shape,
    /// The step whose output this one reads, `None` for the network input.
    pub(crate) src: Option<usize>,
    /// Buffer base name: `conv1`, `pool1`, `relu2`.
    pub(crate) name: String,
}

/// Every size of a convolution, as the kernels' const generics want them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConvGeom {
    pub(crate) c: usize,
    pub(crate) h: usize,
    pub(crate) w: usize,
    pub(crate) f: usize,
    pub(crate) kernel: (usize, usize),
    pub(crate) stride: (usize, usize),
    pub(crate) pad: (usize, usize),
    pub(crate) oh: usize,
    pub(crate) ow: usize,
}

/// A max pool folded into a convolution: window and pooled extent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    pub(crate) size: (usize, usize),
    pub(crate) qh: usize,
    pub(crate) qw: usize,
}

/// Every size of a pooling step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PoolGeom {
    pub(crate) c: usize,
    pub(crate) h: usize,
    pub(crate) w: usize,
    pub(crate) size: (usize, usize),
    pub(crate) stride: (usize, usize),
    pub(crate) oh: usize,
    pub(crate) ow: usize,
}

/// An affine layer with the activation folded into it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct AffineOp {
    pub(crate) act: Act,
}

/// A convolution with its folded activation and max pool.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ConvOp {
    pub(crate) geom: ConvGeom,
    pub(crate) act: Act,
    pub(crate) pool: Option<Window>,
}

/// A pooling step that did not fold into a convolution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PoolOp {
    pub(crate) reduce: Reduce,
    pub(crate) geom: PoolGeom,
}

/// What a step computes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Op {
    Affine(AffineOp),
    Conv(ConvOp),
    Pool(PoolOp),
    Act(Act),
    Prelu,
    Softmax,
    Dropout(Dropout),
    BatchNorm(BatchNorm),
    /// A view of its input (`flatten`, standalone `identity`).
    Alias,
}

impl Op {
    /// Elementwise ops can run in place in the inference arena.
    pub(crate) fn in_place(&self) -> bool {
        match self {
            Op::Act(_) | Op::Prelu | Op::Softmax | Op::BatchNorm(_) => true,
            Op::Affine(_) | Op::Conv(_) | Op::Pool(_) | Op::Dropout(_) | Op::Alias => false,
        }
    }

    /// Ops that read their input without a buffer of their own at inference.
    pub(crate) fn is_view_at_inference(&self) -> bool {
        match self {
            Op::Alias | Op::Dropout(_) => true,
            Op::Affine(_)
            | Op::Conv(_)
            | Op::Pool(_)
            | Op::Act(_)
            | Op::Prelu
            | Op::Softmax
            | Op::BatchNorm(_) => false,
        }
    }

    /// Whether the op owns an output buffer in the training workspace.
    pub(crate) fn has_train_buffer(&self) -> bool {
        match self {
            Op::Alias => false,
            Op::Affine(_)
            | Op::Conv(_)
            | Op::Pool(_)
            | Op::Act(_)
            | Op::Prelu
            | Op::Softmax
            | Op::Dropout(_)
            | Op::BatchNorm(_) => true,
        }
    }

    /// A final softmax or sigmoid, whose input is worth exposing as logits.
    pub(crate) fn squashes(&self) -> bool {
        match self {
            Op::Softmax => true,
            Op::Act(act) => *act == Act::Sigmoid,
            Op::Affine(_)
            | Op::Conv(_)
            | Op::Pool(_)
            | Op::Prelu
            | Op::Dropout(_)
            | Op::BatchNorm(_)
            | Op::Alias => false,
        }
    }
}

/// How the loss attaches to the last step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Head {
    /// Softmax cross-entropy from the logits, the input of the last step.
    SoftmaxCrossEntropy,
    /// Sigmoid binary cross-entropy from the logits, the input of the last step.
    SigmoidBinaryCrossEntropy,
    /// Mean squared error on the network output.
    MeanSquaredError,
}

/// Where a step's output lives in the inference arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Loc {
    /// The caller's input sample.
    Input,
    /// The first half of the arena.
    A,
    /// The second half of the arena.
    B,
}

/// The single-sample inference arena: two halves, ping-ponged.
pub(crate) struct Arena {
    pub(crate) a_len: usize,
    pub(crate) b_len: usize,
    /// Output location of each step.
    pub(crate) locs: Vec<Loc>,
}

impl Arena {
    pub(crate) fn len(&self) -> usize {
        self.a_len + self.b_len
    }
}

/// Groups layers into steps and lays out the arena.
///
/// Fails only on a broken internal invariant (a convolution or pool whose
/// shapes `infer` did not make images), reported as an internal error
/// rather than emitted as wrong code.
pub(crate) fn plan<'a>(typed: &'a TypedNetwork<'a>) -> syn::Result<Plan<'a>> {
    let layers = &typed.layers;
    let n = layers.len();
    let last = layers.last().map(|l| &l.layer.kind);
    let head = match typed.loss {
        Loss::CrossEntropy if last == Some(&LayerKind::Softmax) => Head::SoftmaxCrossEntropy,
        Loss::BinaryCrossEntropy if last == Some(&LayerKind::Act(Act::Sigmoid)) => {
            Head::SigmoidBinaryCrossEntropy
        }
        Loss::CrossEntropy | Loss::BinaryCrossEntropy | Loss::MeanSquaredError => {
            Head::MeanSquaredError
        }
    };
    // The activation at `i`, if it can fold into the step before it.
    let foldable = |i: usize| -> Option<Act> {
        let Some(LayerKind::Act(act)) = layers.get(i).map(|l| &l.layer.kind) else {
            return None;
        };
        let is_head = i + 1 == n && head == Head::SigmoidBinaryCrossEntropy;
        (!is_head).then_some(*act)
    };

    let mut steps: Vec<Step> = Vec::new();
    let mut src: Option<usize> = None;
    let mut counts: Vec<(&'static str, usize)> = Vec::new();
    let mut i = 0;
    while i < n {
        let layer = &layers[i];
        let start = i;
        let op = match &layer.layer.kind {
            LayerKind::Affine(_) => {
                let act = foldable(i + 1);
                if act.is_some() {
                    i += 1;
                }
                Op::Affine(AffineOp {
                    act: act.unwrap_or(Act::Identity),
                })
            }
            LayerKind::Conv(conv) => {
                let (Shape::Image { c, h, w }, Shape::Image { c: f, h: oh, w: ow }) =
                    (layer.input, layer.output)
                else {
                    return Err(diag::internal("a convolution without image shapes"));
                };
                let geom = ConvGeom {
                    c,
                    h,
                    w,
                    f,
                    kernel: conv.kernel,
                    stride: conv.stride,
                    pad: conv.pad,
                    oh,
                    ow,
                };
                let act = foldable(i + 1);
                if act.is_some() {
                    i += 1;
                }
                let mut pool = None;
                if let Some(LayerKind::Pool(p)) = layers.get(i + 1).map(|l| &l.layer.kind)
                    && p.fuses_into_conv()
                {
                    i += 1;
                    pool = Some(Window {
                        size: p.size,
                        qh: oh / p.size.0,
                        qw: ow / p.size.1,
                    });
                }
                Op::Conv(ConvOp {
                    geom,
                    act: act.unwrap_or(Act::Identity),
                    pool,
                })
            }
            LayerKind::Pool(p) => {
                let (Shape::Image { c, h, w }, Shape::Image { h: oh, w: ow, .. }) =
                    (layer.input, layer.output)
                else {
                    return Err(diag::internal("a pool without image shapes"));
                };
                Op::Pool(PoolOp {
                    reduce: p.reduce,
                    geom: PoolGeom {
                        c,
                        h,
                        w,
                        size: p.size,
                        stride: p.stride,
                        oh,
                        ow,
                    },
                })
            }
            LayerKind::Act(Act::Identity) | LayerKind::Flatten => Op::Alias,
            LayerKind::Act(act) => Op::Act(*act),
            LayerKind::Prelu => Op::Prelu,
            LayerKind::Softmax => Op::Softmax,
            LayerKind::Dropout(d) => Op::Dropout(*d),
            LayerKind::BatchNorm(bn) => Op::BatchNorm(*bn),
        };
        let name = match &layer.field {
            Some(field) => field.clone(),
            None => {
                let word = layer.layer.word;
                let k = match counts.iter_mut().find(|(w, _)| *w == word) {
                    Some((_, k)) => {
                        *k += 1;
                        *k
                    }
                    None => {
                        counts.push((word, 1));
                        1
                    }
                };
                format!("{word}{k}")
            }
        };
        let is_alias = op == Op::Alias;
        steps.push(Step {
            op,
            layer: start,
            input: layers[start].input,
            output: layers[i].output,
            src,
            name,
        });
        if !is_alias {
            src = Some(steps.len() - 1);
        }
        i += 1;
    }
    let trainable = layers.iter().all(|l| l.layer.kind.has_gradient());
    let arena = arena(&steps);
    Ok(Plan {
        typed,
        steps,
        head,
        arena,
        trainable,
    })
}

/// Assigns every step an arena half; elementwise steps work in place.
fn arena(steps: &[Step]) -> Arena {
    let (mut a_len, mut b_len) = (0usize, 0usize);
    let mut locs = Vec::with_capacity(steps.len());
    let mut cur = Loc::Input;
    for step in steps {
        let len = step.output.len().unwrap_or(0);
        let stays = step.op.is_view_at_inference() || (step.op.in_place() && cur != Loc::Input);
        let next = if stays {
            cur
        } else if cur == Loc::A {
            Loc::B
        } else {
            Loc::A
        };
        match next {
            Loc::A => a_len = a_len.max(len),
            Loc::B => b_len = b_len.max(len),
            Loc::Input => {}
        }
        locs.push(next);
        cur = next;
    }
    Arena { a_len, b_len, locs }
}

impl Plan<'_> {
    /// The step whose output is the network output, `None` when every step
    /// is a view of the input.
    pub(crate) fn last_buffer_step(&self) -> Option<usize> {
        self.steps.iter().rposition(|s| s.op.has_train_buffer())
    }

    /// Whether the last step is a final softmax or sigmoid, whose input is
    /// worth exposing as logits.
    pub(crate) fn ends_in_squash(&self) -> bool {
        self.steps.last().is_some_and(|s| s.op.squashes())
    }

    /// Largest activation of any step output, for the gradient ping-pong.
    pub(crate) fn max_len(&self) -> usize {
        self.steps
            .iter()
            .filter_map(|s| s.output.len())
            .max()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::Invocation;

    fn with_plan<R>(src: &str, f: impl FnOnce(&Plan) -> R) -> R {
        let inv: Invocation = syn::parse_str(src).unwrap();
        let def = &inv.networks[0];
        let net = crate::lower::lower(&def.header, def.body.as_ref().unwrap()).unwrap();
        let typed = crate::infer::infer(&net).unwrap();
        f(&plan(&typed).unwrap())
    }

    #[test]
    fn simple_conv_net_fuses_three_steps() {
        with_plan(
            "struct N: [1, 28, 28] => conv(30, 5) -> relu -> pool(2) \
             -> affine(100) -> relu -> affine(10) -> softmax",
            |p| {
                let ops: Vec<&Op> = p.steps.iter().map(|s| &s.op).collect();
                assert_eq!(
                    ops,
                    [
                        &Op::Conv(ConvOp {
                            geom: ConvGeom {
                                c: 1,
                                h: 28,
                                w: 28,
                                f: 30,
                                kernel: (5, 5),
                                stride: (1, 1),
                                pad: (0, 0),
                                oh: 24,
                                ow: 24
                            },
                            act: Act::Relu,
                            pool: Some(Window {
                                size: (2, 2),
                                qh: 12,
                                qw: 12
                            })
                        }),
                        &Op::Affine(AffineOp { act: Act::Relu }),
                        &Op::Affine(AffineOp { act: Act::Identity }),
                        &Op::Softmax,
                    ]
                );
                let names: Vec<&str> = p.steps.iter().map(|s| s.name.as_str()).collect();
                assert_eq!(names, ["conv1", "affine1", "affine2", "softmax1"]);
                assert_eq!(p.head, Head::SoftmaxCrossEntropy);
                assert_eq!(p.arena.locs, [Loc::A, Loc::B, Loc::A, Loc::A]);
                assert_eq!(p.arena.len(), 4320 + 100);
                assert!(p.trainable);
            },
        );
    }

    #[test]
    fn sigmoid_head_is_not_folded() {
        with_plan(
            "struct N: [2] => affine(2) -> sigmoid -> affine(1) -> sigmoid",
            |p| {
                let ops: Vec<&Op> = p.steps.iter().map(|s| &s.op).collect();
                assert_eq!(
                    ops,
                    [
                        &Op::Affine(AffineOp { act: Act::Sigmoid }),
                        &Op::Affine(AffineOp { act: Act::Identity }),
                        &Op::Act(Act::Sigmoid)
                    ]
                );
                assert_eq!(p.head, Head::SigmoidBinaryCrossEntropy);
            },
        );
    }

    #[test]
    fn views_and_strided_pools_stay_apart() {
        with_plan(
            "struct N: [2, 9, 9] => conv(4, 3) -> pool(3, stride = 2) -> flatten -> dropout(0.5) -> affine(3) -> step",
            |p| {
                let ops: Vec<&Op> = p.steps.iter().map(|s| &s.op).collect();
                assert_eq!(
                    ops,
                    [
                        &Op::Conv(ConvOp {
                            geom: ConvGeom {
                                c: 2,
                                h: 9,
                                w: 9,
                                f: 4,
                                kernel: (3, 3),
                                stride: (1, 1),
                                pad: (0, 0),
                                oh: 7,
                                ow: 7
                            },
                            act: Act::Identity,
                            pool: None
                        }),
                        &Op::Pool(PoolOp {
                            reduce: Reduce::Max,
                            geom: PoolGeom {
                                c: 4,
                                h: 7,
                                w: 7,
                                size: (3, 3),
                                stride: (2, 2),
                                oh: 3,
                                ow: 3
                            }
                        }),
                        &Op::Alias,
                        &Op::Dropout(Dropout { p: 0.5 }),
                        &Op::Affine(AffineOp { act: Act::Step }),
                    ]
                );
                assert_eq!(p.steps[4].src, Some(3));
                assert_eq!(p.steps[3].src, Some(1));
                assert!(!p.trainable);
                assert_eq!(p.arena.locs, [Loc::A, Loc::B, Loc::B, Loc::B, Loc::A]);
            },
        );
    }

    #[test]
    fn relu6_folds_like_relu() {
        with_plan(
            "struct N: [1, 6, 6] => conv(2, 3) -> relu6 -> affine(4) -> relu6 -> prelu -> relu6",
            |p| {
                let ops: Vec<&Op> = p.steps.iter().map(|s| &s.op).collect();
                assert!(matches!(
                    ops[0],
                    Op::Conv(ConvOp {
                        act: Act::Relu6,
                        ..
                    })
                ));
                assert_eq!(ops[1], &Op::Affine(AffineOp { act: Act::Relu6 }));
                assert_eq!(ops[2..], [&Op::Prelu, &Op::Act(Act::Relu6)]);
            },
        );
    }

    #[test]
    fn in_place_steps_copy_once_from_the_input() {
        with_plan("struct N: [4] => softmax", |p| {
            assert_eq!(p.arena.locs, [Loc::A]);
            assert_eq!(p.arena.len(), 4);
        });
    }
}
