//! Reading with bounds, shared by the loaders of `data` and `persist`.
//!
//! The rule: no loader allocates or reads more than a size it knows before
//! reading. The byte format knows its exact length from the network type,
//! safetensors from its header, IDX from its dimensions; CSV has only a
//! caller-set maximum. So loaders open regular files only ([`open_regular`]:
//! a FIFO would block and `/dev/zero` never ends), read exactly what a header
//! announces ([`read_full`], [`read_exact_len`]), and wrap open-ended
//! streams in a [`Limit`].

#[cfg(feature = "csv")]
use std::fmt;
use std::fs::{File, FileType};
use std::io::{self, Read};
use std::path::Path;
#[cfg(feature = "datasets")]
use std::vec::Vec;

/// Why [`open_regular`] refused a path.
#[derive(Debug)]
pub(crate) enum OpenError {
    /// The operating system's error (missing file, no permission, …).
    Io(io::Error),
    /// The path names something other than a regular file: the kind, as
    /// "a directory", "a FIFO", ….
    NotAFile(&'static str),
}

/// Opens `path` for reading if it is a regular file (after following
/// symbolic links), and returns it with its length.
///
/// The type is checked before opening, because opening a FIFO blocks until
/// a writer appears, and again on the opened file.
pub(crate) fn open_regular(path: &Path) -> Result<(File, u64), OpenError> {
    let meta = std::fs::metadata(path).map_err(OpenError::Io)?;
    if !meta.is_file() {
        return Err(OpenError::NotAFile(kind(meta.file_type())));
    }
    let file = File::open(path).map_err(OpenError::Io)?;
    let meta = file.metadata().map_err(OpenError::Io)?;
    if !meta.is_file() {
        return Err(OpenError::NotAFile(kind(meta.file_type())));
    }
    Ok((file, meta.len()))
}

/// The kind of a file that is not a regular file, for messages.
fn kind(file_type: FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    if file_type.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// Fills `buf` as far as the stream allows; returns the number of bytes read
/// (less than `buf.len()` only at the end of the stream).
pub(crate) fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while let Some(rest) = buf.get_mut(filled..) {
        if rest.is_empty() {
            break;
        }
        match reader.read(rest) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Reads up to `len` bytes, allocating as the bytes arrive: at most
/// `first` up front, then doubling, but never beyond `len`. A header that
/// lies about the size costs at most `first` bytes of memory; an honest one
/// ends with a buffer of exactly `len` bytes (no doubling slack).
///
/// Returns fewer than `len` bytes only at the end of the stream.
#[cfg(feature = "datasets")]
pub(crate) fn read_exact_len(reader: &mut impl Read, len: u64, first: u64) -> io::Result<Vec<u8>> {
    let len = usize::try_from(len).map_err(|_| io::Error::from(io::ErrorKind::OutOfMemory))?;
    let first = usize::try_from(first).unwrap_or(usize::MAX).max(1);
    let mut data = Vec::new();
    let mut filled = 0;
    while filled < len {
        let target = len.min(filled.saturating_mul(2).max(first));
        data.reserve_exact(target - filled);
        data.resize(target, 0);
        let got = read_full(reader, &mut data[filled..])?;
        filled += got;
        if filled < target {
            data.truncate(filled);
            break;
        }
    }
    Ok(data)
}

/// A reader that fails once more than `max` bytes come through it, with an
/// error that [`exceeded`] recognizes.
#[cfg(feature = "csv")]
#[derive(Debug)]
pub(crate) struct Limit<R> {
    inner: R,
    max: u64,
    left: u64,
}

#[cfg(feature = "csv")]
impl<R: Read> Limit<R> {
    pub(crate) fn new(inner: R, max: u64) -> Self {
        Limit {
            inner,
            max,
            left: max,
        }
    }
}

#[cfg(feature = "csv")]
impl<R: Read> Read for Limit<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            // At the limit: only the end of the stream is acceptable.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::new(
                    io::ErrorKind::FileTooLarge,
                    Exceeded { limit: self.max },
                )),
            };
        }
        let room = usize::try_from(self.left).unwrap_or(usize::MAX);
        let take = buf.len().min(room);
        let n = self.inner.read(&mut buf[..take])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// The payload of the error a [`Limit`] returns.
#[cfg(feature = "csv")]
#[derive(Debug)]
struct Exceeded {
    limit: u64,
}

#[cfg(feature = "csv")]
impl fmt::Display for Exceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "input exceeds the limit of {} bytes", self.limit)
    }
}

#[cfg(feature = "csv")]
impl std::error::Error for Exceeded {}

/// The limit, if `error` is a [`Limit`]'s "too much input".
#[cfg(feature = "csv")]
pub(crate) fn exceeded(error: &io::Error) -> Option<u64> {
    error
        .get_ref()
        .and_then(|e| e.downcast_ref::<Exceeded>())
        .map(|e| e.limit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;
    use std::vec::Vec;

    #[test]
    #[cfg(feature = "csv")]
    fn limit_passes_up_to_max_and_fails_beyond() {
        let mut out = Vec::new();
        Limit::new(&[1u8, 2, 3][..], 3)
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, [1, 2, 3]);
        let err = Limit::new(&[1u8, 2, 3, 4][..], 3)
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert_eq!(exceeded(&err), Some(3));
        assert_eq!(err.to_string(), "input exceeds the limit of 3 bytes");
        assert_eq!(exceeded(&io::Error::other("x")), None);
    }

    #[test]
    #[cfg(feature = "datasets")]
    fn read_exact_len_stops_at_the_end_of_the_stream() {
        let data: Vec<u8> = (0..=255).collect();
        assert_eq!(read_exact_len(&mut &data[..], 256, 7).unwrap(), data);
        let short = read_exact_len(&mut &data[..100], 256, 7).unwrap();
        assert_eq!(short, &data[..100]);
        let cut = read_exact_len(&mut &data[..], 10, 1 << 20).unwrap();
        assert_eq!(cut, &data[..10]);
        assert_eq!(cut.capacity(), 10);
    }

    #[test]
    fn special_files_are_refused_before_opening() {
        let dir = std::env::temp_dir();
        assert!(matches!(
            open_regular(&dir),
            Err(OpenError::NotAFile("a directory"))
        ));
        #[cfg(unix)]
        assert!(matches!(
            open_regular(Path::new("/dev/zero")),
            Err(OpenError::NotAFile("a character device"))
        ));
        assert!(matches!(
            open_regular(&dir.join("constnet-surely-absent")),
            Err(OpenError::Io(_))
        ));
    }
}
