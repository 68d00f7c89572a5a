//! Binding a layer's written arguments to its schema, and reading values.
//!
//! Every reader records its own error and returns `None`, so one layer can
//! report a bad kernel and a bad stride in the same compile.

use syn::Ident;

use super::window::{Pad, Round};
use crate::ast::{Arg, LayerCall, Value};
use crate::diag::{self, Errors};
use crate::vocab::Init;

/// What a layer accepts: positional names (the first `required` mandatory)
/// and named options. `name` is the layer's canonical name, for messages.
pub(crate) struct Schema {
    pub(crate) name: &'static str,
    pub(crate) positional: &'static [&'static str],
    pub(crate) required: usize,
    pub(crate) named: &'static [&'static str],
}

/// Arguments matched against a schema.
pub(crate) struct Bound<'a> {
    positional: Vec<&'a Value>,
    named: Vec<(&'a Ident, &'a Value)>,
}

impl<'a> Bound<'a> {
    pub(crate) fn positional(&self, i: usize) -> Option<&'a Value> {
        self.positional.get(i).copied()
    }

    pub(crate) fn named(&self, name: &str) -> Option<&'a Value> {
        self.named.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }
}

/// Matches `call`'s arguments to `schema`; `None` (with errors recorded) if
/// the count or names are wrong, since values would then be misattributed.
pub(crate) fn bind<'a>(
    call: &'a LayerCall,
    schema: &Schema,
    errs: &mut Errors,
) -> Option<Bound<'a>> {
    let mut bound = Bound {
        positional: Vec::new(),
        named: Vec::new(),
    };
    let mut ok = true;
    if let Some(list) = &call.args {
        for arg in &list.args {
            match arg {
                Arg::Positional(v) => {
                    if !bound.named.is_empty() {
                        errs.at(v, diag::positional_after_named(schema.name));
                        ok = false;
                    }
                    bound.positional.push(v);
                }
                Arg::Named { name, value } => {
                    if !schema.named.iter().any(|n| name == n) {
                        errs.at(
                            name,
                            diag::unknown_argument(&name.to_string(), schema.name, schema.named),
                        );
                        ok = false;
                    } else if bound.named.iter().any(|(n, _)| *n == name) {
                        errs.at(
                            name,
                            diag::duplicate_argument(&name.to_string(), schema.name),
                        );
                        ok = false;
                    }
                    bound.named.push((name, value));
                }
            }
        }
    }
    let found = bound.positional.len();
    if found < schema.required || found > schema.positional.len() {
        let optional = schema.positional.len() - schema.required;
        let msg = diag::wrong_arity(schema.name, schema.positional, optional, found);
        match &call.args {
            Some(list) => errs.at(&list.tokens, msg),
            None => errs.at(&call.name, msg),
        }
        ok = false;
    }
    ok.then_some(bound)
}

/// A whole number, possibly zero.
pub(crate) fn whole(value: &Value, what: &str, errs: &mut Errors) -> Option<usize> {
    match value {
        Value::Int {
            lit,
            negative: false,
            ..
        } => match lit.base10_parse::<usize>() {
            Ok(n) => Some(n),
            Err(_) => {
                errs.at(value, diag::too_large(what, &value.text()));
                None
            }
        },
        _ => {
            errs.at(value, diag::expected_integer(what, &value.text()));
            None
        }
    }
}

/// A whole number of at least 1.
pub(crate) fn count(value: &Value, what: &str, errs: &mut Errors) -> Option<usize> {
    if let Value::Int { negative: true, .. } = value {
        errs.at(value, diag::out_of_range(what, "1 or more", &value.text()));
        return None;
    }
    let n = whole(value, what, errs)?;
    if n == 0 {
        errs.at(value, diag::at_least_one(what, n));
        return None;
    }
    Some(n)
}

/// A square or `(height, width)` extent; each part read by `part`.
pub(crate) fn extent(
    value: &Value,
    what: &str,
    errs: &mut Errors,
    part: fn(&Value, &str, &mut Errors) -> Option<usize>,
) -> Option<(usize, usize)> {
    match value {
        Value::Tuple { items, .. } if items.len() == 2 => {
            let h = part(&items[0], what, errs);
            let w = part(&items[1], what, errs);
            Some((h?, w?))
        }
        Value::Int { .. } => part(value, what, errs).map(|n| (n, n)),
        _ => {
            errs.at(value, diag::expected_extent(what, &value.text()));
            None
        }
    }
}

/// A real number, integer or float literal, with its sign.
pub(crate) fn number(value: &Value, what: &str, errs: &mut Errors) -> Option<f64> {
    let parsed = match value {
        Value::Int { lit, negative, .. } => lit.base10_parse::<f64>().ok().map(|v| (v, *negative)),
        Value::Float { lit, negative, .. } => {
            lit.base10_parse::<f64>().ok().map(|v| (v, *negative))
        }
        _ => None,
    };
    match parsed {
        Some((v, negative)) if v.is_finite() => Some(if negative { -v } else { v }),
        _ => {
            errs.at(value, diag::expected_number(what, &value.text()));
            None
        }
    }
}

/// A number within `[lo, hi)` (or `[lo, hi]` when `hi_inclusive`).
pub(crate) fn number_in(
    value: &Value,
    what: &str,
    (lo, hi, hi_inclusive): (f64, f64, bool),
    errs: &mut Errors,
) -> Option<f64> {
    let v = number(value, what, errs)?;
    let above = if hi_inclusive { v > hi } else { v >= hi };
    if v < lo || above {
        let close = if hi_inclusive { "]" } else { ")" };
        let range = if hi.is_infinite() {
            format!("[{lo}, ∞)")
        } else {
            format!("[{lo}, {hi}{close}")
        };
        errs.at(value, diag::out_of_range(what, &range, &value.text()));
        return None;
    }
    Some(v)
}

/// A strictly positive number.
pub(crate) fn positive(value: &Value, what: &str, errs: &mut Errors) -> Option<f64> {
    let v = number(value, what, errs)?;
    if v <= 0.0 {
        errs.at(value, diag::out_of_range(what, "(0, ∞)", &value.text()));
        return None;
    }
    Some(v)
}

/// An initializer name: `he_normal`, `normal(0.01)`, ….
pub(crate) fn init(value: &Value, errs: &mut Errors) -> Option<Init> {
    let unknown = |errs: &mut Errors, found: &str| {
        errs.at(
            value,
            diag::unknown_name("initializer", found, &Init::NAMES),
        );
        None
    };
    match value {
        Value::Word(w) => match w.to_string().as_str() {
            "zeros" => Some(Init::Zeros),
            "xavier_uniform" => Some(Init::XavierUniform),
            "xavier_normal" => Some(Init::XavierNormal),
            "he_normal" => Some(Init::HeNormal),
            "he_uniform" => Some(Init::HeUniform),
            "pytorch" => Some(Init::PyTorch),
            "normal" => {
                errs.at(value, diag::normal_needs_std());
                None
            }
            other => unknown(errs, other),
        },
        Value::Call { name, args, .. } if name == "normal" => match args.as_slice() {
            [std] => positive(std, "standard deviation", errs).map(Init::Normal),
            _ => {
                errs.at(value, diag::normal_arity());
                None
            }
        },
        _ => unknown(errs, &value.text()),
    }
}

/// `true` or `false`.
pub(crate) fn flag(value: &Value, what: &str, errs: &mut Errors) -> Option<bool> {
    match value {
        Value::Bool(lit) => Some(lit.value),
        _ => {
            errs.at(value, diag::expected_flag(what, &value.text()));
            None
        }
    }
}

/// `exact` or `floor`.
pub(crate) fn round(value: &Value, errs: &mut Errors) -> Option<Round> {
    match value {
        Value::Word(w) if w == "exact" => Some(Round::Exact),
        Value::Word(w) if w == "floor" => Some(Round::Floor),
        _ => {
            errs.at(
                value,
                diag::unknown_name("rounding", &value.text(), &["exact", "floor"]),
            );
            None
        }
    }
}

/// Padding of a 2-D window: `p`, `(height, width)`, `((top, bottom), (left,
/// right))`, `same` or `valid` (Keras' name for none).
pub(crate) fn pad2(value: &Value, errs: &mut Errors) -> Option<(Pad, Pad)> {
    match value {
        Value::Word(w) if w == "same" => Some((Pad::Same, Pad::Same)),
        Value::Word(w) if w == "valid" => Some((Pad::Both(0), Pad::Both(0))),
        Value::Int { .. } => whole(value, "pad", errs).map(|p| (Pad::Both(p), Pad::Both(p))),
        Value::Tuple { items, .. } if items.len() == 2 => {
            let h = pad_axis(&items[0], errs);
            let w = pad_axis(&items[1], errs);
            Some((h?, w?))
        }
        _ => {
            errs.at(value, diag::expected_pad2(&value.text()));
            None
        }
    }
}

/// One axis of a 2-D padding: `p` or `(before, after)`.
fn pad_axis(value: &Value, errs: &mut Errors) -> Option<Pad> {
    match value {
        Value::Tuple { items, .. } if items.len() == 2 => {
            let before = whole(&items[0], "pad", errs);
            let after = whole(&items[1], "pad", errs);
            Some(Pad::Sides(before?, after?))
        }
        Value::Int { .. } => whole(value, "pad", errs).map(Pad::Both),
        _ => {
            errs.at(value, diag::expected_pad2(&value.text()));
            None
        }
    }
}

/// Padding of a 1-D window: `p`, `(left, right)`, `same` or `valid`.
pub(crate) fn pad1(value: &Value, errs: &mut Errors) -> Option<Pad> {
    match value {
        Value::Word(w) if w == "same" => Some(Pad::Same),
        Value::Word(w) if w == "valid" => Some(Pad::Both(0)),
        Value::Int { .. } => whole(value, "pad", errs).map(Pad::Both),
        Value::Tuple { items, .. } if items.len() == 2 => {
            let before = whole(&items[0], "pad", errs);
            let after = whole(&items[1], "pad", errs);
            Some(Pad::Sides(before?, after?))
        }
        _ => {
            errs.at(value, diag::expected_pad1(&value.text()));
            None
        }
    }
}

/// The optional `init = …` argument: `Some(None)` when absent, `None` when invalid.
pub(crate) fn optional_init(args: &Bound, errs: &mut Errors) -> Option<Option<Init>> {
    match args.named("init") {
        Some(v) => init(v, errs).map(Some),
        None => Some(None),
    }
}

/// Levenshtein distance, for "did you mean" suggestions.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("conv2d", "conv"), 2);
        assert_eq!(edit_distance("relu", "relu"), 0);
        assert_eq!(edit_distance("Relu", "relu"), 1);
    }
}
