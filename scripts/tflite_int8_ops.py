#!/usr/bin/env python3
"""Writes the TensorFlow Lite int8 fixtures that `runtime/src/quant/tests.rs` checks.

Written with tensorflow-cpu 2.21.0 (the PyPI wheel, Keras 3.15.1, NumPy
2.4.6) and Python 3.11; seed 20250611. CI has no TensorFlow and never runs
this script: the files it writes are committed, and the tests read them.

Usage (from the repository root):

    python3 -m venv /tmp/tf-venv
    /tmp/tf-venv/bin/pip install tensorflow-cpu==2.21.0
    /tmp/tf-venv/bin/python scripts/tflite_int8_ops.py

It refuses to run under another TensorFlow version (pass `--any-tf` to
override, then update the version named here).

For each operator it builds a one-layer Keras model with random weights
and a random, nonzero bias, converts it with full-integer quantization
(`Optimize.DEFAULT`, a representative dataset of 64 float inputs, int8
inputs and outputs), runs TensorFlow Lite's *reference* kernels
(`OpResolverType.BUILTIN_REF`) on 20 random int8 inputs, and writes
`tests/fixtures/tflite/<op>.json`:

- `tensorflow`: the version that wrote it;
- `op`: the TFLite builtin the model holds, `activation` (`none` or `relu`,
  the activation fused into it), `stride` and `pad` (rows and columns of
  padding before the first row and column, computed as TFLite does: the
  odd one goes after), `kernel` for pools;
- `inputs` (one, two for `add`) and `output`: `shape` (NHWC, or [1, N]),
  `scale` and `zero_point` as the model stores them (float32 scales,
  written as the exact double of the float32);
- `weights`: `shape` in TFLite's layout (conv `[O, KH, KW, I]`, depthwise
  `[1, KH, KW, C]`, dense `[O, I]`), `scales` (one per output channel, or
  one), `values` (int8, flat, row-major); `bias`: int32 values;
- `samples`: per sample the flat int8 `inputs` (one list per input) and
  TFLite's flat int8 `output`, all NHWC.
"""

import argparse
import json
import os
import sys

import numpy as np

SEED = 20250611
VERSION = "2.21.0"
SAMPLES = 20
OUT_DIR = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "tflite")


def tflite_pad(size, kernel, stride, padding):
    """TFLite's padding before the first row (column): `ComputePadding`."""
    if padding == "valid":
        return 0
    out = (size + stride - 1) // stride
    return max(((out - 1) * stride + kernel - size) // 2, 0)


def quant(detail):
    scales, zps = detail["quantization_parameters"]["scales"], detail["quantization_parameters"]["zero_points"]
    return [float(s) for s in scales], [int(z) for z in zps]


def tensor_entry(detail):
    scales, zps = quant(detail)
    assert len(scales) == 1, detail
    return {"shape": [int(d) for d in detail["shape"]], "scale": scales[0], "zero_point": zps[0]}


def convert(tf, model, input_shapes, rng):
    def representative():
        for _ in range(64):
            yield [rng.uniform(-1.0, 1.0, size=(1, *s)).astype(np.float32) * (i + 1) for i, s in enumerate(input_shapes)]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()


def run(tf, name, model, input_shapes, geometry, rng):
    flat = convert(tf, model, input_shapes, rng)
    interp = tf.lite.Interpreter(
        model_content=flat,
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF,
    )
    interp.allocate_tensors()
    ops = interp._get_ops_details()
    assert len(ops) == 1, f"{name}: expected one operator, got {[o['op_name'] for o in ops]}"
    op = ops[0]
    details = {d["index"]: d for d in interp.get_tensor_details()}
    model_inputs = interp.get_input_details()
    model_output = interp.get_output_details()[0]
    # The operator's own inputs in its order (Keras may order model inputs otherwise).
    op_inputs = [i for i in op["inputs"] if i >= 0]
    act_inputs = [i for i in op_inputs if i in {d["index"] for d in model_inputs}]
    fixture = {
        "tensorflow": tf.__version__,
        "op": op["op_name"],
        **geometry,
        "inputs": [tensor_entry(details[i]) for i in act_inputs],
        "output": tensor_entry(details[model_output["index"]]),
    }
    if op["op_name"] in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
        w, b = op_inputs[1], op_inputs[2]
        scales, zps = quant(details[w])
        assert all(z == 0 for z in zps), "weights are symmetric"
        fixture["weights"] = {
            "shape": [int(d) for d in details[w]["shape"]],
            "scales": scales,
            "values": interp.get_tensor(w).astype(int).ravel().tolist(),
        }
        fixture["bias"] = interp.get_tensor(b).astype(int).ravel().tolist()
    samples = []
    for _ in range(SAMPLES):
        xs = []
        for i in act_inputs:
            x = rng.integers(-128, 128, size=details[i]["shape"], dtype=np.int8)
            interp.set_tensor(i, x)
            xs.append(x.astype(int).ravel().tolist())
        interp.invoke()
        y = interp.get_tensor(model_output["index"])
        samples.append({"inputs": xs, "output": y.astype(int).ravel().tolist()})
    fixture["samples"] = samples
    path = os.path.join(OUT_DIR, f"{name}.json")
    with open(path, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")
    print(f"{path}: {op['op_name']}, {os.path.getsize(path)} bytes")


def set_random_weights(layer, rng):
    """Weights of Glorot-like size and a nonzero bias, so the bias is checked."""
    weights = []
    for w in layer.get_weights():
        if w.ndim == 1:
            weights.append(rng.uniform(-0.3, 0.3, size=w.shape).astype(np.float32))
        else:
            fan_in = int(np.prod(w.shape[:-1])) if w.ndim > 1 else 1
            weights.append(rng.normal(0.0, 1.0 / np.sqrt(fan_in), size=w.shape).astype(np.float32))
    layer.set_weights(weights)


def one_layer(tf, shape, layer, rng):
    x = tf.keras.Input(shape=shape, batch_size=1)
    y = layer(x)
    model = tf.keras.Model(x, y)
    if layer.get_weights():
        set_random_weights(layer, rng)
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--any-tf", action="store_true", help="run under another TensorFlow version")
    args = parser.parse_args()
    import tensorflow as tf

    if tf.__version__ != VERSION and not args.any_tf:
        sys.exit(f"this script was written with TensorFlow {VERSION}, found {tf.__version__} (--any-tf to override)")
    tf.keras.utils.set_random_seed(SEED)
    rng = np.random.default_rng(SEED)
    os.makedirs(OUT_DIR, exist_ok=True)
    L = tf.keras.layers

    def conv(name, hw, c, f, k, s, padding, act):
        layer = L.Conv2D(f, k, strides=s, padding=padding, activation=act)
        model = one_layer(tf, (hw, hw, c), layer, rng)
        geometry = {"activation": act or "none", "stride": [s, s], "pad": [tflite_pad(hw, k, s, padding)] * 2}
        run(tf, name, model, [(hw, hw, c)], geometry, rng)

    conv("conv2d", 8, 3, 4, 3, 1, "same", "relu")
    # 8 rows at stride 2 take 1 row of padding, after the last: TFLite puts the odd one there.
    conv("conv2d_stride2", 8, 2, 3, 3, 2, "same", None)

    layer = L.DepthwiseConv2D(3, strides=1, padding="same", depth_multiplier=1)
    model = one_layer(tf, (6, 6, 4), layer, rng)
    geometry = {"activation": "none", "stride": [1, 1], "pad": [1, 1]}
    run(tf, "depthwise_conv2d", model, [(6, 6, 4)], geometry, rng)

    model = one_layer(tf, (16,), L.Dense(10), rng)
    run(tf, "fully_connected", model, [(16,)], {"activation": "none"}, rng)

    model = one_layer(tf, (8, 8, 3), L.MaxPooling2D(2, strides=2), rng)
    run(tf, "max_pool", model, [(8, 8, 3)], {"activation": "none", "kernel": [2, 2], "stride": [2, 2], "pad": [0, 0]}, rng)

    # 3x3 windows at stride 2 with "same" padding on 7x7: edge windows hold
    # 4 or 6 cells, so the rounded division sees counts other than 9.
    model = one_layer(tf, (7, 7, 3), L.AveragePooling2D(3, strides=2, padding="same"), rng)
    geometry = {"activation": "none", "kernel": [3, 3], "stride": [2, 2], "pad": [tflite_pad(7, 3, 2, "same")] * 2}
    run(tf, "average_pool", model, [(7, 7, 3)], geometry, rng)

    a = tf.keras.Input(shape=(4, 4, 3), batch_size=1)
    b = tf.keras.Input(shape=(4, 4, 3), batch_size=1)
    model = tf.keras.Model([a, b], L.Add()([a, b]))
    run(tf, "add", model, [(4, 4, 3), (4, 4, 3)], {"activation": "none"}, rng)


if __name__ == "__main__":
    main()
