//! A window sliding along one axis: the geometry convolutions and pools
//! share, with its padding and rounding options.
//!
//! With `pad = p` (or `(top, bottom)` sides) the output is
//! `(input + pads - span) / stride + 1`, where `span = dilation·(size − 1) + 1`.
//! A division that leaves a remainder is an error unless `round = floor`
//! (PyTorch's rule: the last partial window is dropped). `pad = same` is
//! Keras': `out = ceil(input / stride)`, padded by
//! `max((out − 1)·stride + span − input, 0)` split with the extra one at the
//! end (bottom or right).

use crate::ast::Value;
use crate::diag::{self, Errors};

/// The input a window slides over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rank {
    /// `[channels, length]`.
    One,
    /// `[channels, height, width]`.
    Two,
}

/// Padding of one axis as declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pad {
    /// The same amount on both sides.
    Both(usize),
    /// `(before, after)`: top and bottom, or left and right.
    Sides(usize, usize),
    /// Keras' and TensorFlow's "same".
    Same,
}

/// What happens to a last window that would hang over the padded input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Round {
    /// It is an error: nothing is dropped silently.
    Exact,
    /// It is dropped, as PyTorch's convolutions and pools do.
    Floor,
}

/// One axis of a window as declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AxisSpec {
    pub(crate) size: usize,
    pub(crate) stride: usize,
    pub(crate) dilation: usize,
    pub(crate) pad: Pad,
}

/// One axis resolved against its input extent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Axis {
    pub(crate) out: usize,
    /// Padding before the first input element (top or left).
    pub(crate) pad_before: usize,
    /// Padding after the last input element that a window reaches.
    pub(crate) pad_after: usize,
}

/// Names the window in messages: `kernel` for convolutions, `pool size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Window {
    Kernel,
    Pool,
}

impl Window {
    fn word(self) -> &'static str {
        match self {
            Window::Kernel => "kernel",
            Window::Pool => "pool size",
        }
    }
}

/// The output extent along `axis` of a window over `input` elements, with
/// the padding it uses, or why the window does not fit.
pub(crate) fn resolve(
    window: Window,
    axis: &str,
    input: usize,
    spec: AxisSpec,
    round: Round,
) -> Result<Axis, String> {
    let span = spec
        .size
        .checked_sub(1)
        .and_then(|s| s.checked_mul(spec.dilation))
        .and_then(|s| s.checked_add(1))
        .ok_or_else(|| {
            diag::size_overflow(&format!(
                "{} {} at dilation {}",
                window.word(),
                spec.size,
                spec.dilation
            ))
        })?;
    let (before, after) = match spec.pad {
        Pad::Both(p) => (p, p),
        Pad::Sides(b, a) => (b, a),
        Pad::Same => {
            let out = input.div_ceil(spec.stride);
            let needed = (out - 1)
                .checked_mul(spec.stride)
                .and_then(|n| n.checked_add(span))
                .ok_or_else(|| diag::size_overflow(&format!("{axis} {input} with `pad = same`")))?
                .saturating_sub(input);
            return Ok(Axis {
                out,
                pad_before: needed / 2,
                pad_after: needed - needed / 2,
            });
        }
    };
    let padded = input
        .checked_add(before)
        .and_then(|n| n.checked_add(after))
        .ok_or_else(|| diag::size_overflow(&format!("{axis} {input} plus padding")))?;
    // Pools are written without their (usual) zero padding; convolutions
    // always show it, so the arithmetic reads the same for every kernel.
    let unpadded_pool = window == Window::Pool && spec.pad == Pad::Both(0);
    let sum = if unpadded_pool {
        input.to_string()
    } else {
        diag::padded_sum(input, before, after)
    };
    let what = diag::Window {
        word: window.word(),
        size: spec.size,
        dilation: spec.dilation,
        stride: spec.stride,
    };
    if span > padded {
        return Err(diag::window_too_big(
            &what,
            axis,
            padded,
            &sum,
            !unpadded_pool,
        ));
    }
    let travel = padded - span;
    let rest = travel % spec.stride;
    if rest != 0 && round == Round::Exact {
        let tiles = unpadded_pool && spec.stride == spec.size;
        return Err(if tiles {
            diag::pool_remainder(axis, input, spec.size)
        } else {
            diag::partial_window(&what, axis, &sum, span, rest)
        });
    }
    Ok(Axis {
        out: travel / spec.stride + 1,
        pad_before: before,
        pad_after: after - rest.min(after),
    })
}

/// A window over one axis as PyTorch's modules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TorchAxis {
    pub(crate) input: usize,
    pub(crate) size: usize,
    pub(crate) stride: usize,
    pub(crate) dilation: usize,
    pub(crate) pad_before: usize,
    pub(crate) out: usize,
}

impl TorchAxis {
    /// The `(before, after)` padding that gives `out` windows, or `None`
    /// when PyTorch's symmetric `padding = pad_before` (its floor rounding
    /// included) already does.
    fn sides(self) -> Option<(usize, usize)> {
        let span = (self.size - 1) * self.dilation + 1;
        let padded = self.input + 2 * self.pad_before;
        if padded >= span && (padded - span) / self.stride + 1 == self.out {
            return None;
        }
        let after =
            ((self.out - 1) * self.stride + span).saturating_sub(self.input + self.pad_before);
        Some((self.pad_before, after))
    }
}

/// How PyTorch pads a window's input: by the module's own symmetric
/// `padding`, or by a padding module before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TorchPad {
    /// `padding=…` of the module, as Python (`1` or `(1, 2)`); empty for none.
    Symmetric(String),
    /// The sides of `nn.ZeroPad2d` and kin: `(left, right, top, bottom)`.
    Sides(String),
}

/// The padding of a window over `axes` (height then width, or length);
/// `halves`: the module refuses padding over half its window (pools).
pub(crate) fn torch_pad(axes: &[TorchAxis], halves: bool) -> TorchPad {
    let fits = |a: &TorchAxis| !halves || a.pad_before <= a.size / 2;
    if axes.iter().all(|a| a.sides().is_none() && fits(a)) {
        let pads: Vec<usize> = axes.iter().map(|a| a.pad_before).collect();
        return TorchPad::Symmetric(if pads.iter().all(|&p| p == 0) {
            String::new()
        } else {
            py_tuple(&pads)
        });
    }
    let sides: Vec<String> = axes
        .iter()
        .rev()
        .flat_map(|a| {
            let (b, e) = a.sides().unwrap_or((a.pad_before, a.pad_before));
            [b.to_string(), e.to_string()]
        })
        .collect();
    TorchPad::Sides(format!("({})", sides.join(", ")))
}

/// One value, or a tuple when the axes differ: `5`, `(1, 3)`.
pub(crate) fn py_tuple(values: &[usize]) -> String {
    match values {
        [first, rest @ ..] if rest.iter().all(|v| v == first) => first.to_string(),
        _ => {
            let items: Vec<String> = values.iter().map(ToString::to_string).collect();
            format!("({})", items.join(", "))
        }
    }
}

/// A window lying wholly in the padding sees only zeros (a convolution's
/// output would be its bias alone; a pool's would be empty), so explicit
/// padding must be smaller than the window's span. (`same` never pads that
/// much.)
pub(crate) fn check_pad(
    window: Window,
    value: &Value,
    rank: Rank,
    kernel: (usize, usize),
    dilation: (usize, usize),
    pad: (Pad, Pad),
    errs: &mut Errors,
) -> Option<()> {
    let span = |k: usize, d: usize| (k - 1).saturating_mul(d).saturating_add(1);
    let sides = |p: Pad| match p {
        Pad::Both(p) => [p, p],
        Pad::Sides(b, a) => [b, a],
        Pad::Same => [0, 0],
    };
    let (sh, sw) = (span(kernel.0, dilation.0), span(kernel.1, dilation.1));
    let square = pad.0 == pad.1 && sh == sw && matches!(pad.0, Pad::Both(_));
    let mut ok = true;
    if rank == Rank::Two && square {
        let p = sides(pad.0)[0];
        if p >= sh {
            errs.at(value, diag::pad_not_smaller(window.word(), None, p, sh));
            ok = false;
        }
        return ok.then_some(());
    }
    let axes = match rank {
        Rank::Two => vec![("height", pad.0, sh), ("width", pad.1, sw)],
        Rank::One => vec![("length", pad.1, sw)],
    };
    for (axis, p, s) in axes {
        if let Some(&p) = sides(p).iter().max()
            && p >= s
        {
            let axis = (rank == Rank::Two).then_some(axis);
            errs.at(value, diag::pad_not_smaller(window.word(), axis, p, s));
            ok = false;
        }
    }
    ok.then_some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(size: usize, stride: usize, pad: Pad) -> AxisSpec {
        AxisSpec {
            size,
            stride,
            dilation: 1,
            pad,
        }
    }

    fn out(input: usize, s: AxisSpec, round: Round) -> Result<(usize, usize, usize), String> {
        resolve(Window::Kernel, "height", input, s, round)
            .map(|a| (a.out, a.pad_before, a.pad_after))
    }

    #[test]
    fn same_padding_matches_keras() {
        // ceil(in / stride) outputs; the extra padding goes after.
        assert_eq!(out(32, spec(3, 2, Pad::Same), Round::Exact), Ok((16, 0, 1)));
        assert_eq!(
            out(49, spec(10, 2, Pad::Same), Round::Exact),
            Ok((25, 4, 5))
        );
        assert_eq!(out(10, spec(4, 2, Pad::Same), Round::Exact), Ok((5, 1, 1)));
        assert_eq!(out(5, spec(3, 1, Pad::Same), Round::Exact), Ok((5, 1, 1)));
        assert_eq!(out(3, spec(1, 2, Pad::Same), Round::Exact), Ok((2, 0, 0)));
    }

    #[test]
    fn floor_rounding_matches_pytorch() {
        assert_eq!(
            out(32, spec(3, 2, Pad::Both(1)), Round::Floor),
            Ok((16, 1, 0))
        );
        assert_eq!(
            out(96, spec(3, 2, Pad::Both(1)), Round::Floor),
            Ok((48, 1, 0))
        );
        assert_eq!(
            out(7, spec(2, 2, Pad::Both(0)), Round::Floor),
            Ok((3, 0, 0))
        );
    }

    #[test]
    fn exact_rounding_names_the_ways_out() {
        let err = out(32, spec(3, 2, Pad::Both(1)), Round::Exact).unwrap_err();
        assert_eq!(
            err,
            "kernel 3 at stride 2 leaves a partial window along the height \
             ((32 + 2*1 - 3) % 2 = 1); use `round = floor` to drop it, as PyTorch does, \
             or `pad = same` to pad it, as Keras does"
        );
    }

    #[test]
    fn sides_and_dilation() {
        assert_eq!(
            out(28, spec(5, 1, Pad::Sides(1, 3)), Round::Exact),
            Ok((28, 1, 3))
        );
        let dilated = AxisSpec {
            dilation: 2,
            ..spec(3, 1, Pad::Both(2))
        };
        assert_eq!(out(10, dilated, Round::Exact), Ok((10, 2, 2)));
        assert_eq!(
            out(
                3,
                AxisSpec {
                    dilation: 2,
                    ..spec(3, 1, Pad::Both(0))
                },
                Round::Exact
            )
            .unwrap_err(),
            "kernel 3 at dilation 2 spans 5, more than the padded height 3 (3 + 2*0)"
        );
    }
}
