//! `conv(filters, kernel, stride = 1, pad = 0, init = …)`: 2-D convolution.
//!
//! Kernel, stride and pad are each a number or a `(height, width)` pair.
//! A window that would hang over the padded input is an error, not floored:
//! `(input + 2*pad - kernel)` must be divisible by the stride.

use super::args::{self, Bound, Schema};
use super::spec::{KindDef, ParamSpec, Params, Role};
use crate::diag::{self, Errors};
use crate::vocab::{Init, Shape};

pub(crate) const DEFS: &[KindDef<Conv>] = &[KindDef {
    schema: Schema {
        name: "conv",
        positional: &["filters", "kernel"],
        required: 2,
        named: &["stride", "pad", "init"],
    },
    aliases: &[],
    lower,
}];

/// A validated convolution.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Conv {
    pub(crate) filters: usize,
    pub(crate) kernel: (usize, usize),
    pub(crate) stride: (usize, usize),
    pub(crate) pad: (usize, usize),
    pub(crate) init: Option<Init>,
}

fn lower(args: &Bound, errs: &mut Errors) -> Option<Conv> {
    let filters = args
        .positional(0)
        .and_then(|v| args::count(v, "filters", errs));
    let kernel = args
        .positional(1)
        .and_then(|v| args::extent(v, "kernel", errs, args::count));
    let stride = match args.named("stride") {
        Some(v) => args::extent(v, "stride", errs, args::count),
        None => Some((1, 1)),
    };
    let pad = match args.named("pad") {
        Some(v) => args::extent(v, "pad", errs, args::whole),
        None => Some((0, 0)),
    };
    let init = args::optional_init(args, errs);
    let (kernel, pad) = (kernel?, pad?);
    // A window lying wholly in the padding sees only zeros: its output would
    // be the bias alone, so such padding is a mistake.
    let mut ok = true;
    if let Some(v) = args.named("pad") {
        if pad.0 == pad.1 && kernel.0 == kernel.1 {
            if pad.0 >= kernel.0 {
                errs.at(v, diag::pad_not_smaller(None, pad.0, kernel.0));
                ok = false;
            }
        } else {
            for (axis, p, k) in [("height", pad.0, kernel.0), ("width", pad.1, kernel.1)] {
                if p >= k {
                    errs.at(v, diag::pad_not_smaller(Some(axis), p, k));
                    ok = false;
                }
            }
        }
    }
    ok.then_some(())?;
    Some(Conv {
        filters: filters?,
        kernel,
        stride: stride?,
        pad,
        init: init?,
    })
}

/// Output extent of a convolution along one spatial axis:
/// `out = (input + 2*pad - kernel) / stride + 1`.
///
/// A kernel that does not fit, or a stride that leaves a partial window,
/// is rejected; the reason shows the formula with the numbers filled in.
pub(crate) fn out_extent(
    axis: &str,
    input: usize,
    kernel: usize,
    stride: usize,
    pad: usize,
) -> Result<usize, String> {
    let padded = pad
        .checked_mul(2)
        .and_then(|p| p.checked_add(input))
        .ok_or_else(|| diag::size_overflow(&format!("{axis} {input} + 2*{pad}")))?;
    if kernel > padded {
        return Err(diag::kernel_too_big(axis, kernel, input, pad));
    }
    let travel = padded - kernel;
    if !travel.is_multiple_of(stride) {
        return Err(diag::partial_window(
            "kernel",
            axis,
            input,
            Some(pad),
            kernel,
            stride,
        ));
    }
    Ok(travel / stride + 1)
}

impl Conv {
    pub(crate) fn out_shape(&self, input: Shape, producer: Option<&str>) -> Result<Shape, String> {
        let Shape::Image { c, h, w } = input else {
            return Err(diag::spatial_after_flat(producer));
        };
        let oh = out_extent("height", h, self.kernel.0, self.stride.0, self.pad.0)?;
        let ow = out_extent("width", w, self.kernel.1, self.stride.1, self.pad.1)?;
        let per_filter = c
            .checked_mul(self.kernel.0)
            .and_then(|n| n.checked_mul(self.kernel.1))
            .ok_or_else(|| diag::size_overflow("kernel size"))?;
        per_filter
            .checked_mul(self.filters)
            .ok_or_else(|| diag::overflow("weight count", per_filter, self.filters))?;
        Shape::Image {
            c: self.filters,
            h: oh,
            w: ow,
        }
        .len()
        .ok_or_else(|| diag::size_overflow("output size"))?;
        Ok(Shape::Image {
            c: self.filters,
            h: oh,
            w: ow,
        })
    }

    pub(crate) fn params(&self, input: Shape) -> Params {
        let c = input.channels();
        let (kh, kw) = self.kernel;
        Params {
            prefix: "conv",
            tensors: vec![
                ParamSpec::weight(
                    vec![self.filters, c, kh, kw],
                    c * kh * kw,
                    self.filters * kh * kw,
                ),
                ParamSpec::zeros("bias", vec![self.filters], Role::Bias),
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_extent_follows_the_formula() {
        assert_eq!(out_extent("height", 28, 5, 1, 0), Ok(24));
        assert_eq!(out_extent("height", 28, 4, 2, 1), Ok(14));
        assert_eq!(out_extent("width", 7, 7, 1, 0), Ok(1));
    }

    #[test]
    fn conv_rejects_kernel_larger_than_input() {
        assert_eq!(
            out_extent("height", 4, 5, 1, 0).unwrap_err(),
            "kernel 5 is larger than the padded height 4 (4 + 2*0)"
        );
        assert_eq!(
            out_extent("width", 2, 7, 1, 2).unwrap_err(),
            "kernel 7 is larger than the padded width 6 (2 + 2*2)"
        );
    }

    #[test]
    fn conv_rejects_partial_window() {
        assert_eq!(
            out_extent("height", 28, 5, 2, 0).unwrap_err(),
            "kernel 5 at stride 2 leaves a partial window along the height ((28 + 2*0 - 5) % 2 = 1)"
        );
    }

    #[test]
    fn conv_rejects_flat_input() {
        let conv = Conv {
            filters: 8,
            kernel: (3, 3),
            stride: (1, 1),
            pad: (0, 0),
            init: None,
        };
        assert_eq!(
            conv.out_shape(Shape::Flat(100), Some("affine(100)"))
                .unwrap_err(),
            "it needs [channels, height, width], and `affine(100)` produced a flat vector"
        );
        assert_eq!(
            conv.out_shape(Shape::Flat(100), None).unwrap_err(),
            "it needs [channels, height, width], and the network input is a flat vector"
        );
    }

    #[test]
    fn conv_rejects_overflowing_weights() {
        let conv = Conv {
            filters: usize::MAX,
            kernel: (1, 1),
            stride: (1, 1),
            pad: (0, 0),
            init: None,
        };
        let input = Shape::Image { c: 2, h: 4, w: 4 };
        assert_eq!(
            conv.out_shape(input, None).unwrap_err(),
            format!("weight count 2 * {} overflows usize", usize::MAX)
        );
    }

    #[test]
    fn conv_params_use_pytorch_layout() {
        let conv = Conv {
            filters: 30,
            kernel: (5, 5),
            stride: (1, 1),
            pad: (0, 0),
            init: None,
        };
        let p = conv.params(Shape::Image { c: 1, h: 28, w: 28 }).tensors;
        assert_eq!(p[0].shape, [30, 1, 5, 5]);
        assert_eq!((p[0].fan_in, p[0].fan_out), (25, 750));
        assert_eq!(p[1].shape, [30]);
    }
}
