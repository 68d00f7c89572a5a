//! Heap allocation of large fixed-size arrays without a stack temporary.

use alloc::boxed::Box;
use alloc::vec;

use crate::Scalar;

/// A `Box<[E; N]>` of zeros, allocated on the heap directly.
///
/// `Box::new([E::ZERO; N])` would build the array on the stack first, which
/// overflows a 2 MiB test thread for SimpleConvNet's 1.7 MB of weights.
pub fn zeroed_array<E: Scalar, const N: usize>() -> Box<[E; N]> {
    let boxed = vec![E::ZERO; N].into_boxed_slice();
    match boxed.try_into() {
        Ok(array) => array,
        // `vec![_; N]` has exactly N elements.
        Err(_) => unreachable!("a vec of N elements converts to [E; N]"),
    }
}

#[cfg(test)]
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
