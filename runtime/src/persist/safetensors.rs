//! PyTorch-compatible `.safetensors` files (feature `safetensors`).
//!
//! Each entry of `Network::TENSORS` is one tensor under its name, in its
//! PyTorch shape, as `F32` or `F64` to match the element type. The header
//! metadata holds `format = pt` (what PyTorch tooling expects),
//! `constnet.network` (the network's name) and `constnet.signature` (its
//! architecture signature, as `0x` and 16 hex digits).
//!
//! Loading is strict: every tensor of the network must be present with its
//! shape and dtype, and a tensor the network does not have is an error, so
//! weights exported from another model are never half-applied. The one
//! exception is PyTorch's `*.num_batches_tracked` batch-norm counter (a
//! scalar), which constnet does not keep and skips. The signature is
//! compared only when the file has one: files exported from PyTorch don't.
//!
//! Every size is checked before data is read: [`load_safetensors`] reads
//! the 8-byte header length (at most [`SAFETENSORS_MAX_HEADER_LEN`]), then
//! the JSON header, checks every declared tensor against the network (name,
//! dtype, shape, and so its byte size) and the file's length against the
//! sizes declared, and only then reads the data, exactly as much as the
//! network holds.

use std::format;
use std::io::Read;
use std::path::Path;
use std::string::{String, ToString};
use std::vec::Vec;

use ::safetensors::tensor::{Metadata, TensorView};
use ::safetensors::{Dtype, SafeTensorError, SafeTensors};

use super::{PersistError, atomic, check_finite};
use crate::bounded::read_full;
use crate::{Network, Scalar};

/// The largest JSON header [`load_safetensors`] reads, in bytes (1 MiB).
/// A header lists each tensor in about 100 bytes, so this allows some
/// ten thousand tensors; the `safetensors` crate's own cap is 100 MB.
///
/// Needs the `safetensors` feature.
pub const SAFETENSORS_MAX_HEADER_LEN: u64 = 1 << 20;

/// Bytes of the little-endian header length that starts every file.
const LEN_BYTES: usize = 8;

pub(super) const FORMAT_KEY: &str = "format";
const NETWORK_KEY: &str = "constnet.network";
const SIGNATURE_KEY: &str = "constnet.signature";
/// PyTorch's batch-norm step counter, which constnet has no use for.
pub(super) const IGNORED_SUFFIX: &str = ".num_batches_tracked";

/// The dtype of element type `E` and its name in messages.
pub(super) fn dtype<E: Scalar>() -> (Dtype, &'static str) {
    if E::BYTES == 4 {
        (Dtype::F32, "F32")
    } else {
        (Dtype::F64, "F64")
    }
}

pub(super) fn invalid(e: SafeTensorError) -> PersistError {
    PersistError::InvalidSafetensors {
        reason: e.to_string(),
    }
}

/// Encodes the network's parameters as a safetensors file.
///
/// Needs the `safetensors` feature.
///
/// # Errors
/// [`PersistError::NonFinite`] if a parameter is NaN or infinite.
pub fn to_safetensors<N: Network>(net: &N) -> Result<Vec<u8>, PersistError> {
    let names: Vec<&str> = N::TENSORS.iter().map(|t| t.name).collect();
    let metadata = [
        (FORMAT_KEY, "pt".to_string()),
        (NETWORK_KEY, N::NAME.to_string()),
        (SIGNATURE_KEY, format!("{:#018x}", N::SIGNATURE)),
    ];
    encode(net, &names, &metadata)
}

/// The network's tensors as a safetensors file, tensor `i` of
/// `N::TENSORS` under `names[i]`, with `metadata`.
pub(super) fn encode<N: Network, S: AsRef<str>>(
    net: &N,
    names: &[S],
    metadata: &[(&str, String)],
) -> Result<Vec<u8>, PersistError> {
    let params = net.params();
    check_finite(params, N::TENSORS)?;
    let size = N::Elem::BYTES;
    let mut raw = std::vec![0u8; params.len() * size];
    for (chunk, &v) in raw.chunks_exact_mut(size).zip(params) {
        v.write_le(chunk);
    }
    let (dtype, _) = dtype::<N::Elem>();
    let mut views = Vec::with_capacity(N::TENSORS.len());
    for (t, name) in N::TENSORS.iter().zip(names) {
        let data = raw
            .get(t.offset * size..(t.offset + t.len) * size)
            .unwrap_or_default();
        let view = TensorView::new(dtype, t.shape.to_vec(), data).map_err(invalid)?;
        views.push((name.as_ref(), view));
    }
    let metadata = metadata
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    ::safetensors::serialize(views, Some(metadata)).map_err(invalid)
}

/// Loads a safetensors file's tensors into `net`.
///
/// Needs the `safetensors` feature.
///
/// Checks the file's structure, the signature (when the file has one), then
/// every tensor of the network in order (present, dtype, shape, finite
/// values), then that the file has no other tensors. `net` is only written
/// once all of them pass.
///
/// # Errors
/// [`PersistError::InvalidSafetensors`], [`PersistError::SignatureMismatch`],
/// [`PersistError::MissingTensor`], [`PersistError::DtypeMismatch`],
/// [`PersistError::ShapeMismatch`], [`PersistError::NonFinite`] or
/// [`PersistError::UnexpectedTensor`].
pub fn from_safetensors<N: Network>(net: &mut N, bytes: &[u8]) -> Result<(), PersistError> {
    let file = SafeTensors::deserialize(bytes).map_err(invalid)?;
    let (_, metadata) = SafeTensors::read_metadata(bytes).map_err(invalid)?;
    check_declared::<N>(&metadata)?;
    let mut values = net.params().to_vec();
    for t in N::TENSORS {
        let view = file
            .tensor(t.name)
            .map_err(|_| PersistError::MissingTensor { name: t.name })?;
        let slots = values.get_mut(t.range()).unwrap_or_default();
        for (v, chunk) in slots
            .iter_mut()
            .zip(view.data().chunks_exact(N::Elem::BYTES))
        {
            *v = N::Elem::read_le(chunk);
        }
    }
    check_finite(&values, N::TENSORS)?;
    net.params_mut().copy_from_slice(&values);
    Ok(())
}

/// Checks what a file's header declares against the network, before any
/// data is read: the signature (when the file has one), then every tensor
/// of the network in order (present, dtype, shape), then that the file has
/// no other tensors. Returns the length of the data section.
///
/// The `safetensors` crate has already checked that the declared offsets
/// are contiguous and match each tensor's dtype and shape, so a tensor whose
/// dtype and shape are the network's has exactly the network's byte size.
fn check_declared<N: Network>(metadata: &Metadata) -> Result<usize, PersistError> {
    check_signature::<N>(metadata)?;
    let (dtype, dtype_name) = dtype::<N::Elem>();
    for t in N::TENSORS {
        let info = metadata
            .info(t.name)
            .ok_or(PersistError::MissingTensor { name: t.name })?;
        if info.dtype != dtype {
            return Err(PersistError::DtypeMismatch {
                name: t.name,
                expected: dtype_name,
                found: info.dtype.to_string(),
            });
        }
        if info.shape != t.shape
            || info.data_offsets.1 - info.data_offsets.0 != t.len * N::Elem::BYTES
        {
            return Err(PersistError::ShapeMismatch {
                name: t.name,
                expected: t.shape,
                found: info.shape.clone(),
            });
        }
    }
    let tensors = metadata.tensors();
    let mut extra: Vec<&str> = tensors
        .iter()
        .filter(|(name, info)| !(name.ends_with(IGNORED_SUFFIX) && is_scalar(info)))
        .map(|(name, _)| name.as_str())
        .filter(|name| !N::TENSORS.iter().any(|t| t.name == *name))
        .collect();
    extra.sort_unstable();
    if let Some(name) = extra.first() {
        return Err(PersistError::UnexpectedTensor {
            network: N::NAME,
            name: name.to_string(),
        });
    }
    Ok(metadata.data_len())
}

/// A tensor of at most one element, as PyTorch's batch counters are.
pub(super) fn is_scalar(info: &::safetensors::tensor::TensorInfo) -> bool {
    info.shape.iter().product::<usize>() <= 1
}

/// Rejects a file whose `constnet.signature` metadata names another
/// architecture; a file without one (such as a PyTorch export) passes.
fn check_signature<N: Network>(metadata: &Metadata) -> Result<(), PersistError> {
    let Some(text) = metadata
        .metadata()
        .as_ref()
        .and_then(|m| m.get(SIGNATURE_KEY))
    else {
        return Ok(());
    };
    let found = text
        .strip_prefix("0x")
        .and_then(|hex| u64::from_str_radix(hex, 16).ok())
        .ok_or_else(|| PersistError::InvalidSafetensors {
            reason: format!("metadata `{SIGNATURE_KEY}` is `{text}`, not a 0x-prefixed hex u64"),
        })?;
    if found != N::SIGNATURE {
        return Err(PersistError::SignatureMismatch {
            network: N::NAME,
            expected: N::SIGNATURE,
            found,
        });
    }
    Ok(())
}

/// Saves the network's parameters to `path` as safetensors, atomically (see
/// [the module docs](super)).
///
/// Needs the `safetensors` feature.
///
/// # Errors
/// [`PersistError::NonFinite`] before anything is written, or
/// [`PersistError::Io`] naming `path`; the previous file is intact either way.
pub fn save_safetensors<N: Network>(net: &N, path: impl AsRef<Path>) -> Result<(), PersistError> {
    atomic::write(path.as_ref(), &to_safetensors(net)?)
}

/// Loads a safetensors file from `path` into `net`, checking every
/// declared size before reading data.
///
/// Needs the `safetensors` feature.
///
/// Reads the header length (refused above [`SAFETENSORS_MAX_HEADER_LEN`] or
/// past the end of the file), the header, checks it as [`from_safetensors`] does,
/// compares the file's length with the sizes it declares, and only then
/// reads the data: at most the network's size plus the header.
///
/// # Errors
/// [`PersistError::Io`] or [`PersistError::NotAFile`] naming `path` (FIFOs,
/// devices and directories are refused before any read); otherwise any
/// error of [`from_safetensors`], or [`PersistError::TooLarge`],
/// [`PersistError::Truncated`] or [`PersistError::TrailingData`], wrapped in
/// [`PersistError::InFile`]. `net` is unchanged on error.
pub fn load_safetensors<N: Network>(
    net: &mut N,
    path: impl AsRef<Path>,
) -> Result<(), PersistError> {
    let path = path.as_ref();
    let (mut file, len) = super::open(path)?;
    let bytes =
        read_bounded(&mut file, len, path, check_declared::<N>).map_err(|e| e.in_file(path))?;
    from_safetensors(net, &bytes).map_err(|e| e.in_file(path))
}

/// Reads a safetensors file of `len` bytes: the header length, the header
/// (which `check` accepts and returns the data length of), then exactly the
/// declared data.
pub(super) fn read_bounded(
    reader: &mut impl Read,
    len: u64,
    path: &Path,
    check: impl FnOnce(&Metadata) -> Result<usize, PersistError>,
) -> Result<Vec<u8>, PersistError> {
    let read_err = |source| PersistError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    };
    let truncated = |expected: u64| PersistError::Truncated {
        expected: usize::try_from(expected).unwrap_or(usize::MAX),
        found: usize::try_from(len).unwrap_or(usize::MAX),
    };
    let mut prefix = [0u8; LEN_BYTES];
    if read_full(reader, &mut prefix).map_err(read_err)? < LEN_BYTES {
        return Err(truncated(LEN_BYTES as u64));
    }
    let header_len = u64::from_le_bytes(prefix);
    if header_len > SAFETENSORS_MAX_HEADER_LEN {
        return Err(PersistError::TooLarge {
            what: "safetensors header",
            declared: header_len,
            limit: SAFETENSORS_MAX_HEADER_LEN,
        });
    }
    let data_start = LEN_BYTES as u64 + header_len;
    if data_start > len {
        return Err(truncated(data_start));
    }
    // Both bounded: by SAFETENSORS_MAX_HEADER_LEN, and by the file's length.
    let mut bytes = std::vec![0u8; data_start as usize];
    bytes[..LEN_BYTES].copy_from_slice(&prefix);
    if read_full(reader, &mut bytes[LEN_BYTES..]).map_err(read_err)? < header_len as usize {
        return Err(truncated(data_start));
    }
    let metadata: Metadata = serde_json::from_slice(&bytes[LEN_BYTES..]).map_err(|e| {
        PersistError::InvalidSafetensors {
            reason: format!("invalid header: {e}"),
        }
    })?;
    let data_len = check(&metadata)? as u64;
    let total = data_start + data_len;
    if len != total {
        let found = usize::try_from(len).unwrap_or(usize::MAX);
        let expected = usize::try_from(total).unwrap_or(usize::MAX);
        return Err(if len < total {
            PersistError::Truncated { expected, found }
        } else {
            PersistError::TrailingData { expected, found }
        });
    }
    // Bounded by what `check` accepted: for a whole network its size (every
    // declared tensor is one of its tensors, or a scalar batch counter),
    // and in any case the file's length.
    let start = bytes.len();
    bytes.resize(start + data_len as usize, 0);
    if read_full(reader, &mut bytes[start..]).map_err(read_err)? < data_len as usize {
        return Err(truncated(total));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persist::test_net::{TempDir, Tiny};
    use std::string::String;

    /// A file with the given `(name, dtype, shape, values)` tensors, no metadata.
    fn craft(tensors: &[(&str, Dtype, &[usize], &[f64])]) -> Vec<u8> {
        let raw: Vec<Vec<u8>> = tensors
            .iter()
            .map(|(_, dtype, _, values)| {
                values
                    .iter()
                    .flat_map(|&v| match dtype {
                        Dtype::F32 => (v as f32).to_le_bytes().to_vec(),
                        _ => v.to_le_bytes().to_vec(),
                    })
                    .collect()
            })
            .collect();
        let views = tensors
            .iter()
            .zip(&raw)
            .map(|((name, dtype, shape, _), data)| {
                (
                    name.to_string(),
                    TensorView::new(*dtype, shape.to_vec(), data).unwrap(),
                )
            });
        ::safetensors::serialize(views, None).unwrap()
    }

    const W: [f64; 6] = [0.5, -1.25, 2.0, 3.5, -0.75, 1.0];
    const B: [f64; 2] = [0.125, -4.0];

    fn load_err(bytes: &[u8]) -> PersistError {
        let mut net = Tiny::<f32>::zeroed();
        let err = from_safetensors(&mut net, bytes).unwrap_err();
        assert_eq!(net, Tiny::zeroed(), "a failed load changed the network");
        err
    }

    #[test]
    fn round_trip_f32_and_f64() {
        let mut net = Tiny::<f32>::zeroed();
        from_safetensors(&mut net, &to_safetensors(&Tiny::<f32>::sample()).unwrap()).unwrap();
        assert_eq!(net, Tiny::sample());
        let mut net = Tiny::<f64>::zeroed();
        from_safetensors(&mut net, &to_safetensors(&Tiny::<f64>::sample()).unwrap()).unwrap();
        assert_eq!(net, Tiny::sample());
    }

    #[test]
    fn file_has_pytorch_names_shapes_dtypes_and_metadata() {
        let bytes = to_safetensors(&Tiny::<f32>::sample()).unwrap();
        let file = SafeTensors::deserialize(&bytes).unwrap();
        let weight = file.tensor("affine1.weight").unwrap();
        assert_eq!(
            (weight.dtype(), weight.shape()),
            (Dtype::F32, &[2usize, 3][..])
        );
        assert_eq!(weight.data()[4..8], (-1.25f32).to_le_bytes());
        assert_eq!(file.tensor("affine1.bias").unwrap().shape(), [2]);
        assert_eq!(file.len(), 2);
        let (_, metadata) = SafeTensors::read_metadata(&bytes).unwrap();
        let metadata = metadata.metadata().as_ref().unwrap();
        assert_eq!(metadata.get("format").map(String::as_str), Some("pt"));
        assert_eq!(
            metadata.get("constnet.network").map(String::as_str),
            Some("Tiny")
        );
        assert_eq!(
            metadata.get("constnet.signature").map(String::as_str),
            Some("0x0123456789abcdef")
        );
    }

    #[test]
    fn pytorch_export_without_metadata_loads_and_skips_batch_counters() {
        let bytes = craft(&[
            ("affine1.bias", Dtype::F32, &[2], &B),
            ("affine1.weight", Dtype::F32, &[2, 3], &W),
            ("bn1.num_batches_tracked", Dtype::F32, &[], &[7.0]),
        ]);
        let mut net = Tiny::<f32>::zeroed();
        from_safetensors(&mut net, &bytes).unwrap();
        assert_eq!(net, Tiny::sample());
    }

    #[test]
    fn save_and_load_round_trip_through_a_file() {
        let dir = TempDir::new("st-file");
        let path = dir.join("tiny.safetensors");
        save_safetensors(&Tiny::<f64>::sample(), &path).unwrap();
        let mut net = Tiny::<f64>::zeroed();
        load_safetensors(&mut net, &path).unwrap();
        assert_eq!(net, Tiny::sample());
        assert_eq!(dir.entries(), ["tiny.safetensors"]);
    }

    #[test]
    fn corrupt_file_is_rejected() {
        let err = load_err(b"\x10\0\0\0\0\0\0\0{not json at all}");
        assert!(
            matches!(err, PersistError::InvalidSafetensors { .. }),
            "{err}"
        );
        assert!(
            err.to_string().starts_with("invalid safetensors file: "),
            "{err}"
        );
        let mut bytes = to_safetensors(&Tiny::<f32>::sample()).unwrap();
        bytes.truncate(bytes.len() - 3);
        assert!(matches!(
            load_err(&bytes),
            PersistError::InvalidSafetensors { .. }
        ));
        assert!(matches!(
            load_err(&[]),
            PersistError::InvalidSafetensors { .. }
        ));
    }

    #[test]
    fn missing_tensor_is_named() {
        let bytes = craft(&[("affine1.weight", Dtype::F32, &[2, 3], &W)]);
        assert_eq!(
            load_err(&bytes).to_string(),
            "tensor `affine1.bias` is missing from the file"
        );
    }

    #[test]
    fn unexpected_tensor_is_named() {
        let bytes = craft(&[
            ("affine1.weight", Dtype::F32, &[2, 3], &W),
            ("affine1.bias", Dtype::F32, &[2], &B),
            ("affine2.weight", Dtype::F32, &[1], &[1.0]),
        ]);
        assert_eq!(
            load_err(&bytes).to_string(),
            "the file holds tensor `affine2.weight`, which network `Tiny` does not have"
        );
    }

    #[test]
    fn wrong_shape_shows_expected_and_found() {
        let bytes = craft(&[
            ("affine1.weight", Dtype::F32, &[3, 2], &W),
            ("affine1.bias", Dtype::F32, &[2], &B),
        ]);
        assert_eq!(
            load_err(&bytes).to_string(),
            "tensor `affine1.weight`: expected shape [2, 3], found [3, 2]"
        );
    }

    #[test]
    fn wrong_dtype_is_rejected() {
        let bytes = craft(&[
            ("affine1.weight", Dtype::F64, &[2, 3], &W),
            ("affine1.bias", Dtype::F64, &[2], &B),
        ]);
        assert_eq!(
            load_err(&bytes).to_string(),
            "tensor `affine1.weight`: expected dtype F32, found F64"
        );
    }

    #[test]
    fn signature_in_metadata_must_match() {
        let mut bytes = to_safetensors(&Tiny::<f32>::sample()).unwrap();
        // Same length, so the header stays valid: ...cdef → ...cdee.
        let at = bytes
            .windows(18)
            .position(|w| w == b"0x0123456789abcdef")
            .unwrap();
        bytes[at + 17] = b'e';
        let err = load_err(&bytes);
        assert!(
            err.to_string()
                .starts_with("file was written for a different network architecture")
        );
        bytes[at + 17] = b'z';
        assert_eq!(
            load_err(&bytes).to_string(),
            "invalid safetensors file: metadata `constnet.signature` is `0x0123456789abcdez`, \
             not a 0x-prefixed hex u64"
        );
    }

    #[test]
    fn non_finite_values_are_rejected() {
        let bytes = craft(&[
            ("affine1.weight", Dtype::F32, &[2, 3], &W),
            ("affine1.bias", Dtype::F32, &[2], &[0.0, f64::INFINITY]),
        ]);
        assert_eq!(
            load_err(&bytes).to_string(),
            "tensor `affine1.bias` holds a non-finite value (inf) at index 1"
        );
        let mut diverged = Tiny::<f64>::sample();
        diverged.params[0] = f64::NAN;
        assert!(matches!(
            to_safetensors(&diverged),
            Err(PersistError::NonFinite { .. })
        ));
    }

    fn load_file_err(path: &Path) -> PersistError {
        let mut net = Tiny::<f32>::zeroed();
        let err = load_safetensors(&mut net, path).unwrap_err();
        assert_eq!(net, Tiny::zeroed(), "a failed load changed the network");
        err
    }

    #[test]
    fn declared_sizes_are_checked_before_the_data_is_read() {
        let dir = TempDir::new("st-declared");
        let good = to_safetensors(&Tiny::<f32>::sample()).unwrap();
        let path = dir.join("tiny.safetensors");
        // Cut data: refused on the length the header implies, naming the file.
        std::fs::write(&path, &good[..good.len() - 4]).unwrap();
        let err = load_file_err(&path);
        match err.root() {
            PersistError::Truncated { expected, found } => {
                assert_eq!((*expected, *found), (good.len(), good.len() - 4));
            }
            other => panic!("{other}"),
        }
        assert!(
            err.to_string()
                .starts_with(&format!("in `{}`: file is truncated", path.display())),
            "{err}"
        );
        // Extra bytes after the data.
        let mut long = good.clone();
        long.extend_from_slice(&[0; 3]);
        std::fs::write(&path, &long).unwrap();
        assert!(matches!(
            load_file_err(&path).root(),
            PersistError::TrailingData { .. }
        ));
        // A header declaring a 1e9-element tensor where the network has 6:
        // refused on the header, with 8 bytes of data behind it.
        let mut header = std::string::String::from(
            r#"{"affine1.weight":{"dtype":"F32","shape":[1000000000],"data_offsets":[0,4000000000]}}"#,
        );
        while (header.len() + 8) % 8 != 0 {
            header.push(' ');
        }
        let mut lying = (header.len() as u64).to_le_bytes().to_vec();
        lying.extend_from_slice(header.as_bytes());
        lying.extend_from_slice(&[0; 8]);
        std::fs::write(&path, &lying).unwrap();
        assert!(
            matches!(
                load_file_err(&path).root(),
                PersistError::ShapeMismatch {
                    name: "affine1.weight",
                    ..
                }
            ),
            "{}",
            load_file_err(&path)
        );
        // A header length past the limit.
        std::fs::write(&path, u64::MAX.to_le_bytes()).unwrap();
        let err = load_file_err(&path);
        assert!(
            matches!(
                err.root(),
                PersistError::TooLarge {
                    what: "safetensors header",
                    declared: u64::MAX,
                    limit: SAFETENSORS_MAX_HEADER_LEN
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string().ends_with(&format!(
                "safetensors header of {} bytes exceeds the limit of 1048576 bytes",
                u64::MAX
            )),
            "{err}"
        );
        // And the file as it should be still loads.
        std::fs::write(&path, &good).unwrap();
        let mut net = Tiny::<f32>::zeroed();
        load_safetensors(&mut net, &path).unwrap();
        assert_eq!(net, Tiny::sample());
    }

    #[test]
    fn huge_and_special_files_fail_without_being_read() {
        let dir = TempDir::new("st-huge");
        let zeros = dir.join("zeros.safetensors");
        std::fs::File::create(&zeros)
            .unwrap()
            .set_len(1_500_000_000)
            .unwrap();
        assert!(matches!(
            load_file_err(&zeros).root(),
            PersistError::InvalidSafetensors { .. }
        ));
        #[cfg(unix)]
        assert!(matches!(
            load_file_err(Path::new("/dev/zero")),
            PersistError::NotAFile {
                kind: "a character device",
                ..
            }
        ));
    }

    #[test]
    fn batch_counters_must_be_scalars() {
        let bytes = craft(&[
            ("affine1.weight", Dtype::F32, &[2, 3], &W),
            ("affine1.bias", Dtype::F32, &[2], &B),
            ("bn1.num_batches_tracked", Dtype::F32, &[2], &[7.0, 8.0]),
        ]);
        assert_eq!(
            load_err(&bytes).to_string(),
            "the file holds tensor `bn1.num_batches_tracked`, which network `Tiny` does not have"
        );
    }
}
