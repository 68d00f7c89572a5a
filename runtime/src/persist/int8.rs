//! The int8 parameter format: a quantized network ([`QNet`]) in one file,
//! decodable without an allocator, and at compile time.
//!
//! | Offset | Size | Field | Value |
//! |---|---|---|---|
//! | 0 | 4 | magic | [`MAGIC`], `b"CNQ8"` |
//! | 4 | 4 | format version, u32 LE | [`VERSION`] = 1 |
//! | 8 | 8 | architecture signature, u64 LE | `Network::SIGNATURE` of the `f32` network |
//! | 16 | 8 | program fingerprint, u64 LE | [`Program::fingerprint`]: steps, geometry, activations, layout |
//! | 24 | 4 | scheme, u32 LE | [`SCHEME`] |
//! | 28 | 4 | int8 weights, u32 LE | `Program::weights` |
//! | 32 | 4 | 32-bit words, u32 LE | `Program::words` |
//! | 36 | 4 | checksum, u32 LE | CRC-32 of bytes 0..36, then of bytes 40.. |
//! | 40 | weights | int8 weights | [`QNet::weights`] |
//! | 40 + weights | 4 × words | words, i32 LE | [`QNet::words`] |
//!
//! A file for another architecture (signature), for the same layers
//! quantized differently (another activation clamp, a pool folded or not:
//! the fingerprint), or in another scheme is refused, by [`check`] and so
//! at compile time for a `static` ([`decode`]). Past the
//! header, every value must be meaningful: finite positive scales, zero
//! points in the int8 range, multipliers in `[2^30, 2^31)` (or 0) and
//! shifts in `[-31, 30]`; the run-time loader also recomputes every
//! multiplier from the scales and refuses a file where they disagree.

#[cfg(feature = "std")]
use std::path::Path;
#[cfg(feature = "std")]
use std::vec::Vec;

use super::bytes::CRC;
#[cfg(feature = "std")]
use super::{PersistError, atomic};
#[cfg(feature = "std")]
use crate::bounded::read_full;
use crate::quant::net::{Buffer, QNet, Quantizable};
use crate::quant::program::{ADD_WORDS, DOOR_WORDS, Op, Program, VALUE_WORDS};

/// First four bytes of every int8 parameter file.
pub const MAGIC: [u8; 4] = *b"CNQ8";
/// The format version this build reads and writes.
pub const VERSION: u32 = 1;
/// Bytes before the weights.
pub const HEADER_LEN: usize = 40;
/// The quantization scheme: int8 activations with a zero point per
/// tensor, symmetric int8 weights per output channel, int32 biases, Q31
/// multipliers with TensorFlow Lite's double rounding.
pub const SCHEME: u32 = 1;
const CHECKSUM_AT: usize = 36;

/// What is wrong with an int8 parameter file, as [`check`] finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Shorter than the header.
    ShortHeader,
    /// The first four bytes are not [`MAGIC`].
    BadMagic,
    /// Another format version.
    Version,
    /// Written for another architecture.
    Signature,
    /// The same architecture, quantized into another program.
    Program,
    /// Another quantization scheme.
    Scheme,
    /// Other numbers of weights or words than the program's.
    Sizes,
    /// Shorter or longer than header and contents.
    Length,
    /// The checksum does not match the contents.
    Checksum,
    /// A scale is not finite and positive.
    Scale,
    /// A zero point is outside the int8 range.
    ZeroPoint,
    /// A multiplier or shift is outside what TFLite's arithmetic takes.
    Multiplier,
    /// A multiplier is not the one the scales give.
    Mismatch,
}

impl Fault {
    /// A fixed description, for the `const` decoder's panic and the errors.
    pub const fn message(&self) -> &'static str {
        match self {
            Fault::ShortHeader => "int8 parameter file is shorter than its 40-byte header",
            Fault::BadMagic => "not a constnet int8 parameter file: the magic bytes are not `CNQ8`",
            Fault::Version => {
                "unsupported int8 parameter file version (this crate reads version 1)"
            }
            Fault::Signature => {
                "int8 parameter file was written for a different network architecture"
            }
            Fault::Program => {
                "int8 parameter file was quantized into a different int8 program (other \
                 activation clamps, pools or layout) for this architecture"
            }
            Fault::Scheme => "int8 parameter file uses another quantization scheme",
            Fault::Sizes => {
                "int8 parameter file holds other numbers of weights or words than the network"
            }
            Fault::Length => {
                "int8 parameter file length does not match its header (truncated or trailing bytes)"
            }
            Fault::Checksum => {
                "int8 parameter file is corrupt: its checksum does not match its contents"
            }
            Fault::Scale => "int8 parameter file holds a scale that is not finite and positive",
            Fault::ZeroPoint => "int8 parameter file holds a zero point outside -128..=127",
            Fault::Multiplier => "int8 parameter file holds a multiplier or shift out of range",
            Fault::Mismatch => {
                "int8 parameter file holds multipliers that do not follow from its scales"
            }
        }
    }
}

const fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

const fn u64_at(b: &[u8], at: usize) -> u64 {
    u32_at(b, at) as u64 | (u32_at(b, at + 4) as u64) << 32
}

/// The checksum of a file's contents: CRC-32 of bytes 0..36, then 40..
pub const fn checksum(file: &[u8]) -> u32 {
    let mut digest = CRC.digest();
    let (head, _) = file.split_at(CHECKSUM_AT);
    digest.update(head);
    digest.update(file.split_at(HEADER_LEN).1);
    digest.finalize()
}

/// The bytes of a file for network `N`.
pub const fn file_len<N: Quantizable>() -> usize {
    HEADER_LEN + N::PROGRAM.weights + 4 * N::PROGRAM.words
}

/// Checks a file against network `N`: header fields in the order of the
/// table, length, checksum, then the values.
///
/// # Errors
/// The first [`Fault`] found.
pub const fn check<N: Quantizable>(bytes: &[u8]) -> Result<(), Fault> {
    if let Err(fault) = check_header::<N>(bytes) {
        return Err(fault);
    }
    if bytes.len() != file_len::<N>() {
        return Err(Fault::Length);
    }
    if u32_at(bytes, CHECKSUM_AT) != checksum(bytes) {
        return Err(Fault::Checksum);
    }
    check_values(&N::PROGRAM, bytes, HEADER_LEN + N::PROGRAM.weights)
}

/// Checks the header fields of a file for `N` (its first [`HEADER_LEN`]
/// bytes), up to the sizes; not the length nor the checksum.
///
/// # Errors
/// The first [`Fault`] found.
pub const fn check_header<N: Quantizable>(bytes: &[u8]) -> Result<(), Fault> {
    let p = &N::PROGRAM;
    if bytes.len() < HEADER_LEN {
        return Err(Fault::ShortHeader);
    }
    if bytes[0] != MAGIC[0] || bytes[1] != MAGIC[1] || bytes[2] != MAGIC[2] || bytes[3] != MAGIC[3]
    {
        return Err(Fault::BadMagic);
    }
    if u32_at(bytes, 4) != VERSION {
        return Err(Fault::Version);
    }
    if u64_at(bytes, 8) != N::SIGNATURE {
        return Err(Fault::Signature);
    }
    if u64_at(bytes, 16) != p.fingerprint() {
        return Err(Fault::Program);
    }
    if u32_at(bytes, 24) != SCHEME {
        return Err(Fault::Scheme);
    }
    if u32_at(bytes, 28) as usize != p.weights || u32_at(bytes, 32) as usize != p.words {
        return Err(Fault::Sizes);
    }
    Ok(())
}

/// Word `k` of the words starting at byte `at`.
const fn word(bytes: &[u8], at: usize, k: usize) -> i32 {
    u32_at(bytes, at + 4 * k) as i32
}

/// Whether `bits` is a finite positive `f32`.
const fn positive(bits: i32) -> bool {
    let v = f32::from_bits(bits as u32);
    v.is_finite() && v > 0.0
}

/// Whether a multiplier and shift are what `quantize_multiplier` can give.
const fn multiplier_ok(m: i32, shift: i32) -> bool {
    (m == 0 || m >= 1 << 30) && shift >= -31 && shift <= 30
}

/// Checks every scale, zero point, door, multiplier and shift of the words
/// starting at byte `at`.
const fn check_values(p: &Program, bytes: &[u8], at: usize) -> Result<(), Fault> {
    let mut v = 0;
    while v < p.values {
        if !positive(word(bytes, at, v * VALUE_WORDS)) {
            return Err(Fault::Scale);
        }
        let zp = word(bytes, at, v * VALUE_WORDS + 1);
        if zp < -128 || zp > 127 {
            return Err(Fault::ZeroPoint);
        }
        v += 1;
    }
    let door = if p.door.is_empty() {
        0
    } else {
        p.channels * DOOR_WORDS
    };
    let mut c = 0;
    while c < door {
        let d = f32::from_bits(word(bytes, at, p.door_words() + c) as u32);
        if !d.is_finite() {
            return Err(Fault::Scale);
        }
        c += 1;
    }
    let mut s = 0;
    while s < p.steps.len() {
        let step = &p.steps[s];
        let (first, n) = match &step.op {
            Op::Conv {
                geometry, layer, ..
            } => (layer.words, geometry.f),
            Op::Affine { outputs, layer, .. } => (layer.words, *outputs),
            Op::Add { words, .. } => {
                let mut k = *words;
                while k < *words + ADD_WORDS {
                    if !multiplier_ok(word(bytes, at, k), word(bytes, at, k + 1)) {
                        return Err(Fault::Multiplier);
                    }
                    k += 2;
                }
                s += 1;
                continue;
            }
            Op::MaxPool(_) | Op::AvgPool(_) | Op::Clamp => {
                s += 1;
                continue;
            }
        };
        let mut c = 0;
        while c < n {
            if !positive(word(bytes, at, first + n + c)) {
                return Err(Fault::Scale);
            }
            if !multiplier_ok(
                word(bytes, at, first + 2 * n + c),
                word(bytes, at, first + 3 * n + c),
            ) {
                return Err(Fault::Multiplier);
            }
            c += 1;
        }
        s += 1;
    }
    Ok(())
}

/// Decodes a file for `N` at compile time: `static NET: QNet<Net> =
/// QNet::from_le_bytes(include_bytes!("net.q8"))` fails the build, with
/// the fault's message, for a file of another architecture, program or
/// scheme, or a corrupt one.
///
/// # Panics
/// On any [`Fault`] (a compile error in a `const` or `static`).
#[expect(
    unsafe_code,
    reason = "filling the generic arrays in const code; see SAFETY"
)]
pub const fn decode<N: Quantizable>(bytes: &[u8]) -> QNet<N> {
    if let Err(fault) = check::<N>(bytes) {
        panic!("{}", fault.message());
    }
    let p = &N::PROGRAM;
    assert!(N::Weights::LEN == p.weights && N::Words::LEN == p.words);
    let mut weights = N::Weights::ZERO;
    let mut words = N::Words::ZERO;
    let w = (&raw mut weights).cast::<i8>();
    let k = (&raw mut words).cast::<i32>();
    let mut i = 0;
    while i < p.weights {
        // SAFETY: `Buffer` is sealed and implemented only for `[i8; N]`
        // and `[i32; N]`, whose length `network!` set to the program's
        // (`Buffer::LEN`, asserted here), so `i` is inside the array.
        unsafe { *w.add(i) = bytes[HEADER_LEN + i] as i8 };
        i += 1;
    }
    let mut j = 0;
    while j < p.words {
        // SAFETY: as above, `j < Words::LEN`.
        unsafe { *k.add(j) = word(bytes, HEADER_LEN + p.weights, j) };
        j += 1;
    }
    QNet::from_parts(weights, words)
}

/// Encodes a quantized network in the int8 format.
#[cfg(feature = "std")]
pub fn to_bytes<N: Quantizable>(net: &QNet<N>) -> Vec<u8> {
    let p = &N::PROGRAM;
    let mut out = Vec::with_capacity(file_len::<N>());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&N::SIGNATURE.to_le_bytes());
    out.extend_from_slice(&p.fingerprint().to_le_bytes());
    out.extend_from_slice(&SCHEME.to_le_bytes());
    out.extend_from_slice(&(p.weights as u32).to_le_bytes());
    out.extend_from_slice(&(p.words as u32).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend(net.weights().as_ref().iter().map(|&w| w as u8));
    for w in net.words().as_ref() {
        out.extend_from_slice(&w.to_le_bytes());
    }
    let sum = checksum(&out);
    out[CHECKSUM_AT..HEADER_LEN].copy_from_slice(&sum.to_le_bytes());
    out
}

/// Decodes a file for `N` at run time: [`check`], then every multiplier
/// recomputed from the scales must be the stored one.
///
/// # Errors
/// [`PersistError::Int8`] with the first [`Fault`].
#[cfg(feature = "std")]
pub fn from_bytes<N: Quantizable>(bytes: &[u8]) -> Result<QNet<N>, PersistError> {
    check::<N>(bytes).map_err(|fault| PersistError::Int8 { fault })?;
    let net = decode::<N>(bytes);
    if !crate::quant::calibrate::multipliers_follow::<N>(&net) {
        return Err(PersistError::Int8 {
            fault: Fault::Mismatch,
        });
    }
    Ok(net)
}

/// Saves a quantized network to `path`, atomically.
///
/// # Errors
/// [`PersistError::Io`] naming `path`; the previous file is intact.
#[cfg(feature = "std")]
pub fn save<N: Quantizable>(net: &QNet<N>, path: impl AsRef<Path>) -> Result<(), PersistError> {
    atomic::write(path.as_ref(), &to_bytes(net))
}

/// Loads a quantized network from `path`, reading at most the size `N`
/// implies.
///
/// # Errors
/// [`PersistError::Io`] or [`PersistError::NotAFile`] naming `path`, or an
/// error of [`from_bytes`] in [`PersistError::InFile`].
#[cfg(feature = "std")]
pub fn load<N: Quantizable>(path: impl AsRef<Path>) -> Result<QNet<N>, PersistError> {
    let path = path.as_ref();
    let (mut file, len) = super::open(path)?;
    let expected = file_len::<N>();
    let fault = |fault| PersistError::Int8 { fault };
    let read = |file: &mut std::fs::File, buf: &mut [u8]| {
        read_full(file, buf).map_err(|source| PersistError::Io {
            action: "read",
            path: path.to_path_buf(),
            source,
        })
    };
    let mut bytes = std::vec![0; HEADER_LEN.min(len as usize)];
    let result = read(&mut file, &mut bytes)
        .and_then(|_| check_header::<N>(&bytes).map_err(fault))
        .and_then(|()| {
            if len != expected as u64 {
                return Err(fault(Fault::Length));
            }
            bytes.resize(expected, 0);
            match read(&mut file, &mut bytes[HEADER_LEN..])? {
                n if n == expected - HEADER_LEN => from_bytes(&bytes),
                _ => Err(fault(Fault::Length)),
            }
        });
    result.map_err(|e| e.in_file(path))
}
