//! Per-epoch metrics, written as CSV or JSON (feature `serde`), and drawn
//! as SVG or PNG (feature `plot`).

use std::path::Path;
use std::string::String;
use std::vec::Vec;

#[cfg(feature = "plot")]
use plotters::prelude::{IntoDrawingArea, SVGBackend};
#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use super::metrics::Regression;

use crate::persist::{PersistError, write_atomic};

/// The metrics of one epoch.
///
/// A network trained with the mean squared error records [`Regression`]
/// metrics (MAE, RMSE, R²) and no accuracy; any other records accuracy.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct EpochRecord {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Mean training loss (training mode, L2 penalty included).
    pub train_loss: f64,
    /// Training accuracy (training mode), in `[0, 1]`; `None` for a
    /// network trained with the mean squared error.
    pub train_accuracy: Option<f64>,
    /// Training MAE, RMSE and R² (training mode), for a network trained
    /// with the mean squared error.
    pub train_regression: Option<Regression>,
    /// Mean validation loss (inference mode), when there is a validation set.
    pub val_loss: Option<f64>,
    /// Validation accuracy, when there is a validation set and the loss is
    /// not the mean squared error.
    pub val_accuracy: Option<f64>,
    /// Validation MAE, RMSE and R², when there is a validation set and the
    /// loss is the mean squared error.
    pub val_regression: Option<Regression>,
    /// Learning rate at the end of the epoch.
    pub learning_rate: f64,
    /// Wall time of the epoch, validation included, in seconds.
    pub seconds: f64,
    /// Training throughput in samples per second.
    pub samples_per_second: f64,
}

/// Every epoch of a run.
#[derive(Debug, Clone, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct History {
    /// The epochs, in order.
    pub epochs: Vec<EpochRecord>,
    /// The epoch whose parameters the network holds at the end (the best
    /// validation loss when early stopping restored it), from 1.
    pub kept_epoch: Option<usize>,
}

impl History {
    /// The last epoch's record.
    pub fn last(&self) -> Option<&EpochRecord> {
        self.epochs.last()
    }

    /// The history as CSV, one row per epoch; empty cells for missing
    /// values (accuracy for a regression, MAE, RMSE and R² otherwise).
    pub fn to_csv(&self) -> String {
        let mut out = String::from(
            "epoch,train_loss,train_accuracy,val_loss,val_accuracy,learning_rate,seconds,\
             samples_per_second,train_mae,train_rmse,train_r2,val_mae,val_rmse,val_r2\n",
        );
        let opt = |v: Option<f64>| v.map(|v| std::format!("{v}")).unwrap_or_default();
        let reg =
            |r: Option<Regression>| [r.map(|r| r.mae), r.map(|r| r.rmse), r.map(|r| r.r2)].map(opt);
        for e in &self.epochs {
            let [tm, trm, tr2] = reg(e.train_regression);
            let [vm, vrm, vr2] = reg(e.val_regression);
            out.push_str(&std::format!(
                "{},{},{},{},{},{},{},{},{tm},{trm},{tr2},{vm},{vrm},{vr2}\n",
                e.epoch,
                e.train_loss,
                opt(e.train_accuracy),
                opt(e.val_loss),
                opt(e.val_accuracy),
                e.learning_rate,
                e.seconds,
                e.samples_per_second
            ));
        }
        out
    }

    /// The history as pretty-printed JSON.
    ///
    /// Needs the `serde` feature.
    #[cfg(feature = "serde")]
    pub fn to_json(&self) -> String {
        // Serializing plain numbers and options cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Writes [`History::to_csv`] to `path`, atomically.
    ///
    /// # Errors
    /// On any I/O failure; an existing file is left intact.
    pub fn write_csv(&self, path: impl AsRef<Path>) -> Result<(), PersistError> {
        write_atomic(path.as_ref(), self.to_csv().as_bytes())
    }

    /// Writes [`History::to_json`] to `path`, atomically.
    ///
    /// Needs the `serde` feature.
    ///
    /// # Errors
    /// On any I/O failure; an existing file is left intact.
    #[cfg(feature = "serde")]
    pub fn write_json(&self, path: impl AsRef<Path>) -> Result<(), PersistError> {
        write_atomic(path.as_ref(), self.to_json().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(epoch: usize, val: Option<f64>) -> EpochRecord {
        EpochRecord {
            epoch,
            train_loss: 0.5,
            train_accuracy: Some(0.75),
            train_regression: None,
            val_loss: val,
            val_accuracy: val.map(|_| 0.8),
            val_regression: None,
            learning_rate: 0.01,
            seconds: 1.5,
            samples_per_second: 1000.0,
        }
    }

    #[test]
    fn csv_has_a_row_per_epoch_and_empty_missing_cells() {
        let h = History {
            epochs: std::vec![record(1, None), record(2, Some(0.25))],
            kept_epoch: Some(2),
        };
        let csv = h.to_csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[1], "1,0.5,0.75,,,0.01,1.5,1000,,,,,,");
        assert_eq!(lines[2], "2,0.5,0.75,0.25,0.8,0.01,1.5,1000,,,,,,");
    }

    #[test]
    #[cfg(feature = "plot")]
    fn svg_draws_both_curves() {
        let h = History {
            epochs: std::vec![record(1, Some(0.3)), record(2, Some(0.2))],
            kept_epoch: None,
        };
        let svg = h.to_svg();
        assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
        assert!(svg.contains("training") && svg.contains("validation"));
        assert!(
            svg.matches("<polyline").count() >= 4,
            "four curves expected"
        );
    }

    #[test]
    #[cfg(feature = "serde")]
    fn json_round_trips_through_serde_json() {
        let h = History {
            epochs: std::vec![record(1, Some(0.1))],
            kept_epoch: None,
        };
        let v: serde_json::Value = serde_json::from_str(&h.to_json()).unwrap();
        assert_eq!(v["epochs"][0]["val_loss"], 0.1);
        assert!(v["kept_epoch"].is_null());
    }
}

#[cfg(feature = "plot")]
impl History {
    /// The loss and accuracy curves (training and, when recorded,
    /// validation) as an SVG document.
    ///
    /// Needs the `plot` feature.
    pub fn to_svg(&self) -> String {
        crate::plot::register_font();
        let mut svg = String::new();
        // Drawing into a string cannot fail except on plotters' own bugs; an
        // empty document is then the honest result.
        let drawn = {
            let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
            plot::draw(self, &root)
        };
        if drawn.is_err() {
            svg.clear();
        }
        svg
    }

    /// Writes [`History::to_svg`] to `path`, atomically.
    ///
    /// Needs the `plot` feature.
    ///
    /// # Errors
    /// On any I/O failure; an existing file is left intact.
    pub fn write_svg(&self, path: impl AsRef<Path>) -> Result<(), PersistError> {
        write_atomic(path.as_ref(), self.to_svg().as_bytes())
    }

    /// Writes the same curves as [`History::to_svg`] as a PNG (see
    /// [`crate::plot`]), atomically.
    ///
    /// Needs the `plot` feature.
    ///
    /// # Errors
    /// As [`crate::plot::write_png`].
    pub fn write_png(&self, path: impl AsRef<Path>) -> Result<(), crate::plot::PlotError> {
        crate::plot::write_png(path, SIZE, |area| plot::draw(self, area))
    }
}

/// The figure's size in pixels: two panels side by side.
#[cfg(feature = "plot")]
const SIZE: (u32, u32) = (960, 400);

#[cfg(feature = "plot")]
mod plot {
    use plotters::coord::Shift;
    use plotters::prelude::*;
    use std::vec::Vec;

    use super::History;

    type Result = crate::plot::DrawResult;

    /// Points `(epoch, value)` of one curve.
    type Curve = Vec<(f64, f64)>;

    pub(super) fn draw<DB: DrawingBackend>(
        history: &History,
        root: &DrawingArea<DB, Shift>,
    ) -> Result
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let (left, right) = root.split_horizontally(480);
        let epochs = history.epochs.len().max(2) as f64;
        let series = |f: fn(&super::EpochRecord) -> Option<f64>| -> Vec<(f64, f64)> {
            history
                .epochs
                .iter()
                .filter_map(|e| f(e).map(|v| (e.epoch as f64, v)))
                .collect()
        };
        let panels: [(&DrawingArea<_, _>, &str, [Curve; 2]); 2] = [
            (
                &left,
                "loss",
                [series(|e| Some(e.train_loss)), series(|e| e.val_loss)],
            ),
            (
                &right,
                "accuracy",
                [series(|e| e.train_accuracy), series(|e| e.val_accuracy)],
            ),
        ];
        for (area, title, [train, valid]) in panels {
            let top = train
                .iter()
                .chain(&valid)
                .map(|p| p.1)
                .fold(0.0f64, f64::max)
                .max(1e-9);
            let mut chart = ChartBuilder::on(area)
                .caption(title, ("sans-serif", 20))
                .margin(12)
                .x_label_area_size(32)
                .y_label_area_size(48)
                .build_cartesian_2d(1.0..epochs, 0.0..top * 1.05)?;
            chart.configure_mesh().x_desc("epoch").draw()?;
            chart
                .draw_series(LineSeries::new(train, &BLUE))?
                .label("training")
                .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], BLUE));
            if !valid.is_empty() {
                chart
                    .draw_series(LineSeries::new(valid, &RED))?
                    .label("validation")
                    .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], RED));
            }
            chart
                .configure_series_labels()
                .border_style(BLACK)
                .background_style(WHITE)
                .draw()?;
        }
        root.present()?;
        Ok(())
    }
}
