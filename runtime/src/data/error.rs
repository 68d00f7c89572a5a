//! [`DataError`]: every way loading, parsing or downloading data can fail.
//!
//! Every reader in [`crate::data`] returns this one enum, so a caller can
//! match on the cause (`matches!(e.root(), DataError::Truncated { .. })`)
//! whatever the source was. No input, however hostile, makes a reader panic.

use std::prelude::rust_2024::*;

use std::io;
use std::path::PathBuf;

/// An error from loading, parsing or downloading a dataset.
///
/// Errors found inside a file are wrapped once in [`DataError::InFile`],
/// which names the file; [`DataError::root`] unwraps it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// Opening, reading or writing a file failed.
    #[error("cannot access `{}`: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// Reading from a stream without a path failed.
    #[error("read error: {0}")]
    Read(#[source] io::Error),
    /// An error found while parsing one file.
    #[error("in `{}`: {error}", path.display())]
    InFile {
        /// The file being parsed.
        path: PathBuf,
        /// What was wrong with it (its message is part of this one's).
        error: Box<DataError>,
    },
    /// An error involving two files that must agree, such as MNIST's images
    /// and labels.
    #[error("in `{}` and `{}`: {error}", inputs.display(), targets.display())]
    InFiles {
        /// The file of inputs (images).
        inputs: PathBuf,
        /// The file of targets (labels).
        targets: PathBuf,
        /// What was wrong (its message is part of this one's).
        error: Box<DataError>,
    },
    /// A file loader was given something other than a regular file: a
    /// FIFO, a device such as `/dev/zero`, a directory. It is refused before
    /// any read; a stream can still be passed to a reader such as
    /// [`read_idx`](super::read_idx) or
    /// [`CsvReader::read_classes`](super::CsvReader::read_classes).
    #[error("cannot load `{}`: it is {kind}, not a regular file", path.display())]
    NotAFile {
        /// The path the caller named.
        path: PathBuf,
        /// What it is instead: "a FIFO", "a character device", "a directory", ….
        kind: &'static str,
    },
    /// The input is larger than the reader's limit: an IDX header declares
    /// more data than the limit (nothing of that size was allocated), or a
    /// CSV stream goes on past it.
    #[error("{}", too_large(*declared, *limit))]
    TooLarge {
        /// The data size an IDX header declares; `None` for a stream that
        /// simply went past the limit.
        declared: Option<u64>,
        /// The limit in bytes (`max_bytes` of the reader).
        limit: u64,
    },
    /// The first four bytes are not an IDX magic number for u8 data.
    ///
    /// Needs the `datasets` feature.
    #[cfg(feature = "datasets")]
    #[error(
        "bad IDX magic number {found:#010x}: expected 0x0000080N \
         (unsigned bytes, N = 1 to {max_rank} dimensions)"
    )]
    BadMagic {
        /// The four bytes read, big-endian.
        found: u32,
        /// The largest rank accepted.
        max_rank: u8,
    },
    /// The dimensions are not the ones expected, or their product is too large.
    ///
    /// Needs the `datasets` feature.
    #[cfg(feature = "datasets")]
    #[error("bad dimensions {found:?}: {reason}")]
    BadDims {
        /// The dimensions as read from the header (or as given).
        found: Vec<u64>,
        /// What was expected instead.
        reason: String,
    },
    /// An IDX file ended before the data its header announces, or the
    /// header itself is incomplete.
    ///
    /// Needs the `datasets` feature.
    #[cfg(feature = "datasets")]
    #[error("truncated data: expected {expected} bytes, found {found}")]
    Truncated {
        /// Bytes the header announces (the header's own size when it is the header that is cut).
        expected: u64,
        /// Bytes actually present.
        found: u64,
    },
    /// Bytes follow the data an IDX header announces.
    ///
    /// Needs the `datasets` feature.
    #[cfg(feature = "datasets")]
    #[error("unexpected bytes after the {expected} bytes of IDX data")]
    TrailingData {
        /// Bytes the header announces.
        expected: u64,
    },
    /// Inputs and targets (for example images and labels) differ in count.
    #[error("count mismatch: {inputs} inputs but {targets} targets")]
    CountMismatch {
        /// Number of inputs (images).
        inputs: usize,
        /// Number of targets (labels).
        targets: usize,
    },
    /// A sample's size differs from the input type's length.
    ///
    /// Needs the `datasets` feature.
    #[cfg(feature = "datasets")]
    #[error("sample length mismatch: the input type holds {expected} values, the data has {found}")]
    SampleLength {
        /// `X::LEN` of the requested input type.
        expected: usize,
        /// Values per sample in the data.
        found: usize,
    },
    /// A class label is not below the number of classes.
    #[error("label {label} of sample {index} is out of range: expected 0..{classes}")]
    LabelOutOfRange {
        /// Index of the sample (0-based).
        index: usize,
        /// The label found.
        label: usize,
        /// Number of classes.
        classes: usize,
    },
    /// A gzip stream is corrupt or cut short.
    ///
    /// Needs the `datasets` feature.
    #[cfg(feature = "datasets")]
    #[error("unreadable gzip stream (corrupt or truncated): {0}")]
    Gzip(#[source] io::Error),
    /// A file's SHA-256 differs from the known value.
    ///
    /// Needs the `download` feature.
    #[cfg(feature = "download")]
    #[error("checksum mismatch for `{file}`: expected SHA-256 {expected}, found {found}")]
    Checksum {
        /// The file name.
        file: String,
        /// The known digest (lowercase hex).
        expected: String,
        /// The digest of what was received (lowercase hex).
        found: String,
    },
    /// Dataset files are missing from a directory.
    ///
    /// Needs the `datasets` feature.
    #[cfg(feature = "datasets")]
    #[error(
        "dataset files not found in `{}`: expected {} (each optionally gzip-compressed with a \
         `.gz` suffix); set MNIST_DIR to the directory that holds them, or download them",
        dir.display(),
        expected.join(", ")
    )]
    MissingFiles {
        /// The directory searched.
        dir: PathBuf,
        /// The file names expected there, without `.gz`.
        expected: Vec<String>,
    },
    /// A CSV row has the wrong number of fields.
    ///
    /// Needs the `csv` feature.
    #[cfg(feature = "csv")]
    #[error("CSV line {line}: expected {expected} fields, found {found}")]
    CsvFieldCount {
        /// 1-based line number.
        line: u64,
        /// Fields per row (from the header or the first row).
        expected: usize,
        /// Fields in this row.
        found: usize,
    },
    /// A CSV field is not a finite number (or, for a label, not a class index).
    ///
    /// Needs the `csv` feature.
    #[cfg(feature = "csv")]
    #[error("CSV line {line}, column {column}: cannot parse `{field}` as {expected}")]
    CsvNumber {
        /// 1-based line number.
        line: u64,
        /// 1-based column number.
        column: usize,
        /// The field as written.
        field: String,
        /// What the field should hold ("a finite number", "a class index").
        expected: &'static str,
    },
    /// A CSV target column named or numbered by the caller does not exist.
    ///
    /// Needs the `csv` feature.
    #[cfg(feature = "csv")]
    #[error("CSV has no column {column}")]
    CsvColumn {
        /// The column as requested (`"price"`, or `#7` for an index).
        column: String,
    },
    /// An HTTP request failed (download only).
    ///
    /// Needs the `download` feature.
    #[cfg(feature = "download")]
    #[error("download of {url} failed: {message}")]
    Http {
        /// The URL requested.
        url: String,
        /// What went wrong.
        message: String,
    },
}

/// The message of [`DataError::TooLarge`].
fn too_large(declared: Option<u64>, limit: u64) -> String {
    match declared {
        Some(size) => std::format!(
            "the header declares {size} bytes of data, over the limit of {limit} bytes \
             (raise it with `max_bytes`)"
        ),
        None => {
            std::format!("input exceeds the limit of {limit} bytes (raise it with `max_bytes`)")
        }
    }
}

impl DataError {
    /// The error itself, with any [`DataError::InFile`] or
    /// [`DataError::InFiles`] wrappers removed.
    ///
    /// # Examples
    /// ```
    /// use constnet::data::{read_idx, DataError};
    /// let err = read_idx(&[0u8, 0, 8][..]).unwrap_err();
    /// assert!(matches!(err.root(), DataError::Truncated { .. }));
    /// ```
    pub fn root(&self) -> &DataError {
        let mut err = self;
        while let DataError::InFile { error, .. } | DataError::InFiles { error, .. } = err {
            err = error;
        }
        err
    }

    /// Wraps the error with the file it was found in (I/O errors already name it).
    #[cfg(any(feature = "csv", feature = "datasets"))]
    pub(crate) fn in_file(self, path: impl Into<PathBuf>) -> DataError {
        match self {
            DataError::Io { .. }
            | DataError::InFile { .. }
            | DataError::InFiles { .. }
            | DataError::NotAFile { .. } => self,
            other => DataError::InFile {
                path: path.into(),
                error: Box::new(other),
            },
        }
    }

    /// The error of [`open_regular`](crate::bounded::open_regular) on `path`.
    #[cfg(any(feature = "csv", feature = "datasets"))]
    pub(crate) fn open(path: &std::path::Path, error: crate::bounded::OpenError) -> DataError {
        match error {
            crate::bounded::OpenError::Io(source) => DataError::io(path, source),
            crate::bounded::OpenError::NotAFile(kind) => DataError::NotAFile {
                path: path.to_path_buf(),
                kind,
            },
        }
    }

    /// An I/O error on `path`.
    #[cfg(any(feature = "csv", feature = "datasets"))]
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> DataError {
        DataError::Io {
            path: path.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;

    #[test]
    #[cfg(feature = "datasets")]
    fn root_unwraps_file_context() {
        let inner = DataError::Truncated {
            expected: 10,
            found: 3,
        };
        let err = inner.in_file("a/b.idx").in_file("ignored");
        assert!(matches!(err, DataError::InFile { .. }));
        assert!(matches!(
            err.root(),
            DataError::Truncated {
                expected: 10,
                found: 3
            }
        ));
        assert_eq!(
            err.to_string(),
            "in `a/b.idx`: truncated data: expected 10 bytes, found 3"
        );
    }

    #[test]
    #[cfg(feature = "datasets")]
    fn missing_files_message_names_files_and_dir() {
        let err = DataError::MissingFiles {
            dir: PathBuf::from("/x/mnist"),
            expected: vec!["a-idx3-ubyte".into(), "b-idx1-ubyte".into()],
        };
        let msg = err.to_string();
        assert!(msg.contains("`/x/mnist`"), "{msg}");
        assert!(msg.contains("a-idx3-ubyte, b-idx1-ubyte"), "{msg}");
    }
}
