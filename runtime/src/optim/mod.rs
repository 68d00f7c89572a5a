//! Optimizers, weight decay, gradient clipping and learning-rate schedules.
