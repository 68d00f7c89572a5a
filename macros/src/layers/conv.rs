//! Convolutions: `conv(filters, kernel, …)` over `[channels, height, width]`,
//! `dwconv(kernel, multiplier = 1, …)` (depthwise: one group per input
//! channel) and `conv1d(filters, kernel, …)` over `[channels, length]`.
//!
//! Options: `stride`, `pad` (a number, per-axis or per-side pairs, or
//! `same`), `dilation`, `groups` (conv and conv1d), `bias = false`,
//! `round = floor` and `init`. Kernel, stride and dilation are each a number
//! or a `(height, width)` pair. The window arithmetic is `window.rs`'s.
//! Weights use PyTorch's layout, `[filters, channels / groups, kh, kw]`
//! (`[filters, channels / groups, k]` in 1-D), and share the `conv` prefix.

use super::args::{self, Bound, Schema};
use super::spec::{KindDef, ParamSpec, Params, TorchModule};
use super::window::{self, AxisSpec, Pad, Rank, Round, TorchAxis, TorchPad, Window};
use crate::diag::{self, Errors};
use crate::vocab::{Init, Shape};

pub(crate) const DEFS: &[KindDef<Conv>] = &[
    KindDef {
        schema: Schema {
            name: "conv",
            positional: &["filters", "kernel"],
            required: 2,
            named: &[
                "stride", "pad", "dilation", "groups", "bias", "round", "init",
            ],
        },
        aliases: &[],
        known_as: &["conv2d", "Convolution2D"],
        lower: |args, errs| lower(args, Rank::Two, false, errs),
    },
    KindDef {
        schema: Schema {
            name: "dwconv",
            positional: &["kernel"],
            required: 1,
            named: &[
                "multiplier",
                "stride",
                "pad",
                "dilation",
                "bias",
                "round",
                "init",
            ],
        },
        aliases: &[],
        known_as: &["depthwise", "depthwise_conv2d", "DepthwiseConv2D"],
        lower: |args, errs| lower(args, Rank::Two, true, errs),
    },
    KindDef {
        schema: Schema {
            name: "conv1d",
            positional: &["filters", "kernel"],
            required: 2,
            named: &[
                "stride", "pad", "dilation", "groups", "bias", "round", "init",
            ],
        },
        aliases: &[],
        known_as: &[],
        lower: |args, errs| lower(args, Rank::One, false, errs),
    },
];

/// How many filters, and in how many groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Filters {
    /// `filters` in `groups` groups.
    Grouped { filters: usize, groups: usize },
    /// Depthwise: one group per input channel, `multiplier` filters each.
    Depthwise { multiplier: usize },
}

/// A validated convolution. In 1-D the height axis is the trivial one:
/// kernel, stride and dilation 1, no padding.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Conv {
    pub(crate) rank: Rank,
    pub(crate) filters: Filters,
    pub(crate) kernel: (usize, usize),
    pub(crate) stride: (usize, usize),
    pub(crate) dilation: (usize, usize),
    pub(crate) pad: (Pad, Pad),
    pub(crate) round: Round,
    pub(crate) bias: bool,
    pub(crate) init: Option<Init>,
}

/// Every size of a convolution over one input (1-D: height 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Geometry {
    pub(crate) c: usize,
    pub(crate) h: usize,
    pub(crate) w: usize,
    pub(crate) f: usize,
    pub(crate) groups: usize,
    pub(crate) kernel: (usize, usize),
    pub(crate) stride: (usize, usize),
    pub(crate) dilation: (usize, usize),
    /// Padding before the first row and column (top, left); what a window
    /// reaches past the end is padding too.
    pub(crate) pad: (usize, usize),
    pub(crate) oh: usize,
    pub(crate) ow: usize,
}

/// A positive extent: a number, or a `(height, width)` pair in 2-D.
fn extent(
    args: &Bound,
    name: &str,
    rank: Rank,
    default: usize,
    errs: &mut Errors,
) -> Option<(usize, usize)> {
    match (args.named(name), rank) {
        (None, Rank::Two) => Some((default, default)),
        (None, Rank::One) => Some((1, default)),
        (Some(v), Rank::Two) => args::extent(v, name, errs, args::count),
        (Some(v), Rank::One) => args::count(v, name, errs).map(|n| (1, n)),
    }
}

fn lower(args: &Bound, rank: Rank, depthwise: bool, errs: &mut Errors) -> Option<Conv> {
    let (kernel_at, filters) = if depthwise {
        let multiplier = match args.named("multiplier") {
            Some(v) => args::count(v, "multiplier", errs),
            None => Some(1),
        };
        (
            0,
            multiplier.map(|multiplier| Filters::Depthwise { multiplier }),
        )
    } else {
        let filters = args
            .positional(0)
            .and_then(|v| args::count(v, "filters", errs));
        let groups = match args.named("groups") {
            Some(v) => args::count(v, "groups", errs),
            None => Some(1),
        };
        let filters = match (filters, groups) {
            (Some(filters), Some(groups)) => Some(Filters::Grouped { filters, groups }),
            _ => None,
        };
        (1, filters)
    };
    let kernel = args.positional(kernel_at).and_then(|v| match rank {
        Rank::Two => args::extent(v, "kernel", errs, args::count),
        Rank::One => args::count(v, "kernel", errs).map(|k| (1, k)),
    });
    let stride = extent(args, "stride", rank, 1, errs);
    let dilation = extent(args, "dilation", rank, 1, errs);
    let pad = match (args.named("pad"), rank) {
        (None, _) => Some((Pad::Both(0), Pad::Both(0))),
        (Some(v), Rank::Two) => args::pad2(v, errs),
        (Some(v), Rank::One) => args::pad1(v, errs).map(|p| (Pad::Both(0), p)),
    };
    let round = match args.named("round") {
        Some(v) => args::round(v, errs),
        None => Some(Round::Exact),
    };
    let bias = match args.named("bias") {
        Some(v) => args::flag(v, "bias", errs),
        None => Some(true),
    };
    let init = args::optional_init(args, errs);
    let (kernel, dilation, pad) = (kernel?, dilation?, pad?);
    if let Some(v) = args.named("pad") {
        window::check_pad(Window::Kernel, v, rank, kernel, dilation, pad, errs)?;
    }
    Some(Conv {
        rank,
        filters: filters?,
        kernel,
        stride: stride?,
        dilation,
        pad,
        round: round?,
        bias: bias?,
        init: init?,
    })
}

impl Conv {
    /// The geometry over `input`, or why the convolution cannot take it.
    pub(crate) fn geometry(
        &self,
        input: Shape,
        producer: Option<&str>,
    ) -> Result<Geometry, String> {
        let (c, h, w) = match (self.rank, input) {
            (Rank::Two, Shape::Image { c, h, w }) => (c, h, w),
            (Rank::One, Shape::Seq { c, l }) => (c, 1, l),
            (Rank::Two, other) => return Err(diag::needs_image(producer, other)),
            (Rank::One, other) => return Err(diag::needs_seq(producer, other)),
        };
        let (f, groups) = match self.filters {
            Filters::Grouped { filters, groups } => (filters, groups),
            Filters::Depthwise { multiplier } => (
                c.checked_mul(multiplier)
                    .ok_or_else(|| diag::overflow("filter count", c, multiplier))?,
                c,
            ),
        };
        if !c.is_multiple_of(groups) || !f.is_multiple_of(groups) {
            return Err(diag::groups_do_not_divide(c, f, groups));
        }
        let axis = |name: &str, input: usize, k: usize, s: usize, d: usize, pad: Pad| {
            let spec = AxisSpec {
                size: k,
                stride: s,
                dilation: d,
                pad,
            };
            window::resolve(Window::Kernel, name, input, spec, self.round)
        };
        let (oh, top) = match self.rank {
            Rank::Two => {
                let a = axis(
                    "height",
                    h,
                    self.kernel.0,
                    self.stride.0,
                    self.dilation.0,
                    self.pad.0,
                )?;
                (a.out, a.pad_before)
            }
            Rank::One => (1, 0),
        };
        let width = if self.rank == Rank::Two {
            "width"
        } else {
            "length"
        };
        let a = axis(
            width,
            w,
            self.kernel.1,
            self.stride.1,
            self.dilation.1,
            self.pad.1,
        )?;
        let per_filter = (c / groups)
            .checked_mul(self.kernel.0)
            .and_then(|n| n.checked_mul(self.kernel.1))
            .ok_or_else(|| diag::size_overflow("kernel size"))?;
        per_filter
            .checked_mul(f)
            .ok_or_else(|| diag::overflow("weight count", per_filter, f))?;
        f.checked_mul(oh)
            .and_then(|n| n.checked_mul(a.out))
            .ok_or_else(|| diag::size_overflow("output size"))?;
        Ok(Geometry {
            c,
            h,
            w,
            f,
            groups,
            kernel: self.kernel,
            stride: self.stride,
            dilation: self.dilation,
            pad: (top, a.pad_before),
            oh,
            ow: a.out,
        })
    }

    pub(crate) fn out_shape(&self, input: Shape, producer: Option<&str>) -> Result<Shape, String> {
        let g = self.geometry(input, producer)?;
        Ok(match self.rank {
            Rank::Two => Shape::Image {
                c: g.f,
                h: g.oh,
                w: g.ow,
            },
            Rank::One => Shape::Seq { c: g.f, l: g.ow },
        })
    }

    /// Weight (and bias) for `input`; `infer` has checked that the
    /// geometry resolves.
    pub(crate) fn params(&self, input: Shape) -> Params {
        let c = input.channels();
        let (f, groups) = match self.filters {
            Filters::Grouped { filters, groups } => (filters, groups),
            Filters::Depthwise { multiplier } => (c.saturating_mul(multiplier), c),
        };
        let per_group = c / groups.max(1);
        let (kh, kw) = self.kernel;
        let shape = match self.rank {
            Rank::Two => vec![f, per_group, kh, kw],
            Rank::One => vec![f, per_group, kw],
        };
        let mut tensors = vec![ParamSpec::weight(shape, per_group * kh * kw, f * kh * kw)];
        if self.bias {
            tensors.push(ParamSpec::bias(f, per_group * kh * kw));
        }
        Params {
            prefix: "conv",
            tensors,
        }
    }

    /// `nn.Conv2d` or `nn.Conv1d`, after an `nn.ZeroPad2d` (`1d`) when the
    /// padding is one PyTorch's symmetric `padding` cannot express (`same`
    /// with an even kernel or a stride).
    ///
    /// # Errors
    /// The geometry's, which `infer` has already reported.
    pub(crate) fn torch(&self, input: Shape) -> Result<Vec<TorchModule>, String> {
        let g = self.geometry(input, None)?;
        let (dims, axes) = match self.rank {
            Rank::Two => ("2d", vec![g.axis(0), g.axis(1)]),
            Rank::One => ("1d", vec![g.axis(1)]),
        };
        let pick = |pair: (usize, usize)| match self.rank {
            Rank::Two => window::py_tuple(&[pair.0, pair.1]),
            Rank::One => pair.1.to_string(),
        };
        let mut modules = Vec::new();
        let mut args = vec![
            g.c.to_string(),
            g.f.to_string(),
            format!("kernel_size={}", pick(g.kernel)),
        ];
        if g.stride != (1, 1) {
            args.push(format!("stride={}", pick(g.stride)));
        }
        match window::torch_pad(&axes, false) {
            TorchPad::Symmetric(p) if p.is_empty() => {}
            TorchPad::Symmetric(p) => args.push(format!("padding={p}")),
            TorchPad::Sides(sides) => {
                modules.push(TorchModule::helper(
                    "_pad",
                    format!("nn.ZeroPad{dims}({sides})"),
                ));
            }
        }
        if g.dilation != (1, 1) {
            args.push(format!("dilation={}", pick(g.dilation)));
        }
        if g.groups != 1 {
            args.push(format!("groups={}", g.groups));
        }
        if !self.bias {
            args.push("bias=False".into());
        }
        modules.push(TorchModule::main(format!(
            "nn.Conv{dims}({})",
            args.join(", ")
        )));
        Ok(modules)
    }
}

impl Geometry {
    /// Axis 0 (height) or 1 (width, or a sequence's length).
    fn axis(&self, i: usize) -> TorchAxis {
        let pick = |pair: (usize, usize)| if i == 0 { pair.0 } else { pair.1 };
        TorchAxis {
            input: if i == 0 { self.h } else { self.w },
            size: pick(self.kernel),
            stride: pick(self.stride),
            dilation: pick(self.dilation),
            pad_before: pick(self.pad),
            out: if i == 0 { self.oh } else { self.ow },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(filters: usize, kernel: usize) -> Conv {
        Conv {
            rank: Rank::Two,
            filters: Filters::Grouped { filters, groups: 1 },
            kernel: (kernel, kernel),
            stride: (1, 1),
            dilation: (1, 1),
            pad: (Pad::Both(0), Pad::Both(0)),
            round: Round::Exact,
            bias: true,
            init: None,
        }
    }

    fn image(c: usize, h: usize, w: usize) -> Shape {
        Shape::Image { c, h, w }
    }

    #[test]
    fn conv_follows_the_formula() {
        assert_eq!(
            conv(30, 5).out_shape(image(1, 28, 28), None),
            Ok(image(30, 24, 24))
        );
        let strided = Conv {
            stride: (2, 2),
            pad: (Pad::Both(1), Pad::Both(1)),
            ..conv(8, 4)
        };
        assert_eq!(
            strided.out_shape(image(1, 28, 28), None),
            Ok(image(8, 14, 14))
        );
    }

    #[test]
    fn conv_rejects_kernel_larger_than_input() {
        assert_eq!(
            conv(2, 5).out_shape(image(1, 4, 9), None).unwrap_err(),
            "kernel 5 is larger than the padded height 4 (4 + 2*0)"
        );
    }

    #[test]
    fn conv_rejects_partial_window_and_names_the_ways_out() {
        let strided = Conv {
            stride: (2, 2),
            ..conv(2, 5)
        };
        assert_eq!(
            strided.out_shape(image(1, 28, 28), None).unwrap_err(),
            "kernel 5 at stride 2 leaves a partial window along the height ((28 + 2*0 - 5) % 2 = 1); \
             use `round = floor` to drop it, as PyTorch does, or `pad = same` to pad it, as Keras does"
        );
    }

    #[test]
    fn resnet_downsampling_with_floor_or_same() {
        let floor = Conv {
            stride: (2, 2),
            pad: (Pad::Both(1), Pad::Both(1)),
            round: Round::Floor,
            ..conv(32, 3)
        };
        let g = floor.geometry(image(16, 32, 32), None).unwrap();
        assert_eq!((g.oh, g.ow, g.pad), (16, 16, (1, 1)));
        let same = Conv {
            stride: (2, 2),
            pad: (Pad::Same, Pad::Same),
            ..conv(32, 3)
        };
        let g = same.geometry(image(16, 32, 32), None).unwrap();
        assert_eq!((g.oh, g.ow, g.pad), (16, 16, (0, 0)));
    }

    #[test]
    fn depthwise_and_groups() {
        let dw = Conv {
            filters: Filters::Depthwise { multiplier: 2 },
            pad: (Pad::Same, Pad::Same),
            ..conv(0, 3)
        };
        let g = dw.geometry(image(8, 5, 5), None).unwrap();
        assert_eq!((g.f, g.groups, g.oh), (16, 8, 5));
        assert_eq!(dw.params(image(8, 5, 5)).tensors[0].shape, [16, 1, 3, 3]);
        let grouped = Conv {
            filters: Filters::Grouped {
                filters: 6,
                groups: 4,
            },
            ..conv(0, 1)
        };
        assert_eq!(
            grouped.out_shape(image(8, 5, 5), None).unwrap_err(),
            "6 filters and 8 channels must both be divisible by `groups = 4`"
        );
    }

    #[test]
    fn conv1d_slides_along_the_length() {
        let c = Conv {
            rank: Rank::One,
            kernel: (1, 3),
            stride: (1, 2),
            pad: (Pad::Both(0), Pad::Same),
            ..conv(4, 1)
        };
        assert_eq!(
            c.out_shape(Shape::Seq { c: 2, l: 9 }, None),
            Ok(Shape::Seq { c: 4, l: 5 })
        );
        assert_eq!(
            c.params(Shape::Seq { c: 2, l: 9 }).tensors[0].shape,
            [4, 2, 3]
        );
        assert_eq!(
            c.out_shape(image(1, 4, 4), None).unwrap_err(),
            "it needs [channels, length], and the network input is [1, 4, 4]"
        );
    }

    #[test]
    fn conv_rejects_flat_input() {
        assert_eq!(
            conv(8, 3)
                .out_shape(Shape::Flat(100), Some("affine(100)"))
                .unwrap_err(),
            "it needs [channels, height, width], and `affine(100)` produced a flat vector"
        );
        assert_eq!(
            conv(8, 3).out_shape(Shape::Flat(100), None).unwrap_err(),
            "it needs [channels, height, width], and the network input is a flat vector"
        );
    }

    #[test]
    fn conv_rejects_overflowing_weights() {
        assert_eq!(
            conv(usize::MAX, 1)
                .out_shape(image(2, 4, 4), None)
                .unwrap_err(),
            format!("weight count 2 * {} overflows usize", usize::MAX)
        );
    }

    #[test]
    fn conv_params_use_pytorch_layout() {
        let p = conv(30, 5).params(image(1, 28, 28)).tensors;
        assert_eq!(p[0].shape, [30, 1, 5, 5]);
        assert_eq!((p[0].fan_in, p[0].fan_out), (25, 750));
        assert_eq!(p[1].shape, [30]);
        let no_bias = Conv {
            bias: false,
            ..conv(30, 5)
        };
        assert_eq!(no_bias.params(image(1, 28, 28)).tensors.len(), 1);
    }
}
