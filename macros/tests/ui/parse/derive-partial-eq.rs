use constnet::network;

network! {
    #[derive(Debug, Clone, PartialEq)]
    pub struct Tiny: [4] => affine(2) -> softmax
}

fn main() {}
