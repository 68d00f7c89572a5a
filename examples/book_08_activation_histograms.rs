//! # 8. Initialization and the distribution of activations
//!
//! 1,000 random inputs of 100 standard normal features pass through five
//! layers of 100 units (no biases), and each layer's outputs are
//! histogrammed. With sigmoid: weights of std 1 push every unit to 0 or 1,
//! where the gradient vanishes; std 0.01 collapses every output to 0.5, so
//! all units compute the same thing; Xavier (std 1/√100 here) keeps a broad
//! spread through all five layers. With ReLU: std 0.01 shrinks the outputs
//! toward 0 layer after layer, Xavier shrinks them more slowly, and He
//! (std √(2/100)) keeps the same spread in every layer.
//!
//! Each stack is one network; `inference::hidden` returns every layer's
//! output for the whole batch, and `init::init_all_with` redraws the
//! weights per experiment.
//!
//! Run: `cargo run --release --example book_08_activation_histograms`
//! (`--smoke` is the same: it takes well under a second). Figure:
//! `book_08_activation_histograms.png`: one row per experiment, one
//! column per layer, 30 bins over [0, 1] as in the classic (for ReLU the
//! bin at 0, holding about half the outputs, is cut off at the top).

#[path = "book/mod.rs"]
mod book;

use std::process::ExitCode;

use constnet::network;
use constnet::plot::{self, plotters::prelude::*};
use constnet::rand::SeedableRng;
use constnet::rand::rngs::StdRng;
use constnet::{Init, Network, inference, init};

network! {
    /// Five sigmoid layers of 100, without biases.
    pub struct SigmoidStack: [100] =>
        affine(100, bias = false) -> sigmoid -> affine(100, bias = false) -> sigmoid ->
        affine(100, bias = false) -> sigmoid -> affine(100, bias = false) -> sigmoid ->
        affine(100, bias = false) -> sigmoid
    /// Five ReLU layers of 100, without biases.
    pub struct ReluStack: [100] =>
        affine(100, bias = false) -> relu -> affine(100, bias = false) -> relu ->
        affine(100, bias = false) -> relu -> affine(100, bias = false) -> relu ->
        affine(100, bias = false) -> relu
}

type Row = [f32; 100];

/// Every layer's outputs for `inputs` (sample after sample), the weights
/// drawn from `weights`.
fn layers<N: Network<Elem = f32, Input = Row>>(
    mut net: N,
    inputs: &[Row],
    weights: Init,
    rng: &mut StdRng,
) -> Vec<Vec<f32>> {
    init::init_all_with(net.params_mut(), N::TENSORS, weights, rng);
    let hidden = inference::hidden(&net, inputs);
    // An activation folds into the affine step before it, except the last
    // sigmoid, a step of its own (it pairs with the loss): that affine's
    // entry is its input, not a layer's output, so it is skipped.
    let is_output = |i: usize| {
        hidden
            .get(i + 1)
            .is_none_or(|next| next.name.starts_with("affine"))
    };
    (0..hidden.len())
        .filter(|&i| is_output(i))
        .map(|i| hidden[i].values.clone())
        .collect()
}

/// Counts in 30 bins over [0, 1]; values outside are not counted (as
/// NumPy's `range` does), so ReLU's large outputs fall off the right.
fn histogram(values: &[f32]) -> [usize; 30] {
    let mut bins = [0; 30];
    for &v in values {
        if (0.0..=1.0).contains(&v) {
            bins[((v * 30.0) as usize).min(29)] += 1;
        }
    }
    bins
}

fn main() -> ExitCode {
    let args = book::Args::parse_for(
        "book_08_activation_histograms",
        "activation histograms of five layers under different initializations",
    );
    let mut rng = StdRng::seed_from_u64(0);
    // Standard normal inputs, drawn by the initializer's own sampler.
    let mut inputs = vec![[0.0f32; 100]; 1000];
    init::fill(Init::Normal(1.0), inputs.as_flattened_mut(), 1, 1, &mut rng);
    // For 100 → 100, Xavier normal's 2 / (100 + 100) is the classic's 1/100.
    let (xavier, he) = (Init::XavierNormal, Init::HeNormal);
    let sigmoid = || SigmoidStack::<f32>::seeded(0);
    let relu = || ReluStack::<f32>::seeded(0);
    let rows: Vec<(&str, Vec<Vec<f32>>)> = vec![
        (
            "sigmoid, std 1",
            layers(sigmoid(), &inputs, Init::Normal(1.0), &mut rng),
        ),
        (
            "sigmoid, std 0.01",
            layers(sigmoid(), &inputs, Init::Normal(0.01), &mut rng),
        ),
        (
            "sigmoid, Xavier",
            layers(sigmoid(), &inputs, xavier, &mut rng),
        ),
        (
            "ReLU, std 0.01",
            layers(relu(), &inputs, Init::Normal(0.01), &mut rng),
        ),
        ("ReLU, Xavier", layers(relu(), &inputs, xavier, &mut rng)),
        ("ReLU, He", layers(relu(), &inputs, he, &mut rng)),
    ];
    println!(
        "{:<18} std of each layer's outputs (layers 1 to 5)",
        "experiment"
    );
    for (name, layers) in &rows {
        let stds: Vec<String> = layers
            .iter()
            .map(|l| {
                let n = l.len() as f64;
                let mean = l.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
                let var = l
                    .iter()
                    .map(|&v| (f64::from(v) - mean).powi(2))
                    .sum::<f64>()
                    / n;
                format!("{:.4}", var.sqrt())
            })
            .collect();
        println!("{name:<18} {}", stds.join("  "));
    }
    let file = args.figure("book_08_activation_histograms.png");
    let drawn = plot::write_png(&file, (1100, 1000), |area| {
        for ((name, layers), row) in rows.iter().zip(area.split_evenly((6, 1))) {
            let row = row.titled(name, ("sans-serif", 16))?;
            let hists: Vec<[usize; 30]> = layers.iter().map(|l| histogram(l)).collect();
            // ReLU sends about half of all outputs to exactly 0; as in the
            // classic figure, that bin is cut off so the spread stays visible.
            let relu = name.starts_with("ReLU");
            let from = usize::from(relu);
            let top = hists
                .iter()
                .flat_map(|h| h[from..].iter().copied())
                .max()
                .unwrap_or(1)
                .max(1) as f64
                * 1.05;
            for (k, (hist, panel)) in hists.iter().zip(row.split_evenly((1, 5))).enumerate() {
                let mut chart = ChartBuilder::on(&panel)
                    .caption(format!("layer {}", k + 1), ("sans-serif", 12))
                    .margin(4)
                    .x_label_area_size(16)
                    .y_label_area_size(if k == 0 { 44 } else { 8 })
                    .build_cartesian_2d(0.0..1.0, 0.0..top)?;
                let mut mesh = chart.configure_mesh();
                mesh.disable_mesh()
                    .x_labels(3)
                    .y_label_formatter(&|v| format!("{v:.0}"))
                    .label_style(("sans-serif", 10));
                if k == 0 {
                    mesh.y_labels(3);
                } else {
                    mesh.y_labels(0);
                }
                mesh.draw()?;
                chart.draw_series(hist.iter().enumerate().map(|(b, &c)| {
                    Rectangle::new(
                        [
                            (b as f64 / 30.0, 0.0),
                            ((b + 1) as f64 / 30.0, (c as f64).min(top)),
                        ],
                        BLUE.mix(0.7).filled(),
                    )
                }))?;
            }
        }
        Ok(())
    });
    if let Err(e) = drawn {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    println!("figure: {}", file.display());
    ExitCode::SUCCESS
}
