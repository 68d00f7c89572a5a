//! Fetching the four MNIST files over HTTP(S) (feature `download`).
//!
//! Each file is fetched whole into memory, checked against the SHA-256 of
//! its **decompressed** content (mirrors compress differently, the IDX bytes
//! are the same everywhere), written to a temporary file in the target
//! directory and only then renamed to its final name. So after any failure
//! the final name holds either nothing or a previously verified file, never a
//! partial one, and the temporary file is removed.

use std::prelude::rust_2024::*;
use std::{format, vec};

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use flate2::read::MultiGzDecoder;
use sha2::{Digest, Sha256};

use super::error::DataError;
use super::mnist::Mnist;

/// A public mirror of the original MNIST files (gzip).
pub const DEFAULT_BASE_URL: &str = "https://ossci-datasets.s3.amazonaws.com/mnist/";

/// SHA-256 of each decompressed MNIST file, by name (without `.gz`).
pub const SHA256: [(&str, &str); 4] = [
    (
        "train-images-idx3-ubyte",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    ),
    (
        "train-labels-idx1-ubyte",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    ),
    (
        "t10k-images-idx3-ubyte",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    ),
    (
        "t10k-labels-idx1-ubyte",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ),
];

/// The largest response accepted, in bytes (MNIST's largest file is 9.9 MB).
const MAX_RESPONSE: u64 = 128 << 20;

/// Time allowed for one whole request, body included.
const TIMEOUT: Duration = Duration::from_secs(300);

impl Mnist {
    /// Downloads the four MNIST files into `dir` (created if needed) from
    /// `base_url` ([`DEFAULT_BASE_URL`] or another mirror), verifying each.
    ///
    /// Files already present under their final name with the right
    /// checksum are kept without downloading. Returns the paths of the four
    /// files; [`Mnist::load`] reads them.
    ///
    /// # Errors
    /// See [`download_with`].
    ///
    /// # Examples
    /// ```no_run
    /// # #[cfg(feature = "download")] {
    /// use constnet::data::{Mnist, download::DEFAULT_BASE_URL};
    /// Mnist::download("data/mnist", DEFAULT_BASE_URL)?;
    /// let mnist = Mnist::<[f32; 784]>::load("data/mnist")?;
    /// # }
    /// # Ok::<(), constnet::data::DataError>(())
    /// ```
    pub fn download(dir: impl AsRef<Path>, base_url: &str) -> Result<Vec<PathBuf>, DataError> {
        download_with(dir, base_url, &SHA256)
    }
}

/// Downloads `<base_url><name>.gz` for each `(name, sha256)` in `files`
/// into `dir`, checking the SHA-256 (lowercase hex) of the decompressed content.
///
/// A response that is not gzip (a mirror serving raw files) is checked as
/// is and saved as `<name>`; a gzip one is saved as `<name>.gz`.
///
/// # Errors
/// - [`DataError::Http`]: the request fails, the status is not 2xx, or the
///   body is cut short or larger than 128 MiB.
/// - [`DataError::Gzip`]: the body starts like gzip but does not decompress
///   (a truncated download, for instance).
/// - [`DataError::Checksum`]: the content differs from the known one.
/// - [`DataError::Io`]: `dir` or a file in it cannot be written.
pub fn download_with(
    dir: impl AsRef<Path>,
    base_url: &str,
    files: &[(&str, &str)],
) -> Result<Vec<PathBuf>, DataError> {
    let dir = dir.as_ref();
    fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .build()
        .new_agent();
    let mut paths = Vec::with_capacity(files.len());
    for &(name, sha) in files {
        let expected = sha.to_ascii_lowercase();
        if let Some(path) = verified_existing(dir, name, &expected) {
            paths.push(path);
            continue;
        }
        let url = format!("{}/{name}.gz", base_url.trim_end_matches('/'));
        let body = fetch(&agent, &url)?;
        let gzip = body.starts_with(&[0x1f, 0x8b]);
        let found = content_sha256(&body, gzip)?;
        if found != expected {
            return Err(DataError::Checksum {
                file: name.to_owned(),
                expected,
                found,
            });
        }
        let path = dir.join(if gzip {
            format!("{name}.gz")
        } else {
            name.to_owned()
        });
        write_atomically(&path, &body)?;
        paths.push(path);
    }
    Ok(paths)
}

/// The path of `name` or `name.gz` in `dir` if it exists and its content matches.
fn verified_existing(dir: &Path, name: &str, expected: &str) -> Option<PathBuf> {
    [format!("{name}.gz"), name.to_owned()]
        .into_iter()
        .map(|n| dir.join(n))
        .find(|path| {
            fs::read(path).ok().is_some_and(|bytes| {
                let gzip = bytes.starts_with(&[0x1f, 0x8b]);
                content_sha256(&bytes, gzip).is_ok_and(|sha| sha == expected)
            })
        })
}

/// GETs `url` whole.
fn fetch(agent: &ureq::Agent, url: &str) -> Result<Vec<u8>, DataError> {
    let http = |message: String| DataError::Http {
        url: url.to_owned(),
        message,
    };
    let response = agent.get(url).call().map_err(|e| http(e.to_string()))?;
    response
        .into_body()
        .with_config()
        .limit(MAX_RESPONSE)
        .read_to_vec()
        .map_err(|e| http(e.to_string()))
}

/// SHA-256 (lowercase hex) of `bytes`, decompressed first when `gzip`.
fn content_sha256(bytes: &[u8], gzip: bool) -> Result<String, DataError> {
    let mut hasher = Sha256::new();
    if gzip {
        let mut decoder = MultiGzDecoder::new(bytes);
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match decoder.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => hasher.update(buf.get(..n).unwrap_or(&[])),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(DataError::Gzip(e)),
            }
        }
    } else {
        hasher.update(bytes);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Writes `bytes` to `path` atomically (see [`crate::persist::write_atomic`]):
/// a failure leaves no partial file under the final name.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), DataError> {
    crate::persist::write_atomic(path, bytes).map_err(|e| match e {
        crate::persist::PersistError::Io { source, .. } => DataError::io(path, source),
        other => DataError::io(path, std::io::Error::other(other.to_string())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    #[test]
    fn sha256_of_known_vector() {
        assert_eq!(
            content_sha256(b"abc", false).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn atomic_write_leaves_no_temp_file() {
        let dir = std::env::temp_dir().join(format!("constnet-atomic-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f.bin");
        write_atomically(&path, b"hello").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"hello");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        // Writing into a missing directory fails and creates nothing.
        let err = write_atomically(&dir.join("absent/f.bin"), b"x").unwrap_err();
        assert!(matches!(err, DataError::Io { .. }));
        fs::remove_dir_all(&dir).unwrap();
    }
}
