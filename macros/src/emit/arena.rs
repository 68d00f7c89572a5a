//! The body of `predict_in` and `logits_in`: every step over the
//! single-sample arena at the offsets `plan::arena` chose, elementwise steps
//! in place, then the copy of the final value into the returned output.

use proc_macro2::{Ident, TokenStream};
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
    let Locals { params, x, .. } = Locals::new();
    let loc = |value: Option<usize>| value.map_or(Loc::Input, |s| plan.arena.locs[s]);
    let mut steps = TokenStream::new();
    let run = plan.steps.len() - usize::from(skip_last);
    for s in 0..run {
        let cx = StepCx::new(plan, s);
        let step = cx.step;
        if step.op.is_view_at_inference() {
            continue;
        }
        let (input, output) = (loc(step.src), plan.arena.locs[s]);
        let in_place = input == output;
        let skip = step.op.skip().map(|skip| (loc(skip), len(step.output)));
        let mut slots = Slots::default();
        let output_expr = slots.write(output, len(step.output));
        let input_expr = if in_place {
            quote!(&[])
        } else {
            slots.read(input, len(step.input))
        };
        let skip_expr = skip.map(|(at, n)| slots.read(at, n));
        let io = Io {
            input: input_expr,
            output: output_expr,
            in_place,
            skip: skip_expr,
            batch: false,
        };
        let call = code(&step.op).forward(&cx, &io);
        let split = slots.split();
        steps.extend(quote!({ #split #call }));
    }
    let last = if run == 0 {
        Loc::Input
    } else {
        loc(Some(run - 1))
    };
    let out_len = len(plan.typed.output);
    let result = match last {
        Loc::Input => {
            let out_len = lit(out_len);
            quote!(&#x[..#out_len])
        }
        Loc::At(offset) => {
            let (offset, end) = (lit(offset), lit(offset + out_len));
            quote!(&arena[#offset..#end])
        }
    };
    quote! {
        let #params: &[#e] = #rt::Network::params(self);
        let #x: &[#e] = #rt::Tensor::as_flat(x);
        #steps
        let mut __out = <#output_ty as #rt::Tensor>::zeroed();
        #rt::Tensor::as_flat_mut(&mut __out).copy_from_slice(#result);
        __out
    }
}

/// The arena slices one step uses, cut as disjoint borrows.
#[derive(Default)]
struct Slots {
    /// `(offset, len, name)` of each slice in the arena.
    cuts: Vec<(usize, usize, Ident)>,
}

impl Slots {
    fn add(&mut self, offset: usize, n: usize) -> Ident {
        let name = names::slot(self.cuts.len());
        self.cuts.push((offset, n, name.clone()));
        name
    }

    /// A slice the step writes.
    fn write(&mut self, at: Loc, n: usize) -> TokenStream {
        match at {
            Loc::At(offset) => {
                let name = self.add(offset, n);
                quote!(&mut #name[..])
            }
            // Never planned: outputs always live in the arena.
            Loc::Input => quote!(&mut []),
        }
    }

    /// A slice the step reads.
    fn read(&mut self, at: Loc, n: usize) -> TokenStream {
        match at {
            Loc::At(offset) => {
                let name = self.add(offset, n);
                quote!(&#name[..])
            }
            Loc::Input => {
                let (x, n) = (Locals::new().x, lit(n));
                quote!(&#x[..#n])
            }
        }
    }

    /// `let`s that cut the arena into the slices, in offset order.
    fn split(&self) -> TokenStream {
        let mut cuts: Vec<&(usize, usize, Ident)> = self.cuts.iter().collect();
        cuts.sort_by_key(|(offset, _, _)| *offset);
        let mut code = quote!(let __rest: &mut [_] = &mut arena[..];);
        let mut cursor = 0;
        for (offset, n, name) in cuts {
            let gap = lit(offset.saturating_sub(cursor));
            let n_lit = lit(*n);
            code.extend(quote! {
                let (_, __rest) = __rest.split_at_mut(#gap);
                let (#name, __rest) = __rest.split_at_mut(#n_lit);
            });
            cursor = offset + n;
        }
        quote!(#code let _ = __rest;)
    }
}
