//! The network as PyTorch source (`Network::PYTORCH`): an `nn.Sequential`,
//! or an `nn.Module` with a `forward` when the network has residual blocks,
//! whose modules carry the layers' names so that `state_dict()` keys are
//! constnet's tensor names. Each layer kind says which modules compute it
//! (`LayerKind::torch`); this file only names and arranges them.

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::infer::{TypedNetwork, TypedNode};
use crate::layers::spec::TorchModule;

/// A named module of the generated source.
struct Named {
    name: String,
    ctor: String,
}

/// The Python source defining class `name`.
pub(crate) fn source(typed: &TypedNetwork, name: &str) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    let mut layers: Vec<Vec<Named>> = Vec::new();
    let mut classes = BTreeSet::new();
    for layer in &typed.layers {
        let base = layer.field.clone().unwrap_or_else(|| {
            let word = layer.layer.word;
            let n = match counts.iter_mut().find(|(w, _)| *w == word) {
                Some((_, n)) => {
                    *n += 1;
                    *n
                }
                None => {
                    counts.push((word, 1));
                    1
                }
            };
            let sep = if word.ends_with(|c: char| c.is_ascii_digit()) {
                "_"
            } else {
                ""
            };
            format!("{word}{sep}{n}")
        });
        match layer.layer.kind.torch(layer.input) {
            Ok(modules) => layers.push(
                modules
                    .into_iter()
                    .map(
                        |TorchModule {
                             suffix,
                             ctor,
                             class,
                         }| {
                            classes.extend(class);
                            Named {
                                name: format!("{base}{suffix}"),
                                ctor,
                            }
                        },
                    )
                    .collect(),
            ),
            Err(why) => return unsupported(typed, name, &layer.layer.text, &why),
        }
    }
    let mut out = header(typed, name);
    for class in classes {
        out.push_str("\n\n");
        out.push_str(class);
    }
    out.push('\n');
    if has_blocks(&typed.chain) {
        module_class(&mut out, name, typed, &layers);
    } else {
        sequential(&mut out, name, &layers);
    }
    out
}

fn header(typed: &TypedNetwork, name: &str) -> String {
    let dims: Vec<String> = typed
        .net
        .input
        .dims()
        .iter()
        .map(ToString::to_string)
        .collect();
    format!(
        "# {name} in PyTorch, as written by constnet's `network!`: the same layers\n\
         # in the same order under the same names, so that `state_dict()` keys are\n\
         # constnet's tensor names. Input: a batch of shape [N, {}].\n\
         from collections import OrderedDict\n\
         \n\
         import torch\n\
         from torch import nn\n",
        dims.join(", ")
    )
}

fn has_blocks(chain: &[TypedNode]) -> bool {
    chain.iter().any(|node| matches!(node, TypedNode::Block(_)))
}

fn sequential(out: &mut String, name: &str, layers: &[Vec<Named>]) {
    let _ = write!(
        out,
        "\nclass {name}(nn.Sequential):\n    def __init__(self):\n        super().__init__(OrderedDict([\n"
    );
    for module in layers.iter().flatten() {
        let _ = writeln!(out, "            (\"{}\", {}),", module.name, module.ctor);
    }
    out.push_str("        ]))\n");
}

fn module_class(out: &mut String, name: &str, typed: &TypedNetwork, layers: &[Vec<Named>]) {
    let _ = write!(
        out,
        "\nclass {name}(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
    );
    for module in layers.iter().flatten() {
        let _ = writeln!(out, "        self.{} = {}", module.name, module.ctor);
    }
    out.push_str("\n    def forward(self, x):\n");
    chain(out, &typed.chain, layers, "x", 0);
    out.push_str("        return x\n");
}

/// `forward`'s lines for `items`, which transform the variable `var`; a
/// block's paths get variables named by their depth, so nested blocks do
/// not overwrite them.
fn chain(out: &mut String, items: &[TypedNode], layers: &[Vec<Named>], var: &str, depth: usize) {
    for item in items {
        match item {
            TypedNode::Layer(i) => {
                for module in &layers[*i] {
                    let _ = writeln!(out, "        {var} = self.{}({var})", module.name);
                }
            }
            TypedNode::Block(block) => {
                let main = format!("main{depth}");
                let _ = writeln!(out, "        {main} = {var}");
                chain(out, &block.main, layers, &main, depth + 1);
                if let Some(shortcut) = &block.shortcut {
                    let skip = format!("skip{depth}");
                    let _ = writeln!(out, "        {skip} = {var}");
                    chain(out, shortcut, layers, &skip, depth + 1);
                    let _ = writeln!(out, "        {var} = {main} + {skip}");
                } else {
                    let _ = writeln!(out, "        {var} = {main} + {var}");
                }
            }
        }
    }
}

/// A class that explains, when built, which layer PyTorch cannot express.
fn unsupported(typed: &TypedNetwork, name: &str, layer: &str, why: &str) -> String {
    let mut out = header(typed, name);
    let message = format!("`{layer}`: {why}")
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    let _ = write!(
        out,
        "\n\nclass {name}(nn.Module):\n    def __init__(self):\n        raise NotImplementedError(\"{message}\")\n"
    );
    out
}
