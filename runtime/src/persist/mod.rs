//! Saving and loading parameters, keyed on `Network::TENSORS`: one file per
//! format.
//!
//! Two formats:
//! - **constnet's byte format** ([`bytes`]: [`save_bytes`], [`load_bytes`],
//!   [`to_bytes`], [`from_bytes`]): a 32-byte header and the flat parameter
//!   array, for microcontrollers, where a `static` is built from the file at
//!   compile time. The header carries the network's architecture signature,
//!   so a file written for another network is rejected, and a CRC-32 of
//!   header and data, so a damaged one is too. The layout, its constants, its
//!   checks and the `const` decoder need neither `std` nor an allocator.
//! - **safetensors** ([`save_safetensors`], [`load_safetensors`]; feature
//!   `safetensors`): one tensor per name in PyTorch layout, for exchanging
//!   weights with PyTorch; [`load_mapped`] reads state dicts under other
//!   names.
//!
//! Everything else here needs `std`. Loading validates everything before it
//! touches the network: on any error the parameters are unchanged. Values
//! that are not finite are rejected when saving as well as when loading, so
//! a diverged run can't overwrite a good file with NaNs.
//!
//! Loading reads no more than the format allows: the byte format's length
//! follows from the network, safetensors' from a header that is checked
//! against the network before any data is read, and a file of another kind
//! fails on its first bytes. Loaders open regular files only (a FIFO or
//! `/dev/zero` is refused before any read), and errors found in a file are
//! wrapped in [`PersistError::InFile`], which names it.
//!
//! Every save is atomic: the bytes go to a temporary file in the destination's
//! directory, which is flushed to disk and then renamed over the destination.
//! A crash or a failed write leaves the previous file as it was and no partial
//! file under the destination's name. A save also removes the temporary files
//! that killed processes left for the same destination.
//!
//! # Examples
//! ```no_run
//! use constnet::{network, persist};
//!
//! network! {
//!     struct Net: [4] => affine(8) -> relu -> affine(3) -> softmax
//! }
//!
//! let mut net = Net::<f32>::seeded(0);
//! persist::save_bytes(&net, "model.cnet")?;
//! persist::load_bytes(&mut net, "model.cnet")?;
//! persist::save_safetensors(&net, "model.safetensors")?;
//! # Ok::<(), constnet::persist::PersistError>(())
//! ```

#[cfg(feature = "std")]
mod atomic;
pub mod bytes;
#[cfg(feature = "std")]
mod error;
pub mod int8;
#[cfg(feature = "safetensors")]
mod mapped;
#[cfg(feature = "safetensors")]
mod safetensors;

#[cfg(feature = "std")]
pub use atomic::write as write_atomic;
pub use bytes::{Fault, HEADER_LEN, Header, MAGIC, VERSION};
#[cfg(feature = "std")]
pub use bytes::{from_bytes, load_bytes, save_bytes, to_bytes};
#[cfg(feature = "std")]
pub use error::PersistError;
#[cfg(feature = "safetensors")]
pub use mapped::{NameMap, from_mapped, load_mapped, save_mapped};
#[cfg(feature = "safetensors")]
pub use safetensors::{
    SAFETENSORS_MAX_HEADER_LEN, from_safetensors, load_safetensors, save_safetensors,
    to_safetensors,
};

#[cfg(feature = "std")]
use std::path::Path;

#[cfg(feature = "std")]
use crate::{Scalar, TensorInfo};

/// Opens a regular file for a loader and returns it with its length; a
/// FIFO, a device or a directory is refused before any read.
#[cfg(feature = "std")]
pub(crate) fn open(path: &Path) -> Result<(std::fs::File, u64), PersistError> {
    crate::bounded::open_regular(path).map_err(|e| match e {
        crate::bounded::OpenError::Io(source) => PersistError::Io {
            action: "read",
            path: path.to_path_buf(),
            source,
        },
        crate::bounded::OpenError::NotAFile(kind) => PersistError::NotAFile {
            path: path.to_path_buf(),
            kind,
        },
    })
}

/// Rejects the first NaN or infinity in any tensor of `params`.
///
/// Elements outside every tensor are not checked: no tensor names them, and
/// generated networks have none.
#[cfg(feature = "std")]
pub(crate) fn check_finite<E: Scalar>(
    params: &[E],
    tensors: &[TensorInfo],
) -> Result<(), PersistError> {
    for tensor in tensors {
        let values = params.get(tensor.range()).unwrap_or_default();
        if let Some((index, value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(PersistError::NonFinite {
                tensor: tensor.name,
                index,
                value: value.to_f64(),
            });
        }
    }
    Ok(())
}

#[cfg(all(test, feature = "std"))]
pub(crate) mod test_net {
    //! A hand-written stand-in for a generated network: `affine(2)` on 3 inputs.

    use crate::{Init, LayerInfo, Network, Role, Scalar, TensorInfo};

    /// `[2, 3]` weight at 0..6 and `[2]` bias at 6..8, inline.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Tiny<E> {
        pub params: [E; 8],
    }

    impl<E: Scalar> Tiny<E> {
        /// Distinct, exactly representable values.
        pub fn sample() -> Self {
            let values = [0.5, -1.25, 2.0, 3.5, -0.75, 1.0, 0.125, -4.0];
            Tiny {
                params: values.map(E::from_f64),
            }
        }

        pub fn zeroed() -> Self {
            Tiny {
                params: [E::ZERO; 8],
            }
        }
    }

    impl<E: Scalar> Network for Tiny<E> {
        type Elem = E;
        type Input = [E; 3];
        type Output = [E; 2];

        const NAME: &'static str = "Tiny";
        const INPUT_SHAPE: &'static [usize] = &[3];
        const INPUT_LEN: usize = 3;
        const OUTPUT_LEN: usize = 2;
        const PARAM_COUNT: usize = 8;
        const STORE_LEN: usize = 8;
        const ARENA_LEN: usize = 0;
        const TENSORS: &'static [TensorInfo] = &[
            TensorInfo {
                name: "affine1.weight",
                shape: &[2, 3],
                offset: 0,
                len: 6,
                role: Role::Weight,
                fan_in: 3,
                fan_out: 2,
                init: Init::HeNormal,
            },
            TensorInfo {
                name: "affine1.bias",
                shape: &[2],
                offset: 6,
                len: 2,
                role: Role::Bias,
                fan_in: 3,
                fan_out: 2,
                init: Init::Zeros,
            },
        ];
        const LAYERS: &'static [LayerInfo] = &[LayerInfo {
            text: "affine(2)",
            name: "affine1",
            output: &[2],
            params: 8,
            depth: 0,
        }];
        const SIGNATURE: u64 = 0x0123_4567_89ab_cdef;

        fn params(&self) -> &[E] {
            &self.params
        }

        fn params_mut(&mut self) -> &mut [E] {
            &mut self.params
        }

        fn predict(&self, x: &[E; 3]) -> [E; 2] {
            let p = &self.params;
            core::array::from_fn(|o| p[6 + o] + (0..3).map(|i| p[3 * o + i] * x[i]).sum::<E>())
        }

        fn workspace_len(_batch: usize) -> usize {
            0
        }

        fn index_len(_batch: usize) -> usize {
            0
        }

        fn forward_batch(
            &self,
            xs: &[[E; 3]],
            _ws: &mut crate::Workspace<'_, E>,
            ys: &mut [[E; 2]],
        ) {
            for (x, y) in xs.iter().zip(ys) {
                *y = self.predict(x);
            }
        }
    }

    /// A fresh empty directory under the system temp dir, removed on drop.
    pub struct TempDir(pub std::path::PathBuf);

    impl TempDir {
        pub fn new(tag: &str) -> Self {
            use std::sync::atomic::{AtomicUsize, Ordering};
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let dir = std::env::temp_dir().join(std::format!(
                "constnet-persist-{}-{tag}-{n}",
                std::process::id()
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }

        pub fn join(&self, name: &str) -> std::path::PathBuf {
            self.0.join(name)
        }

        /// Names of the files in the directory, sorted.
        pub fn entries(&self) -> std::vec::Vec<std::string::String> {
            let mut names: std::vec::Vec<_> = std::fs::read_dir(&self.0)
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            names.sort();
            names
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::test_net::Tiny;
    use super::*;
    use crate::Network;
    use std::string::ToString;

    #[test]
    fn check_finite_names_tensor_and_index() {
        let mut net = Tiny::<f32>::sample();
        assert!(check_finite(net.params(), Tiny::<f32>::TENSORS).is_ok());
        net.params[7] = f32::INFINITY;
        let err = check_finite(net.params(), Tiny::<f32>::TENSORS).unwrap_err();
        assert_eq!(
            err.to_string(),
            "tensor `affine1.bias` holds a non-finite value (inf) at index 1"
        );
    }

    #[test]
    fn test_network_predicts_affine() {
        assert_eq!(
            Tiny::<f64>::sample().predict(&[1.0, 0.0, 0.0]),
            [0.625, -0.5]
        );
    }
}
