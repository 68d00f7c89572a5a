//! Sets `cfg(constnet_dsp)` when the target has the Arm DSP extension
//! (Cortex-M4 and M7: `thumbv7em`), whose dual 16-bit multiply-accumulate
//! (`SMLAD`) the int8 kernels use. Stable Rust neither exposes those
//! instructions as intrinsics nor the extension as a `target_feature`
//! cfg, so the target's name decides.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(constnet_dsp)");
    println!("cargo::rerun-if-env-changed=TARGET");
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.starts_with("thumbv7em") {
        println!("cargo::rustc-cfg=constnet_dsp");
    }
}
