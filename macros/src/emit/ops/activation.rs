//! A standalone elementwise activation (one that did not fold into the
//! affine or convolution before it), and the runtime value of every
//! activation, folded or not.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use crate::emit::step::{Io, OpCode, StepCx};
use crate::emit::tokens::{rt, scalar};
use crate::layers::activation::{Act, InputAct};

/// The `kernels::activation` value of `act`.
pub(crate) fn act_expr(act: Act) -> TokenStream {
    let rt = rt();
    let a = quote!(#rt::kernels::activation);
    match act {
        Act::Relu => quote!(#a::Relu),
        Act::Relu6 => quote!(#a::Relu6),
        Act::LeakyRelu(alpha) => {
            let alpha = scalar(alpha);
            quote!(#a::LeakyRelu(#alpha))
        }
        Act::Elu(alpha) => {
            let alpha = scalar(alpha);
            quote!(#a::Elu(#alpha))
        }
        Act::Sigmoid => quote!(#a::Sigmoid),
        Act::Tanh => quote!(#a::Tanh),
        Act::Step => quote!(#a::Step),
        Act::Identity => quote!(#a::Identity),
        Act::HardSigmoid => quote!(#a::HardSigmoid),
    }
}

/// The `kernels::activation` value of an activation that needs its input.
fn input_act_expr(act: InputAct) -> TokenStream {
    let rt = rt();
    let a = quote!(#rt::kernels::activation);
    match act {
        InputAct::Silu => quote!(#a::Silu),
        InputAct::Gelu => quote!(#a::Gelu),
        InputAct::HardSwish => quote!(#a::HardSwish),
    }
}

impl OpCode for InputAct {
    fn forward(&self, cx: &StepCx, io: &Io) -> TokenStream {
        let (rt, span) = (rt(), cx.span());
        let act = input_act_expr(*self);
        let Io { input, output, .. } = io;
        if io.in_place {
            quote_spanned! {span=> #rt::kernels::activation::forward_input_in_place::<_, _>(#output, #act); }
        } else {
            quote_spanned! {span=> #rt::kernels::activation::forward_input::<_, _>(#input, #output, #act); }
        }
    }

    fn backward(&self, cx: &StepCx) -> TokenStream {
        if !cx.has_src() {
            return quote!();
        }
        let (rt, span) = (rt(), cx.span());
        let act = input_act_expr(*self);
        let (input, gout, gin, swap) = (cx.input(), cx.gout(), cx.gin_mut(), cx.swap_after());
        quote_spanned! {span=>
            #rt::kernels::activation::backward_input::<_, _>(#input, #gout, #gin, #act);
            #swap
        }
    }
}

impl OpCode for Act {
    fn forward(&self, cx: &StepCx, io: &Io) -> TokenStream {
        let (rt, span) = (rt(), cx.span());
        let act = act_expr(*self);
        let Io { input, output, .. } = io;
        if io.in_place {
            quote_spanned! {span=> #rt::kernels::activation::forward_in_place::<_, _>(#output, #act); }
        } else {
            quote_spanned! {span=> #rt::kernels::activation::forward::<_, _>(#input, #output, #act); }
        }
    }

    fn backward(&self, cx: &StepCx) -> TokenStream {
        if !cx.has_src() {
            return quote!();
        }
        let (rt, span) = (rt(), cx.span());
        let (act, out, dout) = (act_expr(*self), cx.out(), cx.gout_mut());
        quote_spanned! {span=>
            #rt::kernels::activation::backward_in_place::<_, _>(&#out[..], #dout, #act);
        }
    }
}
