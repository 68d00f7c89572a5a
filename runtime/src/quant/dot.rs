//! Dot products of int8 vectors, `P` columns against `F` filters at once
//! so that each load serves several sums: the inner loops of the int8
//! convolutions on a Cortex-M ([`super::columns`], [`super::depthwise`]).
//!
//! On a target with the Arm DSP extension (`cfg(constnet_dsp)`, set by
//! `build.rs`) four int8 values are read as one word, `SXTB16` splits it
//! into two pairs of 16-bit values (bytes 0 and 2, bytes 1 and 3) and
//! `SMLAD` adds two products to an accumulator in one instruction: filters
//! and columns are split alike, so the pairs meet the right partners.
//! Elsewhere the sums are plain loops. Integer sums modulo 2^32 do not
//! depend on their order, so both give the same integers.

/// `Σ_k ws[f][k] · cols[p][k]` for every filter `f` and column `p`,
/// wrapping as TFLite's compiled kernels do. Every slice has the length
/// of `ws[0]` (the others are cut to it).
#[inline(always)]
pub(crate) fn dots<const P: usize, const F: usize>(
    cols: &[&[i8]; P],
    ws: &[&[i8]; F],
) -> [[i32; P]; F] {
    let n = ws[0].len();
    let mut acc = [[0i32; P]; F];
    // The DSP path sums whole words, the loop below what remains.
    #[cfg(constnet_dsp)]
    let done = dsp::words(cols, ws, &mut acc);
    #[cfg(not(constnet_dsp))]
    let done = 0;
    let ws: [&[i8]; F] = core::array::from_fn(|f| &ws[f][..n]);
    let cols: [&[i8]; P] = core::array::from_fn(|p| &cols[p][..n]);
    for k in done..n {
        for (acc, w) in acc.iter_mut().zip(&ws) {
            let wv = i32::from(w[k]);
            for (a, c) in acc.iter_mut().zip(&cols) {
                *a = a.wrapping_add(wv * i32::from(c[k]));
            }
        }
    }
    acc
}

/// [`dots`] of two filters against two columns, `n` values each, the
/// second filter (column) right after the first in `ws` (`cols`): the
/// convolution's inner loop, in hand-written code on a DSP core, where
/// the compiler's would keep two of its fourteen values on the stack.
#[inline(always)]
pub(crate) fn dots_2x2(cols: &[i8], ws: &[i8], n: usize) -> [[i32; 2]; 2] {
    let (c0, c1) = cols[..2 * n].split_at(n);
    let (w0, w1) = ws[..2 * n].split_at(n);
    #[cfg(constnet_dsp)]
    {
        let (mut acc, done) = dsp::words_2x2(&cols[..2 * n], &ws[..2 * n], n);
        for k in done..n {
            let (a, b) = (i32::from(c0[k]), i32::from(c1[k]));
            for (acc, w) in acc.iter_mut().zip([w0[k], w1[k]]) {
                acc[0] = acc[0].wrapping_add(i32::from(w) * a);
                acc[1] = acc[1].wrapping_add(i32::from(w) * b);
            }
        }
        acc
    }
    #[cfg(not(constnet_dsp))]
    dots(&[c0, c1], &[w0, w1])
}

/// A 3-wide kernel row's weights as [`row3`] reads them: on a DSP core
/// `w0` and `w2` as the 16-bit halves of one word and `w1` alone in the
/// low half of another, elsewhere the three.
#[derive(Clone, Copy)]
pub(crate) struct Row3 {
    #[cfg(constnet_dsp)]
    even: u32,
    #[cfg(constnet_dsp)]
    odd: u32,
    #[cfg(not(constnet_dsp))]
    w: [i32; 3],
}

impl Row3 {
    /// Prepares `[w0, w1, w2]`.
    pub(crate) fn new(w: [i8; 3]) -> Self {
        #[cfg(constnet_dsp)]
        {
            let half = |w: i8| u32::from(w as i16 as u16);
            Self {
                even: half(w[0]) | (half(w[2]) << 16),
                odd: half(w[1]),
            }
        }
        #[cfg(not(constnet_dsp))]
        Self {
            w: w.map(i32::from),
        }
    }
}

/// `acc + Σ w · x` of one 3-wide kernel row over `x[0..3]`. On a DSP core
/// the fourth byte meets a zero weight: one word load, one split and two
/// dual multiply-accumulates.
#[inline(always)]
pub(crate) fn row3(acc: i32, w: &Row3, x: &[i8; 4]) -> i32 {
    #[cfg(constnet_dsp)]
    {
        let (x02, x13) = dsp::split(u32::from_le_bytes(x.map(|b| b as u8)));
        dsp::smlad(w.odd, x13, dsp::smlad(w.even, x02, acc))
    }
    #[cfg(not(constnet_dsp))]
    {
        let [x0, x1, x2, _] = x.map(i32::from);
        acc.wrapping_add(w.w[0] * x0 + w.w[1] * x1 + w.w[2] * x2)
    }
}

/// The two DSP instructions, which stable Rust only reaches through `asm!`.
#[cfg(constnet_dsp)]
#[expect(
    unsafe_code,
    reason = "SXTB16 and SMLAD have no stable intrinsics; the asm blocks read only the slices they are given and restore the stack"
)]
mod dsp {
    use core::arch::asm;

    /// One quad of [`words_2x2`]'s loop: four taps of two columns (`c`,
    /// and `t` bytes on, `t` read from the stack) against two filters
    /// (`w`, and `t` bytes on), 16 multiply-accumulates; it advances `c`
    /// and `w` by four.
    macro_rules! quad_2x2 {
        () => {
            concat!(
                "ldr {we}, [sp]\n",
                "ldr {a}, [{c}, {we}]\n",
                "ldr {wv}, [{w}, {we}]\n",
                "ldr {b}, [{c}], #4\n",
                "sxtb16 {x1}, {a}\n",
                "sxtb16 {a}, {a}, ror #8\n",
                "sxtb16 {x0}, {b}\n",
                "sxtb16 {b}, {b}, ror #8\n",
                "sxtb16 {we}, {wv}\n",
                "sxtb16 {wv}, {wv}, ror #8\n",
                "smlad {a10}, {we}, {x0}, {a10}\n",
                "smlad {a10}, {wv}, {b}, {a10}\n",
                "smlad {a11}, {we}, {x1}, {a11}\n",
                "smlad {a11}, {wv}, {a}, {a11}\n",
                "ldr {wv}, [{w}], #4\n",
                "sxtb16 {we}, {wv}\n",
                "sxtb16 {wv}, {wv}, ror #8\n",
                "smlad {a00}, {we}, {x0}, {a00}\n",
                "smlad {a00}, {wv}, {b}, {a00}\n",
                "smlad {a01}, {we}, {x1}, {a01}\n",
                "smlad {a01}, {wv}, {a}, {a01}\n",
            )
        };
    }

    /// Adds the products of the first `4 · ⌊n / 4⌋` elements to `acc`;
    /// returns that count.
    #[inline(always)]
    pub(super) fn words<const P: usize, const F: usize>(
        cols: &[&[i8]; P],
        ws: &[&[i8]; F],
        acc: &mut [[i32; P]; F],
    ) -> usize {
        let quads = ws[0].len() / 4;
        let cq: [&[[i8; 4]]; P] = core::array::from_fn(|p| &cols[p].as_chunks().0[..quads]);
        let wq: [&[[i8; 4]]; F] = core::array::from_fn(|f| &ws[f].as_chunks().0[..quads]);
        for k in 0..quads {
            let x: [(u32, u32); P] = core::array::from_fn(|p| split(word(&cq[p][k])));
            for (acc, w) in acc.iter_mut().zip(&wq) {
                let (w02, w13) = split(word(&w[k]));
                for (a, &(x02, x13)) in acc.iter_mut().zip(&x) {
                    *a = smlad(w13, x13, smlad(w02, x02, *a));
                }
            }
        }
        4 * quads
    }

    /// The whole words of [`dots_2x2`](super::dots_2x2): `cols` and `ws`
    /// hold two columns and two filters of `n` values each, one after the
    /// other. Returns the sums and how many values they cover.
    ///
    /// The loop needs twelve registers, every one `asm!` may allocate on
    /// Thumb-2 (r0–r5, r8–r12, lr): a target that reserves r9 (`rwpi`)
    /// would not build it.
    #[inline(always)]
    pub(super) fn words_2x2(cols: &[i8], ws: &[i8], n: usize) -> ([[i32; 2]; 2], usize) {
        let quads = n / 4;
        let mut acc = [[0i32; 2]; 2];
        if quads == 0 {
            return (acc, 0);
        }
        let (cols, ws) = (&cols[..2 * n], &ws[..2 * n]);
        let (c, w) = (cols.as_ptr(), ws.as_ptr());
        // SAFETY: the loop reads `4 · quads ≤ n` bytes from `c` and `w`
        // and from `n` bytes further on: inside `cols` and `ws`, which
        // hold `2 · n`. It pushes two words and pops them before it ends.
        unsafe {
            let [[mut a00, mut a01], [mut a10, mut a11]] = acc;
            // Two quads per trip, one end test; an odd count enters at
            // the second.
            asm!(
                "str {end}, [sp, #-4]!",
                "str {t}, [sp, #-4]!",
                "cmp {odd}, #0",
                "bne 3f",
                "2:",
                quad_2x2!(),
                "3:",
                quad_2x2!(),
                "ldr {we}, [sp, #4]",
                "cmp {c}, {we}",
                "bne 2b",
                "add sp, sp, #8",
                c = inout(reg) c => _,
                w = inout(reg) w => _,
                t = in(reg) n,
                end = in(reg) c.add(4 * quads),
                odd = in(reg) quads & 1,
                a00 = inout(reg) a00,
                a01 = inout(reg) a01,
                a10 = inout(reg) a10,
                a11 = inout(reg) a11,
                a = lateout(reg) _,
                b = lateout(reg) _,
                x0 = lateout(reg) _,
                x1 = lateout(reg) _,
                we = lateout(reg) _,
                wv = lateout(reg) _,
            );
            acc = [[a00, a01], [a10, a11]];
        }
        (acc, 4 * quads)
    }

    /// Four bytes as one little-endian word (an unaligned load, which a
    /// Cortex-M4 does in one instruction).
    #[inline(always)]
    fn word(b: &[i8; 4]) -> u32 {
        u32::from_le_bytes(b.map(|x| x as u8))
    }

    /// `SXTB16` of `x` and of `x` rotated by 8: bytes 0 and 2, and bytes 1
    /// and 3, each pair sign-extended into two 16-bit halves.
    #[inline(always)]
    pub(super) fn split(x: u32) -> (u32, u32) {
        let (even, odd): (u32, u32);
        // SAFETY: register-only instructions of the target (thumbv7em).
        unsafe {
            asm!(
                "sxtb16 {e}, {x}",
                "sxtb16 {o}, {x}, ror #8",
                x = in(reg) x,
                e = out(reg) even,
                o = out(reg) odd,
                options(pure, nomem, nostack, preserves_flags),
            );
        }
        (even, odd)
    }

    /// `SMLAD`: `acc + a.lo · b.lo + a.hi · b.hi` over signed 16-bit
    /// halves, wrapping (it only sets the sticky Q flag on overflow).
    #[inline(always)]
    pub(super) fn smlad(a: u32, b: u32, acc: i32) -> i32 {
        let r: i32;
        // SAFETY: a register-only instruction of the target (thumbv7em).
        unsafe {
            asm!(
                "smlad {r}, {a}, {b}, {acc}",
                r = lateout(reg) r,
                a = in(reg) a,
                b = in(reg) b,
                acc = in(reg) acc,
                options(pure, nomem, nostack),
            );
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_filter_meets_every_column() {
        let of =
            |m: i32| -> [i8; 11] { core::array::from_fn(|i| (i as i32 * m % 256 - 128) as i8) };
        let (a, b, w0, w1) = (of(37), of(91), of(53), [-128i8; 11]);
        let dot = |w: &[i8], x: &[i8]| -> i32 {
            w.iter()
                .zip(x)
                .map(|(&w, &x)| i32::from(w) * i32::from(x))
                .sum()
        };
        let got = dots(&[&a, &b], &[&w0, &w1]);
        assert_eq!(
            got,
            [[dot(&w0, &a), dot(&w0, &b)], [dot(&w1, &a), dot(&w1, &b)]]
        );
    }
}
