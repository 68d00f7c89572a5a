//! The parameter file format, and its decoding in a `const` context so a
//! network's parameters can live in a `static` in flash.
//!
//! A file is a 28-byte header followed by the flat parameter array,
//! little-endian, in tensor order (the order of `Network::TENSORS`):
//!
//! | bytes | field |
//! |---|---|
//! | 0..4 | magic `b"CNET"` |
//! | 4..8 | format version, u32 (1) |
//! | 8..16 | architecture signature, u64 (`Network::SIGNATURE`) |
//! | 16..20 | element size in bytes, u32 (4 for `f32`, 8 for `f64`) |
//! | 20..28 | element count, u64 (`Network::STORE_LEN`) |
//!
//! The host writes it with `persist::save_bytes`; firmware embeds it with
//! `include_bytes!` and `Net::from_le_bytes`, which runs [`decode_f32`] at
//! compile time, so a file for another architecture fails the build.

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
/// static PARAMS: [f32; 2] = constnet_runtime::flash::decode_f32::<2>(&FILE, 42);
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

#[cfg(test)]
mod tests {
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
