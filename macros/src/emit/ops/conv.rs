//! `conv`, `dwconv` and `conv1d` (a convolution of height 1) with the
//! activation folded into them and, when one follows and tiles their output,
//! a folded max pool (then only the pooled output and its argmax exist).

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use super::activation::act_expr;
use crate::emit::names;
use crate::emit::step::{Buffer, Io, OpCode, StepCx};
use crate::emit::tokens::{len, lit, rt};
use crate::layers::conv::Geometry;
use crate::plan::ConvOp;

/// `C, H, W, F, G, CG, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW`, as the
/// `conv2d` kernels take them.
fn generics(g: &Geometry) -> TokenStream {
    let all = [
        g.c,
        g.h,
        g.w,
        g.f,
        g.groups,
        g.c / g.groups,
        g.kernel.0,
        g.kernel.1,
        g.stride.0,
        g.stride.1,
        g.pad.0,
        g.pad.1,
        g.dilation.0,
        g.dilation.1,
        g.oh,
        g.ow,
    ]
    .map(lit);
    quote!(#(#all),*)
}

impl ConvOp {
    /// The weight view and the view of `input` as images.
    fn views(&self, cx: &StepCx, input: &TokenStream) -> (TokenStream, TokenStream) {
        let (rt, e) = (rt(), names::elem());
        let g = &self.geom;
        let [c, h, w, f, cg, kh, kw] =
            [g.c, g.h, g.w, g.f, g.c / g.groups, g.kernel.0, g.kernel.1].map(lit);
        let (p, w_off) = (&cx.locals.params, cx.offset(0));
        (
            quote!(#rt::network::view::kernel::<#e, #f, #cg, #kh, #kw>(&#p[#w_off..])),
            quote!(#rt::network::view::images::<#e, #c, #h, #w>(#input)),
        )
    }

    /// `Some(bias view)`, or `None` for `bias = false`.
    fn bias(&self, cx: &StepCx) -> TokenStream {
        if self.bias {
            let b = cx.param_vector(1, self.geom.f);
            quote!(Some(#b))
        } else {
            quote!(None)
        }
    }
}

impl OpCode for ConvOp {
    fn buffers(&self, cx: &StepCx) -> Vec<Buffer> {
        match self.pool {
            Some(_) => vec![Buffer {
                name: names::argmax(&cx.step.name),
                per_sample: len(cx.step.output),
                fixed: 0,
                index: true,
            }],
            None => Vec::new(),
        }
    }

    fn forward(&self, cx: &StepCx, io: &Io) -> TokenStream {
        let (rt, e, span) = (rt(), names::elem(), cx.span());
        let g = generics(&self.geom);
        let [f, oh, ow] = [self.geom.f, self.geom.oh, self.geom.ow].map(lit);
        let act = act_expr(self.act);
        let (weights, x) = self.views(cx, &io.input);
        let bias = self.bias(cx);
        let output = &io.output;
        match self.pool {
            None => quote_spanned! {span=>
                #rt::kernels::conv2d::forward::<#e, _, #g>(
                    #weights, #bias, #x, #rt::network::view::images_mut::<#e, #f, #oh, #ow>(#output), #act,
                );
            },
            Some(window) => {
                let [wh, ww, qh, qw] =
                    [window.size.0, window.size.1, window.qh, window.qw].map(lit);
                let argmax = if io.batch {
                    let idx = names::argmax(&cx.step.name);
                    quote!(Some(#rt::network::view::images_mut::<u32, #f, #qh, #qw>(&mut #idx[..])))
                } else {
                    quote!(None)
                };
                quote_spanned! {span=>
                    #rt::kernels::conv2d::forward_max_pool::<#e, _, #g, #wh, #ww, #qh, #qw>(
                        #weights, #bias, #x,
                        #rt::network::view::images_mut::<#e, #f, #qh, #qw>(#output),
                        #argmax,
                        #act,
                    );
                }
            }
        }
    }

    fn backward(&self, cx: &StepCx) -> TokenStream {
        let (rt, e, span) = (rt(), names::elem(), cx.span());
        let geom = &self.geom;
        let g = generics(geom);
        let [c, h, w, f, cg, kh, kw, oh, ow] = [
            geom.c,
            geom.h,
            geom.w,
            geom.f,
            geom.c / geom.groups,
            geom.kernel.0,
            geom.kernel.1,
            geom.oh,
            geom.ow,
        ]
        .map(lit);
        let (split, dw, db) = cx.weight_bias_grads(self.bias);
        let (weights, x) = self.views(cx, &cx.input());
        let dx = cx.input_grad(quote!(#rt::network::view::images_mut::<#e, #c, #h, #w>));
        let dw = quote!(#rt::network::view::kernel_mut::<#e, #f, #cg, #kh, #kw>(#dw));
        let db = match db {
            Some(db) => quote!(Some(#rt::network::view::vector_mut::<#e, #f>(#db))),
            None => quote!(None),
        };
        let act = act_expr(self.act);
        let (out, gout, dout) = (cx.out(), cx.gout(), cx.gout_mut());
        let swap = cx.swap_after();
        match self.pool {
            None => quote_spanned! {span=>
                #rt::kernels::activation::backward_in_place::<#e, _>(&#out[..], #dout, #act);
                #split
                #rt::kernels::conv2d::backward::<#e, #g>(
                    #weights, #x,
                    #rt::network::view::images::<#e, #f, #oh, #ow>(#gout),
                    #dw, #db, #dx,
                );
                #swap
            },
            Some(window) => {
                let [wh, ww, qh, qw] =
                    [window.size.0, window.size.1, window.qh, window.qw].map(lit);
                let argmax = names::argmax(&cx.step.name);
                quote_spanned! {span=>
                    #split
                    #rt::kernels::conv2d::backward_max_pool::<#e, _, #g, #wh, #ww, #qh, #qw>(
                        #weights, #x,
                        #rt::network::view::images::<#e, #f, #qh, #qw>(&#out[..]),
                        #rt::network::view::images::<u32, #f, #qh, #qw>(&#argmax[..]),
                        #rt::network::view::images::<#e, #f, #qh, #qw>(#gout),
                        #act, #dw, #db, #dx,
                    );
                    #swap
                }
            }
        }
    }
}
