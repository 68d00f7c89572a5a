//! `dropout(p)`: a view at inference; in training, a mask hashed from
//! `(seed, step, layer, sample, unit)`, so it does not depend on how a
//! batch is split across threads.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use crate::emit::names;
use crate::emit::step::{Io, OpCode, StepCx};
use crate::emit::tokens::{lit, rt};
use crate::layers::dropout::Dropout;

impl OpCode for Dropout {
    fn forward(&self, cx: &StepCx, io: &Io) -> TokenStream {
        if !io.batch {
            return quote!();
        }
        let (rt, e, span) = (rt(), names::elem(), cx.span());
        let (in_len, out_len) = (cx.in_len(), cx.out_len());
        let (p, id, train) = (self.p, lit(cx.index), &cx.locals.train);
        let Io { input, output, .. } = io;
        let x = quote!(#rt::network::view::rows::<#e, #in_len>(#input));
        let y = quote!(#rt::network::view::rows_mut::<#e, #out_len>(#output));
        quote_spanned! {span=>
            match #train {
                Some(ctx) => #rt::kernels::dropout::forward_train::<#e, #out_len>(
                    #p, ctx.seed, #id, ctx.first_sample, #x, #y,
                ),
                None => #rt::kernels::dropout::forward_eval::<#e, #out_len>(#x, #y),
            }
        }
    }

    fn backward(&self, cx: &StepCx) -> TokenStream {
        if !cx.has_src() {
            return quote!();
        }
        let (rt, e, span) = (rt(), names::elem(), cx.span());
        let out_len = cx.out_len();
        let (p, id, ctx) = (self.p, lit(cx.index), &cx.locals.ctx);
        let dout = cx.gout_mut();
        quote_spanned! {span=>
            #rt::kernels::dropout::backward_in_place::<#e, #out_len>(
                #p, #ctx.seed, #id, #ctx.first_sample, #rt::network::view::rows_mut::<#e, #out_len>(#dout),
            );
        }
    }
}
