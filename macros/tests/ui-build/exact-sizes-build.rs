//! The passing twin of the cases beside it: buffers of exactly the sizes the
//! consts name compile and run. Being a `pass` case, it also makes trybuild
//! use `cargo build`, the only mode that evaluates the `const` assertions.

use constnet::network;
use constnet::optim::Sgd;
use constnet::FixedWorkspace;

network! {
    struct Net: [1, 6, 6] => conv(2, 3) -> relu -> affine(1)
}

const B: usize = 2;

fn main() {
    let mut net = Net::<f32>::seeded(0);
    let x = [[[0.5f32; 6]; 6]; 1];
    let mut arena = [0.0f32; Net::<f32>::ARENA_LEN];
    assert_eq!(net.predict_in(&x, &mut arena), net.predict(&x));

    let mut ws = FixedWorkspace::<
        f32,
        { Net::<f32>::workspace_len(B) },
        { Net::<f32>::index_len(B) },
        { Net::<f32>::STORE_LEN },
    >::new();
    let loss = net.train_step_fixed(&[x; B], &[[1.0f32]; B], &mut ws, &mut Sgd::new(0.1), 0);
    assert!(loss.unwrap().is_finite());
}
