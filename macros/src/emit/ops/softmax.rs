//! `softmax` over a flat vector. With cross-entropy the loss head takes the
//! logits instead (`pass::head`); this backward serves other losses.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use crate::emit::names;
use crate::emit::step::{Io, OpCode, StepCx};
use crate::emit::tokens::rt;

pub(crate) struct Softmax;

impl OpCode for Softmax {
    fn forward(&self, cx: &StepCx, io: &Io) -> TokenStream {
        let (rt, e, span) = (rt(), names::elem(), cx.span());
        let (in_len, out_len) = (cx.in_len(), cx.out_len());
        let Io { input, output, .. } = io;
        if io.in_place {
            quote_spanned! {span=>
                #rt::kernels::softmax::forward_in_place::<#e, #out_len>(
                    #rt::network::view::rows_mut::<#e, #out_len>(#output),
                );
            }
        } else {
            quote_spanned! {span=>
                #rt::kernels::softmax::forward::<#e, #out_len>(
                    #rt::network::view::rows::<#e, #in_len>(#input),
                    #rt::network::view::rows_mut::<#e, #out_len>(#output),
                );
            }
        }
    }

    fn backward(&self, cx: &StepCx) -> TokenStream {
        if !cx.has_src() {
            return quote!();
        }
        let (rt, e, span) = (rt(), names::elem(), cx.span());
        let (in_len, out_len) = (cx.in_len(), cx.out_len());
        let (out, gout, gin, swap) = (cx.out(), cx.gout(), cx.gin_mut(), cx.swap_after());
        quote_spanned! {span=>
            #rt::kernels::softmax::backward::<#e, #out_len>(
                #rt::network::view::rows::<#e, #out_len>(&#out[..]),
                #rt::network::view::rows::<#e, #out_len>(#gout),
                #rt::network::view::rows_mut::<#e, #in_len>(#gin),
            );
            #swap
        }
    }
}
