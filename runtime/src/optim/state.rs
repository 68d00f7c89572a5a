//! Where stateful optimizers keep their per-element state.

use crate::{Scalar, TensorInfo};

/// Per-element optimizer state (velocity, squared-gradient sums, moments),
/// laid out like the flat parameter array: a tensor's slots are
/// `tensor.range()`.
///
/// Implemented for `Vec<E>` (with `alloc`), which grows to fit on first use,
/// and for fixed buffers, `[E; N]` and `&mut [E]`, which need no allocator.
/// A fixed buffer must hold at least `Network::STORE_LEN` elements and start
/// zeroed.
pub trait StateBuf<E> {
    /// The slots of `tensor`; zero until an optimizer writes them.
    ///
    /// # Panics
    /// A fixed buffer panics if it is shorter than the tensor's end offset.
    fn slots(&mut self, tensor: &TensorInfo) -> &mut [E];

    /// Sets every slot back to zero, as before the first step.
    fn reset(&mut self);

    /// Every slot: a `Vec` only as far as it has grown (the rest is zero),
    /// a fixed buffer whole.
    fn values(&self) -> &[E];

    /// Every slot, mutable; a `Vec` first grows to at least `len` slots.
    fn values_mut(&mut self, len: usize) -> &mut [E];
}

#[cfg(feature = "alloc")]
impl<E: Scalar> StateBuf<E> for alloc::vec::Vec<E> {
    fn slots(&mut self, tensor: &TensorInfo) -> &mut [E] {
        let range = tensor.range();
        if self.len() < range.end {
            self.resize(range.end, E::ZERO);
        }
        &mut self[range]
    }

    fn reset(&mut self) {
        self.fill(E::ZERO);
    }

    fn values(&self) -> &[E] {
        self
    }

    fn values_mut(&mut self, len: usize) -> &mut [E] {
        if self.len() < len {
            self.resize(len, E::ZERO);
        }
        self
    }
}

impl<E: Scalar> StateBuf<E> for &mut [E] {
    fn slots(&mut self, tensor: &TensorInfo) -> &mut [E] {
        fixed_slots(self, tensor)
    }

    fn reset(&mut self) {
        self.fill(E::ZERO);
    }

    fn values(&self) -> &[E] {
        self
    }

    fn values_mut(&mut self, _len: usize) -> &mut [E] {
        self
    }
}

impl<E: Scalar, const N: usize> StateBuf<E> for [E; N] {
    fn slots(&mut self, tensor: &TensorInfo) -> &mut [E] {
        fixed_slots(self, tensor)
    }

    fn reset(&mut self) {
        self.fill(E::ZERO);
    }

    fn values(&self) -> &[E] {
        self
    }

    fn values_mut(&mut self, _len: usize) -> &mut [E] {
        self
    }
}

#[track_caller]
fn fixed_slots<'a, E>(buf: &'a mut [E], tensor: &TensorInfo) -> &'a mut [E] {
    let len = buf.len();
    match buf.get_mut(tensor.range()) {
        Some(slots) => slots,
        None => panic!(
            "optimizer state buffer holds {len} elements, but tensor `{}` needs {} \
             (size it to the network's STORE_LEN)",
            tensor.name,
            tensor.offset + tensor.len
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::test_util::TENSORS;

    #[test]
    fn vec_state_grows_to_fit_and_starts_at_zero() {
        let mut buf: std::vec::Vec<f64> = std::vec::Vec::new();
        assert_eq!(buf.slots(&TENSORS[1]), &[0.0, 0.0]);
        assert_eq!(buf.len(), 6);
        buf.slots(&TENSORS[1])[0] = 3.0;
        assert_eq!(buf.slots(&TENSORS[0]).len(), 4);
        assert_eq!(buf[4], 3.0);
        buf.reset();
        assert_eq!(buf[4], 0.0);
        assert_eq!(buf.values().len(), 6);
        assert_eq!(buf.values_mut(8).len(), 8);
    }

    #[test]
    fn fixed_state_indexes_by_offset() {
        let mut array = [0.0f32; 8];
        array.slots(&TENSORS[1])[1] = 2.0;
        assert_eq!(array[5], 2.0);
        let mut slice: &mut [f32] = &mut array;
        assert_eq!(slice.slots(&TENSORS[1]), &[0.0, 2.0]);
        slice.reset();
        assert_eq!(array, [0.0; 8]);
    }

    #[test]
    #[should_panic(
        expected = "optimizer state buffer holds 5 elements, but tensor `affine1.bias` needs 6"
    )]
    fn fixed_state_too_small_panics_with_the_tensor_name() {
        let mut array = [0.0f64; 5];
        array.slots(&TENSORS[1]);
    }
}
