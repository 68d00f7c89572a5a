# Sourced by the scripts that build and measure the firmware
# (`.ci/embedded.sh`, `embedded/footprint.sh`).
#
# A panic location holds its source file's path, and the runtime, a path
# dependency outside this workspace, is compiled with absolute ones: each
# byte of the checkout's directory would cost about ten bytes of flash and
# move the footprint bounds with the place of the clone. The paths are
# remapped to `constnet/…`, as a reproducible release build does. Cargo
# adds these flags to the targets' own (`.cargo/config.toml`).
firmware_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_THUMBV7EM_NONE_EABIHF_RUSTFLAGS="--remap-path-prefix=$firmware_root=constnet"
export CARGO_TARGET_THUMBV7M_NONE_EABI_RUSTFLAGS="--remap-path-prefix=$firmware_root=constnet"
