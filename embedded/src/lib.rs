//! Shared code of the constnet firmware demos (Cortex-M4F, QEMU mps2-an386).
//!
//! - [`nets`]: the networks, declared once for firmware and host;
//! - [`report`]: the output lines, identical on both sides;
//! - [`mnist`]: the 100 test images and labels, in flash;
//! - [`inputs`]: the decoder of test inputs and expected outputs in flash;
//! - [`probe`]: semihosting output, stack painting and SysTick timing;
//! - [`classify`]: the loop of the inference demos.
//!
//! No allocator exists in any binary: constnet is built without default
//! features (no `std`, no `alloc`), and nothing here declares a
//! `#[global_allocator]`, so any use of `alloc` would fail to link.
#![no_std]

pub mod classify;
pub mod inputs;
pub mod mnist;
pub mod nets;
pub mod probe;
pub mod report;
