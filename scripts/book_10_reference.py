#!/usr/bin/env python3
"""The classic batch-norm experiment in NumPy, as the from-scratch material
writes it, for comparison with `examples/book_10_batch_norm.rs`.

1,000 MNIST training images, five hidden ReLU layers of 100, SGD with
learning rate 0.01 on batches of 100 drawn with replacement, 200 iterations
(20 "epochs" of 10), training accuracy measured in inference mode (running
statistics, momentum 0.9, starting at zero) every 10 iterations; weights
N(0, w²), biases, β zero, γ one; batch norm's epsilon `10e-7` (pass
`--eps 1e-5` to see what our default would do).

Usage: `python3 scripts/book_10_reference.py [--eps E] [scale ...]` with
NumPy; MNIST from `MNIST_DIR` (default `../shared/data/mnist`). Without
scales it runs the example's 16, log-spaced from 1 to 1e-4. Prints the
final training accuracy with and without batch norm per scale.
"""
import argparse
import gzip
import os

import numpy as np

HIDDEN = 5
WIDTH = 100
LR = 0.01
BATCH = 100
ITERATIONS = 200
MOMENTUM = 0.9


def mnist(first):
    root = os.environ.get("MNIST_DIR", "../shared/data/mnist")

    def read(name, offset):
        with gzip.open(os.path.join(root, name)) as f:
            return np.frombuffer(f.read(), np.uint8, offset=offset)

    x = read("train-images-idx3-ubyte.gz", 16).reshape(-1, 784)[:first] / 255.0
    t = read("train-labels-idx1-ubyte.gz", 8)[:first]
    return x, t


def run(x, t, scale, batch_norm, eps, seed=0):
    rng = np.random.default_rng(seed)
    sizes = [784] + [WIDTH] * HIDDEN + [10]
    w = [scale * rng.standard_normal((a, b)) for a, b in zip(sizes, sizes[1:])]
    b = [np.zeros(n) for n in sizes[1:]]
    gamma = [np.ones(WIDTH) for _ in range(HIDDEN)]
    beta = [np.zeros(WIDTH) for _ in range(HIDDEN)]
    running_mean = [np.zeros(WIDTH) for _ in range(HIDDEN)]
    running_var = [np.zeros(WIDTH) for _ in range(HIDDEN)]
    one_hot = np.eye(10)[t]

    def forward(h, train):
        cache = []
        for i in range(HIDDEN):
            a = h @ w[i] + b[i]
            entry = {"h": h}
            if batch_norm:
                mean, var = (a.mean(0), a.var(0)) if train else (running_mean[i], running_var[i])
                if train:
                    running_mean[i] = MOMENTUM * running_mean[i] + (1 - MOMENTUM) * mean
                    running_var[i] = MOMENTUM * running_var[i] + (1 - MOMENTUM) * var
                std = np.sqrt(var + eps)
                centered = a - mean
                normed = centered / std
                a = gamma[i] * normed + beta[i]
                entry.update(centered=centered, std=std, normed=normed)
            entry["z"] = a
            cache.append(entry)
            h = np.maximum(a, 0)
        return h @ w[HIDDEN] + b[HIDDEN], cache, h

    accuracy = 0.0
    with np.errstate(all="ignore"):
        for it in range(ITERATIONS):
            if it % 10 == 0:
                accuracy = (forward(x, False)[0].argmax(1) == t).mean()
            pick = rng.choice(len(x), BATCH)
            logits, cache, last = forward(x[pick], True)
            p = np.exp(logits - logits.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            dy = (p - one_hot[pick]) / BATCH
            grads = [(last.T @ dy, dy.sum(0))]
            dh = dy @ w[HIDDEN].T
            for i in reversed(range(HIDDEN)):
                entry = cache[i]
                da = dh * (entry["z"] > 0)
                if batch_norm:
                    normed, centered, std = entry["normed"], entry["centered"], entry["std"]
                    dgamma, dbeta = (da * normed).sum(0), da.sum(0)
                    dnormed = gamma[i] * da
                    dcentered = dnormed / std
                    dvar = -0.5 * ((dnormed * centered) / std**3).sum(0)
                    dcentered += (2 / BATCH) * centered * dvar
                    da = dcentered - dcentered.mean(0)
                    gamma[i] -= LR * dgamma
                    beta[i] -= LR * dbeta
                grads.append((entry["h"].T @ da, da.sum(0)))
                dh = da @ w[i].T
            for i, (dw, db) in zip(reversed(range(HIDDEN + 1)), grads):
                w[i] -= LR * dw
                b[i] -= LR * db
    return accuracy


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eps", type=float, default=10e-7)
    parser.add_argument("scales", type=float, nargs="*",
                        default=[10 ** (-4 * i / 15) for i in range(16)])
    args = parser.parse_args()
    x, t = mnist(1000)
    print(f"{'weight std':>10} {'batch norm':>11} {'without':>8}")
    for scale in args.scales:
        normed = run(x, t, scale, True, args.eps)
        plain = run(x, t, scale, False, args.eps)
        print(f"{scale:>10.2e} {100 * normed:>10.1f}% {100 * plain:>7.1f}%", flush=True)


if __name__ == "__main__":
    main()
