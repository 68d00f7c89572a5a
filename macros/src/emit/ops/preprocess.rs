//! `normalize` (per-channel statistics from the parameters) and `rescale`
//! (constants): elementwise, so they run in place in the arena, and their
//! backward scales the output gradient in place.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use crate::emit::names;
use crate::emit::step::{Io, OpCode, StepCx};
use crate::emit::tokens::{channels_positions, lit, rt, scalar};
use crate::layers::preprocess::Preprocess;

/// Tensors of `normalize`, each `c` long: mean, standard deviation.
const MEAN: usize = 0;
const STD: usize = 1;

impl OpCode for Preprocess {
    fn forward(&self, cx: &StepCx, io: &Io) -> TokenStream {
        let (rt, e, span) = (rt(), names::elem(), cx.span());
        let k = quote!(#rt::kernels::preprocess);
        let Io { input, output, .. } = io;
        match *self {
            Preprocess::Normalize => {
                let (c, l) = channels_positions(cx.step.input);
                let (mean, std) = (cx.param_vector(MEAN, c), cx.param_vector(STD, c));
                let (c, l) = (lit(c), lit(l));
                let planes = quote!(#rt::network::view::planes::<#e, #c, #l>);
                let planes_mut = quote!(#rt::network::view::planes_mut::<#e, #c, #l>);
                if io.in_place {
                    quote_spanned! {span=>
                        #k::normalize_in_place::<#e, #c, #l>(#mean, #std, #planes_mut(#output));
                    }
                } else {
                    quote_spanned! {span=>
                        #k::normalize::<#e, #c, #l>(#mean, #std, #planes(#input), #planes_mut(#output));
                    }
                }
            }
            Preprocess::Rescale { scale, offset } => {
                let (scale, offset) = (scalar(scale), scalar(offset));
                if io.in_place {
                    quote_spanned! {span=> #k::rescale_in_place::<#e>(#scale, #offset, #output); }
                } else {
                    quote_spanned! {span=> #k::rescale::<#e>(#scale, #offset, #input, #output); }
                }
            }
        }
    }

    fn backward(&self, cx: &StepCx) -> TokenStream {
        if !cx.has_src() {
            return quote!();
        }
        let (rt, e, span) = (rt(), names::elem(), cx.span());
        let k = quote!(#rt::kernels::preprocess);
        let dout = cx.gout_mut();
        match *self {
            Preprocess::Normalize => {
                let (c, l) = channels_positions(cx.step.input);
                let std = cx.param_vector(STD, c);
                let (c, l) = (lit(c), lit(l));
                quote_spanned! {span=>
                    #k::normalize_backward::<#e, #c, #l>(
                        #std, #rt::network::view::planes_mut::<#e, #c, #l>(#dout),
                    );
                }
            }
            Preprocess::Rescale { scale, .. } => {
                let scale = scalar(scale);
                quote_spanned! {span=> #k::rescale_backward::<#e>(#scale, #dout); }
            }
        }
    }
}
