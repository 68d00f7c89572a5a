//! The metadata tables and the `Network` impl: tensors and layers with
//! their names, shapes and offsets, the architecture signature, and the
//! rustdoc shape trace of the generated type.

use proc_macro2::TokenStream;
use quote::quote;

use super::item::Item;
use super::names;
use super::tokens::{core, lit, rt};
use crate::infer::{TensorInit, TypedNetwork, TypedNode};
use crate::layers::spec::Role;
use crate::vocab::{Init, Shape};

/// The `Network` impl.
pub(crate) fn network_impl(it: &Item) -> TokenStream {
    let Item {
        rt,
        name,
        name_str,
        impl_attrs,
        generics,
        input_ty,
        output_ty,
        store_len,
        param_count,
        input_len,
        output_len,
        arena_len,
        ..
    } = it;
    let core = core();
    let (e, s) = (names::elem(), names::storage());
    let typed = it.plan.typed;
    let input_dims = typed.net.input.dims().into_iter().map(lit);
    let tensors = tensor_infos(typed);
    let layers = layer_infos(typed);
    let signature = fnv1a(&signature_text(typed));
    let pytorch = super::pytorch::source(typed, name_str);
    quote! {
        #impl_attrs
        impl #generics #rt::Network for #name<#e, #s> {
            type Elem = #e;
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
            const HIDDEN: &'static [#rt::HiddenInfo] = Self::__HIDDEN;
            const SIGNATURE: u64 = #signature;
            const PYTORCH: &'static str = #pytorch;

            fn params(&self) -> &[#e] {
                #core::borrow::Borrow::<[#e; #store_len]>::borrow(&self.params)
            }

            fn params_mut(&mut self) -> &mut [#e] {
                #core::borrow::BorrowMut::<[#e; #store_len]>::borrow_mut(&mut self.params)
            }

            fn predict(&self, x: &#input_ty) -> #output_ty {
                #name::predict(self, x)
            }

            fn workspace_len(batch: usize) -> usize {
                #name::<#e, #s>::workspace_len(batch)
            }

            fn index_len(batch: usize) -> usize {
                #name::<#e, #s>::index_len(batch)
            }

            fn forward_batch(&self, xs: &[#input_ty], ws: &mut #rt::Workspace<'_, #e>, ys: &mut [#output_ty]) {
                self.__pass::<usize>(xs, None, ws, None, None, Some(ys));
            }
        }

    }
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
                Role::Mean => quote!(Mean),
                Role::Std => quote!(Std),
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
                TensorInit::Random(Init::PyTorch) => quote!(#rt::Init::PyTorch),
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

/// One row of the layer table: a layer, or the head of a residual block or
/// of its shortcut, with its nesting depth.
struct Row {
    text: String,
    name: String,
    output: Shape,
    params: usize,
    depth: usize,
}

/// The layer table in declaration order, blocks as header rows above their
/// (deeper) layers.
fn rows(typed: &TypedNetwork) -> Vec<Row> {
    fn walk(typed: &TypedNetwork, items: &[TypedNode], depth: usize, out: &mut Vec<Row>) {
        for item in items {
            match item {
                TypedNode::Layer(i) => {
                    let l = &typed.layers[*i];
                    out.push(Row {
                        text: l.layer.text.clone(),
                        name: l.field.clone().unwrap_or_else(|| l.layer.text.clone()),
                        output: l.output,
                        params: l.param_count,
                        depth,
                    });
                }
                TypedNode::Block(block) => {
                    out.push(Row {
                        text: "residual".into(),
                        name: "residual".into(),
                        output: block.output,
                        params: block.param_count,
                        depth,
                    });
                    walk(typed, &block.main, depth + 1, out);
                    if let Some(shortcut) = &block.shortcut {
                        let params = shortcut_params(typed, shortcut);
                        out.push(Row {
                            text: "shortcut".into(),
                            name: "shortcut".into(),
                            output: block.output,
                            params,
                            depth: depth + 1,
                        });
                        walk(typed, shortcut, depth + 2, out);
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(typed, &typed.chain, 0, &mut out);
    out
}

/// Trainable parameters of a chain.
fn shortcut_params(typed: &TypedNetwork, items: &[TypedNode]) -> usize {
    items
        .iter()
        .map(|item| match item {
            TypedNode::Layer(i) => typed.layers[*i].param_count,
            TypedNode::Block(block) => block.param_count,
        })
        .sum()
}

fn layer_infos(typed: &TypedNetwork) -> Vec<TokenStream> {
    let rt = rt();
    rows(typed)
        .into_iter()
        .map(|row| {
            let Row {
                text,
                name,
                params,
                depth,
                ..
            } = &row;
            let output = row.output.dims().into_iter().map(lit);
            let (params, depth) = (lit(*params), lit(*depth));
            quote! {
                #rt::LayerInfo {
                    text: #text, name: #name, output: &[#(#output),*], params: #params, depth: #depth,
                }
            }
        })
        .collect()
}

/// The architecture's signature as text: input and output shapes, every
/// layer's kind and the settings that change its function
/// ([`crate::layers::LayerKind::signature`]), the residual blocks' structure,
/// and every parameter tensor's name and shape. Options that leave a
/// trained network's function in place (dropout rate, initializer, loss,
/// aliases, spelling) do not change it, so a weight file outlives them.
fn signature_text(typed: &TypedNetwork) -> String {
    fn chain(typed: &TypedNetwork, items: &[TypedNode], out: &mut String) {
        for item in items {
            match item {
                TypedNode::Layer(i) => {
                    out.push_str(&typed.layers[*i].layer.kind.signature());
                    out.push_str(" -> ");
                }
                TypedNode::Block(block) => {
                    out.push_str("residual(");
                    chain(typed, &block.main, out);
                    if let Some(shortcut) = &block.shortcut {
                        out.push_str("shortcut ");
                        chain(typed, shortcut, out);
                    }
                    out.push_str(") -> ");
                }
            }
        }
    }
    let mut text = format!("{} -> {} ; ", typed.net.input, typed.output);
    chain(typed, &typed.chain, &mut text);
    for t in &typed.tensors {
        text.push_str(&format!(" ; {} {:?}", t.name, t.shape));
    }
    text
}

/// `#[doc]` attributes with the shape trace and the parameter table.
pub(crate) fn docs(typed: &TypedNetwork) -> TokenStream {
    let mut trace = format!("`{}", typed.net.input);
    for item in &typed.chain {
        let (text, output) = match item {
            TypedNode::Layer(i) => (&typed.layers[*i].layer.text, typed.layers[*i].output),
            TypedNode::Block(block) => (&block.text, block.output),
        };
        trace.push_str(&format!(" → {text} → {output}"));
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
    for row in rows(typed) {
        // Non-breaking spaces: rustdoc's tables keep them.
        let indent = "\u{a0}\u{a0}".repeat(row.depth);
        let label = if row.name == row.text {
            format!("{indent}`{}`", row.text)
        } else {
            format!("{indent}{}: `{}`", row.name, row.text)
        };
        lines.push(format!("| {label} | {} | {} |", row.output, row.params));
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

/// FNV-1a, for the architecture signature.
fn fnv1a(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}
