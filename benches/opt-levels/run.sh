#!/usr/bin/env bash
# Builds SimpleConvNet and the MLP at each optimization level a user's
# profile may set (`Cargo.toml` here: o1, o2, o3, os, oz), runs each binary
# in turn and prints one table of batch-1 latency and training throughput,
# with each level's ratio to opt-level 3. All figures come from one run of
# this script on one machine: compare within the table, not across runs.
#
#   benches/opt-levels/run.sh            # about a minute in all
#   benches/opt-levels/run.sh --smoke    # CI: every level builds and runs 10 calls
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TERM_COLOR=never
levels=(o1 o2 o3 os oz)
passes=15
mode=(--once)
if [[ ${1:-} == --smoke ]]; then
    passes=1 mode=(--smoke)
fi

for level in "${levels[@]}"; do
    cargo build --quiet --profile "$level"
done
# Passes over every level in turn, each timing one round of each workload,
# and the median over the passes: a slow spell of a shared machine then
# touches every level alike instead of whichever ran during it.
declare -A value
for ((pass = 0; pass < passes; pass++)); do
    for level in "${levels[@]}"; do
        while IFS=$'\t' read -r name v; do
            value[$level,$name]+="$v "
        done < <(target/"$level"/constnet-opt-levels "${mode[@]}")
    done
done
for key in "${!value[@]}"; do
    value[$key]=$(tr ' ' '\n' <<<"${value[$key]}" | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
done

names=(cnn_predict_us mlp_predict_us cnn_train_samples_per_s mlp_train_samples_per_s)
printf '%-26s' workload
for level in "${levels[@]}"; do printf '%12s' "$level"; done
printf '\n'
for name in "${names[@]}"; do
    printf '%-26s' "$name"
    for level in "${levels[@]}"; do printf '%12.1f' "${value[$level,$name]}"; done
    printf '\n%-26s' "  × opt-level 3's time"
    for level in "${levels[@]}"; do
        # Time ratio: latency over o3's, or o3's throughput over this one's.
        awk -v n="$name" -v a="${value[$level,$name]}" -v b="${value[o3,$name]}" \
            'BEGIN { printf "%12.2f", (n ~ /_us$/) ? a / b : b / a }'
    done
    printf '\n'
done
if [[ ${mode[0]} == --smoke ]]; then
    echo "(smoke: 10 calls per workload; the figures are not measurements)"
else
    echo "(median of $passes interleaved passes, one 300 ms round per workload each)"
fi
