//! Datasets, MNIST, CSV, batching, splits and transforms.
