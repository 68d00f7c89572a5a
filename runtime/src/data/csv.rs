//! Tabular data from CSV: feature columns plus one label or target column
//! (feature `csv`).
//!
//! After a read, every row had exactly `F + 1` fields, every feature was a
//! finite number and every label a non-negative integer; errors name the
//! 1-based line (and column) at fault. At most [`CsvReader::max_bytes`]
//! bytes of input were read (default [`DEFAULT_MAX_BYTES`] = 256 MiB): a
//! stream that goes on, such as `/dev/zero` passed as a reader, fails there.

use std::format;
use std::prelude::rust_2024::*;

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use super::dataset::InMemory;
use super::error::DataError;
use crate::Scalar;
use crate::bounded::{Limit, exceeded, open_regular};

/// The default limit on the input of one read, in bytes (256 MiB).
pub const DEFAULT_MAX_BYTES: u64 = 256 << 20;

/// Which column holds the label or target; the others are features, in file order.
///
/// Needs the `csv` feature.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Column {
    /// The last column (the default).
    #[default]
    Last,
    /// The first column.
    First,
    /// The column at this 0-based index.
    Index(usize),
    /// The column with this header name (needs a header row).
    Name(String),
}

/// Reads CSV into an [`InMemory`] dataset of `[E; F]` feature rows.
///
/// Needs the `csv` feature.
///
/// Defaults: no header, comma-separated, target in the last column, at
/// most [`DEFAULT_MAX_BYTES`] of input. Fields may be padded with spaces;
/// blank lines are skipped.
///
/// # Examples
/// ```
/// use constnet::data::{Column, CsvReader, Dataset};
/// let text = "label,x,y\n1,0.5,2\n0,-1,3e2\n";
/// let data = CsvReader::new()
///     .has_header(true)
///     .target(Column::Name("label".into()))
///     .read_classes::<f32, 2>(text.as_bytes())?;
/// assert_eq!(data.len(), 2);
/// assert_eq!(data.get(1), (&[-1.0, 300.0], &0));
/// # Ok::<(), constnet::data::DataError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvReader {
    header: bool,
    delimiter: u8,
    target: Column,
    max_bytes: u64,
}

impl Default for CsvReader {
    fn default() -> Self {
        Self::new()
    }
}

/// What a field should hold, for [`DataError::CsvNumber`].
const FINITE: &str = "a finite number";
const CLASS: &str = "a class index (a non-negative integer)";

impl CsvReader {
    /// A reader with the defaults: no header, `,`, target last, at most
    /// [`DEFAULT_MAX_BYTES`] of input.
    pub fn new() -> Self {
        Self {
            header: false,
            delimiter: b',',
            target: Column::Last,
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }

    /// The largest input accepted, in bytes; a read fails with
    /// [`DataError::TooLarge`] once more arrives.
    pub fn max_bytes(self, max_bytes: u64) -> Self {
        Self { max_bytes, ..self }
    }

    /// Whether the first row is a header of column names.
    pub fn has_header(self, header: bool) -> Self {
        Self { header, ..self }
    }

    /// The field delimiter, such as `b';'` or `b'\t'`.
    pub fn delimiter(self, delimiter: u8) -> Self {
        Self { delimiter, ..self }
    }

    /// Which column holds the label or target.
    pub fn target(self, target: Column) -> Self {
        Self { target, ..self }
    }

    /// Reads `F` features and a class label per row (classification).
    ///
    /// Labels are non-negative integers (`3` or `3.0`).
    ///
    /// # Errors
    /// - [`DataError::CsvFieldCount`]: a row (or the header) without `F + 1` fields.
    /// - [`DataError::CsvNumber`]: a feature that is not a finite number, or a
    ///   label that is not a class index.
    /// - [`DataError::CsvColumn`]: the target column does not exist.
    /// - [`DataError::TooLarge`]: the input goes on past [`max_bytes`](Self::max_bytes).
    /// - [`DataError::Read`]: the reader fails.
    pub fn read_classes<E: Scalar, const F: usize>(
        &self,
        reader: impl Read,
    ) -> Result<InMemory<[E; F], usize>, DataError> {
        self.read_rows(reader, |field, line, column| {
            parse_class(field).ok_or_else(|| bad_field(field, line, column, CLASS))
        })
    }

    /// Reads `F` features and a numeric target per row (regression).
    ///
    /// # Errors
    /// As [`read_classes`](Self::read_classes), with a finite number as target.
    pub fn read_targets<E: Scalar, const F: usize>(
        &self,
        reader: impl Read,
    ) -> Result<InMemory<[E; F], [E; 1]>, DataError> {
        self.read_rows(reader, |field, line, column| {
            parse_number::<E>(field)
                .map(|v| [v])
                .ok_or_else(|| bad_field(field, line, column, FINITE))
        })
    }

    /// Reads a file with [`read_classes`](Self::read_classes).
    ///
    /// # Errors
    /// As [`read_classes`](Self::read_classes), wrapped in
    /// [`DataError::InFile`]; [`DataError::Io`] when it cannot be opened,
    /// [`DataError::NotAFile`] for a FIFO, a device or a directory (refused
    /// before any read).
    pub fn read_classes_file<E: Scalar, const F: usize>(
        &self,
        path: impl AsRef<Path>,
    ) -> Result<InMemory<[E; F], usize>, DataError> {
        let path = path.as_ref();
        self.read_classes(open(path)?).map_err(|e| e.in_file(path))
    }

    /// Reads a file with [`read_targets`](Self::read_targets).
    ///
    /// # Errors
    /// As [`read_classes_file`](Self::read_classes_file).
    pub fn read_targets_file<E: Scalar, const F: usize>(
        &self,
        path: impl AsRef<Path>,
    ) -> Result<InMemory<[E; F], [E; 1]>, DataError> {
        let path = path.as_ref();
        self.read_targets(open(path)?).map_err(|e| e.in_file(path))
    }

    /// Reads every row: `F` features plus a target parsed by `target`
    /// (called with the field, its 1-based line and column).
    fn read_rows<E: Scalar, const F: usize, T>(
        &self,
        reader: impl Read,
        target: impl Fn(&[u8], u64, usize) -> Result<T, DataError>,
    ) -> Result<InMemory<[E; F], T>, DataError> {
        let fields = F + 1;
        let mut csv = ::csv::ReaderBuilder::new()
            .has_headers(self.header)
            .delimiter(self.delimiter)
            .flexible(true)
            .from_reader(Limit::new(reader, self.max_bytes));
        let names = if self.header {
            let header = csv.byte_headers().map_err(csv_error)?.clone();
            if header.len() != fields && !header.is_empty() {
                return Err(DataError::CsvFieldCount {
                    line: 1,
                    expected: fields,
                    found: header.len(),
                });
            }
            Some(header)
        } else {
            None
        };
        let target_col = self.target_index(fields, names.as_ref())?;

        let mut data = InMemory::default();
        for record in csv.byte_records() {
            let record = record.map_err(csv_error)?;
            let line = record.position().map_or(0, |p| p.line());
            if record.len() != fields {
                return Err(DataError::CsvFieldCount {
                    line,
                    expected: fields,
                    found: record.len(),
                });
            }
            let mut x = [E::ZERO; F];
            let mut slots = x.iter_mut();
            let mut t = None;
            for (col, field) in record.iter().enumerate() {
                if col == target_col {
                    t = Some(target(field, line, col + 1)?);
                } else if let Some(slot) = slots.next() {
                    *slot = parse_number::<E>(field)
                        .ok_or_else(|| bad_field(field, line, col + 1, FINITE))?;
                }
            }
            // `target_col < fields == record.len()`, so the target was seen.
            if let Some(t) = t {
                data.push(x, t);
            }
        }
        Ok(data)
    }

    /// The 0-based index of the target column among `fields` columns.
    fn target_index(
        &self,
        fields: usize,
        names: Option<&::csv::ByteRecord>,
    ) -> Result<usize, DataError> {
        let missing = |column: String| DataError::CsvColumn { column };
        match &self.target {
            Column::Last => Ok(fields - 1),
            Column::First => Ok(0),
            Column::Index(i) if *i < fields => Ok(*i),
            Column::Index(i) => Err(missing(format!(
                "#{i} (0-based; rows have {fields} fields)"
            ))),
            Column::Name(name) => {
                let names = names
                    .ok_or_else(|| missing(format!("`{name}` (the reader expects no header)")))?;
                names
                    .iter()
                    .position(|n| n.trim_ascii() == name.as_bytes())
                    .ok_or_else(|| missing(format!("`{name}` in the header")))
            }
        }
    }
}

fn open(path: &Path) -> Result<BufReader<File>, DataError> {
    let (file, _) = open_regular(path).map_err(|e| DataError::open(path, e))?;
    Ok(BufReader::new(file))
}

fn csv_error(e: ::csv::Error) -> DataError {
    match e.into_kind() {
        ::csv::ErrorKind::Io(io) => match exceeded(&io) {
            Some(limit) => DataError::TooLarge {
                declared: None,
                limit,
            },
            None => DataError::Read(io),
        },
        other => DataError::Read(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{other:?}"),
        )),
    }
}

fn bad_field(field: &[u8], line: u64, column: usize, expected: &'static str) -> DataError {
    DataError::CsvNumber {
        line,
        column,
        field: String::from_utf8_lossy(field).into_owned(),
        expected,
    }
}

/// A number that is finite in the element type `E`: `1e300` is finite as
/// `f64` but overflows to infinity as `f32`, so the check follows the
/// conversion.
fn parse_number<E: Scalar>(field: &[u8]) -> Option<E> {
    let v: f64 = std::str::from_utf8(field).ok()?.trim().parse().ok()?;
    let e = E::from_f64(v);
    e.is_finite().then_some(e)
}

fn parse_class(field: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(field).ok()?.trim();
    if let Ok(n) = text.parse::<usize>() {
        return Some(n);
    }
    let v: f64 = text.parse().ok()?;
    // Integer-valued and exactly representable (below 2^53).
    (v >= 0.0 && v.fract() == 0.0 && v < 9_007_199_254_740_992.0).then_some(v as usize)
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_too_large_for_f32_are_rejected() {
        assert_eq!(super::parse_number::<f32>(b"1e300"), None);
        assert_eq!(super::parse_number::<f64>(b"1e300"), Some(1e300));
        assert_eq!(super::parse_number::<f32>(b" 2.5 "), Some(2.5));
    }

    use super::*;
    use crate::data::Dataset;
    use std::format;

    #[test]
    fn csv_reads_regression_without_header() {
        let data = CsvReader::new()
            .read_targets::<f64, 2>(" 1, 2 ,0.5\n\n3,4,-1.5\n".as_bytes())
            .unwrap();
        assert_eq!(data.inputs(), [[1.0, 2.0], [3.0, 4.0]]);
        assert_eq!(data.targets(), [[0.5], [-1.5]]);
    }

    #[test]
    fn csv_target_by_index_and_delimiter() {
        let data = CsvReader::new()
            .delimiter(b';')
            .target(Column::Index(1))
            .read_classes::<f32, 2>("0.5;2;7\n1;3.0;8\n".as_bytes())
            .unwrap();
        assert_eq!(data.get(1), (&[1.0, 8.0], &3));
        let first = CsvReader::new()
            .target(Column::First)
            .read_classes::<f32, 1>("4,9\n".as_bytes())
            .unwrap();
        assert_eq!(first.get(0), (&[9.0], &4));
    }

    #[test]
    fn csv_reports_field_count_with_line() {
        let err = CsvReader::new()
            .has_header(true)
            .read_classes::<f32, 2>("a,b,c\n1,2,0\n1,2\n".as_bytes())
            .unwrap_err();
        assert!(
            matches!(
                err,
                DataError::CsvFieldCount {
                    line: 3,
                    expected: 3,
                    found: 2
                }
            ),
            "{err}"
        );
        let err = CsvReader::new()
            .has_header(true)
            .read_classes::<f32, 2>("a,b\n1,2,0\n".as_bytes())
            .unwrap_err();
        assert!(
            matches!(err, DataError::CsvFieldCount { line: 1, .. }),
            "{err}"
        );
    }

    #[test]
    fn csv_reports_bad_number_with_line_and_column() {
        let err = CsvReader::new()
            .read_targets::<f32, 3>("1,2,3,4\n1,x2,3,4\n".as_bytes())
            .unwrap_err();
        assert!(
            matches!(&err, DataError::CsvNumber { line: 2, column: 2, field, .. } if field == "x2"),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            "CSV line 2, column 2: cannot parse `x2` as a finite number"
        );
        for bad in ["NaN", "inf", "\u{fffd}", ""] {
            let text = format!("1,{bad}\n");
            let err = CsvReader::new()
                .read_targets::<f32, 1>(text.as_bytes())
                .unwrap_err();
            assert!(
                matches!(
                    err,
                    DataError::CsvNumber {
                        line: 1,
                        column: 2,
                        ..
                    }
                ),
                "{bad}: {err}"
            );
        }
        let err = CsvReader::new()
            .read_targets::<f32, 1>(&b"1,\xff\n"[..])
            .unwrap_err();
        assert!(
            matches!(err, DataError::CsvNumber { column: 2, .. }),
            "{err}"
        );
    }

    #[test]
    fn csv_rejects_bad_labels() {
        for bad in ["-1", "1.5", "cat", "1e300"] {
            let text = format!("0.0,{bad}\n");
            let err = CsvReader::new()
                .read_classes::<f32, 1>(text.as_bytes())
                .unwrap_err();
            assert!(
                matches!(
                    err,
                    DataError::CsvNumber {
                        line: 1,
                        column: 2,
                        ..
                    }
                ),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn csv_reports_unknown_target_column() {
        let named = CsvReader::new().target(Column::Name("y".into()));
        let err = named
            .clone()
            .has_header(true)
            .read_classes::<f32, 1>("a,b\n".as_bytes())
            .unwrap_err();
        assert!(matches!(err, DataError::CsvColumn { .. }), "{err}");
        let err = named
            .read_classes::<f32, 1>("1,2\n".as_bytes())
            .unwrap_err();
        assert!(matches!(err, DataError::CsvColumn { .. }), "{err}");
        let err = CsvReader::new()
            .target(Column::Index(5))
            .read_classes::<f32, 1>("1,2\n".as_bytes())
            .unwrap_err();
        assert!(matches!(err, DataError::CsvColumn { .. }), "{err}");
    }

    #[test]
    fn csv_empty_input_is_an_empty_dataset() {
        assert!(
            CsvReader::new()
                .read_classes::<f32, 3>(&b""[..])
                .unwrap()
                .is_empty()
        );
        assert!(
            CsvReader::new()
                .has_header(true)
                .read_classes::<f32, 3>(&b""[..])
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn csv_stops_at_the_limit() {
        let text = "1,2\n3,4\n5,6\n";
        let ok = CsvReader::new()
            .max_bytes(text.len() as u64)
            .read_classes::<f32, 1>(text.as_bytes())
            .unwrap();
        assert_eq!(ok.len(), 3);
        let err = CsvReader::new()
            .max_bytes(text.len() as u64 - 1)
            .read_classes::<f32, 1>(text.as_bytes())
            .unwrap_err();
        assert!(
            matches!(
                err,
                DataError::TooLarge {
                    declared: None,
                    limit: 11
                }
            ),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            "input exceeds the limit of 11 bytes (raise it with `max_bytes`)"
        );
        // An endless stream without a newline: one record that never ends.
        let err = CsvReader::new()
            .max_bytes(1 << 20)
            .read_classes::<f32, 1>(std::io::repeat(b'7'))
            .unwrap_err();
        assert!(matches!(err, DataError::TooLarge { .. }), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn csv_file_refuses_special_files() {
        let err = CsvReader::new()
            .read_classes_file::<f32, 1>("/dev/zero")
            .unwrap_err();
        assert!(
            matches!(
                err,
                DataError::NotAFile {
                    kind: "a character device",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn csv_file_errors_name_the_file() {
        let path = std::env::temp_dir().join(format!("constnet-csv-{}.csv", std::process::id()));
        std::fs::write(&path, "1,2\n1\n").unwrap();
        let err = CsvReader::new()
            .read_classes_file::<f32, 1>(&path)
            .unwrap_err();
        assert!(matches!(
            err.root(),
            DataError::CsvFieldCount { line: 2, .. }
        ));
        assert!(err.to_string().contains("constnet-csv-"), "{err}");
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(
            CsvReader::new().read_classes_file::<f32, 1>(&path),
            Err(DataError::Io { .. })
        ));
    }
}
