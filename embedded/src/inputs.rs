//! `f32` data in flash: little-endian files (test inputs, the host's
//! expected outputs) decoded at compile time, so an inference reads its
//! input in place and needs no RAM beyond the network's arena.

/// The `N` little-endian `f32` values in `bytes`, for a `static`:
/// `static XS: [f32; 8 * Net::INPUT_LEN] = f32s(include_bytes!("xs.f32"));`,
/// viewed as inputs with `Tensor::batch_of`.
///
/// # Panics
/// If `bytes` does not hold exactly `N` values; in a `static`, that is a
/// compile error.
pub const fn f32s<const N: usize>(bytes: &[u8]) -> [f32; N] {
    assert!(
        bytes.len() == 4 * N,
        "an f32 asset has the wrong length: regenerate it with `embedded_assets`"
    );
    let mut values = [0.0; N];
    let mut i = 0;
    while i < N {
        let at = 4 * i;
        values[i] = f32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
        i += 1;
    }
    values
}
