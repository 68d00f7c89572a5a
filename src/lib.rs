//! Declare a network once; its shapes are checked when it compiles.
#![no_std]
#[cfg(feature = "std")]
extern crate std;

pub use constnet_macros::network;
pub use constnet_runtime::*;

/// Paths used by code that `network!` generates. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use ::core;
    pub use constnet_runtime as rt;
}

// Lets this crate's own unit tests and doctests write `::constnet::…` as users do.
extern crate self as constnet;
