//! Where a network keeps its parameters: on the heap, or inline (for a `static`
//! in flash, or a stack value on a microcontroller).
//!
//! A generated network is `Net<E, S: Storage>` and holds one flat `[E; N]`
//! through `S::Buf<E, N>`. `N` is a literal the macro computed, so no const
//! arithmetic is needed on stable Rust, and every parameter tensor is a
//! fixed range of that one array.

use core::borrow::{Borrow, BorrowMut};

use crate::Scalar;

/// A way to hold a fixed-size parameter array.
pub trait Storage: 'static {
    /// The container of `N` elements.
    type Buf<E: Scalar, const N: usize>: Borrow<[E; N]> + BorrowMut<[E; N]> + Clone + Send + Sync;

    /// A container of zeros.
    ///
    /// [`Heap`] builds it on the heap directly, so a 1.7 MB parameter array
    /// never passes through the stack.
    fn zeroed<E: Scalar, const N: usize>() -> Self::Buf<E, N>;
}

/// Parameters on the heap, in one `Box<[E; N]>`. The default with `alloc`.
#[cfg(feature = "alloc")]
#[derive(Debug, Clone, Copy, Default)]
pub struct Heap;

#[cfg(feature = "alloc")]
impl Storage for Heap {
    type Buf<E: Scalar, const N: usize> = alloc::boxed::Box<[E; N]>;

    fn zeroed<E: Scalar, const N: usize>() -> Self::Buf<E, N> {
        zeroed_array()
    }
}

/// A `Box<[E; N]>` of zeros, allocated on the heap directly.
///
/// `Box::new([E::ZERO; N])` would build the array on the stack first, which
/// overflows a 2 MiB test thread for SimpleConvNet's 1.7 MB of weights.
#[cfg(feature = "alloc")]
pub fn zeroed_array<E: Scalar, const N: usize>() -> alloc::boxed::Box<[E; N]> {
    let boxed = alloc::vec![E::ZERO; N].into_boxed_slice();
    match boxed.try_into() {
        Ok(array) => array,
        // `vec![_; N]` has exactly N elements.
        Err(_) => unreachable!("a vec of N elements converts to [E; N]"),
    }
}

/// Parameters inline in the network value: a `static` in flash, or a local.
///
/// The default without `alloc`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Inline;

impl Storage for Inline {
    type Buf<E: Scalar, const N: usize> = [E; N];

    fn zeroed<E: Scalar, const N: usize>() -> Self::Buf<E, N> {
        [E::ZERO; N]
    }
}

/// The storage a generated network uses when none is named: [`Heap`] with
/// the `alloc` feature, else [`Inline`].
#[cfg(feature = "alloc")]
pub type DefaultStorage = Heap;

/// The storage a generated network uses when none is named: [`Heap`] with
/// the `alloc` feature, else [`Inline`].
#[cfg(not(feature = "alloc"))]
pub type DefaultStorage = Inline;

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;

    #[test]
    fn big_arrays_skip_the_stack() {
        // 4 MB: larger than a test thread's whole stack.
        let run = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| {
                let a = zeroed_array::<f32, 1_000_000>();
                let b = a.clone();
                a.len() + b.len()
            })
            .unwrap();
        assert_eq!(run.join().unwrap(), 2_000_000);
    }
}
