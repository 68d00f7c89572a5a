//! `flatten` and a standalone `identity`: views of their input, no code.

use proc_macro2::TokenStream;

use crate::emit::step::{Io, OpCode, StepCx};

pub(crate) struct Alias;

impl OpCode for Alias {
    fn forward(&self, _cx: &StepCx, _io: &Io) -> TokenStream {
        TokenStream::new()
    }

    fn backward(&self, _cx: &StepCx) -> TokenStream {
        TokenStream::new()
    }
}
