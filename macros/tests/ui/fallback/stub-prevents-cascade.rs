use constnet::network;
use constnet::optim::Sgd;
use constnet::train::{Stepper, Trainer};

network! {
    /// Documented, public, and broken.
    pub struct Broken: [1, 5, 5] => conv(4, 2) -> pool(3) -> affine(10)
}

// Every line below uses `Broken` as if it had expanded; the stub type keeps
// each of them from adding an error to the macro's own.
struct Holder {
    net: Broken,
    nets: Vec<Broken<f64>>,
}

fn run(net: &Broken<f32>) -> [f32; 10] {
    net.predict(&[[[0.0; 5]; 5]; 1])
}

fn main() {
    let _: Option<Holder> = None;
    let _ = Broken::<f32>::INPUT_LEN;
    let _ = [0.0f32; Broken::<f32>::PARAM_COUNT];
    let mut net = Broken::<f32>::seeded(0);
    net.set_tensor("conv1.weight", &[0.5; 16]).unwrap();
    println!("{}", net.summary());
    let _ = run(&net);
    let _ = Stepper::<Broken>::new(0);
    let data = constnet::data::InMemory::new(vec![[[[0.0f32; 5]; 5]; 1]], vec![3usize]).unwrap();
    let _ = Trainer::new().fit(&mut net, &data, None, &mut Sgd::new(0.1));
}
