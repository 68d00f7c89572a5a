//! `prelu`: a learned slope per channel (per feature after a flat layer).

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use crate::emit::names;
use crate::emit::step::{Io, OpCode, StepCx};
use crate::emit::tokens::{channels_positions, lit, rt};

pub(crate) struct Prelu;

impl OpCode for Prelu {
    fn forward(&self, cx: &StepCx, io: &Io) -> TokenStream {
        let (rt, e, span) = (rt(), names::elem(), cx.span());
        let (c, l) = channels_positions(cx.step.input);
        let alpha = cx.param_vector(0, c);
        let (c, l) = (lit(c), lit(l));
        let Io { input, output, .. } = io;
        if io.in_place {
            quote_spanned! {span=>
                #rt::kernels::prelu::forward_in_place::<#e, #c, #l>(
                    #alpha, #rt::network::view::planes_mut::<#e, #c, #l>(#output),
                );
            }
        } else {
            quote_spanned! {span=>
                #rt::kernels::prelu::forward::<#e, #c, #l>(
                    #alpha,
                    #rt::network::view::planes::<#e, #c, #l>(#input),
                    #rt::network::view::planes_mut::<#e, #c, #l>(#output),
                );
            }
        }
    }

    fn backward(&self, cx: &StepCx) -> TokenStream {
        let (rt, e, span) = (rt(), names::elem(), cx.span());
        let (c, l) = channels_positions(cx.step.input);
        let a_off = cx.tensor(0).offset;
        let (a_off, a_end) = (lit(a_off), lit(a_off + c));
        let (c, l) = (lit(c), lit(l));
        let (p, grads) = (&cx.locals.params, &cx.locals.grads);
        let dx = cx.input_grad(quote!(#rt::network::view::planes_mut::<#e, #c, #l>));
        let (input, gout, swap) = (cx.input(), cx.gout(), cx.swap_after());
        quote_spanned! {span=>
            #rt::kernels::prelu::backward::<#e, #c, #l>(
                #rt::network::view::vector::<#e, #c>(&#p[#a_off..]),
                #rt::network::view::planes::<#e, #c, #l>(#input),
                #rt::network::view::planes::<#e, #c, #l>(#gout),
                #rt::network::view::vector_mut::<#e, #c>(&mut #grads[#a_off..#a_end]),
                #dx,
            );
            #swap
        }
    }
}
