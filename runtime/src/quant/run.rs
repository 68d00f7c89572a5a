//! The int8 program run over a quantized network's integers. The kernels
//! are shared by every network; the loop over the steps is generic over
//! the network, so a firmware links only the kernels its program calls.

use super::Quantizable;
use super::add::AddParams;
use super::program::{
    ADD_WORDS, Act, CHANNEL_WORDS, ConvGeometry, DOOR_WORDS, Op, Program, VALUE_WORDS, Value,
    Weighted,
};
use super::requantize::{self, Channels, ScalesF64};
use super::{columns, conv2d, depthwise, fully_connected, pool};

/// The kernel a convolution runs on: on a core with the DSP extension,
/// depthwise ones go through a padded plane and all others through
/// columns, whose inner loop makes two multiply-accumulates per
/// instruction (and [`conv2d`]'s tiles stay out of the firmware);
/// elsewhere [`conv2d`]'s register tiles, which x86-64 turns into vector
/// code, are faster. All give the same integers.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConvKernel {
    /// [`columns::forward`].
    Columns,
    /// [`depthwise::forward`].
    Depthwise,
    /// [`conv2d::forward`].
    Tiles,
}

impl ConvKernel {
    /// The kernel of a convolution of geometry `g` followed by `pool` on
    /// a DSP core; [`ConvKernel::here`] says whether this target is one.
    pub(crate) const fn of(g: &ConvGeometry, pool: Option<(usize, usize)>) -> Self {
        if g.groups == g.c && g.groups > 1 && pool.is_none() {
            Self::Depthwise
        } else {
            Self::Columns
        }
    }

    /// [`ConvKernel::of`] on a DSP core, [`ConvKernel::Tiles`] elsewhere.
    const fn here(g: &ConvGeometry, pool: Option<(usize, usize)>) -> Self {
        if cfg!(constnet_dsp) {
            Self::of(g, pool)
        } else {
            Self::Tiles
        }
    }

    /// Bytes of arena scratch the kernel needs.
    pub(crate) const fn scratch_len(self, g: &ConvGeometry, pool: Option<(usize, usize)>) -> usize {
        match self {
            Self::Columns => columns::scratch_len(g, pool),
            Self::Depthwise => depthwise::scratch_len(g),
            Self::Tiles => 0,
        }
    }
}

/// Each entry point a step may run on this target: the one home of the
/// choice ([`Kernel::of`]), which [`Kernels`] records per program and
/// [`run`] dispatches on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kernel {
    /// [`columns::plain`], groups of an even number of filters.
    Columns,
    /// [`columns::plain`], groups of an odd number.
    ColumnsOdd,
    /// [`columns::pooled`], groups of an even number of filters.
    Pooled,
    /// [`columns::pooled`], groups of an odd number.
    PooledOdd,
    /// [`depthwise::sweep`] by pairs of windows.
    DepthwisePairs,
    /// [`depthwise::sweep`] window by window.
    Depthwise,
    /// [`conv2d::forward`].
    Tiles,
    /// [`fully_connected::forward`].
    Affine,
    /// [`pool::max_forward`].
    MaxPool,
    /// [`pool::avg_forward`].
    AvgPool,
    /// [`AddParams::add`] over a value.
    Add,
    /// A standalone activation's clamp.
    Clamp,
}

/// How many [`Kernel`]s there are.
const KERNELS: usize = Kernel::Clamp as usize + 1;

impl Kernel {
    /// The entry point of `op` on this target.
    const fn of(op: &Op) -> Self {
        match op {
            Op::Conv { geometry, pool, .. } => match ConvKernel::here(geometry, *pool) {
                ConvKernel::Columns => match (pool.is_some(), columns::odd(geometry)) {
                    (false, false) => Self::Columns,
                    (false, true) => Self::ColumnsOdd,
                    (true, false) => Self::Pooled,
                    (true, true) => Self::PooledOdd,
                },
                ConvKernel::Depthwise if depthwise::by_pairs(geometry) => Self::DepthwisePairs,
                ConvKernel::Depthwise => Self::Depthwise,
                ConvKernel::Tiles => Self::Tiles,
            },
            Op::Affine { .. } => Self::Affine,
            Op::MaxPool(_) => Self::MaxPool,
            Op::AvgPool(_) => Self::AvgPool,
            Op::Add { .. } => Self::Add,
            Op::Clamp => Self::Clamp,
        }
    }
}

/// The kernels a program calls on this target, and the parts of the
/// columns path its layers use ([`columns::Parts`]). [`run`] reads it as
/// a constant, so the code of the kernels and parts a network does not
/// use is not compiled into it.
#[derive(Clone, Copy)]
struct Kernels {
    entries: [bool; KERNELS],
    parts: [bool; columns::PARTS],
}

impl Kernels {
    const fn of(p: &Program) -> Self {
        let (mut entries, mut parts) = ([false; KERNELS], [false; columns::PARTS]);
        let mut s = 0;
        while s < p.steps.len() {
            let op = &p.steps[s].op;
            entries[Kernel::of(op) as usize] = true;
            if let Op::Conv {
                geometry: g, pool, ..
            } = op
                && let ConvKernel::Columns = ConvKernel::here(g, *pool)
            {
                let uses = columns::Parts::used_by(g);
                let mut i = 0;
                while i < columns::PARTS {
                    parts[i] |= uses[i];
                    i += 1;
                }
            }
            s += 1;
        }
        Kernels { entries, parts }
    }

    /// Whether the program calls `kernel`: a constant where `self` is.
    #[inline(always)]
    const fn has(self, kernel: Kernel) -> bool {
        self.entries[kernel as usize]
    }

    /// Stops where the program does not call `kernel`; `self` and
    /// `kernel` being constants, the compiler then drops what follows.
    #[inline(always)]
    fn require(self, kernel: Kernel) {
        if !self.has(kernel) {
            outside_kernels();
        }
    }
}

/// A value's scale and zero point, as the words hold them.
pub(crate) fn quant_of(words: &[i32], v: &Value) -> (f32, i8) {
    let at = v.quant * VALUE_WORDS;
    (f32::from_bits(words[at] as u32), words[at + 1] as i8)
}

/// The clamp of an activation on an output of scale `scale` and zero point
/// `zp`, as TFLite's `CalculateActivationRangeQuantized` computes it.
pub(crate) fn range(act: Act, (scale, zp): (f32, i8)) -> (i8, i8) {
    let quantize = |v: f32| i32::from(zp) + libm::roundf(v / scale) as i32;
    match act {
        Act::None => (i8::MIN, i8::MAX),
        Act::Relu => (zp, i8::MAX),
        Act::Relu6 => (zp, requantize::clamp(quantize(6.0), (zp, i8::MAX))),
    }
}

/// Input channel `c`'s door, `x · a + b`.
pub(crate) fn door_of(p: &Program, words: &[i32], c: usize) -> (f32, f32) {
    let at = p.door_words() + c * DOOR_WORDS;
    let word = |k: usize| f32::from_bits(words[at + k] as u32);
    (word(0), word(1))
}

/// Quantizes one input sample (before preprocessing) at the door into `q`.
pub(crate) fn enter(p: &Program, words: &[i32], x: &[f32], q: &mut [i8]) {
    let (scale, zp) = quant_of(words, &p.input);
    let per = p.positions.max(1);
    for (c, (xc, qc)) in x.chunks(per).zip(q.chunks_mut(per)).enumerate() {
        let (a, b) = if p.door.is_empty() {
            (1.0, 0.0)
        } else {
            door_of(p, words, c)
        };
        for (&x, q) in xc.iter().zip(qc) {
            *q = quantize(x * a + b, scale, zp);
        }
    }
}

/// `round(x / scale) + zero_point`, saturated: TFLite's `QUANTIZE` for int8.
pub(crate) fn quantize(x: f32, scale: f32, zp: i8) -> i8 {
    let q = libm::roundf(x / scale) as i32;
    q.saturating_add(i32::from(zp)).clamp(-128, 127) as i8
}

/// The door's map `x · a + b` per input channel, folded from the leading
/// preprocessing layers (read from the `f32` parameters).
#[cfg(feature = "std")]
pub(crate) fn fold_door(door: &[super::program::DoorOp], params: &[f32], c: usize) -> (f32, f32) {
    let (mut a, mut b) = (1.0f64, 0.0f64);
    for op in door {
        let (scale, offset) = match *op {
            super::program::DoorOp::Normalize { mean, std, len } => {
                let k = if len == 1 { 0 } else { c };
                let (m, s) = (f64::from(params[mean + k]), f64::from(params[std + k]));
                (1.0 / s, -m / s)
            }
            super::program::DoorOp::Rescale { scale, offset } => (scale, offset),
        };
        (a, b) = (a * scale, b * scale + offset);
    }
    (a as f32, b as f32)
}

/// A value's bytes: the caller's input, or its range of the arena.
fn slot(v: &Value) -> core::ops::Range<usize> {
    let at = v.at.unwrap_or(0);
    at..at + v.len
}

/// A step whose kernel [`Kernels::of`] did not list, or that
/// [`Kernel::of`] gave another step's kernel: both see every step, so
/// this is a bug.
#[cold]
fn outside_kernels() -> ! {
    unreachable!("quant: a step calls a kernel its program does not list")
}

/// Splits the arena into a step's input (`r`, possibly the caller's `input`)
/// and its output (`w`), which the plan keeps disjoint.
fn io<'a>(arena: &'a mut [i8], input: &'a [i8], r: &Value, w: &Value) -> (&'a [i8], &'a mut [i8]) {
    let (rr, wr) = (slot(r), slot(w));
    if r.at.is_none() {
        return (&input[rr], &mut arena[wr]);
    }
    if rr.end <= wr.start {
        let (lo, hi) = arena.split_at_mut(wr.start);
        (&lo[rr], &mut hi[..wr.len()])
    } else {
        assert!(
            wr.end <= rr.start,
            "quant: a step's input and output overlap"
        );
        let (lo, hi) = arena.split_at_mut(rr.start);
        (&hi[..rr.len()], &mut lo[wr])
    }
}

/// A layer's bias, multipliers and shifts out of its words.
fn channels<'a>(
    words: &'a [i32],
    layer: &Weighted,
    n: usize,
    out: (f32, i8),
    act: Act,
) -> (&'a [i32], Channels<'a>) {
    let w = &words[layer.words..][..n * CHANNEL_WORDS];
    let stage = Channels {
        multiplier: &w[2 * n..3 * n],
        shift: &w[3 * n..],
        output_zero_point: i32::from(out.1),
        range: range(act, out),
    };
    (&w[..n], stage)
}

/// Runs every step of `N`'s program on one sample, `input` being the
/// quantized input when it does not live in the arena; returns where the
/// output lies.
#[inline(never)]
pub(crate) fn run<'a, N: Quantizable>(
    weights: &[i8],
    words: &[i32],
    input: &'a [i8],
    arena: &'a mut [i8],
) -> &'a [i8] {
    let p = &N::PROGRAM;
    let k = const { Kernels::of(&N::PROGRAM) };
    let (arena, scratch) = arena.split_at_mut(p.arena - p.scratch);
    for step in p.steps {
        let (ins, outs) = (quant_of(words, &step.input), quant_of(words, &step.output));
        let clamp = range(step.act, outs);
        match &step.op {
            Op::Conv {
                geometry: g,
                pool,
                layer,
            } => {
                let (x, y) = io(arena, input, &step.input, &step.output);
                let w = &weights[layer.int8..][..step.weight_len()];
                let (b, stage) = channels(words, layer, g.f, outs, step.act);
                let parts = columns::Parts::of(g.kernel, k.parts);
                match Kernel::of(&step.op) {
                    Kernel::Columns => {
                        k.require(Kernel::Columns);
                        columns::plain::<false>(g, (w, b), ins.1, &stage, x, y, scratch, parts);
                    }
                    Kernel::ColumnsOdd => {
                        k.require(Kernel::ColumnsOdd);
                        columns::plain::<true>(g, (w, b), ins.1, &stage, x, y, scratch, parts);
                    }
                    Kernel::Pooled => {
                        k.require(Kernel::Pooled);
                        let pool = pool.unwrap_or_else(|| outside_kernels());
                        let z = ins.1;
                        columns::pooled::<false>(g, pool, (w, b), z, &stage, x, y, scratch, parts);
                    }
                    Kernel::PooledOdd => {
                        k.require(Kernel::PooledOdd);
                        let pool = pool.unwrap_or_else(|| outside_kernels());
                        let z = ins.1;
                        columns::pooled::<true>(g, pool, (w, b), z, &stage, x, y, scratch, parts);
                    }
                    Kernel::DepthwisePairs => {
                        k.require(Kernel::DepthwisePairs);
                        depthwise::sweep::<true>(g, (w, b), ins.1, &stage, x, y, scratch);
                    }
                    Kernel::Depthwise => {
                        k.require(Kernel::Depthwise);
                        depthwise::sweep::<false>(g, (w, b), ins.1, &stage, x, y, scratch);
                    }
                    Kernel::Tiles => {
                        k.require(Kernel::Tiles);
                        conv2d::forward(g, *pool, (w, b), ins.1, &stage, x, y);
                    }
                    Kernel::Affine
                    | Kernel::MaxPool
                    | Kernel::AvgPool
                    | Kernel::Add
                    | Kernel::Clamp => outside_kernels(),
                }
            }
            Op::Affine { outputs, layer, .. } => {
                k.require(Kernel::Affine);
                let (x, y) = io(arena, input, &step.input, &step.output);
                let w = &weights[layer.int8..][..step.weight_len()];
                let n = *outputs;
                let c = &words[layer.words..][..n * CHANNEL_WORDS];
                // TensorFlow's reference kernel rounds once, in `f64`.
                let stage = ScalesF64 {
                    input_scale: ins.0,
                    weight_scales: &c[n..2 * n],
                    output_scale: outs.0,
                    output_zero_point: i32::from(outs.1),
                    range: clamp,
                };
                fully_connected::forward((w, &c[..n]), ins.1, &stage, x, y);
            }
            Op::MaxPool(g) => {
                k.require(Kernel::MaxPool);
                let (x, y) = io(arena, input, &step.input, &step.output);
                pool::max_forward(g, x, y, clamp);
            }
            Op::AvgPool(g) => {
                k.require(Kernel::AvgPool);
                let (x, y) = io(arena, input, &step.input, &step.output);
                pool::avg_forward(g, x, y, clamp);
            }
            Op::Add { skip, words: at } => {
                k.require(Kernel::Add);
                let w = &words[*at..][..ADD_WORDS];
                let params = AddParams {
                    input_zero_point: [ins.1, quant_of(words, skip).1].map(i32::from),
                    input_multiplier: [w[0], w[2]],
                    input_shift: [w[1], w[3]],
                    output_multiplier: w[4],
                    output_shift: w[5],
                    output_zero_point: i32::from(outs.1),
                    min: clamp.0,
                    max: clamp.1,
                };
                // The plan runs an add in place, on its main path's output.
                let (b, y) = io(arena, input, skip, &step.output);
                for (y, &b) in y.iter_mut().zip(b) {
                    *y = params.add(*y, b);
                }
            }
            Op::Clamp => {
                k.require(Kernel::Clamp);
                let y = &mut arena[slot(&step.output)];
                // In place, unless it reads the caller's input.
                if step.input.at.is_none() {
                    y.copy_from_slice(&input[slot(&step.input)]);
                }
                for v in y.iter_mut() {
                    *v = requantize::clamp(i32::from(*v), clamp);
                }
            }
        }
    }
    match p.output.at {
        Some(_) => &arena[slot(&p.output)],
        None => &input[slot(&p.output)],
    }
}
