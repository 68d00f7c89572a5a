//! MNIST (and Fashion-MNIST, which uses the same file names and format):
//! the four IDX files of a directory turned into train and test datasets
//! (feature `datasets`).
//!
//! After [`Mnist::load`], both sets hold images whose size matches the
//! input type (`[[[E; 28]; 28]; 1]`, `[[E; 28]; 28]` or `[E; 784]`), pixel
//! values scaled to `[0, 1]` (or standardized), and labels in `0..10`.

use std::prelude::rust_2024::*;
use std::{format, vec};

use std::path::{Path, PathBuf};

use super::dataset::InMemory;
use super::error::DataError;
use super::idx::{Idx, IdxReader};
use crate::{Scalar, Tensor};

/// The four file names, without the optional `.gz` suffix:
/// training images, training labels, test images, test labels.
pub const FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// Mean pixel value of the MNIST training images after scaling to `[0, 1]`.
pub const MEAN: f64 = 0.1307;
/// Standard deviation of the MNIST training pixels after scaling to `[0, 1]`.
pub const STD: f64 = 0.3081;

/// Number of classes (digits 0 to 9).
pub const CLASSES: usize = 10;
/// Pixels per image (28 × 28).
pub const PIXELS: usize = 28 * 28;

/// The environment variable that points at the MNIST directory.
pub const DIR_VAR: &str = "MNIST_DIR";

/// How pixel bytes `0..=255` become input values.
///
/// Needs the `datasets` feature.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scaling {
    /// `x = b / 255`, in `[0, 1]`.
    Unit,
    /// `x = b`, the pixel byte as it is (0 to 255), for networks that
    /// preprocess inside their declaration (`rescale`, `normalize`).
    Raw,
    /// `x = (b / 255 - mean) / std`; [`Scaling::MNIST`] uses MNIST's own statistics.
    Standardize {
        /// Mean subtracted after scaling to `[0, 1]`.
        mean: f64,
        /// Standard deviation divided by after subtracting the mean.
        std: f64,
    },
}

impl Scaling {
    /// Standardization with MNIST's training statistics ([`MEAN`], [`STD`]).
    pub const MNIST: Scaling = Scaling::Standardize {
        mean: MEAN,
        std: STD,
    };

    /// The value of every possible byte, so conversion is one table lookup per pixel.
    fn table<E: Scalar>(self) -> [E; 256] {
        let (mean, std) = match self {
            Scaling::Raw => return core::array::from_fn(|b| E::from_f64(b as f64)),
            Scaling::Unit => (0.0, 1.0),
            Scaling::Standardize { mean, std } => (mean, std),
        };
        core::array::from_fn(|b| E::from_f64((b as f64 / 255.0 - mean) / std))
    }
}

/// MNIST's training set (60,000 images) and test set (10,000 images).
///
/// Needs the `datasets` feature.
///
/// `X` is the input type of each image. Its default, `[f32; 784]`, only
/// serves to name the functions that involve no images: `Mnist::dir_from_env()`
/// and `Mnist::download(…)`.
///
/// # Examples
/// ```no_run
/// use constnet::data::{Dataset, Mnist};
/// let dir = Mnist::dir_from_env().expect("set MNIST_DIR");
/// let mnist = Mnist::<[[[f32; 28]; 28]; 1]>::load(&dir)?;
/// assert_eq!((mnist.train.len(), mnist.test.len()), (60_000, 10_000));
/// # Ok::<(), constnet::data::DataError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Mnist<X = [f32; PIXELS]> {
    /// The 60,000 training samples.
    pub train: InMemory<X, usize>,
    /// The 10,000 test samples.
    pub test: InMemory<X, usize>,
}

impl<X: Tensor> Mnist<X> {
    /// Loads the four files from `dir`, each raw or gzip, pixels scaled to `[0, 1]`.
    ///
    /// Each file is looked up as `<name>` and then `<name>.gz` (see [`FILES`]).
    ///
    /// # Errors
    /// - [`DataError::SampleLength`] if `X::LEN` is not 784.
    /// - [`DataError::MissingFiles`] naming the expected files and `dir` if any is absent.
    /// - Any IDX error ([`super::read_idx`]), wrapped in [`DataError::InFile`];
    ///   [`DataError::CountMismatch`] when images and labels differ in number,
    ///   wrapped in [`DataError::InFiles`] naming both files,
    ///   [`DataError::LabelOutOfRange`] for a label above 9,
    ///   [`DataError::BadDims`] for labels that are not a list.
    pub fn load(dir: impl AsRef<Path>) -> Result<Self, DataError> {
        Self::load_with(dir, Scaling::Unit)
    }

    /// Loads like [`load`](Self::load), standardized with MNIST's statistics:
    /// `(x - 0.1307) / 0.3081`.
    ///
    /// # Errors
    /// As [`load`](Self::load).
    pub fn load_standardized(dir: impl AsRef<Path>) -> Result<Self, DataError> {
        Self::load_with(dir, Scaling::MNIST)
    }

    /// Loads like [`load`](Self::load), with the given pixel scaling.
    ///
    /// # Errors
    /// As [`load`](Self::load).
    pub fn load_with(dir: impl AsRef<Path>, scaling: Scaling) -> Result<Self, DataError> {
        Self::load_with_limit(dir, scaling, super::idx::DEFAULT_MAX_BYTES)
    }

    /// Loads like [`load_with`](Self::load_with), accepting IDX files whose
    /// data is up to `max_bytes` long (see [`IdxReader::max_bytes`]; the
    /// default is [`DEFAULT_MAX_BYTES`](super::idx::DEFAULT_MAX_BYTES)).
    ///
    /// # Errors
    /// As [`load`](Self::load); [`DataError::TooLarge`] (in
    /// [`DataError::InFile`]) for a file that declares more data.
    pub fn load_with_limit(
        dir: impl AsRef<Path>,
        scaling: Scaling,
        max_bytes: u64,
    ) -> Result<Self, DataError> {
        let dir = dir.as_ref();
        let reader = IdxReader::new().max_bytes(max_bytes);
        if X::LEN != PIXELS {
            return Err(DataError::SampleLength {
                expected: X::LEN,
                found: PIXELS,
            });
        }
        let paths = find_files(dir)?;
        let [train_x, train_y, test_x, test_y] = paths;
        Ok(Self {
            train: load_pair(&reader, &train_x, &train_y, scaling)?,
            test: load_pair(&reader, &test_x, &test_y, scaling)?,
        })
    }
}

impl Mnist {
    /// The MNIST directory: `$MNIST_DIR` when set and not empty, else
    /// `./data/mnist` when that directory exists, else `None`.
    pub fn dir_from_env() -> Option<PathBuf> {
        match std::env::var_os(DIR_VAR) {
            Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir)),
            _ => Some(PathBuf::from("data/mnist")).filter(|p| p.is_dir()),
        }
    }
}

/// Resolves the four files in `dir`: `.gz` first (the form `download`
/// verifies and writes), then the raw name.
fn find_files(dir: &Path) -> Result<[PathBuf; 4], DataError> {
    let found = FILES.map(|name| {
        [format!("{name}.gz"), name.to_owned()]
            .into_iter()
            .map(|n| dir.join(n))
            .find(|p| p.is_file())
    });
    match found {
        [Some(a), Some(b), Some(c), Some(d)] => Ok([a, b, c, d]),
        _ => Err(DataError::MissingFiles {
            dir: dir.to_path_buf(),
            expected: FILES.iter().map(|n| format!("{n}[.gz]")).collect(),
        }),
    }
}

/// Reads one images file and its labels file into a dataset.
fn load_pair<X: Tensor>(
    reader: &IdxReader,
    images: &Path,
    labels: &Path,
    scaling: Scaling,
) -> Result<InMemory<X, usize>, DataError> {
    let xs =
        images_from_idx::<X>(&reader.read_file(images)?, scaling).map_err(|e| e.in_file(images))?;
    let ys = labels_from_idx(&reader.read_file(labels)?, CLASSES).map_err(|e| e.in_file(labels))?;
    InMemory::new(xs, ys).map_err(|error| DataError::InFiles {
        inputs: images.to_path_buf(),
        targets: labels.to_path_buf(),
        error: Box::new(error),
    })
}

/// Converts IDX image data to inputs of type `X`, one table lookup per pixel.
///
/// Every item must hold exactly `X::LEN` bytes; the rank does not matter,
/// so `[N, 28, 28]` images fill `[E; 784]` as well as `[[[E; 28]; 28]; 1]`.
///
/// # Errors
/// [`DataError::SampleLength`] if the items are not `X::LEN` bytes long.
///
/// # Examples
/// ```
/// use constnet::data::{encode_idx, read_idx, mnist::{images_from_idx, Scaling}};
/// let idx = read_idx(&encode_idx(&[1, 2, 2], &[0, 51, 255, 0])?[..])?;
/// let images = images_from_idx::<[[f32; 2]; 2]>(&idx, Scaling::Unit)?;
/// assert_eq!(images, [[[0.0, 0.2], [1.0, 0.0]]]);
/// # Ok::<(), constnet::data::DataError>(())
/// ```
pub fn images_from_idx<X: Tensor>(idx: &Idx, scaling: Scaling) -> Result<Vec<X>, DataError> {
    if idx.dims().len() < 2 || idx.item_len() != X::LEN {
        return Err(DataError::SampleLength {
            expected: X::LEN,
            found: idx.item_len(),
        });
    }
    let table = scaling.table::<X::Elem>();
    let mut images = vec![X::zeroed(); idx.count()];
    for (out, &byte) in X::batch_flat_mut(&mut images).iter_mut().zip(idx.data()) {
        *out = table[usize::from(byte)];
    }
    Ok(images)
}

/// Converts IDX label data (rank 1) to class indices, each checked below `classes`.
///
/// # Errors
/// - [`DataError::BadDims`] if the data is not one-dimensional.
/// - [`DataError::LabelOutOfRange`] for the first label `>= classes`.
pub fn labels_from_idx(idx: &Idx, classes: usize) -> Result<Vec<usize>, DataError> {
    if idx.dims().len() != 1 {
        return Err(DataError::BadDims {
            found: idx.dims().iter().map(|&d| d as u64).collect(),
            reason: "labels must be one-dimensional ([count])".into(),
        });
    }
    let labels: Vec<usize> = idx.data().iter().map(|&b| usize::from(b)).collect();
    if let Some(index) = labels.iter().position(|&l| l >= classes) {
        return Err(DataError::LabelOutOfRange {
            index,
            label: labels.get(index).copied().unwrap_or(0),
            classes,
        });
    }
    Ok(labels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Dataset, encode_idx};
    use std::fs;
    use std::{format, vec};

    /// A scratch directory removed on drop.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(tag: &str) -> Self {
            let dir =
                std::env::temp_dir().join(format!("constnet-mnist-{tag}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// Writes a tiny MNIST-shaped set: `n_train`/`n_test` images of 28×28 and labels.
    fn write_set(dir: &Path, n_train: usize, n_test: usize, labels: &[u8]) {
        let image = |n: usize| encode_idx(&[n, 28, 28], &vec![255u8; n * PIXELS]).unwrap();
        let label = |n: usize| encode_idx(&[n], &labels[..n]).unwrap();
        fs::write(dir.join(FILES[0]), image(n_train)).unwrap();
        fs::write(dir.join(FILES[1]), label(n_train)).unwrap();
        fs::write(dir.join(FILES[2]), image(n_test)).unwrap();
        fs::write(dir.join(FILES[3]), label(n_test)).unwrap();
    }

    #[test]
    fn mnist_loads_tiny_set_in_any_shape() {
        let dir = Scratch::new("ok");
        write_set(&dir.0, 3, 2, &[5, 0, 9]);
        let flat = Mnist::<[f32; 784]>::load(&dir.0).unwrap();
        assert_eq!((flat.train.len(), flat.test.len()), (3, 2));
        assert_eq!(flat.train.targets(), [5, 0, 9]);
        assert!(flat.train.inputs()[2].iter().all(|&p| p == 1.0));
        let cnn = Mnist::<[[[f64; 28]; 28]; 1]>::load_standardized(&dir.0).unwrap();
        assert!((cnn.test.inputs()[1][0][27][27] - (1.0 - MEAN) / STD).abs() < 1e-12);
    }

    #[test]
    fn mnist_reads_gzip_files() {
        use flate2::{Compression, write::GzEncoder};
        use std::io::Write;
        let dir = Scratch::new("gz");
        write_set(&dir.0, 2, 1, &[1, 2]);
        let raw = dir.0.join(FILES[0]);
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        enc.write_all(&fs::read(&raw).unwrap()).unwrap();
        fs::write(
            dir.0.join(format!("{}.gz", FILES[0])),
            enc.finish().unwrap(),
        )
        .unwrap();
        fs::remove_file(raw).unwrap();
        assert_eq!(Mnist::<[f32; 784]>::load(&dir.0).unwrap().train.len(), 2);
    }

    #[test]
    fn mnist_missing_files_names_them_and_the_dir() {
        let dir = Scratch::new("missing");
        let err = Mnist::<[f32; 784]>::load(&dir.0).unwrap_err();
        assert!(matches!(err, DataError::MissingFiles { .. }));
        let msg = err.to_string();
        for name in FILES {
            assert!(msg.contains(&format!("{name}[.gz]")), "{msg}");
        }
        assert!(msg.contains(&dir.0.display().to_string()), "{msg}");
    }

    #[test]
    fn mnist_rejects_count_mismatch() {
        let dir = Scratch::new("count");
        write_set(&dir.0, 3, 2, &[1, 2, 3]);
        fs::write(dir.0.join(FILES[1]), encode_idx(&[2], &[1, 2]).unwrap()).unwrap();
        let err = Mnist::<[f32; 784]>::load(&dir.0).unwrap_err();
        assert!(
            matches!(
                err.root(),
                DataError::CountMismatch {
                    inputs: 3,
                    targets: 2
                }
            ),
            "{err}"
        );
        let msg = err.to_string();
        let images = dir.0.join(FILES[0]).display().to_string();
        let labels = dir.0.join(FILES[1]).display().to_string();
        assert_eq!(
            msg,
            format!("in `{images}` and `{labels}`: count mismatch: 3 inputs but 2 targets")
        );
    }

    #[test]
    fn mnist_rejects_label_out_of_range() {
        let dir = Scratch::new("label");
        write_set(&dir.0, 3, 2, &[1, 10, 3]);
        let err = Mnist::<[f32; 784]>::load(&dir.0).unwrap_err();
        assert!(
            matches!(
                err.root(),
                DataError::LabelOutOfRange {
                    index: 1,
                    label: 10,
                    classes: 10
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains(FILES[1]), "{err}");
    }

    #[test]
    fn mnist_rejects_wrong_input_size() {
        let dir = Scratch::new("len");
        write_set(&dir.0, 1, 1, &[0]);
        let err = Mnist::<[f32; 100]>::load(&dir.0).unwrap_err();
        assert!(matches!(
            err,
            DataError::SampleLength {
                expected: 100,
                found: 784
            }
        ));
        // Images of another size in the file.
        fs::write(
            dir.0.join(FILES[0]),
            encode_idx(&[1, 27, 28], &[0; 27 * 28]).unwrap(),
        )
        .unwrap();
        let err = Mnist::<[f32; 784]>::load(&dir.0).unwrap_err();
        assert!(matches!(
            err.root(),
            DataError::SampleLength {
                expected: 784,
                found: 756
            }
        ));
    }

    #[test]
    fn labels_must_be_rank_one() {
        let idx = crate::data::read_idx(&encode_idx(&[2, 1], &[0, 1]).unwrap()[..]).unwrap();
        assert!(matches!(
            labels_from_idx(&idx, 10),
            Err(DataError::BadDims { .. })
        ));
    }
}
