//! Forward calls of one step, for either buffer layout.
//!
//! The arena form (single-sample `predict`) works in place where it can; the
//! batch form (workspace) always writes a fresh buffer and branches on the
//! run-time training flag for dropout and batch norm.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use super::{act_expr, channels_positions, layer_span, lit, rt};
use crate::model::Shape;
use crate::plan::{ConvGeom, Op, Plan, PoolGeom, Step};

/// Where a step reads and writes.
pub(crate) struct Io {
    /// `&[E]`: the step's input batch, flat.
    pub(crate) input: TokenStream,
    /// `&mut [E]`: the step's output batch, flat.
    pub(crate) output: TokenStream,
    /// The output buffer already holds the input (arena, in place).
    pub(crate) in_place: bool,
    /// `&mut [u32]` argmax buffer (batch form only).
    pub(crate) index: Option<TokenStream>,
    /// `(&mut xhat, &mut mean, &mut var)` of a batch norm (batch form only).
    pub(crate) norm: Option<(TokenStream, TokenStream, TokenStream)>,
    /// Batch form: `true`, so dropout and batch norm check `__train`.
    pub(crate) batch: bool,
}

/// Offset of tensor `k` of the step's first layer.
pub(crate) fn offset(plan: &Plan, step: &Step, k: usize) -> usize {
    let range = &plan.typed.layers[step.layer].tensors;
    plan.typed.tensors[range.start + k].offset
}

/// The view of tensor `k` of the step's layer in the flat parameters `p`.
fn param_vector(plan: &Plan, step: &Step, k: usize, n: usize) -> TokenStream {
    let rt = rt();
    let (off, n) = (lit(offset(plan, step, k)), lit(n));
    quote!(#rt::network::view::vector::<E, #n>(&p[#off..]))
}

pub(crate) fn step(plan: &Plan, s: usize, io: &Io) -> TokenStream {
    let step = &plan.steps[s];
    let rt = rt();
    let span = layer_span(plan, step.layer);
    let v = quote!(#rt::network::view);
    let k = quote!(#rt::kernels);
    let Io { input, output, .. } = io;
    let (in_len, out_len) = (lit(len(step.input)), lit(len(step.output)));
    match &step.op {
        Op::Affine { act } => {
            let act = act_expr(*act);
            let (w_off, b) = (
                lit(offset(plan, step, 0)),
                param_vector(plan, step, 1, len(step.output)),
            );
            quote_spanned! {span=>
                #k::affine::forward::<E, _, #in_len, #out_len>(
                    #v::mat::<E, #out_len, #in_len>(&p[#w_off..]),
                    #b,
                    #v::rows::<E, #in_len>(#input),
                    #v::rows_mut::<E, #out_len>(#output),
                    #act,
                );
            }
        }
        Op::Conv { geom, act, pool } => {
            let g = conv_generics(geom);
            let [c, h, w, f, kh, kw, oh, ow] = [
                geom.c,
                geom.h,
                geom.w,
                geom.f,
                geom.kernel.0,
                geom.kernel.1,
                geom.oh,
                geom.ow,
            ]
            .map(lit);
            let act = act_expr(*act);
            let w_off = lit(offset(plan, step, 0));
            let weights = quote!(#v::kernel::<E, #f, #c, #kh, #kw>(&p[#w_off..]));
            let bias = param_vector(plan, step, 1, geom.f);
            let x = quote!(#v::images::<E, #c, #h, #w>(#input));
            match pool {
                None => quote_spanned! {span=>
                    #k::conv2d::forward::<E, _, #g>(
                        #weights, #bias, #x, #v::images_mut::<E, #f, #oh, #ow>(#output), #act,
                    );
                },
                Some(window) => {
                    let [wh, ww, qh, qw] =
                        [window.size.0, window.size.1, window.qh, window.qw].map(lit);
                    let argmax = match &io.index {
                        Some(idx) => quote!(Some(#v::images_mut::<u32, #f, #qh, #qw>(#idx))),
                        None => quote!(None),
                    };
                    quote_spanned! {span=>
                        #k::conv2d::forward_max_pool::<E, _, #g, #wh, #ww, #qh, #qw>(
                            #weights, #bias, #x,
                            #v::images_mut::<E, #f, #qh, #qw>(#output),
                            #argmax,
                            #act,
                        );
                    }
                }
            }
        }
        Op::MaxPool(geom) | Op::AvgPool(geom) => {
            let g = pool_generics(geom);
            let [c, h, w, oh, ow] = [geom.c, geom.h, geom.w, geom.oh, geom.ow].map(lit);
            let x = quote!(#v::images::<E, #c, #h, #w>(#input));
            let y = quote!(#v::images_mut::<E, #c, #oh, #ow>(#output));
            if matches!(step.op, Op::AvgPool(_)) {
                quote_spanned! {span=> #k::pool2d::avg_forward::<E, #g>(#x, #y); }
            } else {
                let argmax = match &io.index {
                    Some(idx) => quote!(Some(#v::images_mut::<u32, #c, #oh, #ow>(#idx))),
                    None => quote!(None),
                };
                quote_spanned! {span=> #k::pool2d::max_forward::<E, #g>(#x, #y, #argmax); }
            }
        }
        Op::Act(act) => {
            let act = act_expr(*act);
            if io.in_place {
                quote_spanned! {span=> #k::activation::forward_in_place::<E, _>(#output, #act); }
            } else {
                quote_spanned! {span=> #k::activation::forward::<E, _>(#input, #output, #act); }
            }
        }
        Op::Prelu => {
            let (c, l) = channels_positions(step.input);
            let alpha = param_vector(plan, step, 0, c);
            let (c, l) = (lit(c), lit(l));
            if io.in_place {
                quote_spanned! {span=>
                    #k::prelu::forward_in_place::<E, #c, #l>(#alpha, #v::planes_mut::<E, #c, #l>(#output));
                }
            } else {
                quote_spanned! {span=>
                    #k::prelu::forward::<E, #c, #l>(
                        #alpha, #v::planes::<E, #c, #l>(#input), #v::planes_mut::<E, #c, #l>(#output),
                    );
                }
            }
        }
        Op::Softmax => {
            if io.in_place {
                quote_spanned! {span=> #k::softmax::forward_in_place::<E, #out_len>(#v::rows_mut::<E, #out_len>(#output)); }
            } else {
                quote_spanned! {span=>
                    #k::softmax::forward::<E, #out_len>(#v::rows::<E, #in_len>(#input), #v::rows_mut::<E, #out_len>(#output));
                }
            }
        }
        Op::Dropout(p) => {
            if !io.batch {
                return quote!();
            }
            let id = lit(s);
            quote_spanned! {span=>
                match __train {
                    Some(ctx) => #k::dropout::forward_train::<E, #out_len>(
                        #p, ctx.seed, #id, ctx.first_sample,
                        #v::rows::<E, #in_len>(#input), #v::rows_mut::<E, #out_len>(#output),
                    ),
                    None => #k::dropout::forward_eval::<E, #out_len>(
                        #v::rows::<E, #in_len>(#input), #v::rows_mut::<E, #out_len>(#output),
                    ),
                }
            }
        }
        Op::BatchNorm { eps, .. } => {
            let (c, l) = channels_positions(step.input);
            let [gamma, beta, mean, var] = [0, 1, 2, 3].map(|t| param_vector(plan, step, t, c));
            let (c, l) = (lit(c), lit(l));
            let eps = quote!(<E as #rt::Scalar>::from_f64(#eps));
            let eval = if io.in_place {
                quote! {
                    #k::batchnorm::forward_eval_in_place::<E, #c, #l>(
                        #gamma, #beta, #mean, #var, #eps, #v::planes_mut::<E, #c, #l>(#output),
                    )
                }
            } else {
                quote! {
                    #k::batchnorm::forward_eval::<E, #c, #l>(
                        #gamma, #beta, #mean, #var, #eps,
                        #v::planes::<E, #c, #l>(#input), #v::planes_mut::<E, #c, #l>(#output),
                    )
                }
            };
            match &io.norm {
                None => quote_spanned! {span=> #eval; },
                Some((xhat, bmean, bvar)) => quote_spanned! {span=>
                    if __train.is_some() {
                        #k::batchnorm::forward_train::<E, #c, #l>(
                            #gamma, #beta, #eps,
                            #v::planes::<E, #c, #l>(#input), #v::planes_mut::<E, #c, #l>(#output),
                            #v::planes_mut::<E, #c, #l>(#xhat),
                            #v::vector_mut::<E, #c>(#bmean), #v::vector_mut::<E, #c>(#bvar),
                        );
                    } else {
                        #eval;
                    }
                },
            }
        }
        Op::Alias => quote!(),
    }
}

pub(crate) fn len(shape: Shape) -> usize {
    shape.len().unwrap_or(0)
}

/// `C, H, W, F, KH, KW, SH, SW, PH, PW, OH, OW` of a convolution.
pub(crate) fn conv_generics(g: &ConvGeom) -> TokenStream {
    let all = [
        g.c, g.h, g.w, g.f, g.kernel.0, g.kernel.1, g.stride.0, g.stride.1, g.pad.0, g.pad.1, g.oh,
        g.ow,
    ]
    .map(lit);
    quote!(#(#all),*)
}

/// `C, H, W, KH, KW, SH, SW, OH, OW` of a pool.
pub(crate) fn pool_generics(g: &PoolGeom) -> TokenStream {
    let all = [
        g.c, g.h, g.w, g.size.0, g.size.1, g.stride.0, g.stride.1, g.oh, g.ow,
    ]
    .map(lit);
    quote!(#(#all),*)
}

/// The body of `predict_in`: every step over the two arena halves, then the
/// copy of the final buffer into the returned output. With `skip_last`, the
/// last step (a final softmax or sigmoid) is left out: the logits.
pub(crate) fn arena(plan: &Plan, output_ty: &TokenStream, skip_last: bool) -> TokenStream {
    use crate::plan::Loc;
    let rt = rt();
    let a_len = lit(plan.arena.a_len);
    let at = |loc: Loc, n: usize, mutable: bool| -> TokenStream {
        let n = lit(n);
        match (loc, mutable) {
            (Loc::Input, _) => quote!(&__x[..#n]),
            (Loc::A, false) => quote!(&__arena_a[..#n]),
            (Loc::A, true) => quote!(&mut __arena_a[..#n]),
            (Loc::B, false) => quote!(&__arena_b[..#n]),
            (Loc::B, true) => quote!(&mut __arena_b[..#n]),
        }
    };
    let mut code = TokenStream::new();
    let mut cur = Loc::Input;
    let run = plan.steps.len() - usize::from(skip_last);
    for (s, step) in plan.steps.iter().enumerate().take(run) {
        let next = plan.arena.locs[s];
        if step.op.is_view_at_inference() {
            continue;
        }
        let io = Io {
            input: at(cur, len(step.input), false),
            output: at(next, len(step.output), true),
            in_place: cur == next,
            index: None,
            norm: None,
            batch: false,
        };
        code.extend(self::step(plan, s, &io));
        cur = next;
    }
    let out_len = len(plan.typed.output);
    let result = at(cur, out_len, false);
    quote! {
        let p: &[E] = #rt::Network::params(self);
        let __x: &[E] = #rt::Tensor::as_flat(x);
        let (__arena_a, __arena_b) = arena.split_at_mut(#a_len);
        #code
        let mut __out = <#output_ty as #rt::Tensor>::zeroed();
        #rt::Tensor::as_flat_mut(&mut __out).copy_from_slice(#result);
        __out
    }
}
