//! PyTorch state dicts with PyTorch's own names, loaded through a name map
//! (`persist::load_mapped`), and parts of another network's file.
//!
//! The fixtures were written by `scripts/pytorch_state_dicts.py` (torch
//! 2.15.0, named in each file's metadata); the tests need no torch. Every
//! probability must be within 1e-5 of PyTorch's (absolute; they lie in
//! [0, 1]).

use std::path::PathBuf;

use constnet::persist::{self, NameMap, PersistError};
use constnet::{Network, Tensor, network};
use safetensors::SafeTensors;

network! {
    struct TorchMlp: [20] => affine(16) -> batchnorm -> relu -> affine(10) -> softmax
    struct TorchConvNet: [1, 28, 28] => conv(30, 5) -> relu -> pool(2)
        -> affine(100) -> relu -> affine(10) -> softmax
}

const TOLERANCE: f32 = 1e-5;

pub(crate) fn fixture(file: &str) -> PathBuf {
    [
        env!("CARGO_MANIFEST_DIR"),
        "tests",
        "fixtures",
        "pytorch",
        file,
    ]
    .iter()
    .collect()
}

/// Runs the stored inputs through `net` and compares with PyTorch's
/// probabilities; returns the largest difference.
pub(crate) fn assert_matches_pytorch<N>(stem: &str, net: &N) -> f32
where
    N: Network<Elem = f32>,
    N::Input: Tensor<Elem = f32>,
    N::Output: Tensor<Elem = f32>,
{
    let bytes = std::fs::read(fixture(&format!("{stem}.io.safetensors"))).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let floats = |name: &str| -> Vec<f32> {
        let view = file.tensor(name).unwrap();
        view.data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    };
    let (inputs, theirs) = (floats("inputs"), floats("probabilities"));
    let xs = <N::Input as Tensor>::batch_of(&inputs);
    assert_eq!(theirs.len(), xs.len() * N::OUTPUT_LEN);
    let ours: Vec<f32> = xs
        .iter()
        .flat_map(|x| net.predict(x).as_flat().to_vec())
        .collect();
    let worst = ours
        .iter()
        .zip(&theirs)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst <= TOLERANCE, "{stem}: max difference {worst:.2e}");
    println!("{stem}: max difference from PyTorch {worst:.2e}");
    worst
}

#[test]
fn a_pytorch_sequential_state_dict_loads_by_position() {
    let mut net = TorchMlp::<f32>::seeded(0);
    let path = fixture("mlp_sequential.safetensors");
    // Strict loading refuses PyTorch's names...
    assert!(matches!(
        persist::load_safetensors(&mut net, &path)
            .unwrap_err()
            .root(),
        PersistError::MissingTensor { .. }
    ));
    // ...the positional map takes them in state-dict order, skipping
    // `1.num_batches_tracked`.
    persist::load_mapped(&mut net, &path, &NameMap::Positional, None::<&[&str]>).unwrap();
    assert_matches_pytorch("mlp_sequential", &net);
}

/// SimpleConvNet's tensors under the names of the PyTorch module.
fn conv_net_names() -> NameMap {
    NameMap::pairs([
        ("conv.weight", "conv1.weight"),
        ("conv.bias", "conv1.bias"),
        ("fc1.weight", "affine1.weight"),
        ("fc1.bias", "affine1.bias"),
        ("fc2.weight", "affine2.weight"),
        ("fc2.bias", "affine2.bias"),
    ])
}

#[test]
fn a_state_dict_with_user_names_loads_through_pairs() {
    let path = fixture("simple_conv_net_named.safetensors");
    let mut net = TorchConvNet::<f32>::seeded(0);
    persist::load_mapped(&mut net, &path, &conv_net_names(), None::<&[&str]>).unwrap();
    assert_matches_pytorch("simple_conv_net_named", &net);
    // By position too: `conv`, `fc1`, `fc2` sort in the module's order.
    let mut positional = TorchConvNet::<f32>::seeded(1);
    persist::load_mapped(
        &mut positional,
        &path,
        &NameMap::Positional,
        None::<&[&str]>,
    )
    .unwrap();
    assert_eq!(positional.params(), net.params());
    // Saved under the same names, the file is PyTorch's again.
    let out =
        std::env::temp_dir().join(format!("constnet-torch-{}.safetensors", std::process::id()));
    persist::save_mapped(&net, &out, &conv_net_names()).unwrap();
    let mut back = TorchConvNet::<f32>::seeded(2);
    persist::load_mapped(&mut back, &out, &conv_net_names(), None::<&[&str]>).unwrap();
    std::fs::remove_file(&out).unwrap();
    assert_eq!(back.params(), net.params());
}

#[test]
fn a_wrong_name_map_lists_the_unmatched_names_on_both_sides() {
    let path = fixture("simple_conv_net_named.safetensors");
    let mut net = TorchConvNet::<f32>::seeded(0);
    let before = net.params().to_vec();
    let map = NameMap::pairs([
        ("conv.weight", "conv1.weight"),
        ("conv.bias", "conv1.bias"),
        ("fc1.weight", "affine1.weight"),
        ("fc1.bias", "affine1.bias"),
        ("fc3.weight", "affine2.weight"),
    ]);
    let err = persist::load_mapped(&mut net, &path, &map, None::<&[&str]>).unwrap_err();
    assert_eq!(
        err.root().to_string(),
        "the name map leaves tensors unmatched: in the file `fc2.weight`, `fc2.bias`; \
         in network `TorchConvNet` `affine2.weight`, `affine2.bias`"
    );
    assert_eq!(net.params(), &before[..], "nothing is written on error");
}

#[test]
fn loading_a_subset_leaves_the_other_tensors_untouched() {
    let source = TorchConvNet::<f32>::seeded(5);
    let path = std::env::temp_dir().join(format!(
        "constnet-subset-{}.safetensors",
        std::process::id()
    ));
    persist::save_safetensors(&source, &path).unwrap();
    let mut net = TorchConvNet::<f32>::seeded(6);
    let before = net.clone();
    persist::load_mapped(&mut net, &path, &NameMap::Same, Some(&["conv1"])).unwrap();
    for t in TorchConvNet::<f32>::TENSORS {
        let from = if t.name.starts_with("conv1.") {
            &source
        } else {
            &before
        };
        assert_eq!(
            net.params()[t.range()],
            from.params()[t.range()],
            "{}",
            t.name
        );
    }
    let err = persist::load_mapped(&mut net, &path, &NameMap::Same, Some(&["conv9"])).unwrap_err();
    assert!(
        err.to_string()
            .contains("`conv9` names no parameter tensor"),
        "{err}"
    );
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn hidden_activations_follow_the_steps_and_end_in_the_prediction() {
    let mut net = TorchConvNet::<f32>::seeded(0);
    let path = fixture("simple_conv_net_named.safetensors");
    persist::load_mapped(&mut net, &path, &conv_net_names(), None::<&[&str]>).unwrap();
    let xs = [[[[0.25f32; 28]; 28]; 1], [[[-0.5f32; 28]; 28]; 1]];
    let hidden = constnet::inference::hidden(&net, &xs);
    let steps: Vec<(&str, &[usize])> = hidden.iter().map(|h| (h.name, h.shape)).collect();
    assert_eq!(
        steps,
        [
            ("conv1", &[30, 12, 12][..]),
            ("affine1", &[100][..]),
            ("affine2", &[10][..]),
            ("softmax1", &[10][..])
        ]
    );
    // conv → relu → pool is one step: its output is pooled and non-negative.
    assert!(hidden[0].values.iter().all(|&v| v >= 0.0));
    assert_eq!(hidden[0].values.len(), 2 * 30 * 12 * 12);
    let last = &hidden[3].values;
    assert_eq!(last[10..], net.predict(&xs[1]));
}
