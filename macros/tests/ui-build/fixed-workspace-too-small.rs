use constnet::network;
use constnet::optim::Sgd;
use constnet::FixedWorkspace;

network! {
    struct Net: [2] => affine(3) -> relu -> affine(1)
}

fn main() {
    let mut net = Net::<f32>::zeroed();
    // Sized for one sample, used for a batch of two.
    let mut ws = FixedWorkspace::<f32, { Net::<f32>::workspace_len(1) }, 0, { Net::<f32>::STORE_LEN }>::new();
    let xs = [[0.0f32, 1.0], [1.0, 0.0]];
    let ts = [[1.0f32], [0.0]];
    let _ = net.train_step_fixed(&xs, &ts, &mut ws, &mut Sgd::new(0.1), 0);
}
