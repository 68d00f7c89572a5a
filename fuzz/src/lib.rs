//! The one harness of every loader, shared by the fuzz targets
//! (`fuzz/fuzz_targets/*.rs`, one line each) and the runtime's test that
//! replays the committed corpus (`runtime/tests/integration/fuzz_corpus.rs`,
//! which includes this file with `#[path]`).
//!
//! Each function takes arbitrary bytes and asserts what must hold for any
//! input: no panic, no allocation beyond the loader's bound (libFuzzer's
//! `-rss_limit_mb` and `-malloc_limit_mb` catch those), a failed load leaves
//! the network unchanged, and what loads round-trips. [`seeds`] gives a valid
//! input per target, from which the committed corpus in `fuzz/seeds/` grew.

use std::io::Write;

use constnet::data::mnist::{Scaling, images_from_idx, labels_from_idx};
use constnet::data::{Column, CsvReader, DataError, Idx, IdxReader};
use constnet::persist::{self, HEADER_LEN, Header, PersistError, bytes};
use constnet::{Network, Scalar};
use flate2::Compression;
use flate2::write::GzEncoder;

constnet::network! {
    /// Three kinds of tensors in 55 elements: a convolution, a batch norm
    /// with running statistics, and an affine layer.
    pub struct Small: [1, 4, 4] => conv(2, 3) -> batchnorm -> relu -> affine(3), loss = mse
}

/// A harness function: checks one input, panics on a bug.
pub type Harness = fn(&[u8]);

/// The fuzz targets, each with its harness function.
pub const TARGETS: [(&str, Harness); 4] = [
    ("bytes", bytes),
    ("safetensors", safetensors),
    ("csv", csv),
    ("idx", idx),
];

/// constnet's byte format: [`persist::from_bytes`] and the `const` decoder
/// (through the generated `from_le_bytes`, run outside a `const` context)
/// must agree with [`bytes::check`], for `f32` and `f64` networks. The input
/// is also tried with a correct checksum, so that mutations reach the
/// checks behind it.
pub fn bytes(data: &[u8]) {
    bytes_as::<Small<f32>>(data);
    bytes_as::<Small<f64>>(data);
    if data.len() >= HEADER_LEN {
        let mut sealed = data.to_vec();
        let sum = bytes::checksum(&sealed);
        sealed[28..HEADER_LEN].copy_from_slice(&sum.to_le_bytes());
        bytes_as::<Small<f32>>(&sealed);
        bytes_as::<Small<f64>>(&sealed);
    }
}

fn bytes_as<N: Network + Zeroed>(data: &[u8]) {
    let mut net = N::zeroed_net();
    let verdict = bytes::check(data, &Header::of::<N>());
    match persist::from_bytes(&mut net, data) {
        Ok(()) => {
            assert_eq!(verdict, Ok(()));
            // The format is canonical: what loads is what a save writes.
            assert_eq!(persist::to_bytes(&net).unwrap(), data);
            if let Some(decoded) = N::decode_const(data) {
                let same = decoded.len() == net.params().len()
                    && decoded
                        .iter()
                        .zip(net.params())
                        .all(|(a, b)| f64::from(*a).to_bits() == b.to_f64().to_bits());
                assert!(same, "the const decoder and the loader disagree");
            }
        }
        Err(err) => {
            assert!(
                net.params().iter().all(|v| v.to_f64() == 0.0),
                "a failed load changed the network"
            );
            match verdict {
                // Only the values, which `check` does not look at, can fail.
                Ok(()) => assert!(matches!(err, PersistError::NonFinite { .. }), "{err}"),
                Err(fault) => assert!(!fault.message().is_empty()),
            }
            let _ = err.to_string();
        }
    }
}

/// Networks of both element types, zeroed, and the `const` decoder of the
/// `f32` one.
pub trait Zeroed {
    /// A network with every parameter zero.
    fn zeroed_net() -> Self;
    /// The parameters `from_le_bytes` decodes, if `data` passes [`bytes::check`].
    fn decode_const(data: &[u8]) -> Option<Vec<f32>>;
}

impl Zeroed for Small<f32> {
    fn zeroed_net() -> Self {
        Small::zeroed()
    }
    fn decode_const(data: &[u8]) -> Option<Vec<f32>> {
        bytes::check(data, &Header::of::<Self>()).ok()?;
        let net = Small::<f32, constnet::Inline>::from_le_bytes(data);
        Some(net.params().to_vec())
    }
}

impl Zeroed for Small<f64> {
    fn zeroed_net() -> Self {
        Small::zeroed()
    }
    fn decode_const(_: &[u8]) -> Option<Vec<f32>> {
        None
    }
}

/// safetensors: [`persist::from_safetensors`] for `f32` and `f64`; what
/// loads saves and loads again to the same values.
pub fn safetensors(data: &[u8]) {
    safetensors_as::<Small<f32>>(data);
    safetensors_as::<Small<f64>>(data);
}

fn safetensors_as<N: Network + Zeroed>(data: &[u8]) {
    let mut net = N::zeroed_net();
    match persist::from_safetensors(&mut net, data) {
        Ok(()) => {
            let again = persist::to_safetensors(&net).unwrap();
            let mut copy = N::zeroed_net();
            persist::from_safetensors(&mut copy, &again).unwrap();
            assert!(copy.params() == net.params());
        }
        Err(err) => {
            assert!(
                net.params().iter().all(|v| v.to_f64() == 0.0),
                "a failed load changed the network"
            );
            let _ = err.to_string();
        }
    }
}

/// CSV: classification and regression, with and without a header, under a
/// 64 KiB limit; every value read is finite.
pub fn csv(data: &[u8]) {
    let limit = 64 << 10;
    let plain = CsvReader::new().max_bytes(limit);
    if let Ok(set) = plain.read_classes::<f32, 2>(data) {
        assert!(set.inputs().iter().flatten().all(|v| v.is_finite()));
        assert!(data.len() as u64 <= limit);
    }
    let named = CsvReader::new()
        .max_bytes(limit)
        .has_header(true)
        .delimiter(b';')
        .target(Column::Name("y".into()));
    if let Ok(set) = named.read_targets::<f64, 1>(data) {
        assert!(set.inputs().iter().flatten().all(|v| v.is_finite()));
        assert!(set.targets().iter().flatten().all(|v| v.is_finite()));
    }
    match CsvReader::new()
        .target(Column::First)
        .max_bytes(16)
        .read_targets::<f32, 3>(data)
    {
        Err(DataError::TooLarge { limit: 16, .. }) => assert!(data.len() > 16),
        Err(err) => {
            let _ = err.to_string();
        }
        Ok(_) => assert!(data.len() <= 16),
    }
}

/// IDX: arbitrary bytes read raw, behind the gzip magic bytes (the decoder
/// on garbage), and gzip-compressed (the parser behind a valid gzip
/// stream), under a 1 MiB limit. Parsed files also go through the MNIST
/// conversions.
pub fn idx(data: &[u8]) {
    let reader = IdxReader::new().max_bytes(1 << 20);
    check_idx(reader.read(data));

    let mut behind_magic = Vec::with_capacity(data.len() + 2);
    behind_magic.extend_from_slice(&[0x1f, 0x8b]);
    behind_magic.extend_from_slice(data);
    check_idx(reader.read(&behind_magic[..]));

    // Compressing a stream that is not itself gzip must not change the outcome.
    if !data.starts_with(&[0x1f, 0x8b]) {
        let compressed = gzip(data);
        let direct = reader.read(data);
        let via_gzip = reader.read(&compressed[..]);
        assert_eq!(direct.is_ok(), via_gzip.is_ok());
        if let (Ok(a), Ok(b)) = (direct, via_gzip) {
            assert_eq!(a, b);
        }
    }
}

fn check_idx(parsed: Result<Idx, DataError>) {
    match parsed {
        Ok(idx) => {
            assert_eq!(
                idx.count().checked_mul(idx.item_len()),
                Some(idx.data().len())
            );
            assert!(idx.data().len() <= 1 << 20);
            let _ = images_from_idx::<[f32; 4]>(&idx, Scaling::Unit);
            let _ = images_from_idx::<[[[f64; 2]; 2]; 1]>(&idx, Scaling::MNIST);
            let _ = labels_from_idx(&idx, 10);
        }
        Err(err) => {
            let _ = err.to_string();
        }
    }
}

/// `data`, gzip-compressed.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

/// A valid input per target, named: the start of every corpus.
pub fn seeds() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let f32_net = Small::<f32>::seeded(1);
    let f64_net = Small::<f64>::seeded(2);
    let images = constnet::data::encode_idx(&[2, 2, 2], &[0, 1, 2, 3, 250, 251, 252, 253]).unwrap();
    let labels = constnet::data::encode_idx(&[3], &[7, 0, 9]).unwrap();
    vec![
        (
            "bytes",
            "small-f32.cnet",
            persist::to_bytes(&f32_net).unwrap(),
        ),
        (
            "bytes",
            "small-f64.cnet",
            persist::to_bytes(&f64_net).unwrap(),
        ),
        (
            "safetensors",
            "small-f32.safetensors",
            persist::to_safetensors(&f32_net).unwrap(),
        ),
        (
            "safetensors",
            "small-f64.safetensors",
            persist::to_safetensors(&f64_net).unwrap(),
        ),
        (
            "csv",
            "classes.csv",
            b"0.5,-1,1\n2e3, 4 ,0\n\n7,8,2\n".to_vec(),
        ),
        ("csv", "named.csv", b"a;y\n1.5;2\n-3;4e-2\n".to_vec()),
        ("idx", "images.idx", images.clone()),
        ("idx", "labels.idx", labels),
        ("idx", "images.idx.gz", gzip(&images)),
    ]
}
