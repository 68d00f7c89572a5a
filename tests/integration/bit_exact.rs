//! Same seed, same data → the same weights, bit for bit, as recorded before
//! the emitter was restructured (issue 6).

use constnet::kernels::dispatch;
use constnet::optim::Adam;
use constnet::train::Stepper;
use constnet::{Trainable, network};

network! {
    struct SimpleConvNet: [1, 28, 28] => conv(30, 5) -> relu -> pool(2)
        -> affine(100) -> relu -> affine(10) -> softmax
    struct Digits: [1, 28, 28] => conv(8, 5) -> relu -> pool(2)
        -> conv(16, 5) -> relu -> pool(2) -> affine(10) -> softmax
    struct Mixed: [2, 14, 14] => conv(6, 3, stride = 1, pad = 1) -> batchnorm -> prelu
        -> avgpool(2) -> conv(4, (3, 1), stride = 2, pad = (1, 0)) -> elu -> pool(3, stride = 1)
        -> flatten -> dropout(0.25) -> affine(12) -> leaky_relu -> affine(3) -> softmax
}

/// Deterministic pseudo-random inputs in `[0, 1)` and labels, independent of
/// any library generator.
fn data<X: constnet::Tensor<Elem = f32>>(n: usize, classes: usize) -> (Vec<X>, Vec<usize>) {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let xs = (0..n)
        .map(|_| {
            let mut x = X::zeroed();
            for v in x.as_flat_mut() {
                *v = (next() >> 40) as f32 / (1u64 << 24) as f32;
            }
            x
        })
        .collect();
    let ts = (0..n).map(|_| (next() % classes as u64) as usize).collect();
    (xs, ts)
}

fn fnv(params: &[f32]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for v in params {
        for b in v.to_bits().to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

fn trained_hash<N>(mut net: N, threads: usize, classes: usize) -> u64
where
    N: Trainable<Elem = f32> + Sync,
{
    let (xs, ts) = data::<N::Input>(40, classes);
    let mut stepper = Stepper::<N>::new(11).threads(threads);
    let mut opt = Adam::new(0.01);
    for chunk in 0..4 {
        let range = chunk * 10..chunk * 10 + 10;
        stepper
            .step(&mut net, &xs[range.clone()], &ts[range], &mut opt)
            .unwrap();
    }
    fnv(net.params())
}

/// `(SimpleConvNet 1 thread, Digits, Mixed, SimpleConvNet 2 threads)`, recorded
/// on the code before issue 6 for the AVX2/FMA build and the portable build.
///
/// One change since, on purpose: issue 8 sent padded and strided
/// convolutions (Mixed's two) to the register-tiled path, whose AVX2 build
/// fuses multiply and add, and gave convolutions without a folded pool a
/// backward pass whose AVX2 build sums weight gradients in vector lanes.
/// Mixed's FMA value was recorded again then; its portable value, like
/// every other, is the one recorded before issue 6, because the portable
/// paths sum in the same order.
///
/// Mixed's FMA value was recorded again when the AVX2 build of the tiled
/// path began to read zero-padded copies of the input (padded taps add
/// `w · 0` instead of being skipped) and to sum weight gradients per
/// sample in lanes (`conv2d/wide.rs`); the unpadded convolutions of the
/// other two networks keep their bits.
const RECORDED_FMA: [u64; 4] = [
    0xa648_28f1_815c_4d22,
    0x9518_1e81_2fdc_0c05,
    0x5388_72ba_e2e1_b8aa,
    0xfc8c_463f_301c_0b34,
];
const RECORDED_PORTABLE: [u64; 4] = [
    0xd8d5_e7eb_1793_e63b,
    0x88b8_eb4a_1734_3b5d,
    0x4ea0_0836_7804_c253,
    0xded1_cdef_6cd9_244c,
];

#[test]
fn training_reproduces_the_weights_recorded_before_the_restructuring() {
    let found = [
        trained_hash(SimpleConvNet::<f32>::seeded(5), 1, 10),
        trained_hash(Digits::<f32>::seeded(5), 1, 10),
        trained_hash(Mixed::<f32>::seeded(5), 1, 3),
        trained_hash(SimpleConvNet::<f32>::seeded(5), 2, 10),
    ];
    let recorded = if dispatch::fma() {
        RECORDED_FMA
    } else {
        RECORDED_PORTABLE
    };
    assert_eq!(found, recorded, "weights differ from the recorded run");
}
