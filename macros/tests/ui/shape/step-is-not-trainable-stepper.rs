use constnet::network;

network! {
    struct Gate: [2] => affine(1) -> step
}

fn main() {
    let _ = constnet::train::Stepper::<Gate>::new(0);
}
