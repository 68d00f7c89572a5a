//! The generated type and its inherent API: the struct, `Clone` and
//! `Debug`, the shape consts, constructors, parameters by name, inference,
//! and the inline storage's `const` constructors.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use super::arena;
use super::item::Item;
use super::meta;
use super::names;
use super::tokens::{core, lit};
use crate::diag;

/// The struct with the user's attributes (once) and the shape trace.
pub(crate) fn type_item(it: &Item) -> TokenStream {
    let Item {
        rt,
        name,
        name_str,
        impl_attrs,
        generics,
        store_len,
        param_count,
        ..
    } = it;
    let core = core();
    let (e, s) = (names::elem(), names::storage());
    let header = &it.plan.typed.net.header;
    // `lower` admitted only derives of what is implemented below.
    let attrs = header.attrs.iter().filter(|a| !a.path().is_ident("derive"));
    let vis = &header.vis;
    let docs = meta::docs(it.plan.typed);
    quote! {
        #(#attrs)*
        #docs
        #vis struct #name<#e: #rt::Scalar = f32, #s: #rt::Storage = #rt::DefaultStorage> {
            params: <#s as #rt::Storage>::Buf<#e, #store_len>,
        }

        #impl_attrs
        impl #generics #core::clone::Clone for #name<#e, #s> {
            fn clone(&self) -> Self {
                Self { params: #core::clone::Clone::clone(&self.params) }
            }
        }

        #impl_attrs
        impl #generics #core::fmt::Debug for #name<#e, #s> {
            fn fmt(&self, f: &mut #core::fmt::Formatter<'_>) -> #core::fmt::Result {
                f.debug_struct(#name_str)
                    .field("params", &#param_count)
                    .finish_non_exhaustive()
            }
        }
    }
}

/// Shape consts, construction and parameters by name.
pub(crate) fn constructors(it: &Item) -> TokenStream {
    let Item {
        rt,
        name,
        impl_attrs,
        generics,
        store_len,
        param_count,
        input_len,
        output_len,
        arena_len,
        ..
    } = it;
    let core = core();
    let (e, s) = (names::elem(), names::storage());
    let input = it.plan.typed.net.input;
    let input_dims = input.dims().into_iter().map(lit);
    let input_rank = lit(input.dims().len());
    quote! {
        #impl_attrs
        impl #generics #name<#e, #s> {
            /// Input shape as declared: `[features]` or `[channels, height, width]`.
            pub const INPUT_SHAPE: [usize; #input_rank] = [#(#input_dims),*];
            /// Elements in one input sample.
            pub const INPUT_LEN: usize = #input_len;
            /// Elements in one output.
            pub const OUTPUT_LEN: usize = #output_len;
            /// Trainable parameters.
            pub const PARAM_COUNT: usize = #param_count;
            /// Elements of the flat parameter array (trainable parameters and
            /// batch-norm running statistics).
            pub const STORE_LEN: usize = #store_len;
            /// Bytes of the flat parameter array.
            pub const PARAM_BYTES: usize = #store_len * #core::mem::size_of::<#e>();
            /// Elements of the inference arena: two halves that the steps
            /// write in turn (elementwise steps in place), each as long as the
            /// largest output written to it.
            pub const ARENA_LEN: usize = #arena_len;
            /// Bytes of the inference arena.
            pub const ARENA_BYTES: usize = #arena_len * #core::mem::size_of::<#e>();

            /// A network with every parameter zero.
            pub fn zeroed() -> Self {
                Self { params: <#s as #rt::Storage>::zeroed::<#e, #store_len>() }
            }

            /// A network initialized from `rng`: He for layers feeding the
            /// ReLU family, Xavier otherwise, biases zero (unless the
            /// declaration chose other initializers).
            pub fn from_rng<R: #rt::rand::Rng + ?Sized>(rng: &mut R) -> Self {
                let mut net = Self::zeroed();
                #rt::init::init_all(
                    #rt::Network::params_mut(&mut net),
                    <Self as #rt::Network>::TENSORS,
                    rng,
                );
                net
            }

            /// A network initialized from a seeded generator (see [`Self::from_rng`]).
            pub fn seeded(seed: u64) -> Self {
                Self::from_rng(&mut <#rt::rand::rngs::StdRng as #rt::rand::SeedableRng>::seed_from_u64(seed))
            }

            /// The values of the parameter tensor called `name` (`conv1.weight`),
            /// in PyTorch layout.
            pub fn tensor(&self, name: &str) -> #core::option::Option<&[#e]> {
                #rt::network::params::tensor(self, name)
            }

            /// The values of the parameter tensor called `name`, mutable.
            pub fn tensor_mut(&mut self, name: &str) -> #core::option::Option<&mut [#e]> {
                #rt::network::params::tensor_mut(self, name)
            }

            /// Overwrites the parameter tensor called `name`.
            ///
            /// # Errors
            /// If no tensor has that name or `values` has the wrong length.
            pub fn set_tensor(
                &mut self,
                name: &str,
                values: &[#e],
            ) -> #core::result::Result<(), #rt::network::params::SetTensorError> {
                #rt::network::params::set_tensor(self, name, values)
            }
        }
    }
}

/// Single-sample inference in an arena, logits, batches and the summary.
pub(crate) fn inference(it: &Item) -> TokenStream {
    let Item {
        rt,
        name,
        name_str,
        impl_attrs,
        generics,
        input_ty,
        output_ty,
        arena_len,
        ..
    } = it;
    let (e, s) = (names::elem(), names::storage());
    let plan = it.plan;
    let arena_body = arena::body(plan, output_ty, false);
    // The check fails only for a caller's arena, after monomorphization;
    // spanning it at the network's name keeps rustc from underlining the
    // whole macro call (its "instantiating" note points at the caller).
    let arena_msg = diag::arena_too_small(name_str, plan.arena.len);
    // Spanned at the user's tokens, the check is linted as user code: a
    // network needing no arena must not emit clippy's absurd `A >= 0`.
    let arena_check = (plan.arena.len > 0).then(|| {
        quote_spanned! {name.span()=>
            const { assert!(A >= #arena_len, #arena_msg) };
        }
    });
    let logits = plan.ends_in_squash().then(|| {
        let body = arena::body(plan, output_ty, true);
        quote! {
            /// The inputs of the final softmax or sigmoid for one sample (the
            /// logits), in inference mode. Allocates nothing.
            pub fn logits(&self, x: &#input_ty) -> #output_ty {
                let mut arena = [<#e as #rt::Scalar>::ZERO; #arena_len];
                self.logits_in(x, &mut arena)
            }

            /// [`Self::logits`] in a caller-provided arena of at least `ARENA_LEN`.
            pub fn logits_in<const A: usize>(&self, x: &#input_ty, arena: &mut [#e; A]) -> #output_ty {
                #arena_check
                #body
            }
        }
    });
    quote! {
        #impl_attrs
        impl #generics #name<#e, #s> {
            /// Runs one sample in inference mode. Allocates nothing: the
            /// arena of `ARENA_BYTES` lives on the stack.
            pub fn predict(&self, x: &#input_ty) -> #output_ty {
                let mut arena = [<#e as #rt::Scalar>::ZERO; #arena_len];
                self.predict_in(x, &mut arena)
            }

            /// Runs one sample in inference mode in a caller-provided arena.
            /// An arena smaller than `ARENA_LEN` is a compile error.
            pub fn predict_in<const A: usize>(&self, x: &#input_ty, arena: &mut [#e; A]) -> #output_ty {
                #arena_check
                #arena_body
            }

            #logits

            /// Runs a batch in inference mode (in parallel with `std`).
            ///
            /// # Panics
            /// If `ys` is not as long as `xs`.
            pub fn predict_batch(&self, xs: &[#input_ty], ys: &mut [#output_ty]) {
                #rt::inference::predict_batch(self, xs, ys)
            }

            /// The layer table: output shapes and parameter counts.
            pub fn summary(&self) -> #rt::network::summary::Summary<Self> {
                #rt::network::summary::Summary::new()
            }
        }
    }
}

/// Constructors of the inline storage: zeros, and a parameter file in a
/// `const` context.
pub(crate) fn storage(it: &Item) -> TokenStream {
    let Item {
        rt,
        name,
        impl_attrs,
        store_len,
        ..
    } = it;
    let e = names::elem();
    quote! {
        #impl_attrs
        impl<#e: #rt::Scalar> #name<#e, #rt::Inline> {
            /// A network with every parameter zero, usable in a `static`.
            pub const fn zeroed_inline() -> Self {
                Self { params: [<#e as #rt::Scalar>::ZERO; #store_len] }
            }
        }

        #impl_attrs
        impl #name<f32, #rt::Inline> {
            /// Builds the network from a parameter file (`persist::to_bytes`),
            /// in a `const` context: `static NET: Net<f32, Inline> =
            /// Net::from_le_bytes(include_bytes!("net.cnet"));`.
            ///
            /// # Panics
            /// If the file is not an intact constnet parameter file (format
            /// version 2, checksum matching) of this exact architecture
            /// (`SIGNATURE`) with `f32` elements; in a `static` this is a
            /// compile error naming the fault.
            pub const fn from_le_bytes(bytes: &[u8]) -> Self {
                Self {
                    params: #rt::persist::bytes::decode_f32::<#store_len>(bytes, <Self as #rt::Network>::SIGNATURE),
                }
            }
        }
    }
}
