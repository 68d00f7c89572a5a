//! constnet's own parameter format: a fixed header and the flat parameter
//! array, decodable without an allocator, and at compile time.
//!
//! | Offset | Size | Field | Value |
//! |---|---|---|---|
//! | 0 | 4 | magic | [`MAGIC`], `b"CNET"` |
//! | 4 | 4 | format version, u32 LE | [`VERSION`] |
//! | 8 | 8 | architecture signature, u64 LE | `Network::SIGNATURE` |
//! | 16 | 4 | element size in bytes, u32 LE | 4 (`f32`) or 8 (`f64`) |
//! | 20 | 8 | element count, u64 LE | `Network::STORE_LEN` |
//! | 28 | size × count | elements, IEEE 754 LE | the flat parameter array |
//!
//! The header is [`HEADER_LEN`] = 28 bytes. The elements are the network's
//! flat array in order, which is the order of `Network::TENSORS`, running
//! statistics included. Nothing follows them; every value is finite.
//!
//! Without `std`: the constants, [`Header`]'s encoding, and [`decode_f32`],
//! which a `const` context runs so a network's parameters can live in a
//! `static` in flash. Firmware embeds a file with `include_bytes!` and
//! `Net::from_le_bytes`, which runs [`decode_f32`] at compile time, so a file
//! for another architecture fails the build. With `std`: encoding to and
//! decoding from a `Vec` or a file, with a [`PersistError`] naming what is
//! wrong.

#[cfg(feature = "std")]
use std::path::Path;
#[cfg(feature = "std")]
use std::vec::Vec;

#[cfg(feature = "std")]
use super::{PersistError, atomic, check_finite};
use crate::{Network, Scalar};

/// First four bytes of every parameter file.
pub const MAGIC: [u8; 4] = *b"CNET";
/// The format version this crate writes and reads.
pub const VERSION: u32 = 1;
/// Length of the header in bytes.
pub const HEADER_LEN: usize = 28;

const fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

const fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes([
        b[at],
        b[at + 1],
        b[at + 2],
        b[at + 3],
        b[at + 4],
        b[at + 5],
        b[at + 6],
        b[at + 7],
    ])
}

/// Decodes an `f32` parameter file of `N` elements for the architecture
/// with `signature`, in a `const` context.
///
/// # Panics
/// With a message naming the problem if the magic, version, signature,
/// element size or count is wrong, or the file is truncated or too long. In a
/// `static` initializer this is a compile error.
///
/// # Examples
/// ```
/// const FILE: [u8; 36] = {
///     let mut f = [0u8; 36];
///     let head = *b"CNET\x01\0\0\0\x2a\0\0\0\0\0\0\0\x04\0\0\0\x02\0\0\0\0\0\0\0";
///     let mut i = 0;
///     while i < 28 { f[i] = head[i]; i += 1; }
///     let one = 1.5f32.to_le_bytes();
///     let mut j = 0;
///     while j < 4 { f[28 + j] = one[j]; f[32 + j] = one[j]; j += 1; }
///     f
/// };
/// static PARAMS: [f32; 2] = constnet_runtime::persist::bytes::decode_f32::<2>(&FILE, 42);
/// assert_eq!(PARAMS, [1.5, 1.5]);
/// ```
pub const fn decode_f32<const N: usize>(bytes: &[u8], signature: u64) -> [f32; N] {
    if bytes.len() < HEADER_LEN {
        panic!("parameter file is shorter than its 28-byte header");
    }
    if bytes[0] != MAGIC[0] || bytes[1] != MAGIC[1] || bytes[2] != MAGIC[2] || bytes[3] != MAGIC[3]
    {
        panic!("not a constnet parameter file: the magic bytes are not `CNET`");
    }
    if u32_at(bytes, 4) != VERSION {
        panic!("unsupported parameter file version (this crate reads version 1)");
    }
    if u64_at(bytes, 8) != signature {
        panic!("parameter file was written for a different network architecture");
    }
    if u32_at(bytes, 16) != 4 {
        panic!("parameter file does not hold f32 elements");
    }
    if u64_at(bytes, 20) != N as u64 {
        panic!("parameter file holds a different number of parameters than the network");
    }
    if bytes.len() != HEADER_LEN + 4 * N {
        panic!("parameter file length does not match its header (truncated or trailing bytes)");
    }
    let mut out = [0.0f32; N];
    let mut i = 0;
    while i < N {
        let at = HEADER_LEN + 4 * i;
        out[i] = f32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
        i += 1;
    }
    out
}

/// The header of a file in constnet's byte format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// `Network::SIGNATURE` of the network that wrote the file.
    pub signature: u64,
    /// Bytes per element: 4 for `f32`, 8 for `f64`.
    pub elem_size: u32,
    /// Number of elements (`Network::STORE_LEN`).
    pub count: u64,
}

impl Header {
    /// The header describing `N`'s parameters.
    pub fn of<N: Network>() -> Self {
        Header {
            signature: N::SIGNATURE,
            elem_size: N::Elem::BYTES as u32,
            count: N::STORE_LEN as u64,
        }
    }

    /// Encodes the header, version [`VERSION`].
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0; HEADER_LEN];
        out[0..4].copy_from_slice(&MAGIC);
        out[4..8].copy_from_slice(&VERSION.to_le_bytes());
        out[8..16].copy_from_slice(&self.signature.to_le_bytes());
        out[16..20].copy_from_slice(&self.elem_size.to_le_bytes());
        out[20..28].copy_from_slice(&self.count.to_le_bytes());
        out
    }

    /// Decodes the header at the start of `bytes`, checking the magic and the
    /// version; the fields are not compared with any network.
    ///
    /// # Errors
    /// [`PersistError::BadMagic`], [`PersistError::UnsupportedVersion`], or
    /// [`PersistError::Truncated`] if `bytes` is shorter than the header.
    #[cfg(feature = "std")]
    pub fn decode(bytes: &[u8]) -> Result<Self, PersistError> {
        let truncated = || PersistError::Truncated {
            expected: HEADER_LEN,
            found: bytes.len(),
        };
        let mut rest = bytes;
        let magic = take::<4>(&mut rest).ok_or_else(truncated)?;
        if magic != MAGIC {
            return Err(PersistError::BadMagic { found: magic });
        }
        if bytes.len() < HEADER_LEN {
            return Err(truncated());
        }
        let version = u32::from_le_bytes(take(&mut rest).ok_or_else(truncated)?);
        if version != VERSION {
            return Err(PersistError::UnsupportedVersion { found: version });
        }
        Ok(Header {
            signature: u64::from_le_bytes(take(&mut rest).ok_or_else(truncated)?),
            elem_size: u32::from_le_bytes(take(&mut rest).ok_or_else(truncated)?),
            count: u64::from_le_bytes(take(&mut rest).ok_or_else(truncated)?),
        })
    }
}

/// Splits the first `K` bytes off `rest`.
#[cfg(feature = "std")]
fn take<const K: usize>(rest: &mut &[u8]) -> Option<[u8; K]> {
    let (head, tail) = rest.split_first_chunk::<K>()?;
    *rest = tail;
    Some(*head)
}

/// Encodes the network's parameters in constnet's byte format.
///
/// # Errors
/// [`PersistError::NonFinite`] if a parameter is NaN or infinite.
#[cfg(feature = "std")]
pub fn to_bytes<N: Network>(net: &N) -> Result<Vec<u8>, PersistError> {
    let params = net.params();
    check_finite(params, N::TENSORS)?;
    let size = N::Elem::BYTES;
    let header = Header {
        count: params.len() as u64,
        ..Header::of::<N>()
    };
    let mut out = Vec::with_capacity(HEADER_LEN + size * params.len());
    out.extend_from_slice(&header.encode());
    out.resize(HEADER_LEN + size * params.len(), 0);
    for (chunk, &v) in out[HEADER_LEN..].chunks_exact_mut(size).zip(params) {
        v.write_le(chunk);
    }
    Ok(out)
}

/// Loads parameters in constnet's byte format into `net`.
///
/// Checks, in order: magic, version, architecture signature, element size,
/// element count, exact length, finite values. `net` is only written once
/// all of them pass.
///
/// # Errors
/// One [`PersistError`] variant per check above.
#[cfg(feature = "std")]
pub fn from_bytes<N: Network>(net: &mut N, bytes: &[u8]) -> Result<(), PersistError> {
    let header = Header::decode(bytes)?;
    let expected = Header::of::<N>();
    if header.signature != expected.signature {
        return Err(PersistError::SignatureMismatch {
            network: N::NAME,
            expected: expected.signature,
            found: header.signature,
        });
    }
    if header.elem_size != expected.elem_size {
        return Err(PersistError::ElementSize {
            expected: N::Elem::NAME,
            expected_size: N::Elem::BYTES,
            found: header.elem_size.into(),
        });
    }
    let params = net.params_mut();
    if header.count != params.len() as u64 {
        return Err(PersistError::CountMismatch {
            network: N::NAME,
            expected: params.len(),
            found: header.count,
        });
    }
    // Cannot overflow: the count equals the length of an array in memory.
    let total = HEADER_LEN + N::Elem::BYTES * params.len();
    if bytes.len() < total {
        return Err(PersistError::Truncated {
            expected: total,
            found: bytes.len(),
        });
    }
    if bytes.len() > total {
        return Err(PersistError::TrailingData {
            expected: total,
            found: bytes.len(),
        });
    }
    let values: Vec<N::Elem> = bytes[HEADER_LEN..]
        .chunks_exact(N::Elem::BYTES)
        .map(N::Elem::read_le)
        .collect();
    check_finite(&values, N::TENSORS)?;
    params.copy_from_slice(&values);
    Ok(())
}

/// Saves the network's parameters to `path` in constnet's byte format,
/// atomically (see [the module docs](super)).
///
/// # Errors
/// [`PersistError::NonFinite`] before anything is written, or
/// [`PersistError::Io`] naming `path`; the previous file is intact either way.
#[cfg(feature = "std")]
pub fn save_bytes<N: Network>(net: &N, path: impl AsRef<Path>) -> Result<(), PersistError> {
    atomic::write(path.as_ref(), &to_bytes(net)?)
}

/// Loads parameters in constnet's byte format from `path` into `net`.
///
/// # Errors
/// [`PersistError::Io`] naming `path`, or any error of [`from_bytes`]; `net`
/// is unchanged on error.
#[cfg(feature = "std")]
pub fn load_bytes<N: Network>(net: &mut N, path: impl AsRef<Path>) -> Result<(), PersistError> {
    from_bytes(net, &super::read(path.as_ref())?)
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use crate::persist::test_net::{TempDir, Tiny};
    use std::string::ToString;

    fn sample_bytes() -> Vec<u8> {
        to_bytes(&Tiny::<f32>::sample()).unwrap()
    }

    fn load_err(bytes: &[u8]) -> PersistError {
        let mut net = Tiny::<f32>::zeroed();
        let err = from_bytes(&mut net, bytes).unwrap_err();
        assert_eq!(net, Tiny::zeroed(), "a failed load changed the network");
        err
    }

    #[test]
    fn header_layout_is_as_documented() {
        let bytes = sample_bytes();
        assert_eq!(bytes.len(), HEADER_LEN + 8 * 4);
        assert_eq!(&bytes[0..4], b"CNET");
        assert_eq!(bytes[4..8], 1u32.to_le_bytes());
        assert_eq!(bytes[8..16], 0x0123_4567_89ab_cdefu64.to_le_bytes());
        assert_eq!(bytes[16..20], 4u32.to_le_bytes());
        assert_eq!(bytes[20..28], 8u64.to_le_bytes());
        assert_eq!(bytes[28..32], 0.5f32.to_le_bytes());
        assert_eq!(bytes[56..60], (-4.0f32).to_le_bytes());
    }

    #[test]
    fn round_trip_f32_and_f64() {
        let mut net = Tiny::<f32>::zeroed();
        from_bytes(&mut net, &sample_bytes()).unwrap();
        assert_eq!(net, Tiny::sample());

        let bytes = to_bytes(&Tiny::<f64>::sample()).unwrap();
        assert_eq!(bytes.len(), HEADER_LEN + 8 * 8);
        let mut net = Tiny::<f64>::zeroed();
        from_bytes(&mut net, &bytes).unwrap();
        assert_eq!(net, Tiny::sample());
    }

    #[test]
    fn save_and_load_round_trip_through_a_file() {
        let dir = TempDir::new("bytes-file");
        let path = dir.join("tiny.cnet");
        save_bytes(&Tiny::<f64>::sample(), &path).unwrap();
        let mut net = Tiny::<f64>::zeroed();
        load_bytes(&mut net, &path).unwrap();
        assert_eq!(net, Tiny::sample());
        assert_eq!(dir.entries(), ["tiny.cnet"]);
    }

    #[test]
    fn bad_magic_is_rejected() {
        let mut bytes = sample_bytes();
        bytes[0..4].copy_from_slice(b"PK\x03\x04");
        let err = load_err(&bytes);
        assert_eq!(
            err.to_string(),
            "not a constnet parameter file: expected magic `CNET`, found `PK\\x03\\x04`"
        );
    }

    #[test]
    fn unknown_version_is_rejected() {
        let mut bytes = sample_bytes();
        bytes[4..8].copy_from_slice(&2u32.to_le_bytes());
        let err = load_err(&bytes);
        assert!(matches!(err, PersistError::UnsupportedVersion { found: 2 }));
        assert_eq!(
            err.to_string(),
            "unsupported constnet format version 2; this build reads version 1"
        );
    }

    #[test]
    fn signature_mismatch_shows_both_signatures() {
        let mut bytes = sample_bytes();
        bytes[8..16].copy_from_slice(&0xdead_beefu64.to_le_bytes());
        assert_eq!(
            load_err(&bytes).to_string(),
            "file was written for a different network architecture: network `Tiny` has \
             signature 0x0123456789abcdef, the file 0x00000000deadbeef"
        );
    }

    #[test]
    fn element_size_mismatch_is_rejected() {
        let bytes = to_bytes(&Tiny::<f64>::sample()).unwrap();
        assert_eq!(
            load_err(&bytes).to_string(),
            "element type mismatch: the network uses f32 (4-byte elements), \
             the file holds 8-byte elements"
        );
    }

    #[test]
    fn count_mismatch_is_rejected() {
        let mut bytes = sample_bytes();
        bytes[20..28].copy_from_slice(&9u64.to_le_bytes());
        assert_eq!(
            load_err(&bytes).to_string(),
            "element count mismatch: network `Tiny` has 8 elements, the file 9"
        );
    }

    #[test]
    fn truncated_data_is_rejected() {
        let bytes = sample_bytes();
        assert_eq!(
            load_err(&bytes[..bytes.len() - 1]).to_string(),
            "file is truncated: expected 60 bytes, found 59"
        );
        assert!(matches!(
            load_err(&bytes[..10]),
            PersistError::Truncated {
                expected: 28,
                found: 10
            }
        ));
        assert!(matches!(
            load_err(&[]),
            PersistError::Truncated {
                expected: 28,
                found: 0
            }
        ));
    }

    #[test]
    fn trailing_data_is_rejected() {
        let mut bytes = sample_bytes();
        bytes.push(0);
        assert!(matches!(
            load_err(&bytes),
            PersistError::TrailingData {
                expected: 60,
                found: 61
            }
        ));
    }

    #[test]
    fn non_finite_values_are_rejected_on_load() {
        let mut bytes = sample_bytes();
        bytes[28 + 4 * 4..28 + 5 * 4].copy_from_slice(&f32::NAN.to_le_bytes());
        assert_eq!(
            load_err(&bytes).to_string(),
            "tensor `affine1.weight` holds a non-finite value (NaN) at index 4"
        );
    }

    #[test]
    fn non_finite_values_are_not_saved_over_a_good_file() {
        let dir = TempDir::new("bytes-nan");
        let path = dir.join("tiny.cnet");
        save_bytes(&Tiny::<f32>::sample(), &path).unwrap();
        let mut diverged = Tiny::<f32>::sample();
        diverged.params[6] = f32::NEG_INFINITY;
        let err = save_bytes(&diverged, &path).unwrap_err();
        assert!(matches!(
            err,
            PersistError::NonFinite {
                tensor: "affine1.bias",
                index: 0,
                ..
            }
        ));
        assert_eq!(std::fs::read(&path).unwrap(), sample_bytes());
        assert_eq!(dir.entries(), ["tiny.cnet"]);
    }

    #[test]
    fn missing_file_names_the_path() {
        let dir = TempDir::new("bytes-missing");
        let err = load_bytes(&mut Tiny::<f32>::zeroed(), dir.join("nope.cnet")).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("cannot read `") && msg.contains("nope.cnet`: "),
            "{msg}"
        );
    }
}

// The `const` decoder, which needs neither `std` nor `alloc`.
#[cfg(test)]
mod decode_tests {
    use super::*;

    fn file(signature: u64, values: &[f32]) -> std::vec::Vec<u8> {
        let mut f = std::vec::Vec::new();
        f.extend_from_slice(&MAGIC);
        f.extend_from_slice(&VERSION.to_le_bytes());
        f.extend_from_slice(&signature.to_le_bytes());
        f.extend_from_slice(&4u32.to_le_bytes());
        f.extend_from_slice(&(values.len() as u64).to_le_bytes());
        for v in values {
            f.extend_from_slice(&v.to_le_bytes());
        }
        f
    }

    #[test]
    fn decodes_values_in_order() {
        assert_eq!(
            decode_f32::<3>(&file(7, &[1.0, -2.0, 0.5]), 7),
            [1.0, -2.0, 0.5]
        );
    }

    #[test]
    #[should_panic(expected = "different network architecture")]
    fn rejects_other_architectures() {
        decode_f32::<1>(&file(7, &[1.0]), 8);
    }

    #[test]
    #[should_panic(expected = "truncated")]
    fn rejects_truncated_files() {
        let f = file(7, &[1.0, 2.0]);
        decode_f32::<2>(&f[..f.len() - 1], 7);
    }

    #[test]
    #[should_panic(expected = "different number of parameters")]
    fn rejects_other_counts() {
        decode_f32::<3>(&file(7, &[1.0, 2.0]), 7);
    }
}
