//! `normalize` and `rescale` inside the declaration: fitted from data,
//! saved with the parameters, frozen in training, and computing on raw
//! inputs what the classic pipeline (scale, standardize, then the network)
//! computes.

use constnet::data::InMemory;
use constnet::optim::Sgd;
use constnet::persist;
use constnet::train::{FitError, Trainer, fit_normalization};
use constnet::{Network, network};

network! {
    /// Raw bytes in, per-channel statistics fitted on the scaled values.
    struct Raw: [3, 4, 4] => rescale(0.00392156862745098) -> normalize
        -> conv(4, 3) -> relu -> affine(3) -> softmax
    /// The same network for inputs scaled and standardized beforehand.
    struct Cooked: [3, 4, 4] => conv(4, 3) -> relu -> affine(3) -> softmax
    /// Per-feature statistics after a flat input, and a second normalize
    /// fitted on what the first and the affine layer make of the data.
    struct Tabular: [5] => normalize -> affine(4) -> tanh -> normalize -> affine(2) -> softmax
}

type Image = [[[f32; 4]; 4]; 3];

/// Pixel bytes whose channels have different means and spreads.
fn raw_images(n: usize) -> Vec<Image> {
    (0..n)
        .map(|i| {
            let mut x = [[[0.0f32; 4]; 4]; 3];
            for (c, channel) in x.iter_mut().enumerate() {
                for (p, v) in channel.iter_mut().flatten().enumerate() {
                    let wave = ((i * 7 + p * 3 + c * 5) % 17) as f32 / 16.0;
                    *v = (40.0 + 60.0 * c as f32 + (30.0 + 20.0 * c as f32) * wave).round();
                }
            }
            x
        })
        .collect()
}

fn dataset(xs: Vec<Image>) -> InMemory<Image, usize> {
    let labels = (0..xs.len()).map(|i| i % 3).collect();
    InMemory::new(xs, labels).unwrap()
}

/// Mean and population standard deviation of each channel, in f64.
fn channel_stats(xs: &[Image], scale: f64) -> Vec<(f64, f64)> {
    (0..3)
        .map(|c| {
            let values: Vec<f64> = xs
                .iter()
                .flat_map(|x| x[c].iter().flatten().map(|&v| f64::from(v) * scale))
                .collect();
            let n = values.len() as f64;
            let mean = values.iter().sum::<f64>() / n;
            let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
            (mean, var.sqrt())
        })
        .collect()
}

fn fitted_raw(xs: &[Image]) -> Raw<f32> {
    let mut net = Raw::<f32>::seeded(3);
    assert_eq!(
        fit_normalization(&mut net, &dataset(xs.to_vec())).unwrap(),
        1
    );
    net
}

#[test]
fn normalize_fits_each_channel_after_the_rescale() {
    let xs = raw_images(40);
    let net = fitted_raw(&xs);
    let (mean, std) = (
        net.tensor("normalize1.mean").unwrap(),
        net.tensor("normalize1.std").unwrap(),
    );
    for (c, (m, s)) in channel_stats(&xs, 1.0 / 255.0).into_iter().enumerate() {
        assert!(
            (f64::from(mean[c]) - m).abs() < 1e-6,
            "mean {c}: {} vs {m}",
            mean[c]
        );
        assert!(
            (f64::from(std[c]) - s).abs() < 1e-6,
            "std {c}: {} vs {s}",
            std[c]
        );
    }
}

#[test]
fn raw_inputs_give_what_the_preprocessing_pipeline_gives() {
    let xs = raw_images(40);
    let raw = fitted_raw(&xs);
    let mut cooked = Cooked::<f32>::seeded(0);
    for name in [
        "conv1.weight",
        "conv1.bias",
        "affine1.weight",
        "affine1.bias",
    ] {
        cooked.set_tensor(name, raw.tensor(name).unwrap()).unwrap();
    }
    let stats = channel_stats(&xs, 1.0 / 255.0);
    for x in &xs {
        let mut standardized = *x;
        for (c, channel) in standardized.iter_mut().enumerate() {
            for v in channel.iter_mut().flatten() {
                *v = ((f64::from(*v) / 255.0 - stats[c].0) / stats[c].1) as f32;
            }
        }
        let (a, b) = (raw.predict(x), cooked.predict(&standardized));
        for (p, q) in a.iter().zip(&b) {
            assert!((p - q).abs() < 1e-5, "{a:?} vs {b:?}");
        }
    }
}

#[test]
fn the_statistics_survive_both_file_formats() {
    let xs = raw_images(20);
    let net = fitted_raw(&xs);
    let dir = std::env::temp_dir().join(format!("constnet-preprocess-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (st, bytes) = (dir.join("raw.safetensors"), dir.join("raw.cnet"));
    persist::save_safetensors(&net, &st).unwrap();
    persist::save_bytes(&net, &bytes).unwrap();
    let mut from_st = Raw::<f32>::seeded(9);
    let mut from_bytes = Raw::<f32>::seeded(10);
    persist::load_safetensors(&mut from_st, &st).unwrap();
    persist::load_bytes(&mut from_bytes, &bytes).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    for x in &xs {
        assert_eq!(from_st.predict(x), net.predict(x));
        assert_eq!(from_bytes.predict(x), net.predict(x));
    }
}

#[test]
fn training_leaves_the_statistics_alone() {
    let xs = raw_images(30);
    let data = dataset(xs.clone());
    let mut net = fitted_raw(&xs);
    let before = (
        net.tensor("normalize1.mean").unwrap().to_vec(),
        net.tensor("normalize1.std").unwrap().to_vec(),
    );
    let conv_before = net.tensor("conv1.weight").unwrap().to_vec();
    Trainer::new()
        .epochs(2)
        .batch_size(10)
        .progress(constnet::train::Progress::Quiet)
        .fit(&mut net, &data, None, &mut Sgd::new(0.1))
        .unwrap();
    assert_eq!(net.tensor("normalize1.mean").unwrap(), before.0);
    assert_eq!(net.tensor("normalize1.std").unwrap(), before.1);
    assert_ne!(
        net.tensor("conv1.weight").unwrap(),
        conv_before,
        "the rest trains"
    );
}

#[test]
fn layers_fit_in_order_on_what_reaches_them() {
    let xs: Vec<[f64; 5]> = (0..50)
        .map(|i| {
            core::array::from_fn(|f| (i * (f + 2) % 11) as f64 * (f as f64 + 1.0) + 10.0 * f as f64)
        })
        .collect();
    let data = InMemory::new(xs.clone(), vec![0usize; 50]).unwrap();
    let mut net = Tabular::<f64>::seeded(1);
    assert_eq!(fit_normalization(&mut net, &data).unwrap(), 2);
    // What reaches the second normalize is standardized then squashed by
    // tanh: its fitted statistics make it mean 0, standard deviation 1.
    let hidden = constnet::inference::hidden(&net, &xs);
    let second = hidden.iter().find(|h| h.name == "normalize2").unwrap();
    for f in 0..4 {
        let column: Vec<f64> = second.values.iter().skip(f).step_by(4).copied().collect();
        let mean = column.iter().sum::<f64>() / 50.0;
        let var = column.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 50.0;
        assert!(
            mean.abs() < 1e-9 && (var - 1.0).abs() < 1e-9,
            "feature {f}: {mean}, {var}"
        );
    }
}

#[test]
fn bad_data_is_refused_and_leaves_the_network_unchanged() {
    let mut net = Raw::<f32>::seeded(3);
    let params = net.params().to_vec();
    let empty = dataset(Vec::new());
    assert_eq!(
        fit_normalization(&mut net, &empty),
        Err(FitError::Empty {
            layer: "normalize1"
        })
    );
    let mut xs = raw_images(300);
    xs[280][2][1][3] = f32::NAN;
    let err = fit_normalization(&mut net, &dataset(xs)).unwrap_err();
    assert_eq!(
        err,
        FitError::NonFinite {
            layer: "normalize1",
            channel: 2,
            sample: 280
        }
    );
    assert!(err.to_string().contains("channel 2"), "{err}");
    assert_eq!(net.params(), params);
}
