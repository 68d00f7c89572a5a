//! Dot products of int8 vectors, several sums per load: the inner loops of
//! the int8 convolutions on a Cortex-M ([`super::columns`],
//! [`super::depthwise`]).
//!
//! On a target with the Arm DSP extension (`cfg(constnet_dsp)`, set by
//! `build.rs`) four int8 values are read as one word, `SXTB16` splits it
//! into two pairs of 16-bit values (bytes 0 and 2, bytes 1 and 3) and
//! `SMLAD` adds two products to an accumulator in one instruction (`SMUAD`
//! without one, `SMLAxy` a single product of chosen halves): filters and
//! columns are split alike, so the pairs meet the right partners.
//! Elsewhere the sums are plain loops. Integer sums modulo 2^32 do not
//! depend on their order, so both give the same integers.
//!
//! The input's words and halfwords are read wherever they start: a
//! Cortex-M3/M4 allows unaligned `LDR` and `LDRH` (unless `UNALIGN_TRP` is
//! set, which no firmware here does); the double-word loads and stores
//! read only the word-aligned scratch.

/// Bytes [`widen`] writes for a pair of columns of `n` values each.
pub(crate) const fn widened(n: usize) -> usize {
    4 * n
}

/// Writes two columns of `n` values each (`n` a multiple of 4) to `out`
/// ([`widened`] bytes) as [`dots_2x2`] reads them: per four values of a
/// column, 16-bit ones in `SXTB16`'s order, the first column's then the
/// second's (values 0 and 2 in the halves of one word, 1 and 3 in the
/// next). A column is split once and meets every filter pair so. It
/// writes as many quads as all three slices hold.
///
/// # Panics
/// On a DSP core, where the loop is hand-written and stores by double
/// words, if `out` is not 4-byte aligned.
#[inline(always)]
pub(crate) fn widen(c0: &[i8], c1: &[i8], out: &mut [i8]) {
    #[cfg(constnet_dsp)]
    {
        let quads = c0.len().min(c1.len()).min(out.len() / 4) / 4;
        assert!(
            out.as_ptr().addr().is_multiple_of(4),
            "widen: columns out of word alignment"
        );
        dsp::widen(&c0[..4 * quads], &c1[..4 * quads], &mut out[..16 * quads]);
    }
    #[cfg(not(constnet_dsp))]
    portable_widen(c0, c1, out);
}

/// The pair of columns [`widen`] would write for two neighbouring
/// positions of a 1×1 convolution, read straight from the input: column
/// 0 is `x[c · hw]` and column 1 `x[c · hw + 1]` for channel `c` in
/// `0..n` (`n` a multiple of 4), into `out` ([`widened`]`(n)` bytes). On a
/// DSP core a hand-written loop reads each channel's two bytes as one
/// halfword and splits four channels' at once.
///
/// # Panics
/// If `n` is not a multiple of 4, `x` is shorter than the last
/// channel's pair (`(n − 1) · hw + 2`), `out` is shorter than
/// [`widened`]`(n)`, or (on a DSP core) `out` is not 4-byte aligned.
#[inline(always)]
pub(crate) fn widen_adjacent(x: &[i8], hw: usize, n: usize, out: &mut [i8]) {
    let read = n
        .checked_sub(1)
        .map_or(Some(0), |c| c.checked_mul(hw)?.checked_add(2));
    assert!(
        n.is_multiple_of(4)
            && n.checked_mul(4).is_some()
            && read.is_some_and(|len| x.len() >= len)
            && out.len() >= widened(n)
            && (cfg!(not(constnet_dsp)) || out.as_ptr().addr().is_multiple_of(4)),
        "widen_adjacent: short input or columns"
    );
    #[cfg(constnet_dsp)]
    if n > 0 {
        dsp::widen_adjacent(x, hw, n, out);
    }
    #[cfg(not(constnet_dsp))]
    for (q, out) in out[..widened(n)].chunks_exact_mut(16).enumerate() {
        let column = |i: usize| -> [i8; 4] { core::array::from_fn(|k| x[(4 * q + k) * hw + i]) };
        widen(&column(0), &column(1), out);
    }
}

/// [`widen`] in portable code.
#[cfg(not(constnet_dsp))]
fn portable_widen(c0: &[i8], c1: &[i8], out: &mut [i8]) {
    let (c0, c1) = (c0.as_chunks::<4>().0, c1.as_chunks::<4>().0);
    for ((q0, q1), out) in c0.iter().zip(c1).zip(out.as_chunks_mut::<16>().0) {
        let [e0, o0] = split_quad(q0);
        let [e1, o1] = split_quad(q1);
        for (at, word) in out.as_chunks_mut::<4>().0.iter_mut().zip([e0, o0, e1, o1]) {
            *at = word.to_le_bytes().map(|b| b as i8);
        }
    }
}

/// Values 0 and 2 and values 1 and 3 of `q`, each pair as the 16-bit
/// halves of a word.
#[cfg(not(constnet_dsp))]
fn split_quad(q: &[i8; 4]) -> [u32; 2] {
    let half = |v: i8| u32::from(v as i16 as u16);
    [
        half(q[0]) | (half(q[2]) << 16),
        half(q[1]) | (half(q[3]) << 16),
    ]
}

/// Two filters against pairs of columns, all four as [`widen`] wrote
/// them: pair `j` is `cols[j · widened(n)..]`, the filters `ws[..widened(n)]`
/// (widened as a pair too, so a filter's quad sits beside the other's),
/// and `sums[j]` becomes `[f0·c0, f0·c1, f1·c0, f1·c1]`. The
/// convolution's inner loop: on a DSP core one hand-written loop runs
/// every pair, four double-word loads bring four values of both columns
/// and of both filters, and each sum of products costs an instruction.
///
/// # Panics
/// If `n` is not a positive multiple of 4 (a caller pads its columns and
/// filters with zero weights), a slice is shorter than that, or (on a
/// DSP core, whose double-word loads need it) `cols` or `ws` is not
/// 4-byte aligned. The message names both cases.
#[inline(always)]
pub(crate) fn dots_2x2(cols: &[i8], ws: &[i8], n: usize, sums: &mut [[i32; 4]]) {
    let aligned = |s: &[i8]| cfg!(not(constnet_dsp)) || s.as_ptr().addr().is_multiple_of(4);
    assert!(
        n > 0
            && n.is_multiple_of(4)
            && n.checked_mul(4).is_some()
            && widened(n)
                .checked_mul(sums.len())
                .is_some_and(|len| cols.len() >= len)
            && ws.len() >= widened(n)
            && aligned(cols)
            && aligned(ws),
        "dots_2x2: short or unaligned columns or filters"
    );
    #[cfg(constnet_dsp)]
    dsp::words_2x2(cols, ws, n, sums);
    #[cfg(not(constnet_dsp))]
    for (sum, pair) in sums.iter_mut().zip(cols.chunks_exact(widened(n))) {
        *sum = [0; 4];
        for (c, w) in pair.chunks_exact(16).zip(ws[..widened(n)].chunks_exact(16)) {
            let ((c0, c1), (w0, w1)) = (c.split_at(8), w.split_at(8));
            for (sum, (w, c)) in sum.iter_mut().zip([(w0, c0), (w0, c1), (w1, c0), (w1, c1)]) {
                *sum = halves(w)
                    .zip(halves(c))
                    .fold(*sum, |s, (w, x)| s.wrapping_add(w * x));
            }
        }
    }
}

/// The 16-bit values [`widen`] wrote, in their order.
#[cfg(not(constnet_dsp))]
fn halves(bytes: &[i8]) -> impl Iterator<Item = i32> + '_ {
    bytes
        .chunks_exact(2)
        .map(|h| i32::from(i16::from_le_bytes([h[0] as u8, h[1] as u8])))
}

/// One filter `w` against a pair of columns [`widen`] wrote: the two
/// sums, over `w.len()` values.
pub(crate) fn dots_1x2(pair: &[i8], w: &[i8]) -> [i32; 2] {
    let mut acc = [0i32; 2];
    for (k, &w) in w.iter().enumerate() {
        // Value `k % 4` of a quad sits in half 0, 2, 1 or 3 of its column.
        let half = 16 * (k / 4) + 2 * [0, 2, 1, 3][k % 4];
        for (p, acc) in acc.iter_mut().enumerate() {
            let at = half + 8 * p;
            let x = i16::from_le_bytes([pair[at] as u8, pair[at + 1] as u8]);
            *acc = acc.wrapping_add(i32::from(w) * i32::from(x));
        }
    }
    acc
}

/// A 3×3 kernel's weights as [`pairs_3x3`] reads them: on a DSP core each
/// row's `w0` and `w2` as the 16-bit halves of one word, and the middle
/// column's three weights in the halves of two more; elsewhere the nine.
#[derive(Clone, Copy)]
pub(crate) struct Kernel3x3 {
    #[cfg(constnet_dsp)]
    outer: [u32; 3],
    #[cfg(constnet_dsp)]
    middle: [u32; 2],
    #[cfg(not(constnet_dsp))]
    w: [[i32; 3]; 3],
}

impl Kernel3x3 {
    /// Prepares the rows `[w0, w1, w2]` of a 3×3 kernel.
    pub(crate) fn new(rows: [[i8; 3]; 3]) -> Self {
        #[cfg(constnet_dsp)]
        {
            let half = |w: i8| u32::from(w as i16 as u16);
            let pair = |lo: i8, hi: i8| half(lo) | (half(hi) << 16);
            Self {
                outer: rows.map(|r| pair(r[0], r[2])),
                middle: [pair(rows[0][1], rows[1][1]), half(rows[2][1])],
            }
        }
        #[cfg(not(constnet_dsp))]
        Self {
            w: rows.map(|r| r.map(i32::from)),
        }
    }
}

/// The sums `Σ w · x` of the 3×3 windows of `rows` rows of `ow` adjacent
/// windows (a stride-1 row), kernel rows `cols` apart: row `r`'s window
/// `j` has its first tap at `x[r · step + j]` and its sum goes to
/// `sums[r · ow + j]`. The windows run in pairs, an odd row's spare sum
/// overwritten by the next row's first, which `sums` has room for
/// (`(rows − 1) · ow` plus `ow` made even). On a DSP core one word load of
/// a kernel row serves both windows of a pair, in hand-written code that
/// keeps the kernel in registers and goes from row to row itself; the
/// sums wrap, as TFLite's compiled kernels do.
///
/// # Panics
/// If `ow` is 0, `sums` has no room for one row (`ow` made even), or `x`
/// is shorter than the
/// last row's last window plus the bytes a pair's word loads read past it
/// (`(rows − 1) · step + 2 · cols + ow` made even `+ 2`).
#[inline(always)]
pub(crate) fn pairs_3x3(
    x: &[i8],
    (cols, step): (usize, usize),
    k: &Kernel3x3,
    ow: usize,
    sums: &mut [i32],
) {
    let even = ow.next_multiple_of(2);
    let rows = sums
        .len()
        .checked_sub(even - ow)
        .map_or(0, |n| n / ow.max(1));
    let read = rows.checked_sub(1).and_then(|r| {
        r.checked_mul(step)?
            .checked_add(cols.checked_mul(2)?)?
            .checked_add(even + 2)
    });
    assert!(
        ow > 0 && read.is_some_and(|len| x.len() >= len),
        "pairs_3x3: the windows leave their rows"
    );
    #[cfg(constnet_dsp)]
    dsp::pairs_3x3(x, (cols, step), k, (ow, rows), sums);
    #[cfg(not(constnet_dsp))]
    for r in 0..rows {
        for j in 0..even {
            let sum = k.w.iter().enumerate().fold(0i32, |acc, (ky, w)| {
                let row = &x[r * step + j + ky * cols..][..3];
                w.iter()
                    .zip(row)
                    .fold(acc, |acc, (&w, &x)| acc.wrapping_add(w * i32::from(x)))
            });
            sums[r * ow + j] = sum;
        }
    }
}

/// The loops in DSP instructions, which stable Rust only reaches through
/// `asm!`.
#[cfg(constnet_dsp)]
#[expect(
    unsafe_code,
    reason = "SXTB16, SMLAD and their kin have no stable intrinsics; the asm blocks read only the slices they are given and restore the stack"
)]
mod dsp {
    use core::arch::asm;

    /// One quad of [`words_2x2`]'s loop: four values of two widened
    /// columns (`c`) against the same of two filters (`w`), 16
    /// multiply-accumulates; it advances `c` by 16 and `w` by 16.
    macro_rules! quad_2x2 {
        () => {
            concat!(
                "ldrd {x1e}, {x1o}, [{c}, #8]\n",
                "ldrd {x0e}, {x0o}, [{c}], #16\n",
                "ldrd {we}, {wo}, [{w}], #8\n",
                "smlad {a00}, {we}, {x0e}, {a00}\n",
                "smlad {a00}, {wo}, {x0o}, {a00}\n",
                "smlad {a01}, {we}, {x1e}, {a01}\n",
                "smlad {a01}, {wo}, {x1o}, {a01}\n",
                "ldrd {we}, {wo}, [{w}], #8\n",
                "smlad {a10}, {we}, {x0e}, {a10}\n",
                "smlad {a10}, {wo}, {x0o}, {a10}\n",
                "smlad {a11}, {we}, {x1e}, {a11}\n",
                "smlad {a11}, {wo}, {x1o}, {a11}\n",
            )
        };
    }

    /// [`dots_2x2`](super::dots_2x2) on a DSP core, its bounds and the
    /// slices' alignment checked by the caller. Per pair the four sums
    /// start at zero, the quads run two per trip (an odd count enters at
    /// the second), and the sums are stored; the filters' end and start,
    /// the sums' next place, the columns' end and the count's parity wait
    /// on the stack, from its top.
    ///
    /// The loop needs twelve registers, every one `asm!` may allocate on
    /// Thumb-2 (r0–r5, r8–r12, lr): a target that reserves r9 (`rwpi`)
    /// would not build it.
    #[inline(always)]
    pub(super) fn words_2x2(cols: &[i8], ws: &[i8], n: usize, sums: &mut [[i32; 4]]) {
        if sums.is_empty() {
            return;
        }
        let (c, w) = (cols.as_ptr(), ws.as_ptr());
        // SAFETY: the caller checked that `cols` and `ws` are 4-byte
        // aligned, `cols` holds `4n` bytes per pair of `sums` and `ws`
        // holds `4n`, `n` a positive multiple of 4. Pair `j` reads the
        // `4n` bytes from `cols[4jn]` and from `ws`, then writes
        // `sums[j]`. The loop pushes six words and pops them before it
        // ends.
        unsafe {
            asm!(
                "strd {we}, {wo}, [sp, #-8]!",
                "strd {x1e}, {x1o}, [sp, #-8]!",
                "strd {x0e}, {x0o}, [sp, #-8]!",
                "2:",
                "mov {a00}, #0",
                "mov {a01}, #0",
                "mov {a10}, #0",
                "mov {a11}, #0",
                "ldr {w}, [sp, #4]",
                "ldr {we}, [sp, #16]",
                "cmp {we}, #0",
                "bne 4f",
                "3:",
                quad_2x2!(),
                "4:",
                quad_2x2!(),
                "ldr {we}, [sp]",
                "cmp {w}, {we}",
                "bne 3b",
                "ldr {we}, [sp, #8]",
                "strd {a00}, {a01}, [{we}], #8",
                "strd {a10}, {a11}, [{we}], #8",
                "str {we}, [sp, #8]",
                "ldr {we}, [sp, #12]",
                "cmp {c}, {we}",
                "bne 2b",
                "add sp, sp, #24",
                c = inout(reg) c => _,
                w = out(reg) _,
                x0e = inout(reg) w.add(super::widened(n)) => _,
                x0o = inout(reg) w => _,
                x1e = inout(reg) sums.as_mut_ptr() => _,
                x1o = inout(reg) c.add(super::widened(n) * sums.len()) => _,
                we = inout(reg) (n / 4) & 1 => _,
                wo = out(reg) _,
                a00 = out(reg) _,
                a01 = out(reg) _,
                a10 = out(reg) _,
                a11 = out(reg) _,
            );
        }
    }

    /// [`pairs_3x3`](super::pairs_3x3) on a DSP core, its bounds checked
    /// by the caller. Per pair and kernel row: one word `x0..x3`, split
    /// into `[x0, x2]` and `[x1, x3]`; `SMLAD` with `[w0, w2]` gives each
    /// window's outer taps, `SMLAxy` the middle one (`x1` for the first
    /// window, `x2` for the second) from a half of a `middle` word. At a
    /// row's end the input moves on to the next row's first window and
    /// the sums back over an odd row's spare.
    ///
    /// Twelve registers, as [`words_2x2`]: the row's end, the last row's,
    /// the moves between rows and a row's bytes of sums wait on the stack.
    #[inline(always)]
    pub(super) fn pairs_3x3(
        x: &[i8],
        (cols, step): (usize, usize),
        k: &super::Kernel3x3,
        (ow, rows): (usize, usize),
        sums: &mut [i32],
    ) {
        let [e0, e1, e2] = k.outer;
        let [m01, m2] = k.middle;
        let even = ow.next_multiple_of(2);
        let out = sums.as_mut_ptr();
        // The stack, from its top: the row's end, the last row's end (after
        // the move back), the input's move to the next row, the sums' move
        // back, a row's sums in bytes.
        let moves: [usize; 5] = [
            out.addr() + 4 * even,
            out.addr() + 4 * rows * ow,
            step.wrapping_sub(even),
            4 * (even - ow),
            4 * even,
        ];
        // SAFETY: `pairs_3x3` checked that `x` holds `(rows − 1) · step +
        // 2 · cols + even + 2` bytes: row `r`'s pair `j` reads 4 bytes
        // from `x[r · step + 2j]` and one and two rows of `cols` on,
        // `2j ≤ even − 2`. It writes `sums[r · ow..][..even]`, inside
        // `sums` as checked. It pops the five words it pushes.
        unsafe {
            asm!(
                "ldrd {a0}, {a1}, [{v}]",
                "strd {a0}, {a1}, [sp, #-20]!",
                "ldrd {a0}, {a1}, [{v}, #8]",
                "strd {a0}, {a1}, [sp, #8]",
                "ldr {a0}, [{v}, #16]",
                "str {a0}, [sp, #16]",
                "2:",
                "ldr {v}, [{p}]",
                "sxtb16 {e}, {v}",
                "sxtb16 {v}, {v}, ror #8",
                "smuad {a0}, {e0}, {e}",
                "smuad {a1}, {e0}, {v}",
                "smlabb {a0}, {m01}, {v}, {a0}",
                "smlabt {a1}, {m01}, {e}, {a1}",
                "ldr {v}, [{p}, {cols}]",
                "sxtb16 {e}, {v}",
                "sxtb16 {v}, {v}, ror #8",
                "smlad {a0}, {e1}, {e}, {a0}",
                "smlad {a1}, {e1}, {v}, {a1}",
                "smlatb {a0}, {m01}, {v}, {a0}",
                "smlatt {a1}, {m01}, {e}, {a1}",
                "ldr {v}, [{p}, {cols}, lsl #1]",
                "sxtb16 {e}, {v}",
                "sxtb16 {v}, {v}, ror #8",
                "smlad {a0}, {e2}, {e}, {a0}",
                "smlad {a1}, {e2}, {v}, {a1}",
                "smlabb {a0}, {m2}, {v}, {a0}",
                "smlabt {a1}, {m2}, {e}, {a1}",
                "add {p}, {p}, #2",
                "strd {a0}, {a1}, [{out}], #8",
                "ldr {v}, [sp]",
                "cmp {out}, {v}",
                "bne 2b",
                "ldrd {v}, {e}, [sp, #8]",
                "add {p}, {p}, {v}",
                "sub {out}, {out}, {e}",
                "ldr {v}, [sp, #16]",
                "add {v}, {out}, {v}",
                "str {v}, [sp]",
                "ldr {v}, [sp, #4]",
                "cmp {out}, {v}",
                "bne 2b",
                "add sp, sp, #20",
                p = inout(reg) x.as_ptr() => _,
                cols = in(reg) cols,
                out = inout(reg) out => _,
                v = inout(reg) moves.as_ptr() => _,
                e0 = in(reg) e0,
                e1 = in(reg) e1,
                e2 = in(reg) e2,
                m01 = in(reg) m01,
                m2 = in(reg) m2,
                a0 = out(reg) _,
                a1 = out(reg) _,
                e = out(reg) _,
            );
        }
    }

    /// [`widen_adjacent`](super::widen_adjacent) on a DSP core, its
    /// bounds and alignment checked by the caller. Per four channels: the
    /// halfwords of channels `c` and `c + 2` in one word and those of `c +
    /// 1` and `c + 3` in another, each split by `SXTB16` into column 0's
    /// values (its bytes 0 and 2) and column 1's (bytes 1 and 3).
    #[inline(always)]
    pub(super) fn widen_adjacent(x: &[i8], hw: usize, n: usize, out: &mut [i8]) {
        let o = out.as_mut_ptr();
        // SAFETY: quad `q` reads two bytes at `x[c · hw]` for `c` in
        // `4q..4q + 4`, `c < n`, and writes `out[16q..][..16]`, word-aligned:
        // inside both slices, as the caller checked.
        unsafe {
            asm!(
                "2:",
                "ldrh {h0}, [{p}]",
                "ldrh {h1}, [{q}]",
                "ldrh {h2}, [{p}, {hw}, lsl #1]",
                "ldrh {h3}, [{q}, {hw}, lsl #1]",
                "add {p}, {p}, {hw}, lsl #2",
                "add {q}, {q}, {hw}, lsl #2",
                "orr {h0}, {h0}, {h2}, lsl #16",
                "orr {h1}, {h1}, {h3}, lsl #16",
                "sxtb16 {h2}, {h0}",
                "sxtb16 {h0}, {h0}, ror #8",
                "sxtb16 {h3}, {h1}",
                "sxtb16 {h1}, {h1}, ror #8",
                "strd {h0}, {h1}, [{o}, #8]",
                "strd {h2}, {h3}, [{o}], #16",
                "cmp {o}, {end}",
                "bne 2b",
                p = inout(reg) x.as_ptr() => _,
                q = inout(reg) x.as_ptr().add(hw) => _,
                hw = in(reg) hw,
                o = inout(reg) o => _,
                end = in(reg) o.add(super::widened(n)),
                h0 = out(reg) _,
                h1 = out(reg) _,
                h2 = out(reg) _,
                h3 = out(reg) _,
                options(nostack),
            );
        }
    }

    /// [`widen`](super::widen) on a DSP core: `c0` and `c1` of `4q`
    /// values, `out` of `16q` bytes and word-aligned, as the caller cut and
    /// checked them.
    #[inline(always)]
    pub(super) fn widen(c0: &[i8], c1: &[i8], out: &mut [i8]) {
        if c0.is_empty() {
            return;
        }
        let o = out.as_mut_ptr();
        // SAFETY: each trip reads four bytes of `c0` and of `c1` and writes
        // 16 of `out`, word-aligned; there are `c0.len() / 4` trips, and
        // the caller cut the slices to that.
        unsafe {
            asm!(
                "2:",
                "ldr {a}, [{c0}], #4",
                "ldr {b}, [{c1}], #4",
                "sxtb16 {e0}, {a}",
                "sxtb16 {a}, {a}, ror #8",
                "sxtb16 {e1}, {b}",
                "sxtb16 {b}, {b}, ror #8",
                "strd {e1}, {b}, [{o}, #8]",
                "strd {e0}, {a}, [{o}], #16",
                "cmp {c0}, {end}",
                "bne 2b",
                c0 = inout(reg) c0.as_ptr() => _,
                c1 = inout(reg) c1.as_ptr() => _,
                o = inout(reg) o => _,
                end = in(reg) c0.as_ptr().add(c0.len()),
                a = out(reg) _,
                b = out(reg) _,
                e0 = out(reg) _,
                e1 = out(reg) _,
                options(nostack),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` values of a column or filter, spread over the int8 range.
    fn of<const N: usize>(m: i32) -> [i8; N] {
        core::array::from_fn(|i| (i as i32 * m % 256 - 128) as i8)
    }

    fn dot(w: &[i8], x: &[i8]) -> i32 {
        w.iter()
            .zip(x)
            .map(|(&w, &x)| i32::from(w) * i32::from(x))
            .sum()
    }

    #[test]
    fn every_filter_meets_every_widened_column() {
        // Three pairs of columns of 12 values against two filters.
        let cols: [[i8; 12]; 6] = core::array::from_fn(|p| of(37 + 14 * p as i32));
        let (w0, w1) = (of::<12>(53), [-128i8; 12]);
        let mut wide = [0i8; 3 * widened(12)];
        for (pair, out) in cols.chunks_exact(2).zip(wide.chunks_exact_mut(widened(12))) {
            widen(&pair[0], &pair[1], out);
        }
        let mut ws = [0i8; widened(12)];
        widen(&w0, &w1, &mut ws);
        let mut sums = [[0i32; 4]; 3];
        dots_2x2(&wide, &ws, 12, &mut sums);
        for (j, sum) in sums.iter().enumerate() {
            let (c0, c1) = (&cols[2 * j], &cols[2 * j + 1]);
            let want = [dot(&w0, c0), dot(&w0, c1), dot(&w1, c0), dot(&w1, c1)];
            assert_eq!(*sum, want, "pair {j}");
            let pair = &wide[j * widened(12)..];
            assert_eq!(
                dots_1x2(pair, &w0[..11]),
                [dot(&w0[..11], c0), dot(&w0[..11], c1)]
            );
        }
    }

    #[test]
    fn pairs_of_3x3_windows_weigh_their_taps_row_by_row() {
        // Kernel rows 7 apart, rows of 5 windows 14 apart (a stride of 2
        // down): the odd rows' spare sums are overwritten, and the last
        // pair reads the byte past its row.
        let (cols, step, ow, rows) = (7, 14, 5, 3);
        let x = of::<{ 2 * 14 + 2 * 7 + 6 + 2 }>(29);
        let kernel: [[i8; 3]; 3] = core::array::from_fn(|r| of(61 + 10 * r as i32));
        let mut sums = [0i32; 3 * 5 + 1];
        pairs_3x3(&x, (cols, step), &Kernel3x3::new(kernel), ow, &mut sums);
        for r in 0..rows {
            for j in 0..ow {
                let at = r * step + j;
                let want: i32 = (0..3)
                    .map(|k| dot(&kernel[k], &x[at + cols * k..][..3]))
                    .sum();
                assert_eq!(sums[r * ow + j], want, "row {r}, window {j}");
            }
        }
    }
}
