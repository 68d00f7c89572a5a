//! Saving and loading parameters.
