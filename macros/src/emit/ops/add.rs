//! The residual add `act(main + skip)`, with the activation after the block
//! folded in. Backward applies the activation's derivative in place; how the
//! gradient then splits between the two paths is the pass's business
//! (`pass::backward`).

use proc_macro2::TokenStream;
use quote::quote_spanned;

use super::activation::act_expr;
use crate::emit::names;
use crate::emit::step::{Io, OpCode, StepCx};
use crate::emit::tokens::rt;
use crate::plan::AddOp;

impl OpCode for AddOp {
    fn forward(&self, cx: &StepCx, io: &Io) -> TokenStream {
        let (rt, e, span) = (rt(), names::elem(), cx.span());
        let act = act_expr(self.act);
        let Io { input, output, .. } = io;
        let skip = match &io.skip {
            Some(skip) => skip.clone(),
            None => cx.value(self.skip),
        };
        if io.in_place {
            quote_spanned! {span=> #rt::kernels::add::forward_in_place::<#e, _>(#output, #skip, #act); }
        } else {
            quote_spanned! {span=> #rt::kernels::add::forward::<#e, _>(#input, #skip, #output, #act); }
        }
    }

    fn backward(&self, cx: &StepCx) -> TokenStream {
        let (rt, e, span) = (rt(), names::elem(), cx.span());
        let (act, out, dout) = (act_expr(self.act), cx.out(), cx.gout_mut());
        quote_spanned! {span=>
            #rt::kernels::activation::backward_in_place::<#e, _>(&#out[..], #dout, #act);
        }
    }
}
