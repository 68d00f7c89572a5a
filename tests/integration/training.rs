//! Training through the public API: learning, divergence handling, determinism.

use constnet::data::InMemory;
use constnet::optim::{Adam, Sgd};
use constnet::train::{Progress, Stepper, TrainError, Trainer};
use constnet::{Network, network};

use crate::common;

network! {
    struct Xor: [2] => affine(2) -> tanh -> affine(1) -> sigmoid
    struct TwoClass: [4] => affine(8) -> relu -> affine(2) -> softmax
    struct Regressor: [3] => affine(8) -> relu -> affine(1), loss = mse
    struct Dropped: [4] => affine(16) -> relu -> dropout(0.3) -> batchnorm -> affine(2) -> softmax
}

const XOR_X: [[f32; 2]; 4] = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
const XOR_T: [[f32; 1]; 4] = [[0.0], [1.0], [1.0], [0.0]];

#[test]
fn xor_is_learned_from_random_init() {
    let mut net = Xor::<f32>::seeded(3);
    let mut stepper = Stepper::<Xor>::new(0).threads(1);
    let mut opt = Adam::new(0.1);
    for _ in 0..300 {
        stepper.step(&mut net, &XOR_X, &XOR_T, &mut opt).unwrap();
    }
    for (x, t) in XOR_X.iter().zip(XOR_T) {
        let y = net.predict(x)[0];
        assert_eq!(y > 0.5, t[0] > 0.5, "xor{x:?} = {y}");
    }
}

fn two_class(n: usize, seed: u64) -> InMemory<[f32; 4], usize> {
    let xs: Vec<[f64; 4]> = common::inputs(n, seed);
    let labels: Vec<usize> = xs
        .iter()
        .map(|x| usize::from(x[0] + 0.5 * x[1] - x[3] > 0.0))
        .collect();
    let xs = xs.iter().map(|x| x.map(|v| v as f32)).collect();
    InMemory::new(xs, labels).unwrap()
}

#[test]
fn fifty_sgd_steps_halve_the_loss() {
    let data = two_class(64, 1);
    let mut net = TwoClass::<f32>::seeded(2);
    let mut stepper = Stepper::<TwoClass>::new(0).threads(1);
    let mut opt = Sgd::new(0.5);
    let (xs, ts) = (data.inputs(), data.targets());
    let first = stepper.step(&mut net, xs, ts, &mut opt).unwrap().loss;
    let mut last = first;
    for _ in 0..50 {
        last = stepper.step(&mut net, xs, ts, &mut opt).unwrap().loss;
    }
    assert!(last < first / 2.0, "loss {first} -> {last}");
}

#[test]
fn a_diverging_loss_stops_training_and_keeps_the_last_good_parameters() {
    let xs: Vec<[f32; 3]> = common::inputs::<[f64; 3]>(16, 4)
        .iter()
        .map(|x| x.map(|v| v as f32))
        .collect();
    let ts: Vec<[f32; 1]> = xs.iter().map(|x| [x[0] * 3.0 - x[1]]).collect();
    let mut net = Regressor::<f32>::seeded(5);
    let mut stepper = Stepper::<Regressor>::new(0).threads(1);
    let mut opt = Sgd::new(1e6);
    let mut before = net.clone();
    let err = loop {
        before.clone_from(&net);
        match stepper.step(&mut net, &xs, &ts, &mut opt) {
            Ok(_) => assert!(stepper.steps() < 100, "never diverged"),
            Err(e) => break e,
        }
    };
    let TrainError::NonFinite { step, loss, .. } = err else {
        panic!("{err}")
    };
    assert!(!loss.is_finite());
    assert!(err.to_string().contains(&format!("step {step}")), "{err}");
    assert_eq!(
        net.params(),
        before.params(),
        "the failing step changed the parameters"
    );
    assert!(net.params().iter().all(|p| p.is_finite()));
}

fn train_once(threads: usize) -> Vec<f32> {
    let data = two_class(200, 6);
    let (train, valid) = data.split(0.2, 7);
    let mut net = Dropped::<f32>::seeded(8);
    let mut opt = Adam::new(0.01);
    Trainer::new()
        .epochs(3)
        .batch_size(16)
        .seed(9)
        .threads(threads)
        .progress(Progress::Quiet)
        .fit(&mut net, &train, Some(&valid), &mut opt)
        .unwrap();
    net.params().to_vec()
}

#[test]
fn same_seed_gives_bit_identical_weights() {
    for threads in [1, 2] {
        let a = train_once(threads);
        let b = train_once(threads);
        assert!(
            a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()),
            "threads {threads}"
        );
    }
}

#[test]
fn trainer_reports_history_and_stops_early() {
    let data = two_class(300, 10);
    let (train, valid) = data.split(0.2, 11);
    let mut net = TwoClass::<f32>::seeded(12);
    let mut opt = Adam::new(0.05);
    let history = Trainer::new()
        .epochs(60)
        .batch_size(20)
        .early_stopping(3)
        .progress(Progress::Quiet)
        .fit(&mut net, &train, Some(&valid), &mut opt)
        .unwrap();
    let last = history.last().unwrap();
    assert!(last.val_accuracy.unwrap() > 0.85, "{last:?}");
    assert!(history.epochs.len() < 60, "early stopping never triggered");
    let kept = history.kept_epoch.unwrap();
    let best = history
        .epochs
        .iter()
        .map(|e| e.val_loss.unwrap())
        .fold(f64::INFINITY, f64::min);
    assert_eq!(history.epochs[kept - 1].val_loss.unwrap(), best);
    let csv = history.to_csv();
    assert_eq!(csv.lines().count(), history.epochs.len() + 1);
}

#[test]
fn xor_trains_in_fixed_buffers_without_a_heap() {
    use constnet::FixedWorkspace;
    const B: usize = 4;
    let mut ws = FixedWorkspace::<
        f32,
        { Xor::<f32>::workspace_len(B) },
        { Xor::<f32>::index_len(B) },
        { Xor::<f32>::STORE_LEN },
    >::new();
    let mut net = Xor::<f32, constnet::Inline>::zeroed_inline();
    let mut rng = <constnet::rand::rngs::StdRng as constnet::rand::SeedableRng>::seed_from_u64(3);
    constnet::init::init_all(net.params_mut(), <Xor as Network>::TENSORS, &mut rng);
    let mut opt = constnet::optim::Adam::with_state(
        0.1,
        [0.0f32; Xor::<f32>::STORE_LEN],
        [0.0f32; Xor::<f32>::STORE_LEN],
    );
    let first = net
        .train_step_fixed(&XOR_X, &XOR_T, &mut ws, &mut opt, 0)
        .unwrap();
    let mut last = first;
    for _ in 0..300 {
        last = net
            .train_step_fixed(&XOR_X, &XOR_T, &mut ws, &mut opt, 0)
            .unwrap();
    }
    assert!(last < first / 10.0, "loss {first} -> {last}");
    for (x, t) in XOR_X.iter().zip(XOR_T) {
        assert_eq!(net.predict(x)[0] > 0.5, t[0] > 0.5);
    }
}

network! {
    struct Normed: [3] => batchnorm(momentum = 0.9) -> affine(2) -> softmax
}

#[test]
fn batch_norm_running_averages_follow_the_batch_statistics() {
    let xs = [
        [1.0f64, 2.0, -1.0],
        [3.0, 2.0, 0.0],
        [2.0, 5.0, 1.0],
        [0.0, -1.0, 4.0],
    ];
    let mut net = Normed::<f64>::seeded(1);
    let mut stepper = Stepper::<Normed<f64>>::new(0).threads(1);
    stepper
        .step(&mut net, &xs, &[0usize, 1, 0, 1], &mut Sgd::new(0.1))
        .unwrap();
    for k in 0..3 {
        let mean = xs.iter().map(|x| x[k]).sum::<f64>() / 4.0;
        let var = xs.iter().map(|x| (x[k] - mean).powi(2)).sum::<f64>() / 4.0;
        let rm = net.tensor("batchnorm1.running_mean").unwrap()[k];
        let rv = net.tensor("batchnorm1.running_var").unwrap()[k];
        assert!(
            (rm - 0.1 * mean).abs() < 1e-12,
            "running mean {rm} vs {}",
            0.1 * mean
        );
        assert!(
            (rv - (0.9 + 0.1 * var)).abs() < 1e-12,
            "running var {rv} vs {}",
            0.9 + 0.1 * var
        );
    }
    // Inference normalizes with the running statistics, not the sample's.
    let gamma = net.tensor("batchnorm1.weight").unwrap().to_vec();
    let beta = net.tensor("batchnorm1.bias").unwrap().to_vec();
    let (rm, rv) = (
        net.tensor("batchnorm1.running_mean").unwrap().to_vec(),
        net.tensor("batchnorm1.running_var").unwrap().to_vec(),
    );
    let x = [0.5, 0.5, 0.5];
    let normed: Vec<f64> = (0..3)
        .map(|k| gamma[k] * (x[k] - rm[k]) / (rv[k] + 1e-5).sqrt() + beta[k])
        .collect();
    let w = net.tensor("affine1.weight").unwrap();
    let b = net.tensor("affine1.bias").unwrap();
    let logits: Vec<f64> = (0..2)
        .map(|o| b[o] + (0..3).map(|k| w[o * 3 + k] * normed[k]).sum::<f64>())
        .collect();
    let p1 = 1.0 / (1.0 + (logits[0] - logits[1]).exp());
    assert!((net.predict(&x)[1] - p1).abs() < 1e-12);
}

network! {
    struct Plain: [4] => affine(6) -> relu -> affine(3) -> softmax
    struct NormedDeep: [4] => affine(6) -> batchnorm -> relu -> affine(3) -> softmax
}

/// Shards of uneven sizes (batch 5 on 4 threads, 100 on 16) must neither
/// panic nor change the result beyond summation order, and batch-norm
/// statistics must stay those of the whole batch.
#[test]
fn any_thread_count_splits_any_batch() {
    for batch in [1usize, 4, 5, 6, 100] {
        let xs: Vec<[f64; 4]> = common::inputs(batch, batch as u64);
        let ts = common::labels(batch, 3, 7);
        let run = |threads: usize| {
            let mut plain = Plain::<f64>::seeded(1);
            let mut normed = NormedDeep::<f64>::seeded(1);
            let mut s1 = Stepper::<Plain<f64>>::new(0).threads(threads);
            let mut s2 = Stepper::<NormedDeep<f64>>::new(0).threads(threads);
            let l1 = s1
                .step(&mut plain, &xs, &ts, &mut Sgd::new(0.1))
                .unwrap()
                .loss;
            let l2 = s2
                .step(&mut normed, &xs, &ts, &mut Sgd::new(0.1))
                .unwrap()
                .loss;
            (
                l1,
                plain.params().to_vec(),
                l2,
                normed.tensor("batchnorm1.running_var").unwrap().to_vec(),
            )
        };
        let (l1, p1, _, rv1) = run(1);
        for threads in [2, 3, 4, 16] {
            let (l, p, l2, rv) = run(threads);
            assert!(
                (l - l1).abs() < 1e-12,
                "batch {batch}, {threads} threads: loss {l} vs {l1}"
            );
            assert!(l2.is_finite());
            common::assert_all_close(&p, &p1, 1e-12);
            common::assert_all_close(&rv, &rv1, 1e-12);
        }
    }
}

#[test]
fn labels_outside_the_classes_are_errors_not_panics() {
    let mut net = Plain::<f32>::seeded(1);
    let mut stepper = Stepper::<Plain>::new(0).threads(1);
    let err = stepper
        .step(
            &mut net,
            &[[0.0; 4], [1.0; 4]],
            &[1usize, 3],
            &mut Sgd::new(0.1),
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            TrainError::Label {
                index: 1,
                label: 3,
                classes: 3
            }
        ),
        "{err}"
    );
    let data = InMemory::new(vec![[0.0f32; 4]; 3], vec![0usize, 5, 1]).unwrap();
    let err = Trainer::new()
        .progress(Progress::Quiet)
        .fit(&mut net, &data, None, &mut Sgd::new(0.1))
        .unwrap_err();
    assert!(
        matches!(
            err,
            TrainError::Label {
                index: 1,
                label: 5,
                ..
            }
        ),
        "{err}"
    );
}
