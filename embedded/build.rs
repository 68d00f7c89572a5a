//! Build script of the firmware.
//!
//! - Gives each binary its memory map: `infer`, `train_xor` and the int8
//!   demos link against `memory/mcu.x` (a small microcontroller), `ds_cnn` and `resnet8`
//!   against `memory/mcu-256k.x` (a larger one), `simple_conv_net` against
//!   `memory/mps2-4m.x`. Each map is copied to its own directory as
//!   `memory.x`, because cortex-m-rt's `link.x` does `INCLUDE memory.x`, and
//!   that directory is passed to the linker of that binary only.
//! - Turns the committed test images (`assets/test_images.u8`, 100 × 784
//!   pixel bytes) into little-endian f32 inputs, the raw pixel values as the
//!   host's MNIST loader gives them with `Scaling::Raw` (the networks
//!   standardize inside), so the firmware reads its inputs from flash
//!   instead of converting them into RAM.

use std::env;
use std::fs;
use std::path::PathBuf;

/// Binaries and the memory map each one links with.
const MAPS: [(&str, &str); 7] = [
    ("infer", "memory/mcu.x"),
    ("infer_int8", "memory/mcu.x"),
    ("ds_cnn_int8", "memory/mcu.x"),
    ("train_xor", "memory/mcu.x"),
    ("ds_cnn", "memory/mcu-256k.x"),
    ("resnet8", "memory/mcu-256k.x"),
    ("simple_conv_net", "memory/mps2-4m.x"),
];

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    for (bin, map) in MAPS {
        let dir = out.join("memory").join(bin);
        fs::create_dir_all(&dir).expect("create memory map directory");
        fs::copy(map, dir.join("memory.x")).expect("copy memory map");
        println!("cargo:rustc-link-arg-bin={bin}=-L{}", dir.display());
        println!("cargo:rerun-if-changed={map}");
    }

    let images = fs::read("assets/test_images.u8").expect(
        "assets/test_images.u8 is missing: regenerate the assets with \
         `cargo run --release --example embedded_assets -- train` at the repository root",
    );
    let floats: Vec<u8> = images
        .iter()
        .flat_map(|&b| f32::from(b).to_le_bytes())
        .collect();
    fs::write(out.join("test_images.f32"), floats).expect("write f32 test images");
    println!("cargo:rerun-if-changed=assets/test_images.u8");
}
