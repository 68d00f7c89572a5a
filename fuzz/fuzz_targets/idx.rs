//! Fuzzes the IDX reader: arbitrary bytes read raw, behind the gzip magic
//! bytes (the decoder on garbage), and gzip-compressed (the parser behind a
//! valid gzip stream). Parsed files also go through the MNIST conversions.
//! Any panic, or an allocation beyond libFuzzer's limit, is a bug.
#![no_main]

use std::io::Write;

use constnet_runtime::data::mnist::{Scaling, images_from_idx, labels_from_idx};
use constnet_runtime::data::{Idx, read_idx};
use flate2::Compression;
use flate2::write::GzEncoder;
use libfuzzer_sys::fuzz_target;

fn check(parsed: Result<Idx, constnet_runtime::data::DataError>) {
    if let Ok(idx) = parsed {
        assert_eq!(
            idx.count().checked_mul(idx.item_len()),
            Some(idx.data().len())
        );
        let _ = images_from_idx::<[f32; 4]>(&idx, Scaling::Unit);
        let _ = images_from_idx::<[[[f64; 2]; 2]; 1]>(&idx, Scaling::MNIST);
        let _ = labels_from_idx(&idx, 10);
    }
}

fuzz_target!(|data: &[u8]| {
    check(read_idx(data));

    let mut behind_magic = Vec::with_capacity(data.len() + 2);
    behind_magic.extend_from_slice(&[0x1f, 0x8b]);
    behind_magic.extend_from_slice(data);
    check(read_idx(&behind_magic[..]));

    // Compressing a stream that is not itself gzip must not change the outcome.
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    if !data.starts_with(&[0x1f, 0x8b]) && gz.write_all(data).is_ok() {
        if let Ok(compressed) = gz.finish() {
            let direct = read_idx(data);
            let via_gzip = read_idx(&compressed[..]);
            assert_eq!(direct.is_ok(), via_gzip.is_ok());
            if let (Ok(a), Ok(b)) = (direct, via_gzip) {
                assert_eq!(a, b);
            }
        }
    }
});
