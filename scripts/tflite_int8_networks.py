#!/usr/bin/env python3
"""Writes the TensorFlow Lite fixtures of whole int8 networks that `tests/integration/tflite_networks.rs` checks.

Written with tensorflow-cpu 2.21.0 (the PyPI wheel, Keras 3.15.1, NumPy
2.4.6) and Python 3.11. CI has no TensorFlow and never runs this script:
the files it writes are committed, and the tests read them.

Usage (from the repository root, with the venv of `tflite_int8_ops.py`):

    /tmp/tf-venv/bin/python scripts/tflite_int8_networks.py

It refuses to run under another TensorFlow version (`--any-tf` overrides).

Two networks, with constnet's trained weights:

- `Digits` (`embedded/src/nets.rs`): the committed `embedded/assets/digits.cnet`
  (trained on MNIST), on the 100 committed test images
  (`embedded/assets/test_images.u8`) after its `normalize`;
- `DsCnn` (`examples/mlperf_tiny/models.rs`): trained by
  `cargo run --release --example mlperf_tiny -- --model ds-cnn --save DIR`
  (which this script runs) on synthetic keyword-spotting inputs, on the 100
  further inputs that command writes. Its batch norms are folded into the
  convolutions before Keras sees them (`w·γ/√(σ²+ε)`, `(b−μ)·γ/√(σ²+ε)+β`,
  in float64), since the converter would fold them anyway.

Each is built in Keras (NHWC) with those weights, converted with
full-integer quantization (`Optimize.DEFAULT`, the 100 inputs as the
representative dataset, int8 inputs and outputs, no final softmax: the
logits are the int8 output), and run with TensorFlow Lite's *reference*
kernels (`OpResolverType.BUILTIN_REF`). The script writes
`tests/fixtures/tflite/networks/<name>.json`:

- `tensorflow`, `network`;
- `ops`: the TFLite operators in order;
- `input`: the input's `scale` and `zero_point`;
- `layers`: per layer with weights, in order, `weights` (int8, flat, in
  constnet's layout: `[F, C/groups, KH, KW]` and `[out, in]` with inputs in
  `[C][H][W]` order, transposed from TFLite's), `scales` (per output
  channel, or one), `bias` (int32) and `output` (`scale`, `zero_point`);
- `inputs`: the 100 int8 inputs as TFLite was given them (quantized with
  the input's parameters, rounding half away from zero), in `[C][H][W]`
  order; `outputs`: TFLite's 100 int8 outputs.
"""

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np

VERSION = "2.21.0"
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT_DIR = os.path.join(ROOT, "tests", "fixtures", "tflite", "networks")
SEED = 20251201


def read_cnet(path, shapes):
    """constnet's byte format: a 32-byte header, then little-endian f32."""
    data = open(path, "rb").read()
    assert data[:4] == b"CNET", path
    values = np.frombuffer(data[32:], dtype="<f4").astype(np.float64)
    out, at = {}, 0
    for name, shape in shapes:
        n = int(np.prod(shape))
        out[name] = values[at : at + n].reshape(shape)
        at += n
    assert at == len(values), (at, len(values))
    return out


def read_safetensors(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        assert t["dtype"] == "F32", t
        a, b = t["data_offsets"]
        out[name] = np.frombuffer(data[8 + n + a : 8 + n + b], dtype="<f4").astype(np.float64).reshape(t["shape"])
    return out


def quantize(x, scale, zero_point):
    """TFLite's QUANTIZE: round half away from zero, then the zero point."""
    v = x / np.float32(scale)
    r = np.sign(v) * np.floor(np.abs(v) + 0.5)
    return np.clip(r + zero_point, -128, 127).astype(np.int8)


def convert(tf, model, samples_nhwc):
    def representative():
        for x in samples_nhwc:
            yield [x[None].astype(np.float32)]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()


def to_constnet(op, w, flatten_hwc):
    """TFLite's weight layout to constnet's."""
    if op == "CONV_2D":  # [O, KH, KW, I] -> [O, I, KH, KW]
        return w.transpose(0, 3, 1, 2)
    if op == "DEPTHWISE_CONV_2D":  # [1, KH, KW, C] -> [C, 1, KH, KW]
        return w[0].transpose(2, 0, 1)[:, None]
    if op == "FULLY_CONNECTED":  # [O, H·W·C] -> [O, C·H·W]
        h, w_, c = flatten_hwc
        return w.reshape(w.shape[0], h, w_, c).transpose(0, 3, 1, 2).reshape(w.shape[0], -1)
    raise ValueError(op)


def run(tf, name, model, samples_chw, flatten_hwc):
    samples_nhwc = [x.transpose(1, 2, 0) for x in samples_chw]
    flat = convert(tf, model, samples_nhwc)
    interp = tf.lite.Interpreter(
        model_content=flat,
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF,
    )
    interp.allocate_tensors()
    ops = interp._get_ops_details()
    details = {d["index"]: d for d in interp.get_tensor_details()}

    def qp(index):
        q = details[index]["quantization_parameters"]
        return [float(s) for s in q["scales"]], [int(z) for z in q["zero_points"]]

    def value(index):
        (scale,), (zp,) = qp(index)
        return {"scale": scale, "zero_point": zp}

    layers = []
    for op in ops:
        if op["op_name"] not in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            continue
        x, w, b = op["inputs"][:3]
        scales, zps = qp(w)
        assert all(z == 0 for z in zps), "weights are symmetric"
        weights = to_constnet(op["op_name"], interp.get_tensor(w).astype(int), flatten_hwc)
        layers.append(
            {
                "op": op["op_name"],
                "weights": weights.ravel().tolist(),
                "scales": scales,
                "bias": interp.get_tensor(b).astype(int).ravel().tolist(),
                "output": value(op["outputs"][0]),
            }
        )
    model_in = interp.get_input_details()[0]["index"]
    model_out = interp.get_output_details()[0]["index"]
    input_q = value(model_in)
    inputs, outputs = [], []
    for x in samples_nhwc:
        q = quantize(x, input_q["scale"], input_q["zero_point"])
        interp.set_tensor(model_in, q[None])
        interp.invoke()
        inputs.append(q.transpose(2, 0, 1).astype(int).ravel().tolist())
        outputs.append(interp.get_tensor(model_out).astype(int).ravel().tolist())
    fixture = {
        "tensorflow": tf.__version__,
        "network": name,
        "ops": [o["op_name"] for o in ops],
        "input": input_q,
        "layers": layers,
        "inputs": inputs,
        "outputs": outputs,
    }
    path = os.path.join(OUT_DIR, f"{name}.json")
    with open(path, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")
    print(f"{path}: {' '.join(fixture['ops'])}; {os.path.getsize(path)} bytes")


def digits(tf):
    L = tf.keras.layers
    p = read_cnet(
        os.path.join(ROOT, "embedded", "assets", "digits.cnet"),
        [
            ("mean", [1]),
            ("std", [1]),
            ("conv1.weight", [8, 1, 5, 5]),
            ("conv1.bias", [8]),
            ("conv2.weight", [16, 8, 5, 5]),
            ("conv2.bias", [16]),
            ("affine1.weight", [10, 256]),
            ("affine1.bias", [10]),
        ],
    )
    images = np.frombuffer(open(os.path.join(ROOT, "embedded", "assets", "test_images.u8"), "rb").read(), dtype=np.uint8)
    samples = [((img.astype(np.float64) - p["mean"][0]) / p["std"][0]).reshape(1, 28, 28) for img in images.reshape(100, 784)]
    x = tf.keras.Input(shape=(28, 28, 1), batch_size=1)
    c1 = L.Conv2D(8, 5, activation="relu")
    c2 = L.Conv2D(16, 5, activation="relu")
    d = L.Dense(10)
    y = L.MaxPooling2D(2)(c1(x))
    y = L.MaxPooling2D(2)(c2(y))
    y = d(L.Flatten()(y))
    model = tf.keras.Model(x, y)
    conv = lambda w: w.transpose(2, 3, 1, 0).astype(np.float32)  # [O, I, KH, KW] -> [KH, KW, I, O]
    c1.set_weights([conv(p["conv1.weight"]), p["conv1.bias"].astype(np.float32)])
    c2.set_weights([conv(p["conv2.weight"]), p["conv2.bias"].astype(np.float32)])
    dense = p["affine1.weight"].reshape(10, 16, 4, 4).transpose(2, 3, 1, 0).reshape(256, 10)
    d.set_weights([dense.astype(np.float32), p["affine1.bias"].astype(np.float32)])
    run(tf, "digits", model, samples, (4, 4, 16))


def ds_cnn(tf, cargo_dir):
    L = tf.keras.layers
    p = read_safetensors(os.path.join(cargo_dir, "ds-cnn.safetensors"))
    raw = np.fromfile(os.path.join(cargo_dir, "ds-cnn.inputs.f32"), dtype="<f4").astype(np.float64)
    samples = list(raw.reshape(100, 1, 49, 10))

    def folded(conv, bn):
        g, beta = p[f"batchnorm{bn}.weight"], p[f"batchnorm{bn}.bias"]
        mean, var = p[f"batchnorm{bn}.running_mean"], p[f"batchnorm{bn}.running_var"]
        gain = g / np.sqrt(var + 1e-5)
        w = p[f"conv{conv}.weight"] * gain[:, None, None, None]
        b = (p[f"conv{conv}.bias"] - mean) * gain + beta
        return w, b.astype(np.float32)

    x = tf.keras.Input(shape=(49, 10, 1), batch_size=1)
    first = L.Conv2D(64, (10, 4), strides=2, padding="same", activation="relu")
    y = first(x)
    blocks = []
    for _ in range(4):
        dw = L.DepthwiseConv2D(3, padding="same", activation="relu")
        pw = L.Conv2D(64, 1, activation="relu")
        y = pw(dw(y))
        blocks.append((dw, pw))
    y = L.AveragePooling2D((25, 5))(y)
    d = L.Dense(12)
    y = d(L.Flatten()(y))
    model = tf.keras.Model(x, y)
    w, b = folded(1, 1)
    first.set_weights([w.transpose(2, 3, 1, 0).astype(np.float32), b])
    for k, (dw, pw) in enumerate(blocks):
        w, b = folded(2 + 2 * k, 2 + 2 * k)
        dw.set_weights([w.transpose(2, 3, 0, 1).astype(np.float32), b])  # [C, 1, KH, KW] -> [KH, KW, C, 1]
        w, b = folded(3 + 2 * k, 3 + 2 * k)
        pw.set_weights([w.transpose(2, 3, 1, 0).astype(np.float32), b])
    d.set_weights([p["affine1.weight"].T.astype(np.float32), p["affine1.bias"].astype(np.float32)])
    run(tf, "ds_cnn", model, samples, (1, 1, 64))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--any-tf", action="store_true", help="run under another TensorFlow version")
    args = parser.parse_args()
    import tensorflow as tf

    if tf.__version__ != VERSION and not args.any_tf:
        sys.exit(f"this script was written with TensorFlow {VERSION}, found {tf.__version__} (--any-tf to override)")
    tf.keras.utils.set_random_seed(SEED)
    os.makedirs(OUT_DIR, exist_ok=True)
    digits(tf)
    with tempfile.TemporaryDirectory() as cargo_dir:
        subprocess.run(
            ["cargo", "run", "--release", "--example", "mlperf_tiny", "--", "--model", "ds-cnn", "--save", cargo_dir],
            cwd=ROOT,
            check=True,
        )
        ds_cnn(tf, cargo_dir)


if __name__ == "__main__":
    main()
