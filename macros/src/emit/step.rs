//! The interface between the pass generators and the op emitters: what an
//! op sees of its step ([`StepCx`], [`Io`]) and what it provides
//! ([`OpCode`]).

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::quote;

use super::names::{self, Locals};
use super::tokens::{len, lit, rt};
use crate::infer::Tensor;
use crate::plan::{Op, Plan, Step};

/// One step as its op's emitter sees it.
pub(crate) struct StepCx<'a> {
    pub(crate) plan: &'a Plan<'a>,
    /// The step's index: dropout derives its masks from it.
    pub(crate) index: usize,
    pub(crate) step: &'a Step,
    pub(crate) locals: Locals,
}

impl<'a> StepCx<'a> {
    pub(crate) fn new(plan: &'a Plan<'a>, index: usize) -> Self {
        StepCx {
            plan,
            index,
            step: &plan.steps[index],
            locals: Locals::new(),
        }
    }

    /// The span of the step's first layer.
    pub(crate) fn span(&self) -> Span {
        self.step.span
    }

    /// Elements of one input sample.
    pub(crate) fn in_len(&self) -> Literal {
        lit(len(self.step.input))
    }

    /// Elements of one output sample.
    pub(crate) fn out_len(&self) -> Literal {
        lit(len(self.step.output))
    }

    /// Tensor `k` of the step's first layer.
    pub(crate) fn tensor(&self, k: usize) -> &Tensor {
        let range = &self.plan.typed.layers[self.step.layer].tensors;
        &self.plan.typed.tensors[range.start + k]
    }

    /// Offset of tensor `k` in the flat parameters.
    pub(crate) fn offset(&self, k: usize) -> Literal {
        lit(self.tensor(k).offset)
    }

    /// Tensor `k` as a vector view of `n` elements of the parameters.
    pub(crate) fn param_vector(&self, k: usize, n: usize) -> TokenStream {
        let (rt, p, e) = (rt(), &self.locals.params, names::elem());
        let (off, n) = (self.offset(k), lit(n));
        quote!(#rt::network::view::vector::<#e, #n>(&#p[#off..]))
    }

    /// Whether the step reads another step's output (else the network input,
    /// whose gradient nobody needs).
    pub(crate) fn has_src(&self) -> bool {
        self.step.src.is_some()
    }

    /// The step's output buffer in the training workspace.
    pub(crate) fn out(&self) -> Ident {
        names::out(&self.step.name)
    }

    /// The step's input in the training workspace, flat: the network input
    /// or the output of the step it reads.
    pub(crate) fn input(&self) -> TokenStream {
        self.value(self.step.src)
    }

    /// A value in the training workspace, flat: the network input (`None`)
    /// or a step's output.
    pub(crate) fn value(&self, value: Option<usize>) -> TokenStream {
        match value {
            None => {
                let x = &self.locals.x;
                quote!(&#x[..])
            }
            Some(k) => {
                let name = names::out(&self.plan.steps[k].name);
                quote!(&#name[..])
            }
        }
    }

    /// The gradient of the step's output, read-only.
    pub(crate) fn gout(&self) -> TokenStream {
        let Locals { gout, batch, .. } = &self.locals;
        let n = self.out_len();
        quote!(&#gout[..#batch * #n])
    }

    /// The gradient of the step's output, mutable (for in-place updates).
    pub(crate) fn gout_mut(&self) -> TokenStream {
        let Locals { gout, batch, .. } = &self.locals;
        let n = self.out_len();
        quote!(&mut #gout[..#batch * #n])
    }

    /// Where the step writes the gradient of its input.
    pub(crate) fn gin_mut(&self) -> TokenStream {
        let Locals { gin, batch, .. } = &self.locals;
        let n = self.in_len();
        quote!(&mut #gin[..#batch * #n])
    }

    /// After a step wrote its input gradient, that gradient becomes the
    /// next (earlier) step's output gradient. Nothing when no step reads it.
    pub(crate) fn swap_after(&self) -> TokenStream {
        if !self.has_src() {
            return quote!();
        }
        let Locals { gout, gin, .. } = &self.locals;
        quote!(::constnet::__private::core::mem::swap(&mut #gout, &mut #gin);)
    }

    /// `Some(view of the input gradient)` when a step reads another's
    /// output and a parameter before this step is trained (`StepCtx::frozen`
    /// lies below the end of those parameters), else `None`: nobody needs
    /// the gradient of the network input, nor of values that only frozen
    /// layers (or none) produced.
    pub(crate) fn input_grad(&self, view: TokenStream) -> TokenStream {
        let before = self.params_before();
        if self.has_src() && before > 0 {
            let (gin, ctx, before) = (self.gin_mut(), &self.locals.ctx, lit(before));
            quote!(if #ctx.frozen < #before { Some(#view(#gin)) } else { None })
        } else {
            quote!(None)
        }
    }

    /// The end, in the flat parameters, of the tensors step `s` owns (0 for
    /// none): its first layer's (the layers folded into it have none; an
    /// add owns none).
    fn own_end(plan: &Plan, s: usize) -> usize {
        let step = &plan.steps[s];
        if matches!(step.op, Op::Add(_) | Op::Alias) {
            return 0;
        }
        let range = plan.typed.layers[step.layer].tensors.clone();
        plan.typed.tensors[range]
            .iter()
            .map(|t| t.offset + t.len)
            .max()
            .unwrap_or(0)
    }

    /// The end of every parameter of the steps before this one. Parameters
    /// are laid out in step order, so when `StepCtx::frozen` reaches it,
    /// no earlier step trains anything.
    pub(crate) fn params_before(&self) -> usize {
        (0..self.index)
            .map(|t| Self::own_end(self.plan, t))
            .max()
            .unwrap_or(0)
    }

    /// The end of every parameter of this step and those before it: when
    /// `StepCtx::frozen` reaches it, the step's backward has nothing to do,
    /// unless it stages batch statistics (batch norm), which the running
    /// averages need whether or not the layer trains. `None`: always run.
    pub(crate) fn needed_below(&self) -> Option<usize> {
        if matches!(self.step.op, Op::BatchNorm(_)) {
            return None;
        }
        Some(
            self.params_before()
                .max(Self::own_end(self.plan, self.index)),
        )
    }
}

/// Where a step's forward reads and writes.
pub(crate) struct Io {
    /// `&[E]`: the step's input, flat.
    pub(crate) input: TokenStream,
    /// `&mut [E]`: the step's output, flat.
    pub(crate) output: TokenStream,
    /// The output buffer already holds the input (arena, in place).
    pub(crate) in_place: bool,
    /// A residual add's other operand, flat.
    pub(crate) skip: Option<TokenStream>,
    /// The batch layout: argmax and batch-norm buffers exist, and dropout
    /// and batch norm look at the run-time training flag.
    pub(crate) batch: bool,
}

/// A workspace buffer an op needs besides its output.
pub(crate) struct Buffer {
    pub(crate) name: Ident,
    /// Elements per sample (`0` for fixed-size buffers).
    pub(crate) per_sample: usize,
    /// Elements independent of the batch size.
    pub(crate) fixed: usize,
    /// `u32` indices rather than scalars.
    pub(crate) index: bool,
}

/// What each fused op emits. One implementation per op, in `ops/<op>.rs`.
pub(crate) trait OpCode {
    /// Forward statements over `io`: the batch layout or the arena.
    fn forward(&self, cx: &StepCx, io: &Io) -> TokenStream;

    /// Backward statements over the batch layout: reads the output gradient,
    /// accumulates parameter gradients, and writes the input gradient and
    /// swaps when a step reads it.
    fn backward(&self, cx: &StepCx) -> TokenStream;

    /// Workspace buffers besides the step's output.
    fn buffers(&self, _cx: &StepCx) -> Vec<Buffer> {
        Vec::new()
    }

    /// Statements of `commit_statistics` (running averages).
    fn commit(&self, _cx: &StepCx) -> TokenStream {
        TokenStream::new()
    }
}

impl StepCx<'_> {
    /// Binds the gradients of a weight (tensor 0) and, with `bias`, of its
    /// bias (tensor 1, right after it in the flat array); returns the
    /// statement with the names.
    pub(crate) fn weight_bias_grads(&self, bias: bool) -> (TokenStream, Ident, Option<Ident>) {
        let w = self.tensor(0);
        let grads = &self.locals.grads;
        let dw = quote::format_ident!("__dw");
        if !bias {
            let (w_off, w_end) = (lit(w.offset), lit(w.offset + w.len));
            return (quote!(let #dw = &mut #grads[#w_off..#w_end];), dw, None);
        }
        let b = self.tensor(1);
        let (w_off, w_len, b_end) = (lit(w.offset), lit(w.len), lit(b.offset + b.len));
        let db = quote::format_ident!("__db");
        let stmt = quote!(let (#dw, #db) = #grads[#w_off..#b_end].split_at_mut(#w_len););
        (stmt, dw, Some(db))
    }
}
