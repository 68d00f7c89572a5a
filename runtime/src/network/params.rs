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

/// Whether `pattern` names the tensor `name`: the name itself
/// (`conv1.weight`), its layer (`conv1` names `conv1.weight` and
/// `conv1.bias`), or a prefix ending in `*` (`conv*`, `*` for every tensor).
///
/// # Examples
/// ```
/// use constnet::network::params::matches;
/// assert!(matches("conv1", "conv1.bias"));
/// assert!(matches("conv*", "conv12.weight"));
/// assert!(!matches("conv1", "conv12.weight"));
/// ```
pub fn matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => {
            name == pattern
                || name
                    .strip_prefix(pattern)
                    .is_some_and(|rest| rest.starts_with('.'))
        }
    }
}

/// A pattern of [`select`] that names no tensor.
#[cfg(feature = "alloc")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnmatchedPattern {
    /// The pattern.
    pub pattern: alloc::string::String,
    /// The network's tensor names, for the message.
    pub names: alloc::vec::Vec<&'static str>,
}

#[cfg(feature = "alloc")]
impl core::fmt::Display for UnmatchedPattern {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "`{}` names no parameter tensor; the network has ",
            self.pattern
        )?;
        for (i, name) in self.names.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            write!(f, "{sep}`{name}`")?;
        }
        Ok(())
    }
}

#[cfg(feature = "alloc")]
impl core::error::Error for UnmatchedPattern {}

/// Which of `tensors` the `patterns` name (see [`matches()`]), as one flag
/// per tensor.
///
/// # Errors
/// The first pattern that names no tensor: a typo would otherwise freeze
/// or load nothing without a word.
#[cfg(feature = "alloc")]
pub fn select<P: AsRef<str>>(
    tensors: &'static [TensorInfo],
    patterns: &[P],
) -> Result<alloc::vec::Vec<bool>, UnmatchedPattern> {
    let mut picked = alloc::vec![false; tensors.len()];
    for pattern in patterns {
        let pattern = pattern.as_ref();
        let mut any = false;
        for (flag, t) in picked.iter_mut().zip(tensors) {
            if matches(pattern, t.name) {
                *flag = true;
                any = true;
            }
        }
        if !any {
            return Err(UnmatchedPattern {
                pattern: pattern.into(),
                names: tensors.iter().map(|t| t.name).collect(),
            });
        }
    }
    Ok(picked)
}
