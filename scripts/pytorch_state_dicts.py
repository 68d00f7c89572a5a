#!/usr/bin/env python3
"""Writes the PyTorch state dicts that `tests/integration/state_dicts.rs` loads
through a name map (`persist::load_mapped`).

Written with torch 2.15.0 (the PyPI wheel, run on the CPU), safetensors 0.8.0
and Python 3.11; seed 20240802. CI has no torch and never runs this script:
the files it writes are committed, and the test reads them.

Usage (from the repository root):

    python3 -m venv /tmp/peers-venv
    /tmp/peers-venv/bin/pip install torch==2.15.0 numpy safetensors
    /tmp/peers-venv/bin/python scripts/pytorch_state_dicts.py

It refuses to run under another torch version (pass `--any-torch` to
override, then update the version named here and in the files).

Unlike `pytorch_fixtures.py`, the state dicts keep PyTorch's own names, as a
user training in PyTorch would save them:

- `mlp_sequential.safetensors`: `nn.Sequential(Linear(20, 16),
  BatchNorm1d(16), ReLU(), Linear(16, 10))`, keys `0.weight`, `0.bias`,
  `1.weight`, ..., `1.num_batches_tracked`, `3.bias` (the batch counter
  kept, as `state_dict()` gives it); constnet's
  `[20] => affine(16) -> batchnorm -> relu -> affine(10) -> softmax`;
- `simple_conv_net_named.safetensors`: a module with attributes `conv`
  (`Conv2d(1, 30, 5)`), `fc1` (`Linear(4320, 100)`) and `fc2`
  (`Linear(100, 10)`), ReLU and `MaxPool2d(2)` between them: SimpleConvNet.

Each has a `<stem>.io.safetensors` with `inputs` [N, *input shape] and
PyTorch's softmax `probabilities` [N, 10] in eval mode. Batch norm's running
statistics come from one training-mode pass over 64 standard-normal inputs
(`momentum=None`), its scale from U(0.5, 1.5) and shift from U(0, 1); the
other parameters keep PyTorch's default initialization.
"""
import argparse
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import nn

TORCH_VERSION = "2.15.0"
SEED = 20240802
SCRIPT = "scripts/pytorch_state_dicts.py"
OUT_DIR = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "pytorch"


class SimpleConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 30, 5)
        self.fc1 = nn.Linear(30 * 12 * 12, 100)
        self.fc2 = nn.Linear(100, 10)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.conv(x)), 2)
        return self.fc2(torch.relu(self.fc1(x.flatten(1))))


def mlp():
    net = nn.Sequential(nn.Linear(20, 16), nn.BatchNorm1d(16, momentum=None), nn.ReLU(),
                        nn.Linear(16, 10))
    with torch.no_grad():
        net[1].weight.uniform_(0.5, 1.5)
        net[1].bias.uniform_(0.0, 1.0)
        net.train()
        net(torch.randn(64, 20))
    return net, (20,)


def simple_conv_net():
    return SimpleConvNet(), (1, 28, 28)


def write(stem, build, samples):
    torch.manual_seed(SEED)
    net, shape = build()
    net.eval()
    with torch.no_grad():
        inputs = torch.randn(samples, *shape)
        probabilities = torch.softmax(net(inputs), dim=1)
    meta = {"format": "pt", "torch": torch.__version__, "seed": str(SEED), "script": SCRIPT}
    state = {k: v.detach().contiguous() for k, v in net.state_dict().items()}
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    save_file(state, OUT_DIR / f"{stem}.safetensors", meta)
    io = {"inputs": inputs.contiguous(), "probabilities": probabilities.contiguous()}
    save_file(io, OUT_DIR / f"{stem}.io.safetensors", meta)
    print(f"{stem}: {', '.join(state)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--any-torch", action="store_true",
                        help=f"run under a torch other than {TORCH_VERSION}")
    args = parser.parse_args()
    if torch.__version__.split("+")[0] != TORCH_VERSION and not args.any_torch:
        sys.exit(f"expected torch {TORCH_VERSION}, found {torch.__version__}; "
                 "pass --any-torch to write fixtures with it anyway")
    torch.set_num_threads(1)
    write("mlp_sequential", mlp, 8)
    write("simple_conv_net_named", simple_conv_net, 4)


if __name__ == "__main__":
    main()
