#!/usr/bin/env python3
"""Builds the PyTorch source that constnet generates for a network
(`Network::PYTORCH`) and writes the weights and outputs that
`tests/integration/pytorch_modules.rs` checks it against.

Written with torch 2.15.0 (the PyPI wheel, run on the CPU), safetensors 0.8.0
and Python 3.11; seed 20241130. CI has no torch and never runs this script:
the files it writes are committed, and the test reads them.

Usage (from the repository root):

    python3 -m venv /tmp/peers-venv
    /tmp/peers-venv/bin/pip install torch==2.15.0 numpy safetensors
    CONSTNET_BLESS=1 cargo test --test integration pytorch_twin
    /tmp/peers-venv/bin/python scripts/pytorch_modules.py

The test run writes `tests/fixtures/pytorch/modules/<stem>.py` (each the
generated source of one network); for each, this script executes the source,
builds the class, draws its weights with PyTorch's default initialization,
batch norm's scale from U(0.5, 1.5), shift from U(0, 1), running mean from
N(0, 0.1²) and running variance from U(0.5, 1.5), PReLU's slopes from
U(0, 0.5), a `Normalize`'s mean from N(0, 0.5²) and standard deviation
from U(0.5, 2), and writes:

- `<stem>.safetensors`: `state_dict()` as PyTorch gives it (its keys, batch
  norm's `num_batches_tracked` included), which constnet must load without a
  name map;
- `<stem>.io.safetensors`: 8 standard-normal `inputs` and the module's
  `probabilities` in eval mode.

It refuses to run under another torch version (pass `--any-torch` to
override, then update the version named here and in the files).
"""
import argparse
import re
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import nn

TORCH_VERSION = "2.15.0"
SEED = 20241130
SCRIPT = "scripts/pytorch_modules.py"
DIR = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "pytorch" / "modules"
SAMPLES = 8


def build(source):
    """The class the source defines, and the input shape its header names."""
    namespace = {}
    exec(compile(source, "<generated>", "exec"), namespace)
    name = re.findall(r"^class (\w+)\(nn\.(?:Sequential|Module)\):", source, re.M)[-1]
    shape = re.search(r"Input: a batch of shape \[N, ([\d, ]+)\]", source).group(1)
    return namespace[name], tuple(int(d) for d in shape.split(","))


def randomize(net):
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(0.0, 1.0)
                module.running_mean.normal_(0.0, 0.1)
                module.running_var.uniform_(0.5, 1.5)
            elif isinstance(module, nn.PReLU):
                module.weight.uniform_(0.0, 0.5)
            elif type(module).__name__ == "Normalize":
                module.mean.normal_(0.0, 0.5)
                module.std.uniform_(0.5, 2.0)


def write(path):
    stem = path.stem
    torch.manual_seed(SEED)
    cls, shape = build(path.read_text())
    net = cls()
    randomize(net)
    net.eval()
    with torch.no_grad():
        inputs = torch.randn(SAMPLES, *shape)
        probabilities = net(inputs)
    meta = {"format": "pt", "torch": torch.__version__, "seed": str(SEED), "script": SCRIPT}
    state = {k: v.detach().contiguous() for k, v in net.state_dict().items()}
    save_file(state, DIR / f"{stem}.safetensors", meta)
    io = {"inputs": inputs.contiguous(), "probabilities": probabilities.contiguous()}
    save_file(io, DIR / f"{stem}.io.safetensors", meta)
    print(f"{stem}: {len(state)} tensors")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--any-torch", action="store_true",
                        help=f"run under a torch other than {TORCH_VERSION}")
    args = parser.parse_args()
    if torch.__version__.split("+")[0] != TORCH_VERSION and not args.any_torch:
        sys.exit(f"expected torch {TORCH_VERSION}, found {torch.__version__}; "
                 "pass --any-torch to write fixtures with it anyway")
    torch.set_num_threads(1)
    sources = sorted(DIR.glob("*.py"))
    if not sources:
        sys.exit(f"no generated sources in {DIR}: run the test with CONSTNET_BLESS=1 first")
    for path in sources:
        write(path)


if __name__ == "__main__":
    main()
