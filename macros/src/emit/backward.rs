//! Backward calls, in reverse step order, over the batch layout.
//!
//! The gradient with respect to a step's output is in `__gout`; a step that
//! needs its input gradient writes it to `__gin` and the two swap. Elementwise
//! steps work in place and do not swap. The first step with parameters never
//! computes the gradient of the network input.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

use super::forward::{conv_generics, len, offset, pool_generics};
use super::pass::{input_of, out_buf};
use super::{act_expr, channels_positions, layer_span, lit, rt};
use crate::plan::{Op, Plan};

/// The backward section: runs when `grads` is given (training callers always
/// pass its step context with it), from step `from` down.
pub(crate) fn section(plan: &Plan, from: Option<usize>) -> TokenStream {
    let rt = rt();
    let mut body = TokenStream::new();
    if let Some(from) = from {
        for s in (0..=from).rev() {
            body.extend(step(plan, s));
        }
    }
    quote! {
        if let (Some(grads), Some(__ctx)) = (grads, __train) {
            let __scale = <E as #rt::Scalar>::ONE / <E as #rt::Scalar>::from_usize(__ctx.batch);
            let (mut __gout, mut __gin): (&mut [E], &mut [E]) = (__g0, __g1);
            #body
        }
    }
}

/// Binds `__dw` and `__db` to a layer's weight and bias gradients.
fn weight_bias_grads(plan: &Plan, s: usize) -> TokenStream {
    let step = &plan.steps[s];
    let range = &plan.typed.layers[step.layer].tensors;
    let (w, b) = (
        &plan.typed.tensors[range.start],
        &plan.typed.tensors[range.start + 1],
    );
    let (w_off, w_len, b_end) = (lit(w.offset), lit(w.len), lit(b.offset + b.len));
    quote!(let (__dw, __db) = grads[#w_off..#b_end].split_at_mut(#w_len);)
}

fn step(plan: &Plan, s: usize) -> TokenStream {
    let step = &plan.steps[s];
    let rt = rt();
    let (v, k) = (quote!(#rt::network::view), quote!(#rt::kernels));
    let span = layer_span(plan, step.layer);
    let (in_len, out_len) = (lit(len(step.input)), lit(len(step.output)));
    let input = input_of(plan, s);
    let out = out_buf(&step.name);
    let has_src = step.src.is_some();
    let dout = quote!(&mut __gout[..__b * #out_len]);
    let swap = quote!(::constnet::__private::core::mem::swap(&mut __gout, &mut __gin););
    let swap_after = if has_src { swap } else { quote!() };
    match &step.op {
        Op::Affine { act } => {
            let act = act_expr(*act);
            let split = weight_bias_grads(plan, s);
            let w_off = lit(offset(plan, step, 0));
            let dx = if has_src {
                quote!(Some(#v::rows_mut::<E, #in_len>(&mut __gin[..__b * #in_len])))
            } else {
                quote!(None)
            };
            quote_spanned! {span=>
                #k::activation::backward_in_place::<E, _>(&#out[..], #dout, #act);
                #split
                #k::affine::backward::<E, #in_len, #out_len>(
                    #v::mat::<E, #out_len, #in_len>(&p[#w_off..]),
                    #v::rows::<E, #in_len>(#input),
                    #v::rows::<E, #out_len>(&__gout[..__b * #out_len]),
                    #v::mat_mut::<E, #out_len, #in_len>(__dw),
                    #v::vector_mut::<E, #out_len>(__db),
                    #dx,
                );
                #swap_after
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
            let split = weight_bias_grads(plan, s);
            let w_off = lit(offset(plan, step, 0));
            let weights = quote!(#v::kernel::<E, #f, #c, #kh, #kw>(&p[#w_off..]));
            let dx = if has_src {
                quote!(Some(#v::images_mut::<E, #c, #h, #w>(&mut __gin[..__b * #in_len])))
            } else {
                quote!(None)
            };
            let dw = quote!(#v::kernel_mut::<E, #f, #c, #kh, #kw>(__dw));
            let db = quote!(#v::vector_mut::<E, #f>(__db));
            let x = quote!(#v::images::<E, #c, #h, #w>(#input));
            let act = act_expr(*act);
            match pool {
                None => quote_spanned! {span=>
                    #k::activation::backward_in_place::<E, _>(&#out[..], #dout, #act);
                    #split
                    #k::conv2d::backward::<E, #g>(
                        #weights, #x,
                        #v::images::<E, #f, #oh, #ow>(&__gout[..__b * #out_len]),
                        #dw, #db, #dx,
                    );
                    #swap_after
                },
                Some(window) => {
                    let [wh, ww, qh, qw] =
                        [window.size.0, window.size.1, window.qh, window.qw].map(lit);
                    let argmax = format_ident!("{}_argmax", step.name);
                    quote_spanned! {span=>
                        #split
                        #k::conv2d::backward_max_pool::<E, _, #g, #wh, #ww, #qh, #qw>(
                            #weights, #x,
                            #v::images::<E, #f, #qh, #qw>(&#out[..]),
                            #v::images::<u32, #f, #qh, #qw>(&#argmax[..]),
                            #v::images::<E, #f, #qh, #qw>(&__gout[..__b * #out_len]),
                            #act, #dw, #db, #dx,
                        );
                        #swap_after
                    }
                }
            }
        }
        Op::MaxPool(geom) | Op::AvgPool(geom) => {
            if !has_src {
                return quote!();
            }
            let [c, h, w, oh, ow] = [geom.c, geom.h, geom.w, geom.oh, geom.ow].map(lit);
            let dy = quote!(#v::images::<E, #c, #oh, #ow>(&__gout[..__b * #out_len]));
            let dx = quote!(#v::images_mut::<E, #c, #h, #w>(&mut __gin[..__b * #in_len]));
            if matches!(step.op, Op::AvgPool(_)) {
                let g = pool_generics(geom);
                quote_spanned! {span=>
                    #k::pool2d::avg_backward::<E, #g>(#dy, #dx);
                    #swap_after
                }
            } else {
                let argmax = format_ident!("{}_argmax", step.name);
                quote_spanned! {span=>
                    #k::pool2d::max_backward::<E, #c, #h, #w, #oh, #ow>(
                        #v::images::<u32, #c, #oh, #ow>(&#argmax[..]), #dy, #dx,
                    );
                    #swap_after
                }
            }
        }
        Op::Act(act) => {
            if !has_src {
                return quote!();
            }
            let act = act_expr(*act);
            quote_spanned! {span=> #k::activation::backward_in_place::<E, _>(&#out[..], #dout, #act); }
        }
        Op::Prelu => {
            let (c, l) = channels_positions(step.input);
            let a_off = offset(plan, step, 0);
            let (a_off, a_end) = (lit(a_off), lit(a_off + c));
            let (c, l) = (lit(c), lit(l));
            let dx = if has_src {
                quote!(Some(#v::planes_mut::<E, #c, #l>(&mut __gin[..__b * #in_len])))
            } else {
                quote!(None)
            };
            quote_spanned! {span=>
                #k::prelu::backward::<E, #c, #l>(
                    #v::vector::<E, #c>(&p[#a_off..]),
                    #v::planes::<E, #c, #l>(#input),
                    #v::planes::<E, #c, #l>(&__gout[..__b * #out_len]),
                    #v::vector_mut::<E, #c>(&mut grads[#a_off..#a_end]),
                    #dx,
                );
                #swap_after
            }
        }
        Op::Softmax => {
            if !has_src {
                return quote!();
            }
            quote_spanned! {span=>
                #k::softmax::backward::<E, #out_len>(
                    #v::rows::<E, #out_len>(&#out[..]),
                    #v::rows::<E, #out_len>(&__gout[..__b * #out_len]),
                    #v::rows_mut::<E, #in_len>(&mut __gin[..__b * #in_len]),
                );
                #swap_after
            }
        }
        Op::Dropout(p) => {
            if !has_src {
                return quote!();
            }
            let id = lit(s);
            quote_spanned! {span=>
                #k::dropout::backward_in_place::<E, #out_len>(
                    #p, __ctx.seed, #id, __ctx.first_sample, #v::rows_mut::<E, #out_len>(#dout),
                );
            }
        }
        Op::BatchNorm { eps, .. } => {
            let (c, l) = channels_positions(step.input);
            // Tensors: γ, β, running mean, running variance, each `c` long
            // and consecutive.
            let (g_off, rm_off) = (offset(plan, step, 0), offset(plan, step, 2));
            let (g_end, stats_end) = (lit(g_off + 2 * c), lit(rm_off + 2 * c));
            let (g_off, rm_off) = (lit(g_off), lit(rm_off));
            let [xhat, mean, var] =
                ["xhat", "mean", "var"].map(|n| format_ident!("{}_{n}", step.name));
            let (cl, ll) = (lit(c), lit(l));
            let dx = if has_src {
                quote!(Some(#v::planes_mut::<E, #cl, #ll>(&mut __gin[..__b * #in_len])))
            } else {
                quote!(None)
            };
            quote_spanned! {span=>
                let __weight = __scale * <E as #rt::Scalar>::from_usize(__b);
                #k::batchnorm::stage(&mut grads[#rm_off..#stats_end], &#mean[..], &#var[..], __weight);
                let (__dgamma, __dbeta) = grads[#g_off..#g_end].split_at_mut(#cl);
                #k::batchnorm::backward::<E, #cl, #ll>(
                    #v::vector::<E, #cl>(&p[#g_off..]),
                    #v::vector::<E, #cl>(&#var[..]),
                    <E as #rt::Scalar>::from_f64(#eps),
                    #v::planes::<E, #cl, #ll>(&#xhat[..]),
                    #v::planes::<E, #cl, #ll>(&__gout[..__b * #out_len]),
                    #v::vector_mut::<E, #cl>(__dgamma),
                    #v::vector_mut::<E, #cl>(__dbeta),
                    #dx,
                );
                #swap_after
            }
        }
        Op::Alias => quote!(),
    }
}
