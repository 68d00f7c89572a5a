use constnet::data::InMemory;
use constnet::network;
use constnet::optim::Sgd;
use constnet::train::Trainer;

network! {
    struct Gate: [2] => affine(1) -> step
}

fn main() {
    let mut net = Gate::<f32>::zeroed();
    let data = InMemory::new(vec![[0.0f32, 1.0]], vec![[1.0f32]]).unwrap();
    let _ = Trainer::new().fit(&mut net, &data, None, &mut Sgd::new(0.1));
}
