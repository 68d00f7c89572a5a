//! `Network::PYTORCH`, the generated PyTorch source, checked by PyTorch:
//! `scripts/pytorch_modules.py` (torch 2.15.0) built each class from the
//! committed source in `tests/fixtures/pytorch/modules/`, gave it weights and
//! batch-norm statistics and saved its `state_dict()` as it is (keys,
//! `num_batches_tracked` and all) with its inputs and probabilities. Here
//! the same network loads that state dict without a name map and must
//! reproduce PyTorch's outputs, which holds only if the source computes what
//! the declaration does under constnet's own tensor names.
//!
//! The sources must equal the generated ones, so a change in generation
//! shows here: rerun with `CONSTNET_BLESS=1` to rewrite them, then rerun the
//! script (which needs torch) to refresh the weights and outputs.

use std::path::PathBuf;

use constnet::persist;
use constnet::{Network, Tensor, network};

use super::mlperf::models::{DsCnn, ResNet8};
use super::state_dicts::{assert_matches_pytorch, fixture};

network! {
    /// Asymmetric `same` padding (a pad module before the convolution and
    /// a −∞ pad before the pool), PReLU, an implicit flatten, dropout,
    /// batch norm over features and GELU.
    struct TorchMix: [1, 12, 12] =>
        conv(4, 3, stride = 2, pad = same) -> prelu -> pool(3, stride = 2, pad = same)
        -> dropout(0.3) -> affine(16) -> batchnorm(momentum = 0.8) -> leaky_relu(alpha = 0.1)
        -> affine(8, bias = false) -> gelu -> affine(5) -> softmax

    /// 1-D layers: a padded and a dilated convolution, average and global
    /// max pools, ELU, hard swish, tanh; preprocessing in front.
    struct TorchSeq: [2, 20] =>
        rescale(2.0, offset = -1.0) -> normalize -> conv1d(6, 5, pad = 2) -> elu -> avgpool1d(2) -> conv1d(4, 3, dilation = 2)
        -> hard_swish -> global_maxpool -> affine(3) -> tanh -> affine(3) -> softmax
}

fn source_path(stem: &str) -> PathBuf {
    fixture(&format!("modules/{stem}.py"))
}

/// The committed source equals the generated one (or becomes it, blessed).
fn check_source<N: Network>(stem: &str) {
    let path = source_path(stem);
    if std::env::var_os("CONSTNET_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, N::PYTORCH).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        committed,
        N::PYTORCH,
        "{stem}: the generated PyTorch source changed; see this file's header"
    );
}

/// Loads PyTorch's state dict under constnet's own names and compares the
/// outputs.
fn check_weights<N>(stem: &str, net: &mut N)
where
    N: Network<Elem = f32>,
    N::Input: Tensor<Elem = f32>,
    N::Output: Tensor<Elem = f32>,
{
    let path = fixture(&format!("modules/{stem}.safetensors"));
    persist::load_safetensors(net, &path).unwrap();
    assert_matches_pytorch(&format!("modules/{stem}"), net);
}

macro_rules! pytorch_twin {
    ($($test:ident: $net:ident, $stem:literal;)*) => {$(
        #[test]
        fn $test() {
            check_source::<$net<f32>>($stem);
            check_weights($stem, &mut $net::<f32>::seeded(0));
        }
    )*};
}

pytorch_twin! {
    the_pytorch_twin_of_a_padded_mixed_network_computes_the_same: TorchMix, "torch_mix";
    the_pytorch_twin_of_a_sequence_network_computes_the_same: TorchSeq, "torch_seq";
    the_pytorch_twin_of_resnet8_has_the_residual_forward: ResNet8, "resnet8";
    the_pytorch_twin_of_ds_cnn_pads_the_strided_convolution: DsCnn, "ds_cnn";
}
