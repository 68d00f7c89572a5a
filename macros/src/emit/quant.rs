//! The `Quantizable` impl: the network's int8 program
//! (`runtime::quant::program`), for networks whose every step has an int8
//! kernel. The program is a table; the runtime's one interpreter runs it,
//! so this file only lays it out: which `f32` steps merge into one int8
//! step (a batch norm and its activation into the layer before them), where
//! each value lives (the `f32` arena's offsets, one byte per element), and
//! where each step's integers lie.

use proc_macro2::TokenStream;
use quote::quote;

use super::item::Item;
use super::pass::hidden_steps;
use super::step::StepCx;
use super::tokens::{channels_positions, len, lit};
use crate::layers::activation::Act;
use crate::layers::pool::Reduce;
use crate::layers::preprocess::Preprocess;
use crate::plan::{Loc, Op, Plan};

/// Mirrors `program::{VALUE_WORDS, DOOR_WORDS, CHANNEL_WORDS, ADD_WORDS}`.
const VALUE_WORDS: usize = 2;
const DOOR_WORDS: usize = 2;
const CHANNEL_WORDS: usize = 4;
const ADD_WORDS: usize = 6;

/// A value of the program.
#[derive(Clone, Copy)]
struct Value {
    at: Option<usize>,
    len: usize,
    quant: usize,
    hidden: Option<usize>,
}

/// A layer with weights: its `f32` offsets, its first int8 weight and its
/// first word (relative to the steps' first word).
struct Weighted {
    weight: usize,
    bias: Option<usize>,
    /// γ, β, running mean and variance offsets, and ε.
    norm: Option<([usize; 4], f64)>,
    int8: usize,
    words: usize,
}

enum QOp {
    /// `c, h, w, f, groups, kh, kw, sh, sw, ph, pw, oh, ow`.
    Conv {
        geometry: [usize; 13],
        pool: Option<(usize, usize)>,
        layer: Weighted,
    },
    Affine {
        inputs: usize,
        outputs: usize,
        layer: Weighted,
    },
    /// `c, h, w, kh, kw, sh, sw, ph, pw, oh, ow`.
    Pool {
        max: bool,
        geometry: [usize; 11],
    },
    Add {
        skip: Value,
        words: usize,
    },
    Clamp,
}

struct QStep {
    name: String,
    text: String,
    op: QOp,
    act: Act,
    input: Value,
    output: Value,
}

/// The program, before its step words are placed after the values and
/// the door.
struct Program {
    steps: Vec<QStep>,
    input: Value,
    output: Value,
    /// `(normalize's mean and std offsets and length)` or `rescale`'s numbers.
    door: Vec<Preprocessing>,
    channels: usize,
    positions: usize,
    softmax: bool,
    weights: usize,
    step_words: usize,
    values: usize,
}

enum Preprocessing {
    Normalize { mean: usize, std: usize, len: usize },
    Rescale { scale: f64, offset: f64 },
}

/// The `Quantizable` impl, or nothing when a step has no int8 kernel.
pub(crate) fn quantizable(it: &Item) -> TokenStream {
    let Some(p) = lay_out(it.plan) else {
        return TokenStream::new();
    };
    let Item {
        rt,
        name,
        impl_attrs,
        input_len,
        output_len,
        arena_len,
        ..
    } = it;
    let q = quote!(#rt::quant::program);
    let door_words = if p.door.is_empty() {
        0
    } else {
        p.channels * DOOR_WORDS
    };
    let base = p.values * VALUE_WORDS + door_words;
    let value = |v: &Value| {
        let (at, hidden) = (option(v.at), option(v.hidden));
        let (n, quant) = (lit(v.len), lit(v.quant));
        quote!(#q::Value { at: #at, len: #n, quant: #quant, hidden: #hidden })
    };
    let weighted = |l: &Weighted| {
        let (weight, bias) = (lit(l.weight), option(l.bias));
        let norm = match l.norm {
            Some((at, eps)) => {
                let [scale, shift, mean, var] = at.map(lit);
                quote! {
                    Some(#q::Norm { scale: #scale, shift: #shift, mean: #mean, var: #var, eps: #eps })
                }
            }
            None => quote!(None),
        };
        let (int8, words) = (lit(l.int8), lit(base + l.words));
        quote!(#q::Weighted { weight: #weight, bias: #bias, norm: #norm, int8: #int8, words: #words })
    };
    let steps = p.steps.iter().map(|s| {
        let op = match &s.op {
            QOp::Conv {
                geometry,
                pool,
                layer,
            } => {
                let [c, h, w, f, groups, kh, kw, sh, sw, ph, pw, oh, ow] = geometry.map(lit);
                let pool = match pool {
                    Some((a, b)) => {
                        let (a, b) = (lit(*a), lit(*b));
                        quote!(Some((#a, #b)))
                    }
                    None => quote!(None),
                };
                let layer = weighted(layer);
                quote! {
                    #q::Op::Conv {
                        geometry: #q::ConvGeometry {
                            c: #c, h: #h, w: #w, f: #f, groups: #groups, kernel: (#kh, #kw),
                            stride: (#sh, #sw), pad: (#ph, #pw), out: (#oh, #ow),
                        },
                        pool: #pool,
                        layer: #layer,
                    }
                }
            }
            QOp::Affine {
                inputs,
                outputs,
                layer,
            } => {
                let (i, o, layer) = (lit(*inputs), lit(*outputs), weighted(layer));
                quote!(#q::Op::Affine { inputs: #i, outputs: #o, layer: #layer })
            }
            QOp::Pool { max, geometry } => {
                let [c, h, w, kh, kw, sh, sw, ph, pw, oh, ow] = geometry.map(lit);
                let g = quote! {
                    #q::PoolGeometry {
                        c: #c, h: #h, w: #w, kernel: (#kh, #kw), stride: (#sh, #sw),
                        pad: (#ph, #pw), out: (#oh, #ow),
                    }
                };
                if *max {
                    quote!(#q::Op::MaxPool(#g))
                } else {
                    quote!(#q::Op::AvgPool(#g))
                }
            }
            QOp::Add { skip, words } => {
                let (skip, words) = (value(skip), lit(base + words));
                quote!(#q::Op::Add { skip: #skip, words: #words })
            }
            QOp::Clamp => quote!(#q::Op::Clamp),
        };
        let act = match s.act {
            Act::Relu => quote!(#q::Act::Relu),
            Act::Relu6 => quote!(#q::Act::Relu6),
            _ => quote!(#q::Act::None),
        };
        let (step_name, text) = (&s.name, &s.text);
        let (input, output) = (value(&s.input), value(&s.output));
        quote! {
            #q::Step {
                name: #step_name, text: #text, op: #op, act: #act, input: #input, output: #output,
            }
        }
    });
    let door = p.door.iter().map(|d| match *d {
        Preprocessing::Normalize { mean, std, len } => {
            let (mean, std, len) = (lit(mean), lit(std), lit(len));
            quote!(#q::DoorOp::Normalize { mean: #mean, std: #std, len: #len })
        }
        Preprocessing::Rescale { scale, offset } => {
            quote!(#q::DoorOp::Rescale { scale: #scale, offset: #offset })
        }
    });
    let (input, output) = (value(&p.input), value(&p.output));
    let [channels, positions, weights, words, values] = [
        p.channels,
        p.positions,
        p.weights,
        base + p.step_words,
        p.values,
    ]
    .map(lit);
    let softmax = p.softmax;
    let st = super::names::storage();
    quote! {
        // The steps once, for the program and for the arena's length (a
        // type, which a generic impl's own consts cannot give).
        #impl_attrs
        const _: () = {
            const STEPS: &[#q::Step] = &[#(#steps),*];
            const SCRATCH: usize = #q::scratch_len(STEPS);
            const ARENA: usize = #arena_len + SCRATCH;
            #impl_attrs
            impl<#st: #rt::Storage> #rt::quant::Quantizable for #name<f32, #st> {
                const PROGRAM: #q::Program = #q::Program {
                    steps: STEPS,
                    input: #input,
                    output: #output,
                    door: &[#(#door),*],
                    channels: #channels,
                    positions: #positions,
                    softmax: #softmax,
                    arena: ARENA,
                    scratch: SCRATCH,
                    weights: #weights,
                    words: #words,
                    values: #values,
                };
                type Weights = [i8; #weights];
                type Words = [i32; #words];
                type Arena = [i8; ARENA];
                type Int8Input = [i8; #input_len];
                type Int8Output = [i8; #output_len];
            }
        };
    }
}

fn option(v: Option<usize>) -> TokenStream {
    match v {
        Some(v) => {
            let v = lit(v);
            quote!(Some(#v))
        }
        None => quote!(None),
    }
}

/// The clamp of an activation, if int8 has one.
fn clamp(act: Act) -> Option<Act> {
    match act {
        Act::Relu | Act::Relu6 | Act::Identity => Some(act),
        Act::LeakyRelu(_)
        | Act::Elu(_)
        | Act::Sigmoid
        | Act::Tanh
        | Act::Step
        | Act::HardSigmoid => None,
    }
}

/// Lays the program out as it goes through the `f32` steps.
struct Builder<'a> {
    plan: &'a Plan<'a>,
    hidden: Vec<Option<usize>>,
    /// The value each `f32` step's output is.
    of: Vec<Option<Value>>,
    input: Value,
    values: usize,
    weights: usize,
    words: usize,
}

impl Builder<'_> {
    fn at(&self, s: usize) -> Option<usize> {
        match self.plan.arena.locs[s] {
            Loc::At(offset) => Some(offset),
            Loc::Input => None,
        }
    }

    /// The value step `s` reads.
    fn src(&self, src: Option<usize>) -> Option<Value> {
        match src {
            None => Some(self.input),
            Some(k) => self.of[k],
        }
    }

    /// A new quantized value: step `s`'s output.
    fn fresh(&mut self, s: usize) -> Value {
        self.values += 1;
        Value {
            at: self.at(s),
            len: len(self.plan.steps[s].output),
            quant: self.values - 1,
            hidden: self.hidden[s],
        }
    }

    /// Step `s`'s output when it keeps its input's quantization (pools and
    /// clamps, as TFLite's converter requires).
    fn kept(&self, s: usize, input: Value) -> Value {
        Value {
            at: self.at(s),
            len: len(self.plan.steps[s].output),
            hidden: self.hidden[s],
            ..input
        }
    }

    /// Whether step `s`'s output is read only by step `s + 1`.
    fn only_next_reads(&self, s: usize) -> bool {
        let steps = &self.plan.steps;
        let readers = steps
            .iter()
            .filter(|t| t.src == Some(s) || t.op.skip() == Some(Some(s)))
            .count();
        readers == 1 && steps.get(s + 1).is_some_and(|t| t.src == Some(s))
    }

    /// The weighted layer of step `s`, with a batch norm (and the
    /// activation after it) merged in; returns it with the last merged step.
    fn weighted(&mut self, s: usize, bias: bool, act: Act) -> Option<(Weighted, usize, Act)> {
        let cx = StepCx::new(self.plan, s);
        let (weight, bias) = (cx.tensor(0).offset, bias.then(|| cx.tensor(1).offset));
        let mut last = (s, act);
        let mut norm = None;
        if act == Act::Identity
            && self.only_next_reads(s)
            && let Op::BatchNorm(bn) = &self.plan.steps[s + 1].op
        {
            let bcx = StepCx::new(self.plan, s + 1);
            norm = Some(([0, 1, 2, 3].map(|k| bcx.tensor(k).offset), bn.eps));
            last = (s + 1, Act::Identity);
            if self.only_next_reads(s + 1)
                && let Op::Act(a) = self.plan.steps[s + 2].op
            {
                last = (s + 2, clamp(a)?);
            }
        }
        let layer = Weighted {
            weight,
            bias,
            norm,
            int8: self.weights,
            words: self.words,
        };
        Some((layer, last.0, last.1))
    }
}

/// The program of a plan, or `None` when a step has no int8 kernel.
fn lay_out(plan: &Plan) -> Option<Program> {
    let steps = &plan.steps;
    let outputs = hidden_steps(plan);
    let hidden = (0..steps.len())
        .map(|s| outputs.iter().position(|&o| o == s))
        .collect();
    let input_shape = plan.typed.net.input;
    let (channels, positions) = channels_positions(input_shape);
    let mut b = Builder {
        plan,
        hidden,
        of: vec![None; steps.len()],
        input: Value {
            at: None,
            len: len(input_shape),
            quant: 0,
            hidden: None,
        },
        values: 1,
        weights: 0,
        words: 0,
    };
    let mut door = Vec::new();
    let mut s = 0;
    while let Some(Op::Preprocess(pre)) = steps.get(s).map(|t| &t.op) {
        let cx = StepCx::new(plan, s);
        door.push(match *pre {
            Preprocess::Normalize => Preprocessing::Normalize {
                mean: cx.tensor(0).offset,
                std: cx.tensor(1).offset,
                len: cx.tensor(0).len,
            },
            Preprocess::Rescale { scale, offset } => Preprocessing::Rescale { scale, offset },
        });
        b.input = Value {
            at: b.at(s),
            hidden: b.hidden[s],
            ..b.input
        };
        b.of[s] = Some(b.input);
        s += 1;
    }
    let last = steps.len().checked_sub(1)?;
    let softmax = matches!(steps[last].op, Op::Softmax);
    let mut q = Vec::new();
    while s < steps.len() {
        let step = &steps[s];
        let input = b.src(step.src)?;
        let text_from = s;
        let (op, act, end, output) = match &step.op {
            Op::Conv(c) => {
                let g = &c.geom;
                if g.dilation != (1, 1) {
                    return None;
                }
                let (layer, end, act) = b.weighted(s, c.bias, clamp(c.act)?)?;
                let w = g.f * (g.c / g.groups) * g.kernel.0 * g.kernel.1;
                (b.weights, b.words) = (b.weights + w, b.words + g.f * CHANNEL_WORDS);
                let geometry = [
                    g.c, g.h, g.w, g.f, g.groups, g.kernel.0, g.kernel.1, g.stride.0, g.stride.1,
                    g.pad.0, g.pad.1, g.oh, g.ow,
                ];
                let pool = c.pool.map(|p| p.size);
                let output = b.fresh(end);
                (
                    QOp::Conv {
                        geometry,
                        pool,
                        layer,
                    },
                    act,
                    end,
                    output,
                )
            }
            Op::Affine(a) => {
                let (inputs, outputs) = (len(step.input), len(step.output));
                let (layer, end, act) = b.weighted(s, a.bias, clamp(a.act)?)?;
                (b.weights, b.words) = (
                    b.weights + inputs * outputs,
                    b.words + outputs * CHANNEL_WORDS,
                );
                let output = b.fresh(end);
                (
                    QOp::Affine {
                        inputs,
                        outputs,
                        layer,
                    },
                    act,
                    end,
                    output,
                )
            }
            Op::Pool(p) => {
                let g = &p.geom;
                let geometry = [
                    g.c, g.h, g.w, g.size.0, g.size.1, g.stride.0, g.stride.1, g.pad.0, g.pad.1,
                    g.oh, g.ow,
                ];
                let max = p.reduce == Reduce::Max;
                (
                    QOp::Pool { max, geometry },
                    Act::Identity,
                    s,
                    b.kept(s, input),
                )
            }
            Op::GlobalPool(p) => {
                let (h, w) = match step.input {
                    crate::vocab::Shape::Image { h, w, .. } => (h, w),
                    _ => (1, p.positions),
                };
                let geometry = [p.channels, h, w, h, w, h, w, 0, 0, 1, 1];
                let max = p.reduce == Reduce::Max;
                (
                    QOp::Pool { max, geometry },
                    Act::Identity,
                    s,
                    b.kept(s, input),
                )
            }
            Op::Act(a) => {
                let act = clamp(*a)?;
                if act == Act::Identity {
                    b.of[s] = Some(input);
                    s += 1;
                    continue;
                }
                (QOp::Clamp, act, s, b.kept(s, input))
            }
            Op::Add(add) => {
                let act = clamp(add.act)?;
                let skip = b.src(add.skip)?;
                let words = b.words;
                b.words += ADD_WORDS;
                let output = b.fresh(s);
                (QOp::Add { skip, words }, act, s, output)
            }
            Op::Alias | Op::Dropout(_) => {
                b.of[s] = Some(input);
                s += 1;
                continue;
            }
            Op::Softmax if s == last => break,
            Op::Softmax | Op::InputAct(_) | Op::Prelu | Op::Preprocess(_) | Op::BatchNorm(_) => {
                return None;
            }
        };
        for k in s..=end {
            b.of[k] = Some(output);
        }
        let text = (text_from..=end)
            .map(|k| layers_text(plan, k))
            .collect::<Vec<_>>()
            .join(" -> ");
        q.push(QStep {
            name: step.name.clone(),
            text,
            op,
            act,
            input,
            output,
        });
        s = end + 1;
    }
    let out_step = if softmax {
        last.checked_sub(1)
    } else {
        Some(last)
    };
    let output = match out_step {
        Some(k) => b.of[k]?,
        None => b.input,
    };
    Some(Program {
        steps: q,
        input: b.input,
        output,
        door,
        channels,
        positions,
        softmax,
        weights: b.weights,
        step_words: b.words,
        values: b.values,
    })
}

/// The layers step `k` runs, as written: its first layer, and those folded
/// into it up to the next step's first layer.
fn layers_text(plan: &Plan, k: usize) -> String {
    let steps = &plan.steps;
    let first = steps[k].layer;
    let end = match steps.get(k + 1) {
        Some(next) if next.layer > first && !matches!(next.op, Op::Add(_)) => next.layer,
        _ => first + 1,
    };
    (first..end)
        .map(|l| plan.typed.layers[l].layer.text.clone())
        .collect::<Vec<_>>()
        .join(" -> ")
}
