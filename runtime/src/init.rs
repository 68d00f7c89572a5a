//! Parameter initializers.
