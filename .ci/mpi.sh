#!/usr/bin/env bash
# The MPI checks of issue 12, under a real `mpirun`; `.ci/run` calls it.
# Run from anywhere: `bash .ci/mpi.sh` (`--smoke`: synthetic digits, not
# MNIST).
#
# 1. Installs Open MPI and libclang (rsmpi's bindings) when missing.
# 2. Training SimpleConvNet for 400 steps with `mpirun -np 2` (and
#    `-np 4 --oversubscribe`), one thread per rank, writes the same bytes
#    as one process with 2 (4) threads and the same seed.
# 3. A search of 6 trials over 2 ranks prints the table one process does.
# 4. SIGKILL of rank 1 mid-run: mpirun names the rank, rank 0 says why it
#    ends, the job exits non-zero within 10 s, the checkpoint survives, and
#    resuming with 2 ranks ends with the uninterrupted run's weights.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
step() { printf '\n== mpi: %s (%d s)\n' "$*" $((SECONDS - start)); }
fail() { echo "FAIL: $*" >&2; exit 1; }
data=()
[[ ${1:-} == --smoke ]] && data=(--smoke)

step "tools"
if ! command -v mpirun >/dev/null || ! command -v mpicc >/dev/null || ! ls /usr/lib/llvm-*/lib/libclang*.so* >/dev/null 2>&1; then
    sudo=$([[ $(id -u) -eq 0 ]] || echo sudo)
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        openmpi-bin libopenmpi-dev libclang-dev >/dev/null
fi
mpirun --version | head -1
# CI runs as root, which Open MPI refuses unless told.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

step "build"
cargo build --quiet --release --features mpi --example mpi_train
bin=$PWD/target/release/examples/mpi_train
out=target/mpi
rm -rf "$out" && mkdir -p "$out"
# One machine: shared memory between ranks (the TCP transport's interface
# probing costs seconds per start).
job() { mpirun --oversubscribe --mca btl self,vader -np "$1" "$bin" --mpi "${@:2}"; }
run=(--steps 400 --batch 32 --seed 3 "${data[@]}")

step "data-parallel training: bit-identical to one process"
for np in 2 4; do
    "$bin" "${run[@]}" --threads "$np" --save "$out/alone$np.cnet" >"$out/alone$np.log" 2>&1 ||
        fail "one process, $np threads: see $out/alone$np.log"
    job "$np" "${run[@]}" --threads 1 --save "$out/job$np.cnet" >"$out/job$np.log" 2>&1 ||
        fail "mpirun -np $np: see $out/job$np.log"
    cmp "$out/alone$np.cnet" "$out/job$np.cnet" ||
        fail "mpirun -np $np and one process with $np threads wrote different weights"
    echo "ok: -np $np = 1 process x $np threads ($(grep -h 'samples/s over' "$out/job$np.log"))"
done

step "distributed search: the same ranking"
"$bin" --search 6 --smoke --threads 1 >"$out/search-alone.txt" 2>/dev/null
job 2 --search 6 --smoke --threads 1 >"$out/search-job.txt" 2>/dev/null
diff -u "$out/search-alone.txt" "$out/search-job.txt" || fail "the search over 2 ranks ranked differently"
echo "ok: $(grep -c . "$out/search-job.txt") lines identical"

step "a rank killed mid-run, then resumed"
ckpt=$out/run.ckpt
job 2 "${run[@]}" --threads 1 --checkpoint "$ckpt" --every 10 >"$out/killed.log" 2>&1 &
launcher=$!
for _ in $(seq 600); do [[ -f $ckpt ]] && break; sleep 0.05; done
[[ -f $ckpt ]] || fail "no checkpoint after 30 s (see $out/killed.log)"
victim=
for pid in $(pgrep -f "$bin --mpi"); do
    if tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx OMPI_COMM_WORLD_RANK=1; then victim=$pid; fi
done
[[ -n $victim ]] || fail "rank 1 had already ended (see $out/killed.log)"
killed_at=$SECONDS
kill -9 "$victim"
status=0
wait "$launcher" || status=$?
took=$((SECONDS - killed_at))
((status != 0)) || fail "the job exited 0 after rank 1 was killed"
((took <= 10)) || fail "the job took $took s to end after rank 1 was killed"
grep -q "rank 1" "$out/killed.log" || fail "the job's output does not name rank 1 (see $out/killed.log)"
grep -q "constnet: rank 0 of 2: the launcher ended the job" "$out/killed.log" ||
    fail "rank 0 did not say why it ended (see $out/killed.log)"
echo "ok: exit status $status ${took} s after the kill: $(grep -m1 'rank 1' "$out/killed.log" | sed 's/^ *//')"
echo "ok: $(grep -m1 'constnet: rank 0' "$out/killed.log")"
job 2 "${run[@]}" --threads 1 --checkpoint "$ckpt" --every 10 --resume --save "$out/resumed.cnet" \
    >"$out/resumed.log" 2>&1 || fail "resuming failed: see $out/resumed.log"
cmp "$out/resumed.cnet" "$out/alone2.cnet" || fail "the resumed job's weights differ from the uninterrupted run's"
echo "ok: resumed to the uninterrupted weights"
step "done"
