//! One emitter per fused op: its forward, backward and workspace buffers in
//! one file, behind [`OpCode`]. The pass generators only loop over steps and
//! call [`code`].

pub(crate) mod activation;
mod add;
mod affine;
mod alias;
mod batchnorm;
mod conv;
mod dropout;
mod global_pool;
mod pool;
mod prelu;
mod preprocess;
mod softmax;

use super::step::OpCode;
use crate::plan::Op;

/// The emitter of `op`.
pub(crate) fn code(op: &Op) -> &dyn OpCode {
    match op {
        Op::Affine(affine) => affine,
        Op::Conv(conv) => conv,
        Op::Pool(pool) => pool,
        Op::GlobalPool(pool) => pool,
        Op::Act(act) => act,
        Op::InputAct(act) => act,
        Op::Prelu => &prelu::Prelu,
        Op::Preprocess(p) => p,
        Op::Softmax => &softmax::Softmax,
        Op::Dropout(dropout) => dropout,
        Op::BatchNorm(norm) => norm,
        Op::Add(add) => add,
        Op::Alias => &alias::Alias,
    }
}
