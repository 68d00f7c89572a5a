use constnet::network;
use constnet::optim::Sgd;
use constnet::train::Stepper;
use std::time::Instant;

network! {
    pub struct SimpleConvNet: [1, 28, 28] => conv(30, 5) -> relu -> pool(2) -> affine(100) -> relu -> affine(10) -> softmax
    pub struct Mlp: [784] => affine(100) -> relu -> affine(10) -> softmax
}

fn data(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed ^ 0x9E3779B97F4A7C15;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

fn main() {
    let threads: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let secs: f64 = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    let which = std::env::args().nth(3).unwrap_or("all".into());
    let labels: Vec<usize> = (0..100).map(|i| (i * 7) % 10).collect();
    if which != "mlp" {
        let d = data(100 * 784, 1);
        let xs: Vec<[[[f32; 28]; 28]; 1]> = d
            .chunks(784)
            .map(|c| {
                let mut x = [[[0.0; 28]; 28]; 1];
                for (i, v) in c.iter().enumerate() {
                    x[0][i / 28][i % 28] = *v;
                }
                x
            })
            .collect();
        let mut net = SimpleConvNet::<f32>::seeded(0);
        let mut st = Stepper::<SimpleConvNet>::new(0).threads(threads);
        let mut opt = Sgd::new(0.01);
        for _ in 0..3 {
            st.step(&mut net, &xs, &labels, &mut opt).unwrap();
        }
        let t = Instant::now();
        let mut n = 0;
        while t.elapsed().as_secs_f64() < secs {
            st.step(&mut net, &xs, &labels, &mut opt).unwrap();
            n += 1;
        }
        println!(
            "T1 cnn train: {:.0} samples/s",
            n as f64 * 100.0 / t.elapsed().as_secs_f64()
        );
        let x = xs[3];
        let t = Instant::now();
        let mut n = 0;
        while t.elapsed().as_secs_f64() < secs / 2.0 {
            std::hint::black_box(net.predict(std::hint::black_box(&x)));
            n += 1;
        }
        println!(
            "L1 cnn predict: {:.1} us",
            t.elapsed().as_secs_f64() * 1e6 / n as f64
        );
    }
    if which != "cnn" {
        let d = data(100 * 784, 1);
        let xs: Vec<[f32; 784]> = d.chunks(784).map(|c| c.try_into().unwrap()).collect();
        let mut net = Mlp::<f32>::seeded(0);
        let mut st = Stepper::<Mlp>::new(0).threads(threads);
        let mut opt = Sgd::new(0.01);
        for _ in 0..3 {
            st.step(&mut net, &xs, &labels, &mut opt).unwrap();
        }
        let t = Instant::now();
        let mut n = 0;
        while t.elapsed().as_secs_f64() < secs {
            st.step(&mut net, &xs, &labels, &mut opt).unwrap();
            n += 1;
        }
        println!(
            "T2 mlp train: {:.0} samples/s",
            n as f64 * 100.0 / t.elapsed().as_secs_f64()
        );
        let x = xs[3];
        let t = Instant::now();
        let mut n = 0;
        while t.elapsed().as_secs_f64() < secs / 2.0 {
            std::hint::black_box(net.predict(std::hint::black_box(&x)));
            n += 1;
        }
        println!(
            "L2 mlp predict: {:.2} us",
            t.elapsed().as_secs_f64() * 1e6 / n as f64
        );
    }
}
