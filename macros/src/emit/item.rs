//! The generated type: struct, rustdoc with the shape trace, associated
//! consts, constructors, inference, and the `Network` and `Trainable` impls.

use proc_macro2::{Literal, TokenStream};
use quote::{quote, quote_spanned};

use super::forward::{arena, len};
use super::pass::{Layout, pass};
use super::{fnv1a, lit, rt, sample_type};
use crate::diag;
use crate::infer::{TensorInit, TypedNetwork};
use crate::layers::Role;
use crate::model::{Init, Loss};
use crate::plan::Plan;

/// Tokens and sizes every generated item refers to.
struct Names<'a> {
    plan: &'a Plan<'a>,
    rt: TokenStream,
    core: TokenStream,
    name: &'a syn::Ident,
    name_str: String,
    cfgs: TokenStream,
    input_ty: TokenStream,
    output_ty: TokenStream,
    store_len: Literal,
    param_count: Literal,
    input_len: Literal,
    output_len: Literal,
    arena_len: Literal,
}

impl<'a> Names<'a> {
    fn of(plan: &'a Plan<'a>) -> Self {
        let typed = plan.typed;
        let net = typed.net;
        let e = quote!(E);
        Names {
            plan,
            rt: rt(),
            core: quote!(::constnet::__private::core),
            name: &net.header.name,
            name_str: net.header.name.to_string(),
            cfgs: cfg_attrs(plan),
            input_ty: sample_type(net.input, &e),
            output_ty: sample_type(typed.output, &e),
            store_len: lit(typed.store_len),
            param_count: lit(typed.param_count),
            input_len: lit(len(net.input)),
            output_len: lit(len(typed.output)),
            arena_len: lit(plan.arena.len()),
        }
    }
}

pub(crate) fn network(plan: &Plan) -> TokenStream {
    let n = Names::of(plan);
    let items = [
        type_item(&n),
        constructors(&n),
        inference(&n),
        sizes(&n),
        storage(&n),
        network_impl(&n),
    ];
    let trainable = plan
        .trainable
        .then(|| trainable_impl(plan, &n.output_ty, &n.input_ty));
    let fixed = plan
        .trainable
        .then(|| fixed_step(plan, &n.output_ty, &n.input_ty));
    quote!(#(#items)* #trainable #fixed)
}

/// The struct with its docs, `Clone` and `Debug`.
fn type_item(n: &Names) -> TokenStream {
    let Names {
        rt,
        core,
        name,
        name_str,
        cfgs,
        store_len,
        param_count,
        ..
    } = n;
    let header = &n.plan.typed.net.header;
    let (attrs, vis) = (&header.attrs, &header.vis);
    let docs = docs(n.plan.typed);
    quote! {
        #(#attrs)*
        #(#attrs)*
        #docs
        #vis struct #name<E: #rt::Scalar = f32, S: #rt::Storage = #rt::DefaultStorage> {
            params: <S as #rt::Storage>::Buf<E, #store_len>,
        }

        #cfgs
        impl<E: #rt::Scalar, S: #rt::Storage> #core::clone::Clone for #name<E, S> {
            fn clone(&self) -> Self {
                Self { params: #core::clone::Clone::clone(&self.params) }
            }
        }

        #cfgs
        impl<E: #rt::Scalar, S: #rt::Storage> #core::fmt::Debug for #name<E, S> {
            fn fmt(&self, f: &mut #core::fmt::Formatter<'_>) -> #core::fmt::Result {
                f.debug_struct(#name_str)
                    .field("params", &#param_count)
                    .finish_non_exhaustive()
            }
        }

    }
}

/// Shape consts, construction and parameters by name.
fn constructors(n: &Names) -> TokenStream {
    let Names {
        rt,
        core,
        name,
        cfgs,
        store_len,
        param_count,
        input_len,
        output_len,
        arena_len,
        ..
    } = n;
    let input = n.plan.typed.net.input;
    let input_dims = input.dims().into_iter().map(lit);
    let input_rank = lit(input.dims().len());
    quote! {
        #cfgs
        impl<E: #rt::Scalar, S: #rt::Storage> #name<E, S> {
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
            pub const PARAM_BYTES: usize = #store_len * #core::mem::size_of::<E>();
            /// Elements of the inference arena: two halves that the steps
            /// write in turn (elementwise steps in place), each as long as the
            /// largest output written to it.
            pub const ARENA_LEN: usize = #arena_len;
            /// Bytes of the inference arena.
            pub const ARENA_BYTES: usize = #arena_len * #core::mem::size_of::<E>();

            /// A network with every parameter zero.
            pub fn zeroed() -> Self {
                Self { params: <S as #rt::Storage>::zeroed::<E, #store_len>() }
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
            pub fn tensor(&self, name: &str) -> #core::option::Option<&[E]> {
                #rt::network::params::tensor(self, name)
            }

            /// The values of the parameter tensor called `name`, mutable.
            pub fn tensor_mut(&mut self, name: &str) -> #core::option::Option<&mut [E]> {
                #rt::network::params::tensor_mut(self, name)
            }

            /// Overwrites the parameter tensor called `name`.
            ///
            /// # Errors
            /// If no tensor has that name or `values` has the wrong length.
            pub fn set_tensor(
                &mut self,
                name: &str,
                values: &[E],
            ) -> #core::result::Result<(), #rt::network::params::SetTensorError> {
                #rt::network::params::set_tensor(self, name, values)
            }

        }
    }
}

/// Single-sample inference in an arena, logits, batches and the summary.
fn inference(n: &Names) -> TokenStream {
    let Names {
        rt,
        name,
        name_str,
        cfgs,
        input_ty,
        output_ty,
        arena_len,
        ..
    } = n;
    let plan = n.plan;
    let arena_body = arena(plan, output_ty, false);
    // The check fails only for a caller's arena, after monomorphization;
    // spanning it at the network's name keeps rustc from underlining the
    // whole macro call (its "instantiating" note points at the caller).
    let arena_msg = diag::arena_too_small(name_str, plan.arena.len());
    // Spanned at the user's tokens, the check is linted as user code: a
    // network needing no arena must not emit clippy's absurd `A >= 0`.
    let arena_check = (plan.arena.len() > 0).then(|| {
        quote_spanned! {name.span()=>
            const { assert!(A >= #arena_len, #arena_msg) };
        }
    });
    let logits = plan.ends_in_squash().then(|| {
        let body = arena(plan, output_ty, true);
        quote! {
            /// The inputs of the final softmax or sigmoid for one sample (the
            /// logits), in inference mode. Allocates nothing.
            pub fn logits(&self, x: &#input_ty) -> #output_ty {
                let mut arena = [<E as #rt::Scalar>::ZERO; #arena_len];
                self.logits_in(x, &mut arena)
            }

            /// [`Self::logits`] in a caller-provided arena of at least `ARENA_LEN`.
            pub fn logits_in<const A: usize>(&self, x: &#input_ty, arena: &mut [E; A]) -> #output_ty {
                #arena_check
                #body
            }
        }
    });
    quote! {
        #cfgs
        impl<E: #rt::Scalar, S: #rt::Storage> #name<E, S> {
            /// Runs one sample in inference mode. Allocates nothing: the
            /// arena of `ARENA_BYTES` lives on the stack.
            pub fn predict(&self, x: &#input_ty) -> #output_ty {
                let mut arena = [<E as #rt::Scalar>::ZERO; #arena_len];
                self.predict_in(x, &mut arena)
            }

            /// Runs one sample in inference mode in a caller-provided arena.
            /// An arena smaller than `ARENA_LEN` is a compile error.
            pub fn predict_in<const A: usize>(&self, x: &#input_ty, arena: &mut [E; A]) -> #output_ty {
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

/// Workspace sizes and the batched pass.
fn sizes(n: &Names) -> TokenStream {
    let Names {
        rt,
        core,
        name,
        cfgs,
        store_len,
        ..
    } = n;
    let layout = Layout::of(n.plan);
    let (data_per, data_fixed) = layout.data_len();
    let (index_per, index_fixed) = layout.index_len();
    let [data_per, data_fixed, index_per, index_fixed] =
        [data_per, data_fixed, index_per, index_fixed].map(lit);
    let pass = pass(n.plan);
    quote! {
        #cfgs
        impl<E: #rt::Scalar, S: #rt::Storage> #name<E, S> {
            /// Scalars of workspace a batch of `batch` samples needs.
            pub const fn workspace_len(batch: usize) -> usize {
                batch * #data_per + #data_fixed
            }

            /// Argmax slots of workspace a batch of `batch` samples needs.
            pub const fn index_len(batch: usize) -> usize {
                batch * #index_per + #index_fixed
            }

            /// Bytes of training workspace for a batch of `batch` samples,
            /// parameter gradients included.
            pub const fn train_workspace_bytes(batch: usize) -> usize {
                (Self::workspace_len(batch) + #store_len) * #core::mem::size_of::<E>()
                    + Self::index_len(batch) * #core::mem::size_of::<u32>()
            }

            #pass
        }
    }
}

/// Constructors of the inline storage: zeros, and a parameter file in a
/// `const` context.
fn storage(n: &Names) -> TokenStream {
    let Names {
        rt,
        name,
        cfgs,
        store_len,
        ..
    } = n;
    quote! {
        #cfgs
        impl<E: #rt::Scalar> #name<E, #rt::Inline> {
            /// A network with every parameter zero, usable in a `static`.
            pub const fn zeroed_inline() -> Self {
                Self { params: [<E as #rt::Scalar>::ZERO; #store_len] }
            }
        }

        #cfgs
        impl #name<f32, #rt::Inline> {
            /// Builds the network from a parameter file (`persist::to_bytes`),
            /// in a `const` context: `static NET: Net<f32, Inline> =
            /// Net::from_le_bytes(include_bytes!("net.cnet"));`.
            ///
            /// # Panics
            /// If the file is not a constnet parameter file of this exact
            /// architecture with `f32` elements; in a `static` this is a
            /// compile error.
            pub const fn from_le_bytes(bytes: &[u8]) -> Self {
                Self {
                    params: #rt::persist::bytes::decode_f32::<#store_len>(bytes, <Self as #rt::Network>::SIGNATURE),
                }
            }
        }

    }
}

/// The `Network` impl.
fn network_impl(n: &Names) -> TokenStream {
    let Names {
        rt,
        core,
        name,
        name_str,
        cfgs,
        input_ty,
        output_ty,
        store_len,
        param_count,
        input_len,
        output_len,
        arena_len,
        ..
    } = n;
    let typed = n.plan.typed;
    let input_dims = typed.net.input.dims().into_iter().map(lit);
    let tensors = tensor_infos(typed);
    let layers = layer_infos(typed);
    let signature = fnv1a(&signature_text(typed));
    quote! {
        #cfgs
        impl<E: #rt::Scalar, S: #rt::Storage> #rt::Network for #name<E, S> {
            type Elem = E;
            type Input = #input_ty;
            type Output = #output_ty;
            const NAME: &'static str = #name_str;
            const INPUT_SHAPE: &'static [usize] = &[#(#input_dims),*];
            const INPUT_LEN: usize = #input_len;
            const OUTPUT_LEN: usize = #output_len;
            const PARAM_COUNT: usize = #param_count;
            const STORE_LEN: usize = #store_len;
            const ARENA_LEN: usize = #arena_len;
            const TENSORS: &'static [#rt::TensorInfo] = &[#(#tensors),*];
            const LAYERS: &'static [#rt::LayerInfo] = &[#(#layers),*];
            const SIGNATURE: u64 = #signature;

            fn params(&self) -> &[E] {
                #core::borrow::Borrow::<[E; #store_len]>::borrow(&self.params)
            }

            fn params_mut(&mut self) -> &mut [E] {
                #core::borrow::BorrowMut::<[E; #store_len]>::borrow_mut(&mut self.params)
            }

            fn predict(&self, x: &#input_ty) -> #output_ty {
                #name::predict(self, x)
            }

            fn workspace_len(batch: usize) -> usize {
                #name::<E, S>::workspace_len(batch)
            }

            fn index_len(batch: usize) -> usize {
                #name::<E, S>::index_len(batch)
            }

            fn forward_batch(&self, xs: &[#input_ty], ws: &mut #rt::Workspace<'_, E>, ys: &mut [#output_ty]) {
                self.__pass::<usize>(xs, None, ws, None, None, Some(ys));
            }
        }

    }
}

/// The `#[cfg]` attributes of the declaration. They go on every generated
/// item, not only the struct: impls of a type that was configured away
/// would not compile.
fn cfg_attrs(plan: &Plan) -> TokenStream {
    let cfgs = plan
        .typed
        .net
        .header
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("cfg"));
    quote!(#(#cfgs)*)
}

fn trainable_impl(plan: &Plan, output_ty: &TokenStream, input_ty: &TokenStream) -> TokenStream {
    let rt = rt();
    let name = &plan.typed.net.header.name;
    let loss = match plan.typed.loss {
        Loss::CrossEntropy => quote!(SoftmaxCrossEntropy),
        Loss::BinaryCrossEntropy => quote!(SigmoidBinaryCrossEntropy),
        Loss::MeanSquaredError => quote!(MeanSquaredError),
    };
    let commit = commit_statistics(plan);
    let cfgs = cfg_attrs(plan);
    quote! {
        #cfgs

        impl<E: #rt::Scalar, S: #rt::Storage> #rt::Trainable for #name<E, S> {
            const LOSS: #rt::loss::LossKind = #rt::loss::LossKind::#loss;

            fn forward_loss<T: #rt::loss::Target<#output_ty>>(
                &self,
                xs: &[#input_ty],
                ts: &[T],
                ws: &mut #rt::Workspace<'_, E>,
                ctx: #rt::StepCtx,
            ) -> E {
                self.__pass(xs, Some(ts), ws, Some(ctx), None, None)
            }

            fn forward_backward<T: #rt::loss::Target<#output_ty>>(
                &self,
                xs: &[#input_ty],
                ts: &[T],
                ws: &mut #rt::Workspace<'_, E>,
                grads: &mut [E],
                ctx: #rt::StepCtx,
                outputs: ::constnet::__private::core::option::Option<&mut [#output_ty]>,
            ) -> E {
                self.__pass(xs, Some(ts), ws, Some(ctx), Some(grads), outputs)
            }

            fn evaluate<T: #rt::loss::Target<#output_ty>>(
                &self,
                xs: &[#input_ty],
                ts: &[T],
                ws: &mut #rt::Workspace<'_, E>,
                outputs: &mut [#output_ty],
            ) -> E {
                self.__pass(xs, Some(ts), ws, None, None, Some(outputs))
            }

            #[allow(unused_variables)]
            fn commit_statistics(&mut self, stats: &[E]) {
                let p: &mut [E] = #rt::Network::params_mut(self);
                #commit
            }
        }
    }
}

/// `train_step_fixed`: a heap-free step whose buffer sizes are checked at
/// compile time against the batch size.
fn fixed_step(plan: &Plan, output_ty: &TokenStream, input_ty: &TokenStream) -> TokenStream {
    let rt = rt();
    let name = &plan.typed.net.header.name;
    let msg = diag::fixed_workspace_too_small(&name.to_string());
    let cfgs = cfg_attrs(plan);
    // As for the arena check: no `G >= 0` when the network has no parameters.
    let grads = (plan.typed.store_len > 0).then(|| quote!(&&G >= Self::STORE_LEN));
    let check = quote_spanned! {name.span()=>
        const { assert!(W >= Self::workspace_len(B) && I >= Self::index_len(B) #grads, #msg) };
    };
    quote! {
        #cfgs

        impl<E: #rt::Scalar, S: #rt::Storage> #name<E, S> {
            /// One training step over a batch of `B` samples in fixed-size
            /// buffers: no heap, no threads. A workspace too small for `B`
            /// is a compile error. Dropout masks derive from `seed`.
            ///
            /// # Errors
            /// When the loss or a gradient is not finite; the network is
            /// unchanged then.
            pub fn train_step_fixed<T, O, const B: usize, const W: usize, const I: usize, const G: usize>(
                &mut self,
                xs: &[#input_ty; B],
                ts: &[T; B],
                ws: &mut #rt::FixedWorkspace<E, W, I, G>,
                opt: &mut O,
                seed: u64,
            ) -> ::constnet::__private::core::result::Result<f64, #rt::train::fixed::NonFinite>
            where
                T: #rt::loss::Target<#output_ty>,
                O: #rt::optim::Optimizer<E>,
            {
                #check
                #rt::train::fixed::step(self, xs, ts, ws, opt, seed)
            }
        }
    }
}

/// Running-average updates of every batch norm.
fn commit_statistics(plan: &Plan) -> TokenStream {
    let rt = rt();
    let mut code = TokenStream::new();
    for layer in &plan.typed.layers {
        let crate::layers::LayerKind::BatchNorm { momentum, .. } = layer.layer.kind else {
            continue;
        };
        // The running mean and variance are consecutive tensors.
        let tensors = &plan.typed.tensors[layer.tensors.clone()];
        let Some(first) = tensors.iter().find(|t| !t.role.is_trainable()) else {
            continue;
        };
        let (start, end) = (lit(first.offset), lit(first.offset + 2 * first.len));
        code.extend(quote! {
            #rt::kernels::batchnorm::commit(
                <E as #rt::Scalar>::from_f64(#momentum),
                &mut p[#start..#end],
                &stats[#start..#end],
            );
        });
    }
    code
}

fn tensor_infos(typed: &TypedNetwork) -> Vec<TokenStream> {
    let rt = rt();
    typed
        .tensors
        .iter()
        .map(|t| {
            let name = &t.name;
            let shape = t.shape.iter().map(|&d| lit(d));
            let (offset, len, fan_in, fan_out) =
                (lit(t.offset), lit(t.len), lit(t.fan_in), lit(t.fan_out));
            let role = match t.role {
                Role::Weight => quote!(Weight),
                Role::Bias => quote!(Bias),
                Role::Scale => quote!(Scale),
                Role::Shift => quote!(Shift),
                Role::Slope => quote!(Slope),
                Role::RunningMean => quote!(RunningMean),
                Role::RunningVar => quote!(RunningVar),
            };
            let init = match t.init {
                TensorInit::Constant(0.0) => quote!(#rt::Init::Zeros),
                TensorInit::Constant(v) => quote!(#rt::Init::Constant(#v)),
                TensorInit::Random(Init::Zeros) => quote!(#rt::Init::Zeros),
                TensorInit::Random(Init::Normal(std)) => quote!(#rt::Init::Normal(#std)),
                TensorInit::Random(Init::XavierUniform) => quote!(#rt::Init::XavierUniform),
                TensorInit::Random(Init::XavierNormal) => quote!(#rt::Init::XavierNormal),
                TensorInit::Random(Init::HeNormal) => quote!(#rt::Init::HeNormal),
                TensorInit::Random(Init::HeUniform) => quote!(#rt::Init::HeUniform),
            };
            quote! {
                #rt::TensorInfo {
                    name: #name,
                    shape: &[#(#shape),*],
                    offset: #offset,
                    len: #len,
                    role: #rt::Role::#role,
                    fan_in: #fan_in,
                    fan_out: #fan_out,
                    init: #init,
                }
            }
        })
        .collect()
}

fn layer_infos(typed: &TypedNetwork) -> Vec<TokenStream> {
    let rt = rt();
    typed
        .layers
        .iter()
        .map(|l| {
            let text = &l.layer.text;
            let name = l.field.clone().unwrap_or_else(|| text.clone());
            let output = l.output.dims().into_iter().map(lit);
            let params = lit(l.param_count);
            quote! {
                #rt::LayerInfo { text: #text, name: #name, output: &[#(#output),*], params: #params }
            }
        })
        .collect()
}

/// The architecture's shape signature as text: input and output shapes and
/// every parameter tensor's name and shape. Options that leave the
/// parameters' meaning in place (dropout rate, initializer, loss, aliases)
/// do not change it, so a weight file outlives them.
fn signature_text(typed: &TypedNetwork) -> String {
    let mut text = format!("{} -> {}", typed.net.input, typed.output);
    for t in &typed.tensors {
        text.push_str(&format!(" ; {} {:?}", t.name, t.shape));
    }
    text
}

/// `#[doc]` attributes with the shape trace and the parameter table.
fn docs(typed: &TypedNetwork) -> TokenStream {
    let mut trace = format!("`{}", typed.net.input);
    for l in &typed.layers {
        trace.push_str(&format!(" → {} → {}", l.layer.text, l.output));
    }
    trace.push('`');
    let mut lines = vec![
        String::new(),
        "# Architecture".to_string(),
        String::new(),
        trace,
        String::new(),
        "| layer | output | parameters |".to_string(),
        "|---|---|---|".to_string(),
    ];
    for l in &typed.layers {
        let label = match &l.field {
            Some(f) => format!("{f}: `{}`", l.layer.text),
            None => format!("`{}`", l.layer.text),
        };
        lines.push(format!("| {label} | {} | {} |", l.output, l.param_count));
    }
    lines.push(String::new());
    lines.push(format!(
        "{} trainable parameters. Generated by `network!`: see the `Network` trait for the \
         contract, `predict` for inference and `Trainable` for training.",
        typed.param_count
    ));
    let lines = lines.into_iter();
    quote!(#(#[doc = #lines])*)
}
