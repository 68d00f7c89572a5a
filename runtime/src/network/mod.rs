//! The contract between code that `network!` generates and the rest of the
//! runtime: shapes and counts as associated consts, the parameter layout, the
//! inference pass, and the training passes.
//!
//! Optimizers, initializers, persistence and the trainer depend on these
//! traits only, never on a generated type.
//!
//! Around the traits, the types and helpers generated code is written
//! against:
//! - [`tensor`]: the nested-array inputs and outputs and their flat views;
//! - [`storage`]: where the flat parameter array lives (heap or inline);
//! - [`view`]: typed views of ranges of that array, as kernels take them;
//! - [`params`]: parameter tensors by name;
//! - [`summary`]: the table of layers, shapes and parameter counts.

pub mod params;
pub mod storage;
pub mod summary;
pub mod tensor;
pub mod view;

use crate::{Scalar, Tensor};

/// What a parameter tensor is for. Decides whether it is trained and whether
/// weight decay applies to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// A weight matrix or kernel: trained and decayed.
    Weight,
    /// A bias: trained, not decayed.
    Bias,
    /// Batch-norm scale (γ): trained, not decayed.
    Scale,
    /// Batch-norm shift (β): trained, not decayed.
    Shift,
    /// A PReLU slope: trained, not decayed.
    Slope,
    /// Batch-norm running mean: updated from batch statistics, not by gradients.
    RunningMean,
    /// Batch-norm running variance: updated from batch statistics, not by gradients.
    RunningVar,
    /// A `normalize` layer's mean: fitted from data
    /// ([`fit_normalization`](crate::train::fit_normalization)), never trained.
    Mean,
    /// A `normalize` layer's standard deviation: fitted like [`Role::Mean`].
    Std,
}

impl Role {
    /// Whether optimizers update this tensor from its gradient.
    pub const fn is_trainable(self) -> bool {
        !matches!(
            self,
            Role::RunningMean | Role::RunningVar | Role::Mean | Role::Std
        )
    }

    /// Whether L2 weight decay applies (weights only, as in the classic material).
    pub const fn is_decayed(self) -> bool {
        matches!(self, Role::Weight)
    }
}

/// How a tensor is initialized when a network is built from a random generator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Init {
    /// All zeros.
    Zeros,
    /// All equal to the value (PReLU slopes start at 0.25, batch-norm γ at 1).
    Constant(f64),
    /// Normal with mean 0 and the given standard deviation (the classic `weight_init_std`).
    Normal(f64),
    /// Glorot & Bengio (2010): `U(-a, a)`, `a = sqrt(6 / (fan_in + fan_out))`.
    XavierUniform,
    /// Glorot & Bengio (2010): `N(0, 2 / (fan_in + fan_out))`.
    XavierNormal,
    /// He et al. (2015): `N(0, 2 / fan_in)`.
    HeNormal,
    /// He et al. (2015): `U(-a, a)`, `a = sqrt(6 / fan_in)`.
    HeUniform,
    /// PyTorch's default for `nn.Linear` and `nn.Conv2d`: `U(-a, a)`,
    /// `a = 1 / sqrt(fan_in)`, for the weights and the biases alike (a
    /// bias's `fan_in` is its weight's).
    PyTorch,
}

/// One parameter tensor: a named range of the network's flat parameter array.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TensorInfo {
    /// Stable name, such as `conv1.weight`; persistence and PyTorch interop use it.
    pub name: &'static str,
    /// PyTorch layout: `[out, in, kh, kw]` for convolutions, `[out, in]` for affine.
    pub shape: &'static [usize],
    /// First element in the flat array.
    pub offset: usize,
    /// Number of elements.
    pub len: usize,
    /// What the tensor is for.
    pub role: Role,
    /// Inputs feeding one output unit (for initialization).
    pub fan_in: usize,
    /// Outputs fed by one input unit (for initialization).
    pub fan_out: usize,
    /// The initializer used by `from_rng`.
    pub init: Init,
}

impl TensorInfo {
    /// The tensor's range in the flat parameter array.
    pub const fn range(&self) -> core::ops::Range<usize> {
        self.offset..self.offset + self.len
    }
}

/// One row of the layer table `summary()` prints: a layer, or the head row
/// of a residual block (`residual`) or of its shortcut (`shortcut`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerInfo {
    /// The layer as written, such as `conv(30, 5)`.
    pub text: &'static str,
    /// The parameter prefix (`conv1`), or the layer as written when it has
    /// no parameters.
    pub name: &'static str,
    /// Output shape in DSL notation: `[30, 24, 24]`.
    pub output: &'static [usize],
    /// Number of trainable parameters (of the whole block, for a
    /// residual block's row).
    pub params: usize,
    /// Residual blocks the row sits in: a block's layers are one deeper
    /// than its `residual` row, a shortcut's one deeper than its `shortcut`
    /// row.
    pub depth: usize,
}

/// Where one step's output lies in the workspace of a batch pass
/// ([`Network::forward_batch`]): the hidden activations.
///
/// A step is a layer with what folds into it (an activation after an
/// affine or a convolution, a max pool after a convolution), named by its
/// first layer (`conv1`), so its output is the folded layers' output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HiddenInfo {
    /// The step's first layer's name: `conv1`, `relu2`, `pool1`.
    pub name: &'static str,
    /// The output shape of one sample.
    pub shape: &'static [usize],
    /// Scalars per sample of the workspace before the output.
    pub per_sample_before: usize,
    /// Scalars independent of the batch before the output.
    pub fixed_before: usize,
    /// Scalars of one sample's output.
    pub len: usize,
}

impl HiddenInfo {
    /// Where the output starts in the workspace of a batch of `batch`;
    /// sample `i` is `len` scalars from `start + i * len`.
    pub const fn start(&self, batch: usize) -> usize {
        batch * self.per_sample_before + self.fixed_before
    }
}

/// A network declared with `network!`: shapes, parameters and inference.
pub trait Network: Sized {
    /// The element type (`f32` or `f64`).
    type Elem: Scalar;
    /// One input sample, such as `[[[E; 28]; 28]; 1]`.
    type Input: Tensor<Elem = Self::Elem>;
    /// One output, such as `[E; 10]`.
    type Output: Tensor<Elem = Self::Elem>;

    /// The declared name.
    const NAME: &'static str;
    /// Input shape as declared: `[features]` or `[channels, height, width]`.
    const INPUT_SHAPE: &'static [usize];
    /// Elements in one input.
    const INPUT_LEN: usize;
    /// Elements in one output.
    const OUTPUT_LEN: usize;
    /// Trainable parameters.
    const PARAM_COUNT: usize;
    /// Elements of the flat parameter array: trainable parameters plus
    /// running statistics.
    const STORE_LEN: usize;
    /// Elements of the scratch arena `predict` uses: the most elements
    /// alive at once in one pass (a step's input and output, and a residual
    /// block's input while its paths run), which is the exact minimum for
    /// the network's step order.
    const ARENA_LEN: usize;
    /// Every parameter tensor, in declaration order.
    const TENSORS: &'static [TensorInfo];
    /// Every layer, in declaration order.
    const LAYERS: &'static [LayerInfo];
    /// Every step's output in a batch pass's workspace, in order (see
    /// [`hidden`](crate::inference::hidden)); empty for a network that
    /// does not say.
    const HIDDEN: &'static [HiddenInfo] = &[];
    /// A hash of the architecture: input and output shapes, every layer's
    /// kind and the settings that change its function (activation, window,
    /// stride, padding, batch-norm epsilon, residual structure) and every
    /// parameter tensor's name and shape (element type excluded). Parameter
    /// files carry it, so a file written for another architecture is
    /// rejected, while a changed dropout rate or initializer is not.
    const SIGNATURE: u64;
    /// The network as PyTorch source: a class named like the network (an
    /// `nn.Sequential`, or an `nn.Module` with a `forward` when there are
    /// residual blocks) whose modules carry constnet's layer names, so its
    /// `state_dict()` keys are [`TENSORS`](Self::TENSORS)' names and
    /// [`persist::load_safetensors`](crate::persist::load_safetensors) reads weights trained in
    /// PyTorch as they are. Empty for a network that does not say; a class
    /// that raises `NotImplementedError` naming the layer when PyTorch has
    /// no modules for one (an average pool padded on one side only).
    const PYTORCH: &'static str = "";

    /// The flat parameter array.
    fn params(&self) -> &[Self::Elem];
    /// The flat parameter array, mutable.
    fn params_mut(&mut self) -> &mut [Self::Elem];
    /// Runs one sample in inference mode.
    ///
    /// It checks nothing, to stay as cheap as the arithmetic: a NaN in the
    /// input or the parameters propagates through every layer as in IEEE
    /// arithmetic (`relu(NaN)` is NaN, as in PyTorch, and so is the maximum
    /// of a pooling window holding one), so every output it reaches is NaN;
    /// after a softmax, that is every probability. An infinite input gives
    /// infinite or NaN outputs. Check doubtful inputs with
    /// [`scalar::all_finite`](crate::scalar::all_finite), or use
    /// `train::evaluate` (with `std`), which reports a NaN input, parameter
    /// or loss as a typed error.
    fn predict(&self, x: &Self::Input) -> Self::Output;

    /// The index of the largest output of [`Network::predict`]: the class
    /// of a classifier. The first one wins a tie; a NaN output wins over
    /// any number, so a NaN prediction is not mistaken for a class (its
    /// index is that of the first NaN).
    fn predict_class(&self, x: &Self::Input) -> usize {
        top_k::<_, 1>(self.predict(x).as_flat())[0].0
    }

    /// The `K` largest outputs of [`Network::predict`] with their indices,
    /// largest first (ties: lower index first; NaN ranks above every
    /// number). Allocates nothing.
    ///
    /// # Panics
    /// At compile time, if `K` is 0 or larger than the output.
    fn top_k<const K: usize>(&self, x: &Self::Input) -> [(usize, Self::Elem); K] {
        const { assert!(K <= Self::OUTPUT_LEN, "top_k: K exceeds the outputs") };
        top_k::<_, K>(self.predict(x).as_flat())
    }

    /// Scalars of workspace a batch of `batch` samples needs, for
    /// [`Network::forward_batch`] and the training passes.
    fn workspace_len(batch: usize) -> usize;
    /// Argmax slots of workspace a batch of `batch` samples needs.
    fn index_len(batch: usize) -> usize;

    /// Runs a batch in inference mode through the batched kernels.
    ///
    /// # Panics
    /// If `ys` is not as long as `xs`, or `ws` is smaller than
    /// [`Network::workspace_len`] and [`Network::index_len`] ask for.
    fn forward_batch(
        &self,
        xs: &[Self::Input],
        ws: &mut Workspace<'_, Self::Elem>,
        ys: &mut [Self::Output],
    );
}

/// The `K` largest of `values` with their indices, largest first: one pass,
/// an insertion into `K` slots per value.
fn top_k<E: Scalar, const K: usize>(values: &[E]) -> [(usize, E); K] {
    const { assert!(K > 0, "top_k needs K of at least 1") };
    assert!(
        K <= values.len(),
        "top_k: K = {K} of {} outputs",
        values.len()
    );
    // `a` ranks above `b`: larger, or NaN over a number.
    let above = |a: E, b: E| (a.is_nan() && !b.is_nan()) || a > b;
    let mut best = [(usize::MAX, E::ZERO); K];
    let mut filled = 0;
    for (i, &v) in values.iter().enumerate() {
        let mut at = filled;
        while at > 0 && above(v, best[at - 1].1) {
            at -= 1;
        }
        if at < K {
            let end = filled.min(K - 1);
            best.copy_within(at..end, at + 1);
            best[at] = (i, v);
            filled = (filled + 1).min(K);
        }
    }
    best
}

/// Per-step context for training-mode passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepCtx {
    /// Seed of this step's dropout masks.
    pub seed: u64,
    /// Index of the shard's first sample within the whole batch, so that a
    /// sample's dropout mask does not depend on how the batch was split.
    pub first_sample: usize,
    /// Samples in the whole batch: gradients are of the mean loss over it,
    /// so a shard's gradients sum to the batch's.
    pub batch: usize,
    /// Parameters at flat offsets below this are frozen (transfer
    /// learning's reused lower layers): the backward pass may skip their
    /// gradients, leaving those slots of `grads` unspecified, and skips the
    /// gradients of activations that only they would need; a frozen
    /// layer's batch statistics are still staged. 0 computes everything.
    pub frozen: usize,
}

impl StepCtx {
    /// The context of a whole, unsplit batch of `batch` samples.
    pub const fn whole(seed: u64, batch: usize) -> Self {
        StepCtx {
            seed,
            first_sample: 0,
            batch,
            frozen: 0,
        }
    }
}

/// Borrowed scratch memory of a training-mode pass over a batch.
#[derive(Debug)]
pub struct Workspace<'a, E> {
    /// Activations, gradients and parameter gradients.
    pub data: &'a mut [E],
    /// Max-pool argmax indices.
    pub index: &'a mut [u32],
}

/// A network that can be trained: every layer has a gradient.
///
/// Generated for every network without `step`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be trained",
    label = "a network declared with `network!` is untrainable only when it contains `step`",
    note = "`step` has no gradient; use `sigmoid` for a trainable threshold"
)]
pub trait Trainable: Network {
    /// Loss the network is trained with (chosen by its last layer or declared).
    const LOSS: crate::loss::LossKind;

    /// Runs the batch in training mode and returns the summed (not averaged)
    /// loss. Outputs and everything backward needs stay in `ws`.
    ///
    /// # Panics
    /// If `ts` is not as long as `xs`, or `ws` is too small.
    fn forward_loss<T: crate::loss::Target<Self::Output>>(
        &self,
        xs: &[Self::Input],
        ts: &[T],
        ws: &mut Workspace<'_, Self::Elem>,
        ctx: StepCtx,
    ) -> Self::Elem;

    /// Runs forward and backward. Writes the gradient of the summed loss
    /// divided by `ctx.batch` into `grads` (length `STORE_LEN`), and into
    /// running-statistic slots the batch statistic weighted by
    /// `xs.len() / ctx.batch`, so that summing shards yields the batch's.
    /// Copies the outputs into `outputs` when given. Returns the summed loss.
    ///
    /// # Panics
    /// If `ts` or `outputs` is not as long as `xs`, `grads` is not
    /// `STORE_LEN` long, or `ws` is too small.
    fn forward_backward<T: crate::loss::Target<Self::Output>>(
        &self,
        xs: &[Self::Input],
        ts: &[T],
        ws: &mut Workspace<'_, Self::Elem>,
        grads: &mut [Self::Elem],
        ctx: StepCtx,
        outputs: Option<&mut [Self::Output]>,
    ) -> Self::Elem;

    /// Runs the batch in inference mode, writes the outputs and returns the
    /// summed loss: NaN when an input or a parameter is NaN (see
    /// [`Network::predict`]).
    ///
    /// # Panics
    /// If `ts` or `outputs` is not as long as `xs`, or `ws` is too small.
    fn evaluate<T: crate::loss::Target<Self::Output>>(
        &self,
        xs: &[Self::Input],
        ts: &[T],
        ws: &mut Workspace<'_, Self::Elem>,
        outputs: &mut [Self::Output],
    ) -> Self::Elem;

    /// Folds reduced batch statistics (see [`Trainable::forward_backward`])
    /// into the running averages.
    fn commit_statistics(&mut self, stats: &[Self::Elem]);
}

#[cfg(test)]
mod tests {
    use super::top_k;

    #[test]
    fn top_k_ranks_largest_first_ties_by_index_and_nan_above_numbers() {
        let v = [0.1f32, 0.7, 0.7, -1.0, 0.2];
        assert_eq!(top_k::<_, 1>(&v), [(1, 0.7)]);
        assert_eq!(top_k::<_, 3>(&v), [(1, 0.7), (2, 0.7), (4, 0.2)]);
        assert_eq!(
            top_k::<_, 5>(&v).map(|(i, _)| i),
            [1, 2, 4, 0, 3],
            "every output, sorted"
        );
        let nan = [1.0f32, f32::NAN, 2.0, f32::NAN];
        let best = top_k::<_, 3>(&nan);
        assert_eq!(best.map(|(i, _)| i), [1, 3, 2]);
        assert!(best[0].1.is_nan());
    }
}
