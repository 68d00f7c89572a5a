#!/usr/bin/env python3
"""PyTorch's side of the MLPerf Tiny rows of scripts/bench_peers.sh.

ResNet-8 (T3, L3) and DS-CNN (T4, L4), built by scripts/pytorch_fixtures.py
exactly as `examples/mlperf_tiny/models.rs` declares them, timed with the
protocol of /work/shared/peers/torch/bench_torch.py: training is whole SGD
steps (lr 0.01, cross-entropy, train mode: batch statistics and dropout) on
a fixed random batch of 32; latency is batch-1 forward in eval mode under
`inference_mode`. Prints the same JSON lines as bench_torch.py.

Measured with torch 2.15.0 (the CPU wheel of PyPI).

Usage: python bench_torch_mlperf.py --threads N [--train-secs 3] [--lat-secs 1] [--repeats 3]
"""
import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, required=True)
ap.add_argument("--train-secs", type=float, default=3.0)
ap.add_argument("--lat-secs", type=float, default=1.0)
ap.add_argument("--repeats", type=int, default=3)
args = ap.parse_args()

# Must be set before torch initialises its OpenMP pool.
os.environ["OMP_NUM_THREADS"] = str(args.threads)
os.environ["MKL_NUM_THREADS"] = str(args.threads)

import torch  # noqa: E402
from torch import nn  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pytorch_fixtures import ds_cnn, resnet8  # noqa: E402

torch.set_num_threads(args.threads)
try:
    torch.set_num_interop_threads(1)
except RuntimeError:
    pass
torch.manual_seed(0)

BATCH = 32


def emit(**kw):
    kw.update(peer="pytorch", version=torch.__version__, threads=args.threads)
    print(json.dumps(kw), flush=True)


def bench_train(name, build):
    model = build().train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    lossf = nn.CrossEntropyLoss()
    x = torch.randn(BATCH, *model.input_shape)
    y = torch.randint(0, 10, (BATCH,))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = lossf(model(x), y)
        loss.backward()
        opt.step()
        return loss

    first = step().item()
    t0 = time.perf_counter()
    n = 0
    while n < 5 or time.perf_counter() - t0 < 1.0:
        step()
        n += 1
    reps = []
    for _ in range(args.repeats):
        steps = 0
        t0 = time.perf_counter()
        while True:
            loss = step()
            steps += 1
            el = time.perf_counter() - t0
            if el >= args.train_secs:
                break
        reps.append(steps * BATCH / el)
    emit(workload=name, metric="train_samples_per_s", values=reps,
         min=min(reps), median=statistics.median(reps), max=max(reps),
         loss_first=first, loss_last=loss.item())


def bench_latency(name, build):
    model = build().eval()
    x = torch.randn(1, *model.input_shape)
    with torch.inference_mode():
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < 0.5:
            model(x)
        meds, ncalls = [], []
        for _ in range(args.repeats):
            ts = []
            tstart = time.perf_counter()
            while len(ts) < 200 or time.perf_counter() - tstart < args.lat_secs:
                a = time.perf_counter_ns()
                model(x)
                ts.append(time.perf_counter_ns() - a)
            meds.append(statistics.median(ts) / 1000.0)
            ncalls.append(len(ts))
    emit(workload=name, metric="latency_us_b1", values=meds,
         min=min(meds), median=statistics.median(meds), max=max(meds), calls=ncalls)


for name, build in (("resnet8", resnet8), ("ds-cnn", ds_cnn)):
    bench_train(name, build)
    bench_latency(name, build)
