#!/usr/bin/env python3
"""Writes the PyTorch fixtures that `tests/integration/pytorch.rs` checks.

Written with torch 2.15.0 (the PyPI wheel, run on the CPU), safetensors 0.8.0
and Python 3.11; seed 20240801. CI has no torch and never runs this script:
the files it writes are committed, and the test reads them.

Usage (from the repository root; installing torch takes about 3 minutes):

    python3 -m venv /tmp/peers-venv
    /tmp/peers-venv/bin/pip install torch==2.15.0 numpy safetensors
    /tmp/peers-venv/bin/python scripts/pytorch_fixtures.py

It refuses to run under another torch version (pass `--any-torch` to
override, then update the version named here and in the files).

For each of MLPerf Tiny's DS-CNN, ResNet-8 and MobileNetV1, built as
`examples/mlperf_tiny/models.rs` declares them, it writes to
`tests/fixtures/pytorch/`:

- `<model>.safetensors`: the state dict, keyed by constnet's tensor names
  (`conv1.weight`, `batchnorm1.running_var`, `affine1.bias`, ...) without
  `num_batches_tracked`, in float32;
- `<model>.io.safetensors`: `inputs` [N, *input shape], and PyTorch's
  `logits` (the input of the final softmax) and `probabilities` [N, classes],
  float32, computed in eval mode.

Both files' metadata record the torch version, the seed and this script.
Rerunning the script reproduces every value; only the order of the metadata
keys in the file header may change (safetensors writes them from a hash map).
The AutoEncoder is left out: its weights alone are 1.07 MB and it has no
convolution, so it adds nothing to the check of padding, rounding,
depthwise convolution or residual blocks.

How the modules mirror `network!`:

- parameters are numbered per kind in declaration order, a residual block's
  main path before its shortcut; `conv` and `dwconv` share the `conv` prefix;
- `pad = same` is Keras' rule: output `ceil(in / stride)`, total padding
  `max((out - 1) * stride + k - in, 0)` with the odd one at the bottom or
  right, applied with `F.pad` when the sides differ;
- `round = floor` is PyTorch's own rounding, so those convolutions are plain
  `nn.Conv2d(padding=p)`; `dwconv` is `groups = channels`;
- batch norm has eps 1e-5 and runs in eval mode (running statistics);
  `dropout` is the identity at inference; `global_avgpool` is the mean over
  height and width; `affine` is `nn.Linear` on the [C] vector;
- `residual(main, shortcut = s)` is `main(x) + s(x)` (identity without `s`);
  the `relu` after it in the declaration is a layer of its own.

The parameters are random but realistic: convolution and linear weights and
biases keep PyTorch's default (uniform, nonzero) initialization; batch-norm
scale is drawn from U(0.5, 1.5) and shift from U(0, 1); the running
statistics are then taken from one training-mode pass over 64 random inputs
(`momentum=None`, so they are exactly that batch's statistics), which keeps
every activation of order 1 through MobileNet's 27 convolutions. Inputs are
standard normal.

The shift leans positive so that the random network is not chaotic: with a
shift from U(-0.5, 0.5), float32 rounding alone grows through MobileNetV1's
layers until PyTorch's own float32 logits differ from float64 by 7e-6, which
would leave no room under the test's 1e-5; with U(0, 1) it is 1.2e-6, and
more than a quarter of the units before each ReLU are still negative.
"""
import argparse
import math
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import nn

TORCH_VERSION = "2.15.0"
SEED = 20240801
SCRIPT = "scripts/pytorch_fixtures.py"
OUT_DIR = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "pytorch"
CALIBRATION_BATCH = 64


def same_padding(size, kernel, stride):
    """Keras' `same`: (before, after) padding of one axis."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class Net(nn.Module):
    """A chain of layers whose modules are named as constnet names them."""

    def __init__(self, input_shape):
        super().__init__()
        self.input_shape = tuple(input_shape)
        self.counts = {}
        self.steps = []

    def register(self, kind, module):
        n = self.counts.get(kind, 0) + 1
        self.counts[kind] = n
        self.add_module(f"{kind}{n}", module)
        return module

    def forward(self, x):
        """The logits: everything before the final softmax."""
        for step in self.steps:
            x = step(x)
        return x


class Chain:
    """Builds a `network!` chain into `net`, tracking the shape of one sample."""

    def __init__(self, net, shape, steps):
        self.net = net
        self.shape = tuple(shape)
        self.steps = steps

    def conv(self, out, kernel, stride=1, pad=0, groups=1, bias=True):
        c, h, w = self.shape
        kh, kw = kernel if isinstance(kernel, tuple) else (kernel, kernel)
        if pad == "same":
            (top, bottom), (left, right) = same_padding(h, kh, stride), same_padding(w, kw, stride)
        else:
            top = bottom = left = right = pad
        symmetric = top == bottom and left == right
        conv = self.net.register(
            "conv",
            nn.Conv2d(c, out, (kh, kw), stride, padding=(top, left) if symmetric else 0,
                      groups=groups, bias=bias),
        )
        if symmetric:
            self.steps.append(conv)
        else:
            self.steps.append(lambda x: conv(F.pad(x, (left, right, top, bottom))))
        oh = (h + top + bottom - kh) // stride + 1
        ow = (w + left + right - kw) // stride + 1
        self.shape = (out, oh, ow)
        return self

    def dwconv(self, kernel, stride=1, pad=0, bias=True):
        return self.conv(self.shape[0], kernel, stride, pad, groups=self.shape[0], bias=bias)

    def batchnorm(self):
        # momentum=None: the running statistics become the calibration
        # batch's (see the module docs).
        make = nn.BatchNorm2d if len(self.shape) == 3 else nn.BatchNorm1d
        bn = self.net.register("batchnorm", make(self.shape[0], eps=1e-5, momentum=None))
        with torch.no_grad():
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(0.0, 1.0)
        self.steps.append(bn)
        return self

    def relu(self):
        self.steps.append(F.relu)
        return self

    def dropout(self, _rate):
        return self  # the identity at inference

    def global_avgpool(self):
        self.steps.append(lambda x: x.mean(dim=(2, 3)))
        self.shape = (self.shape[0],)
        return self

    def affine(self, out):
        (features,) = self.shape
        self.steps.append(self.net.register("affine", nn.Linear(features, out)))
        self.shape = (out,)
        return self

    def residual(self, main, shortcut=None):
        """`residual(main, shortcut = ...)`: the main path is numbered first."""
        main_steps, short_steps = [], []
        main_chain = main(Chain(self.net, self.shape, main_steps))
        short_shape = self.shape
        if shortcut is not None:
            short_shape = shortcut(Chain(self.net, self.shape, short_steps)).shape
        assert main_chain.shape == short_shape, (main_chain.shape, short_shape)

        def run(steps, x):
            for step in steps:
                x = step(x)
            return x

        self.steps.append(lambda x: run(main_steps, x) + run(short_steps, x))
        self.shape = main_chain.shape
        return self


def chain(input_shape):
    net = Net(input_shape)
    return net, Chain(net, input_shape, net.steps)


def ds_cnn():
    net, c = chain((1, 49, 10))
    c.conv(64, (10, 4), stride=2, pad="same").batchnorm().relu().dropout(0.2)
    for _ in range(4):
        c.dwconv(3, pad="same").batchnorm().relu().conv(64, 1).batchnorm().relu()
    c.dropout(0.4).global_avgpool().affine(12)
    assert c.shape == (12,)
    return net


def resnet8():
    net, c = chain((3, 32, 32))
    c.conv(16, 3, pad=1).batchnorm().relu()
    c.residual(lambda m: m.conv(16, 3, pad=1).batchnorm().relu().conv(16, 3, pad=1).batchnorm())
    c.relu()
    for filters in (32, 64):
        c.residual(
            lambda m, f=filters: m.conv(f, 3, stride=2, pad=1).batchnorm().relu()
            .conv(f, 3, pad=1).batchnorm(),
            shortcut=lambda s, f=filters: s.conv(f, 1, stride=2),
        )
        c.relu()
    c.global_avgpool().affine(10)
    assert c.shape == (10,)
    return net


def mobilenet_v1():
    net, c = chain((3, 96, 96))
    c.conv(8, 3, stride=2, pad=1, bias=False).batchnorm().relu()
    blocks = [(16, 1), (32, 2), (32, 1), (64, 2), (64, 1), (128, 2)] + [(128, 1)] * 5 \
        + [(256, 2), (256, 1)]
    for out, stride in blocks:
        c.dwconv(3, stride=stride, pad=1, bias=False).batchnorm().relu()
        c.conv(out, 1, bias=False).batchnorm().relu()
    c.global_avgpool().affine(2)
    assert c.shape == (2,)
    return net


# (file stem, constnet name, builder, samples stored)
MODELS = [
    ("ds_cnn", "DsCnn", ds_cnn, 8),
    ("resnet8", "ResNet8", resnet8, 8),
    # Each 96×96 input is 108 KB, so fewer samples keep the fixture small.
    ("mobilenet_v1", "MobileNetV1", mobilenet_v1, 4),
]


def metadata(model):
    return {
        "format": "pt",
        "model": model,
        "torch": torch.__version__,
        "seed": str(SEED),
        "script": SCRIPT,
    }


def write(stem, model, build, samples):
    torch.manual_seed(SEED)
    net = build()
    with torch.no_grad():
        net.train()
        net(torch.randn(CALIBRATION_BATCH, *net.input_shape))
        net.eval()
        inputs = torch.randn(samples, *net.input_shape)
        logits = net(inputs)
        probabilities = torch.softmax(logits, dim=1)
        # PyTorch's own float32 rounding, for the record: the same
        # parameters and inputs in float64.
        reference = net.double()(inputs.double())
        net.float()
    state = {
        k: v.detach().contiguous()
        for k, v in net.state_dict().items()
        if not k.endswith(".num_batches_tracked")
    }
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    save_file(state, OUT_DIR / f"{stem}.safetensors", metadata(model))
    io = {"inputs": inputs, "logits": logits, "probabilities": probabilities}
    save_file({k: v.contiguous() for k, v in io.items()}, OUT_DIR / f"{stem}.io.safetensors",
              metadata(model))
    params = sum(v.numel() for v in state.values())
    drift = (logits.double() - reference).abs().max().item()
    print(f"{model}: {len(state)} tensors, {params} values; logits in "
          f"[{logits.min().item():.3f}, {logits.max().item():.3f}]; "
          f"float32 vs float64 in torch: {drift:.2e}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--any-torch", action="store_true",
                        help=f"run under a torch other than {TORCH_VERSION}")
    args = parser.parse_args()
    if torch.__version__.split("+")[0] != TORCH_VERSION and not args.any_torch:
        sys.exit(f"expected torch {TORCH_VERSION}, found {torch.__version__}; "
                 "pass --any-torch to write fixtures with it anyway")
    # One thread: the same sums in the same order on every run.
    torch.set_num_threads(1)
    for stem, model, build, samples in MODELS:
        write(stem, model, build, samples)


if __name__ == "__main__":
    main()
