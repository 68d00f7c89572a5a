//! Reading and writing a network's parameter tensors by name.

use crate::{Network, TensorInfo};

/// The description of the tensor called `name` (`conv1.weight`).
pub fn info<N: Network>(name: &str) -> Option<&'static TensorInfo> {
    N::TENSORS.iter().find(|t| t.name == name)
}

/// The values of the tensor called `name`, in PyTorch layout.
pub fn tensor<'a, N: Network>(net: &'a N, name: &str) -> Option<&'a [N::Elem]> {
    info::<N>(name).map(|t| &net.params()[t.range()])
}

/// The values of the tensor called `name`, mutable.
pub fn tensor_mut<'a, N: Network>(net: &'a mut N, name: &str) -> Option<&'a mut [N::Elem]> {
    info::<N>(name).map(|t| &mut net.params_mut()[t.range()])
}

/// Why [`set_tensor`] refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetTensorError {
    /// No tensor has the name asked for.
    UnknownName,
    /// The values do not have the tensor's element count.
    WrongLength {
        /// The tensor's name.
        name: &'static str,
        /// Its element count.
        expected: usize,
        /// The number of values given.
        found: usize,
    },
}

impl core::fmt::Display for SetTensorError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SetTensorError::UnknownName => {
                f.write_str("the network has no parameter tensor of that name")
            }
            SetTensorError::WrongLength {
                name,
                expected,
                found,
            } => {
                write!(f, "`{name}` has {expected} elements, found {found} values")
            }
        }
    }
}

impl core::error::Error for SetTensorError {}

/// Overwrites the tensor called `name` with `values` (PyTorch layout).
///
/// # Errors
/// If no tensor has that name or `values` has the wrong length; the
/// network is unchanged then.
pub fn set_tensor<N: Network>(
    net: &mut N,
    name: &str,
    values: &[N::Elem],
) -> Result<(), SetTensorError> {
    let Some(t) = info::<N>(name) else {
        return Err(SetTensorError::UnknownName);
    };
    if values.len() != t.len {
        return Err(SetTensorError::WrongLength {
            name: t.name,
            expected: t.len,
            found: values.len(),
        });
    }
    net.params_mut()[t.range()].copy_from_slice(values);
    Ok(())
}
