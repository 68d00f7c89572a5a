//! The batched pass over a workspace: its buffer layout and sizes, forward,
//! the loss head, and backward. One body serves inference batches, the
//! training-mode forward with its loss, and the full training step.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::quote;

use super::item::Item;
use super::names::{self, Locals};
use super::ops::code;
use super::step::{Buffer, Io, StepCx};
use super::tokens::{core, len, lit, rt};
use crate::plan::{Head, Plan};

/// The workspace layout of a plan: scalar buffers and index buffers, in
/// the order they are cut from the workspace.
struct Layout {
    data: Vec<Buffer>,
    index: Vec<Buffer>,
    /// The steps' output buffers: step, and the `(per sample, fixed)`
    /// scalars before the buffer.
    outputs: Vec<(usize, (usize, usize))>,
}

impl Layout {
    fn of(plan: &Plan) -> Layout {
        let (mut data, mut index, mut outputs) = (Vec::new(), Vec::new(), Vec::new());
        for s in 0..plan.steps.len() {
            let cx = StepCx::new(plan, s);
            if cx.step.op.has_train_buffer() {
                outputs.push((s, totals(&data)));
                data.push(Buffer {
                    name: cx.out(),
                    per_sample: len(cx.step.output),
                    fixed: 0,
                    index: false,
                });
            }
            for buffer in code(&cx.step.op).buffers(&cx) {
                if buffer.index {
                    index.push(buffer);
                } else {
                    data.push(buffer);
                }
            }
        }
        for block in &plan.blocks {
            let [gmain, gskip] = names::block_grads(&plan.steps[block.add].name);
            if !block.shortcut.is_empty() {
                data.push(Buffer {
                    name: gmain,
                    per_sample: len(plan.steps[block.add].output),
                    fixed: 0,
                    index: false,
                });
            }
            if block.input.is_some() {
                data.push(Buffer {
                    name: gskip,
                    per_sample: len(plan.steps[block.main.start].input),
                    fixed: 0,
                    index: false,
                });
            }
        }
        let Locals { g0, g1, .. } = Locals::new();
        for name in [g0, g1] {
            data.push(Buffer {
                name,
                per_sample: plan.max_len(),
                fixed: 0,
                index: false,
            });
        }
        Layout {
            data,
            index,
            outputs,
        }
    }
}

/// `(per sample, fixed)` totals of some buffers.
fn totals(bufs: &[Buffer]) -> (usize, usize) {
    bufs.iter()
        .fold((0, 0), |(p, f), b| (p + b.per_sample, f + b.fixed))
}

/// `let (name, __rest) = __rest.split_at_mut(len);` for every buffer.
fn split(bufs: &[Buffer], source: TokenStream, batch: &Ident) -> TokenStream {
    let mut code = quote!(let __rest: &mut [_] = #source;);
    for b in bufs {
        let name = &b.name;
        let (per, fixed) = (lit(b.per_sample), lit(b.fixed));
        code.extend(quote! {
            let (#name, __rest) = __rest.split_at_mut(#batch * #per + #fixed);
        });
    }
    code
}

/// The step's forward over the batch layout.
fn forward(plan: &Plan, s: usize) -> TokenStream {
    let cx = StepCx::new(plan, s);
    let out = cx.out();
    let io = Io {
        input: cx.input(),
        output: quote!(&mut #out[..]),
        in_place: false,
        skip: None,
        batch: true,
    };
    code(&cx.step.op).forward(&cx, &io)
}

/// The flat network output in the batch layout.
fn output_expr(plan: &Plan) -> TokenStream {
    match plan.last_buffer_step() {
        Some(k) => {
            let name = names::out(&plan.steps[k].name);
            quote!(&#name[..])
        }
        None => {
            let x = Locals::new().x;
            quote!(&#x[..])
        }
    }
}

/// The steps whose outputs `Network::HIDDEN` lists, in its order.
pub(crate) fn hidden_steps(plan: &Plan) -> Vec<usize> {
    Layout::of(plan)
        .outputs
        .into_iter()
        .map(|(s, _)| s)
        .collect()
}

/// The workspace sizes and the `__pass` method, in one inherent impl.
pub(crate) fn item(it: &Item) -> TokenStream {
    let Item {
        name,
        impl_attrs,
        store_len,
        generics,
        ..
    } = it;
    let core = core();
    let layout = Layout::of(it.plan);
    let (data_per, data_fixed) = totals(&layout.data);
    let (index_per, index_fixed) = totals(&layout.index);
    let [data_per, data_fixed, index_per, index_fixed] =
        [data_per, data_fixed, index_per, index_fixed].map(lit);
    let pass = pass(it, &layout);
    let (e, st) = (names::elem(), names::storage());
    let rt = rt();
    let hidden = layout.outputs.iter().map(|&(s, (per, fixed))| {
        let step = &it.plan.steps[s];
        let name = &step.name;
        let shape = step.output.dims().into_iter().map(lit);
        let (per, fixed, n) = (lit(per), lit(fixed), lit(len(step.output)));
        quote! {
            #rt::HiddenInfo {
                name: #name, shape: &[#(#shape),*], per_sample_before: #per,
                fixed_before: #fixed, len: #n,
            }
        }
    });
    quote! {
        #impl_attrs
        impl #generics #name<#e, #st> {
            /// Where each step's output lies in a batch pass's workspace
            /// (`Network::HIDDEN`).
            #[doc(hidden)]
            pub const __HIDDEN: &'static [#rt::HiddenInfo] = &[#(#hidden),*];

            /// Scalars of workspace a batch of `batch` samples needs.
            pub const fn workspace_len(batch: usize) -> usize {
                batch * #data_per + #data_fixed
            }

            /// Argmax slots of workspace a batch of `batch` samples needs.
            pub const fn index_len(batch: usize) -> usize {
                batch * #index_per + #index_fixed
            }

            /// Bytes of training workspace for a batch of `batch` samples,
            /// parameter gradients included.
            pub const fn train_workspace_bytes(batch: usize) -> usize {
                (Self::workspace_len(batch) + #store_len) * #core::mem::size_of::<#e>()
                    + Self::index_len(batch) * #core::mem::size_of::<u32>()
            }

            #pass
        }
    }
}

/// The `__pass` method.
fn pass(it: &Item, layout: &Layout) -> TokenStream {
    let plan = it.plan;
    let (rt, core, e) = (rt(), core(), names::elem());
    let Item {
        input_ty,
        output_ty,
        name_str,
        ..
    } = it;
    let Locals {
        params,
        grads,
        x,
        batch,
        train,
        ..
    } = Locals::new();
    let data_split = split(&layout.data, quote!(ws.data), &batch);
    let index_split = split(&layout.index, quote!(ws.index), &batch);

    let head_step = match plan.head {
        Head::MeanSquaredError => None,
        Head::SoftmaxCrossEntropy | Head::SigmoidBinaryCrossEntropy => {
            plan.steps.len().checked_sub(1)
        }
    };
    let forward_code: TokenStream = (0..plan.steps.len())
        .filter(|s| Some(*s) != head_step)
        .map(|s| forward(plan, s))
        .collect();

    let out_len = lit(len(plan.typed.output));
    let (head_code, backward_from) = head(plan, head_step);
    let backward_code = if plan.trainable {
        backward(plan, backward_from)
    } else {
        quote!()
    };
    let output = output_expr(plan);
    quote! {
        #[doc(hidden)]
        #[allow(unused_variables, unused_mut, clippy::too_many_lines, clippy::needless_range_loop)]
        fn __pass<__T: #rt::loss::Target<#output_ty>>(
            &self,
            xs: &[#input_ty],
            ts: #core::option::Option<&[__T]>,
            ws: &mut #rt::Workspace<'_, #e>,
            #train: #core::option::Option<#rt::StepCtx>,
            #grads: #core::option::Option<&mut [#e]>,
            ys: #core::option::Option<&mut [#output_ty]>,
        ) -> #e {
            let #batch = xs.len();
            #core::assert!(
                ws.data.len() >= <Self as #rt::Network>::workspace_len(#batch)
                    && ws.index.len() >= <Self as #rt::Network>::index_len(#batch),
                "workspace too small for a batch of {} samples of {}", #batch, #name_str,
            );
            if let Some(ts) = ts {
                #core::assert_eq!(ts.len(), #batch, "{} inputs but {} targets", #batch, ts.len());
            }
            let #params: &[#e] = #rt::Network::params(self);
            let #x: &[#e] = <#input_ty as #rt::Tensor>::batch_flat(xs);
            #data_split
            #index_split
            #forward_code
            let mut __loss = <#e as #rt::Scalar>::ZERO;
            #head_code
            if let Some(ys) = ys {
                #core::assert_eq!(ys.len(), #batch, "{} inputs but room for {} outputs", #batch, ys.len());
                <#output_ty as #rt::Tensor>::batch_flat_mut(ys).copy_from_slice(&(#output)[..#batch * #out_len]);
            }
            #backward_code
            __loss
        }
    }
}

/// The loss (or, without targets, the plain last step) and the step where
/// backward starts, with the gradient in `__g0`.
fn head(plan: &Plan, head_step: Option<usize>) -> (TokenStream, Option<usize>) {
    let (rt, e) = (rt(), names::elem());
    let output_ty = super::tokens::sample_type(plan.typed.output);
    let Locals {
        grads,
        batch,
        train,
        scale,
        g0,
        ..
    } = Locals::new();
    let grad_opt = |n: usize| {
        let n = lit(n);
        quote! {
            let #scale = match #train {
                Some(ctx) => <#e as #rt::Scalar>::ONE / <#e as #rt::Scalar>::from_usize(ctx.batch),
                None => <#e as #rt::Scalar>::ONE,
            };
            let __grad = match &#grads { Some(_) => Some(&mut #g0[..#batch * #n]), None => None };
        }
    };
    let loss_fn = match plan.head {
        Head::SoftmaxCrossEntropy => quote!(softmax_cross_entropy),
        Head::SigmoidBinaryCrossEntropy => quote!(sigmoid_binary_cross_entropy),
        Head::MeanSquaredError => quote!(mean_squared_error),
    };
    match head_step {
        Some(h) => {
            let cx = StepCx::new(plan, h);
            let grad = grad_opt(len(cx.step.output));
            let (logits, probs) = (cx.input(), cx.out());
            let plain = forward(plan, h);
            let code = quote! {
                match ts {
                    Some(ts) => {
                        #grad
                        __loss = #rt::loss::#loss_fn::<#output_ty, __T>(#logits, ts, &mut #probs[..], __grad, #scale);
                    }
                    None => { #plain }
                }
            };
            (code, cx.step.src)
        }
        None => {
            let grad = grad_opt(len(plan.typed.output));
            let output = output_expr(plan);
            let code = quote! {
                if let Some(ts) = ts {
                    #grad
                    __loss = #rt::loss::#loss_fn::<#output_ty, __T>(#output, ts, __grad, #scale);
                }
            };
            (code, plan.last_buffer_step())
        }
    }
}

/// How the gradient splits at residual blocks, after step `s`'s backward.
///
/// Steps run main path, shortcut, add; backward meets them in reverse. After
/// the add, `gout` is the gradient of the block output: kept in `gmain`
/// while the shortcut runs (or, with the identity shortcut, it is already
/// the skip's share of the input gradient, kept in `gskip`). After the
/// shortcut's first step, its share of the input gradient goes to `gskip`
/// and `gmain` comes back for the main path. After the main path's first
/// step, the two shares are summed. Without an input gradient to compute
/// (the block reads the network input) only `gmain` is kept. Inner blocks
/// come first in `plan.blocks`, which is the order their glue must run in.
fn block_glue(plan: &Plan, s: usize) -> TokenStream {
    let rt = rt();
    let Locals { gout, batch, .. } = Locals::new();
    let mut code = TokenStream::new();
    for block in &plan.blocks {
        let [gmain, gskip] = names::block_grads(&plan.steps[block.add].name);
        let out_len = lit(len(plan.steps[block.add].output));
        let in_len = lit(len(plan.steps[block.main.start].input));
        let keep = |buffer: &Ident, n: &Literal| quote!(#buffer[..#batch * #n].copy_from_slice(&#gout[..#batch * #n]););
        let identity = block.shortcut.is_empty();
        let needs_input_grad = block.input.is_some();
        if s == block.add {
            if !identity {
                code.extend(keep(&gmain, &out_len));
            } else if needs_input_grad {
                code.extend(keep(&gskip, &in_len));
            }
        }
        if !identity && s == block.shortcut.start {
            if needs_input_grad {
                code.extend(keep(&gskip, &in_len));
            }
            code.extend(quote! {
                #gout[..#batch * #out_len].copy_from_slice(&#gmain[..#batch * #out_len]);
            });
        }
        if needs_input_grad && s == block.main.start {
            code.extend(quote! {
                #rt::kernels::add::accumulate(&mut #gout[..#batch * #in_len], &#gskip[..#batch * #in_len]);
            });
        }
    }
    code
}

/// The backward section: runs when gradients are asked for (training
/// callers always pass the step context with them), from step `from` down.
fn backward(plan: &Plan, from: Option<usize>) -> TokenStream {
    let (rt, e) = (rt(), names::elem());
    let Locals {
        grads,
        train,
        ctx,
        scale,
        gout,
        gin,
        g0,
        g1,
        ..
    } = Locals::new();
    let body: TokenStream = from
        .map(|from| {
            (0..=from)
                .rev()
                .map(|s| {
                    let cx = StepCx::new(plan, s);
                    let step = code(&cx.step.op).backward(&cx);
                    // Frozen lower layers (`StepCtx::frozen`) skip their
                    // backward, and so does a step below every parameter.
                    let step = match cx.needed_below() {
                        None => step,
                        Some(0) => quote!(),
                        Some(end) => {
                            let end = lit(end);
                            quote!(if #ctx.frozen < #end { #step })
                        }
                    };
                    let glue = block_glue(plan, s);
                    quote!(#step #glue)
                })
                .collect()
        })
        .unwrap_or_default();
    quote! {
        if let (Some(#grads), Some(#ctx)) = (#grads, #train) {
            let #scale = <#e as #rt::Scalar>::ONE / <#e as #rt::Scalar>::from_usize(#ctx.batch);
            let (mut #gout, mut #gin): (&mut [#e], &mut [#e]) = (#g0, #g1);
            #body
        }
    }
}
