#!/usr/bin/env bash
# constnet vs its peers: examples/bench_peers.rs, PyTorch and the Rust peers of /work/shared/peers,
# interleaved per pass and thread count (constnet, PyTorch, each peer) so load from other users of
# the machine hits all alike; collects JSON lines, then prints scripts/peers_table.py's table.
# Usage:  scripts/bench_peers.sh            (about 5 min per pass and thread count at the defaults)
#         PASSES=3 THREADS="1 2" VARIANTS="generic native" scripts/bench_peers.sh
# Needs:  the venv and peer builds of /work/shared/peers/README.md (build_all.sh); missing ones
#         are skipped with a notice and show "–". Env: PASSES (1), THREADS ("1 2"), VARIANTS
#         ("generic"), WORKLOAD (all|cnn|mlp|mlperf:
#         ResNet-8 and DS-CNN, against PyTorch alone; PyTorch runs all of a script), PEERS_TRAIN_SECS (3),
#         PEERS_LAT_SECS (1), PEERS_REPEATS (3), PEERS_PY, PEERS_TARGET, PEERS_DIR, OUT
#         (target/bench-peers/results.jsonl; truncated unless APPEND=1; stderr logs beside it).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PASSES=${PASSES:-1}
read -r -a THREADS <<< "${THREADS:-1 2}"
read -r -a VARIANTS <<< "${VARIANTS:-generic}"
WORKLOAD=${WORKLOAD:-all}
PEERS_DIR=${PEERS_DIR:-/work/shared/peers}
PEERS_PY=${PEERS_PY:-/tmp/peers-venv/bin/python}
PEERS_TARGET=${PEERS_TARGET:-/tmp/peers-target}
OUT=${OUT:-$ROOT/target/bench-peers/results.jsonl}
export PEERS_TRAIN_SECS=${PEERS_TRAIN_SECS:-3} PEERS_LAT_SECS=${PEERS_LAT_SECS:-1}
export PEERS_REPEATS=${PEERS_REPEATS:-3}
LOGS=$(dirname "$OUT")/logs
mkdir -p "$LOGS"
[ "${APPEND:-0}" = 1 ] || : > "$OUT"

# Build ours once, up front, so no compile runs while anything is being timed. Cargo reports
# the binary's path, which follows CARGO_TARGET_DIR and the like.
echo "building examples/bench_peers (release)..." >&2
OURS=$(cd "$ROOT" && cargo build --release --example bench_peers --message-format=json \
    2> "$LOGS/build.log" | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "bench_peers":
        print(m["executable"])')
[ -x "$OURS" ] || { echo "building bench_peers failed: see $LOGS/build.log" >&2; exit 1; }
OUR_VARIANT=generic
[[ "${RUSTFLAGS:-}" == *target-cpu=native* ]] && OUR_VARIANT=native

# Every result line gets the pass and the build variant, as run_bench.sh adds the variant.
tag() { sed -u "s/^{/{\"pass\": $1, \"variant\": \"$2\", /" >> "$OUT"; }
# The load average before each run, as the peers' run_bench.sh records it.
stamp() {
  printf '{"run": "%s", "threads": "%s", "pass": %s, "date": "%s", "load": "%s"}\n' \
    "$1" "$2" "$3" "$(date -u +%FT%TZ)" "$(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT"
}
# What else ran meanwhile: the machine's busy CPU time (steal included: the hypervisor's other
# guests) less the CPU time of our child. On 2 shared cores one stray process ruins a 2-thread
# run (OpenMP barriers wait a whole time slice for a descheduled thread), so the table flags
# runs that shared the machine. TICKS: /proc/stat counts in clock ticks.
TICKS=$(getconf CLK_TCK)
busy_secs() { awk -v hz="$TICKS" '/^cpu /{ printf "%.2f", ($2+$3+$4+$7+$8+$9) / hz }' /proc/stat; }
TIMES=$(mktemp)
trap 'rm -f "$TIMES"' EXIT
# Reaped children's user + system seconds, from the `times` builtin. `times` must run in this
# shell, not in a $(...) subshell, which would report its own, empty, child list; so the caller
# runs `times > "$TIMES"` and this reads the file.
child_secs() {
  awk 'NR == 2 { n = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); n += a[1] * 60 + a[2] }
                 printf "%.2f", n }' "$TIMES"
}
# name pass threads variant command... : runs one program, keeps its JSON lines, logs failures,
# then records its wall and CPU time and the cores other processes used meanwhile.
run() {
  local name=$1 pass=$2 t=$3 variant=$4; shift 4
  local log=$LOGS/$name-$variant-t$t-p$pass.log
  echo "pass $pass, $t thread(s): $name ($variant)" >&2
  stamp "$name-$variant" "$t" "$pass"
  local busy0 cpu0 wall0 busy1 cpu1 wall1 rc
  times > "$TIMES"
  busy0=$(busy_secs) cpu0=$(child_secs) wall0=$(date +%s.%N)
  "$@" 2> "$log" | tag "$pass" "$variant"
  rc=${PIPESTATUS[0]}
  times > "$TIMES"
  busy1=$(busy_secs) cpu1=$(child_secs) wall1=$(date +%s.%N)
  [ "$rc" = 0 ] || echo "  $name exited $rc: see $log" >&2
  awk -v b="$name" -v v="$variant" -v t="$t" -v p="$pass" -v rc="$rc" -v w0="$wall0" -v w1="$wall1" \
      -v c0="$cpu0" -v c1="$cpu1" -v b0="$busy0" -v b1="$busy1" 'BEGIN {
        w = w1 - w0; c = c1 - c0; others = (b1 - b0 - c) / (w > 0 ? w : 1)
        if (others < 0) others = 0
        printf "{\"bench\": \"%s\", \"variant\": \"%s\", \"threads\": \"%s\", \"pass\": %s, ", b, v, t, p
        printf "\"exit\": %s, \"wall_s\": %.2f, \"cpu_s\": %.2f, \"others_cores\": %.2f}\n", rc, w, c, others
      }' >> "$OUT"
}

for pass in $(seq 1 "$PASSES"); do
  for t in "${THREADS[@]}"; do
    # The peers' README: rayon for candle/dfdx/burn, matrixmultiply's own pool for burn's
    # ndarray backend, OpenMP for PyTorch; PEERS_THREADS labels the lines and sets ours.
    export RAYON_NUM_THREADS=$t MATMUL_NUM_THREADS=$t PEERS_THREADS=$t OMP_NUM_THREADS=$t
    run constnet "$pass" "$t" "$OUR_VARIANT" "$OURS" "$WORKLOAD"
    if [ -x "$PEERS_PY" ]; then
      # bench_torch.py takes its durations as flags, not from the environment.
      if [ "$WORKLOAD" != mlperf ]; then
        run pytorch "$pass" "$t" wheel "$PEERS_PY" "$PEERS_DIR/torch/bench_torch.py" --threads "$t" \
          --train-secs "$PEERS_TRAIN_SECS" --lat-secs "$PEERS_LAT_SECS" --repeats "$PEERS_REPEATS"
      fi
      if [ "$WORKLOAD" = all ] || [ "$WORKLOAD" = mlperf ]; then
        run pytorch "$pass" "$t" wheel "$PEERS_PY" "$ROOT/scripts/bench_torch_mlperf.py" \
          --threads "$t" --train-secs "$PEERS_TRAIN_SECS" --lat-secs "$PEERS_LAT_SECS" \
          --repeats "$PEERS_REPEATS"
      fi
    else
      echo "  no PyTorch: $PEERS_PY missing" >&2
    fi
    for v in "${VARIANTS[@]}"; do
      # The Rust peers have no MLPerf networks.
      [ "$WORKLOAD" = mlperf ] && continue
      for b in candle:peers-candle dfdx:peers-dfdx burn-ndarray:peers-burn burn-flex:peers-burn; do
        name=${b%%:*} bin=$PEERS_TARGET/${b%%:*}-$v/release/${b##*:}
        if [ -x "$bin" ]; then
          run "$name" "$pass" "$t" "$v" "$bin" "$WORKLOAD"
        else
          echo "  no $name ($v): $bin missing" >&2
        fi
      done
    done
  done
done

python3 "$ROOT/scripts/peers_table.py" "$OUT"
