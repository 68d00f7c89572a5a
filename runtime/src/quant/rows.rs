//! Copies of rows of bytes between buffers of different row strides: a
//! channel into a depthwise layer's padded plane, a window's kernel rows
//! into a column. The rows are short (a few bytes), and a copy of a length
//! known only at run time is a `memcpy` call per row, whose setup costs
//! more than the row: on a core with the DSP extension (where the int8
//! kernels use these) one hand-written loop copies every row.

/// Copies `rows` rows of `w` bytes, `from` bytes apart in `src` and `to`
/// bytes apart in `dst`.
///
/// Not inlined: its callers share one copy of the loop.
///
/// # Panics
/// If a row leaves `src` or `dst`.
#[inline(never)]
pub(crate) fn copy(src: &[i8], from: usize, dst: &mut [i8], to: usize, (rows, w): (usize, usize)) {
    let span = |stride: usize| {
        rows.checked_sub(1)
            .map_or(Some(0), |r| r.checked_mul(stride)?.checked_add(w))
    };
    assert!(
        span(from).is_some_and(|n| n <= src.len()) && span(to).is_some_and(|n| n <= dst.len()),
        "rows::copy: a row leaves its buffer"
    );
    #[cfg(constnet_dsp)]
    if rows > 0 && w > 0 {
        dsp::copy(src, from, dst, to, (rows, w));
    }
    #[cfg(not(constnet_dsp))]
    for r in 0..rows {
        dst[r * to..][..w].copy_from_slice(&src[r * from..][..w]);
    }
}

/// [`copy`]'s loop, which stable Rust cannot keep from becoming a
/// `memcpy` call per row.
#[cfg(constnet_dsp)]
#[expect(
    unsafe_code,
    reason = "the asm block reads and writes only the rows the caller checked"
)]
mod dsp {
    use core::arch::asm;

    /// [`copy`](super::copy) of at least one row of at least one byte,
    /// its bounds checked by the caller.
    #[inline(always)]
    pub(super) fn copy(
        src: &[i8],
        from: usize,
        dst: &mut [i8],
        to: usize,
        (rows, w): (usize, usize),
    ) {
        // SAFETY: row `r` reads `src[r · from..][..w]` and writes
        // `dst[r · to..][..w]`, `r < rows`, inside both slices as the
        // caller checked; the rows are counted down.
        unsafe {
            asm!(
                "2:",
                "add {e}, {s}, {w}",
                "3:",
                "ldrb {t}, [{s}], #1",
                "strb {t}, [{d}], #1",
                "cmp {s}, {e}",
                "bne 3b",
                "add {s}, {s}, {skip_s}",
                "add {d}, {d}, {skip_d}",
                "subs {n}, {n}, #1",
                "bne 2b",
                s = inout(reg) src.as_ptr() => _,
                d = inout(reg) dst.as_mut_ptr() => _,
                w = in(reg) w,
                skip_s = in(reg) from.wrapping_sub(w),
                skip_d = in(reg) to.wrapping_sub(w),
                n = inout(reg) rows => _,
                e = out(reg) _,
                t = out(reg) _,
                options(nostack),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn rows_land_their_stride_apart() {
        let src: [i8; 12] = core::array::from_fn(|i| i as i8 + 1);
        let mut dst = [0i8; 11];
        // Two rows of 3 bytes, 5 apart in the source, 4 in the copy.
        super::copy(&src[1..], 5, &mut dst[2..], 4, (2, 3));
        assert_eq!(dst, [0, 0, 2, 3, 4, 0, 7, 8, 9, 0, 0]);
        // One source row copied three times, and no rows or empty rows.
        let mut dst = [0i8; 8];
        super::copy(&src, 0, &mut dst, 3, (3, 2));
        assert_eq!(dst, [1, 2, 0, 1, 2, 0, 1, 2]);
        super::copy(&src, 5, &mut dst, 4, (0, 3));
        super::copy(&src, 5, &mut dst, 4, (3, 0));
        assert_eq!(dst, [1, 2, 0, 1, 2, 0, 1, 2]);
    }
}
