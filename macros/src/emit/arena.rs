//! The body of `predict_in` and `logits_in`: every step over the two halves
//! of the single-sample arena, elementwise steps in place, then the copy of
//! the final buffer into the returned output.

use proc_macro2::TokenStream;
use quote::quote;

use super::names::{self, Locals};
use super::ops::code;
use super::step::{Io, StepCx};
use super::tokens::{len, lit, rt};
use crate::plan::{Loc, Plan};

/// With `skip_last`, the last step (a final softmax or sigmoid) is left
/// out: the logits.
pub(crate) fn body(plan: &Plan, output_ty: &TokenStream, skip_last: bool) -> TokenStream {
    let (rt, e) = (rt(), names::elem());
    let Locals {
        params,
        x,
        arena_a,
        arena_b,
        ..
    } = Locals::new();
    let a_len = lit(plan.arena.a_len);
    let at = |loc: Loc, n: usize, mutable: bool| -> TokenStream {
        let n = lit(n);
        match (loc, mutable) {
            (Loc::Input, _) => quote!(&#x[..#n]),
            (Loc::A, false) => quote!(&#arena_a[..#n]),
            (Loc::A, true) => quote!(&mut #arena_a[..#n]),
            (Loc::B, false) => quote!(&#arena_b[..#n]),
            (Loc::B, true) => quote!(&mut #arena_b[..#n]),
        }
    };
    let mut steps = TokenStream::new();
    let mut cur = Loc::Input;
    let run = plan.steps.len() - usize::from(skip_last);
    for s in 0..run {
        let cx = StepCx::new(plan, s);
        if cx.step.op.is_view_at_inference() {
            continue;
        }
        let next = plan.arena.locs[s];
        let io = Io {
            input: at(cur, len(cx.step.input), false),
            output: at(next, len(cx.step.output), true),
            in_place: cur == next,
            batch: false,
        };
        steps.extend(code(&cx.step.op).forward(&cx, &io));
        cur = next;
    }
    let result = at(cur, len(plan.typed.output), false);
    quote! {
        let #params: &[#e] = #rt::Network::params(self);
        let #x: &[#e] = #rt::Tensor::as_flat(x);
        let (#arena_a, #arena_b) = arena.split_at_mut(#a_len);
        #steps
        let mut __out = <#output_ty as #rt::Tensor>::zeroed();
        #rt::Tensor::as_flat_mut(&mut __out).copy_from_slice(#result);
        __out
    }
}
