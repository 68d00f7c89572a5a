//! The IDX format of MNIST and Fashion-MNIST: parsed from any [`Read`],
//! raw or gzip-compressed.
//!
//! After [`read_idx`], the header has been checked (magic number, rank,
//! dimensions whose product fits the size cap) and exactly as many data
//! bytes as the header announces have been read; nothing follows them.
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

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use super::error::DataError;

/// The largest rank accepted.
pub const MAX_RANK: u8 = 4;

/// The largest data size accepted, in bytes (4 GiB; MNIST's largest file is 47 MB).
pub const MAX_BYTES: u64 = 1 << 32;

/// The data type byte of unsigned 8-bit data.
const U8_TYPE: u8 = 0x08;

/// The first two bytes of every gzip stream.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Memory reserved up front for the data. The rest grows as bytes actually
/// arrive, so a header that lies about the size cannot force a huge allocation.
const PREALLOC_CAP: u64 = 64 << 20;

/// A parsed IDX file of unsigned bytes.
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
/// # Errors
/// - [`DataError::Gzip`]: the stream starts like gzip but does not decompress.
/// - [`DataError::BadMagic`]: not `00 00 08 N` with `N` in `1..=MAX_RANK`.
/// - [`DataError::BadDims`]: the dimensions multiply past [`MAX_BYTES`].
/// - [`DataError::Truncated`]: the header or the data ends early.
/// - [`DataError::TrailingData`]: bytes follow the data.
/// - [`DataError::Read`]: the underlying reader fails.
///
/// # Examples
/// ```
/// use constnet_runtime::data::read_idx;
/// // Two labels, 3 and 7.
/// let bytes = [0, 0, 8, 1, 0, 0, 0, 2, 3, 7];
/// let idx = read_idx(&bytes[..])?;
/// assert_eq!(idx.dims(), &[2]);
/// assert_eq!(idx.data(), &[3, 7]);
/// # Ok::<(), constnet_runtime::data::DataError>(())
/// ```
pub fn read_idx(mut reader: impl Read) -> Result<Idx, DataError> {
    let mut start = [0u8; 2];
    let got = read_full(&mut reader, &mut start).map_err(DataError::Read)?;
    let prefix = start.get(..got).unwrap_or(&[]);
    if prefix == GZIP_MAGIC {
        let decoder = MultiGzDecoder::new(prefix.chain(reader));
        read_raw(decoder, true)
    } else {
        read_raw(prefix.chain(reader), false)
    }
}

/// Reads an IDX file from disk, raw or gzip.
///
/// # Errors
/// As [`read_idx`], wrapped in [`DataError::InFile`] naming the file;
/// [`DataError::Io`] when it cannot be opened.
pub fn read_idx_file(path: impl AsRef<Path>) -> Result<Idx, DataError> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    read_idx(BufReader::with_capacity(1 << 16, file)).map_err(|e| e.in_file(path))
}

/// Parses the (already decompressed) IDX stream. `gzip` says how to report
/// read errors: inside a gzip stream they mean corrupt compressed data.
fn read_raw(mut reader: impl Read, gzip: bool) -> Result<Idx, DataError> {
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

    let mut data = Vec::with_capacity(usize::try_from(total.min(PREALLOC_CAP)).unwrap_or(0));
    (&mut reader)
        .take(total)
        .read_to_end(&mut data)
        .map_err(read_err)?;
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

fn truncated(expected: u64, found: u64) -> DataError {
    DataError::Truncated { expected, found }
}

/// Fills `buf` as far as the stream allows; returns the number of bytes read
/// (less than `buf.len()` only at the end of the stream).
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while let Some(rest) = buf.get_mut(filled..) {
        if rest.is_empty() {
            break;
        }
        match reader.read(rest) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Encodes an IDX stream of unsigned bytes: the inverse of [`read_idx`] for raw input.
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
        let err = read_idx(&bytes[..]).unwrap_err();
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
