#!/usr/bin/env bash
# Footprint of the inference firmware: flash and RAM (arm-none-eabi-size -A),
# the stack high-water mark (stack painting, printed by the firmware) and
# the guest instructions per inference (QEMU -icount + SysTick). Checks the
# acceptance bounds and that no allocator symbol is linked.
#
#   embedded/footprint.sh            # build, measure, print the table, check
#   FOOTPRINT_NO_BUILD=1 embedded/footprint.sh   # use the existing ELF files
#
# Definitions:
# - flash = .vector_table + .text + .rodata + .data; the test data (the
#   statics IMAGES and LABELS of the MNIST demos, INPUTS and EXPECTED of the
#   MLPerf Tiny ones) are not part of a deployment, so the bound applies to
#   "flash - test set" <= weights + code allowance: 24 KiB for the MNIST
#   demos (issue 5's bound), 40 KiB for DS-CNN and ResNet-8, whose 15 and
#   11 layers of five kinds each get their own code specialized to their
#   shapes (about 33 KiB each today). 24 KiB for the int8 demos (issue
#   11's bound), against their int8 parameters (weights, biases,
#   multipliers, scales): their interpreter links only the kernel variants
#   its program calls (`infer_int8` about 19.5 KiB, `ds_cnn_int8` about
#   23.8 KiB today).
# - RAM = .data + .bss + .uninit + stack high-water <= arena + 2 KiB.
# - instructions = SysTick ticks x 40: with `-icount shift=0` one instruction
#   is 1 ns of virtual time and SysTick runs at 25 MHz. Counts, not cycles.
#   The mean over the inputs; QEMU's output files also have the min and max.
# - MACs: multiply-accumulates per inference, computed exactly from the
#   layer geometry by the firmware (`classify::macs`); instr/MAC is their ratio.
# - by level: the demo CNN (`infer`) again, built at opt-level "s" and "z".
# Exit status 1 if a bound is violated or an allocator symbol is present.
set -euo pipefail
cd "$(dirname "$0")"
source ./firmware-env.sh

target=thumbv7em-none-eabihf
out=target/footprint
mkdir -p "$out"

if [[ ! -f assets/simple_conv_net.cnet ]]; then
    (cd .. && cargo run --quiet --release --example embedded_assets -- simple)
fi
if [[ ! -f assets/ds_cnn.expected.f32 || ! -f assets/resnet8.expected.f32 ]]; then
    (cd .. && cargo run --quiet --release --example embedded_assets -- mlperf)
fi
# The demo CNN is also built at the size levels firmware projects use
# (`release-s`, `release-z` in Cargo.toml), for the table by level below.
levels=(release release-s release-z)
if [[ -z "${FOOTPRINT_NO_BUILD:-}" ]]; then
    cargo build --quiet --release --bins
    for profile in "${levels[@]:1}"; do
        cargo build --quiet --profile "$profile" --bin infer
    done
fi

qemu() {
    timeout 300 qemu-system-arm -machine mps2-an386 -nographic \
        -semihosting-config enable=on,target=native \
        -icount shift=0,align=off,sleep=off -kernel "$1"
}

# Size of ELF section $2 of file $1 (0 if absent).
section() { arm-none-eabi-size -A "$1" | awk -v s="$2" '$1 == s { print $2; f = 1 } END { if (!f) print 0 }'; }
# Total size of the symbols of file $1 whose mangled names match $2.
symbols() {
    local total=0 hex
    for hex in $(arm-none-eabi-nm -S "$1" | awk -v s="$2" '$4 ~ s { print $2 }'); do
        total=$((total + 16#$hex))
    done
    echo "$total"
}
# The test data: mangled `…5mnist6IMAGES17h…`, `…7resnet86INPUTS17h…`.
testset_re='(mnist6IMAGES|mnist6LABELS|6INPUTS|8EXPECTED)17h'
# Code allowance of each inference demo, in KiB (see the definitions above).
declare -A code_kib=([infer]=24 [infer_int8]=24 [simple_conv_net]=24 [ds_cnn]=40 [ds_cnn_int8]=24 [resnet8]=40)
# Instructions per inference of each demo, for the int8-vs-f32 lines.
declare -A instructions=() code_bytes=()
# Value of the `# name value` line $2 in file $1.
measure() { awk -v n="$2" '$1 == "#" && $2 == n { print $3 }' "$1"; }

status=0
fail() { echo "FAIL: $*" >&2; status=1; }

alloc_re='__rust_alloc|__rust_dealloc|__rust_realloc|__rust_alloc_zeroed|__rdl_alloc|__rdl_dealloc|__rg_alloc|__rust_alloc_error_handler|__rust_no_alloc_shim'

row() { printf '%-16s %9s %9s %9s %9s %9s | %6s %7s %7s %7s %7s | %10s %10s %9s\n' "$@"; }
row binary flash test-set net-flash weights budget static stack RAM arena budget \
    instr MACs instr/MAC
for bin in infer infer_int8 ds_cnn ds_cnn_int8 resnet8 simple_conv_net train_xor; do
    elf=target/$target/release/$bin
    [[ -f $elf ]] || { fail "$elf is missing"; continue; }
    if arm-none-eabi-nm "$elf" | grep -Eq "$alloc_re"; then
        fail "$bin links an allocator symbol: $(arm-none-eabi-nm "$elf" | grep -E "$alloc_re" | head -3)"
    fi
    vt=$(section "$elf" .vector_table); text=$(section "$elf" .text)
    rodata=$(section "$elf" .rodata); data=$(section "$elf" .data)
    bss=$(section "$elf" .bss); uninit=$(section "$elf" .uninit)
    flash=$((vt + text + rodata + data))
    static=$((data + bss + uninit))
    if [[ $bin == train_xor ]]; then
        # Training demo: sizes only (its static workspace is in .bss).
        row "$bin" "$flash" - - - - "$static" - - - - - - -
        continue
    fi
    qemu "$elf" >"$out/$bin.txt" 2>"$out/$bin.stderr" || fail "$bin exited with status $? under QEMU"
    testset=$(symbols "$elf" "$testset_re")
    stack=$(measure "$out/$bin.txt" stack_high_water_bytes)
    arena=$(measure "$out/$bin.txt" arena_bytes)
    weights=$(measure "$out/$bin.txt" param_bytes)
    per_tick=$(measure "$out/$bin.txt" instructions_per_tick)
    macs=$(measure "$out/$bin.txt" macs)
    if [[ -z $stack || -z $arena || -z $weights || -z $per_tick || -z $macs ]]; then
        fail "$bin printed no measurements (see $out/$bin.txt)"
        continue
    fi
    net_flash=$((flash - testset))
    ram=$((static + stack))
    flash_budget=$((weights + code_kib[$bin] * 1024))
    ram_budget=$((arena + 2 * 1024))
    instr=$(($(measure "$out/$bin.txt" ticks_mean) * per_tick))
    instructions[$bin]=$instr
    code_bytes[$bin]=$((net_flash - weights))
    row "$bin" "$flash" "$testset" "$net_flash" "$weights" "$flash_budget" \
        "$static" "$stack" "$ram" "$arena" "$ram_budget" \
        "$instr" "$macs" "$(awk -v i="$instr" -v m="$macs" 'BEGIN { printf "%.2f", i / m }')"
    ((net_flash <= flash_budget)) || fail "$bin: flash without the test set $net_flash > weights + ${code_kib[$bin]} KiB = $flash_budget"
    ((ram <= ram_budget)) || fail "$bin: RAM $ram > arena + 2 KiB = $ram_budget"
done
echo "(bytes; instructions per inference from QEMU -icount, mean over the inputs; QEMU outputs in embedded/$out/)"

# int8 against f32 for the same network: the ratio of instructions per
# inference (the target is 2 or more), reported, not checked.
echo
for pair in infer:infer_int8 ds_cnn:ds_cnn_int8; do
    f=${pair%%:*} q=${pair##*:}
    [[ -n ${instructions[$f]:-} && -n ${instructions[$q]:-} ]] || continue
    printf 'int8 vs f32, %-8s %12s vs %12s instructions: f32 / int8 = %s; int8 code %s B (target 24 KiB)\n' "$f" \
        "${instructions[$q]}" "${instructions[$f]}" \
        "$(awk -v a="${instructions[$f]}" -v b="${instructions[$q]}" 'BEGIN { printf "%.2f", a / b }')" \
        "${code_bytes[$q]}"
done

# The demo CNN by optimization level: flash without the test set,
# instructions per inference and per MAC, each level's ratio to `release`
# (opt-level 3). Fails if a level's outputs differ from opt-level 3's by a
# bit or its flash is larger; the ratio is reported, not checked.
echo
printf '%-10s %10s %12s %9s %10s  %s\n' profile net-flash instr instr/MAC "× level 3" outputs
base_ipm=""
for profile in "${levels[@]}"; do
    elf=target/$target/$profile/infer
    [[ -f $elf ]] || { fail "$elf is missing"; continue; }
    txt=$out/infer.$profile.txt
    if [[ $profile == release ]]; then
        cp "$out/infer.txt" "$txt"
    else
        qemu "$elf" >"$txt" 2>"$out/infer.$profile.stderr" || fail "infer ($profile) exited with status $? under QEMU"
    fi
    vt=$(section "$elf" .vector_table); text=$(section "$elf" .text)
    rodata=$(section "$elf" .rodata); data=$(section "$elf" .data)
    net_flash=$((vt + text + rodata + data - $(symbols "$elf" "$testset_re")))
    instr=$(($(measure "$txt" ticks_mean) * $(measure "$txt" instructions_per_tick)))
    ipm=$(awk -v i="$instr" -v m="$(measure "$txt" macs)" 'BEGIN { printf "%.2f", i / m }')
    if [[ $profile == release ]]; then
        base_ipm=$ipm base_flash=$net_flash same="(reference)"
    elif cmp -s <(grep -v '^#' "$out/infer.txt") <(grep -v '^#' "$txt"); then
        same="bit-identical to level 3"
    else
        same="DIFFERENT"
        fail "infer ($profile): outputs differ from the opt-level 3 build's"
    fi
    ((net_flash <= base_flash)) || fail "infer ($profile): flash $net_flash > $base_flash at opt-level 3"
    printf '%-10s %10s %12s %9s %10s  %s\n' "$profile" "$net_flash" "$instr" "$ipm" \
        "$(awk -v a="$ipm" -v b="$base_ipm" 'BEGIN { printf "%.2f", a / b }')" "$same"
done
exit $status
