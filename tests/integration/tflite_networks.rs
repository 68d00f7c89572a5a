//! Whole int8 networks against TensorFlow Lite: the embedded `Digits` CNN
//! and MLPerf Tiny's DS-CNN, with constnet's trained weights, quantized by
//! TFLite's converter and run by its reference kernels on 100 inputs
//! (`scripts/tflite_int8_networks.py`, fixtures in
//! `tests/fixtures/tflite/networks/`). Imported into constnet's int8
//! networks, they give the same int8 outputs, every one of them.

use constnet::quant::import::{self, Layer};
use constnet::quant::net::Buffer;
use constnet::quant::{QNet, Quantizable};
use serde_json::Value;

use crate::mlperf::models::DsCnn;
use crate::nets::Digits;

fn numbers<T: TryFrom<i64>>(v: &Value) -> Vec<T> {
    let values = v.as_array().expect("an array");
    values
        .iter()
        .map(|x| {
            let x = x.as_i64().expect("an integer");
            T::try_from(x).ok().expect("in range")
        })
        .collect()
}

fn scales(v: &Value) -> Vec<f32> {
    // The script writes each float32 scale as its exact double.
    let values = v.as_array().expect("an array");
    values
        .iter()
        .map(|x| x.as_f64().expect("a number") as f32)
        .collect()
}

fn quant(v: &Value) -> (f32, i8) {
    let zp = v["zero_point"].as_i64().expect("a zero point");
    (v["scale"].as_f64().expect("a scale") as f32, zp as i8)
}

/// One layer's parameters as the fixture holds them.
struct Tensors {
    weights: Vec<i8>,
    scales: Vec<f32>,
    bias: Vec<i32>,
    output: (f32, i8),
}

/// Imports the fixture's parameters, runs its 100 inputs and compares
/// every int8 output with TFLite's; returns how many were compared.
fn check<N: Quantizable>(fixture: &str, ops: &[&str]) -> usize {
    let f: Value = serde_json::from_str(fixture).unwrap();
    assert_eq!(f["tensorflow"], "2.21.0");
    let found: Vec<&str> = f["ops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o.as_str().unwrap())
        .collect();
    assert_eq!(found, ops, "the operators TFLite's converter produced");
    let tensors: Vec<Tensors> = f["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| Tensors {
            weights: numbers(&l["weights"]),
            scales: scales(&l["scales"]),
            bias: numbers(&l["bias"]),
            output: quant(&l["output"]),
        })
        .collect();
    let layers: Vec<Layer> = tensors
        .iter()
        .map(|t| Layer {
            weights: &t.weights,
            weight_scales: &t.scales,
            bias: &t.bias,
            output: t.output,
        })
        .collect();
    let q: QNet<N> = import::from_params(quant(&f["input"]), &layers).unwrap();
    let inputs = f["inputs"].as_array().unwrap();
    let outputs = f["outputs"].as_array().unwrap();
    assert_eq!((inputs.len(), outputs.len()), (100, 100));
    let mut compared = 0;
    let mut differ = Vec::new();
    for (i, (x, want)) in inputs.iter().zip(outputs).enumerate() {
        let mut x8 = N::Int8Input::ZERO;
        x8.as_mut().copy_from_slice(&numbers::<i8>(x));
        let got = q.predict_int8(&x8);
        let want = numbers::<i8>(want);
        for (k, (&g, &w)) in got.as_ref().iter().zip(&want).enumerate() {
            if g != w {
                differ.push((i, k, i32::from(g) - i32::from(w)));
            }
        }
        compared += want.len();
    }
    assert!(
        differ.is_empty(),
        "{} of {compared} int8 outputs differ from TFLite's (sample, output, difference): {:?}",
        differ.len(),
        &differ[..differ.len().min(10)]
    );
    compared
}

#[test]
fn digits_cnn_gives_tflites_integers() {
    let n = check::<Digits>(
        include_str!("../fixtures/tflite/networks/digits.json"),
        &[
            "CONV_2D",
            "MAX_POOL_2D",
            "CONV_2D",
            "MAX_POOL_2D",
            "RESHAPE",
            "FULLY_CONNECTED",
        ],
    );
    assert_eq!(n, 100 * 10);
}

#[test]
fn ds_cnn_gives_tflites_integers() {
    let mut ops = vec!["CONV_2D"];
    for _ in 0..4 {
        ops.extend(["DEPTHWISE_CONV_2D", "CONV_2D"]);
    }
    ops.extend(["AVERAGE_POOL_2D", "FULLY_CONNECTED"]);
    let n = check::<DsCnn>(
        include_str!("../fixtures/tflite/networks/ds_cnn.json"),
        &ops,
    );
    assert_eq!(n, 100 * 12);
}
