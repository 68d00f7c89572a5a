//! The training API of a trainable network: the `Trainable` impl over the
//! batched pass, and the heap-free `train_step_fixed`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use super::item::Item;
use super::names::{self, Locals};
use super::ops::code;
use super::step::StepCx;
use super::tokens::core;
use crate::diag;
use crate::vocab::Loss;

/// The `Trainable` impl.
pub(crate) fn trainable_impl(it: &Item) -> TokenStream {
    let Item {
        rt,
        name,
        impl_attrs,
        generics,
        input_ty,
        output_ty,
        ..
    } = it;
    let core = core();
    let (e, s) = (names::elem(), names::storage());
    let loss = match it.plan.typed.loss {
        Loss::CrossEntropy => quote!(SoftmaxCrossEntropy),
        Loss::BinaryCrossEntropy => quote!(SigmoidBinaryCrossEntropy),
        Loss::MeanSquaredError => quote!(MeanSquaredError),
    };
    let Locals { params, stats, .. } = Locals::new();
    let commit: TokenStream = (0..it.plan.steps.len())
        .map(|s| {
            let cx = StepCx::new(it.plan, s);
            code(&cx.step.op).commit(&cx)
        })
        .collect();
    quote! {
        #impl_attrs
        impl #generics #rt::Trainable for #name<#e, #s> {
            const LOSS: #rt::loss::LossKind = #rt::loss::LossKind::#loss;

            fn forward_loss<__T: #rt::loss::Target<#output_ty>>(
                &self,
                xs: &[#input_ty],
                ts: &[__T],
                ws: &mut #rt::Workspace<'_, #e>,
                ctx: #rt::StepCtx,
            ) -> #e {
                self.__pass(xs, Some(ts), ws, Some(ctx), None, None)
            }

            fn forward_backward<__T: #rt::loss::Target<#output_ty>>(
                &self,
                xs: &[#input_ty],
                ts: &[__T],
                ws: &mut #rt::Workspace<'_, #e>,
                grads: &mut [#e],
                ctx: #rt::StepCtx,
                outputs: #core::option::Option<&mut [#output_ty]>,
            ) -> #e {
                self.__pass(xs, Some(ts), ws, Some(ctx), Some(grads), outputs)
            }

            fn evaluate<__T: #rt::loss::Target<#output_ty>>(
                &self,
                xs: &[#input_ty],
                ts: &[__T],
                ws: &mut #rt::Workspace<'_, #e>,
                outputs: &mut [#output_ty],
            ) -> #e {
                self.__pass(xs, Some(ts), ws, None, None, Some(outputs))
            }

            #[allow(unused_variables)]
            fn commit_statistics(&mut self, #stats: &[#e]) {
                let #params: &mut [#e] = #rt::Network::params_mut(self);
                #commit
            }
        }
    }
}

/// `train_step_fixed`: a heap-free step whose buffer sizes are checked at
/// compile time against the batch size.
pub(crate) fn fixed_step(it: &Item) -> TokenStream {
    let Item {
        rt,
        name,
        name_str,
        impl_attrs,
        generics,
        input_ty,
        output_ty,
        ..
    } = it;
    let core = core();
    let (e, s) = (names::elem(), names::storage());
    let msg = diag::fixed_workspace_too_small(name_str);
    // As for the arena check: no `G >= 0` when the network has no parameters.
    let grads = (it.plan.typed.store_len > 0).then(|| quote!(&&G >= Self::STORE_LEN));
    let check = quote_spanned! {name.span()=>
        const { assert!(W >= Self::workspace_len(B) && I >= Self::index_len(B) #grads, #msg) };
    };
    quote! {
        #impl_attrs
        impl #generics #name<#e, #s> {
            /// One training step over a batch of `B` samples in fixed-size
            /// buffers: no heap, no threads. A workspace too small for `B`
            /// is a compile error. Dropout masks derive from `seed`.
            ///
            /// # Errors
            /// When an input, target, the loss, a gradient or the update
            /// would be NaN or infinite, or the batch is empty; the network
            /// and the optimizer keep the state they had then.
            pub fn train_step_fixed<__T, __O, const B: usize, const W: usize, const I: usize, const G: usize>(
                &mut self,
                xs: &[#input_ty; B],
                ts: &[__T; B],
                ws: &mut #rt::FixedWorkspace<#e, W, I, G>,
                opt: &mut __O,
                seed: u64,
            ) -> #core::result::Result<f64, #rt::train::fixed::NonFinite>
            where
                __T: #rt::loss::Target<#output_ty>,
                __O: #rt::optim::Optimizer<#e>,
            {
                #check
                #rt::train::fixed::step(self, xs, ts, ws, opt, seed)
            }
        }
    }
}
