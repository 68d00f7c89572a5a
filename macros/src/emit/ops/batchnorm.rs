//! `batchnorm`: batch statistics in training, running averages at
//! inference. Backward stages the batch's `E[x]` and `E[x²]` in the running
//! statistics' gradient slots, weighted by the shard's share of the batch,
//! so shards sum to the whole batch's; `commit` folds them into the running
//! averages after the step.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use crate::emit::names;
use crate::emit::step::{Buffer, Io, OpCode, StepCx};
use crate::emit::tokens::{channels_positions, len, lit, rt, scalar};
use crate::layers::batchnorm::BatchNorm;

/// Tensors, each `c` long and consecutive: γ, β, running mean, running variance.
const GAMMA: usize = 0;
const RUNNING_MEAN: usize = 2;

impl OpCode for BatchNorm {
    fn buffers(&self, cx: &StepCx) -> Vec<Buffer> {
        let (c, _) = channels_positions(cx.step.input);
        let [xhat, mean, var] = names::batch_norm_saved(&cx.step.name);
        vec![
            Buffer {
                name: xhat,
                per_sample: len(cx.step.output),
                fixed: 0,
                index: false,
            },
            Buffer {
                name: mean,
                per_sample: 0,
                fixed: c,
                index: false,
            },
            Buffer {
                name: var,
                per_sample: 0,
                fixed: c,
                index: false,
            },
        ]
    }

    fn forward(&self, cx: &StepCx, io: &Io) -> TokenStream {
        let (rt, e, span) = (rt(), names::elem(), cx.span());
        let (c, l) = channels_positions(cx.step.input);
        let [gamma, beta, mean, var] = [0, 1, 2, 3].map(|t| cx.param_vector(t, c));
        let (c, l) = (lit(c), lit(l));
        let eps = scalar(self.eps);
        let Io { input, output, .. } = io;
        let planes = quote!(#rt::network::view::planes::<#e, #c, #l>);
        let planes_mut = quote!(#rt::network::view::planes_mut::<#e, #c, #l>);
        let eval = if io.in_place {
            quote! {
                #rt::kernels::batchnorm::forward_eval_in_place::<#e, #c, #l>(
                    #gamma, #beta, #mean, #var, #eps, #planes_mut(#output),
                )
            }
        } else {
            quote! {
                #rt::kernels::batchnorm::forward_eval::<#e, #c, #l>(
                    #gamma, #beta, #mean, #var, #eps, #planes(#input), #planes_mut(#output),
                )
            }
        };
        if !io.batch {
            return quote_spanned! {span=> #eval; };
        }
        let [xhat, bmean, bvar] = names::batch_norm_saved(&cx.step.name);
        let train = &cx.locals.train;
        quote_spanned! {span=>
            if #train.is_some() {
                #rt::kernels::batchnorm::forward_train::<#e, #c, #l>(
                    #gamma, #beta, #eps,
                    #planes(#input), #planes_mut(#output),
                    #planes_mut(&mut #xhat[..]),
                    #rt::network::view::vector_mut::<#e, #c>(&mut #bmean[..]),
                    #rt::network::view::vector_mut::<#e, #c>(&mut #bvar[..]),
                );
            } else {
                #eval;
            }
        }
    }

    fn backward(&self, cx: &StepCx) -> TokenStream {
        let (rt, e, span) = (rt(), names::elem(), cx.span());
        let (c, l) = channels_positions(cx.step.input);
        let (g_off, rm_off) = (cx.tensor(GAMMA).offset, cx.tensor(RUNNING_MEAN).offset);
        let (g_end, stats_end) = (lit(g_off + 2 * c), lit(rm_off + 2 * c));
        let (g_off, rm_off) = (lit(g_off), lit(rm_off));
        let [xhat, mean, var] = names::batch_norm_saved(&cx.step.name);
        let (cl, ll) = (lit(c), lit(l));
        let dx = cx.input_grad(quote!(#rt::network::view::planes_mut::<#e, #cl, #ll>));
        let eps = scalar(self.eps);
        let (p, grads, scale, batch) = (
            &cx.locals.params,
            &cx.locals.grads,
            &cx.locals.scale,
            &cx.locals.batch,
        );
        let (gout, swap) = (cx.gout(), cx.swap_after());
        quote_spanned! {span=>
            let __weight = #scale * <#e as #rt::Scalar>::from_usize(#batch);
            #rt::kernels::batchnorm::stage(&mut #grads[#rm_off..#stats_end], &#mean[..], &#var[..], __weight);
            let (__dgamma, __dbeta) = #grads[#g_off..#g_end].split_at_mut(#cl);
            #rt::kernels::batchnorm::backward::<#e, #cl, #ll>(
                #rt::network::view::vector::<#e, #cl>(&#p[#g_off..]),
                #rt::network::view::vector::<#e, #cl>(&#var[..]),
                #eps,
                #rt::network::view::planes::<#e, #cl, #ll>(&#xhat[..]),
                #rt::network::view::planes::<#e, #cl, #ll>(#gout),
                #rt::network::view::vector_mut::<#e, #cl>(__dgamma),
                #rt::network::view::vector_mut::<#e, #cl>(__dbeta),
                #dx,
            );
            #swap
        }
    }

    fn commit(&self, cx: &StepCx) -> TokenStream {
        let rt = rt();
        let (c, _) = channels_positions(cx.step.input);
        let start = cx.tensor(RUNNING_MEAN).offset;
        let (end, start) = (lit(start + 2 * c), lit(start));
        let momentum = scalar(self.momentum);
        let (p, stats) = (&cx.locals.params, &cx.locals.stats);
        quote! {
            #rt::kernels::batchnorm::commit(#momentum, &mut #p[#start..#end], &#stats[#start..#end]);
        }
    }
}
