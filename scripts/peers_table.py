#!/usr/bin/env python3
"""Markdown tables from the JSON lines of scripts/bench_peers.sh (stdlib only).

Usage: scripts/peers_table.py [results.jsonl] [--strict]
       (default file: target/bench-peers/results.jsonl; --strict exits 1 if a target FAILs)

Each cell pools every repeat of every pass (median, min–max, n), as the peers'
make_results.py does. A peer built in several variants (generic, native) shows
its best variant per cell, as the peers' README summary does. Ratios are
"higher is better for constnet": throughput ours/theirs, latency theirs/ours.
The acceptance targets are those of issue "4. Fast" (T1, T2, L1, L2) and
of issue "8. The models people deploy" (T3, T4, L3, L4: MLPerf Tiny's
ResNet-8 and DS-CNN, against PyTorch only).

A cell is flagged ⚠ when, while its program ran, other processes used more
than NOISY_CORES of the machine (bench_peers.sh records this per run), or when
its repeats differ by more than NOISY_SPREAD×: on 2 shared cores either makes
the number unreliable, so rerun (more PASSES) before trusting it.
"""
import json
import os
import statistics
import sys

COLUMNS = [("constnet", "constnet"), ("pytorch", "PyTorch"), ("candle", "candle"),
           ("dfdx", "dfdx"), ("burn-ndarray", "burn-ndarray"), ("burn-flex", "burn-flex")]
TRAIN, LAT = "train_samples_per_s", "latency_us_b1"
ROWS = [("T1", "cnn", TRAIN, "CNN train, samples/s"), ("T2", "mlp", TRAIN, "MLP train, samples/s"),
        ("T3", "resnet8", TRAIN, "ResNet-8 train, samples/s"),
        ("T4", "ds-cnn", TRAIN, "DS-CNN train, samples/s"),
        ("L1", "cnn", LAT, "CNN batch-1, µs"), ("L2", "mlp", LAT, "MLP batch-1, µs"),
        ("L3", "resnet8", LAT, "ResNet-8 batch-1, µs"), ("L4", "ds-cnn", LAT, "DS-CNN batch-1, µs")]
NOISY_CORES = 0.25
NOISY_SPREAD = 1.5
# (row, threads or None for every thread count) -> (versus, minimum ratio, wording)
TARGETS = {
    ("T1", "2"): ("pytorch", 3.0, "≥ 3× PyTorch"),
    ("T1", "1"): ("pytorch", 2.0, "≥ 2× PyTorch"),
    ("T2", "2"): ("best", 1.2, "≥ 1.2× best peer"),
    ("L1", None): ("pytorch", 6.0, "≤ 1/6 of PyTorch's µs"),
    ("L2", None): ("candle", 2.0, "≤ ½ of candle's µs"),
    ("T3", None): ("pytorch", 2.0, "≥ 2× PyTorch"),
    ("T4", None): ("pytorch", 2.0, "≥ 2× PyTorch"),
    ("L3", None): ("pytorch", 3.0, "≤ 1/3 of PyTorch's µs"),
    ("L4", None): ("pytorch", 3.0, "≤ 1/3 of PyTorch's µs"),
}


def load(path):
    """Pools per-repeat values by (peer, variant, workload, metric, threads),
    and collects per (peer, variant, threads) the cores others used."""
    cells, others, loads, passes = {}, {}, [], set()
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue
            if "load" in r:
                loads.append(float(r["load"].split()[0]))
            if "others_cores" in r:
                key = (r["bench"], r["variant"], str(r["threads"]))
                others.setdefault(key, []).append(float(r["others_cores"]))
            if "metric" not in r or r.get("metric") not in (TRAIN, LAT):
                continue
            passes.add(r.get("pass", 0))
            # PyTorch prints threads as a number, the Rust programs as a string.
            key = (r["peer"], r.get("variant", "?"), r["workload"], r["metric"], str(r["threads"]))
            cells.setdefault(key, []).extend(float(v) for v in r["values"])
    return cells, others, loads, len(passes)


def summary(vals):
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals), "n": len(vals)}


def noisy(s, others, peer, threads):
    """Why a cell is unreliable, or None."""
    busy = max(others.get((peer, s["variant"], threads), [0.0]))
    if busy > NOISY_CORES:
        return f"others used {busy:.2f} cores"
    if s["min"] > 0 and s["max"] / s["min"] > NOISY_SPREAD:
        return f"repeats spread {s['max'] / s['min']:.1f}×"
    return None


def best(cells, others, peer, workload, metric, threads):
    """The best variant's pooled cell for a peer, or None."""
    found = [(var, summary(v)) for (p, var, w, m, t), v in cells.items()
             if (p, w, m, t) == (peer, workload, metric, threads)]
    if not found:
        return None
    pick = max if metric == TRAIN else min
    var, s = pick(found, key=lambda vs: vs[1]["median"])
    s = dict(s, variant=var)
    s["noisy"] = noisy(s, others, peer, threads)
    return s


def fmt(s, metric):
    if s is None:
        return "–"
    text = f"{s['median']:,.0f}" if metric == TRAIN else f"{s['median']:,.1f}"
    return text + (" ⚠" if s["noisy"] else "")


def ratio(ours, theirs, metric):
    """How many times better constnet is (> 1 is better)."""
    if ours is None or theirs is None or ours["median"] <= 0 or theirs["median"] <= 0:
        return None
    if metric == TRAIN:
        return ours["median"] / theirs["median"]
    return theirs["median"] / ours["median"]


def fx(r):
    return "–" if r is None else f"{r:.2f}×"


def main(argv):
    strict = "--strict" in argv
    args = [a for a in argv if a != "--strict"]
    path = args[0] if args else os.path.join("target", "bench-peers", "results.jsonl")
    cells, others, loads, npass = load(path)
    threads = sorted({k[4] for k in cells}, key=lambda t: (not t.isdigit(), int(t) if t.isdigit() else 0, t))
    peers = [p for p, _ in COLUMNS[1:]]
    variants = {p: {k[1] for k in cells if k[0] == p} for p, _ in COLUMNS}

    print(f"### constnet vs peers — median over {npass} pass(es) × repeats, best build variant per peer\n")
    if loads:
        print(f"Load average (1 min) at the runs' starts: {min(loads):.2f}–{max(loads):.2f} on "
              f"{os.cpu_count()} cores; differences under ~20 % are noise on a shared machine.\n")
    head = ["row", "threads"] + [name for _, name in COLUMNS] + \
        ["constnet / PyTorch", "constnet / best peer", "target"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    failed = False
    for row, workload, metric, label in ROWS:
        for t in threads:
            got = {p: best(cells, others, p, workload, metric, t) for p, _ in COLUMNS}
            if all(v is None for v in got.values()):
                continue
            ours = got["constnet"]
            vs_torch = ratio(ours, got["pytorch"], metric)
            measured = [(p, got[p]) for p in peers if got[p] is not None]
            top = None
            if measured:
                pick = max if metric == TRAIN else min
                top = pick(measured, key=lambda ps: ps[1]["median"])
            vs_best = ratio(ours, top[1], metric) if top else None
            best_txt = "–" if vs_best is None else f"{fx(vs_best)} ({top[0]})"
            target = TARGETS.get((row, t)) or TARGETS.get((row, None))
            target_txt = "–"
            if target:
                versus, need, words = target
                them = top[1] if versus == "best" and top else got.get(versus)
                r = ratio(ours, them, metric)
                if r is None:
                    target_txt = f"{words}: n/a"
                else:
                    ok = r >= need
                    failed |= not ok
                    shaky = " ⚠" if ours["noisy"] or them["noisy"] else ""
                    target_txt = f"{words}: {'PASS' if ok else 'FAIL'}{shaky} ({fx(r)}, need {need:g}×)"
            # Name the winning build only where a peer was measured in more than one.
            cols = [fmt(got[p], metric) + (f" ({got[p]['variant']})" if got[p] and len(variants[p]) > 1 else "")
                    for p, _ in COLUMNS]
            print("| " + " | ".join([f"{row} {label}", t] + cols + [fx(vs_torch), best_txt, target_txt]) + " |")

    print("\nRatios above 1 favour constnet: throughput is ours / theirs, latency theirs / ours. "
          "At 2 threads constnet's batch-1 predict splits each large layer across its team.")
    print(f"⚠: other processes used more than {NOISY_CORES} cores while the program ran, or its "
          f"repeats differ by more than {NOISY_SPREAD}×; rerun with more PASSES before trusting it "
          "(the raw table says which).")
    print("\n### Raw cells — median (min–max) of n repeats pooled over passes\n")
    print("| peer | variant | workload | metric | threads | median | min–max | n | others' cores | flag |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    order = {p: i for i, (p, _) in enumerate(COLUMNS)}
    for key in sorted(cells, key=lambda k: (order.get(k[0], 99), k[1], k[3], k[2], k[4])):
        peer, var, w, m, t = key
        s = dict(summary(cells[key]), variant=var)
        digits = 0 if m == TRAIN else 1
        busy = others.get((peer, var, t))
        busy_txt = "–" if busy is None else f"{max(busy):.2f}"
        print(f"| {peer} | {var} | {w} | {m} | {t} | {s['median']:,.{digits}f} | "
              f"{s['min']:,.{digits}f}–{s['max']:,.{digits}f} | {s['n']} | {busy_txt} | "
              f"{noisy(s, others, peer, t) or ''} |")
    return 1 if strict and failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
