//! Checkpoints: everything a run needs to continue exactly where it
//! stopped, in one file written atomically (feature `serde`: the header is
//! JSON).
//!
//! A checkpoint holds the parameters, the optimizer's state buffers
//! (moments, velocities) with its step count and base learning rate (so a
//! schedule continues where it was), the epoch and the batches done in it,
//! the steps taken (dropout masks derive from them), the seed (shuffling
//! derives from seed and epoch, augmentation from seed and step), the
//! metrics of the epoch in progress, the history so far, early stopping's
//! best parameters and every callback's state. A run resumed from it on the
//! same thread count ends with the weights of the uninterrupted run, bit for
//! bit.
//!
//! # Format (version 1)
//! All integers little-endian:
//!
//! | bytes | field |
//! |---|---|
//! | 8 | magic `CNETCKPT` |
//! | 4 | version (`u32`, 1) |
//! | 8 | header length `h` (`u64`, at most [`MAX_HEADER_LEN`]) |
//! | `h` | JSON header: network name, signature (`0x` + 16 hex digits), element size, `STORE_LEN`, the sections' names and lengths, and the [`TrainState`] |
//! | … | the sections' elements in order: `params`, optionally `best`, then `optim.<name>` per optimizer buffer, each `STORE_LEN` elements |
//! | 4 | CRC-32 (ISO-HDLC, as `zlib.crc32`) of every byte before it |
//!
//! Loading reads the header, checks magic, version, signature, element
//! size and that every section is `STORE_LEN` long, compares the file's
//! length with the one the header implies, and only then reads the rest;
//! the checksum is verified before anything is used. Values that are not
//! finite are refused on save and on load, like the weight formats.

use std::format;
use std::path::Path;
use std::string::{String, ToString};
use std::vec::Vec;

use serde::{Deserialize, Serialize};

pub use super::state::{EpochProgress, TrainState};
use crate::bounded::read_full;
use crate::optim::Optimizer;
use crate::persist::{PersistError, write_atomic};
use crate::{Network, Scalar};

/// The first bytes of every checkpoint.
pub const MAGIC: [u8; 8] = *b"CNETCKPT";
/// The format version this build writes and reads.
pub const VERSION: u32 = 1;
/// The largest JSON header a checkpoint may declare (16 MiB: a history of
/// some fifty thousand epochs).
pub const MAX_HEADER_LEN: u64 = 16 << 20;

/// Bytes before the header: magic, version, header length.
const PREFIX_LEN: usize = 8 + 4 + 8;
const CRC_LEN: usize = 4;
const CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// A checkpoint in memory: the tensors as flat arrays and the state.
///
/// Needs the `serde` feature.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint<E> {
    /// The parameters (`STORE_LEN` elements).
    pub params: Vec<E>,
    /// Early stopping's best parameters, when it tracks any.
    pub best: Option<Vec<E>>,
    /// The optimizer's state buffers by name, `STORE_LEN` elements each.
    pub optimizer: Vec<(String, Vec<E>)>,
    /// Counters, seed, history, callbacks.
    pub state: TrainState,
}

#[derive(Serialize, Deserialize)]
struct Header {
    network: String,
    signature: String,
    element_bytes: usize,
    store_len: usize,
    sections: Vec<String>,
    state: TrainState,
}

fn invalid(reason: impl Into<String>) -> PersistError {
    PersistError::InvalidCheckpoint {
        reason: reason.into(),
    }
}

impl<E: Scalar> Checkpoint<E> {
    /// Captures `net`'s parameters and `opt`'s state with `state`; the
    /// optimizer's step count and base rate overwrite those in `state`.
    pub fn capture<N, O>(net: &N, opt: &O, mut state: TrainState) -> Self
    where
        N: Network<Elem = E>,
        O: Optimizer<E> + ?Sized,
    {
        let mut optimizer = Vec::new();
        opt.state(&mut |name, values| {
            let mut v = std::vec![E::ZERO; N::STORE_LEN];
            let n = values.len().min(N::STORE_LEN);
            v[..n].copy_from_slice(&values[..n]);
            optimizer.push((name.to_string(), v));
        });
        state.optimizer_steps = opt.step_count();
        state.learning_rate_bits = opt.base_learning_rate().to_bits();
        Checkpoint {
            params: net.params().to_vec(),
            best: None,
            optimizer,
            state,
        }
    }

    /// Writes the parameters and the optimizer's state back, with the
    /// optimizer's step count and base rate.
    ///
    /// # Errors
    /// [`PersistError::InvalidCheckpoint`] when the optimizer keeps other
    /// state buffers than the checkpoint holds (another kind of optimizer);
    /// nothing is changed then.
    pub fn restore<N, O>(&self, net: &mut N, opt: &mut O) -> Result<(), PersistError>
    where
        N: Network<Elem = E>,
        O: Optimizer<E> + ?Sized,
    {
        let mut names = Vec::new();
        opt.state(&mut |name, _| names.push(name));
        let saved: Vec<&str> = self.optimizer.iter().map(|(n, _)| n.as_str()).collect();
        if names != saved {
            return Err(invalid(format!(
                "the checkpoint holds optimizer state {saved:?}, the optimizer keeps {names:?} \
                 (resume with the optimizer the run started with)"
            )));
        }
        net.params_mut().copy_from_slice(&self.params);
        let mut i = 0;
        opt.state_mut(N::STORE_LEN, &mut |_, values| {
            let saved = &self.optimizer[i].1;
            let n = values.len().min(saved.len());
            values[..n].copy_from_slice(&saved[..n]);
            values[n..].fill(E::ZERO);
            i += 1;
        });
        opt.set_learning_rate(f64::from_bits(self.state.learning_rate_bits));
        opt.set_step_count(self.state.optimizer_steps);
        Ok(())
    }

    /// The checkpoint as the bytes of a file for network `N`.
    ///
    /// # Errors
    /// [`PersistError::NonFinite`] for a NaN or infinite value,
    /// [`PersistError::InvalidCheckpoint`] for a section that is not
    /// `STORE_LEN` long.
    pub fn to_bytes<N: Network<Elem = E>>(&self) -> Result<Vec<u8>, PersistError> {
        let mut sections = std::vec![("params".to_string(), &self.params)];
        if let Some(best) = &self.best {
            sections.push(("best".into(), best));
        }
        for (name, values) in &self.optimizer {
            sections.push((format!("optim.{name}"), values));
        }
        for (name, values) in &sections {
            if values.len() != N::STORE_LEN {
                return Err(invalid(format!(
                    "section `{name}` has {} elements, the network {}",
                    values.len(),
                    N::STORE_LEN
                )));
            }
            crate::persist::check_finite(values, N::TENSORS)?;
        }
        let header = Header {
            network: N::NAME.into(),
            signature: format!("{:#018x}", N::SIGNATURE),
            element_bytes: E::BYTES,
            store_len: N::STORE_LEN,
            sections: sections.iter().map(|(n, _)| n.clone()).collect(),
            state: self.state.clone(),
        };
        let json = serde_json::to_vec(&header).map_err(|e| invalid(e.to_string()))?;
        let data = sections.len() * N::STORE_LEN * E::BYTES;
        let mut bytes = Vec::with_capacity(PREFIX_LEN + json.len() + data + CRC_LEN);
        bytes.extend_from_slice(&MAGIC);
        bytes.extend_from_slice(&VERSION.to_le_bytes());
        bytes.extend_from_slice(&(json.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&json);
        let mut chunk = [0u8; 8];
        for (_, values) in &sections {
            for v in values.iter() {
                v.write_le(&mut chunk[..E::BYTES]);
                bytes.extend_from_slice(&chunk[..E::BYTES]);
            }
        }
        let crc = CRC.checksum(&bytes);
        bytes.extend_from_slice(&crc.to_le_bytes());
        Ok(bytes)
    }

    /// Decodes a checkpoint file of network `N`.
    ///
    /// # Errors
    /// [`PersistError::BadMagic`]-like refusals as
    /// [`PersistError::InvalidCheckpoint`],
    /// [`PersistError::UnsupportedCheckpointVersion`],
    /// [`PersistError::SignatureMismatch`], [`PersistError::ElementSize`],
    /// [`PersistError::Truncated`], [`PersistError::TrailingData`],
    /// [`PersistError::Checksum`], [`PersistError::NonFinite`].
    pub fn from_bytes<N: Network<Elem = E>>(bytes: &[u8]) -> Result<Self, PersistError> {
        let header = read_header::<N>(bytes)?;
        let total = expected_len::<N>(bytes, &header)?;
        if bytes.len() != total {
            return Err(if bytes.len() < total {
                PersistError::Truncated {
                    expected: total,
                    found: bytes.len(),
                }
            } else {
                PersistError::TrailingData {
                    expected: total,
                    found: bytes.len(),
                }
            });
        }
        let (body, crc) = bytes.split_at(total - CRC_LEN);
        let stored = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
        let computed = CRC.checksum(body);
        if stored != computed {
            return Err(PersistError::Checksum { stored, computed });
        }
        let start = body.len() - header.sections.len() * N::STORE_LEN * E::BYTES;
        let mut data = body[start..].chunks_exact(E::BYTES).map(E::read_le);
        let mut checkpoint = Checkpoint {
            params: Vec::new(),
            best: None,
            optimizer: Vec::new(),
            state: header.state,
        };
        for name in header.sections {
            let values: Vec<E> = data.by_ref().take(N::STORE_LEN).collect();
            crate::persist::check_finite(&values, N::TENSORS)?;
            match name.as_str() {
                "params" => checkpoint.params = values,
                "best" => checkpoint.best = Some(values),
                other => match other.strip_prefix("optim.") {
                    Some(buffer) => checkpoint.optimizer.push((buffer.into(), values)),
                    None => return Err(invalid(format!("unknown section `{other}`"))),
                },
            }
        }
        if checkpoint.params.len() != N::STORE_LEN {
            return Err(invalid("no `params` section"));
        }
        Ok(checkpoint)
    }

    /// Writes the checkpoint to `path` atomically: a crash or a kill
    /// leaves the previous checkpoint whole.
    ///
    /// # Errors
    /// As [`Checkpoint::to_bytes`], or [`PersistError::Io`].
    pub fn save<N: Network<Elem = E>>(&self, path: impl AsRef<Path>) -> Result<(), PersistError> {
        write_atomic(path.as_ref(), &self.to_bytes::<N>()?)
    }

    /// Reads a checkpoint of network `N` from `path`, reading no more than
    /// its header declares.
    ///
    /// # Errors
    /// As [`Checkpoint::from_bytes`], wrapped in [`PersistError::InFile`],
    /// or [`PersistError::Io`] / [`PersistError::NotAFile`].
    pub fn load<N: Network<Elem = E>>(path: impl AsRef<Path>) -> Result<Self, PersistError> {
        let path = path.as_ref();
        let (mut file, len) = crate::persist::open(path)?;
        let read_err = |source| PersistError::Io {
            action: "read",
            path: path.to_path_buf(),
            source,
        };
        let mut prefix = [0u8; PREFIX_LEN];
        let got = read_full(&mut file, &mut prefix).map_err(read_err)?;
        let header_len = check_prefix(&prefix[..got]).map_err(|e| e.in_file(path))?;
        // Bounded: by MAX_HEADER_LEN, then by the length the header implies.
        let mut bytes = std::vec![0u8; PREFIX_LEN + header_len];
        bytes[..PREFIX_LEN].copy_from_slice(&prefix);
        if read_full(&mut file, &mut bytes[PREFIX_LEN..]).map_err(read_err)? < header_len {
            return Err(truncated(PREFIX_LEN + header_len, len).in_file(path));
        }
        let header = read_header::<N>(&bytes).map_err(|e| e.in_file(path))?;
        let total = expected_len::<N>(&bytes, &header).map_err(|e| e.in_file(path))?;
        if len != total as u64 {
            let found = usize::try_from(len).unwrap_or(usize::MAX);
            let err = if found < total {
                PersistError::Truncated {
                    expected: total,
                    found,
                }
            } else {
                PersistError::TrailingData {
                    expected: total,
                    found,
                }
            };
            return Err(err.in_file(path));
        }
        let start = bytes.len();
        bytes.resize(total, 0);
        if read_full(&mut file, &mut bytes[start..]).map_err(read_err)? < total - start {
            return Err(truncated(total, len).in_file(path));
        }
        Self::from_bytes::<N>(&bytes).map_err(|e| e.in_file(path))
    }
}

fn truncated(expected: usize, len: u64) -> PersistError {
    PersistError::Truncated {
        expected,
        found: usize::try_from(len).unwrap_or(usize::MAX),
    }
}

/// Checks magic and version; returns the header length.
fn check_prefix(prefix: &[u8]) -> Result<usize, PersistError> {
    if prefix.len() < MAGIC.len() || prefix[..MAGIC.len()] != MAGIC {
        return Err(invalid(
            "not a constnet checkpoint (expected magic `CNETCKPT`)",
        ));
    }
    if prefix.len() < PREFIX_LEN {
        return Err(truncated(PREFIX_LEN, prefix.len() as u64));
    }
    let version = u32::from_le_bytes([prefix[8], prefix[9], prefix[10], prefix[11]]);
    if version != VERSION {
        return Err(PersistError::UnsupportedCheckpointVersion { found: version });
    }
    let mut len = [0u8; 8];
    len.copy_from_slice(&prefix[12..20]);
    let header_len = u64::from_le_bytes(len);
    if header_len > MAX_HEADER_LEN {
        return Err(PersistError::TooLarge {
            what: "checkpoint header",
            declared: header_len,
            limit: MAX_HEADER_LEN,
        });
    }
    Ok(header_len as usize)
}

/// Parses and checks the header at the start of `bytes` against `N`.
fn read_header<N: Network>(bytes: &[u8]) -> Result<Header, PersistError> {
    let header_len = check_prefix(&bytes[..bytes.len().min(PREFIX_LEN)])?;
    let json = bytes
        .get(PREFIX_LEN..PREFIX_LEN + header_len)
        .ok_or_else(|| truncated(PREFIX_LEN + header_len, bytes.len() as u64))?;
    let header: Header =
        serde_json::from_slice(json).map_err(|e| invalid(format!("invalid header: {e}")))?;
    let found = header
        .signature
        .strip_prefix("0x")
        .and_then(|hex| u64::from_str_radix(hex, 16).ok())
        .ok_or_else(|| invalid(format!("signature `{}` is not a hex u64", header.signature)))?;
    if found != N::SIGNATURE {
        return Err(PersistError::SignatureMismatch {
            network: N::NAME,
            expected: N::SIGNATURE,
            found,
        });
    }
    if header.element_bytes != N::Elem::BYTES {
        return Err(PersistError::ElementSize {
            expected: if N::Elem::BYTES == 4 { "f32" } else { "f64" },
            expected_size: N::Elem::BYTES,
            found: header.element_bytes as u64,
        });
    }
    if header.store_len != N::STORE_LEN {
        return Err(PersistError::CountMismatch {
            network: N::NAME,
            expected: N::STORE_LEN,
            found: header.store_len as u64,
        });
    }
    Ok(header)
}

/// The file length the header implies; at most a few sections of the
/// network's size, since every section name is one of a handful.
fn expected_len<N: Network>(bytes: &[u8], header: &Header) -> Result<usize, PersistError> {
    let header_len = check_prefix(&bytes[..bytes.len().min(PREFIX_LEN)])?;
    if header.sections.len() > 8 {
        return Err(invalid(format!(
            "{} sections; a checkpoint has at most 8",
            header.sections.len()
        )));
    }
    Ok(PREFIX_LEN + header_len + header.sections.len() * N::STORE_LEN * N::Elem::BYTES + CRC_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::{Adam, Sgd, step};
    use crate::persist::test_net::{TempDir, Tiny};
    use crate::train::History;

    fn state() -> TrainState {
        TrainState {
            seed: 7,
            batch: 4,
            drop_last: false,
            epoch: 1,
            batches_done: 2,
            steps: 5,
            optimizer_steps: 0,
            learning_rate_bits: 0,
            progress: EpochProgress::default(),
            history: History::default(),
            best: None,
            callbacks: std::vec![std::vec![f64::INFINITY.to_bits()]],
        }
    }

    fn trained() -> (Tiny<f32>, Adam<Vec<f32>>) {
        let mut net = Tiny::<f32>::sample();
        let mut opt = Adam::new(0.01);
        for _ in 0..3 {
            let mut grads = [0.25f32; 8];
            step(&mut opt, &mut net.params, &mut grads, Tiny::<f32>::TENSORS).unwrap();
        }
        (net, opt)
    }

    #[test]
    fn round_trip_restores_parameters_moments_and_counters() {
        let (net, opt) = trained();
        let checkpoint = Checkpoint::capture(&net, &opt, state());
        let dir = TempDir::new("ckpt");
        let path = dir.join("run.ckpt");
        checkpoint.save::<Tiny<f32>>(&path).unwrap();
        let loaded = Checkpoint::<f32>::load::<Tiny<f32>>(&path).unwrap();
        assert_eq!(loaded, checkpoint);
        let (mut net2, mut opt2) = (Tiny::<f32>::zeroed(), Adam::<Vec<f32>>::new(0.5));
        loaded.restore(&mut net2, &mut opt2).unwrap();
        assert_eq!(net2, net);
        assert_eq!(Optimizer::<f32>::step_count(&opt2), 3);
        assert_eq!(Optimizer::<f32>::learning_rate(&opt2), 0.01);
        let (mut a, mut b) = (net.clone(), net2.clone());
        let (mut o1, mut o2) = (opt, opt2);
        step(&mut o1, &mut a.params, &mut [0.5; 8], Tiny::<f32>::TENSORS).unwrap();
        step(&mut o2, &mut b.params, &mut [0.5; 8], Tiny::<f32>::TENSORS).unwrap();
        assert_eq!(
            a, b,
            "the next step after a restore is the uninterrupted one"
        );
        assert_eq!(dir.entries(), ["run.ckpt"]);
    }

    #[test]
    fn damaged_or_foreign_files_are_refused() {
        let (net, opt) = trained();
        let bytes = Checkpoint::capture(&net, &opt, state())
            .to_bytes::<Tiny<f32>>()
            .unwrap();
        let mut flipped = bytes.clone();
        let at = flipped.len() - 10;
        flipped[at] ^= 1;
        assert!(matches!(
            Checkpoint::<f32>::from_bytes::<Tiny<f32>>(&flipped),
            Err(PersistError::Checksum { .. })
        ));
        let mut version = bytes.clone();
        version[8] = 2;
        assert_eq!(
            Checkpoint::<f32>::from_bytes::<Tiny<f32>>(&version)
                .unwrap_err()
                .to_string(),
            "unsupported checkpoint version 2; this build reads version 1"
        );
        assert!(matches!(
            Checkpoint::<f64>::from_bytes::<Tiny<f64>>(&bytes),
            Err(PersistError::ElementSize { .. })
        ));
        assert!(matches!(
            Checkpoint::<f32>::from_bytes::<Tiny<f32>>(&bytes[..bytes.len() - 1]),
            Err(PersistError::Truncated { .. })
        ));
        let err = Checkpoint::<f32>::from_bytes::<Tiny<f32>>(b"CNET\x02\0\0\0").unwrap_err();
        assert!(
            err.to_string().contains("not a constnet checkpoint"),
            "{err}"
        );
        // Another optimizer cannot take Adam's moments.
        let checkpoint = Checkpoint::capture(&net, &opt, state());
        let mut other = Tiny::<f32>::zeroed();
        let err = checkpoint
            .restore(&mut other, &mut Sgd::new(0.1))
            .unwrap_err();
        assert!(err.to_string().contains("exp_avg"), "{err}");
        assert_eq!(other, Tiny::zeroed());
    }
}
