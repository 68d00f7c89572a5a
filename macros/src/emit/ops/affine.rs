//! `affine` with its folded activation: `y = act(W x + b)`.

use proc_macro2::TokenStream;
use quote::quote_spanned;

use super::activation::act_expr;
use crate::emit::names;
use crate::emit::step::{Io, OpCode, StepCx};
use crate::emit::tokens::{len, rt};
use crate::plan::AffineOp;

impl OpCode for AffineOp {
    fn forward(&self, cx: &StepCx, io: &Io) -> TokenStream {
        let (rt, e, span) = (rt(), names::elem(), cx.span());
        let (in_len, out_len) = (cx.in_len(), cx.out_len());
        let p = &cx.locals.params;
        let act = act_expr(self.act);
        let w_off = cx.offset(0);
        let b = if self.bias {
            let b = cx.param_vector(1, len(cx.step.output));
            quote::quote!(Some(#b))
        } else {
            quote::quote!(None)
        };
        let Io { input, output, .. } = io;
        quote_spanned! {span=>
            #rt::kernels::affine::forward::<#e, _, #in_len, #out_len>(
                #rt::network::view::mat::<#e, #out_len, #in_len>(&#p[#w_off..]),
                #b,
                #rt::network::view::rows::<#e, #in_len>(#input),
                #rt::network::view::rows_mut::<#e, #out_len>(#output),
                #act,
            );
        }
    }

    fn backward(&self, cx: &StepCx) -> TokenStream {
        let (rt, e, span) = (rt(), names::elem(), cx.span());
        let (in_len, out_len) = (cx.in_len(), cx.out_len());
        let p = &cx.locals.params;
        let act = act_expr(self.act);
        let (split, dw, db) = cx.weight_bias_grads(self.bias);
        let db = match db {
            Some(db) => quote::quote!(Some(#rt::network::view::vector_mut::<#e, #out_len>(#db))),
            None => quote::quote!(None),
        };
        let w_off = cx.offset(0);
        let (out, input) = (cx.out(), cx.input());
        let (gout, dout) = (cx.gout(), cx.gout_mut());
        let dx = cx.input_grad(quote::quote!(#rt::network::view::rows_mut::<#e, #in_len>));
        let swap = cx.swap_after();
        quote_spanned! {span=>
            #rt::kernels::activation::backward_in_place::<#e, _>(&#out[..], #dout, #act);
            #split
            #rt::kernels::affine::backward::<#e, #in_len, #out_len>(
                #rt::network::view::mat::<#e, #out_len, #in_len>(&#p[#w_off..]),
                #rt::network::view::rows::<#e, #in_len>(#input),
                #rt::network::view::rows::<#e, #out_len>(#gout),
                #rt::network::view::mat_mut::<#e, #out_len, #in_len>(#dw),
                #db,
                #dx,
            );
            #swap
        }
    }
}
