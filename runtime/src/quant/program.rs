//! What `network!` tells the runtime about a network's int8 form: its steps
//! in execution order, with their geometry, where each value lives in the
//! int8 arena, and where each step's integers lie in the quantized
//! parameters. One table serves calibration, quantization, the file format,
//! `summary()` and inference, so none of them can disagree about the layout.
//!
//! A quantized network holds two arrays:
//! - `weights: [i8; W]`: every step's int8 weights, in step order, each
//!   in the `f32` network's layout (PyTorch's);
//! - `words: [i32; K]`: the rest, as 32-bit words (`f32`s by their bits):
//!   [`VALUE_WORDS`] per quantized value (scale, zero point), then
//!   [`DOOR_WORDS`] per input channel (the preprocessing folded into one
//!   affine map), then each step's own words ([`CHANNEL_WORDS`] per output
//!   channel of a layer with weights, [`ADD_WORDS`] for an add).

/// Words per quantized value: its scale (an `f32`'s bits) and zero point.
pub const VALUE_WORDS: usize = 2;
/// Words per input channel of the door: `x · a + b` before quantizing
/// (`a`, `b` as `f32` bits), the network's leading preprocessing.
pub const DOOR_WORDS: usize = 2;
/// Words per output channel of a layer with weights: the int32 bias, the
/// weight scale (`f32` bits), the Q31 multiplier and the shift.
pub const CHANNEL_WORDS: usize = 4;
/// Words of a residual add: each input's multiplier and shift, then the
/// sum's.
pub const ADD_WORDS: usize = 6;

/// The whole int8 program of a network.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Program {
    /// The steps in execution order.
    pub steps: &'static [Step],
    /// The network input after its leading preprocessing: where it lives
    /// (the caller's buffer when nothing preprocesses it) and its
    /// quantization.
    pub input: Value,
    /// The value the last step writes: the int8 output.
    pub output: Value,
    /// The leading preprocessing layers, applied in `f32` before the input
    /// is quantized.
    pub door: &'static [DoorOp],
    /// Channels of the input (`door` works per channel).
    pub channels: usize,
    /// Elements per input channel.
    pub positions: usize,
    /// A final softmax, applied in `f32` to the dequantized output.
    pub softmax: bool,
    /// Bytes of the int8 arena: the values, then the scratch.
    pub arena: usize,
    /// Bytes at the arena's end the convolutions use as scratch
    /// ([`scratch_len`]).
    pub scratch: usize,
    /// int8 weights (`W`).
    pub weights: usize,
    /// 32-bit words (`K`).
    pub words: usize,
    /// Quantized values (distinct scale and zero point pairs).
    pub values: usize,
}

impl Program {
    /// The first word of the door.
    pub const fn door_words(&self) -> usize {
        self.values * VALUE_WORDS
    }

    /// A fingerprint of everything the integers' meaning depends on: each
    /// step's operation, geometry, activation and layout, and the values'
    /// sharing of quantization parameters. Two programs with the same
    /// fingerprint read the same file the same way. The arena's size is
    /// not part of it: a file outlives a change in the kernels' scratch.
    pub const fn fingerprint(&self) -> u64 {
        let mut h = Fnv::new()
            .word(self.steps.len())
            .value(&self.input)
            .value(&self.output)
            .word(self.door.len())
            .word(self.channels)
            .word(self.positions)
            .word(self.softmax as usize)
            .word(self.weights)
            .word(self.words)
            .word(self.values);
        let mut i = 0;
        while i < self.door.len() {
            h = h.word(match self.door[i] {
                DoorOp::Normalize { .. } => 1,
                DoorOp::Rescale { .. } => 2,
            });
            i += 1;
        }
        let mut s = 0;
        while s < self.steps.len() {
            h = h.step(&self.steps[s]);
            s += 1;
        }
        h.0
    }
}

/// The scratch `steps` need: the most any convolution's kernel asks
/// ([`columns::scratch_len`](super::columns::scratch_len),
/// [`depthwise::scratch_len`](super::depthwise::scratch_len)), on any
/// target, so that the arena is one constant.
pub const fn scratch_len(steps: &[Step]) -> usize {
    let mut most = 0;
    let mut s = 0;
    while s < steps.len() {
        if let Op::Conv { geometry, pool, .. } = &steps[s].op {
            let n = super::run::ConvKernel::of(geometry, *pool).scratch_len(geometry, *pool);
            if n > most {
                most = n;
            }
        }
        s += 1;
    }
    most
}

/// One step of the int8 program.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// The `f32` step's name (`conv1`), for tables and errors.
    pub name: &'static str,
    /// The layers it runs, as written (`conv(8, 5) -> relu -> pool(2)`).
    pub text: &'static str,
    /// What it computes.
    pub op: Op,
    /// The activation it clamps its output to.
    pub act: Act,
    /// What it reads.
    pub input: Value,
    /// What it writes.
    pub output: Value,
}

impl Step {
    /// The int8 weights the step owns.
    pub const fn weight_len(&self) -> usize {
        match &self.op {
            Op::Conv { geometry: g, .. } => g.f * (g.c / g.groups) * g.kernel.0 * g.kernel.1,
            Op::Affine {
                inputs, outputs, ..
            } => *inputs * *outputs,
            Op::MaxPool(_) | Op::AvgPool(_) | Op::Add { .. } | Op::Clamp => 0,
        }
    }

    /// The 32-bit words the step owns.
    pub const fn word_len(&self) -> usize {
        match &self.op {
            Op::Conv { geometry, .. } => geometry.f * CHANNEL_WORDS,
            Op::Affine { outputs, .. } => *outputs * CHANNEL_WORDS,
            Op::Add { .. } => ADD_WORDS,
            Op::MaxPool(_) | Op::AvgPool(_) | Op::Clamp => 0,
        }
    }

    /// Multiply-accumulates of one inference.
    pub const fn macs(&self) -> usize {
        match &self.op {
            Op::Conv { geometry: g, .. } => self.weight_len() * g.out.0 * g.out.1,
            Op::Affine { .. } => self.weight_len(),
            Op::MaxPool(_) | Op::AvgPool(_) | Op::Add { .. } | Op::Clamp => 0,
        }
    }
}

/// A step's weighted layer and its output channels, if it has weights.
pub const fn weighted(step: &Step) -> Option<(&Weighted, usize)> {
    match &step.op {
        Op::Conv {
            geometry, layer, ..
        } => Some((layer, geometry.f)),
        Op::Affine { outputs, layer, .. } => Some((layer, *outputs)),
        Op::MaxPool(_) | Op::AvgPool(_) | Op::Add { .. } | Op::Clamp => None,
    }
}

/// A value of the int8 program: a step's output, or the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Value {
    /// Its first byte in the arena; `None` for the caller's input.
    pub at: Option<usize>,
    /// Elements of one sample.
    pub len: usize,
    /// Its quantization (an index among the program's values). A pool and a
    /// standalone clamp keep their input's, as TFLite's converter requires.
    pub quant: usize,
    /// The `f32` network's step whose output it is, as an index into
    /// `Network::HIDDEN` (calibration reads it there); `None` for an
    /// input nothing preprocesses.
    pub hidden: Option<usize>,
}

/// The clamp of a step's output: its fused activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    /// The int8 range.
    None,
    /// From the output's zero point up.
    Relu,
    /// From the output's zero point to the quantized 6.
    Relu6,
}

/// What a step computes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    /// A grouped convolution (depthwise and pointwise included), maybe with
    /// a tiling max pool folded in.
    Conv {
        /// Its geometry.
        geometry: ConvGeometry,
        /// A max pool whose windows tile the output: `(kh, kw)`.
        pool: Option<(usize, usize)>,
        /// Its parameters.
        layer: Weighted,
    },
    /// A fully connected layer.
    Affine {
        /// Input features.
        inputs: usize,
        /// Output features.
        outputs: usize,
        /// Its parameters.
        layer: Weighted,
    },
    /// Max pooling.
    MaxPool(PoolGeometry),
    /// Average pooling (a global average pool is one window).
    AvgPool(PoolGeometry),
    /// A residual add of the step's input and `skip`.
    Add {
        /// The other operand.
        skip: Value,
        /// Its first word.
        words: usize,
    },
    /// A standalone ReLU or ReLU6: the clamp alone.
    Clamp,
}

/// Where a layer with weights finds its parameters: the `f32` ones it is
/// quantized from, and its int8 ones.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weighted {
    /// The weight's offset in the `f32` parameters.
    pub weight: usize,
    /// The bias's offset, if the layer has one.
    pub bias: Option<usize>,
    /// A batch norm right after it, folded in when quantizing.
    pub norm: Option<Norm>,
    /// The first int8 weight.
    pub int8: usize,
    /// The first word (the channels' words, [`CHANNEL_WORDS`] each).
    pub words: usize,
}

/// A batch norm folded into the layer before it: offsets of its tensors in
/// the `f32` parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Norm {
    /// γ.
    pub scale: usize,
    /// β.
    pub shift: usize,
    /// The running mean.
    pub mean: usize,
    /// The running variance.
    pub var: usize,
    /// The ε added to the variance.
    pub eps: f64,
}

/// The geometry of a convolution, as `kernels::conv2d` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvGeometry {
    /// Input channels.
    pub c: usize,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Output channels (filters).
    pub f: usize,
    /// Groups: 1 for a dense convolution, `c` for a depthwise one.
    pub groups: usize,
    /// `(height, width)` of the kernel.
    pub kernel: (usize, usize),
    /// `(rows, columns)` between windows.
    pub stride: (usize, usize),
    /// Padding before the first row and column; taps past the end are padding too.
    pub pad: (usize, usize),
    /// `(height, width)` of the output.
    pub out: (usize, usize),
}

/// The geometry of a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolGeometry {
    /// Channels.
    pub c: usize,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// `(height, width)` of a window.
    pub kernel: (usize, usize),
    /// `(rows, columns)` between windows.
    pub stride: (usize, usize),
    /// Padding before the first row and column.
    pub pad: (usize, usize),
    /// `(height, width)` of the output.
    pub out: (usize, usize),
}

/// A preprocessing layer at the network's door.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DoorOp {
    /// `(x − mean_c) / std_c`, statistics at these `f32` offsets.
    Normalize {
        /// Offset of the means.
        mean: usize,
        /// Offset of the standard deviations.
        std: usize,
        /// How many statistics: 1 (one for all) or the channel count.
        len: usize,
    },
    /// `x · scale + offset`.
    Rescale {
        /// The factor.
        scale: f64,
        /// The offset.
        offset: f64,
    },
}

/// FNV-1a over words, usable in `const` code.
struct Fnv(u64);

impl Fnv {
    const fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    const fn word(self, w: usize) -> Self {
        let bytes = (w as u64).to_le_bytes();
        let mut h = self.0;
        let mut i = 0;
        while i < 8 {
            h = (h ^ bytes[i] as u64).wrapping_mul(0x0100_0000_01b3);
            i += 1;
        }
        Fnv(h)
    }

    const fn value(self, v: &Value) -> Self {
        let at = match v.at {
            Some(at) => at + 1,
            None => 0,
        };
        self.word(at).word(v.len).word(v.quant)
    }

    const fn pair(self, (a, b): (usize, usize)) -> Self {
        self.word(a).word(b)
    }

    const fn pool(self, g: &PoolGeometry) -> Self {
        self.word(g.c)
            .pair((g.h, g.w))
            .pair(g.kernel)
            .pair(g.stride)
            .pair(g.pad)
            .pair(g.out)
    }

    const fn weighted(self, l: &Weighted) -> Self {
        self.word(l.bias.is_some() as usize)
            .word(l.norm.is_some() as usize)
            .word(l.int8)
            .word(l.words)
    }

    const fn step(self, s: &Step) -> Self {
        let h = self.value(&s.input).value(&s.output).word(s.act as usize);
        match &s.op {
            Op::Conv {
                geometry: g,
                pool,
                layer,
            } => {
                let pool = match pool {
                    Some(p) => *p,
                    None => (0, 0),
                };
                h.word(1)
                    .word(g.c)
                    .pair((g.h, g.w))
                    .word(g.f)
                    .word(g.groups)
                    .pair(g.kernel)
                    .pair(g.stride)
                    .pair(g.pad)
                    .pair(g.out)
                    .pair(pool)
                    .weighted(layer)
            }
            Op::Affine {
                inputs,
                outputs,
                layer,
            } => h.word(2).pair((*inputs, *outputs)).weighted(layer),
            Op::MaxPool(g) => h.word(3).pool(g),
            Op::AvgPool(g) => h.word(4).pool(g),
            Op::Add { skip, words } => h.word(5).value(skip).word(*words),
            Op::Clamp => h.word(6),
        }
    }
}
