//! The smallest training app, built with constnet's minimal feature set
//! (`default-features = false, features = ["std"]`): declares a network,
//! trains it on data made in memory, saves it in constnet's byte format,
//! loads it back and checks that the copy predicts exactly what the
//! original does. Exits non-zero on any failure.

use std::error::Error;

use constnet::data::InMemory;
use constnet::optim::Adam;
use constnet::persist;
use constnet::train::{Progress, Trainer, evaluate};

constnet::network! {
    /// Tells which quadrant of the plane a point lies in.
    pub struct Quadrants: [2] => affine(16) -> relu -> affine(4) -> softmax
}

/// Points on a grid over [-1, 1]², away from the axes, with their quadrant.
fn quadrants() -> Result<InMemory<[f32; 2], usize>, Box<dyn Error>> {
    let (mut points, mut labels) = (Vec::new(), Vec::new());
    for i in 0..20 {
        for j in 0..20 {
            let x = (i as f32 - 9.5) / 10.0;
            let y = (j as f32 - 9.5) / 10.0;
            points.push([x, y]);
            labels.push(usize::from(x < 0.0) + 2 * usize::from(y < 0.0));
        }
    }
    Ok(InMemory::new(points, labels)?)
}

fn main() -> Result<(), Box<dyn Error>> {
    let (train, valid) = quadrants()?.stratified_split(0.25, 0);
    let mut net = Quadrants::<f32>::seeded(1);
    let history = Trainer::new()
        .epochs(60)
        .batch_size(20)
        .progress(Progress::Quiet)
        .fit(&mut net, &train, Some(&valid), &mut Adam::new(0.02))?;
    let last = history.last().ok_or("no epoch recorded")?;
    let accuracy = last.val_accuracy.ok_or("no validation accuracy")?;
    println!(
        "trained {} epochs: loss {:.4}, validation accuracy {:.1}%",
        history.epochs.len(),
        last.train_loss,
        100.0 * accuracy
    );
    if accuracy < 0.95 {
        return Err(format!("validation accuracy {accuracy} is below 0.95").into());
    }

    let path = std::env::temp_dir().join(format!("constnet-minimal-{}.cnet", std::process::id()));
    persist::save_bytes(&net, &path)?;
    let bytes = std::fs::metadata(&path)?.len();
    let mut loaded = Quadrants::<f32>::zeroed();
    let load = persist::load_bytes(&mut loaded, &path);
    std::fs::remove_file(&path)?;
    load?;

    for x in train.inputs().iter().chain(valid.inputs()) {
        let (a, b) = (net.predict(x), loaded.predict(x));
        if a.map(f32::to_bits) != b.map(f32::to_bits) {
            return Err(format!(
                "the loaded network predicts {b:?} for {x:?}, the trained one {a:?}"
            )
            .into());
        }
    }
    let metrics = evaluate(&loaded, &valid, 100)?;
    println!(
        "saved and loaded {} parameters ({bytes} bytes): predictions bit-identical, \
         validation loss {:.4}",
        Quadrants::<f32>::PARAM_COUNT,
        metrics.loss
    );
    Ok(())
}
