//! Pooling: `pool(k, …)` (max) and `avgpool(k, …)` over
//! `[channels, height, width]`, `pool1d(k, …)` and `avgpool1d(k, …)` over
//! `[channels, length]`, and `global_avgpool` and `global_maxpool`, which
//! reduce every channel to one value.
//!
//! Options: `stride` (default: the window), `pad` (a number, per-axis or
//! per-side pairs, or `same`) and `round = floor`; the window arithmetic is
//! `window.rs`'s. Padded cells never win a max and are not counted in an
//! average (TensorFlow's rule for `same`; PyTorch's
//! `count_include_pad = False`).

use super::args::{self, Bound, Schema};
use super::spec::{KindDef, TorchModule};
use super::window::{self, AxisSpec, Pad, Rank, Round, TorchAxis, TorchPad, Window};
use crate::diag::{self, Errors};
use crate::vocab::Shape;

const fn def(
    name: &'static str,
    known_as: &'static [&'static str],
    lower: fn(&Bound, &mut Errors) -> Option<Pool>,
) -> KindDef<Pool> {
    KindDef {
        schema: Schema {
            name,
            positional: &["size"],
            required: 1,
            named: &["stride", "pad", "round"],
        },
        aliases: &[],
        known_as,
        lower,
    }
}

pub(crate) const DEFS: &[KindDef<Pool>] = &[
    def(
        "pool",
        &["maxpool", "max_pool2d", "MaxPooling2D"],
        |args, errs| lower(args, Reduce::Max, Rank::Two, errs),
    ),
    def(
        "avgpool",
        &["avg_pool2d", "AveragePooling2D"],
        |args, errs| lower(args, Reduce::Avg, Rank::Two, errs),
    ),
    def("pool1d", &["maxpool1d", "MaxPooling1D"], |args, errs| {
        lower(args, Reduce::Max, Rank::One, errs)
    }),
    def("avgpool1d", &["AveragePooling1D"], |args, errs| {
        lower(args, Reduce::Avg, Rank::One, errs)
    }),
];

const fn global(
    name: &'static str,
    known_as: &'static [&'static str],
    reduce: fn(&Bound, &mut Errors) -> Option<GlobalPool>,
) -> KindDef<GlobalPool> {
    KindDef {
        schema: Schema {
            name,
            positional: &[],
            required: 0,
            named: &[],
        },
        aliases: &[],
        known_as,
        lower: reduce,
    }
}

pub(crate) const GLOBAL_DEFS: &[KindDef<GlobalPool>] = &[
    global(
        "global_avgpool",
        &[
            "GlobalAveragePooling2D",
            "GlobalAveragePooling1D",
            "AdaptiveAvgPool2d",
            "gap",
        ],
        |_, _| {
            Some(GlobalPool {
                reduce: Reduce::Avg,
            })
        },
    ),
    global(
        "global_maxpool",
        &[
            "GlobalMaxPooling2D",
            "GlobalMaxPooling1D",
            "AdaptiveMaxPool2d",
        ],
        |_, _| {
            Some(GlobalPool {
                reduce: Reduce::Max,
            })
        },
    ),
];

/// What a window reduces to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reduce {
    Max,
    Avg,
}

/// A validated pooling window. In 1-D the height axis is the trivial one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pool {
    pub(crate) reduce: Reduce,
    pub(crate) rank: Rank,
    pub(crate) size: (usize, usize),
    pub(crate) stride: (usize, usize),
    pub(crate) pad: (Pad, Pad),
    pub(crate) round: Round,
}

/// A pool over the whole of each channel: `[c, h, w]` or `[c, l]` → `[c]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GlobalPool {
    pub(crate) reduce: Reduce,
}

/// Every size of a pool over one input (1-D: height 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Geometry {
    pub(crate) c: usize,
    pub(crate) h: usize,
    pub(crate) w: usize,
    pub(crate) size: (usize, usize),
    pub(crate) stride: (usize, usize),
    /// Padding before the first row and column (top, left).
    pub(crate) pad: (usize, usize),
    pub(crate) oh: usize,
    pub(crate) ow: usize,
}

fn lower(args: &Bound, reduce: Reduce, rank: Rank, errs: &mut Errors) -> Option<Pool> {
    let read = |v, what: &str, errs: &mut Errors| match rank {
        Rank::Two => args::extent(v, what, errs, args::count),
        Rank::One => args::count(v, what, errs).map(|n| (1, n)),
    };
    let size = args.positional(0).and_then(|v| read(v, "pool size", errs));
    let stride = match args.named("stride") {
        Some(v) => read(v, "stride", errs),
        None => size,
    };
    let pad = match (args.named("pad"), rank) {
        (None, _) => Some((Pad::Both(0), Pad::Both(0))),
        (Some(v), Rank::Two) => args::pad2(v, errs),
        (Some(v), Rank::One) => args::pad1(v, errs).map(|p| (Pad::Both(0), p)),
    };
    let round = match args.named("round") {
        Some(v) => args::round(v, errs),
        None => Some(Round::Exact),
    };
    let (size, pad) = (size?, pad?);
    if let Some(v) = args.named("pad") {
        window::check_pad(Window::Pool, v, rank, size, (1, 1), pad, errs)?;
    }
    Some(Pool {
        reduce,
        rank,
        size,
        stride: stride?,
        pad,
        round: round?,
    })
}

impl Pool {
    /// The geometry over `input`, or why the pool cannot take it.
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
        let axis = |name: &str, input: usize, size: usize, stride: usize, pad: Pad| {
            let spec = AxisSpec {
                size,
                stride,
                dilation: 1,
                pad,
            };
            window::resolve(Window::Pool, name, input, spec, self.round)
        };
        let (oh, top) = match self.rank {
            Rank::Two => {
                let a = axis("height", h, self.size.0, self.stride.0, self.pad.0)?;
                (a.out, a.pad_before)
            }
            Rank::One => (1, 0),
        };
        let width = if self.rank == Rank::Two {
            "width"
        } else {
            "length"
        };
        let a = axis(width, w, self.size.1, self.stride.1, self.pad.1)?;
        Ok(Geometry {
            c,
            h,
            w,
            size: self.size,
            stride: self.stride,
            pad: (top, a.pad_before),
            oh,
            ow: a.out,
        })
    }

    pub(crate) fn out_shape(&self, input: Shape, producer: Option<&str>) -> Result<Shape, String> {
        let g = self.geometry(input, producer)?;
        Ok(match self.rank {
            Rank::Two => Shape::Image {
                c: g.c,
                h: g.oh,
                w: g.ow,
            },
            Rank::One => Shape::Seq { c: g.c, l: g.ow },
        })
    }

    /// Whether this is a max pool whose windows tile the convolution output
    /// `(oh, ow)` exactly, which lets it fuse into that convolution.
    pub(crate) fn fuses_into_conv(&self, oh: usize, ow: usize) -> bool {
        self.reduce == Reduce::Max
            && self.size == self.stride
            && self.pad == (Pad::Both(0), Pad::Both(0))
            && oh.is_multiple_of(self.size.0)
            && ow.is_multiple_of(self.size.1)
    }

    /// `nn.MaxPool2d` or `nn.AvgPool2d` (`1d`). Padded cells take no part,
    /// as in PyTorch's max pools and `count_include_pad=False`; padding
    /// PyTorch's pools refuse (over half the window, or one side more than
    /// the other) becomes an `nn.ConstantPad2d` of −∞ before a max pool.
    ///
    /// # Errors
    /// The geometry's, which `infer` has already reported, and such padding
    /// on an average pool: padding it explicitly would count the padding.
    pub(crate) fn torch(&self, input: Shape) -> Result<Vec<TorchModule>, String> {
        let g = self.geometry(input, None)?;
        let axis = |i: usize| {
            let pick = |pair: (usize, usize)| if i == 0 { pair.0 } else { pair.1 };
            TorchAxis {
                input: if i == 0 { g.h } else { g.w },
                size: pick(g.size),
                stride: pick(g.stride),
                dilation: 1,
                pad_before: pick(g.pad),
                out: if i == 0 { g.oh } else { g.ow },
            }
        };
        // Formats a (height, width) pair as PyTorch's argument for the rank.
        type Pick = fn((usize, usize)) -> String;
        let (dims, axes, pick): (_, _, Pick) = match self.rank {
            Rank::Two => ("2d", vec![axis(0), axis(1)], |p| {
                window::py_tuple(&[p.0, p.1])
            }),
            Rank::One => ("1d", vec![axis(1)], |p| p.1.to_string()),
        };
        let mut modules = Vec::new();
        let mut args = vec![pick(g.size)];
        if g.stride != g.size {
            args.push(format!("stride={}", pick(g.stride)));
        }
        let (module, padding) = match (self.reduce, window::torch_pad(&axes, true)) {
            (Reduce::Max, TorchPad::Sides(sides)) => {
                let pad = format!("nn.ConstantPad{dims}({sides}, float(\"-inf\"))");
                modules.push(TorchModule::helper("_pad", pad));
                ("MaxPool", String::new())
            }
            (Reduce::Avg, TorchPad::Sides(sides)) => {
                return Err(format!(
                    "PyTorch's average pools cannot pad {sides} without counting the padding"
                ));
            }
            (Reduce::Max, TorchPad::Symmetric(p)) => ("MaxPool", p),
            (Reduce::Avg, TorchPad::Symmetric(p)) => ("AvgPool", p),
        };
        if !padding.is_empty() {
            args.push(format!("padding={padding}"));
            if self.reduce == Reduce::Avg {
                args.push("count_include_pad=False".into());
            }
        }
        modules.push(TorchModule::main(format!(
            "nn.{module}{dims}({})",
            args.join(", ")
        )));
        Ok(modules)
    }
}

impl GlobalPool {
    /// `nn.AdaptiveAvgPool2d(1)` (or max, or `1d`) and an `nn.Flatten`.
    pub(crate) fn torch(self, input: Shape) -> Vec<TorchModule> {
        let dims = if matches!(input, Shape::Seq { .. }) {
            "1d"
        } else {
            "2d"
        };
        let reduce = match self.reduce {
            Reduce::Max => "Max",
            Reduce::Avg => "Avg",
        };
        vec![
            TorchModule::main(format!("nn.Adaptive{reduce}Pool{dims}(1)")),
            TorchModule::helper("_flatten", "nn.Flatten()"),
        ]
    }

    pub(crate) fn out_shape(self, input: Shape, producer: Option<&str>) -> Result<Shape, String> {
        match input {
            Shape::Image { c, .. } | Shape::Seq { c, .. } => Ok(Shape::Flat(c)),
            Shape::Flat(_) => Err(diag::needs_channels(producer, input)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(size: usize, stride: usize) -> Pool {
        Pool {
            reduce: Reduce::Max,
            rank: Rank::Two,
            size: (size, size),
            stride: (stride, stride),
            pad: (Pad::Both(0), Pad::Both(0)),
            round: Round::Exact,
        }
    }

    fn image(c: usize, h: usize, w: usize) -> Shape {
        Shape::Image { c, h, w }
    }

    #[test]
    fn pool_halves_the_image() {
        assert_eq!(
            pool(2, 2).out_shape(image(30, 24, 24), None),
            Ok(image(30, 12, 12))
        );
    }

    #[test]
    fn pool_rejects_remainder_and_names_the_ways_out() {
        assert_eq!(
            pool(3, 3).out_shape(image(1, 4, 6), None).unwrap_err(),
            "height 4 is not divisible by pool size 3 (4 % 3 = 1); use `round = floor` to drop \
             it, as PyTorch does, or `pad = same` to pad it, as Keras does"
        );
        let floor = Pool {
            round: Round::Floor,
            ..pool(3, 3)
        };
        assert_eq!(floor.out_shape(image(1, 4, 6), None), Ok(image(1, 1, 2)));
    }

    #[test]
    fn pool_rejects_partial_window_with_stride() {
        assert_eq!(
            pool(3, 2).out_shape(image(1, 7, 6), None).unwrap_err(),
            "pool size 3 at stride 2 leaves a partial window along the width ((6 - 3) % 2 = 1); \
             use `round = floor` to drop it, as PyTorch does, or `pad = same` to pad it, as Keras does"
        );
        assert_eq!(
            pool(3, 2).out_shape(image(1, 7, 7), None),
            Ok(image(1, 3, 3))
        );
    }

    #[test]
    fn pool_rejects_window_larger_than_input() {
        assert_eq!(
            pool(3, 3).out_shape(image(1, 2, 9), None).unwrap_err(),
            "pool size 3 is larger than the height 2"
        );
    }

    #[test]
    fn same_pooling_pads_like_keras() {
        let same = Pool {
            pad: (Pad::Same, Pad::Same),
            ..pool(3, 2)
        };
        let g = same.geometry(image(4, 7, 8), None).unwrap();
        assert_eq!((g.oh, g.ow, g.pad), (4, 4, (1, 0)));
    }

    #[test]
    fn one_dimensional_and_global() {
        let p = Pool {
            rank: Rank::One,
            size: (1, 2),
            stride: (1, 2),
            ..pool(1, 1)
        };
        assert_eq!(
            p.out_shape(Shape::Seq { c: 3, l: 10 }, None),
            Ok(Shape::Seq { c: 3, l: 5 })
        );
        let gap = GlobalPool {
            reduce: Reduce::Avg,
        };
        assert_eq!(gap.out_shape(image(64, 5, 5), None), Ok(Shape::Flat(64)));
        assert_eq!(
            gap.out_shape(Shape::Seq { c: 8, l: 5 }, None),
            Ok(Shape::Flat(8))
        );
        assert!(gap.out_shape(Shape::Flat(10), Some("affine(10)")).is_err());
    }

    #[test]
    fn pool_rejects_flat_input() {
        assert!(
            pool(2, 2)
                .out_shape(Shape::Flat(10), Some("affine(10)"))
                .is_err()
        );
    }
}
