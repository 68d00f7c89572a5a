//! Safetensors files whose tensor names are not the network's (feature
//! `safetensors`): PyTorch state dicts (`0.weight` from `nn.Sequential`,
//! `fc1.weight` from a module with the user's names) and parts of another
//! network's file (transfer learning).
//!
//! A [`NameMap`] says which file tensor fills which network tensor:
//! the same name, explicit pairs, or position (the i-th network tensor
//! takes the first unused file tensor of its shape, file tensors taken in
//! PyTorch's order). PyTorch's `*.num_batches_tracked` counters are
//! skipped. A whole load must use every file tensor and fill every network
//! tensor, else [`PersistError::Unmatched`] lists what is left on both
//! sides; a load restricted to some network tensors ([`load_mapped`]'s
//! `only`) fills those and leaves the rest, and any other file tensors,
//! untouched.

use std::cmp::Ordering;
use std::format;
use std::path::Path;
use std::string::{String, ToString};
use std::vec::Vec;

use ::safetensors::SafeTensors;
use ::safetensors::tensor::Metadata;

use super::safetensors::{
    FORMAT_KEY, IGNORED_SUFFIX, dtype, encode, invalid, is_scalar, read_bounded,
};
use super::{PersistError, check_finite};
use crate::network::params::select;
use crate::{Network, Scalar, TensorInfo};

/// Which file tensor fills which network tensor.
///
/// Needs the `safetensors` feature.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum NameMap {
    /// A file tensor fills the network tensor of the same name.
    #[default]
    Same,
    /// `(file tensor, network tensor)` pairs, such as
    /// `("fc1.weight", "affine1.weight")`.
    Pairs(Vec<(String, String)>),
    /// The i-th network tensor (in `Network::TENSORS` order, trainable and
    /// running statistics alike) takes the first file tensor of its shape
    /// not taken yet, file tensors in a state dict's order: by module,
    /// names compared part by part at the dots, numbers as numbers (`2.` before
    /// `10.`), then as each module registers its tensors (`weight`, `bias`,
    /// `running_mean`, `running_var`). That is the order of an
    /// `nn.Sequential`, and of modules whose names sort in their order
    /// (`conv`, `fc1`, `fc2`).
    Positional,
}

impl NameMap {
    /// Pairs from `(file tensor, network tensor)` string slices.
    pub fn pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        NameMap::Pairs(
            pairs
                .into_iter()
                .map(|(f, n)| (f.to_string(), n.to_string()))
                .collect(),
        )
    }
}

/// The parameters and buffers of PyTorch's modules in the order they
/// register them (and so the order of a state dict).
const REGISTRATION: [&str; 5] = [
    "weight",
    "bias",
    "running_mean",
    "running_var",
    "num_batches_tracked",
];

/// Compares two names as a state dict orders them, for modules named in
/// order: by module path, part by part at the dots, parts that are numbers
/// by value (`2.` before `10.`), then by the tensor's place in its module
/// ([`REGISTRATION`], then by name).
fn pytorch_order(a: &str, b: &str) -> Ordering {
    let part = |x: &str, y: &str| match (x.parse::<u64>(), y.parse::<u64>()) {
        (Ok(m), Ok(n)) => m.cmp(&n),
        _ => x.cmp(y),
    };
    let (ma, ta) = a.rsplit_once('.').unwrap_or(("", a));
    let (mb, tb) = b.rsplit_once('.').unwrap_or(("", b));
    let rank = |t: &str| {
        REGISTRATION
            .iter()
            .position(|r| *r == t)
            .unwrap_or(REGISTRATION.len())
    };
    ma.split('.')
        .zip(mb.split('.'))
        .map(|(x, y)| part(x, y))
        .find(|o| o.is_ne())
        .unwrap_or_else(|| ma.split('.').count().cmp(&mb.split('.').count()))
        .then(rank(ta).cmp(&rank(tb)))
        .then(ta.cmp(tb))
}

/// For each network tensor in `wanted`, the file tensor that fills it, as
/// `(network tensor, file name)`; checked for dtype and shape.
fn resolve<N: Network>(
    metadata: &Metadata,
    map: &NameMap,
    wanted: &[bool],
) -> Result<Vec<(&'static TensorInfo, String)>, PersistError> {
    let tensors = metadata.tensors();
    let mut names: Vec<&str> = tensors
        .iter()
        .filter(|(name, info)| !(name.ends_with(IGNORED_SUFFIX) && is_scalar(info)))
        .map(|(name, _)| name.as_str())
        .collect();
    names.sort_by(|a, b| pytorch_order(a, b));
    let shape = |name: &str| metadata.info(name).map(|i| i.shape.clone());
    let targets = N::TENSORS.iter().zip(wanted).filter(|(_, w)| **w);
    let mut used = std::vec![false; names.len()];
    let mut pairs = Vec::new();
    let mut missing: Vec<&'static str> = Vec::new();
    for (t, _) in targets {
        let found = match map {
            NameMap::Same => names.iter().position(|n| *n == t.name),
            NameMap::Pairs(list) => list
                .iter()
                .find(|(_, net)| net == t.name)
                .and_then(|(file, _)| names.iter().position(|n| n == file)),
            NameMap::Positional => {
                (0..names.len()).find(|&i| !used[i] && shape(names[i]).as_deref() == Some(t.shape))
            }
        };
        match found {
            Some(i) if !used[i] => {
                used[i] = true;
                pairs.push((t, names[i].to_string()));
            }
            _ => missing.push(t.name),
        }
    }
    let whole = wanted.iter().all(|w| *w);
    let extra: Vec<String> = names
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|(n, _)| n.to_string())
        .collect();
    if !missing.is_empty() || (whole && !extra.is_empty()) {
        return Err(PersistError::Unmatched {
            network: N::NAME,
            file: if whole { extra } else { Vec::new() },
            net: missing,
        });
    }
    let (dtype, dtype_name) = dtype::<N::Elem>();
    for (t, file) in &pairs {
        let Some(info) = metadata.info(file) else {
            continue;
        };
        if info.dtype != dtype {
            return Err(PersistError::DtypeMismatch {
                name: t.name,
                expected: dtype_name,
                found: format!("{} (file tensor `{file}`)", info.dtype),
            });
        }
        if info.shape != t.shape {
            return Err(PersistError::ShapeMismatch {
                name: t.name,
                expected: t.shape,
                found: info.shape.clone(),
            });
        }
    }
    Ok(pairs)
}

/// Loads the network tensors that `map` fills from safetensors `bytes`
/// into `net`: every tensor, or with `only` (patterns as
/// [`params::matches`](crate::network::params::matches) takes them:
/// `conv1`, `conv*`) just those. Nothing is written unless every check
/// passes.
///
/// Needs the `safetensors` feature.
///
/// # Errors
/// [`PersistError::Unmatched`] listing the network tensors left unfilled
/// and, for a whole load, the file tensors left unused;
/// [`PersistError::DtypeMismatch`], [`PersistError::ShapeMismatch`],
/// [`PersistError::NonFinite`], [`PersistError::InvalidSafetensors`];
/// [`PersistError::UnknownTensor`] for a pattern of `only` that names no
/// network tensor.
pub fn from_mapped<N: Network, P: AsRef<str>>(
    net: &mut N,
    bytes: &[u8],
    map: &NameMap,
    only: Option<&[P]>,
) -> Result<(), PersistError> {
    let (_, metadata) = SafeTensors::read_metadata(bytes).map_err(invalid)?;
    let wanted = wanted::<N, P>(only)?;
    let pairs = resolve::<N>(&metadata, map, &wanted)?;
    let file = SafeTensors::deserialize(bytes).map_err(invalid)?;
    let mut values = net.params().to_vec();
    for (t, name) in &pairs {
        let view = file.tensor(name).map_err(invalid)?;
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

/// One flag per network tensor: whether `only` names it (all when `None`).
fn wanted<N: Network, P: AsRef<str>>(only: Option<&[P]>) -> Result<Vec<bool>, PersistError> {
    match only {
        None => Ok(std::vec![true; N::TENSORS.len()]),
        Some(patterns) => Ok(select(N::TENSORS, patterns)?),
    }
}

/// [`from_mapped`] from a file, reading through the same bounds as
/// [`load_safetensors`](super::load_safetensors): the header first (at
/// most [`SAFETENSORS_MAX_HEADER_LEN`](super::SAFETENSORS_MAX_HEADER_LEN)),
/// the map resolved against it, then exactly the data it declares.
///
/// Needs the `safetensors` feature.
///
/// # Examples
/// ```no_run
/// use constnet::persist::{NameMap, load_mapped};
/// # fn demo<N: constnet::Network>(net: &mut N) -> Result<(), Box<dyn std::error::Error>> {
/// // A PyTorch `nn.Sequential` state dict, tensors taken in order.
/// load_mapped(net, "model.safetensors", &NameMap::Positional, None::<&[&str]>)?;
/// // The convolution layers of another network, the rest untouched.
/// load_mapped(net, "digits04.safetensors", &NameMap::Same, Some(&["conv*"]))?;
/// # Ok(()) }
/// ```
///
/// # Errors
/// As [`from_mapped`], wrapped in [`PersistError::InFile`], or
/// [`PersistError::Io`], [`PersistError::NotAFile`],
/// [`PersistError::TooLarge`], [`PersistError::Truncated`],
/// [`PersistError::TrailingData`].
pub fn load_mapped<N: Network, P: AsRef<str>>(
    net: &mut N,
    path: impl AsRef<Path>,
    map: &NameMap,
    only: Option<&[P]>,
) -> Result<(), PersistError> {
    let path = path.as_ref();
    let wanted = wanted::<N, P>(only)?;
    let (mut file, len) = super::open(path)?;
    let bytes = read_bounded(&mut file, len, path, |metadata| {
        resolve::<N>(metadata, map, &wanted)?;
        Ok(metadata.data_len())
    })
    .map_err(|e| e.in_file(path))?;
    from_mapped(net, &bytes, map, only).map_err(|e| e.in_file(path))
}

/// Saves `net` as safetensors under the names `map` gives its tensors
/// (for [`NameMap::Pairs`]; [`NameMap::Same`] and
/// [`NameMap::Positional`] keep constnet's names), so PyTorch's
/// `load_state_dict` takes the file. The file carries no constnet metadata
/// but `format = pt`.
///
/// Needs the `safetensors` feature.
///
/// # Errors
/// [`PersistError::Unmatched`] when the pairs leave a network tensor
/// unnamed; [`PersistError::NonFinite`]; [`PersistError::Io`].
pub fn save_mapped<N: Network>(
    net: &N,
    path: impl AsRef<Path>,
    map: &NameMap,
) -> Result<(), PersistError> {
    let mut names = Vec::new();
    let mut missing = Vec::new();
    for t in N::TENSORS {
        let name = match map {
            NameMap::Pairs(list) => list
                .iter()
                .find(|(_, n)| n == t.name)
                .map(|(f, _)| f.clone()),
            NameMap::Same | NameMap::Positional => Some(t.name.to_string()),
        };
        match name {
            Some(n) => names.push(n),
            None => missing.push(t.name),
        }
    }
    if !missing.is_empty() {
        return Err(PersistError::Unmatched {
            network: N::NAME,
            file: Vec::new(),
            net: missing,
        });
    }
    let format = [(FORMAT_KEY, "pt".to_string())];
    let bytes = encode(net, &names, &format)?;
    super::write_atomic(path.as_ref(), &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persist::test_net::{TempDir, Tiny};
    use crate::persist::{load_safetensors, save_safetensors};

    #[test]
    fn pytorch_order_compares_numbers_by_value() {
        let mut names = [
            "10.weight",
            "2.bias",
            "2.running_var",
            "2.weight",
            "2.running_mean",
            "0.weight",
            "fc1.bias",
        ];
        names.sort_by(|a, b| pytorch_order(a, b));
        assert_eq!(
            names,
            [
                "0.weight",
                "2.weight",
                "2.bias",
                "2.running_mean",
                "2.running_var",
                "10.weight",
                "fc1.bias"
            ]
        );
    }

    #[test]
    fn pairs_save_and_load_under_other_names() {
        let dir = TempDir::new("mapped");
        let path = dir.join("torch.safetensors");
        let net = Tiny::<f32>::sample();
        let names: Vec<(&str, &str)> = Tiny::<f32>::TENSORS
            .iter()
            .enumerate()
            .map(|(i, t)| (["w", "b", "r"][i % 3], t.name))
            .collect();
        let map = NameMap::pairs(names.iter().copied());
        save_mapped(&net, &path, &map).unwrap();
        assert!(load_safetensors(&mut Tiny::<f32>::zeroed(), &path).is_err());
        let mut back = Tiny::<f32>::zeroed();
        load_mapped(&mut back, &path, &map, None::<&[&str]>).unwrap();
        assert_eq!(back, net);
        let mut positional = Tiny::<f32>::zeroed();
        let same = dir.join("same.safetensors");
        save_safetensors(&net, &same).unwrap();
        load_mapped(
            &mut positional,
            &same,
            &NameMap::Positional,
            None::<&[&str]>,
        )
        .unwrap();
        assert_eq!(positional, net);
    }
}
