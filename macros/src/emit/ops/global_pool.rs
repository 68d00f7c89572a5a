//! `global_avgpool` and `global_maxpool`: every channel to one value.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use crate::emit::names;
use crate::emit::step::{Buffer, Io, OpCode, StepCx};
use crate::emit::tokens::{lit, rt};
use crate::layers::pool::Reduce;
use crate::plan::GlobalPoolOp;

impl OpCode for GlobalPoolOp {
    fn buffers(&self, cx: &StepCx) -> Vec<Buffer> {
        match self.reduce {
            Reduce::Max => vec![Buffer {
                name: names::argmax(&cx.step.name),
                per_sample: self.channels,
                fixed: 0,
                index: true,
            }],
            Reduce::Avg => Vec::new(),
        }
    }

    fn forward(&self, cx: &StepCx, io: &Io) -> TokenStream {
        let (rt, e, span) = (rt(), names::elem(), cx.span());
        let (c, l) = (lit(self.channels), lit(self.positions));
        let Io { input, output, .. } = io;
        let x = quote!(#rt::network::view::planes::<#e, #c, #l>(#input));
        let y = quote!(#rt::network::view::rows_mut::<#e, #c>(#output));
        match self.reduce {
            Reduce::Avg => quote_spanned! {span=>
                #rt::kernels::pool2d::global_avg_forward::<#e, #c, #l>(#x, #y);
            },
            Reduce::Max => {
                let argmax = if io.batch {
                    let idx = names::argmax(&cx.step.name);
                    quote!(Some(#rt::network::view::rows_mut::<u32, #c>(&mut #idx[..])))
                } else {
                    quote!(None)
                };
                quote_spanned! {span=>
                    #rt::kernels::pool2d::global_max_forward::<#e, #c, #l>(#x, #y, #argmax);
                }
            }
        }
    }

    fn backward(&self, cx: &StepCx) -> TokenStream {
        if !cx.has_src() {
            return quote!();
        }
        let (rt, e, span) = (rt(), names::elem(), cx.span());
        let (c, l) = (lit(self.channels), lit(self.positions));
        let (gout, gin, swap) = (cx.gout(), cx.gin_mut(), cx.swap_after());
        let dy = quote!(#rt::network::view::rows::<#e, #c>(#gout));
        let dx = quote!(#rt::network::view::planes_mut::<#e, #c, #l>(#gin));
        match self.reduce {
            Reduce::Avg => quote_spanned! {span=>
                #rt::kernels::pool2d::global_avg_backward::<#e, #c, #l>(#dy, #dx);
                #swap
            },
            Reduce::Max => {
                let argmax = names::argmax(&cx.step.name);
                quote_spanned! {span=>
                    #rt::kernels::pool2d::global_max_backward::<#e, #c, #l>(
                        #rt::network::view::rows::<u32, #c>(&#argmax[..]), #dy, #dx,
                    );
                    #swap
                }
            }
        }
    }
}
