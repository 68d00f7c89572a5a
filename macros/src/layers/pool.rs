//! `pool(k, stride = k)` (max) and `avgpool(k, stride = k)`.
//!
//! The window is a number or a `(height, width)` pair. With the default
//! stride the input must divide evenly by the window; with another stride,
//! `(input - window)` must divide by it. Nothing is floored silently.

use super::args::{self, Bound, Schema};
use super::spec::KindDef;
use crate::diag::{self, Errors};
use crate::vocab::Shape;

pub(crate) const DEFS: &[KindDef<Pool>] = &[
    KindDef {
        schema: Schema {
            name: "pool",
            positional: &["size"],
            required: 1,
            named: &["stride"],
        },
        aliases: &[],
        lower: |args, errs| lower(args, Reduce::Max, errs),
    },
    KindDef {
        schema: Schema {
            name: "avgpool",
            positional: &["size"],
            required: 1,
            named: &["stride"],
        },
        aliases: &[],
        lower: |args, errs| lower(args, Reduce::Avg, errs),
    },
];

/// What a window reduces to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reduce {
    Max,
    Avg,
}

/// A validated pooling window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pool {
    pub(crate) reduce: Reduce,
    pub(crate) size: (usize, usize),
    pub(crate) stride: (usize, usize),
}

fn lower(args: &Bound, reduce: Reduce, errs: &mut Errors) -> Option<Pool> {
    let size = args
        .positional(0)
        .and_then(|v| args::extent(v, "pool size", errs, args::count));
    let stride = match args.named("stride") {
        Some(v) => args::extent(v, "stride", errs, args::count),
        None => size,
    };
    Some(Pool {
        reduce,
        size: size?,
        stride: stride?,
    })
}

/// Output extent along one axis: `(input - size) / stride + 1`.
pub(crate) fn out_extent(
    axis: &str,
    input: usize,
    size: usize,
    stride: usize,
) -> Result<usize, String> {
    if size > input {
        return Err(diag::window_too_big(axis, size, input));
    }
    if stride == size && !input.is_multiple_of(size) {
        return Err(diag::pool_remainder(axis, input, size));
    }
    if !(input - size).is_multiple_of(stride) {
        return Err(diag::partial_window(
            "pool size",
            axis,
            input,
            None,
            size,
            stride,
        ));
    }
    Ok((input - size) / stride + 1)
}

impl Pool {
    pub(crate) fn out_shape(&self, input: Shape, producer: Option<&str>) -> Result<Shape, String> {
        let Shape::Image { c, h, w } = input else {
            return Err(diag::spatial_after_flat(producer));
        };
        let oh = out_extent("height", h, self.size.0, self.stride.0)?;
        let ow = out_extent("width", w, self.size.1, self.stride.1)?;
        Ok(Shape::Image { c, h: oh, w: ow })
    }

    /// Whether this is a max pool whose windows tile the input exactly
    /// (stride = size), which lets it fuse into the convolution before it.
    pub(crate) fn fuses_into_conv(&self) -> bool {
        self.reduce == Reduce::Max && self.size == self.stride
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_halves_the_image() {
        let pool = Pool {
            reduce: Reduce::Max,
            size: (2, 2),
            stride: (2, 2),
        };
        assert_eq!(
            pool.out_shape(
                Shape::Image {
                    c: 30,
                    h: 24,
                    w: 24
                },
                None
            ),
            Ok(Shape::Image {
                c: 30,
                h: 12,
                w: 12
            })
        );
    }

    #[test]
    fn pool_rejects_remainder() {
        assert_eq!(
            out_extent("height", 4, 3, 3).unwrap_err(),
            "height 4 is not divisible by pool size 3 (4 % 3 = 1)"
        );
    }

    #[test]
    fn pool_rejects_partial_window_with_stride() {
        assert_eq!(
            out_extent("width", 6, 3, 2).unwrap_err(),
            "pool size 3 at stride 2 leaves a partial window along the width ((6 - 3) % 2 = 1)"
        );
        assert_eq!(out_extent("width", 7, 3, 2), Ok(3));
    }

    #[test]
    fn pool_rejects_window_larger_than_input() {
        assert_eq!(
            out_extent("height", 2, 3, 3).unwrap_err(),
            "pool size 3 is larger than the height 2"
        );
    }

    #[test]
    fn pool_rejects_flat_input() {
        let pool = Pool {
            reduce: Reduce::Max,
            size: (2, 2),
            stride: (2, 2),
        };
        assert!(pool.out_shape(Shape::Flat(10), Some("affine(10)")).is_err());
    }
}
