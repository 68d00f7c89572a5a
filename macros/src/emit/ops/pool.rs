//! Max and average pooling that did not fold into a convolution.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use crate::emit::names;
use crate::emit::step::{Buffer, Io, OpCode, StepCx};
use crate::emit::tokens::{len, lit, rt};
use crate::layers::pool::{Geometry, Reduce};
use crate::plan::PoolOp;

/// `C, H, W, KH, KW, SH, SW, PH, PW, OH, OW` of a pool.
fn generics(g: &Geometry) -> TokenStream {
    let all = [
        g.c, g.h, g.w, g.size.0, g.size.1, g.stride.0, g.stride.1, g.pad.0, g.pad.1, g.oh, g.ow,
    ]
    .map(lit);
    quote!(#(#all),*)
}

impl OpCode for PoolOp {
    fn buffers(&self, cx: &StepCx) -> Vec<Buffer> {
        match self.reduce {
            Reduce::Max => vec![Buffer {
                name: names::argmax(&cx.step.name),
                per_sample: len(cx.step.output),
                fixed: 0,
                index: true,
            }],
            Reduce::Avg => Vec::new(),
        }
    }

    fn forward(&self, cx: &StepCx, io: &Io) -> TokenStream {
        let (rt, e, span) = (rt(), names::elem(), cx.span());
        let geom = &self.geom;
        let g = generics(geom);
        let [c, h, w, oh, ow] = [geom.c, geom.h, geom.w, geom.oh, geom.ow].map(lit);
        let Io { input, output, .. } = io;
        let x = quote!(#rt::network::view::images::<#e, #c, #h, #w>(#input));
        let y = quote!(#rt::network::view::images_mut::<#e, #c, #oh, #ow>(#output));
        match self.reduce {
            Reduce::Avg => {
                quote_spanned! {span=> #rt::kernels::pool2d::avg_forward::<#e, #g>(#x, #y); }
            }
            Reduce::Max => {
                let argmax = if io.batch {
                    let idx = names::argmax(&cx.step.name);
                    quote!(Some(#rt::network::view::images_mut::<u32, #c, #oh, #ow>(&mut #idx[..])))
                } else {
                    quote!(None)
                };
                quote_spanned! {span=> #rt::kernels::pool2d::max_forward::<#e, #g>(#x, #y, #argmax); }
            }
        }
    }

    fn backward(&self, cx: &StepCx) -> TokenStream {
        if !cx.has_src() {
            return quote!();
        }
        let (rt, e, span) = (rt(), names::elem(), cx.span());
        let geom = &self.geom;
        let [c, h, w, oh, ow] = [geom.c, geom.h, geom.w, geom.oh, geom.ow].map(lit);
        let gout = cx.gout();
        let gin = cx.gin_mut();
        let dy = quote!(#rt::network::view::images::<#e, #c, #oh, #ow>(#gout));
        let dx = quote!(#rt::network::view::images_mut::<#e, #c, #h, #w>(#gin));
        let swap = cx.swap_after();
        match self.reduce {
            Reduce::Avg => {
                let g = generics(geom);
                quote_spanned! {span=>
                    #rt::kernels::pool2d::avg_backward::<#e, #g>(#dy, #dx);
                    #swap
                }
            }
            Reduce::Max => {
                let argmax = names::argmax(&cx.step.name);
                quote_spanned! {span=>
                    #rt::kernels::pool2d::max_backward::<#e, #c, #h, #w, #oh, #ow>(
                        #rt::network::view::images::<u32, #c, #oh, #ow>(&#argmax[..]), #dy, #dx,
                    );
                    #swap
                }
            }
        }
    }
}
