//! The error of every save and load.

use std::boxed::Box;
use std::format;
use std::path::PathBuf;
use std::string::String;
#[cfg(feature = "safetensors")]
use std::string::ToString;
#[cfg(feature = "safetensors")]
use std::vec::Vec;

use super::bytes::VERSION;

/// Why a save or load failed. Loading never changes the network when it
/// returns one of these, and saving never damages the previous file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PersistError {
    /// Reading or writing a file failed.
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        /// What was being done, such as `read` or `write`.
        action: &'static str,
        /// The file the caller named.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// An error found in the contents of a file (I/O errors already name it).
    #[error("in `{}`: {error}", path.display())]
    InFile {
        /// The file being loaded.
        path: PathBuf,
        /// What was wrong with it (its message is part of this one's).
        error: Box<PersistError>,
    },

    /// A loader was given something other than a regular file: a FIFO, a
    /// device such as `/dev/zero`, a directory. Loaders refuse these before
    /// reading, because their length is unknown and a read may never end.
    #[error("cannot load `{}`: it is {kind}, not a regular file", path.display())]
    NotAFile {
        /// The path the caller named.
        path: PathBuf,
        /// What it is instead: "a FIFO", "a character device", "a directory", ….
        kind: &'static str,
    },

    /// A size the file declares exceeds what the loader accepts; nothing
    /// that size was allocated or read.
    #[error("{what} of {declared} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// What the size is of, such as "safetensors header".
        what: &'static str,
        /// The size the file declares.
        declared: u64,
        /// The largest size accepted.
        limit: u64,
    },

    /// An int8 parameter file does not fit the quantized network, or holds
    /// values its arithmetic cannot take.
    #[error("{}", fault.message())]
    Int8 {
        /// What is wrong.
        fault: super::int8::Fault,
    },

    /// The checksum of a byte-format file does not match its contents: the
    /// file was damaged after it was written.
    #[error(
        "checksum mismatch: the header stores CRC-32 {stored:#010x}, the contents give \
         {computed:#010x}; the file is corrupt"
    )]
    Checksum {
        /// The checksum in the header.
        stored: u32,
        /// The checksum of the header fields and the data.
        computed: u32,
    },

    /// The data does not start with [`MAGIC`](super::MAGIC).
    #[error("not a constnet parameter file: expected magic `CNET`, found `{}`", found.escape_ascii())]
    BadMagic {
        /// The first four bytes.
        found: [u8; 4],
    },

    /// The format version is not one this build reads. Version 1 files
    /// (no checksum) are refused too: load them with the release that wrote
    /// them and save them again.
    #[error("{}", version_message(*found))]
    UnsupportedVersion {
        /// The version in the header.
        found: u32,
    },

    /// The file belongs to a network with another architecture.
    #[error(
        "file was written for a different network architecture: \
         network `{network}` has signature {expected:#018x}, the file {found:#018x}"
    )]
    SignatureMismatch {
        /// The network being loaded.
        network: &'static str,
        /// Its `Network::SIGNATURE`.
        expected: u64,
        /// The signature in the file.
        found: u64,
    },

    /// The file holds another element type (`f32` vs `f64`).
    #[error(
        "element type mismatch: the network uses {expected} ({expected_size}-byte elements), \
         the file holds {found}-byte elements"
    )]
    ElementSize {
        /// The network's element type, `f32` or `f64`.
        expected: &'static str,
        /// Its size in bytes.
        expected_size: usize,
        /// The element size in the file.
        found: u64,
    },

    /// The file holds another number of elements than the network.
    #[error(
        "element count mismatch: network `{network}` has {expected} elements, the file {found}"
    )]
    CountMismatch {
        /// The network being loaded.
        network: &'static str,
        /// Its `Network::STORE_LEN`.
        expected: usize,
        /// The count in the file.
        found: u64,
    },

    /// The data ends before the header or the parameters do.
    #[error("file is truncated: expected {expected} bytes, found {found}")]
    Truncated {
        /// Bytes the header announces (or the header length).
        expected: usize,
        /// Bytes present.
        found: usize,
    },

    /// Bytes follow the parameters.
    #[error("file has unexpected trailing data: expected {expected} bytes, found {found}")]
    TrailingData {
        /// Bytes the header announces.
        expected: usize,
        /// Bytes present.
        found: usize,
    },

    /// A parameter is NaN or infinite.
    #[error("tensor `{tensor}` holds a non-finite value ({value}) at index {index}")]
    NonFinite {
        /// The tensor's name.
        tensor: &'static str,
        /// Row-major index within the tensor.
        index: usize,
        /// The value.
        value: f64,
    },

    /// The data is not a valid safetensors file.
    ///
    /// Needs the `safetensors` feature.
    #[cfg(feature = "safetensors")]
    #[error("invalid safetensors file: {reason}")]
    InvalidSafetensors {
        /// What the parser reported.
        reason: String,
    },

    /// A tensor of the network is not in the file.
    ///
    /// Needs the `safetensors` feature.
    #[cfg(feature = "safetensors")]
    #[error("tensor `{name}` is missing from the file")]
    MissingTensor {
        /// The missing tensor.
        name: &'static str,
    },

    /// The file holds a tensor the network does not have.
    ///
    /// Needs the `safetensors` feature.
    #[cfg(feature = "safetensors")]
    #[error("the file holds tensor `{name}`, which network `{network}` does not have")]
    UnexpectedTensor {
        /// The network being loaded.
        network: &'static str,
        /// The extra tensor.
        name: String,
    },

    /// A tensor has another shape in the file than in the network.
    ///
    /// Needs the `safetensors` feature.
    #[cfg(feature = "safetensors")]
    #[error("tensor `{name}`: expected shape {expected:?}, found {found:?}")]
    ShapeMismatch {
        /// The tensor.
        name: &'static str,
        /// Its shape in the network (PyTorch layout).
        expected: &'static [usize],
        /// Its shape in the file.
        found: Vec<usize>,
    },

    /// A checkpoint file is malformed, or holds state this run cannot take
    /// (another optimizer's buffers).
    ///
    /// Needs the `serde` feature.
    #[cfg(feature = "serde")]
    #[error("invalid checkpoint: {reason}")]
    InvalidCheckpoint {
        /// What is wrong.
        reason: String,
    },

    /// A checkpoint of a format version this build does not read.
    ///
    /// Needs the `serde` feature.
    #[cfg(feature = "serde")]
    #[error("unsupported checkpoint version {found}; this build reads version 1")]
    UnsupportedCheckpointVersion {
        /// The version in the file.
        found: u32,
    },

    /// A name map leaves tensors unmatched: tensors of the file no network
    /// tensor takes, or network tensors nothing in the file fills.
    ///
    /// Needs the `safetensors` feature.
    #[cfg(feature = "safetensors")]
    #[error("{}", unmatched_message(network, file, net))]
    Unmatched {
        /// The network being loaded or saved.
        network: &'static str,
        /// The file's tensors left over (PyTorch names).
        file: Vec<String>,
        /// The network's tensors left over.
        net: Vec<&'static str>,
    },

    /// A pattern choosing tensors to load names none of the network's.
    ///
    /// Needs the `safetensors` feature.
    #[cfg(feature = "safetensors")]
    #[error(transparent)]
    UnknownTensor(#[from] crate::network::params::UnmatchedPattern),

    /// A tensor has another element type in the file than in the network.
    ///
    /// Needs the `safetensors` feature.
    #[cfg(feature = "safetensors")]
    #[error("tensor `{name}`: expected dtype {expected}, found {found}")]
    DtypeMismatch {
        /// The tensor.
        name: &'static str,
        /// The safetensors dtype of the network's element type (`F32`, `F64`).
        expected: &'static str,
        /// The dtype in the file.
        found: String,
    },
}

/// The message of [`PersistError::Unmatched`].
#[cfg(feature = "safetensors")]
fn unmatched_message(network: &str, file: &[String], net: &[&str]) -> String {
    let list = |names: &mut dyn Iterator<Item = &str>| {
        let names: Vec<String> = names.map(|n| format!("`{n}`")).collect();
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    };
    format!(
        "the name map leaves tensors unmatched: in the file {}; in network `{network}` {}",
        list(&mut file.iter().map(String::as_str)),
        list(&mut net.iter().copied()),
    )
}

/// The message of [`PersistError::UnsupportedVersion`].
fn version_message(found: u32) -> String {
    let base =
        format!("unsupported constnet format version {found}; this build reads version {VERSION}");
    if found < VERSION {
        format!(
            "{base} (version {found} predates the checksum: load the file with the release \
             that wrote it and save it again, or export it with `save_safetensors`)"
        )
    } else {
        base
    }
}

impl PersistError {
    /// The error itself, with any [`PersistError::InFile`] wrapper removed.
    pub fn root(&self) -> &PersistError {
        let mut err = self;
        while let PersistError::InFile { error, .. } = err {
            err = error;
        }
        err
    }

    /// Wraps the error with the file it was found in (errors that already
    /// name a path stay as they are).
    pub(crate) fn in_file(self, path: &std::path::Path) -> PersistError {
        match self {
            PersistError::Io { .. }
            | PersistError::InFile { .. }
            | PersistError::NotAFile { .. } => self,
            other => PersistError::InFile {
                path: path.to_path_buf(),
                error: Box::new(other),
            },
        }
    }
}
