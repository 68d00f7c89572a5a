//! constnet's own parameter format: a fixed header, a checksum and the flat
//! parameter array, decodable without an allocator, and at compile time.
//!
//! | Offset | Size | Field | Value |
//! |---|---|---|---|
//! | 0 | 4 | magic | [`MAGIC`], `b"CNET"` |
//! | 4 | 4 | format version, u32 LE | [`VERSION`] = 2 |
//! | 8 | 8 | architecture signature, u64 LE | `Network::SIGNATURE` |
//! | 16 | 4 | element size in bytes, u32 LE | 4 (`f32`) or 8 (`f64`) |
//! | 20 | 8 | element count, u64 LE | `Network::STORE_LEN` |
//! | 28 | 4 | checksum, u32 LE | [`checksum`]: CRC-32 of bytes 0..28, then of bytes 32.. |
//! | 32 | size × count | elements, IEEE 754 LE | the flat parameter array |
//!
//! The header is [`HEADER_LEN`] = 32 bytes, so the elements start 8-byte
//! aligned. The elements are the network's flat array in order, which is the
//! order of `Network::TENSORS`, running statistics included. Nothing follows
//! them; every value is finite.
//!
//! The checksum is CRC-32/ISO-HDLC, the CRC of zlib, gzip and PNG, over the
//! first 28 header bytes followed by the elements: in Python,
//! `zlib.crc32(f[32:], zlib.crc32(f[:28]))`. It catches every burst of up to
//! 32 flipped bits, so a damaged file is rejected instead of loading as
//! slightly wrong weights. Version 1 (a 28-byte header without the
//! checksum) is refused with an error that says so.
//!
//! Every check lives in one `const fn`, [`check`], which returns a [`Fault`].
//! The `const` decoder [`decode_f32`] panics with the fault's message, so
//! `Net::from_le_bytes(include_bytes!(…))` in a `static` (firmware that keeps
//! its weights in flash) fails the build for a file of another architecture
//! or a corrupt one. The loaders ([`from_bytes`], [`load_bytes`]; `std`) run
//! the same [`check`] and turn the fault into a [`PersistError`]. Without
//! `std`, the constants, [`Header`], [`check`], [`checksum`] and
//! [`decode_f32`] remain; none allocates.
//!
//! [`load_bytes`] reads at most the size the network's type implies: the
//! header first (a file of another kind fails on its first bytes), then the
//! length the file system reports, then exactly that many bytes.

#[cfg(feature = "std")]
use std::io::Read;
#[cfg(feature = "std")]
use std::path::Path;
#[cfg(feature = "std")]
use std::vec::Vec;

#[cfg(feature = "std")]
use super::{PersistError, atomic, check_finite};
#[cfg(feature = "std")]
use crate::bounded::read_full;
use crate::{Network, Scalar};

/// First four bytes of every parameter file.
pub const MAGIC: [u8; 4] = *b"CNET";
/// The format version this crate writes and reads.
pub const VERSION: u32 = 2;
/// Length of the header in bytes, checksum included.
pub const HEADER_LEN: usize = 32;
/// Offset of the checksum in the header.
const CHECKSUM_AT: usize = 28;

/// CRC-32/ISO-HDLC with 16 lookup tables: a `const fn` that processes 16
/// bytes per loop iteration, which keeps compile-time decoding of a
/// megabyte-sized file well inside rustc's `long_running_const_eval` budget.
pub(crate) const CRC: &crc::Crc<u32, crc::Table<16>> =
    &crc::Crc::<u32, crc::Table<16>>::new(&crc::CRC_32_ISO_HDLC);

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

/// The checksum a file with these contents stores at offset 28: the CRC-32
/// of bytes 0..28 followed by bytes 32.. (the checksum field itself is
/// skipped). Shorter input is summed as far as it goes.
///
/// # Examples
/// ```
/// use constnet::persist::bytes::checksum;
/// // CRC-32 of "123456789" is the catalogue's check value 0xcbf43926.
/// assert_eq!(checksum(b"123456789"), 0xcbf4_3926);
/// ```
pub const fn checksum(file: &[u8]) -> u32 {
    let mut digest = CRC.digest();
    if file.len() <= CHECKSUM_AT {
        digest.update(file);
    } else {
        digest.update(file.split_at(CHECKSUM_AT).0);
        if file.len() > HEADER_LEN {
            digest.update(file.split_at(HEADER_LEN).1);
        }
    }
    digest.finalize()
}

/// What is wrong with a parameter file, as [`check`] finds it.
///
/// The `const` decoder panics with [`message`](Self::message); the loaders
/// turn a fault into the matching [`PersistError`],
/// which adds the network's name and expected values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The data ends inside the header (or inside the magic bytes).
    ShortHeader {
        /// Bytes present.
        found: usize,
    },
    /// The first four bytes are not [`MAGIC`].
    BadMagic {
        /// The first four bytes.
        found: [u8; 4],
    },
    /// The format version is not [`VERSION`].
    UnsupportedVersion {
        /// The version in the header.
        found: u32,
    },
    /// The architecture signature is not the network's.
    Signature {
        /// The signature in the header.
        found: u64,
    },
    /// The element size is not the network's.
    ElementSize {
        /// The element size in the header.
        found: u32,
    },
    /// The element count is not the network's.
    Count {
        /// The count in the header.
        found: u64,
    },
    /// The file is shorter or longer than header and elements.
    Length {
        /// [`HEADER_LEN`] plus size × count.
        expected: usize,
        /// Bytes present.
        found: usize,
    },
    /// The stored checksum does not match the contents.
    Checksum {
        /// The checksum in the header.
        stored: u32,
        /// The checksum of the contents ([`checksum`]).
        computed: u32,
    },
}

impl Fault {
    /// A fixed description, for the `const` decoder's panic.
    pub const fn message(&self) -> &'static str {
        match self {
            Fault::ShortHeader { .. } => "parameter file is shorter than its 32-byte header",
            Fault::BadMagic { .. } => {
                "not a constnet parameter file: the magic bytes are not `CNET`"
            }
            Fault::UnsupportedVersion { found: 1 } => {
                "parameter file is format version 1, which has no checksum; this crate reads \
                 version 2: load it with the release that wrote it and save it again"
            }
            Fault::UnsupportedVersion { .. } => {
                "unsupported parameter file version (this crate reads version 2)"
            }
            Fault::Signature { .. } => {
                "parameter file was written for a different network architecture"
            }
            Fault::ElementSize { .. } => "parameter file does not hold f32 elements",
            Fault::Count { .. } => {
                "parameter file holds a different number of parameters than the network"
            }
            Fault::Length { .. } => {
                "parameter file length does not match its header (truncated or trailing bytes)"
            }
            Fault::Checksum { .. } => {
                "parameter file is corrupt: its checksum does not match its contents"
            }
        }
    }
}

/// Checks the header of a file (its first [`HEADER_LEN`] bytes, or as many
/// as `head` holds) against `expected`: magic, version, signature, element
/// size and count, in that order. The checksum is not looked at.
///
/// # Errors
/// The first [`Fault`] found.
pub const fn check_header(head: &[u8], expected: &Header) -> Result<(), Fault> {
    if head.len() < MAGIC.len() {
        return Err(Fault::ShortHeader { found: head.len() });
    }
    let found = [head[0], head[1], head[2], head[3]];
    if found[0] != MAGIC[0] || found[1] != MAGIC[1] || found[2] != MAGIC[2] || found[3] != MAGIC[3]
    {
        return Err(Fault::BadMagic { found });
    }
    // The version comes before the length: a version 1 file has a shorter
    // header, and its message should say so rather than "truncated".
    if head.len() >= 8 && u32_at(head, 4) != VERSION {
        return Err(Fault::UnsupportedVersion {
            found: u32_at(head, 4),
        });
    }
    if head.len() < HEADER_LEN {
        return Err(Fault::ShortHeader { found: head.len() });
    }
    if u64_at(head, 8) != expected.signature {
        return Err(Fault::Signature {
            found: u64_at(head, 8),
        });
    }
    if u32_at(head, 16) != expected.elem_size {
        return Err(Fault::ElementSize {
            found: u32_at(head, 16),
        });
    }
    if u64_at(head, 20) != expected.count {
        return Err(Fault::Count {
            found: u64_at(head, 20),
        });
    }
    Ok(())
}

/// Checks a whole file against `expected`: the header ([`check_header`]),
/// then the length, then the checksum. Values are not looked at (the
/// loaders also reject NaN and infinity; the `const` decoder does not).
///
/// This is the one implementation of the format's rules: the `const`
/// decoder and the loaders both call it.
///
/// # Errors
/// The first [`Fault`] found.
pub const fn check(bytes: &[u8], expected: &Header) -> Result<(), Fault> {
    if let Err(fault) = check_header(bytes, expected) {
        return Err(fault);
    }
    let expected_len = match expected.file_len() {
        Some(len) => len,
        None => {
            return Err(Fault::Count {
                found: expected.count,
            });
        }
    };
    if bytes.len() != expected_len {
        return Err(Fault::Length {
            expected: expected_len,
            found: bytes.len(),
        });
    }
    let stored = u32_at(bytes, CHECKSUM_AT);
    let computed = checksum(bytes);
    if stored != computed {
        return Err(Fault::Checksum { stored, computed });
    }
    Ok(())
}

/// Decodes an `f32` parameter file of `N` elements for the architecture
/// with `signature`, in a `const` context.
///
/// Runs [`check`] and then reads the elements; a call outside a `const`
/// context runs the very same code, which is how its tests exercise it.
///
/// # Panics
/// With [`Fault::message`] if [`check`] finds a fault: the magic, version,
/// signature, element size, count or length is wrong, or the checksum does
/// not match. In a `static` initializer this is a compile error.
///
/// # Examples
/// ```
/// use constnet::persist::bytes::{checksum, decode_f32, HEADER_LEN};
/// const FILE: [u8; 40] = {
///     let mut f = [0u8; 40];
///     let head = *b"CNET\x02\0\0\0\x2a\0\0\0\0\0\0\0\x04\0\0\0\x02\0\0\0\0\0\0\0";
///     let mut i = 0;
///     while i < 28 { f[i] = head[i]; i += 1; }
///     let one = 1.5f32.to_le_bytes();
///     let mut j = 0;
///     while j < 4 { f[HEADER_LEN + j] = one[j]; f[HEADER_LEN + 4 + j] = one[j]; j += 1; }
///     let sum = checksum(&f).to_le_bytes();
///     let mut k = 0;
///     while k < 4 { f[28 + k] = sum[k]; k += 1; }
///     f
/// };
/// static PARAMS: [f32; 2] = constnet::persist::bytes::decode_f32::<2>(&FILE, 42);
/// assert_eq!(PARAMS, [1.5, 1.5]);
/// ```
pub const fn decode_f32<const N: usize>(bytes: &[u8], signature: u64) -> [f32; N] {
    let expected = Header {
        signature,
        elem_size: 4,
        count: N as u64,
    };
    if let Err(fault) = check(bytes, &expected) {
        panic!("{}", fault.message());
    }
    let mut out = [0.0f32; N];
    let mut i = 0;
    while i < N {
        let at = HEADER_LEN + 4 * i;
        // NOTE: shifts rather than `f32::from_le_bytes`: each function call
        // counts toward rustc's `long_running_const_eval` budget, and this
        // loop runs once per parameter at compile time.
        let bits = bytes[at] as u32
            | (bytes[at + 1] as u32) << 8
            | (bytes[at + 2] as u32) << 16
            | (bytes[at + 3] as u32) << 24;
        out[i] = f32::from_bits(bits);
        i += 1;
    }
    out
}

/// The fields of a header that describe a network: what a file must hold
/// to load into it. The magic, the version and the checksum are the
/// format's own.
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

    /// Length of a whole file with this header: [`HEADER_LEN`] plus
    /// `elem_size × count`, or `None` if that overflows `usize`.
    pub const fn file_len(&self) -> Option<usize> {
        if self.count > usize::MAX as u64 {
            return None;
        }
        match (self.count as usize).checked_mul(self.elem_size as usize) {
            Some(data) => data.checked_add(HEADER_LEN),
            None => None,
        }
    }

    /// Encodes the header of a file holding `data`, the encoded elements:
    /// version [`VERSION`], and the checksum of these fields and `data`.
    pub fn encode(&self, data: &[u8]) -> [u8; HEADER_LEN] {
        let mut out = [0; HEADER_LEN];
        out[0..4].copy_from_slice(&MAGIC);
        out[4..8].copy_from_slice(&VERSION.to_le_bytes());
        out[8..16].copy_from_slice(&self.signature.to_le_bytes());
        out[16..20].copy_from_slice(&self.elem_size.to_le_bytes());
        out[20..28].copy_from_slice(&self.count.to_le_bytes());
        let mut digest = CRC.digest();
        digest.update(&out[..CHECKSUM_AT]);
        digest.update(data);
        out[CHECKSUM_AT..].copy_from_slice(&digest.finalize().to_le_bytes());
        out
    }

    /// Decodes the header at the start of `bytes`, checking the magic and the
    /// version; the fields are not compared with any network and the
    /// checksum is not verified.
    ///
    /// # Errors
    /// [`PersistError::BadMagic`], [`PersistError::UnsupportedVersion`], or
    /// [`PersistError::Truncated`] if `bytes` is shorter than the header.
    #[cfg(feature = "std")]
    pub fn decode(bytes: &[u8]) -> Result<Self, PersistError> {
        let header = if bytes.len() >= HEADER_LEN {
            Header {
                signature: u64_at(bytes, 8),
                elem_size: u32_at(bytes, 16),
                count: u64_at(bytes, 20),
            }
        } else {
            Header {
                signature: 0,
                elem_size: 0,
                count: 0,
            }
        };
        // The fields agree with themselves: only the format's own checks fail.
        check_header(bytes, &header).map_err(|fault| fault_error(fault, &header, "", ""))?;
        Ok(header)
    }
}

/// The [`PersistError`] of a [`Fault`] found for `network`, with elements
/// of type `elem`, whose file should match `expected`.
#[cfg(feature = "std")]
fn fault_error(
    fault: Fault,
    expected: &Header,
    network: &'static str,
    elem: &'static str,
) -> PersistError {
    match fault {
        Fault::ShortHeader { found } => PersistError::Truncated {
            expected: HEADER_LEN,
            found,
        },
        Fault::BadMagic { found } => PersistError::BadMagic { found },
        Fault::UnsupportedVersion { found } => PersistError::UnsupportedVersion { found },
        Fault::Signature { found } => PersistError::SignatureMismatch {
            network,
            expected: expected.signature,
            found,
        },
        Fault::ElementSize { found } => PersistError::ElementSize {
            expected: elem,
            expected_size: expected.elem_size as usize,
            found: found.into(),
        },
        Fault::Count { found } => PersistError::CountMismatch {
            network,
            expected: expected.count as usize,
            found,
        },
        Fault::Length { expected, found } if found < expected => {
            PersistError::Truncated { expected, found }
        }
        Fault::Length { expected, found } => PersistError::TrailingData { expected, found },
        Fault::Checksum { stored, computed } => PersistError::Checksum { stored, computed },
    }
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
    let mut out = std::vec![0; HEADER_LEN + size * params.len()];
    for (chunk, &v) in out[HEADER_LEN..].chunks_exact_mut(size).zip(params) {
        v.write_le(chunk);
    }
    let head = header.encode(&out[HEADER_LEN..]);
    out[..HEADER_LEN].copy_from_slice(&head);
    Ok(out)
}

/// Loads parameters in constnet's byte format into `net`.
///
/// Checks, in order: magic, version, architecture signature, element size,
/// element count, exact length, checksum ([`check`]), then that every value
/// is finite. `net` is only written once all of them pass.
///
/// # Errors
/// One [`PersistError`] variant per check above.
#[cfg(feature = "std")]
pub fn from_bytes<N: Network>(net: &mut N, bytes: &[u8]) -> Result<(), PersistError> {
    let expected = Header {
        count: net.params().len() as u64,
        ..Header::of::<N>()
    };
    check(bytes, &expected)
        .map_err(|fault| fault_error(fault, &expected, N::NAME, N::Elem::NAME))?;
    let values: Vec<N::Elem> = bytes[HEADER_LEN..]
        .chunks_exact(N::Elem::BYTES)
        .map(N::Elem::read_le)
        .collect();
    check_finite(&values, N::TENSORS)?;
    net.params_mut().copy_from_slice(&values);
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

/// Loads parameters in constnet's byte format from `path` into `net`,
/// reading no more than the network's size.
///
/// Reads the header first and checks it against the network, so a file of
/// another kind fails on its first bytes however large it is; then compares
/// the file's length with the size the header implies; only then reads the
/// rest, exactly that many bytes, and checks it as [`from_bytes`] does.
///
/// # Errors
/// [`PersistError::Io`] or [`PersistError::NotAFile`] naming `path` (FIFOs,
/// devices and directories are refused before any read), or any error of
/// [`from_bytes`] wrapped in [`PersistError::InFile`]; `net` is unchanged on
/// error.
#[cfg(feature = "std")]
pub fn load_bytes<N: Network>(net: &mut N, path: impl AsRef<Path>) -> Result<(), PersistError> {
    let path = path.as_ref();
    let (mut file, len) = super::open(path)?;
    let bytes = read_bounded(net, &mut file, len, path).map_err(|e| e.in_file(path))?;
    from_bytes(net, &bytes).map_err(|e| e.in_file(path))
}

/// Reads a file of `len` bytes for `net`: its header, checked against the
/// network, then exactly the size the network implies.
#[cfg(feature = "std")]
fn read_bounded<N: Network>(
    net: &N,
    reader: &mut impl Read,
    len: u64,
    path: &Path,
) -> Result<Vec<u8>, PersistError> {
    let expected = Header {
        count: net.params().len() as u64,
        ..Header::of::<N>()
    };
    let fail = |fault| fault_error(fault, &expected, N::NAME, N::Elem::NAME);
    let read_err = |source| PersistError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    };
    let mut head = [0u8; HEADER_LEN];
    let got = read_full(reader, &mut head).map_err(read_err)?;
    check_header(&head[..got], &expected).map_err(fail)?;
    // Cannot overflow: the count equals the length of an array in memory.
    let total = expected.file_len().unwrap_or(usize::MAX);
    let found = usize::try_from(len).unwrap_or(usize::MAX);
    if found != total {
        return Err(fail(Fault::Length {
            expected: total,
            found,
        }));
    }
    let mut bytes = std::vec![0u8; total];
    bytes[..HEADER_LEN].copy_from_slice(&head);
    let got = read_full(reader, &mut bytes[HEADER_LEN..]).map_err(read_err)?;
    if got < total - HEADER_LEN {
        return Err(fail(Fault::Length {
            expected: total,
            found: HEADER_LEN + got,
        }));
    }
    // The file grew after its length was read.
    if read_full(reader, &mut [0u8; 1]).map_err(read_err)? != 0 {
        return Err(fail(Fault::Length {
            expected: total,
            found: total + 1,
        }));
    }
    Ok(bytes)
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use crate::persist::test_net::{TempDir, Tiny};
    use std::string::ToString;

    fn sample_bytes() -> Vec<u8> {
        to_bytes(&Tiny::<f32>::sample()).unwrap()
    }

    /// Stores the checksum of the current contents, as a writer would.
    fn reseal(bytes: &mut [u8]) {
        let sum = checksum(bytes);
        bytes[28..32].copy_from_slice(&sum.to_le_bytes());
    }

    fn load_err(bytes: &[u8]) -> PersistError {
        let mut net = Tiny::<f32>::zeroed();
        let err = from_bytes(&mut net, bytes).unwrap_err();
        assert_eq!(net, Tiny::zeroed(), "a failed load changed the network");
        err
    }

    fn load_file_err(path: &Path) -> PersistError {
        let mut net = Tiny::<f32>::zeroed();
        let err = load_bytes(&mut net, path).unwrap_err();
        assert_eq!(net, Tiny::zeroed(), "a failed load changed the network");
        err
    }

    #[test]
    fn header_layout_is_as_documented() {
        let bytes = sample_bytes();
        assert_eq!(bytes.len(), HEADER_LEN + 8 * 4);
        assert_eq!(&bytes[0..4], b"CNET");
        assert_eq!(bytes[4..8], 2u32.to_le_bytes());
        assert_eq!(bytes[8..16], 0x0123_4567_89ab_cdefu64.to_le_bytes());
        assert_eq!(bytes[16..20], 4u32.to_le_bytes());
        assert_eq!(bytes[20..28], 8u64.to_le_bytes());
        assert_eq!(bytes[32..36], 0.5f32.to_le_bytes());
        assert_eq!(bytes[60..64], (-4.0f32).to_le_bytes());
        // The checksum is zlib's CRC-32 of bytes 0..28, continued over 32..
        let mut plain = bytes[..28].to_vec();
        plain.extend_from_slice(&bytes[32..]);
        assert_eq!(bytes[28..32], CRC.checksum(&plain).to_le_bytes());
        assert_eq!(checksum(b"123456789"), 0xcbf4_3926);
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
        bytes[4..8].copy_from_slice(&3u32.to_le_bytes());
        let err = load_err(&bytes);
        assert!(matches!(err, PersistError::UnsupportedVersion { found: 3 }));
        assert_eq!(
            err.to_string(),
            "unsupported constnet format version 3; this build reads version 2"
        );
    }

    /// A version 1 file: the 28-byte header without a checksum.
    fn version_1(values: &[f32]) -> Vec<u8> {
        let mut f = Vec::new();
        f.extend_from_slice(b"CNET");
        f.extend_from_slice(&1u32.to_le_bytes());
        f.extend_from_slice(&0x0123_4567_89ab_cdefu64.to_le_bytes());
        f.extend_from_slice(&4u32.to_le_bytes());
        f.extend_from_slice(&(values.len() as u64).to_le_bytes());
        for v in values {
            f.extend_from_slice(&v.to_le_bytes());
        }
        f
    }

    #[test]
    fn version_1_files_get_a_clear_error() {
        let old = version_1(&[0.0; 8]);
        let err = load_err(&old);
        assert!(matches!(err, PersistError::UnsupportedVersion { found: 1 }));
        assert_eq!(
            err.to_string(),
            "unsupported constnet format version 1; this build reads version 2 (version 1 \
             predates the checksum: load the file with the release that wrote it and save it \
             again, or export it with `save_safetensors`)"
        );
        // Even when cut inside the header.
        assert!(matches!(
            load_err(&old[..10]),
            PersistError::UnsupportedVersion { found: 1 }
        ));
        assert_eq!(
            check(&old, &Header::of::<Tiny<f32>>()),
            Err(Fault::UnsupportedVersion { found: 1 })
        );
    }

    #[test]
    fn signature_mismatch_shows_both_signatures() {
        // A file written by another architecture with the same tensor sizes:
        // a valid file in every other respect.
        let mut bytes = sample_bytes();
        bytes[8..16].copy_from_slice(&0xdead_beefu64.to_le_bytes());
        reseal(&mut bytes);
        assert_eq!(
            load_err(&bytes).to_string(),
            "file was written for a different network architecture: network `Tiny` has \
             signature 0x0123456789abcdef, the file 0x00000000deadbeef"
        );
    }

    #[test]
    fn flipped_bits_anywhere_are_rejected() {
        let good = sample_bytes();
        for byte in 0..good.len() {
            for bit in 0..8 {
                let mut bytes = good.clone();
                bytes[byte] ^= 1 << bit;
                let err = load_err(&bytes);
                if byte >= HEADER_LEN || (CHECKSUM_AT..HEADER_LEN).contains(&byte) {
                    assert!(
                        matches!(err, PersistError::Checksum { .. }),
                        "{byte}.{bit}: {err}"
                    );
                }
            }
        }
        let mut bytes = good.clone();
        bytes[HEADER_LEN + 5] ^= 0x10;
        let err = load_err(&bytes);
        let stored = u32::from_le_bytes(good[28..32].try_into().unwrap());
        assert_eq!(
            err.to_string(),
            std::format!(
                "checksum mismatch: the header stores CRC-32 {stored:#010x}, the contents give \
                 {:#010x}; the file is corrupt",
                checksum(&bytes)
            )
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
            "file is truncated: expected 64 bytes, found 63"
        );
        assert!(matches!(
            load_err(&bytes[..10]),
            PersistError::Truncated {
                expected: 32,
                found: 10
            }
        ));
        assert!(matches!(
            load_err(&[]),
            PersistError::Truncated {
                expected: 32,
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
                expected: 64,
                found: 65
            }
        ));
    }

    #[test]
    fn non_finite_values_are_rejected_on_load() {
        let mut bytes = sample_bytes();
        bytes[32 + 4 * 4..32 + 5 * 4].copy_from_slice(&f32::NAN.to_le_bytes());
        reseal(&mut bytes);
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

    #[test]
    fn file_errors_name_the_file() {
        let dir = TempDir::new("bytes-named");
        let path = dir.join("tiny.cnet");
        let mut bytes = sample_bytes();
        bytes[40] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let err = load_file_err(&path);
        assert!(matches!(err.root(), PersistError::Checksum { .. }), "{err}");
        assert!(
            err.to_string()
                .starts_with(&std::format!("in `{}`: checksum mismatch", path.display())),
            "{err}"
        );
    }

    #[test]
    fn huge_files_fail_on_their_header_or_length_without_being_read() {
        // Sparse files: 1.5 GB that cost no disk, and would cost 1.5 GB of
        // memory if a loader read them whole.
        let dir = TempDir::new("bytes-huge");
        let zeros = dir.join("zeros.bin");
        std::fs::File::create(&zeros)
            .unwrap()
            .set_len(1_500_000_000)
            .unwrap();
        assert!(matches!(
            load_file_err(&zeros).root(),
            PersistError::BadMagic {
                found: [0, 0, 0, 0]
            }
        ));
        // A valid header for this network, then 1.5 GB: refused on the
        // length the file system reports.
        let long = dir.join("long.cnet");
        let file = std::fs::File::create(&long).unwrap();
        std::io::Write::write_all(&mut &file, &sample_bytes()).unwrap();
        file.set_len(1_500_000_000).unwrap();
        assert!(matches!(
            load_file_err(&long).root(),
            PersistError::TrailingData {
                expected: 64,
                found: 1_500_000_000
            }
        ));
    }

    #[test]
    fn a_stream_is_read_no_further_than_the_header_it_fails() {
        /// Endless zeros that count what was read.
        struct Zeros(usize);
        impl Read for Zeros {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                buf.fill(0);
                self.0 += buf.len();
                Ok(buf.len())
            }
        }
        let mut zeros = Zeros(0);
        let err =
            read_bounded(&Tiny::<f32>::zeroed(), &mut zeros, u64::MAX, Path::new("z")).unwrap_err();
        assert!(matches!(err, PersistError::BadMagic { .. }), "{err}");
        assert_eq!(zeros.0, HEADER_LEN);
    }

    #[cfg(unix)]
    #[test]
    fn special_files_are_refused() {
        let err = load_file_err(Path::new("/dev/zero"));
        assert!(
            matches!(
                err,
                PersistError::NotAFile {
                    kind: "a character device",
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            "cannot load `/dev/zero`: it is a character device, not a regular file"
        );
        let dir = TempDir::new("bytes-fifo");
        let fifo = dir.join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            // Opening a FIFO without a writer would block: it must not be opened.
            let err = load_file_err(&fifo);
            assert!(
                matches!(err, PersistError::NotAFile { kind: "a FIFO", .. }),
                "{err}"
            );
        }
    }
}

// The `const` decoder, which needs neither `std` nor `alloc`. Its tests call
// it outside a `const` context: the code is the same, and a `static` that
// runs into one of these panics fails to compile instead.
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
        f.extend_from_slice(&[0; 4]);
        for v in values {
            f.extend_from_slice(&v.to_le_bytes());
        }
        let sum = checksum(&f);
        f[28..32].copy_from_slice(&sum.to_le_bytes());
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
    fn decodes_at_compile_time() {
        const FILE: [u8; 36] = {
            let mut f = [0u8; 36];
            let head = *b"CNET\x02\0\0\0\x07\0\0\0\0\0\0\0\x04\0\0\0\x01\0\0\0\0\0\0\0";
            let mut i = 0;
            while i < 28 {
                f[i] = head[i];
                i += 1;
            }
            let v = (-3.25f32).to_le_bytes();
            let sum = {
                f[32] = v[0];
                f[33] = v[1];
                f[34] = v[2];
                f[35] = v[3];
                checksum(&f).to_le_bytes()
            };
            f[28] = sum[0];
            f[29] = sum[1];
            f[30] = sum[2];
            f[31] = sum[3];
            f
        };
        static PARAMS: [f32; 1] = decode_f32::<1>(&FILE, 7);
        assert_eq!(PARAMS, [-3.25]);
        assert_eq!(FILE.to_vec(), file(7, &[-3.25]));
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

    #[test]
    #[should_panic(expected = "corrupt: its checksum does not match")]
    fn rejects_a_flipped_data_bit() {
        let mut f = file(7, &[1.0, 2.0]);
        f[HEADER_LEN + 6] ^= 0x01;
        decode_f32::<2>(&f, 7);
    }

    #[test]
    #[should_panic(expected = "format version 1, which has no checksum")]
    fn rejects_version_1_files() {
        let mut f = file(7, &[1.0]);
        f[4] = 1;
        decode_f32::<1>(&f, 7);
    }

    #[test]
    fn check_reports_each_fault() {
        let expected = Header {
            signature: 7,
            elem_size: 4,
            count: 2,
        };
        let good = file(7, &[1.0, 2.0]);
        assert_eq!(check(&good, &expected), Ok(()));
        let mut flipped = good.clone();
        flipped[HEADER_LEN] ^= 0x80;
        assert!(matches!(
            check(&flipped, &expected),
            Err(Fault::Checksum { .. })
        ));
        assert_eq!(
            check(&good[..3], &expected),
            Err(Fault::ShortHeader { found: 3 })
        );
        assert_eq!(
            check(&file(8, &[1.0, 2.0]), &expected),
            Err(Fault::Signature { found: 8 })
        );
        assert_eq!(
            check(&good[..good.len() - 4], &expected),
            Err(Fault::Length {
                expected: 40,
                found: 36
            })
        );
    }
}
