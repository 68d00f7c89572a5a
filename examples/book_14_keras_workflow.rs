//! # 14. A Keras-style workflow: callbacks, early stopping, the best epoch
//!
//! The pattern of *Hands-On Machine Learning*'s Keras chapter, twice.
//!
//! **Regression** on the diabetes set (442 patients, 10 variables): hold
//! out 20% for testing and 20% of the rest for validation, standardize the
//! inputs and the target with statistics of the training part only, train
//! `10 → 30 → 30 → 1` (ReLU) with MSE and Adam, stop when the validation
//! RMSE has not improved for 20 epochs, and keep the best epoch's weights
//! through a `SaveBest` callback. Report test RMSE (in the target's units)
//! and R². On this set linear regression reaches R² ≈ 0.45–0.5 on held-out
//! patients; a small MLP does no better: the data is noisy, not nonlinear.
//!
//! **Classification** on the 8×8 digits with the same callbacks, watching
//! validation accuracy: about 97% on the test split.
//!
//! Run: `cargo run --release --example book_14_keras_workflow` (`--smoke`:
//! 3 epochs). Figure: `book_14_keras_workflow.png`: predicted against
//! actual progression, the regression's loss curves and the digits'
//! accuracy curves, the kept epoch marked.

#[path = "book/mod.rs"]
mod book;

use std::process::ExitCode;

use constnet::data::{Diabetes, Digits, InMemory, Standardize};
use constnet::network;
use constnet::optim::Adam;
use constnet::persist::load_bytes;
use constnet::plot::{self, plotters::prelude::*};
use constnet::text::count;
use constnet::train::{
    EpochRecord, History, Monitor, Progress, SaveBest, Trainer, evaluate, regression_metrics,
};

network! {
    /// The regression MLP.
    pub struct Regressor: [10] => affine(30) -> relu -> affine(30) -> relu -> affine(1)
    /// The classification MLP.
    pub struct Classifier: [64] => affine(64) -> relu -> affine(32) -> relu -> affine(10) -> softmax
}

/// Train, validation and test parts: 20% for testing, 20% of the rest for validation.
fn three_way<X: Copy, T: Copy>(data: InMemory<X, T>) -> [InMemory<X, T>; 3] {
    let (rest, test) = data.split(0.2, 0);
    let (train, val) = rest.split(0.2, 1);
    [train, val, test]
}

fn trainer(epochs: usize, batch: usize) -> Trainer {
    Trainer::new()
        .epochs(epochs)
        .batch_size(batch)
        .seed(0)
        .early_stopping(20)
        .progress(Progress::Quiet)
}

/// What the regression run reports.
struct Fitted {
    /// Test RMSE in the target's units.
    rmse: f64,
    /// Test R².
    r2: f64,
    history: History,
    /// (actual, predicted) progression of every test patient.
    pairs: Vec<(f64, f64)>,
}

/// One metric of an epoch's record.
type Metric = fn(&EpochRecord) -> Option<f64>;

fn regression(args: &book::Args) -> Result<Fitted, String> {
    let [mut train, mut val, mut test] = three_way(Diabetes::load::<f32>());
    let inputs = Standardize::fit_per_feature(train.inputs());
    let target = Standardize::fit_global(train.targets());
    for part in [&mut train, &mut val, &mut test] {
        inputs.apply_all(part.inputs_mut());
        target.apply_all(part.targets_mut());
    }
    let best = args.figure("book_14_best_diabetes.cnet");
    let mut save = SaveBest::new(&best, Monitor::ValRmse);
    let mut net = Regressor::<f32>::seeded(0);
    let mut opt = Adam::new(0.001);
    let history = trainer(if args.smoke { 3 } else { 500 }, 32)
        .fit_with_callbacks(
            &mut net,
            &train,
            Some(&val),
            &mut opt,
            |_, _| {},
            &mut [&mut save],
        )
        .map_err(|e| e.to_string())?;
    load_bytes(&mut net, &best).map_err(|e| e.to_string())?;
    let m = regression_metrics(&net, &test, 100).map_err(|e| e.to_string())?;
    let (mean, std) = (target.mean()[0], target.std()[0]);
    let pairs = test
        .iter()
        .map(|(x, t)| {
            (
                f64::from(t[0]) * std + mean,
                f64::from(net.predict(x)[0]) * std + mean,
            )
        })
        .collect();
    Ok(Fitted {
        rmse: m.rmse * std,
        r2: m.r2,
        history,
        pairs,
    })
}

/// Test accuracy and the history.
fn classification(args: &book::Args) -> Result<(f64, History), String> {
    let [train, val, test] = three_way(Digits::load_scaled::<[f32; 64]>());
    let best = args.figure("book_14_best_digits.cnet");
    let mut save = SaveBest::new(&best, Monitor::ValAccuracy);
    let mut net = Classifier::<f32>::seeded(0);
    let mut opt = Adam::new(0.001);
    let history = trainer(if args.smoke { 3 } else { 300 }, 32)
        .fit_with_callbacks(
            &mut net,
            &train,
            Some(&val),
            &mut opt,
            |_, _| {},
            &mut [&mut save],
        )
        .map_err(|e| e.to_string())?;
    load_bytes(&mut net, &best).map_err(|e| e.to_string())?;
    let accuracy = evaluate(&net, &test, 500)
        .map_err(|e| e.to_string())?
        .accuracy
        .unwrap_or(f64::NAN);
    Ok((accuracy, history))
}

fn main() -> ExitCode {
    let args = book::Args::parse_for(
        "book_14_keras_workflow",
        "diabetes regression and digits classification with early stopping and save-best",
    );
    let (
        Fitted {
            rmse,
            r2,
            history: reg_history,
            pairs,
        },
        (accuracy, cls_history),
    ) = match regression(&args).and_then(|r| Ok((r, classification(&args)?))) {
        Ok(results) => results,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let best_epoch = |h: &History, m: Monitor| {
        h.epochs
            .iter()
            .filter_map(|e| m.value(e).map(|v| (e.epoch, v)))
            .fold(None, |best: Option<(usize, f64)>, (e, v)| match best {
                Some((_, b)) if !m.improves(v, Some(b)) => best,
                _ => Some((e, v)),
            })
            .map_or(0, |(e, _)| e)
    };
    let reg_best = best_epoch(&reg_history, Monitor::ValRmse);
    let cls_best = best_epoch(&cls_history, Monitor::ValAccuracy);
    println!(
        "diabetes: stopped after {}, kept epoch {reg_best}; test RMSE {rmse:.1} (target 25–346), R² {r2:.3}",
        count(reg_history.epochs.len(), "epoch", "epochs")
    );
    println!(
        "digits:   stopped after {}, kept epoch {cls_best}; test accuracy {:.2}%",
        count(cls_history.epochs.len(), "epoch", "epochs"),
        100.0 * accuracy
    );
    let file = args.figure("book_14_keras_workflow.png");
    let drawn = plot::write_png(&file, (1140, 380), |area| {
        let panels = area.split_evenly((1, 3));
        let mut scatter = ChartBuilder::on(&panels[0])
            .caption(format!("diabetes test set: R² {r2:.2}"), ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..360.0, 0.0..360.0)?;
        scatter
            .configure_mesh()
            .x_desc("actual")
            .y_desc("predicted")
            .draw()?;
        scatter.draw_series(LineSeries::new([(0.0, 0.0), (360.0, 360.0)], BLACK))?;
        scatter.draw_series(
            pairs
                .iter()
                .map(|&p| Circle::new(p, 3, BLUE.mix(0.7).filled())),
        )?;
        let curves: [(&History, &str, usize, Metric, Metric); 2] = [
            (
                &reg_history,
                "diabetes: MSE (standardized)",
                reg_best,
                |e| Some(e.train_loss),
                |e| e.val_loss,
            ),
            (
                &cls_history,
                "digits: accuracy",
                cls_best,
                |e| e.train_accuracy,
                |e| e.val_accuracy,
            ),
        ];
        for ((history, title, best, train, val), panel) in curves.into_iter().zip(&panels[1..]) {
            let epochs = history.epochs.len().max(2) as f64;
            let top = history
                .epochs
                .iter()
                .flat_map(|e| train(e).into_iter().chain(val(e)))
                .fold(0.0f64, f64::max)
                .min(2.0);
            let mut chart = ChartBuilder::on(panel)
                .caption(title, ("sans-serif", 16))
                .margin(10)
                .x_label_area_size(30)
                .y_label_area_size(40)
                .build_cartesian_2d(1.0..epochs, 0.0..top * 1.05)?;
            chart.configure_mesh().x_desc("epoch").x_labels(6).draw()?;
            for (f, color, label) in [(train, BLUE, "training"), (val, RED, "validation")] {
                chart
                    .draw_series(LineSeries::new(
                        history
                            .epochs
                            .iter()
                            .filter_map(|e| f(e).map(|v| (e.epoch as f64, v))),
                        color.stroke_width(2),
                    ))?
                    .label(label)
                    .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color));
            }
            chart.draw_series(DashedLineSeries::new(
                [(best as f64, 0.0), (best as f64, top)],
                5,
                5,
                BLACK.into(),
            ))?;
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::MiddleRight)
                .border_style(BLACK)
                .background_style(WHITE)
                .draw()?;
        }
        Ok(())
    });
    if let Err(e) = drawn {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    println!("figure: {} (dashed: the kept epoch)", file.display());
    ExitCode::SUCCESS
}
