#!/usr/bin/env bash
# The embedded checks of issues 5 and 8 (MLPerf Tiny), standalone and
# idempotent; `.ci/run` calls it. Run from anywhere: `bash .ci/embedded.sh`.
#
# 1. Installs qemu-system-arm, binutils-arm-none-eabi and the thumb targets
#    when missing.
# 2. Builds the runtime and the facade without default features (no std, no
#    alloc) for thumbv6m-none-eabi (Cortex-M0) and thumbv7em-none-eabihf.
# 3. Checks the committed Digits weights reach >= 98% on MNIST's test set.
# 4. Builds the firmware, runs the inference demos in QEMU (mps2-an386,
#    Cortex-M4F) and diffs their outputs against the host's: bit-identical
#    or fail. DS-CNN and ResNet-8 (MLPerf Tiny, weights from the PyTorch
#    fixtures) also compare their logits with the host's themselves and
#    exit non-zero on any difference. The same for the int8 demos
#    (`infer_int8`, `ds_cnn_int8`: issue 11).
#    The same for `infer` built for a soft-float Cortex-M3 (mps2-an385).
# 5. Runs the on-device XOR training: loss down >= 10x and 4/4, or fail.
# 6. Prints the footprint table and fails if a bound is violated or an
#    allocator symbol is linked (embedded/footprint.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source embedded/firmware-env.sh
start=$SECONDS
step() { printf '\n== embedded: %s (%d s)\n' "$*" $((SECONDS - start)); }

step "tools"
if ! command -v qemu-system-arm >/dev/null || ! command -v arm-none-eabi-size >/dev/null; then
    sudo=$([[ $(id -u) -eq 0 ]] || echo sudo)
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        qemu-system-arm binutils-arm-none-eabi >/dev/null
fi
targets=(thumbv7em-none-eabihf thumbv6m-none-eabi thumbv7m-none-eabi)
installed=$(rustup target list --installed)
for t in "${targets[@]}"; do
    grep -qx "$t" <<<"$installed" || rustup target add "$t"
done
qemu-system-arm --version | head -1
arm-none-eabi-size --version | head -1

step "no_std, no alloc builds of constnet-runtime and constnet"
for t in thumbv6m-none-eabi thumbv7em-none-eabihf; do
    # -D warnings: a warning that only shows without std fails here.
    RUSTFLAGS="-D warnings" cargo build --quiet -p constnet-runtime --no-default-features --target "$t"
    RUSTFLAGS="-D warnings" cargo build --quiet -p constnet --no-default-features --target "$t"
    echo "ok: $t"
done

step "host: accuracy of the committed weights, host outputs"
if [[ -z "${MNIST_DIR:-}" ]]; then
    for d in data/mnist ../shared/data/mnist; do
        [[ -d $d ]] && export MNIST_DIR=$PWD/$d && break
    done
fi
host_out=embedded/target/host
mkdir -p "$host_out"
cargo build --quiet --release --example embedded_assets
tool=target/release/examples/embedded_assets
"$tool" check
"$tool" simple
"$tool" outputs digits >"$host_out/infer.txt"
"$tool" outputs simple >"$host_out/simple_conv_net.txt"
"$tool" mlperf
"$tool" outputs ds-cnn >"$host_out/ds_cnn.txt"
"$tool" outputs resnet8 >"$host_out/resnet8.txt"
"$tool" int8
"$tool" outputs digits-int8 >"$host_out/infer_int8.txt"
"$tool" outputs ds-cnn-int8 >"$host_out/ds_cnn_int8.txt"

step "firmware build"
(cd embedded && cargo build --quiet --release --bins && cargo build --quiet --profile release-s --bin infer && cargo build --quiet --profile release-z --bin infer)

step "inference in QEMU vs host"
qemu() {
    timeout 300 qemu-system-arm -machine mps2-an386 -nographic \
        -semihosting-config enable=on,target=native -kernel "embedded/target/thumbv7em-none-eabihf/release/$1"
}
for bin in infer infer_int8 simple_conv_net ds_cnn ds_cnn_int8 resnet8; do
    # The MLPerf Tiny demos exit non-zero when their own bit comparison fails.
    qemu "$bin" >"$host_out/$bin.qemu.txt" ||
        { echo "FAIL: $bin exited with status $? in QEMU (embedded/target/host/$bin.qemu.txt)" >&2; exit 1; }
    if ! grep -v '^#' "$host_out/$bin.qemu.txt" | diff -u "$host_out/$bin.txt" - >"$host_out/$bin.diff"; then
        echo "FAIL: $bin: QEMU and host outputs differ (embedded/target/host/$bin.diff):" >&2
        head -20 "$host_out/$bin.diff" >&2
        exit 1
    fi
    echo "ok: $bin: $(grep -cE '^(img|x) [0-9]' "$host_out/$bin.txt") outputs bit-identical; $(tail -1 "$host_out/$bin.txt")"
done

step "inference on a soft-float Cortex-M3 (mps2-an385) vs host"
(cd embedded && cargo build --quiet --release --bin infer --target thumbv7m-none-eabi)
timeout 300 qemu-system-arm -machine mps2-an385 -nographic -semihosting-config enable=on,target=native \
    -kernel embedded/target/thumbv7m-none-eabi/release/infer >"$host_out/infer.m3.txt"
grep -v '^#' "$host_out/infer.m3.txt" | diff -u "$host_out/infer.txt" - >"$host_out/infer.m3.diff" ||
    { echo "FAIL: Cortex-M3 and host outputs differ (embedded/target/host/infer.m3.diff)" >&2; exit 1; }
echo "ok: infer on Cortex-M3 (soft float): outputs bit-identical to the host"

step "on-device training in QEMU"
qemu train_xor | tee "$host_out/train_xor.txt" | grep -E '^(step|xor|accuracy|#)'
# The firmware exits non-zero itself when a bound fails; check the text too.
awk '$1 == "#" && $2 == "loss_first" { ok = ($3 >= 10 * $5) } END { exit !ok }' "$host_out/train_xor.txt" ||
    { echo "FAIL: XOR loss did not fall tenfold" >&2; exit 1; }
grep -qx 'accuracy 4/4' "$host_out/train_xor.txt" || { echo "FAIL: XOR accuracy below 4/4" >&2; exit 1; }

step "footprint"
FOOTPRINT_NO_BUILD=1 embedded/footprint.sh

step "done"
