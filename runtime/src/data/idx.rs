//! The IDX format of MNIST and Fashion-MNIST: parsed from any [`Read`],
//! raw or gzip-compressed (feature `datasets`).
//!
//! After [`read_idx`], the header has been checked (magic number, rank,
//! dimensions whose product fits the reader's limit) and exactly as many
//! data bytes as the header announces have been read; nothing follows them.
//!
//! The limit ([`IdxReader::max_bytes`], default [`DEFAULT_MAX_BYTES`] =
//! 256 MiB) applies to the data the header declares, before anything that
//! size is allocated, and so to gzip input alike: a few megabytes of gzip
//! that declare a million images are refused after 16 bytes, not
//! decompressed into gigabytes. Memory then grows with the bytes that
//! actually arrive, never past the declared size.
//!
//! # Format
//! A big-endian header, then the data in row-major order:
//!
//! | bytes | content |
//! |---|---|
//! | 0–1 | zero |
//! | 2 | data type: `0x08` (unsigned byte, the only type supported) |
//! | 3 | rank `N`, 1 to [`MAX_RANK`] |
//! | 4 … 4N+3 | `N` dimensions, each a `u32` |
//! | then | `d0 · d1 · … · dN-1` bytes |
//!
//! A stream that starts with the gzip magic bytes `1f 8b` is decompressed
//! first, whatever the file is called.

use std::format;
use std::prelude::rust_2024::*;

use std::io::{BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use super::error::DataError;
use crate::bounded::{open_regular, read_exact_len, read_full};

/// The largest rank accepted.
pub const MAX_RANK: u8 = 4;

/// The largest data size any [`IdxReader`] accepts, in bytes (4 GiB): the
/// format's cap, which [`IdxReader::max_bytes`] cannot raise.
pub const MAX_BYTES: u64 = 1 << 32;

/// The default limit on the data of one IDX stream, in bytes (256 MiB).
///
/// Five times MNIST's largest file (47 MB), and enough for Fashion-MNIST,
/// KMNIST and the EMNIST splits up to `balanced` and `digits`; EMNIST
/// `byclass` (547 MB) needs a raised limit. Loading converts bytes to `f32`,
/// so a file at this limit becomes about 1.3 GiB of images.
pub const DEFAULT_MAX_BYTES: u64 = 256 << 20;

/// The data type byte of unsigned 8-bit data.
const U8_TYPE: u8 = 0x08;

/// The first two bytes of every gzip stream.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Memory reserved up front for the data. The rest grows as bytes actually
/// arrive, so a header that lies about the size cannot force a huge allocation.
const PREALLOC_CAP: u64 = 1 << 20;

/// Reads IDX streams and files, with a limit on the data size.
///
/// Needs the `datasets` feature.
///
/// # Examples
/// ```
/// use constnet::data::{DataError, IdxReader};
/// // A header declaring 1000 × 28 × 28 bytes, over a 64 KiB limit.
/// let header = [0, 0, 8, 3, 0, 0, 3, 0xe8, 0, 0, 0, 28, 0, 0, 0, 28];
/// let err = IdxReader::new().max_bytes(64 << 10).read(&header[..]).unwrap_err();
/// assert!(matches!(err, DataError::TooLarge { declared: Some(784_000), limit: 65536 }));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdxReader {
    max_bytes: u64,
}

impl Default for IdxReader {
    fn default() -> Self {
        Self::new()
    }
}

impl IdxReader {
    /// A reader with the limit [`DEFAULT_MAX_BYTES`].
    pub const fn new() -> Self {
        IdxReader {
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }

    /// Sets the largest data size accepted, in bytes; above [`MAX_BYTES`],
    /// [`MAX_BYTES`] applies.
    pub const fn max_bytes(self, max_bytes: u64) -> Self {
        IdxReader {
            max_bytes: if max_bytes < MAX_BYTES {
                max_bytes
            } else {
                MAX_BYTES
            },
        }
    }

    /// The largest data size accepted, in bytes.
    pub const fn limit(&self) -> u64 {
        self.max_bytes
    }

    /// Parses an IDX stream of unsigned bytes, raw or gzip-compressed.
    ///
    /// # Errors
    /// As [`read_idx`], with this reader's limit.
    pub fn read(&self, mut reader: impl Read) -> Result<Idx, DataError> {
        let mut start = [0u8; 2];
        let got = read_full(&mut reader, &mut start).map_err(DataError::Read)?;
        let prefix = start.get(..got).unwrap_or(&[]);
        if prefix == GZIP_MAGIC {
            let decoder = MultiGzDecoder::new(prefix.chain(reader));
            self.read_raw(decoder, true)
        } else {
            self.read_raw(prefix.chain(reader), false)
        }
    }

    /// Reads an IDX file from disk, raw or gzip.
    ///
    /// # Errors
    /// As [`read_idx`], wrapped in [`DataError::InFile`] naming the file;
    /// [`DataError::Io`] when it cannot be opened, [`DataError::NotAFile`]
    /// for a FIFO, a device or a directory (refused before any read).
    pub fn read_file(&self, path: impl AsRef<Path>) -> Result<Idx, DataError> {
        let path = path.as_ref();
        let (file, _) = open_regular(path).map_err(|e| DataError::open(path, e))?;
        self.read(BufReader::with_capacity(1 << 16, file))
            .map_err(|e| e.in_file(path))
    }
}

/// A parsed IDX file of unsigned bytes.
///
/// Needs the `datasets` feature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idx {
    dims: Vec<usize>,
    item_len: usize,
    data: Vec<u8>,
}

impl Idx {
    /// The dimensions, outermost first: `[count, height, width]` for images,
    /// `[count]` for labels.
    pub fn dims(&self) -> &[usize] {
        &self.dims
    }

    /// The data bytes, row-major.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// Takes the data bytes.
    pub fn into_data(self) -> Vec<u8> {
        self.data
    }

    /// Number of items: the first dimension.
    pub fn count(&self) -> usize {
        self.dims.first().copied().unwrap_or(0)
    }

    /// Bytes per item: the product of all dimensions but the first (1 for rank 1).
    pub fn item_len(&self) -> usize {
        self.item_len
    }
}

/// Parses an IDX stream of unsigned bytes, raw or gzip-compressed.
///
/// Needs the `datasets` feature.
///
/// # Errors
/// - [`DataError::Gzip`]: the stream starts like gzip but does not decompress.
/// - [`DataError::BadMagic`]: not `00 00 08 N` with `N` in `1..=MAX_RANK`.
/// - [`DataError::BadDims`]: the dimensions multiply past [`MAX_BYTES`].
/// - [`DataError::TooLarge`]: the data the header declares exceeds
///   [`DEFAULT_MAX_BYTES`] (use [`IdxReader`] for another limit).
/// - [`DataError::Truncated`]: the header or the data ends early.
/// - [`DataError::TrailingData`]: bytes follow the data.
/// - [`DataError::Read`]: the underlying reader fails.
///
/// # Examples
/// ```
/// use constnet::data::read_idx;
/// // Two labels, 3 and 7.
/// let bytes = [0, 0, 8, 1, 0, 0, 0, 2, 3, 7];
/// let idx = read_idx(&bytes[..])?;
/// assert_eq!(idx.dims(), &[2]);
/// assert_eq!(idx.data(), &[3, 7]);
/// # Ok::<(), constnet::data::DataError>(())
/// ```
pub fn read_idx(reader: impl Read) -> Result<Idx, DataError> {
    IdxReader::new().read(reader)
}

/// Reads an IDX file from disk, raw or gzip.
///
/// Needs the `datasets` feature.
///
/// # Errors
/// As [`IdxReader::read_file`] with the default limit.
pub fn read_idx_file(path: impl AsRef<Path>) -> Result<Idx, DataError> {
    IdxReader::new().read_file(path)
}

impl IdxReader {
    /// Parses the (already decompressed) IDX stream. `gzip` says how to report
    /// read errors: inside a gzip stream they mean corrupt compressed data.
    fn read_raw(&self, mut reader: impl Read, gzip: bool) -> Result<Idx, DataError> {
        let read_err = |e| {
            if gzip {
                DataError::Gzip(e)
            } else {
                DataError::Read(e)
            }
        };

        let mut magic = [0u8; 4];
        let got = read_full(&mut reader, &mut magic).map_err(read_err)?;
        if got < magic.len() {
            return Err(truncated(4, got as u64));
        }
        let [z0, z1, kind, rank] = magic;
        if z0 != 0 || z1 != 0 || kind != U8_TYPE || rank == 0 || rank > MAX_RANK {
            return Err(DataError::BadMagic {
                found: u32::from_be_bytes(magic),
                max_rank: MAX_RANK,
            });
        }

        let header_len = 4 + 4 * u64::from(rank);
        let mut dims = Vec::with_capacity(usize::from(rank));
        for i in 0..u64::from(rank) {
            let mut raw = [0u8; 4];
            let got = read_full(&mut reader, &mut raw).map_err(read_err)?;
            if got < raw.len() {
                return Err(truncated(header_len, 4 + 4 * i + got as u64));
            }
            let d = u32::from_be_bytes(raw);
            dims.push(u64::from(d));
        }
        // A saturating product is exact, or u64::MAX when the exact one is larger:
        // a zero factor makes both 0. Capping the item size as well as the total
        // matters when the count is 0, as in `[0, 2^31, 2^31]`.
        let item = dims
            .iter()
            .skip(1)
            .fold(1u64, |acc, &d| acc.saturating_mul(d));
        let total = dims.first().map_or(0, |&n| n.saturating_mul(item));
        if item > MAX_BYTES || total > MAX_BYTES {
            return Err(DataError::BadDims {
                found: dims,
                reason: format!(
                    "{item} bytes per item and {total} in all; the cap is {MAX_BYTES} for each"
                ),
            });
        }
        if total > self.max_bytes {
            return Err(DataError::TooLarge {
                declared: Some(total),
                limit: self.max_bytes,
            });
        }
        let (Ok(len), Ok(item_len), Ok(dims)) = (
            usize::try_from(total),
            usize::try_from(item),
            dims.iter()
                .map(|&d| usize::try_from(d))
                .collect::<Result<Vec<_>, _>>(),
        ) else {
            return Err(DataError::BadDims {
                found: dims,
                reason: "too large for this platform's address space".into(),
            });
        };

        let data = read_exact_len(&mut reader, total, PREALLOC_CAP).map_err(read_err)?;
        if data.len() < len {
            return Err(truncated(total, data.len() as u64));
        }
        // Read on to the end: this also makes a gzip decoder check its CRC.
        let mut extra = [0u8; 1];
        if read_full(&mut reader, &mut extra).map_err(read_err)? != 0 {
            return Err(DataError::TrailingData { expected: total });
        }
        Ok(Idx {
            dims,
            item_len,
            data,
        })
    }
}

fn truncated(expected: u64, found: u64) -> DataError {
    DataError::Truncated { expected, found }
}

/// Encodes an IDX stream of unsigned bytes: the inverse of [`read_idx`] for raw input.
///
/// Needs the `datasets` feature.
///
/// # Errors
/// [`DataError::BadDims`] when the rank is not in `1..=MAX_RANK`, a
/// dimension exceeds `u32::MAX`, or the dimensions do not multiply to `data.len()`.
pub fn encode_idx(dims: &[usize], data: &[u8]) -> Result<Vec<u8>, DataError> {
    let bad = |reason: String| DataError::BadDims {
        found: dims.iter().map(|&d| d as u64).collect(),
        reason,
    };
    let rank = u8::try_from(dims.len())
        .ok()
        .filter(|r| (1..=MAX_RANK).contains(r))
        .ok_or_else(|| bad(format!("rank must be 1 to {MAX_RANK}")))?;
    let product = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    if product != Some(data.len()) {
        return Err(bad(format!(
            "they do not multiply to the {} data bytes",
            data.len()
        )));
    }
    let mut out = Vec::with_capacity(4 + 4 * dims.len() + data.len());
    out.extend_from_slice(&[0, 0, U8_TYPE, rank]);
    for &d in dims {
        let d = u32::try_from(d).map_err(|_| bad(format!("dimension {d} exceeds u32")))?;
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(data);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::format;
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    fn images() -> Vec<u8> {
        // Two 2×3 images.
        encode_idx(&[2, 2, 3], &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255]).unwrap()
    }

    #[test]
    fn idx_reads_raw_images() {
        let idx = read_idx(&images()[..]).unwrap();
        assert_eq!(idx.dims(), &[2, 2, 3]);
        assert_eq!(idx.count(), 2);
        assert_eq!(idx.item_len(), 6);
        assert_eq!(idx.data()[11], 255);
    }

    #[test]
    fn idx_reads_gzip_like_raw() {
        let raw = images();
        assert_eq!(
            read_idx(&gzip(&raw)[..]).unwrap(),
            read_idx(&raw[..]).unwrap()
        );
    }

    #[test]
    fn idx_reads_empty_dimension() {
        let idx = read_idx(&[0u8, 0, 8, 2, 0, 0, 0, 0, 0, 0, 0, 5][..]).unwrap();
        assert_eq!(idx.count(), 0);
        assert!(idx.data().is_empty());
    }

    #[test]
    fn idx_rejects_bad_magic() {
        for magic in [
            [0u8, 0, 9, 1],
            [1, 0, 8, 1],
            [0, 0, 8, 0],
            [0, 0, 8, 5],
            [0, 0, 0x0d, 3],
        ] {
            let mut bytes = magic.to_vec();
            bytes.extend_from_slice(&[0, 0, 0, 1, 7]);
            let err = read_idx(&bytes[..]).unwrap_err();
            assert!(
                matches!(err, DataError::BadMagic { .. }),
                "{magic:?}: {err}"
            );
        }
    }

    #[test]
    fn idx_rejects_truncated_data() {
        let raw = images();
        let err = read_idx(&raw[..raw.len() - 1]).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::Truncated {
                    expected: 12,
                    found: 11
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn idx_rejects_truncated_header() {
        for len in [0, 1, 3, 5, 15] {
            let err = read_idx(&images()[..len]).unwrap_err();
            assert!(matches!(err, DataError::Truncated { .. }), "{len}: {err}");
        }
    }

    #[test]
    fn idx_rejects_trailing_bytes() {
        let mut raw = images();
        raw.push(0);
        let err = read_idx(&raw[..]).unwrap_err();
        assert!(
            matches!(err, DataError::TrailingData { expected: 12 }),
            "{err}"
        );
    }

    #[test]
    fn idx_rejects_huge_dimensions_without_allocating() {
        let bytes = [
            0u8, 0, 8, 4, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 0, 0, 0, 2,
        ];
        let err = read_idx(&bytes[..]).unwrap_err();
        assert!(matches!(err, DataError::BadDims { .. }), "{err}");
        // Just under the cap: the header is accepted, the data is missing.
        let bytes = [0u8, 0, 8, 2, 0, 1, 0, 0, 0, 1, 0, 0, 1, 2];
        let err = IdxReader::new()
            .max_bytes(u64::MAX)
            .read(&bytes[..])
            .unwrap_err();
        assert!(
            matches!(
                err,
                DataError::Truncated {
                    expected: 4294967296,
                    found: 2
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn idx_sizes_never_overflow_with_zero_dimensions() {
        // Fuzzer find: a trailing 0 makes the total 0 while the other dims
        // multiply past usize; sizes must come out exact, without overflow.
        let found = [
            0u8, 0, 8, 4, 73, 58, 0, 0, 0, 1, 7, 9, 11, 0, 0, 0, 0, 0, 0, 0,
        ];
        let idx = read_idx(&found[..]).unwrap();
        assert_eq!(
            (idx.count(), idx.item_len(), idx.data().len()),
            (0x493a_0000, 0, 0)
        );
        // A count of 0 must not let a huge item size through.
        let huge_items = [0u8, 0, 8, 3, 0, 0, 0, 0, 128, 0, 0, 0, 128, 0, 0, 0];
        let err = read_idx(&huge_items[..]).unwrap_err();
        assert!(matches!(err, DataError::BadDims { .. }), "{err}");
    }

    #[test]
    fn idx_rejects_corrupt_gzip() {
        let mut gz = gzip(&images());
        let mid = gz.len() / 2;
        gz[mid] ^= 0xff;
        gz[mid + 1] ^= 0x55;
        let err = read_idx(&gz[..]).unwrap_err();
        assert!(
            matches!(err, DataError::Gzip(_) | DataError::BadMagic { .. }),
            "{err}"
        );
        // A cut gzip stream is a gzip error, not silently short data.
        let gz = gzip(&images());
        let err = read_idx(&gz[..gz.len() - 6]).unwrap_err();
        assert!(matches!(err, DataError::Gzip(_)), "{err}");
        // Only the magic bytes.
        let err = read_idx(&GZIP_MAGIC[..]).unwrap_err();
        assert!(matches!(err, DataError::Gzip(_)), "{err}");
    }

    #[test]
    fn idx_reports_reader_failure() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk on fire"))
            }
        }
        assert!(matches!(read_idx(Failing), Err(DataError::Read(_))));
    }

    #[test]
    fn idx_file_errors_name_the_file() {
        let dir = std::env::temp_dir().join(format!("constnet-idx-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bad-idx1-ubyte");
        std::fs::write(&path, [0u8, 0, 8, 1, 0, 0, 0, 3, 1]).unwrap();
        let err = read_idx_file(&path).unwrap_err();
        assert!(matches!(err.root(), DataError::Truncated { .. }));
        assert!(err.to_string().contains("bad-idx1-ubyte"), "{err}");
        let err = read_idx_file(dir.join("absent")).unwrap_err();
        assert!(matches!(err, DataError::Io { .. }));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The gzip of a header declaring a million blank 28×28 images, with
    /// `present` of its bytes of data.
    fn million_images_gzip(present: usize) -> Vec<u8> {
        let mut raw = std::vec![0u8, 0, 8, 3];
        for d in [1_000_000u32, 28, 28] {
            raw.extend_from_slice(&d.to_be_bytes());
        }
        raw.resize(16 + present, 0);
        gzip(&raw)
    }

    #[test]
    fn idx_refuses_data_over_the_default_limit_before_reading_it() {
        let err = read_idx(&million_images_gzip(1000)[..]).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::TooLarge {
                    declared: Some(784_000_000),
                    limit: DEFAULT_MAX_BYTES
                }
            ),
            "{err}"
        );
        // The same raw, and through a file: the error names the file and the limit.
        let dir = std::env::temp_dir().join(format!("constnet-idx-big-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("million-idx3-ubyte.gz");
        std::fs::write(&path, million_images_gzip(1000)).unwrap();
        let err = read_idx_file(&path).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "in `{}`: the header declares 784000000 bytes of data, over the limit of \
                 268435456 bytes (raise it with `max_bytes`)",
                path.display()
            )
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn idx_with_a_raised_limit_reads_exactly_the_declared_data() {
        let images = encode_idx(&[1000, 28, 28], &[0u8; 784_000]).unwrap();
        for input in [images.clone(), gzip(&images)] {
            let err = IdxReader::new()
                .max_bytes(784_000 - 1)
                .read(&input[..])
                .unwrap_err();
            assert!(matches!(err, DataError::TooLarge { .. }), "{err}");
            let idx = IdxReader::new()
                .max_bytes(784_000)
                .read(&input[..])
                .unwrap();
            assert_eq!(idx.count(), 1000);
            // Memory in proportion to the content: no doubling slack.
            assert_eq!(idx.into_data().capacity(), 784_000);
        }
        // A header that lies costs what arrived, not what it declares.
        let lie = million_images_gzip(10);
        let err = IdxReader::new()
            .max_bytes(MAX_BYTES)
            .read(&lie[..])
            .unwrap_err();
        assert!(
            matches!(
                err,
                DataError::Truncated {
                    expected: 784_000_000,
                    found: 10
                }
            ),
            "{err}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn idx_file_refuses_special_files() {
        let err = read_idx_file("/dev/zero").unwrap_err();
        assert!(
            matches!(
                err,
                DataError::NotAFile {
                    kind: "a character device",
                    ..
                }
            ),
            "{err}"
        );
        // As a stream, zeros are not an IDX magic number: refused on 4 bytes.
        let zeros = std::fs::File::open("/dev/zero").unwrap();
        assert!(matches!(
            read_idx(zeros).unwrap_err(),
            DataError::BadMagic { found: 0, .. }
        ));
        let dir = std::env::temp_dir().join(format!("constnet-idx-fifo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            let err = read_idx_file(&fifo).unwrap_err();
            assert!(
                matches!(err, DataError::NotAFile { kind: "a FIFO", .. }),
                "{err}"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn encode_rejects_inconsistent_dims() {
        assert!(matches!(
            encode_idx(&[2, 2], &[0; 3]),
            Err(DataError::BadDims { .. })
        ));
        assert!(matches!(
            encode_idx(&[], &[]),
            Err(DataError::BadDims { .. })
        ));
    }
}
