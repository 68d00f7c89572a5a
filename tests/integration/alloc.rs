//! Steady-state inference and training allocate nothing: a counting global
//! allocator watches `predict` and training steps with threads on.
//!
//! The allocator serves the whole test binary, whose other tests allocate
//! at the same time on their own threads. So it counts only on threads that
//! opt in through a `const` thread-local flag (readable without allocating):
//! this test's thread, and every thread of the pool its training steps run
//! on. Counts are therefore exact whatever else runs.
//!
//! One test function, so that the counter has one reader.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use constnet::network;
use constnet::optim::{Adam, Sgd};
use constnet::train::Stepper;

struct Counting;

/// Allocations made on counted threads.
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

std::thread_local! {
    /// Whether this thread's allocations are counted. `const`-initialized
    /// and without a destructor, so reading it never allocates and works
    /// at any point of a thread's life.
    static COUNTED: Cell<bool> = const { Cell::new(false) };
}

fn count() {
    if COUNTED.with(Cell::get) {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
    }
}

// SAFETY: forwards to the system allocator unchanged; only counts calls.
#[expect(unsafe_code, reason = "`GlobalAlloc` is an unsafe trait")]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Counts this thread's allocations until dropped.
struct CountHere;

impl CountHere {
    fn start() -> Self {
        COUNTED.with(|c| c.set(true));
        CountHere
    }
}

impl Drop for CountHere {
    fn drop(&mut self) {
        COUNTED.with(|c| c.set(false));
    }
}

/// Counts the allocations of every thread of the pool that a `Stepper` with
/// `threads` threads, stepped from this thread, runs on.
///
/// That pool is `threads::team(threads)`, which is built once per calling
/// thread and thread count and then reused, so the call here returns the
/// stepper's own pool. Broadcasting to it also makes every worker start
/// and run a job before anything is measured: a worker that first wakes up
/// inside a measured step would otherwise count its start-up allocations.
fn count_team(threads: usize) {
    let team = constnet::threads::team(threads).expect("the OS refused threads");
    assert_eq!(team.current_num_threads(), threads);
    team.broadcast(|_| COUNTED.with(|c| c.set(true)));
}

network! {
    struct SimpleConvNet: [1, 28, 28] => conv(30, 5) -> relu -> pool(2) -> affine(100) -> relu -> affine(10) -> softmax
    struct Mixed: [2, 8, 8] => conv(4, 3) -> batchnorm -> relu -> dropout(0.2) -> flatten -> affine(10) -> softmax
}

fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    f();
    ALLOCATIONS.load(Ordering::SeqCst) - before
}

#[test]
fn predict_and_training_steps_allocate_nothing_after_warm_up() {
    let _count = CountHere::start();

    let net = SimpleConvNet::<f32>::seeded(1);
    let x = [[[0.25f32; 28]; 28]; 1];
    let _ = net.predict(&x);
    let n = allocations_during(|| {
        for _ in 0..10 {
            std::hint::black_box(net.predict(std::hint::black_box(&x)));
        }
    });
    assert_eq!(n, 0, "predict allocated");

    // MLPerf Tiny's reference networks: residual blocks, depthwise and
    // strided convolutions, global pooling.
    use crate::mlperf::models::{AutoEncoder, DsCnn, MobileNetV1, ResNet8};
    use constnet::Tensor;
    fn predicts_in_place<N: constnet::Network<Elem = f32>>(name: &str, net: &N) {
        let x = N::Input::zeroed();
        let _ = net.predict(&x);
        let n = allocations_during(|| {
            std::hint::black_box(net.predict(std::hint::black_box(&x)));
        });
        assert_eq!(n, 0, "{name}: predict allocated");
    }
    predicts_in_place("ds-cnn", &DsCnn::<f32>::seeded(1));
    predicts_in_place("resnet8", &ResNet8::<f32>::seeded(1));
    predicts_in_place("mobilenet", &MobileNetV1::<f32>::seeded(1));
    predicts_in_place("autoencoder", &AutoEncoder::<f32>::seeded(1));

    let xs = vec![[[[0.5f32; 28]; 28]; 1]; 32];
    let labels: Vec<usize> = (0..32).map(|i| i % 10).collect();
    for threads in [1, 2] {
        if threads > 1 {
            count_team(threads);
        }
        let mut net = SimpleConvNet::<f32>::seeded(2);
        let mut stepper = Stepper::<SimpleConvNet>::new(3).threads(threads);
        let mut opt = Adam::new(0.001);
        for _ in 0..2 {
            stepper.step(&mut net, &xs, &labels, &mut opt).unwrap();
        }
        let n = allocations_during(|| {
            for _ in 0..5 {
                stepper.step(&mut net, &xs, &labels, &mut opt).unwrap();
            }
        });
        assert_eq!(n, 0, "training step with {threads} threads allocated");
    }

    let xs = vec![[[[0.1f32; 8]; 8]; 2]; 16];
    let labels: Vec<usize> = (0..16).map(|i| i % 10).collect();
    let mut net = Mixed::<f32>::seeded(4);
    let mut stepper = Stepper::<Mixed>::new(5).threads(2);
    let mut opt = Sgd::new(0.01);
    stepper.step(&mut net, &xs, &labels, &mut opt).unwrap();
    let n = allocations_during(|| {
        for _ in 0..5 {
            stepper.step(&mut net, &xs, &labels, &mut opt).unwrap();
        }
    });
    assert_eq!(n, 0, "batch norm and dropout step allocated");
}
