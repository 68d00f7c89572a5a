//! The batched pass over a workspace: buffer layout, forward, the loss head,
//! and backward. One body serves inference batches, the training-mode
//! forward with its loss, and the full training step.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::backward;
use super::forward::{self, Io, len};
use super::{channels_positions, lit, rt, sample_type};
use crate::plan::{Head, Op, Plan};

/// One buffer of the workspace.
pub(crate) struct Buffer {
    pub(crate) name: Ident,
    /// Elements per sample (`0` for fixed-size buffers).
    pub(crate) per_sample: usize,
    /// Elements independent of the batch size.
    pub(crate) fixed: usize,
}

/// The workspace layout of a plan.
pub(crate) struct Layout {
    pub(crate) data: Vec<Buffer>,
    pub(crate) index: Vec<Buffer>,
}

impl Layout {
    pub(crate) fn of(plan: &Plan) -> Layout {
        let mut data = Vec::new();
        let mut index = Vec::new();
        for step in &plan.steps {
            let out = len(step.output);
            if step.op.has_train_buffer() {
                data.push(Buffer {
                    name: out_buf(&step.name),
                    per_sample: out,
                    fixed: 0,
                });
            }
            match &step.op {
                Op::Conv { pool: Some(_), .. } | Op::MaxPool(_) => {
                    index.push(Buffer {
                        name: format_ident!("{}_argmax", step.name),
                        per_sample: out,
                        fixed: 0,
                    });
                }
                Op::BatchNorm { .. } => {
                    let (c, _) = channels_positions(step.input);
                    data.push(Buffer {
                        name: format_ident!("{}_xhat", step.name),
                        per_sample: out,
                        fixed: 0,
                    });
                    data.push(Buffer {
                        name: format_ident!("{}_mean", step.name),
                        per_sample: 0,
                        fixed: c,
                    });
                    data.push(Buffer {
                        name: format_ident!("{}_var", step.name),
                        per_sample: 0,
                        fixed: c,
                    });
                }
                _ => {}
            }
        }
        let max = plan.max_len();
        data.push(Buffer {
            name: format_ident!("__g0"),
            per_sample: max,
            fixed: 0,
        });
        data.push(Buffer {
            name: format_ident!("__g1"),
            per_sample: max,
            fixed: 0,
        });
        Layout { data, index }
    }

    /// `(per sample, fixed)` totals of the scalar buffers.
    pub(crate) fn data_len(&self) -> (usize, usize) {
        totals(&self.data)
    }

    /// `(per sample, fixed)` totals of the index buffers.
    pub(crate) fn index_len(&self) -> (usize, usize) {
        totals(&self.index)
    }
}

fn totals(bufs: &[Buffer]) -> (usize, usize) {
    bufs.iter()
        .fold((0, 0), |(p, f), b| (p + b.per_sample, f + b.fixed))
}

/// `conv1_out`.
pub(crate) fn out_buf(step: &str) -> Ident {
    format_ident!("{step}_out")
}

/// `let (name, __rest) = rest.split_at_mut(len);` for every buffer.
fn split(bufs: &[Buffer], source: TokenStream) -> TokenStream {
    let mut code = quote!(let __rest: &mut [_] = #source;);
    for b in bufs {
        let name = &b.name;
        let (per, fixed) = (lit(b.per_sample), lit(b.fixed));
        code.extend(quote! {
            let (#name, __rest) = __rest.split_at_mut(__b * #per + #fixed);
        });
    }
    code
}

/// The input of step `s` in the batch layout: the network input or the
/// output buffer of the step it reads.
pub(crate) fn input_of(plan: &Plan, s: usize) -> TokenStream {
    match plan.steps[s].src {
        None => quote!(&__x[..]),
        Some(k) => {
            let name = out_buf(&plan.steps[k].name);
            quote!(&#name[..])
        }
    }
}

/// The flat network output in the batch layout.
fn output_expr(plan: &Plan) -> TokenStream {
    match plan.last_buffer_step() {
        Some(k) => {
            let name = out_buf(&plan.steps[k].name);
            quote!(&#name[..])
        }
        None => quote!(&__x[..]),
    }
}

fn io(plan: &Plan, s: usize) -> Io {
    let step = &plan.steps[s];
    let out = out_buf(&step.name);
    let index = match &step.op {
        Op::Conv { pool: Some(_), .. } | Op::MaxPool(_) => {
            let name = format_ident!("{}_argmax", step.name);
            Some(quote!(&mut #name[..]))
        }
        _ => None,
    };
    let norm = matches!(step.op, Op::BatchNorm { .. }).then(|| {
        let [x, m, v] = ["xhat", "mean", "var"].map(|k| format_ident!("{}_{k}", step.name));
        (
            quote!(&mut #x[..]),
            quote!(&mut #m[..]),
            quote!(&mut #v[..]),
        )
    });
    Io {
        input: input_of(plan, s),
        output: quote!(&mut #out[..]),
        in_place: false,
        index,
        norm,
        batch: true,
    }
}

/// The `__pass` method.
pub(crate) fn pass(plan: &Plan) -> TokenStream {
    let rt = rt();
    let e = quote!(E);
    let input_ty = sample_type(plan.typed.net.input, &e);
    let output_ty = sample_type(plan.typed.output, &e);
    let layout = Layout::of(plan);
    let data_split = split(&layout.data, quote!(ws.data));
    let index_split = split(&layout.index, quote!(ws.index));

    let head_step = match plan.head {
        Head::MeanSquaredError => None,
        _ => plan.steps.len().checked_sub(1),
    };
    let mut forward_code = TokenStream::new();
    for s in 0..plan.steps.len() {
        if Some(s) == head_step {
            continue;
        }
        forward_code.extend(forward::step(plan, s, &io(plan, s)));
    }

    let out_len = lit(len(plan.typed.output));
    let (head_code, backward_from) = head(plan, head_step, &output_ty);
    let backward_code = if plan.trainable {
        backward::section(plan, backward_from)
    } else {
        quote!()
    };
    let output = output_expr(plan);
    let name = plan.typed.net.header.name.to_string();
    quote! {
        #[allow(unused_variables, unused_mut, clippy::too_many_lines, clippy::needless_range_loop)]
        fn __pass<T: #rt::loss::Target<#output_ty>>(
            &self,
            xs: &[#input_ty],
            ts: ::constnet::__private::core::option::Option<&[T]>,
            ws: &mut #rt::Workspace<'_, E>,
            __train: ::constnet::__private::core::option::Option<#rt::StepCtx>,
            grads: ::constnet::__private::core::option::Option<&mut [E]>,
            ys: ::constnet::__private::core::option::Option<&mut [#output_ty]>,
        ) -> E {
            let __b = xs.len();
            assert!(
                ws.data.len() >= <Self as #rt::Network>::workspace_len(__b)
                    && ws.index.len() >= <Self as #rt::Network>::index_len(__b),
                "workspace too small for a batch of {} samples of {}", __b, #name,
            );
            if let Some(ts) = ts {
                assert_eq!(ts.len(), __b, "{} inputs but {} targets", __b, ts.len());
            }
            let p: &[E] = #rt::Network::params(self);
            let __x: &[E] = <#input_ty as #rt::Tensor>::batch_flat(xs);
            #data_split
            #index_split
            #forward_code
            let mut __loss = <E as #rt::Scalar>::ZERO;
            #head_code
            if let Some(ys) = ys {
                assert_eq!(ys.len(), __b, "{} inputs but room for {} outputs", __b, ys.len());
                <#output_ty as #rt::Tensor>::batch_flat_mut(ys).copy_from_slice(&(#output)[..__b * #out_len]);
            }
            #backward_code
            __loss
        }
    }
}

/// The loss (or, without targets, the plain last step) and the step where
/// backward starts, with the gradient in `__g0`.
fn head(
    plan: &Plan,
    head_step: Option<usize>,
    output_ty: &TokenStream,
) -> (TokenStream, Option<usize>) {
    let rt = rt();
    let grad_opt = |n: usize| {
        let n = lit(n);
        quote! {
            let __scale = match __train {
                Some(ctx) => <E as #rt::Scalar>::ONE / <E as #rt::Scalar>::from_usize(ctx.batch),
                None => <E as #rt::Scalar>::ONE,
            };
            let __grad = match &grads { Some(_) => Some(&mut __g0[..__b * #n]), None => None };
        }
    };
    match (plan.head, head_step) {
        (Head::SoftmaxCrossEntropy | Head::SigmoidBinaryCrossEntropy, Some(h)) => {
            let step = &plan.steps[h];
            let n = len(step.output);
            let logits = input_of(plan, h);
            let probs = out_buf(&step.name);
            let loss_fn = if plan.head == Head::SoftmaxCrossEntropy {
                quote!(softmax_cross_entropy)
            } else {
                quote!(sigmoid_binary_cross_entropy)
            };
            let grad = grad_opt(n);
            let plain = forward::step(plan, h, &io(plan, h));
            let code = quote! {
                match ts {
                    Some(ts) => {
                        #grad
                        __loss = #rt::loss::#loss_fn::<#output_ty, T>(#logits, ts, &mut #probs[..], __grad, __scale);
                    }
                    None => { #plain }
                }
            };
            (code, step.src)
        }
        _ => {
            let n = len(plan.typed.output);
            let grad = grad_opt(n);
            let output = output_expr(plan);
            let code = quote! {
                if let Some(ts) = ts {
                    #grad
                    __loss = #rt::loss::mean_squared_error::<#output_ty, T>(#output, ts, __grad, __scale);
                }
            };
            (code, plan.last_buffer_step())
        }
    }
}
