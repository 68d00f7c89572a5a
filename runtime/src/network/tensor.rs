//! Fixed-size nested arrays of scalars (`[E; N]`, `[[E; W]; H]`, `[[[E; W]; H]; C]`)
//! and the conversions between them and flat slices.
//!
//! Networks take and return nested arrays, so a wrongly shaped input is a type
//! error. Kernels, optimizers and persistence see the same memory as flat
//! slices. Both views are safe code: nested arrays are contiguous, and
//! `as_flattened` (Rust 1.80) exposes that without `unsafe`.

use crate::Scalar;

/// A fixed-shape array of scalars.
///
/// Implemented for arrays of rank 1 to 3, the input and output types of every
/// network.
///
/// # Examples
/// ```
/// use constnet::Tensor;
/// let mut image = <[[[f32; 4]; 3]; 2]>::zeroed();
/// image.as_flat_mut()[5] = 1.0;
/// assert_eq!(image[0][1][1], 1.0);
/// assert_eq!(<[[[f32; 4]; 3]; 2]>::SHAPE, &[2, 3, 4]);
/// ```
pub trait Tensor: Copy + Send + Sync + 'static {
    /// The element type.
    type Elem: Scalar;
    /// Number of elements.
    const LEN: usize;
    /// Extent of each axis, outermost first.
    const SHAPE: &'static [usize];

    /// An array of zeros.
    fn zeroed() -> Self;
    /// The elements in row-major order.
    fn as_flat(&self) -> &[Self::Elem];
    /// The elements in row-major order, mutable.
    fn as_flat_mut(&mut self) -> &mut [Self::Elem];
    /// A batch of tensors as one flat slice, sample after sample.
    fn batch_flat(batch: &[Self]) -> &[Self::Elem];
    /// A batch of tensors as one flat mutable slice.
    fn batch_flat_mut(batch: &mut [Self]) -> &mut [Self::Elem];
    /// Views a flat slice as a batch; a trailing partial sample is dropped.
    fn batch_of(flat: &[Self::Elem]) -> &[Self];
    /// Views a flat mutable slice as a batch; a trailing partial sample is dropped.
    fn batch_of_mut(flat: &mut [Self::Elem]) -> &mut [Self];
}

impl<E: Scalar, const N: usize> Tensor for [E; N] {
    type Elem = E;
    const LEN: usize = N;
    const SHAPE: &'static [usize] = &[N];

    #[inline(always)]
    fn zeroed() -> Self {
        [E::ZERO; N]
    }
    #[inline(always)]
    fn as_flat(&self) -> &[E] {
        self
    }
    #[inline(always)]
    fn as_flat_mut(&mut self) -> &mut [E] {
        self
    }
    #[inline(always)]
    fn batch_flat(batch: &[Self]) -> &[E] {
        batch.as_flattened()
    }
    #[inline(always)]
    fn batch_flat_mut(batch: &mut [Self]) -> &mut [E] {
        batch.as_flattened_mut()
    }
    #[inline(always)]
    fn batch_of(flat: &[E]) -> &[Self] {
        flat.as_chunks::<N>().0
    }
    #[inline(always)]
    fn batch_of_mut(flat: &mut [E]) -> &mut [Self] {
        flat.as_chunks_mut::<N>().0
    }
}

impl<E: Scalar, const H: usize, const W: usize> Tensor for [[E; W]; H] {
    type Elem = E;
    const LEN: usize = H * W;
    const SHAPE: &'static [usize] = &[H, W];

    #[inline(always)]
    fn zeroed() -> Self {
        [[E::ZERO; W]; H]
    }
    #[inline(always)]
    fn as_flat(&self) -> &[E] {
        self.as_flattened()
    }
    #[inline(always)]
    fn as_flat_mut(&mut self) -> &mut [E] {
        self.as_flattened_mut()
    }
    #[inline(always)]
    fn batch_flat(batch: &[Self]) -> &[E] {
        batch.as_flattened().as_flattened()
    }
    #[inline(always)]
    fn batch_flat_mut(batch: &mut [Self]) -> &mut [E] {
        batch.as_flattened_mut().as_flattened_mut()
    }
    #[inline(always)]
    fn batch_of(flat: &[E]) -> &[Self] {
        flat.as_chunks::<W>().0.as_chunks::<H>().0
    }
    #[inline(always)]
    fn batch_of_mut(flat: &mut [E]) -> &mut [Self] {
        flat.as_chunks_mut::<W>().0.as_chunks_mut::<H>().0
    }
}

impl<E: Scalar, const C: usize, const H: usize, const W: usize> Tensor for [[[E; W]; H]; C] {
    type Elem = E;
    const LEN: usize = C * H * W;
    const SHAPE: &'static [usize] = &[C, H, W];

    #[inline(always)]
    fn zeroed() -> Self {
        [[[E::ZERO; W]; H]; C]
    }
    #[inline(always)]
    fn as_flat(&self) -> &[E] {
        self.as_flattened().as_flattened()
    }
    #[inline(always)]
    fn as_flat_mut(&mut self) -> &mut [E] {
        self.as_flattened_mut().as_flattened_mut()
    }
    #[inline(always)]
    fn batch_flat(batch: &[Self]) -> &[E] {
        batch.as_flattened().as_flattened().as_flattened()
    }
    #[inline(always)]
    fn batch_flat_mut(batch: &mut [Self]) -> &mut [E] {
        batch
            .as_flattened_mut()
            .as_flattened_mut()
            .as_flattened_mut()
    }
    #[inline(always)]
    fn batch_of(flat: &[E]) -> &[Self] {
        flat.as_chunks::<W>()
            .0
            .as_chunks::<H>()
            .0
            .as_chunks::<C>()
            .0
    }
    #[inline(always)]
    fn batch_of_mut(flat: &mut [E]) -> &mut [Self] {
        flat.as_chunks_mut::<W>()
            .0
            .as_chunks_mut::<H>()
            .0
            .as_chunks_mut::<C>()
            .0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_views_round_trip() {
        let mut flat = [0.0f32; 2 * 2 * 3 * 4 + 1];
        for (i, v) in flat.iter_mut().enumerate() {
            *v = i as f32;
        }
        let batch = <[[[f32; 4]; 3]; 2]>::batch_of(&flat);
        assert_eq!(batch.len(), 2);
        assert_eq!(batch[1][1][2][3], 47.0);
        assert_eq!(<[[[f32; 4]; 3]; 2]>::batch_flat(batch).len(), 48);
        let rows = <[f32; 5]>::batch_of_mut(&mut flat);
        rows[1][0] = -1.0;
        assert_eq!(flat[5], -1.0);
    }
}
