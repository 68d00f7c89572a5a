//! The first 100 MNIST test images and their labels, in flash.
//!
//! The committed asset holds pixel bytes; the build script turns them into
//! `f32` with the host loader's formula, and [`IMAGES`] decodes those at
//! compile time. Keeping the inputs as `f32` in flash means an inference
//! reads its input in place and needs no RAM beyond the network's arena.

use crate::inputs::f32s;
use crate::nets::{Image, TEST_IMAGES};

/// The `f32` inputs, little-endian, as the build script wrote them.
const IMAGE_BYTES: &[u8; TEST_IMAGES * 784 * 4] =
    include_bytes!(concat!(env!("OUT_DIR"), "/test_images.f32"));

/// The test images: raw pixel values, as the host loads them.
pub static IMAGES: [Image; TEST_IMAGES] = decode(IMAGE_BYTES);

/// The true digit of each test image.
pub static LABELS: [u8; TEST_IMAGES] = *include_bytes!("../assets/test_labels.u8");

const fn decode(bytes: &[u8; TEST_IMAGES * 784 * 4]) -> [Image; TEST_IMAGES] {
    let values: [f32; TEST_IMAGES * 784] = f32s(bytes);
    let mut images = [[[[0.0; 28]; 28]; 1]; TEST_IMAGES];
    let mut i = 0;
    while i < TEST_IMAGES * 784 {
        images[i / 784][0][i % 784 / 28][i % 28] = values[i];
        i += 1;
    }
    images
}
