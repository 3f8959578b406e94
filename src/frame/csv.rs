//! CSV import: parse a CSV file once, infer column types from a sample, and write the parsed
//! columns as a frame.
//!
//! [`import`] streams: it reads records with the `csv` crate, parses each field once into a
//! column builder for a batch of rows (64 Ki rows by default), and hands every batch to a
//! [`FrameWriter`], so a CSV larger than memory imports with memory bounded by the batch size
//! (plus the sample kept for type inference). Nothing but the parsed values reaches the file;
//! the text of a field is copied only when its column is a string column.
//! [`read`] parses a whole (small) file into one in-memory [`Frame`].
//!
//! ```
//! # fn main() -> brine::Result<()> {
//! # let dir = tempfile::tempdir().unwrap();
//! # let path = dir.path().join("weather.brine");
//! use brine::frame::FrameOptions;
//! use brine::frame::csv::{self, CsvOptions};
//!
//! let text = "date,temp,weather\n2012-01-01,12.8,drizzle\n2012-01-02,NA,rain\n";
//! let mut w = brine::Writer::create(&path)?;
//! let report = csv::import_reader(
//!     &mut w, "weather", "weather.csv", text.as_bytes(),
//!     &CsvOptions::new(), &FrameOptions::new(),
//! )?;
//! w.finish()?;
//! assert_eq!(report.rows, 2);
//!
//! let r = brine::Reader::open(&path)?;
//! let frame = r.frame("weather")?;
//! let temp = frame.column("temp")?.primitive::<f64>()?;
//! assert_eq!(temp.iter().collect::<Vec<_>>(), [Some(12.8), None]);
//! # Ok(()) }
//! ```
//!
//! # Type inference
//!
//! Each column gets the narrowest of these types that fits every non-null value of the sample
//! (the first 1000 rows by default): `bool` (`true`/`false`, `True`/`False`, `TRUE`/`FALSE`),
//! `i64`, `f64`, `date` (`YYYY-MM-DD` or `YYYY/MM/DD`), `timestamp` (a date, then `T` or a
//! space, `HH:MM:SS`, an optional fraction of up to 9 digits, and an optional `Z` or `±HH:MM`
//! offset, as in RFC 3339), else `utf8`. A column whose sampled values are all null is `utf8`.
//! Timestamps are stored as counts of [`CsvOptions::time_unit`] since the Unix epoch:
//! values ending in `Z` give zone `UTC`; values that all share one offset keep it as the zone
//! (`+01:00`); mixed offsets are converted to instants in zone `UTC`; values without an offset
//! are stored as if they were UTC, in a column without a zone. A column mixing values with and
//! without offsets is `utf8`. A value after the sample that does not fit its column's type is
//! an error naming the line and the column (or, with [`OnError::Skip`], a skipped row);
//! [`CsvOptions::column_type`] sets a column's type instead of inferring it.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone};
use half::f16;

use crate::Writer;
use crate::error::{Error, Result};
use crate::frame::{
    BinaryBuilder, BoolBuilder, CategoricalBuilder, Column, ColumnType, Field, Frame, FrameOptions,
    FrameWriter, PrimitiveBuilder, StringBuilder, TimeUnit,
};
use crate::raw::Dtype;

/// What to do with a malformed row: a wrong number of fields, a bad quote, bytes that are not
/// UTF-8, or a value that does not fit its column's type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnError {
    /// Stop at the first malformed row with an [`Error::Csv`] (the default).
    #[default]
    Fail,
    /// Skip malformed rows and count them in [`CsvReport::skipped`].
    Skip,
}

/// How to read a CSV file, built in the builder style: `CsvOptions::new().delimiter(b';')`.
#[derive(Clone, Debug)]
pub struct CsvOptions {
    header: bool,
    delimiter: u8,
    quote: u8,
    trim: bool,
    null_tokens: Vec<String>,
    sample_rows: usize,
    batch_rows: usize,
    time_unit: TimeUnit,
    types: Vec<(String, ColumnType)>,
    on_error: OnError,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            header: true,
            delimiter: b',',
            quote: b'"',
            trim: false,
            null_tokens: ["", "NA", "N/A", "NaN", "null", "NULL"]
                .map(String::from)
                .to_vec(),
            sample_rows: 1000,
            batch_rows: 64 * 1024,
            time_unit: TimeUnit::Microsecond,
            types: Vec::new(),
            on_error: OnError::Fail,
        }
    }
}

impl CsvOptions {
    /// The defaults: a header row, `,` and `"`, null tokens `""`, `NA`, `N/A`, `NaN`, `null`,
    /// `NULL`, types inferred from 1000 rows, batches of 65536 rows, timestamps in
    /// microseconds, and failing on the first malformed row.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the first row holds the column names (default `true`). Without a header the
    /// columns are named `column_1`, `column_2`, ...
    pub fn has_header(mut self, yes: bool) -> Self {
        self.header = yes;
        self
    }

    /// The field delimiter (default `b','`; `b';'` and `b'\t'` are common).
    pub fn delimiter(mut self, byte: u8) -> Self {
        self.delimiter = byte;
        self
    }

    /// The quote character (default `b'"'`); a quote inside a quoted field is written twice.
    pub fn quote(mut self, byte: u8) -> Self {
        self.quote = byte;
        self
    }

    /// Whether to strip leading and trailing whitespace from names and fields (default `false`).
    pub fn trim(mut self, yes: bool) -> Self {
        self.trim = yes;
        self
    }

    /// Replaces the null tokens: fields equal to one of these are null, in every column.
    pub fn null_tokens<S: Into<String>>(mut self, tokens: impl IntoIterator<Item = S>) -> Self {
        self.null_tokens = tokens.into_iter().map(Into::into).collect();
        self
    }

    /// Adds a null token to the current ones.
    pub fn null_token(mut self, token: impl Into<String>) -> Self {
        self.null_tokens.push(token.into());
        self
    }

    /// How many rows to infer column types from (default 1000; 0 makes every column `utf8`
    /// unless its type is set).
    pub fn sample_rows(mut self, rows: usize) -> Self {
        self.sample_rows = rows;
        self
    }

    /// Rows per batch written by [`import`] (default 65536): memory use grows with it.
    pub fn batch_rows(mut self, rows: usize) -> Self {
        self.batch_rows = rows.max(1);
        self
    }

    /// The unit of inferred timestamp columns (default microseconds).
    pub fn time_unit(mut self, unit: TimeUnit) -> Self {
        self.time_unit = unit;
        self
    }

    /// Sets the type of the column named `name` instead of inferring it: `bool`, any integer
    /// or float [`ColumnType::Primitive`], `utf8`, `binary` (bytes as they are, not checked for
    /// UTF-8), `categorical`, `date`, `timestamp` (values without an offset are read as local
    /// times in the zone, when it has one) or `duration` (integer counts of its unit).
    pub fn column_type(mut self, name: impl Into<String>, ty: ColumnType) -> Self {
        let name = name.into();
        self.types.retain(|(n, _)| *n != name);
        self.types.push((name, ty));
        self
    }

    /// What to do with malformed rows (default [`OnError::Fail`]).
    pub fn on_error(mut self, policy: OnError) -> Self {
        self.on_error = policy;
        self
    }
}

/// What an import did.
#[derive(Debug)]
#[non_exhaustive]
pub struct CsvReport {
    /// Rows imported.
    pub rows: u64,
    /// Malformed rows skipped (always 0 with [`OnError::Fail`]).
    pub skipped: u64,
    /// The lines where the first skipped rows start (at most 10).
    pub skipped_lines: Vec<u64>,
    /// Why those rows were skipped: an [`Error::Csv`] for each line of `skipped_lines`.
    pub skipped_errors: Vec<Error>,
    /// The columns written, with their types.
    pub fields: Vec<Field>,
    /// Bytes of CSV read (not counting a UTF-8 byte order mark, which is skipped).
    pub bytes: u64,
}

/// How many skipped rows a [`CsvReport`] describes.
const SKIPS_KEPT: usize = 10;

/// Imports the CSV file at `csv_path` into the frame entry `entry` of `writer`.
///
/// The file is parsed once: fields are parsed into column builders, and every
/// [`CsvOptions::batch_rows`] rows the batch is written through a [`FrameWriter`]; only the
/// sample and the current batch are in memory.
///
/// # Errors
/// [`Error::Io`] if the file cannot be opened or read; [`Error::Csv`], naming the line and,
/// when it is about one field, the column, for an empty file, a duplicate or non-UTF-8 column
/// name, an unknown column in [`CsvOptions::column_type`], and (with [`OnError::Fail`]) a
/// ragged row, a bad quote, bytes that are not UTF-8 or a value that does not fit its column's
/// type; the writer's errors for the entry. An error in the first batch leaves `writer` as it
/// was; a later one leaves the entry unfinished, and then `writer` cannot finish (the target
/// file is left untouched, as [`FrameWriter`] explains).
pub fn import(
    writer: &mut Writer,
    entry: &str,
    csv_path: impl AsRef<Path>,
    options: &CsvOptions,
    frame_options: &FrameOptions,
) -> Result<CsvReport> {
    let path = csv_path.as_ref();
    let file = File::open(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        op: "open",
        source,
    })?;
    let batches = Batches::new(path.to_owned(), file, options)?;
    write_batches(writer, entry, batches, frame_options)
}

/// Imports CSV read from `reader` (a file, a socket, a decompressor, a byte slice...) into the
/// frame entry `entry` of `writer`; `source_name` names the input in errors.
///
/// Like [`import`], it parses each field once and writes batches as they fill up.
///
/// # Errors
/// As [`import`].
pub fn import_reader(
    writer: &mut Writer,
    entry: &str,
    source_name: &str,
    reader: impl Read,
    options: &CsvOptions,
    frame_options: &FrameOptions,
) -> Result<CsvReport> {
    let batches = Batches::new(source_name.into(), reader, options)?;
    write_batches(writer, entry, batches, frame_options)
}

/// Reads a whole CSV file into one in-memory [`Frame`] (for small files; [`import`] streams).
///
/// # Errors
/// As [`import`], but for the writer's.
pub fn read(csv_path: impl AsRef<Path>, options: &CsvOptions) -> Result<Frame> {
    let path = csv_path.as_ref();
    let file = File::open(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        op: "open",
        source,
    })?;
    read_batches(path.to_owned(), file, options)
}

/// Reads all the CSV of `reader` (a byte slice, a socket, a decompressor...) into one
/// in-memory [`Frame`]; `source_name` names the input in errors.
///
/// # Errors
/// As [`import`], but for the writer's.
pub fn read_reader(source_name: &str, reader: impl Read, options: &CsvOptions) -> Result<Frame> {
    read_batches(source_name.into(), reader, options)
}

fn read_batches(name: PathBuf, reader: impl Read, options: &CsvOptions) -> Result<Frame> {
    let options = options.clone().batch_rows(usize::MAX);
    let mut batches = Batches::new(name, reader, &options)?;
    Ok(batches.next_batch()?.unwrap_or_default())
}

fn write_batches<R: Read>(
    writer: &mut Writer,
    entry: &str,
    mut batches: Batches<R>,
    frame_options: &FrameOptions,
) -> Result<CsvReport> {
    // The first batch is parsed before the entry is started, so that an error in it leaves
    // `writer` usable.
    let mut batch = batches.next_batch()?;
    let mut out: FrameWriter<'_> = writer.frame_writer(entry, frame_options)?;
    while let Some(frame) = batch {
        out.write_batch(&frame)?;
        batch = batches.next_batch()?;
    }
    out.finish()?;
    Ok(batches.report())
}

/// The input as the `csv` crate reads it: without a UTF-8 byte order mark, and with the bytes
/// of the current record kept, so that its real start line can be found (the crate reports
/// the line before skipping the `\n` of a `\r\n` ending or blank lines: rust-csv issue 395)
/// and its quotes checked (the crate accepts `"a"b` and an unterminated quote silently).
struct Source<R> {
    inner: BufReader<R>,
    /// The bytes handed out from offset `kept_at` on.
    kept: Vec<u8>,
    kept_at: u64,
    /// Bytes before this offset may be forgotten.
    mark: u64,
}

impl<R: Read> Source<R> {
    fn new(reader: R) -> io::Result<Self> {
        let mut inner = BufReader::with_capacity(64 * 1024, reader);
        if inner.fill_buf()?.starts_with(b"\xEF\xBB\xBF") {
            inner.consume(3);
        }
        Ok(Source {
            inner,
            kept: Vec::new(),
            kept_at: 0,
            mark: 0,
        })
    }

    /// The kept bytes in `from..to` (offsets after the byte order mark).
    fn bytes(&self, from: u64, to: u64) -> &[u8] {
        let start = usize::try_from(from.saturating_sub(self.kept_at)).unwrap_or(usize::MAX);
        let end = usize::try_from(to.saturating_sub(self.kept_at)).unwrap_or(usize::MAX);
        let end = end.min(self.kept.len());
        self.kept.get(start.min(end)..end).unwrap_or_default()
    }
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let forget = usize::try_from(self.mark.saturating_sub(self.kept_at))
            .unwrap_or(usize::MAX)
            .min(self.kept.len());
        self.kept.drain(..forget);
        self.kept_at += forget as u64;
        self.kept.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

/// Where a column's type came from, for error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Origin {
    Inferred(usize),
    Set,
}

/// A column being imported: its type and parser.
#[derive(Debug)]
struct Spec {
    ty: ColumnType,
    parser: Parser,
    origin: Origin,
}

/// Reads a CSV into frames of at most `batch_rows` rows; yields at least one (possibly empty)
/// frame so that a header-only file still gives typed columns.
struct Batches<R> {
    file: PathBuf,
    csv: csv::Reader<Source<R>>,
    record: csv::ByteRecord,
    /// The sampled rows, with their lines, not yet turned into values.
    pending: VecDeque<(csv::ByteRecord, u64)>,
    names: Vec<String>,
    columns: Vec<Spec>,
    cells: Vec<Cell>,
    nulls: Nulls,
    options: CsvOptions,
    rows: u64,
    skipped: u64,
    skips: Vec<Error>,
    yielded: bool,
    done: bool,
}

impl<R: Read> Batches<R> {
    /// Reads the header and the sample, and infers the column types.
    fn new(file: PathBuf, reader: R, options: &CsvOptions) -> Result<Self> {
        let source = Source::new(reader).map_err(|source| Error::Io {
            path: file.clone(),
            op: "read",
            source,
        })?;
        let csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(options.delimiter)
            .quote(options.quote)
            .trim(if options.trim {
                csv::Trim::All
            } else {
                csv::Trim::None
            })
            .buffer_capacity(64 * 1024)
            .from_reader(source);
        let mut b = Batches {
            file,
            csv,
            record: csv::ByteRecord::new(),
            pending: VecDeque::new(),
            names: Vec::new(),
            columns: Vec::new(),
            cells: Vec::new(),
            nulls: Nulls::new(&options.null_tokens),
            options: options.clone(),
            rows: 0,
            skipped: 0,
            skips: Vec::new(),
            yielded: false,
            done: false,
        };
        let Some(line) = b.read_record()? else {
            return Err(b.error(1, None, "the input is empty".into()));
        };
        b.names = b.read_names(line, options.header)?;
        if !options.header {
            b.pending.push_back((b.record.clone(), line));
        }
        // The sample: rows of the right shape, kept to be parsed once the types are known.
        while b.pending.len() < options.sample_rows {
            match b.read_row(b.names.len()) {
                Ok(Some(line)) => b.pending.push_back((b.record.clone(), line)),
                Ok(None) => break,
                Err(e) => b.skip_or_fail(e)?,
            }
        }
        let sampled = b.pending.len().min(options.sample_rows);
        for (i, name) in b.names.iter().enumerate() {
            let (ty, parser, origin) = match options.types.iter().find(|(n, _)| n == name) {
                Some((_, ty)) => {
                    let Some(parser) = Parser::new(ty) else {
                        let reason = format!("cannot import a {ty} column from CSV");
                        return Err(b.error(line, Some(name), reason));
                    };
                    (ty.clone(), parser, Origin::Set)
                }
                None => {
                    let mut guess = Guess::default();
                    for (rec, _) in b.pending.iter().take(sampled) {
                        let v = rec.get(i).unwrap_or_default();
                        if !b.nulls.contains(v) {
                            guess.observe(v);
                        }
                    }
                    let ty = guess.column_type(options.time_unit);
                    (ty.clone(), Parser::inferred(&ty), Origin::Inferred(sampled))
                }
            };
            b.columns.push(Spec { ty, parser, origin });
        }
        for (name, _) in &options.types {
            if !b.names.contains(name) {
                let reason = format!(
                    "CsvOptions::column_type names a column the input does not have: {name:?}"
                );
                return Err(b.error(line, None, reason));
            }
        }
        b.cells = vec![Cell::Null; b.columns.len()];
        Ok(b)
    }

    /// The column names, from the header record (or `column_1`... without one).
    fn read_names(&self, line: u64, header: bool) -> Result<Vec<String>> {
        let mut names: Vec<String> = Vec::with_capacity(self.record.len());
        for (i, field) in self.record.iter().enumerate() {
            let name = match (header, std::str::from_utf8(field)) {
                (true, Ok(name)) if !name.is_empty() => name.to_owned(),
                (true, Err(e)) => {
                    let reason = format!(
                        "the name of column {} is not valid UTF-8 (byte {})",
                        i + 1,
                        e.valid_up_to()
                    );
                    return Err(self.error(line, None, reason));
                }
                _ => format!("column_{}", i + 1),
            };
            if names.contains(&name) {
                let reason = "two columns have this name".to_owned();
                return Err(self.error(line, Some(&name), reason));
            }
            names.push(name);
        }
        Ok(names)
    }

    fn error(&self, line: u64, column: Option<&str>, reason: String) -> Error {
        Error::Csv {
            file: self.file.clone(),
            line,
            column: column.map(str::to_owned),
            reason,
        }
    }

    /// Counts a malformed row under [`OnError::Skip`]; returns every other error.
    fn skip_or_fail(&mut self, error: Error) -> Result<()> {
        match (&error, self.options.on_error) {
            (Error::Csv { .. }, OnError::Skip) => {
                self.skipped += 1;
                if self.skips.len() < SKIPS_KEPT {
                    self.skips.push(error);
                }
                Ok(())
            }
            _ => Err(error),
        }
    }

    /// Reads the next record into `self.record`; returns its start line, `None` at the end.
    fn read_record(&mut self) -> Result<Option<u64>> {
        let start = self.csv.position().clone();
        self.csv.get_mut().mark = start.byte();
        let more =
            self.csv
                .read_byte_record(&mut self.record)
                .map_err(|e| match e.into_kind() {
                    csv::ErrorKind::Io(source) => Error::Io {
                        path: self.file.clone(),
                        op: "read",
                        source,
                    },
                    other => self.error(start.line(), None, format!("{other:?}")),
                })?;
        if !more {
            return Ok(None);
        }
        let end = self.csv.position().byte();
        let raw = self.csv.get_ref().bytes(start.byte(), end);
        let blank = raw
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        let skipped_lines = raw[..blank].iter().filter(|&&b| b == b'\n').count();
        let line = start.line() + skipped_lines as u64;
        let body = &raw[blank..];
        let o = &self.options;
        if let Err((field, reason)) = check_quotes(body, o.delimiter, o.quote, o.trim) {
            let column = self.names.get(field).map(String::as_str);
            return Err(self.error(line, column, reason.to_owned()));
        }
        Ok(Some(line))
    }

    /// The next record of the right shape, from the sample first; `None` at the end.
    fn next_record(&mut self, fields: usize) -> Result<Option<u64>> {
        if let Some((record, line)) = self.pending.pop_front() {
            self.record = record;
            return Ok(Some(line));
        }
        self.read_row(fields)
    }

    /// Reads the next record of the right shape from the input; `None` at the end.
    fn read_row(&mut self, fields: usize) -> Result<Option<u64>> {
        let Some(line) = self.read_record()? else {
            return Ok(None);
        };
        if self.record.len() != fields {
            let first = if self.options.header {
                "header"
            } else {
                "first row"
            };
            let reason = format!(
                "the row has {}, the {first} has {} (a ragged row)",
                count(self.record.len(), "field"),
                count(fields, "field")
            );
            return Err(self.error(line, None, reason));
        }
        Ok(Some(line))
    }

    /// Parses `self.record` into `self.cells`.
    fn parse_row(&mut self, line: u64) -> Result<()> {
        for (i, field) in self.record.iter().enumerate() {
            let spec = &self.columns[i];
            self.cells[i] = if self.nulls.contains(field) {
                Cell::Null
            } else {
                match spec.parser.parse(field) {
                    Ok(cell) => cell,
                    Err(misfit) => {
                        let reason = misfit.describe(field, spec);
                        return Err(self.error(line, Some(&self.names[i]), reason));
                    }
                }
            };
        }
        Ok(())
    }

    /// The next batch of rows; `None` once the input is exhausted and a batch was yielded.
    fn next_batch(&mut self) -> Result<Option<Frame>> {
        if self.done && self.yielded {
            return Ok(None);
        }
        let capacity = self.options.batch_rows.min(64 * 1024);
        let mut builders: Vec<Builder> = self
            .columns
            .iter()
            .map(|c| Builder::new(&c.ty, capacity))
            .collect();
        let mut rows = 0;
        while rows < self.options.batch_rows {
            let line = match self.next_record(self.columns.len()) {
                Ok(Some(line)) => line,
                Ok(None) => {
                    self.done = true;
                    break;
                }
                Err(e) => {
                    self.skip_or_fail(e)?;
                    continue;
                }
            };
            if let Err(e) = self.parse_row(line) {
                self.skip_or_fail(e)?;
                continue;
            }
            for ((builder, cell), field) in builders.iter_mut().zip(&self.cells).zip(&self.record) {
                builder.push(*cell, field);
            }
            rows += 1;
        }
        if rows == 0 && self.yielded {
            return Ok(None);
        }
        self.yielded = true;
        self.rows += rows as u64;
        let mut frame = Frame::builder();
        for (name, builder) in self.names.iter().zip(builders) {
            frame.push(name.clone(), builder.finish());
        }
        frame.build().map(Some)
    }

    fn report(self) -> CsvReport {
        let skipped_lines = self
            .skips
            .iter()
            .filter_map(|e| match e {
                Error::Csv { line, .. } => Some(*line),
                _ => None,
            })
            .collect();
        CsvReport {
            rows: self.rows,
            skipped: self.skipped,
            skipped_lines,
            skipped_errors: self.skips,
            fields: (self.names.into_iter().zip(self.columns))
                .map(|(name, c)| Field { name, ty: c.ty })
                .collect(),
            bytes: self.csv.get_ref().kept_at + self.csv.get_ref().kept.len() as u64,
        }
    }
}

/// `1 field`, `2 fields`.
fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// The null tokens, with a bitmap of their lengths to rule most fields out at once.
#[derive(Debug)]
struct Nulls {
    tokens: Vec<Vec<u8>>,
    /// Bit `min(n, 63)` is set when a token has `n` bytes.
    lengths: u64,
}

impl Nulls {
    fn new(tokens: &[String]) -> Nulls {
        let lengths = tokens.iter().fold(0, |m, t| m | 1 << t.len().min(63));
        let tokens = tokens.iter().map(|t| t.as_bytes().to_vec()).collect();
        Nulls { tokens, lengths }
    }

    #[inline]
    fn contains(&self, field: &[u8]) -> bool {
        self.lengths & 1 << field.len().min(63) != 0 && self.tokens.iter().any(|t| t == field)
    }
}

/// Checks the quoting of one raw record as RFC 4180 wants it, which the `csv` crate does not:
/// a quoted field must end with a quote followed by a delimiter or the end of the record.
/// (A quote inside an unquoted field, as in `5'11"`, is taken literally, as the crate does.)
/// Returns the index of the bad field and what is wrong.
fn check_quotes(
    raw: &[u8],
    delimiter: u8,
    quote: u8,
    trim: bool,
) -> Result<(), (usize, &'static str)> {
    scan_quotes(raw, delimiter, quote, trim, |_| ()).map_err(|reason| {
        // Count the fields before the bad one only now: the unquoted stretches' delimiters.
        let mut field = 0;
        let count = |gap: &[u8]| field += gap.iter().filter(|&&b| b == delimiter).count();
        let _ = scan_quotes(raw, delimiter, quote, trim, count);
        (field, reason)
    })
}

/// Jumps from quote to quote through a raw record (only the bytes around quotes matter),
/// handing `gap` the unquoted stretch before each quoted field.
fn scan_quotes(
    raw: &[u8],
    delimiter: u8,
    quote: u8,
    trim: bool,
    mut gap: impl FnMut(&[u8]),
) -> Result<(), &'static str> {
    let next_quote = |from: usize| find(&raw[from..], quote).map(|q| from + q);
    let (mut at, mut unquoted) = (0, 0);
    while let Some(open) = next_quote(at) {
        if open > 0 && raw[open - 1] != delimiter {
            at = open + 1; // a literal quote inside an unquoted field
            continue;
        }
        gap(&raw[unquoted..open]);
        let mut close = open;
        loop {
            let Some(q) = next_quote(close + 1) else {
                return Err("a quoted field is never closed (an unmatched quote)");
            };
            let blank = |b: &u8| trim && (*b == b' ' || *b == b'\t');
            let after = raw[q + 1..].iter().position(|b| !blank(b));
            match after.map(|n| raw[q + 1 + n]) {
                Some(b) if b == quote && after == Some(0) => close = q + 1, // an escaped quote
                None => return Ok(()),
                Some(b) if b == delimiter || b == b'\r' || b == b'\n' => {
                    (at, unquoted) = (q + 1, q + 1);
                    break;
                }
                Some(_) => return Err("text after the closing quote of a quoted field"),
            }
        }
    }
    Ok(())
}

/// The position of the first `byte` in `v`, looked for eight bytes at a time.
fn find(v: &[u8], byte: u8) -> Option<usize> {
    const LOW: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = u64::from_le_bytes([0x80; 8]);
    let mut words = v.chunks_exact(8);
    for (i, word) in words.by_ref().enumerate() {
        let x = u64::from_le_bytes(word.try_into().unwrap_or_default()) ^ (LOW * u64::from(byte));
        // The lowest set bit marks the first zero byte of `x` (higher ones may be false hits).
        let zero = x.wrapping_sub(LOW) & !x & HIGH;
        if zero != 0 {
            return Some(i * 8 + zero.trailing_zeros() as usize / 8);
        }
    }
    let rest = words.remainder();
    let at = v.len() - rest.len();
    rest.iter().position(|&b| b == byte).map(|p| at + p)
}

/// Column type inference: the types every sampled value fits, narrowed value by value.
#[derive(Debug)]
struct Guess {
    /// Bits of `BOOL`, `INT`, `FLOAT`, `DATE`, `TIMESTAMP` still possible.
    fits: u8,
    seen: bool,
    zones: Zones,
}

const BOOL: u8 = 1;
const INT: u8 = 2;
const FLOAT: u8 = 4;
const DATE: u8 = 8;
const TIMESTAMP: u8 = 16;

/// The UTC offsets of the sampled timestamps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Zones {
    Unseen,
    Naive,
    Utc,
    Fixed(i32),
    Mixed,
}

impl Default for Guess {
    fn default() -> Self {
        Guess {
            fits: BOOL | INT | FLOAT | DATE | TIMESTAMP,
            seen: false,
            zones: Zones::Unseen,
        }
    }
}

impl Guess {
    /// Narrows the guess with one non-null value. Values that are not UTF-8 are left to the
    /// parse, which reports them.
    fn observe(&mut self, v: &[u8]) {
        if simdutf8::basic::from_utf8(v).is_err() {
            return;
        }
        self.seen = true;
        let mut fits = 0;
        if self.fits & BOOL != 0 && parse_bool(v).is_some() {
            fits |= BOOL;
        }
        if self.fits & (INT | FLOAT) != 0 && parse_i64(v).is_some() {
            fits |= INT | FLOAT;
        } else if self.fits & FLOAT != 0 && parse_f64(v).is_some() {
            fits |= FLOAT;
        }
        if self.fits & (DATE | TIMESTAMP) != 0 {
            if let Some(stamp) = parse_timestamp(v) {
                fits |= TIMESTAMP | if stamp.date_only { DATE } else { 0 };
                self.zones = match (self.zones, stamp.offset) {
                    (Zones::Unseen | Zones::Naive, Offset::None) => Zones::Naive,
                    (Zones::Naive, _) | (_, Offset::None) => {
                        fits &= !TIMESTAMP;
                        Zones::Naive
                    }
                    (Zones::Unseen | Zones::Utc, Offset::Z) => Zones::Utc,
                    (Zones::Unseen, Offset::Fixed(s)) => Zones::Fixed(s),
                    (Zones::Fixed(a), Offset::Fixed(b)) if a == b => Zones::Fixed(a),
                    _ => Zones::Mixed,
                };
            }
        }
        self.fits &= fits;
    }

    fn column_type(&self, unit: TimeUnit) -> ColumnType {
        match self.fits {
            _ if !self.seen => ColumnType::Utf8,
            f if f & BOOL != 0 => ColumnType::Bool,
            f if f & INT != 0 => ColumnType::Primitive(Dtype::I64),
            f if f & FLOAT != 0 => ColumnType::Primitive(Dtype::F64),
            f if f & DATE != 0 => ColumnType::Date,
            f if f & TIMESTAMP != 0 => ColumnType::Timestamp {
                unit,
                zone: match self.zones {
                    Zones::Unseen | Zones::Naive => None,
                    Zones::Utc | Zones::Mixed => Some("UTC".to_owned()),
                    Zones::Fixed(s) => Some(format_offset(s)),
                },
            },
            _ => ColumnType::Utf8,
        }
    }
}

/// `+HH:MM` for an offset in seconds east of UTC.
fn format_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let m = seconds.unsigned_abs() / 60;
    format!("{sign}{:02}:{:02}", m / 60, m % 60)
}

/// A parsed field, before it is pushed to its column's builder. Every payload is one aligned
/// word (a bool is an `Int` of 0 or 1): with a `bool` payload at byte 1, copying a cell out of
/// the parser's result stalled on store forwarding twice per field (measured: 5% of an
/// import's time).
#[derive(Clone, Copy, Debug)]
enum Cell {
    Null,
    Int(i64),
    UInt(u64),
    Float(f64),
    /// The field's bytes as they are (strings, categoricals, binary).
    Bytes,
}

/// How naive timestamps (without an offset) are read, and whether offsets are allowed.
#[derive(Clone, Copy, Debug)]
enum Naive {
    /// As UTC, in a column without a zone; values with an offset do not fit.
    Utc,
    /// Not at all: the column has a zone and every value must carry an offset.
    Refused,
    /// As local times in an IANA zone.
    Local(chrono_tz::Tz),
    /// As local times at a fixed offset (seconds east of UTC).
    Offset(i32),
}

/// Parses the fields of one column.
#[derive(Clone, Copy, Debug)]
enum Parser {
    Bool,
    /// Integers from `.0` to `.1`.
    Int(i64, i64),
    /// Integers from 0 to `.0`.
    UInt(u64),
    F32,
    F64,
    Date,
    Timestamp {
        unit: TimeUnit,
        naive: Naive,
    },
    Duration,
    Utf8,
    Binary,
}

/// Why a field does not fit its column.
#[derive(Clone, Copy, Debug)]
enum Misfit {
    /// It does not have the column's format.
    Format,
    /// It is out of the range of the column's type.
    Range,
    /// A timestamp more precise than the column's unit.
    Precision,
    /// A timestamp without an offset in a column whose values carry one.
    NoOffset,
    /// A timestamp with an offset in a column whose values have none.
    Offset,
    /// A local time that happens twice in the column's zone.
    Ambiguous,
    /// A local time that the column's zone skips.
    Skipped,
}

impl Parser {
    /// The parser of a column type; `None` for types CSV import does not produce.
    fn new(ty: &ColumnType) -> Option<Parser> {
        Some(match ty {
            ColumnType::Bool => Parser::Bool,
            ColumnType::Primitive(d) => match d {
                Dtype::I8 => Parser::Int(i8::MIN.into(), i8::MAX.into()),
                Dtype::I16 => Parser::Int(i16::MIN.into(), i16::MAX.into()),
                Dtype::I32 => Parser::Int(i32::MIN.into(), i32::MAX.into()),
                Dtype::I64 => Parser::Int(i64::MIN, i64::MAX),
                Dtype::U8 => Parser::UInt(u8::MAX.into()),
                Dtype::U16 => Parser::UInt(u16::MAX.into()),
                Dtype::U32 => Parser::UInt(u32::MAX.into()),
                Dtype::U64 => Parser::UInt(u64::MAX),
                Dtype::F16 | Dtype::F32 => Parser::F32,
                Dtype::F64 => Parser::F64,
                _ => return None,
            },
            ColumnType::Utf8 | ColumnType::Categorical { .. } => Parser::Utf8,
            ColumnType::Binary => Parser::Binary,
            ColumnType::Date => Parser::Date,
            ColumnType::Duration(_) => Parser::Duration,
            ColumnType::Timestamp { unit, zone } => Parser::Timestamp {
                unit: *unit,
                naive: match zone.as_deref() {
                    None => Naive::Utc,
                    Some(z) => match parse_offset(z.as_bytes()) {
                        Some((Offset::Fixed(s), 6)) => Naive::Offset(s),
                        _ => Naive::Local(z.parse().ok()?),
                    },
                },
            },
        })
    }

    /// The parser of an inferred type: as [`Parser::new`], but an inferred zone comes from
    /// offsets in the values, so a value without one does not fit.
    fn inferred(ty: &ColumnType) -> Parser {
        match (Parser::new(ty), ty.zone()) {
            (Some(Parser::Timestamp { unit, .. }), Some(_)) => Parser::Timestamp {
                unit,
                naive: Naive::Refused,
            },
            (Some(parser), _) => parser,
            (None, _) => Parser::Utf8,
        }
    }

    /// Parses one non-null field.
    #[inline]
    fn parse(&self, v: &[u8]) -> Result<Cell, Misfit> {
        match *self {
            Parser::Bool => parse_bool(v)
                .map(|b| Cell::Int(b.into()))
                .ok_or(Misfit::Format),
            Parser::Int(min, max) => match parse_i64(v) {
                Some(x) if x < min || x > max => Err(Misfit::Range),
                Some(x) => Ok(Cell::Int(x)),
                None if parse_u64(v).is_some() => Err(Misfit::Range),
                None => Err(Misfit::Format),
            },
            Parser::UInt(max) => match parse_u64(v) {
                Some(x) if x > max => Err(Misfit::Range),
                Some(x) => Ok(Cell::UInt(x)),
                None if parse_i64(v).is_some() => Err(Misfit::Range),
                None => Err(Misfit::Format),
            },
            Parser::F32 => std::str::from_utf8(v)
                .ok()
                .and_then(|s| s.parse::<f32>().ok())
                .map(|x| Cell::Float(x.into()))
                .ok_or(Misfit::Format),
            Parser::F64 => parse_f64(v).map(Cell::Float).ok_or(Misfit::Format),
            Parser::Date => parse_date(v)
                .map(|d| Cell::Int(d.into()))
                .ok_or(Misfit::Format),
            Parser::Duration => parse_i64(v).map(Cell::Int).ok_or(Misfit::Format),
            Parser::Timestamp { unit, naive } => {
                let stamp = parse_timestamp(v).ok_or(Misfit::Format)?;
                let seconds = match (stamp.offset, naive) {
                    (Offset::None, Naive::Utc) => stamp.seconds,
                    (Offset::None, Naive::Offset(s)) => stamp.seconds - i64::from(s),
                    (Offset::None, Naive::Local(tz)) => {
                        let local = DateTime::from_timestamp(stamp.seconds, 0)
                            .ok_or(Misfit::Range)?
                            .naive_utc();
                        match tz.from_local_datetime(&local) {
                            chrono::LocalResult::Single(t) => t.timestamp(),
                            chrono::LocalResult::Ambiguous(..) => return Err(Misfit::Ambiguous),
                            chrono::LocalResult::None => return Err(Misfit::Skipped),
                        }
                    }
                    (Offset::None, Naive::Refused) => return Err(Misfit::NoOffset),
                    (_, Naive::Utc) => return Err(Misfit::Offset),
                    (Offset::Z, _) => stamp.seconds,
                    (Offset::Fixed(s), _) => stamp.seconds - i64::from(s),
                };
                let per_second = unit.per_second();
                let step = 1_000_000_000 / per_second;
                if i64::from(stamp.nanos) % step != 0 {
                    return Err(Misfit::Precision);
                }
                seconds
                    .checked_mul(per_second)
                    .and_then(|t| t.checked_add(i64::from(stamp.nanos) / step))
                    .map(Cell::Int)
                    .ok_or(Misfit::Range)
            }
            Parser::Utf8 => match simdutf8::basic::from_utf8(v) {
                Ok(_) => Ok(Cell::Bytes),
                Err(_) => Err(Misfit::Format),
            },
            Parser::Binary => Ok(Cell::Bytes),
        }
    }
}

impl Misfit {
    /// The reason of the error for field `v` of column `spec`.
    fn describe(self, v: &[u8], spec: &Spec) -> String {
        if let Err(e) = simdutf8::compat::from_utf8(v) {
            return format!(
                "the value is not valid UTF-8 (byte {} of the field: {:?})",
                e.valid_up_to(),
                String::from_utf8_lossy(v)
            );
        }
        let shown = String::from_utf8_lossy(v);
        let shown: String = if shown.chars().count() > 40 {
            shown.chars().take(40).chain(['…']).collect()
        } else {
            shown.into_owned()
        };
        let ty = &spec.ty;
        let why = match self {
            Misfit::Format => {
                let hint = match ty {
                    ColumnType::Bool => " (true/false, True/False or TRUE/FALSE)",
                    ColumnType::Date => " (YYYY-MM-DD or YYYY/MM/DD)",
                    ColumnType::Timestamp { .. } => " (YYYY-MM-DD HH:MM:SS[.fff][Z|±HH:MM])",
                    _ => "",
                };
                format!("is not a valid {ty}{hint}")
            }
            Misfit::Range => format!("is out of the range of {ty}"),
            Misfit::Precision => format!("is more precise than {ty}; set CsvOptions::time_unit"),
            Misfit::NoOffset => "has no UTC offset, and the column's timestamps have one".into(),
            Misfit::Offset => "has a UTC offset, and the column's timestamps have none".into(),
            Misfit::Ambiguous => format!("is ambiguous in the zone of {ty} (a clock change)"),
            Misfit::Skipped => format!("does not exist in the zone of {ty} (a clock change)"),
        };
        let origin = match spec.origin {
            Origin::Inferred(rows) => {
                format!("type inferred from the first {}", count(rows, "row"))
            }
            Origin::Set => "type set with CsvOptions::column_type".to_owned(),
        };
        let fix = match spec.origin {
            Origin::Inferred(_) => "; override it with CsvOptions::column_type",
            Origin::Set => "",
        };
        format!("value {shown:?} {why} ({origin}{fix})")
    }
}

/// A column builder of any type.
enum Builder {
    Bool(BoolBuilder),
    I8(PrimitiveBuilder<i8>),
    I16(PrimitiveBuilder<i16>),
    I32(PrimitiveBuilder<i32>),
    I64(PrimitiveBuilder<i64>),
    U8(PrimitiveBuilder<u8>),
    U16(PrimitiveBuilder<u16>),
    U32(PrimitiveBuilder<u32>),
    U64(PrimitiveBuilder<u64>),
    F16(PrimitiveBuilder<f16>),
    F32(PrimitiveBuilder<f32>),
    F64(PrimitiveBuilder<f64>),
    Date(PrimitiveBuilder<i32>),
    Timestamp(PrimitiveBuilder<i64>, TimeUnit, Option<String>),
    Duration(PrimitiveBuilder<i64>, TimeUnit),
    Utf8(StringBuilder),
    Binary(BinaryBuilder),
    Categorical(CategoricalBuilder, bool),
}

impl Builder {
    /// A builder for a type [`Parser::new`] accepted.
    fn new(ty: &ColumnType, rows: usize) -> Builder {
        match ty {
            ColumnType::Bool => Builder::Bool(BoolBuilder::new()),
            ColumnType::Primitive(d) => match d {
                Dtype::I8 => Builder::I8(PrimitiveBuilder::with_capacity(rows)),
                Dtype::I16 => Builder::I16(PrimitiveBuilder::with_capacity(rows)),
                Dtype::I32 => Builder::I32(PrimitiveBuilder::with_capacity(rows)),
                Dtype::U8 => Builder::U8(PrimitiveBuilder::with_capacity(rows)),
                Dtype::U16 => Builder::U16(PrimitiveBuilder::with_capacity(rows)),
                Dtype::U32 => Builder::U32(PrimitiveBuilder::with_capacity(rows)),
                Dtype::U64 => Builder::U64(PrimitiveBuilder::with_capacity(rows)),
                Dtype::F16 => Builder::F16(PrimitiveBuilder::with_capacity(rows)),
                Dtype::F32 => Builder::F32(PrimitiveBuilder::with_capacity(rows)),
                Dtype::F64 => Builder::F64(PrimitiveBuilder::with_capacity(rows)),
                _ => Builder::I64(PrimitiveBuilder::with_capacity(rows)),
            },
            ColumnType::Date => Builder::Date(PrimitiveBuilder::with_capacity(rows)),
            ColumnType::Timestamp { unit, zone } => {
                Builder::Timestamp(PrimitiveBuilder::with_capacity(rows), *unit, zone.clone())
            }
            ColumnType::Duration(unit) => {
                Builder::Duration(PrimitiveBuilder::with_capacity(rows), *unit)
            }
            ColumnType::Binary => Builder::Binary(BinaryBuilder::new()),
            ColumnType::Categorical { ordered } => {
                Builder::Categorical(CategoricalBuilder::new(), *ordered)
            }
            _ => Builder::Utf8(StringBuilder::new()),
        }
    }

    /// Appends a cell its column's parser made from `field`.
    // The narrowing casts are exact: the column's parser refused values outside its type's
    // range (`Parser::Int`/`Parser::UInt` bounds; dates are parsed as `i32`), and an `F32` column's floats were parsed as
    // `f32` and widened. A checked conversion here would add a branch per cell.
    #[allow(clippy::cast_possible_truncation)]
    #[inline]
    fn push(&mut self, cell: Cell, field: &[u8]) {
        let (int, uint, float) = match cell {
            Cell::Int(x) => (Some(x), None, None),
            Cell::UInt(x) => (None, Some(x), None),
            Cell::Float(x) => (None, None, Some(x)),
            Cell::Null | Cell::Bytes => (None, None, None),
        };
        let bytes = matches!(cell, Cell::Bytes).then_some(field);
        // The parser checked UTF-8 and ranges, so these conversions are exact.
        let text = || bytes.and_then(|b| simdutf8::basic::from_utf8(b).ok());
        match self {
            Builder::Bool(b) => b.push(int.map(|x| x != 0)),
            Builder::I8(b) => b.push(int.map(|x| x as i8)),
            Builder::I16(b) => b.push(int.map(|x| x as i16)),
            Builder::I32(b) | Builder::Date(b) => b.push(int.map(|x| x as i32)),
            Builder::I64(b) | Builder::Timestamp(b, ..) | Builder::Duration(b, _) => b.push(int),
            Builder::U8(b) => b.push(uint.map(|x| x as u8)),
            Builder::U16(b) => b.push(uint.map(|x| x as u16)),
            Builder::U32(b) => b.push(uint.map(|x| x as u32)),
            Builder::U64(b) => b.push(uint),
            Builder::F16(b) => b.push(float.map(f16::from_f64)),
            Builder::F32(b) => b.push(float.map(|x| x as f32)),
            Builder::F64(b) => b.push(float),
            Builder::Utf8(b) => b.push(text()),
            Builder::Categorical(b, _) => b.push(text()),
            Builder::Binary(b) => b.push(bytes),
        }
    }

    fn finish(self) -> Column {
        match self {
            Builder::Bool(b) => b.finish(),
            Builder::I8(b) => b.finish(),
            Builder::I16(b) => b.finish(),
            Builder::I32(b) => b.finish(),
            Builder::I64(b) => b.finish(),
            Builder::U8(b) => b.finish(),
            Builder::U16(b) => b.finish(),
            Builder::U32(b) => b.finish(),
            Builder::U64(b) => b.finish(),
            Builder::F16(b) => b.finish(),
            Builder::F32(b) => b.finish(),
            Builder::F64(b) => b.finish(),
            Builder::Date(b) => b.finish_dates(),
            Builder::Timestamp(b, unit, zone) => b.finish_timestamps(unit, zone.as_deref()),
            Builder::Duration(b, unit) => b.finish_durations(unit),
            Builder::Utf8(b) => b.finish(),
            Builder::Binary(b) => b.finish(),
            Builder::Categorical(b, ordered) => b.finish().ordered(ordered),
        }
    }
}

fn parse_bool(v: &[u8]) -> Option<bool> {
    match v {
        b"true" | b"True" | b"TRUE" => Some(true),
        b"false" | b"False" | b"FALSE" => Some(false),
        _ => None,
    }
}

/// An optional sign and decimal digits, as `i64`.
fn parse_i64(v: &[u8]) -> Option<i64> {
    let (negative, digits) = match v {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, v),
    };
    if digits.is_empty() {
        return None;
    }
    // Accumulate negatively so that i64::MIN parses.
    let mut x: i64 = 0;
    for &d in digits {
        let d = i64::from(d.wrapping_sub(b'0'));
        if d > 9 {
            return None;
        }
        x = x.checked_mul(10)?.checked_sub(d)?;
    }
    if negative { Some(x) } else { x.checked_neg() }
}

/// An optional `+` and decimal digits, as `u64`.
fn parse_u64(v: &[u8]) -> Option<u64> {
    let digits = v.strip_prefix(b"+").unwrap_or(v);
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |x, &d| {
        let d = d.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        x.checked_mul(10)?.checked_add(d.into())
    })
}

/// A float as Rust reads it (`1.5`, `-2e-3`, `inf`, `nan`, ...).
fn parse_f64(v: &[u8]) -> Option<f64> {
    std::str::from_utf8(v).ok()?.parse().ok()
}

/// `n` ASCII digits as a number.
fn digits(v: &[u8]) -> Option<u32> {
    v.iter().try_fold(0u32, |x, &d| {
        let d = d.wrapping_sub(b'0');
        (d <= 9).then(|| x * 10 + u32::from(d))
    })
}

/// `YYYY-MM-DD` or `YYYY/MM/DD` as days since 1970-01-01.
fn parse_date(v: &[u8]) -> Option<i32> {
    if v.len() != 10 || v[4] != v[7] || !(v[4] == b'-' || v[4] == b'/') {
        return None;
    }
    let (y, m, d) = (digits(&v[..4])?, digits(&v[5..7])?, digits(&v[8..])?);
    days_from_civil(y, m, d)
}

/// Days since 1970-01-01 of a date of the proleptic Gregorian calendar with a year in
/// 0..=9999, if the date exists (Howard Hinnant's `days_from_civil`: 5.3 ns a date against
/// 11.3 ns with chrono's `NaiveDate`, which the tests check it against).
fn days_from_civil(y: u32, m: u32, d: u32) -> Option<i32> {
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let month_days = match m {
        2 => 28 + u32::from(leap),
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return None,
    };
    if d == 0 || d > month_days || y > 9999 {
        return None;
    }
    // Years start in March, so that the leap day ends them; eras are 400 years.
    let y = i64::from(y) - i64::from(m <= 2);
    let (era, year_of_era) = (y.div_euclid(400), y.rem_euclid(400));
    let day_of_year = i64::from((153 * ((m + 9) % 12) + 2) / 5 + d - 1);
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    i32::try_from(era * 146_097 + day_of_era - 719_468).ok()
}

/// The UTC offset written after a timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Offset {
    None,
    Z,
    /// Seconds east of UTC.
    Fixed(i32),
}

/// `Z`, `±HH:MM` or `±HHMM` at the start of `v`, with the number of bytes it takes.
fn parse_offset(v: &[u8]) -> Option<(Offset, usize)> {
    let sign = match v.first()? {
        b'Z' | b'z' => return Some((Offset::Z, 1)),
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (h, m, len) = match v.get(3) {
        Some(b':') => (digits(v.get(1..3)?)?, digits(v.get(4..6)?)?, 6),
        _ => (digits(v.get(1..3)?)?, digits(v.get(3..5)?)?, 5),
    };
    if h > 23 || m > 59 {
        return None;
    }
    Some((
        Offset::Fixed(sign * i32::try_from(h * 3600 + m * 60).ok()?),
        len,
    ))
}

/// A timestamp as written: the wall-clock time as seconds since the epoch, its nanoseconds,
/// and its offset.
#[derive(Debug, PartialEq, Eq)]
struct Stamp {
    seconds: i64,
    nanos: u32,
    offset: Offset,
    date_only: bool,
}

/// `DATE[T| ]HH:MM:SS[.fraction][Z|±HH:MM]`, or a date alone (midnight, no offset).
fn parse_timestamp(v: &[u8]) -> Option<Stamp> {
    let days = i64::from(parse_date(v.get(..10)?)?);
    if v.len() == 10 {
        let seconds = days * 86_400;
        let (nanos, offset, date_only) = (0, Offset::None, true);
        return Some(Stamp {
            seconds,
            nanos,
            offset,
            date_only,
        });
    }
    let t = v.get(10..19)?;
    if !matches!(t[0], b'T' | b't' | b' ') || t[3] != b':' || t[6] != b':' {
        return None;
    }
    let (h, m, s) = (digits(&t[1..3])?, digits(&t[4..6])?, digits(&t[7..9])?);
    if h > 23 || m > 59 || s > 59 {
        return None;
    }
    let mut rest = &v[19..];
    let mut nanos = 0;
    if let [b'.', fraction @ ..] = rest {
        let n = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
        if n == 0 || n > 9 {
            return None;
        }
        nanos = digits(&fraction[..n])? * 10u32.pow(9 - u32::try_from(n).ok()?);
        rest = &fraction[n..];
    }
    let offset = match parse_offset(rest) {
        None if rest.is_empty() => Offset::None,
        Some((offset, len)) if len == rest.len() => offset,
        _ => return None,
    };
    let seconds = days * 86_400 + i64::from(h * 3600 + m * 60 + s);
    Some(Stamp {
        seconds,
        nanos,
        offset,
        date_only: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn infer(values: &[&str]) -> ColumnType {
        let mut g = Guess::default();
        values.iter().for_each(|v| g.observe(v.as_bytes()));
        g.column_type(TimeUnit::Microsecond)
    }

    fn ts(zone: Option<&str>) -> ColumnType {
        ColumnType::Timestamp {
            unit: TimeUnit::Microsecond,
            zone: zone.map(str::to_owned),
        }
    }

    #[test]
    fn inference_picks_the_narrowest_type() {
        assert_eq!(infer(&["true", "False", "TRUE"]), ColumnType::Bool);
        assert_eq!(infer(&["1", "-2", "+3"]), ColumnType::Primitive(Dtype::I64));
        assert_eq!(
            infer(&["1", "2.5", "1e3"]),
            ColumnType::Primitive(Dtype::F64)
        );
        assert_eq!(
            infer(&["99999999999999999999"]),
            ColumnType::Primitive(Dtype::F64)
        );
        assert_eq!(infer(&["2012-01-01", "2012/01/02"]), ColumnType::Date);
        assert_eq!(infer(&["2012-01-01", "2012-01-01 10:00:00"]), ts(None));
        assert_eq!(infer(&["2012-01-01T10:00:00Z"]), ts(Some("UTC")));
        assert_eq!(infer(&["2012-01-01T10:00:00+02:00"]), ts(Some("+02:00")));
        assert_eq!(infer(&["2012-01-01T10:00:00-0530"]), ts(Some("-05:30")));
        let mixed = ["2012-01-01T10:00:00+02:00", "2012-01-01T10:00:00Z"];
        assert_eq!(infer(&mixed), ts(Some("UTC")));
        let naive_and_zoned = ["2012-01-01T10:00:00", "2012-01-01T10:00:00Z"];
        assert_eq!(infer(&naive_and_zoned), ColumnType::Utf8);
        assert_eq!(infer(&["1", "true"]), ColumnType::Utf8);
        assert_eq!(infer(&["1", "2012-01-01"]), ColumnType::Utf8);
        assert_eq!(infer(&["abc"]), ColumnType::Utf8);
        assert_eq!(infer(&[]), ColumnType::Utf8);
    }

    #[test]
    fn integers_parse_at_the_edges() {
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"-"), None);
        assert_eq!(parse_i64(b"1.0"), None);
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"-1"), None);
    }

    #[test]
    fn dates_and_timestamps_count_from_the_epoch() {
        assert_eq!(parse_date(b"1970-01-01"), Some(0));
        assert_eq!(parse_date(b"2012/01/01"), Some(15340));
        assert_eq!(parse_date(b"1969-12-31"), Some(-1));
        assert_eq!(parse_date(b"2012-02-30"), None);
        assert_eq!(parse_date(b"2012-01/01"), None);
        let s = parse_timestamp(b"2012-01-01T10:20:30.5+02:00").unwrap();
        assert_eq!(s.seconds, 15340 * 86_400 + 10 * 3600 + 20 * 60 + 30);
        assert_eq!((s.nanos, s.offset), (500_000_000, Offset::Fixed(7200)));
        assert_eq!(
            parse_timestamp(b"2012-01-01 10:20:30.123456789")
                .unwrap()
                .nanos,
            123_456_789
        );
        assert!(parse_timestamp(b"2012-01-01 10:20:30.1234567890").is_none());
        assert!(parse_timestamp(b"2012-01-01 24:00:00").is_none());
        assert!(parse_timestamp(b"2012-01-01 10:20").is_none());
        assert!(parse_timestamp(b"2012-01-01 10:20:30+2").is_none());

        let p = |zone: Option<&str>, unit| {
            Parser::new(&ColumnType::Timestamp {
                unit,
                zone: zone.map(str::to_owned),
            })
            .unwrap()
        };
        let int = |c: Result<Cell, Misfit>| match c {
            Ok(Cell::Int(x)) => Some(x),
            _ => None,
        };
        let us = TimeUnit::Microsecond;
        assert_eq!(
            int(p(Some("UTC"), us).parse(b"1970-01-01T01:00:00+01:00")),
            Some(0)
        );
        assert_eq!(
            int(p(None, us).parse(b"1970-01-01 00:00:01.5")),
            Some(1_500_000)
        );
        assert_eq!(int(p(None, us).parse(b"1970-01-01T00:00:00Z")), None);
        assert_eq!(
            int(p(Some("UTC"), us).parse(b"1970-01-01 00:00:00")),
            Some(0)
        );
        assert_eq!(
            int(p(Some("+01:00"), us).parse(b"1970-01-01 01:00:00")),
            Some(0)
        );
        let paris = p(Some("Europe/Paris"), TimeUnit::Second);
        assert_eq!(
            int(paris.parse(b"2024-07-01 12:00:00")),
            Some(1_719_828_000)
        );
        assert_eq!(
            int(paris.parse(b"2024-03-31 02:30:00")),
            None,
            "skipped by DST"
        );
        let s = TimeUnit::Second;
        assert_eq!(
            int(p(None, s).parse(b"1970-01-01 00:00:01.5")),
            None,
            "too precise"
        );
        let ns = TimeUnit::Nanosecond;
        assert_eq!(
            int(p(None, ns).parse(b"2300-01-01 00:00:00")),
            None,
            "out of range"
        );
    }

    #[test]
    fn quotes_are_checked_as_rfc_4180_wants() {
        let check = |raw: &[u8]| check_quotes(raw, b',', b'"', false);
        assert_eq!(check(b"a,\"b,\"\"c\"\"\",d\n"), Ok(()));
        assert_eq!(check(b"a,5'11\",d\r"), Ok(()));
        assert_eq!(check(b"\"x\"y,b\n").unwrap_err().0, 0);
        assert_eq!(check(b"a,\"b\ncc,d\n").unwrap_err().0, 1);
        assert_eq!(check(b"a,\"b\""), Ok(()));
        assert_eq!(check(b"\"a\"\"\"\r"), Ok(()));
        assert_eq!(check(b"x\"y,\"ok\",c,\"bad\"z\n").unwrap_err().0, 3);
        assert_eq!(check_quotes(b"\"x\" ,b", b',', b'"', true), Ok(()));
        assert_eq!(
            check_quotes(b"a;\"x\" y;b", b';', b'"', true)
                .unwrap_err()
                .0,
            1
        );
    }

    #[test]
    fn days_from_civil_agrees_with_chrono() {
        let epoch = NaiveDate::default();
        for y in (0..=9999).step_by(7).chain(1890..2110) {
            for (m, d) in [
                (1, 1),
                (2, 28),
                (2, 29),
                (2, 30),
                (3, 1),
                (6, 31),
                (12, 31),
                (13, 1),
            ] {
                let expected = NaiveDate::from_ymd_opt(y, m, d)
                    .map(|date| date.signed_duration_since(epoch).num_days() as i32);
                assert_eq!(days_from_civil(y as u32, m, d), expected, "{y}-{m}-{d}");
            }
        }
    }

    #[test]
    fn find_finds_the_first_byte() {
        let v: Vec<u8> = (0..40).map(|i| i % 7).collect();
        for len in 0..v.len() {
            for byte in 0..8 {
                let expected = v[..len].iter().position(|&b| b == byte);
                assert_eq!(find(&v[..len], byte), expected, "{len} {byte}");
            }
        }
        assert_eq!(find(b"\x01\x00\x00\x00\x00\x00\x00\x22", b'"'), Some(7));
        assert_eq!(find(b"\x00\x01\x01\x01\x01\x01\x01\x01\x01", 1), Some(1));
    }

    #[test]
    fn offsets_format_as_zones() {
        assert_eq!(format_offset(3600), "+01:00");
        assert_eq!(format_offset(-(5 * 3600 + 30 * 60)), "-05:30");
        assert_eq!(format_offset(0), "+00:00");
    }
}
