//! No silent garbage: a NaN or an infinity anywhere in training or
//! evaluation is a typed error at the step where it appears, and that step
//! changes nothing; bad arguments (batch size 0, empty sets, runs of zero
//! steps) are typed errors, never a loss of 0 or a panic.

use constnet::data::InMemory;
use constnet::optim::{Adam, Optimizer, Sgd};
use constnet::train::{Clip, Fault, Progress, Stepper, TrainError, Trainer, evaluate};
use constnet::{FixedWorkspace, Network, Trainable, network};

use crate::common;

network! {
    /// A small SimpleConvNet: convolution, pooling, two affine layers.
    struct SmallCnn: [1, 12, 12] =>
        conv(4, 3) -> relu -> pool(2) -> affine(16) -> relu -> affine(10) -> softmax
    struct Mlp: [4] => affine(8) -> relu -> affine(3) -> softmax
    struct Normed: [4] => affine(6) -> batchnorm -> relu -> affine(3) -> softmax
    struct Regressor: [3] => affine(4) -> relu -> affine(1), loss = mse
}

type Image = [[[f32; 12]; 12]; 1];

fn images(n: usize, seed: u64) -> Vec<Image> {
    common::inputs::<[[[f64; 12]; 12]; 1]>(n, seed)
        .iter()
        .map(|x| x.map(|c| c.map(|r| r.map(|v| v as f32))))
        .collect()
}

fn rows(n: usize, seed: u64) -> Vec<[f32; 4]> {
    common::inputs::<[f64; 4]>(n, seed)
        .iter()
        .map(|x| x.map(|v| v as f32))
        .collect()
}

/// Parameters as bits, so NaN compares equal to itself and -0 differs from 0.
fn bits(values: &[f32]) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

/// The optimizer's named state buffers and step counter, as bits.
fn state_of(opt: &impl Optimizer<f32>) -> (u64, Vec<(&'static str, Vec<u32>)>) {
    let mut state = Vec::new();
    opt.state(&mut |name, values| state.push((name, bits(values))));
    (opt.step_count(), state)
}

fn all_finite(values: &[f32]) -> bool {
    values.iter().all(|v| v.is_finite())
}

#[test]
fn sgd_with_infinite_learning_rate_stops_at_step_zero_and_changes_nothing() {
    let (xs, ts) = (images(8, 1), common::labels(8, 10, 2));
    let mut net = SmallCnn::<f32>::seeded(3);
    let before = bits(net.params());
    let mut stepper = Stepper::<SmallCnn>::new(0).threads(2);
    let mut opt = Sgd::new(f64::INFINITY);
    let err = stepper.step(&mut net, &xs, &ts, &mut opt).unwrap_err();
    let TrainError::NonFinite {
        step: 0,
        fault: Fault::Update { tensor },
        loss,
    } = err
    else {
        panic!("{err}")
    };
    assert_eq!(tensor, "conv1.weight");
    assert!(loss.is_finite());
    let message = err.to_string();
    assert!(
        message.starts_with("step 0 stopped: the update would make `conv1.weight` NaN or infinite")
            && message.contains("keeps the parameters and the optimizer the state"),
        "{message}"
    );
    assert_eq!(bits(net.params()), before);
    assert_eq!(stepper.steps(), 0);
    // The same step with a usable rate goes through.
    opt.lr = 0.1;
    stepper.step(&mut net, &xs, &ts, &mut opt).unwrap();
    assert_eq!(stepper.steps(), 1);
    assert!(all_finite(net.params()) && bits(net.params()) != before);
}

#[test]
fn adam_at_a_huge_rate_stops_at_the_first_bad_step_and_can_continue() {
    let (xs, ts) = (images(8, 4), common::labels(8, 10, 5));
    let mut net = SmallCnn::<f32>::seeded(6);
    let mut stepper = Stepper::<SmallCnn>::new(0).threads(2);
    let mut opt = Adam::new(1e9);
    let mut good_steps = 0u64;
    let err = loop {
        let (params, state) = (bits(net.params()), state_of(&opt));
        match stepper.step(&mut net, &xs, &ts, &mut opt) {
            Ok(stats) => {
                // Every step that reports success leaves finite numbers.
                assert!(stats.loss.is_finite());
                assert!(all_finite(net.params()), "step {good_steps}");
                opt.state(&mut |name, v| assert!(all_finite(v), "{name} at step {good_steps}"));
                good_steps += 1;
                assert!(good_steps < 20, "Adam at 1e9 never failed");
            }
            Err(err) => {
                assert_eq!(
                    bits(net.params()),
                    params,
                    "the failing step changed the network"
                );
                assert_eq!(
                    state_of(&opt),
                    state,
                    "the failing step changed the optimizer"
                );
                break err;
            }
        }
    };
    let TrainError::NonFinite { step, fault, .. } = err else {
        panic!("{err}")
    };
    assert_eq!(step, good_steps);
    assert!(
        matches!(
            fault,
            Fault::Update { .. } | Fault::OptimizerState { .. } | Fault::Loss
        ),
        "{err}"
    );
    // Training continues from the parameters and moments of the last good
    // step, with Adam's step counter where it was. The good steps at 1e9
    // threw the weights far enough that their gradients square past `f32`'s
    // range, which a smaller rate alone cannot undo, so clipping joins it.
    opt.lr = 1e-3;
    let mut careful = Stepper::<SmallCnn>::new(0).threads(2).clip(Clip::Norm(1.0));
    careful.step(&mut net, &xs, &ts, &mut opt).unwrap();
    assert_eq!(opt.step_count(), good_steps + 1);
    assert!(all_finite(net.params()));
}

#[test]
fn a_refused_update_keeps_the_running_statistics() {
    let xs = rows(6, 7);
    let ts = common::labels(6, 3, 8);
    let mut net = Normed::<f32>::seeded(9);
    // One good step, so the running statistics have moved off their start.
    let mut stepper = Stepper::<Normed>::new(0).threads(2);
    stepper
        .step(&mut net, &xs, &ts, &mut Sgd::new(0.1))
        .unwrap();
    let before = bits(net.params());
    let err = stepper
        .step(&mut net, &xs, &ts, &mut Sgd::new(f64::INFINITY))
        .unwrap_err();
    assert!(
        matches!(err, TrainError::NonFinite { step: 1, .. }),
        "{err}"
    );
    assert_eq!(bits(net.params()), before);

    // The heap-free step backs them up in its workspace.
    const B: usize = 6;
    let mut ws = FixedWorkspace::<
        f32,
        { Normed::<f32>::workspace_len(B) },
        { Normed::<f32>::index_len(B) },
        { Normed::<f32>::STORE_LEN },
    >::new();
    let xs: [[f32; 4]; B] = xs.try_into().unwrap();
    let ts: [usize; B] = ts.try_into().unwrap();
    let err = net
        .train_step_fixed(&xs, &ts, &mut ws, &mut Sgd::new(f64::INFINITY), 1)
        .unwrap_err();
    assert!(matches!(err.fault, Fault::Update { .. }), "{err}");
    assert_eq!(bits(net.params()), before);
    net.train_step_fixed(&xs, &ts, &mut ws, &mut Sgd::new(0.1), 1)
        .unwrap();
    assert_ne!(bits(net.params()), before);
}

network! {
    struct Xor: [2] => affine(2) -> tanh -> affine(1) -> sigmoid
}

#[test]
fn the_fixed_step_refuses_exactly_and_continues() {
    const B: usize = 4;
    const X: [[f32; 2]; B] = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
    const T: [[f32; 1]; B] = [[0.0], [1.0], [1.0], [0.0]];
    const N: usize = Xor::<f32>::STORE_LEN;
    let mut ws = FixedWorkspace::<
        f32,
        { Xor::<f32>::workspace_len(B) },
        { Xor::<f32>::index_len(B) },
        N,
    >::new();
    let mut net = Xor::<f32, constnet::Inline>::zeroed_inline();
    let mut rng = <constnet::rand::rngs::StdRng as constnet::rand::SeedableRng>::seed_from_u64(3);
    constnet::init::init_all(net.params_mut(), <Xor as Network>::TENSORS, &mut rng);
    let mut opt = Adam::with_state(0.1, [0.0f32; N], [0.0f32; N]);
    net.train_step_fixed(&X, &T, &mut ws, &mut opt, 0).unwrap();
    let (params, state) = (bits(net.params()), state_of(&opt));
    opt.lr = f64::INFINITY;
    let err = net
        .train_step_fixed(&X, &T, &mut ws, &mut opt, 1)
        .unwrap_err();
    assert!(matches!(err.fault, Fault::Update { .. }), "{err}");
    assert!(err.to_string().contains("keeps the parameters"), "{err}");
    assert_eq!((bits(net.params()), state_of(&opt)), (params, state));
    opt.lr = 0.1;
    net.train_step_fixed(&X, &T, &mut ws, &mut opt, 1).unwrap();
    assert_eq!(opt.step_count(), 2);

    // An input that is not finite is found before anything runs.
    let mut bad = X;
    bad[2][1] = f32::NAN;
    let err = net
        .train_step_fixed(&bad, &T, &mut ws, &mut opt, 2)
        .unwrap_err();
    assert_eq!(err.fault, Fault::Input { index: 2 });
    assert_eq!(
        err.to_string(),
        "input sample 2 holds NaN or infinity; the network keeps the parameters and the \
         optimizer the state they had before this step (check the data)"
    );
    // So is an empty batch, whose mean loss would be 0/0.
    let err = net
        .train_step_fixed::<[f32; 1], _, 0, { Xor::<f32>::workspace_len(0) }, 0, N>(
            &[],
            &[],
            &mut FixedWorkspace::new(),
            &mut opt,
            3,
        )
        .unwrap_err();
    assert_eq!(err.fault, Fault::EmptyBatch);
}

#[test]
fn a_nan_pixel_is_an_error_in_steps_fits_and_evaluations() {
    let mut xs = images(12, 10);
    let ts = common::labels(12, 10, 11);
    xs[7][0][4][5] = f32::NAN;
    let mut net = SmallCnn::<f32>::seeded(12);
    let before = bits(net.params());
    let err = Stepper::<SmallCnn>::new(0)
        .step(&mut net, &xs[4..], &ts[4..], &mut Sgd::new(0.1))
        .unwrap_err();
    assert!(
        matches!(
            err,
            TrainError::NonFinite {
                step: 0,
                fault: Fault::Input { index: 3 },
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(bits(net.params()), before);

    let data = InMemory::new(xs, ts).unwrap();
    let err = Trainer::new()
        .batch_size(4)
        .progress(Progress::Quiet)
        .fit(&mut net, &data, None, &mut Sgd::new(0.1))
        .unwrap_err();
    let TrainError::Diverged {
        epoch: 1,
        fault: Fault::Input { index: 7 },
        ref history,
        ..
    } = err
    else {
        panic!("{err}")
    };
    assert!(history.epochs.is_empty());
    assert!(all_finite(net.params()));

    let err = evaluate(&net, &data, 5).unwrap_err();
    assert!(
        matches!(
            err,
            TrainError::NonFiniteEvaluation {
                fault: Fault::Input { index: 7 },
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "evaluation stopped: input sample 7 holds NaN or infinity (check the data)"
    );
}

#[test]
fn a_nan_validation_sample_stops_fit() {
    let train = InMemory::new(rows(16, 13), common::labels(16, 3, 14)).unwrap();
    let mut valid = InMemory::new(rows(8, 15), common::labels(8, 3, 16)).unwrap();
    valid.inputs_mut()[5][2] = f32::NAN;
    let mut net = Mlp::<f32>::seeded(17);
    let err = Trainer::new()
        .epochs(2)
        .batch_size(4)
        .progress(Progress::Quiet)
        .fit(&mut net, &train, Some(&valid), &mut Sgd::new(0.1))
        .unwrap_err();
    assert!(
        matches!(
            err,
            TrainError::NonFiniteEvaluation {
                fault: Fault::Input { index: 5 },
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn a_nan_weight_gives_a_nan_loss_and_a_typed_error() {
    let xs = rows(6, 18);
    let ts = common::labels(6, 3, 19);
    let mut net = Mlp::<f32>::seeded(20);
    net.tensor_mut("affine2.weight").unwrap()[4] = f32::NAN;
    // The NaN propagates: through relu, into every probability and the loss.
    assert!(net.predict(&xs[0]).iter().all(|p| p.is_nan()));
    let loss = constnet::inference::with_workspace::<Mlp, _>(6, |ws| {
        let mut outs = [[0.0f32; 3]; 6];
        Trainable::evaluate(&net, &xs, &ts, ws, &mut outs)
    });
    assert!(loss.is_nan());
    let before = bits(net.params());
    let err = Stepper::<Mlp>::new(0)
        .step(&mut net, &xs, &ts, &mut Sgd::new(0.1))
        .unwrap_err();
    assert!(
        matches!(
            err,
            TrainError::NonFinite {
                fault: Fault::Parameter {
                    tensor: "affine2.weight"
                },
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(bits(net.params()), before);
    let data = InMemory::new(xs, ts).unwrap();
    let err = evaluate(&net, &data, 4).unwrap_err();
    assert_eq!(
        err.to_string(),
        "evaluation stopped: parameter tensor `affine2.weight` already held NaN or infinity \
         (check how the parameters were set or loaded)"
    );
}

#[test]
fn nan_targets_and_overflowing_losses_are_named() {
    let xs: Vec<[f32; 3]> = vec![[1.0, 2.0, 3.0], [1e20, 1e20, 1e20]];
    let mut net = Regressor::<f32>::seeded(21);
    let mut stepper = Stepper::<Regressor>::new(0).threads(1);
    let err = stepper
        .step(&mut net, &xs, &[[0.5f32], [f32::NAN]], &mut Sgd::new(0.1))
        .unwrap_err();
    assert!(
        matches!(
            err,
            TrainError::NonFinite {
                fault: Fault::Target { index: 1 },
                ..
            }
        ),
        "{err}"
    );
    // Finite inputs whose squared error overflows `f32`.
    let err = stepper
        .step(&mut net, &xs, &[[0.5f32], [0.0]], &mut Sgd::new(0.1))
        .unwrap_err();
    assert!(
        matches!(
            err,
            TrainError::NonFinite {
                fault: Fault::Loss,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn runs_of_zero_steps_and_empty_sets_are_errors() {
    let train = InMemory::new(rows(10, 22), common::labels(10, 3, 23)).unwrap();
    let mut net = Mlp::<f32>::seeded(24);
    let fit = |trainer: Trainer, net: &mut Mlp, valid: Option<&InMemory<[f32; 4], usize>>| {
        trainer
            .progress(Progress::Quiet)
            .fit(net, &train, valid, &mut Sgd::new(0.1))
            .unwrap_err()
    };
    let err = fit(
        Trainer::new().batch_size(16).drop_last(true),
        &mut net,
        None,
    );
    assert!(
        matches!(
            err,
            TrainError::NoSteps {
                samples: 10,
                batch: 16,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "the run would take no optimizer step: `drop_last` drops every batch, since the 10 \
         samples are fewer than the batch size 16"
    );
    let err = fit(Trainer::new().epochs(0), &mut net, None);
    assert!(
        matches!(err, TrainError::NoSteps { epochs: 0, .. }),
        "{err}"
    );
    let empty = train.subset(&[]);
    let err = fit(Trainer::new(), &mut net, Some(&empty));
    assert_eq!(
        err.to_string(),
        "the validation set is empty, so it has no loss or accuracy"
    );
    let err = evaluate(&net, &empty, 10).unwrap_err();
    assert!(
        matches!(err, TrainError::EmptyEvaluation { set: "evaluation" }),
        "{err}"
    );
}

#[test]
fn bad_arguments_are_typed_errors_not_panics() {
    let data = InMemory::new(rows(4, 25), common::labels(4, 3, 26)).unwrap();
    let (xs, ts) = (data.inputs(), data.targets());
    let mut net = Mlp::<f32>::seeded(27);
    let mut stepper = Stepper::<Mlp>::new(0);
    let mut step = |stepper: &mut Stepper<Mlp>, xs: &[[f32; 4]], ts: &[usize]| {
        stepper
            .step(&mut net, xs, ts, &mut Sgd::new(0.1))
            .unwrap_err()
    };
    assert!(matches!(
        step(&mut stepper, &[], &[]),
        TrainError::ZeroBatch
    ));
    let err = step(&mut stepper, xs, &ts[..3]);
    assert_eq!(err.to_string(), "4 inputs but 3 targets");
    let mut clipped = Stepper::<Mlp>::new(0).clip(Clip::Norm(f64::NAN));
    assert_eq!(
        step(&mut clipped, xs, ts).to_string(),
        "the clipping threshold must be a number of at least 0, found NaN"
    );
    let mut decayed = Stepper::<Mlp>::new(0).weight_decay(-1e-4);
    assert!(matches!(
        step(&mut decayed, xs, ts),
        TrainError::InvalidHyperparameter {
            name: "weight decay",
            ..
        }
    ));
    let quiet = Trainer::new().progress(Progress::Quiet);
    let err = quiet
        .clone()
        .batch_size(0)
        .fit(&mut net, &data, None, &mut Sgd::new(0.1))
        .unwrap_err();
    assert!(matches!(err, TrainError::ZeroBatch), "{err}");
    let err = quiet
        .clip(Clip::Value(-1.0))
        .fit(&mut net, &data, None, &mut Sgd::new(0.1))
        .unwrap_err();
    assert!(
        matches!(err, TrainError::InvalidHyperparameter { .. }),
        "{err}"
    );
    assert!(matches!(
        evaluate(&net, &data, 0).unwrap_err(),
        TrainError::ZeroBatch
    ));
}
