//! On-device training demo: XOR learned from a random initialization.
//!
//! Everything is fixed-size and heap-free: the parameters are an `Inline`
//! array, Adam's moments are arrays, and the training workspace is a
//! `static` (through `cortex_m::singleton!`) whose size comes from the
//! network's const fns; a workspace too small for the batch is a compile
//! error in `train_step_fixed`. Prints the loss every 25 steps, the four
//! outputs and the accuracy, then exits with status 0 only if the loss fell
//! at least tenfold and all four cases are right.
//!
//! Run: `cargo run --release --bin train_xor` in `embedded/`.

#![no_std]
#![no_main]

use constnet::rand::SeedableRng;
use constnet::rand::rngs::StdRng;
use constnet::{FixedWorkspace, Inline, Network};
use constnet_embedded::nets::{XOR_T, XOR_X, Xor};
use constnet_embedded::probe;
use cortex_m_rt::entry;
use cortex_m_semihosting::hprintln;

type Net = Xor<f32, Inline>;
/// Samples per step: the whole truth table.
const BATCH: usize = 4;
/// Training steps after the first.
const STEPS: usize = 300;
/// Seed of the initialization.
const SEED: u64 = 1;
/// The workspace of one step of `BATCH` samples, sized by the macro's consts.
type Workspace = FixedWorkspace<
    f32,
    { Net::workspace_len(BATCH) },
    { Net::index_len(BATCH) },
    { Net::STORE_LEN },
>;

#[entry]
fn main() -> ! {
    let Some(ws) = cortex_m::singleton!(: Workspace = Workspace::new()) else {
        probe::exit(false)
    };
    let mut net = Net::zeroed_inline();
    constnet::init::init_all(
        net.params_mut(),
        Net::TENSORS,
        &mut StdRng::seed_from_u64(SEED),
    );
    let mut opt =
        constnet::optim::Adam::with_state(0.1, [0.0f32; Net::STORE_LEN], [0.0f32; Net::STORE_LEN]);
    hprintln!("{}", net.summary());
    hprintln!(
        "training workspace: {} bytes (static)",
        Net::train_workspace_bytes(BATCH)
    );

    let mut first = f64::NAN;
    let mut last = f64::NAN;
    for step in 0..=STEPS {
        last = match net.train_step_fixed(&XOR_X, &XOR_T, ws, &mut opt, step as u64) {
            Ok(loss) => loss,
            Err(e) => {
                hprintln!("step {}: {}", step, e);
                probe::exit(false)
            }
        };
        if step == 0 {
            first = last;
        }
        if step % 25 == 0 {
            hprintln!("step {:3} loss {:.6}", step, last);
        }
    }

    let mut correct = 0;
    for (x, t) in XOR_X.iter().zip(&XOR_T) {
        let y = net.predict(x)[0];
        let ok = (y > 0.5) == (t[0] > 0.5);
        correct += usize::from(ok);
        hprintln!("xor({}, {}) = {:.4} (target {})", x[0], x[1], y, t[0]);
    }
    hprintln!("accuracy {}/{}", correct, XOR_X.len());
    hprintln!(
        "# loss_first {:.6} loss_last {:.6} reduction {:.1}x",
        first,
        last,
        first / last
    );
    probe::exit(last * 10.0 <= first && correct == XOR_X.len())
}
