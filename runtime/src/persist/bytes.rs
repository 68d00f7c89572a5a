//! constnet's own parameter format: a fixed header and the flat parameter
//! array, decodable without an allocator (and at compile time).
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

use std::path::Path;
use std::vec::Vec;

use super::{PersistError, atomic, check_finite};
use crate::{Network, Scalar};

pub use crate::flash::{HEADER_LEN, MAGIC, VERSION};

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
fn take<const K: usize>(rest: &mut &[u8]) -> Option<[u8; K]> {
    let (head, tail) = rest.split_first_chunk::<K>()?;
    *rest = tail;
    Some(*head)
}

/// Encodes the network's parameters in constnet's byte format.
///
/// # Errors
/// [`PersistError::NonFinite`] if a parameter is NaN or infinite.
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
pub fn save_bytes<N: Network>(net: &N, path: impl AsRef<Path>) -> Result<(), PersistError> {
    atomic::write(path.as_ref(), &to_bytes(net)?)
}

/// Loads parameters in constnet's byte format from `path` into `net`.
///
/// # Errors
/// [`PersistError::Io`] naming `path`, or any error of [`from_bytes`]; `net`
/// is unchanged on error.
pub fn load_bytes<N: Network>(net: &mut N, path: impl AsRef<Path>) -> Result<(), PersistError> {
    from_bytes(net, &super::read(path.as_ref())?)
}

#[cfg(test)]
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
