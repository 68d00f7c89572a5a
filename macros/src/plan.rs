//! Fusion and buffer plan: [`TypedNetwork`] → [`Plan`].
//!
//! After `plan`, layers are grouped into steps in execution order (a
//! residual block runs its main path, then its shortcut, then the add), each
//! step knows which step's output it reads, and the single-sample inference
//! arena is laid out. (The training workspace's buffers are each op's own
//! business: `emit::ops`.)
//!
//! Folding rules:
//! - An activation folds into the affine, convolution or residual add
//!   before it when its derivative can be computed from its output (the
//!   [`Act`]s), unless it is the last layer and the loss works on its input
//!   (sigmoid with binary cross-entropy).
//! - A max pool whose windows tile its input folds into the convolution (and
//!   folded activation) before it: pooling commutes with monotonic
//!   activations, so backward needs only the argmax and the pooled output.
//! - `flatten` and a standalone `identity` are views, not steps with buffers.
//!
//! The arena: see [`arena`].

use proc_macro2::Span;

use crate::diag;
use crate::infer::{TypedBlock, TypedNetwork, TypedNode};
use crate::layers::LayerKind;
use crate::layers::activation::{Act, InputAct};
use crate::layers::batchnorm::BatchNorm;
use crate::layers::dropout::Dropout;
use crate::layers::pool::Reduce;
use crate::layers::preprocess::Preprocess;
use crate::layers::{conv, pool};
use crate::vocab::{Loss, Shape};

/// The whole plan.
pub(crate) struct Plan<'a> {
    pub(crate) typed: &'a TypedNetwork<'a>,
    pub(crate) steps: Vec<Step>,
    pub(crate) blocks: Vec<BlockPlan>,
    pub(crate) head: Head,
    pub(crate) arena: Arena,
    /// False when a layer has no gradient (`step`).
    pub(crate) trainable: bool,
}

/// A fused group of layers, or a residual add.
pub(crate) struct Step {
    pub(crate) op: Op,
    /// The first layer of the step (an index into `typed.layers`); for an
    /// add, the first layer of its block's main path.
    pub(crate) layer: usize,
    /// Where the step's calls point: its first layer, or the block.
    pub(crate) span: Span,
    pub(crate) input: Shape,
    pub(crate) output: Shape,
    /// The step whose output this one reads, `None` for the network input.
    pub(crate) src: Option<usize>,
    /// Buffer base name: `conv1`, `pool1`, `relu2`, `add1`.
    pub(crate) name: String,
}

/// A residual block as steps: the main path, the shortcut, the add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BlockPlan {
    /// The block input: a step's output, or the network input.
    pub(crate) input: Option<usize>,
    pub(crate) main: std::ops::Range<usize>,
    /// Empty for the identity shortcut.
    pub(crate) shortcut: std::ops::Range<usize>,
    pub(crate) add: usize,
}

/// A max pool folded into a convolution: window and pooled extent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FoldedPool {
    pub(crate) size: (usize, usize),
    pub(crate) qh: usize,
    pub(crate) qw: usize,
}

/// An affine layer with the activation folded into it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct AffineOp {
    pub(crate) bias: bool,
    pub(crate) act: Act,
}

/// A convolution with its folded activation and max pool.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ConvOp {
    pub(crate) geom: conv::Geometry,
    pub(crate) bias: bool,
    pub(crate) act: Act,
    pub(crate) pool: Option<FoldedPool>,
}

/// A pooling step that did not fold into a convolution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PoolOp {
    pub(crate) reduce: Reduce,
    pub(crate) geom: pool::Geometry,
}

/// A pool over the whole of each channel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct GlobalPoolOp {
    pub(crate) reduce: Reduce,
    pub(crate) channels: usize,
    /// Elements per channel: `h·w` or the length.
    pub(crate) positions: usize,
}

/// The residual add `act(main + skip)`; the main path's output is the
/// step's `src`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct AddOp {
    /// The other operand: the shortcut's output, or the block input.
    pub(crate) skip: Option<usize>,
    pub(crate) act: Act,
}

/// What a step computes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Op {
    Affine(AffineOp),
    Conv(ConvOp),
    Pool(PoolOp),
    GlobalPool(GlobalPoolOp),
    Act(Act),
    InputAct(InputAct),
    Prelu,
    Preprocess(Preprocess),
    Softmax,
    Dropout(Dropout),
    BatchNorm(BatchNorm),
    Add(AddOp),
    /// A view of its input (`flatten`, standalone `identity`).
    Alias,
}

impl Op {
    /// Elementwise ops can run in place in the inference arena.
    pub(crate) fn in_place(&self) -> bool {
        match self {
            Op::Act(_)
            | Op::InputAct(_)
            | Op::Prelu
            | Op::Preprocess(_)
            | Op::Softmax
            | Op::BatchNorm(_)
            | Op::Add(_) => true,
            Op::Affine(_)
            | Op::Conv(_)
            | Op::Pool(_)
            | Op::GlobalPool(_)
            | Op::Dropout(_)
            | Op::Alias => false,
        }
    }

    /// Ops that read their input without a buffer of their own at inference.
    pub(crate) fn is_view_at_inference(&self) -> bool {
        match self {
            Op::Alias | Op::Dropout(_) => true,
            Op::Affine(_)
            | Op::Conv(_)
            | Op::Pool(_)
            | Op::GlobalPool(_)
            | Op::Act(_)
            | Op::InputAct(_)
            | Op::Prelu
            | Op::Preprocess(_)
            | Op::Softmax
            | Op::BatchNorm(_)
            | Op::Add(_) => false,
        }
    }

    /// What the op reads besides its source: a residual add's other operand
    /// (`Some(None)` when that is the network input).
    pub(crate) fn skip(&self) -> Option<Option<usize>> {
        match self {
            Op::Add(AddOp { skip, .. }) => Some(*skip),
            Op::Affine(_)
            | Op::Conv(_)
            | Op::Pool(_)
            | Op::GlobalPool(_)
            | Op::Act(_)
            | Op::InputAct(_)
            | Op::Prelu
            | Op::Preprocess(_)
            | Op::Softmax
            | Op::Dropout(_)
            | Op::BatchNorm(_)
            | Op::Alias => None,
        }
    }

    /// Whether the op owns an output buffer in the training workspace.
    pub(crate) fn has_train_buffer(&self) -> bool {
        match self {
            Op::Alias => false,
            Op::Affine(_)
            | Op::Conv(_)
            | Op::Pool(_)
            | Op::GlobalPool(_)
            | Op::Act(_)
            | Op::InputAct(_)
            | Op::Prelu
            | Op::Preprocess(_)
            | Op::Softmax
            | Op::Dropout(_)
            | Op::BatchNorm(_)
            | Op::Add(_) => true,
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
            | Op::GlobalPool(_)
            | Op::InputAct(_)
            | Op::Prelu
            | Op::Preprocess(_)
            | Op::Dropout(_)
            | Op::BatchNorm(_)
            | Op::Add(_)
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

/// Where a value lives during single-sample inference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Loc {
    /// The caller's input sample.
    Input,
    /// Elements `[offset, offset + len)` of the arena.
    At(usize),
}

/// The single-sample inference arena.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Arena {
    /// Elements: the most that is ever alive at once.
    pub(crate) len: usize,
    /// Where each step's output lives (a view's is its input's).
    pub(crate) locs: Vec<Loc>,
}

/// Groups layers into steps and lays out the arena.
///
/// Fails only on a broken internal invariant (a convolution or pool whose
/// geometry `infer` accepted and that no longer resolves), reported as an
/// internal error rather than emitted as wrong code.
pub(crate) fn plan<'a>(typed: &'a TypedNetwork<'a>) -> syn::Result<Plan<'a>> {
    let last = match typed.chain.last() {
        Some(TypedNode::Layer(i)) => Some(&typed.layers[*i].layer.kind),
        Some(TypedNode::Block(_)) | None => None,
    };
    let head = match typed.loss {
        Loss::CrossEntropy if last == Some(&LayerKind::Softmax) => Head::SoftmaxCrossEntropy,
        Loss::BinaryCrossEntropy if last == Some(&LayerKind::Act(Act::Sigmoid)) => {
            Head::SigmoidBinaryCrossEntropy
        }
        Loss::CrossEntropy | Loss::BinaryCrossEntropy | Loss::MeanSquaredError => {
            Head::MeanSquaredError
        }
    };
    let mut b = Builder {
        typed,
        head,
        steps: Vec::new(),
        blocks: Vec::new(),
        counts: Vec::new(),
    };
    b.chain(&typed.chain, None, true)?;
    let trainable = typed.layers.iter().all(|l| l.layer.kind.has_gradient());
    let arena = arena(&b.steps, &b.blocks);
    Ok(Plan {
        typed,
        steps: b.steps,
        blocks: b.blocks,
        head,
        arena,
        trainable,
    })
}

struct Builder<'a> {
    typed: &'a TypedNetwork<'a>,
    head: Head,
    steps: Vec<Step>,
    blocks: Vec<BlockPlan>,
    counts: Vec<(&'static str, usize)>,
}

impl Builder<'_> {
    /// Plans a chain reading `src`; returns the step whose output is the
    /// chain's (`src` itself when every step is a view).
    fn chain(
        &mut self,
        items: &[TypedNode],
        mut src: Option<usize>,
        top: bool,
    ) -> syn::Result<Option<usize>> {
        let mut i = 0;
        while i < items.len() {
            let (op, first, last, span) = match &items[i] {
                TypedNode::Block(block) => {
                    let act = self.foldable(items, i + 1, top);
                    let add = self.block(block, src, act)?;
                    src = Some(add);
                    i += 1 + usize::from(act.is_some());
                    continue;
                }
                TypedNode::Layer(index) => {
                    let (op, consumed) = self.layer(items, i, top)?;
                    let last = match &items[i + consumed - 1] {
                        TypedNode::Layer(l) => *l,
                        TypedNode::Block(_) => *index,
                    };
                    i += consumed;
                    let span = diag::span_of(&self.typed.layers[*index].layer.tokens);
                    (op, *index, last, span)
                }
            };
            let layers = &self.typed.layers;
            let name = match &layers[first].field {
                Some(field) => field.clone(),
                None => self.name(layers[first].layer.word),
            };
            let is_alias = op == Op::Alias;
            self.steps.push(Step {
                op,
                layer: first,
                span,
                input: layers[first].input,
                output: layers[last].output,
                src,
                name,
            });
            if !is_alias {
                src = Some(self.steps.len() - 1);
            }
        }
        Ok(src)
    }

    /// `word` with its next 1-based index: `relu2`, `add1`.
    fn name(&mut self, word: &'static str) -> String {
        let k = match self.counts.iter_mut().find(|(w, _)| *w == word) {
            Some((_, k)) => {
                *k += 1;
                *k
            }
            None => {
                self.counts.push((word, 1));
                1
            }
        };
        format!("{word}{k}")
    }

    /// The activation at `items[i]`, if it can fold into the step before it.
    fn foldable(&self, items: &[TypedNode], i: usize, top: bool) -> Option<Act> {
        let Some(TypedNode::Layer(index)) = items.get(i) else {
            return None;
        };
        let LayerKind::Act(act) = self.typed.layers[*index].layer.kind else {
            return None;
        };
        let is_head = top && i + 1 == items.len() && self.head == Head::SigmoidBinaryCrossEntropy;
        (!is_head).then_some(act)
    }

    /// The op of the layer at `items[i]` and how many items it consumes
    /// (a folded activation and pool count too).
    fn layer(&self, items: &[TypedNode], i: usize, top: bool) -> syn::Result<(Op, usize)> {
        let TypedNode::Layer(index) = items[i] else {
            return Err(diag::internal("a block planned as a layer"));
        };
        let layer = &self.typed.layers[index];
        let mut consumed = 1;
        let op = match &layer.layer.kind {
            LayerKind::Affine(affine) => {
                let act = self.foldable(items, i + 1, top);
                consumed += usize::from(act.is_some());
                Op::Affine(AffineOp {
                    bias: affine.bias,
                    act: act.unwrap_or(Act::Identity),
                })
            }
            LayerKind::Conv(conv) => {
                let geom = conv
                    .geometry(layer.input, None)
                    .map_err(|_| diag::internal("a convolution whose shapes infer accepted"))?;
                let act = self.foldable(items, i + 1, top);
                consumed += usize::from(act.is_some());
                let mut pool = None;
                if let Some(TypedNode::Layer(next)) = items.get(i + consumed)
                    && let LayerKind::Pool(p) = &self.typed.layers[*next].layer.kind
                    && p.fuses_into_conv(geom.oh, geom.ow)
                {
                    consumed += 1;
                    pool = Some(FoldedPool {
                        size: p.size,
                        qh: geom.oh / p.size.0,
                        qw: geom.ow / p.size.1,
                    });
                }
                Op::Conv(ConvOp {
                    geom,
                    bias: conv.bias,
                    act: act.unwrap_or(Act::Identity),
                    pool,
                })
            }
            LayerKind::Pool(p) => {
                let geom = p
                    .geometry(layer.input, None)
                    .map_err(|_| diag::internal("a pool whose shapes infer accepted"))?;
                Op::Pool(PoolOp {
                    reduce: p.reduce,
                    geom,
                })
            }
            LayerKind::GlobalPool(p) => {
                let (channels, positions) = match layer.input {
                    Shape::Image { c, h, w } => (c, h * w),
                    Shape::Seq { c, l } => (c, l),
                    Shape::Flat(_) => {
                        return Err(diag::internal("a global pool over a flat vector"));
                    }
                };
                Op::GlobalPool(GlobalPoolOp {
                    reduce: p.reduce,
                    channels,
                    positions,
                })
            }
            LayerKind::Act(Act::Identity) | LayerKind::Flatten => Op::Alias,
            LayerKind::Act(act) => Op::Act(*act),
            LayerKind::InputAct(act) => Op::InputAct(*act),
            LayerKind::Prelu => Op::Prelu,
            LayerKind::Preprocess(p) => Op::Preprocess(*p),
            LayerKind::Softmax => Op::Softmax,
            LayerKind::Dropout(d) => Op::Dropout(*d),
            LayerKind::BatchNorm(bn) => Op::BatchNorm(*bn),
        };
        Ok((op, consumed))
    }

    /// Plans a residual block reading `input`; returns the add's step.
    fn block(
        &mut self,
        block: &TypedBlock,
        input: Option<usize>,
        act: Option<Act>,
    ) -> syn::Result<usize> {
        let main_start = self.steps.len();
        let main_end = self.chain(&block.main, input, false)?;
        let main = main_start..self.steps.len();
        let skip = match &block.shortcut {
            None => input,
            Some(items) => self.chain(items, input, false)?,
        };
        let shortcut = main.end..self.steps.len();
        let add = self.steps.len();
        let layer = match block.main.first() {
            Some(TypedNode::Layer(i)) => *i,
            Some(TypedNode::Block(_)) | None => self.steps.get(main_start).map_or(0, |s| s.layer),
        };
        let name = self.name("add");
        self.steps.push(Step {
            op: Op::Add(AddOp {
                skip,
                act: act.unwrap_or(Act::Identity),
            }),
            layer,
            span: block.span,
            input: block.output,
            output: block.output,
            src: main_end,
            name,
        });
        self.blocks.push(BlockPlan {
            input,
            main,
            shortcut,
            add,
        });
        Ok(add)
    }
}

/// Lays out the single-sample arena: the fewest elements that hold every
/// value alive at once, which is the exact minimum for this step order.
///
/// A step's output must not overlap its inputs, and a value stays alive
/// until its last reader runs. Within a chain the current value sits at one
/// end of the free region and the next output goes to the other end, so a
/// chain needs `max(in + out)`. A residual block pins its input at one end
/// while its main path runs in the rest, arranged to finish at the far end;
/// the shortcut then runs between the two, and the add writes over the main
/// path's output. Every step thus needs exactly the elements alive during
/// it, and the arena is the largest such sum. Elementwise steps work in
/// place when nothing else reads their input; views occupy nothing.
pub(crate) fn arena(steps: &[Step], blocks: &[BlockPlan]) -> Arena {
    let mut size = Arena {
        len: 0,
        locs: vec![Loc::Input; steps.len()],
    };
    // First pass: the largest live set is the arena; second: place values.
    let mut sizing = Layout::sizing(steps, blocks);
    sizing.range(0..steps.len(), Region::Whole, Side::Low);
    size.len = sizing.peak;
    let mut place = Layout::placing(steps, blocks, size.len);
    place.range(0..steps.len(), Region::Whole, Side::Low);
    size.locs = place.locs;
    size
}

/// Which end of a region a value sits at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Low,
    High,
}

impl Side {
    fn other(self) -> Side {
        match self {
            Side::Low => Side::High,
            Side::High => Side::Low,
        }
    }
}

/// The part of the arena a chain may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Region {
    Whole,
    Within { lo: usize, hi: usize },
}

/// One pass of the arena layout: sizing (`total` unknown: track the peak
/// of live elements) or placing (offsets within `total`).
struct Layout<'s> {
    steps: &'s [Step],
    blocks: &'s [BlockPlan],
    total: Option<usize>,
    peak: usize,
    /// Values kept alive outside the current region: enclosing blocks'
    /// inputs and main-path outputs.
    pinned: Vec<usize>,
    locs: Vec<Loc>,
}

impl<'s> Layout<'s> {
    fn sizing(steps: &'s [Step], blocks: &'s [BlockPlan]) -> Self {
        Layout {
            steps,
            blocks,
            total: None,
            peak: 0,
            pinned: Vec::new(),
            locs: vec![Loc::Input; steps.len()],
        }
    }

    fn placing(steps: &'s [Step], blocks: &'s [BlockPlan], total: usize) -> Self {
        Layout {
            total: Some(total),
            ..Layout::sizing(steps, blocks)
        }
    }

    /// The step whose buffer holds `value`: views resolve to what they view.
    fn resolve(&self, mut value: Option<usize>) -> Option<usize> {
        while let Some(s) = value
            && self.steps[s].op.is_view_at_inference()
        {
            value = self.steps[s].src;
        }
        value
    }

    /// Elements of `value` in the arena (0 for the network input).
    fn len(&self, value: Option<usize>) -> usize {
        match self.resolve(value) {
            Some(s) if matches!(self.locs[s], Loc::At(_)) => {
                self.steps[s].output.len().unwrap_or(0)
            }
            Some(_) | None => 0,
        }
    }

    /// Counts `values` alive at once, with the pinned ones, as the peak.
    fn live(&mut self, values: &[Option<usize>]) {
        let mut seen: Vec<usize> = Vec::new();
        let mut total = 0;
        for value in self
            .pinned
            .iter()
            .map(|&p| Some(p))
            .chain(values.iter().copied())
        {
            if let Some(v) = self.resolve(value)
                && !seen.contains(&v)
            {
                seen.push(v);
                total += self.len(Some(v));
            }
        }
        self.peak = self.peak.max(total);
    }

    /// Whether step `s` is the last to read `value`.
    fn is_last_reader(&self, s: usize, value: Option<usize>) -> bool {
        let value = self.resolve(value);
        !self.steps[s + 1..].iter().any(|t| {
            !t.op.is_view_at_inference()
                && (self.resolve(t.src) == value
                    || t.op.skip().is_some_and(|skip| self.resolve(skip) == value))
        })
    }

    /// Lays out `steps[range]` (a chain, with the blocks inside it) in
    /// `[lo, hi)`, the first new output at `first`. Returns where the
    /// chain's output sits.
    fn range(&mut self, range: std::ops::Range<usize>, region: Region, first: Side) -> Side {
        let (lo, hi) = match (region, self.total) {
            (Region::Within { lo, hi }, _) => (lo, hi),
            (Region::Whole, total) => (0, total.unwrap_or(0)),
        };
        let mut side = first.other();
        let mut s = range.start;
        while s < range.end {
            if let Some(block) = self
                .blocks
                .iter()
                .find(|b| b.main.start == s && b.add < range.end)
            {
                side = self.block(block.clone(), lo, hi, side);
                s = block.add + 1;
                continue;
            }
            let step = &self.steps[s];
            let (src, op) = (step.src, step.op.clone());
            let out_len = step.output.len().unwrap_or(0);
            let input = self.resolve(src).map_or(Loc::Input, |v| self.locs[v]);
            if op.is_view_at_inference() {
                self.locs[s] = input;
            } else if op.in_place() && input != Loc::Input && self.is_last_reader(s, src) {
                self.locs[s] = input;
                self.live(&[src]);
            } else {
                side = side.other();
                self.locs[s] = match side {
                    Side::Low => Loc::At(lo),
                    Side::High => Loc::At(hi.saturating_sub(out_len)),
                };
                self.live(&[src, Some(s)]);
            }
            s += 1;
        }
        side
    }

    /// Lays out one block whose input sits at `side` of `[lo, hi)`; returns
    /// where the add's output sits.
    fn block(&mut self, block: BlockPlan, lo: usize, hi: usize, side: Side) -> Side {
        let input = self.resolve(block.input);
        let in_len = self.len(input);
        let (sub_lo, sub_hi, far) = match (in_len > 0, side) {
            (false, _) => (lo, hi, Side::High),
            (true, Side::Low) => (lo + in_len, hi, Side::High),
            (true, Side::High) => (lo, hi.saturating_sub(in_len), Side::Low),
        };
        if let Some(v) = input {
            self.pinned.push(v);
        }
        // Main steps that write new buffers alternate ends: start so that
        // the last one lands at the far end, next to what follows the block.
        let writes = (block.main.clone())
            .filter(|&s| {
                let op = &self.steps[s].op;
                !op.is_view_at_inference() && !op.in_place()
            })
            .count();
        let first = if writes % 2 == 1 { far } else { far.other() };
        let main_region = Region::Within {
            lo: sub_lo,
            hi: sub_hi,
        };
        let main_side = self.range(block.main.clone(), main_region, first);
        let main = self.resolve(self.steps[block.add].src);
        let main_len = if main == input { 0 } else { self.len(main) };
        let (short_lo, short_hi) = match main_side {
            Side::Low => (sub_lo + main_len, sub_hi),
            Side::High => (sub_lo, sub_hi.saturating_sub(main_len)),
        };
        if main != input
            && let Some(m) = main
        {
            self.pinned.push(m);
        }
        let short_region = Region::Within {
            lo: short_lo,
            hi: short_hi,
        };
        self.range(block.shortcut.clone(), short_region, Side::Low);
        if main != input && main.is_some() {
            self.pinned.pop();
        }
        if input.is_some() {
            self.pinned.pop();
        }
        let skip = self.steps[block.add].op.skip().flatten();
        match main {
            Some(m) if main != input => {
                // In place over the main path's output.
                self.locs[block.add] = self.locs[m];
                self.live(&[main, skip]);
                main_side
            }
            _ => {
                // The main path only views its input: a fresh buffer.
                let out_len = self.steps[block.add].output.len().unwrap_or(0);
                self.locs[block.add] = match far {
                    Side::Low => Loc::At(sub_lo),
                    Side::High => Loc::At(sub_hi.saturating_sub(out_len)),
                };
                self.live(&[main, skip, Some(block.add)]);
                far
            }
        }
    }
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
                            geom: conv::Geometry {
                                c: 1,
                                h: 28,
                                w: 28,
                                f: 30,
                                groups: 1,
                                kernel: (5, 5),
                                stride: (1, 1),
                                dilation: (1, 1),
                                pad: (0, 0),
                                oh: 24,
                                ow: 24
                            },
                            bias: true,
                            act: Act::Relu,
                            pool: Some(FoldedPool {
                                size: (2, 2),
                                qh: 12,
                                qw: 12
                            })
                        }),
                        &Op::Affine(AffineOp {
                            bias: true,
                            act: Act::Relu
                        }),
                        &Op::Affine(AffineOp {
                            bias: true,
                            act: Act::Identity
                        }),
                        &Op::Softmax,
                    ]
                );
                let names: Vec<&str> = p.steps.iter().map(|s| s.name.as_str()).collect();
                assert_eq!(names, ["conv1", "affine1", "affine2", "softmax1"]);
                assert_eq!(p.head, Head::SoftmaxCrossEntropy);
                assert_eq!(
                    p.arena.locs,
                    [Loc::At(0), Loc::At(4320), Loc::At(0), Loc::At(0)]
                );
                assert_eq!(p.arena.len, 4320 + 100);
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
                        &Op::Affine(AffineOp {
                            bias: true,
                            act: Act::Sigmoid
                        }),
                        &Op::Affine(AffineOp {
                            bias: true,
                            act: Act::Identity
                        }),
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
                            geom: conv::Geometry {
                                c: 2,
                                h: 9,
                                w: 9,
                                f: 4,
                                groups: 1,
                                kernel: (3, 3),
                                stride: (1, 1),
                                dilation: (1, 1),
                                pad: (0, 0),
                                oh: 7,
                                ow: 7
                            },
                            bias: true,
                            act: Act::Identity,
                            pool: None
                        }),
                        &Op::Pool(PoolOp {
                            reduce: Reduce::Max,
                            geom: pool::Geometry {
                                c: 4,
                                h: 7,
                                w: 7,
                                size: (3, 3),
                                stride: (2, 2),
                                pad: (0, 0),
                                oh: 3,
                                ow: 3
                            }
                        }),
                        &Op::Alias,
                        &Op::Dropout(Dropout { p: 0.5 }),
                        &Op::Affine(AffineOp {
                            bias: true,
                            act: Act::Step
                        }),
                    ]
                );
                assert_eq!(p.steps[4].src, Some(3));
                assert_eq!(p.steps[3].src, Some(1));
                assert!(!p.trainable);
                assert_eq!(p.arena.len, 196 + 36);
                let pooled = Loc::At(196);
                assert_eq!(
                    p.arena.locs,
                    [Loc::At(0), pooled, pooled, pooled, Loc::At(0)]
                );
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
                assert_eq!(
                    ops[1],
                    &Op::Affine(AffineOp {
                        bias: true,
                        act: Act::Relu6
                    })
                );
                assert_eq!(ops[2..], [&Op::Prelu, &Op::Act(Act::Relu6)]);
            },
        );
    }

    #[test]
    fn in_place_steps_copy_once_from_the_input() {
        with_plan("struct N: [4] => softmax", |p| {
            assert_eq!(p.arena.locs, [Loc::At(0)]);
            assert_eq!(p.arena.len, 4);
        });
    }
}
