//! `brine export`: an array entry to `.npy` or `.safetensors`, a frame entry to `.csv` or
//! Arrow IPC (`.arrow`, `.feather`).
//!
//! The output is a [`brine::AtomicFile`], as every file brine writes: checked before anything
//! is read (a folder, a missing folder), written to a temporary file in the target's folder
//! that dead writers' cleanup knows, and renamed over the target once complete, so a failed or
//! killed export leaves no partial file. Array data is streamed in pieces: from the mapping for
//! raw entries, and chunk by chunk for compressed ones (see [`for_each_piece`]). A frame is
//! read in place (a compressed column is decoded whole on first access) and written in batches
//! of [`BATCH_ROWS`] rows.
//!
//! Everything exported is checked as `brine verify` checks it, in the same pass: the checksum
//! of every section the entry owns is computed over the bytes as they are copied (a raw
//! section's bytes, batch by batch; each chunk's decoded checksum as it is decoded, then a
//! compressed section's stored bytes), and a mismatch fails the export with
//! verify's error ([`Checks`]); `--no-verify` skips the section checksums.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use brine::format::checksum::Hasher;
use brine::frame::{ColumnType, FrameView};
use brine::{AccessPattern, AtomicFile, Element, Kind, Reader, SectionCheck};

use crate::cells::{Style, cells};
use crate::elements::with_element;
use crate::error::{CliError, Result, data, io, usage};
use crate::import::PIECE;
use crate::progress::Progress;
use crate::{npy, safetensors};

/// Bytes read through one [`Reader`] before it is reopened (see [`for_each_piece`]).
const REOPEN_AFTER: usize = 64 << 20;

/// Rows of a frame written at a time (one Arrow record batch).
const BATCH_ROWS: usize = 64 * 1024;

const AFTER_HELP: &str = "\
Output types, chosen by the output's extension:
  .npy               an array, C order, little-endian; bf16 has no numpy dtype (export it to
                     .safetensors)
  .safetensors       an array, as one tensor named as the entry; string file metadata becomes
                     `__metadata__`
  .arrow, .feather   a frame, as an Arrow IPC file (Feather version 2), uncompressed: strings
                     as large_utf8, categoricals as dictionary<int32, large_utf8>, timestamps
                     with their unit and zone, dates as date32; lossless
  .csv               a frame, with a header row: numbers in full precision, bools as
                     true/false, dates as YYYY-MM-DD, timestamps in ISO 8601 with the zone's
                     offset, durations as integers of their unit, binary as hex, categoricals
                     as their strings; a null is an empty field (so CSV cannot tell a null
                     from an empty string: use .arrow to keep the difference)

What is checked: the file's header and manifest (as any brine command does), the content of
the entry (offsets, UTF-8, codes, null counts, as on any first access), and, as the data is
copied, the checksum of every section of the entry and of every compressed chunk, as `brine
verify` checks them: corrupt data fails the export (exit 1) with verify's message and writes
nothing. --no-verify skips the section checksums (compressed chunks are still checked when
they are decoded). Padding and other entries are not read: `brine verify` checks the whole
file.

The output is checked before anything is read: a folder, or a missing or read-only folder, is
an error at once. An output that is a symbolic link is written through: the file it points to
is replaced (atomically, in its own folder) and the link stays. A replaced file keeps its
permissions, owner and group (as far as the process may set them).";

/// Write an entry of a brine file as .npy, .safetensors (arrays), .csv or .arrow (frames).
#[derive(clap::Args, Debug)]
#[command(after_long_help = AFTER_HELP)]
pub struct Args {
    /// The brine file.
    file: PathBuf,
    /// The entry to export.
    entry: String,
    /// The file to write (.npy, .safetensors, .csv, .arrow or .feather; replaced atomically
    /// if it exists, keeping its permissions; a symbolic link is written through).
    #[arg(short, long, value_name = "OUT")]
    output: PathBuf,
    /// Do not check the checksums of the sections exported.
    #[arg(long)]
    no_verify: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Npy,
    Safetensors,
    Csv,
    Arrow,
}

pub fn run(args: &Args) -> Result<()> {
    let ext = args
        .output
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let format = match ext.as_str() {
        "npy" => Format::Npy,
        "safetensors" => Format::Safetensors,
        "csv" => Format::Csv,
        "arrow" | "feather" | "ipc" => Format::Arrow,
        _ => {
            return Err(usage(
                &args.output,
                "unknown output type (expected .npy or .safetensors for an array, .csv, .arrow \
                 or .feather for a frame)",
            ));
        }
    };
    let reader = open(&args.file)?;
    let kind = reader.entry(&args.entry)?.kind();
    // Checked, and created, before a byte of the entry is read.
    let out = || Output::create(&args.output);
    let wrong = |what: &str| {
        Err(usage(
            &args.output,
            format_args!("entry {:?} is {what}", args.entry),
        ))
    };
    match (kind, format) {
        (Kind::Array, Format::Npy | Format::Safetensors) => {
            export_array(args, out()?, reader, format == Format::Safetensors)
        }
        (Kind::Frame, Format::Csv) => export_csv(args, out()?, &reader),
        (Kind::Frame, Format::Arrow) => export_arrow(args, out()?, reader),
        (Kind::Array, _) => wrong("an array: export arrays to .npy or .safetensors"),
        (Kind::Frame, _) => wrong("a frame: export frames to .csv, .arrow or .feather"),
        (Kind::Model, _) => wrong(
            "a model, which only a program with its Rust type can read (`brine schema` prints \
             its schema)",
        ),
        (other, _) => wrong(&format!("of kind {other:?}, which cannot be exported")),
    }
}

/// A file written beside its target and renamed over it once complete.
struct Output {
    path: PathBuf,
    tmp: BufWriter<AtomicFile>,
}

impl Output {
    fn create(path: &Path) -> Result<Output> {
        Ok(Output {
            path: path.to_owned(),
            tmp: BufWriter::with_capacity(1 << 20, AtomicFile::create(path)?),
        })
    }

    fn error(&self, e: impl Into<std::io::Error>) -> CliError {
        io(&self.path, "write", e.into())
    }

    /// Flushes, syncs and renames the file over its target.
    fn commit(self) -> Result<()> {
        let file = self
            .tmp
            .into_inner()
            .map_err(|e| io(&self.path, "write", e.into_error()))?;
        Ok(file.commit()?)
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.tmp.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.tmp.flush()
    }
}

/// How far the rows exported so far reach into a raw section of a column.
#[derive(Clone, Copy)]
enum Reach<'r> {
    /// A bitmap: a byte per 8 rows.
    Bits,
    /// Fixed-size values of this many bytes.
    Fixed(u64),
    /// `rows + 1` offsets of 8 bytes.
    Offsets,
    /// The bytes that these offsets delimit.
    Bytes(&'r [i64]),
    /// All of it, at the end (a dictionary, read at random by the codes).
    End,
}

impl Reach<'_> {
    fn bytes(self, rows: usize) -> u64 {
        let rows = rows as u64;
        match self {
            Reach::Bits => rows / 8,
            Reach::Fixed(size) => rows * size,
            Reach::Offsets => (rows + 1) * 8,
            Reach::Bytes(offsets) => offsets
                .get(rows as usize)
                .map_or(0, |&o| u64::try_from(o).unwrap_or(0)),
            Reach::End => 0,
        }
    }
}

/// The checksums of a frame's sections, computed over the bytes as the export reads them
/// (rule V2, as `brine verify` checks it). Compressed sections, whose chunks are checked as
/// they are decoded, have their stored bytes hashed at the end.
struct Checks<'r> {
    raw: Vec<(SectionCheck<'r>, Reach<'r>)>,
}

impl<'r> Checks<'r> {
    /// The checks of every section of `frame` (none with `--no-verify`).
    fn new(reader: &'r Reader, frame: &FrameView<'r>, verify: bool) -> Result<Checks<'r>> {
        let mut raw = Vec::new();
        if !verify {
            return Ok(Checks { raw });
        }
        for c in frame.iter() {
            let ty = c.ty();
            for (slot, info) in c.sections() {
                let check = reader.section_check(&info);
                let reach = match (slot, &ty) {
                    // Stored bytes that decoding reads (checking each chunk): hashed at the
                    // end, so that a chunk that does not decode is reported as verify does.
                    _ if info.codec != "raw" => Reach::End,
                    ("validity", _) | ("values", ColumnType::Bool) => Reach::Bits,
                    ("offsets", _) => Reach::Offsets,
                    ("values", ColumnType::Utf8) => Reach::Bytes(c.strings()?.offsets()),
                    ("values", ColumnType::Binary) => Reach::Bytes(c.binary()?.offsets),
                    ("values", _) => Reach::Fixed(c.physical().size() as u64),
                    _ => Reach::End,
                };
                raw.push((check, reach));
            }
        }
        Ok(Checks { raw })
    }

    /// Hashes what the first `rows` rows reach.
    fn advance(&mut self, rows: usize) {
        for (check, reach) in &mut self.raw {
            check.advance_to(reach.bytes(rows));
        }
    }

    /// Hashes the rest of every section and compares.
    fn finish(self) -> Result<()> {
        for (check, _) in self.raw {
            check.finish()?;
        }
        Ok(())
    }
}

fn export_array(args: &Args, mut out: Output, mut reader: Reader, safetensors: bool) -> Result<()> {
    let entry = reader.array_entry(&args.entry)?;
    let (dtype, shape, raw_len) = (entry.dtype(), entry.shape().to_vec(), entry.raw_len());
    let header = if safetensors {
        let metadata: Vec<(String, String)> = reader
            .metadata()
            .iter()
            .filter_map(|(k, v)| match v {
                brine::MetaRef::Str(s) => Some((k.to_owned(), s.to_owned())),
                _ => None,
            })
            .collect();
        safetensors::encode_header(&args.entry, dtype, &shape, raw_len, &metadata)
    } else {
        let descr = npy::descr(dtype).ok_or_else(|| {
            usage(
                &args.output,
                format_args!(
                    "entry {:?} is {dtype}, which numpy has no dtype for; export it to .safetensors",
                    args.entry
                ),
            )
        })?;
        npy::encode_header(descr, &shape)
    };
    out.write_all(&header).map_err(|e| out.error(e))?;
    let mut progress = Progress::new("export", raw_len);
    let verify = !args.no_verify;
    for_each_piece(&args.file, &mut reader, &args.entry, verify, |piece| {
        progress.inc(piece.len() as u64);
        out.write_all(piece).map_err(|e| out.error(e))
    })?;
    out.commit()?;
    drop(progress);
    crate::print(&format!(
        "wrote {} ({dtype} {shape:?}, {raw_len} bytes of data)\n",
        args.output.display()
    ))
}

fn export_csv(args: &Args, out: Output, reader: &Reader) -> Result<()> {
    let frame = reader.frame(&args.entry)?;
    let mut checks = Checks::new(reader, &frame, !args.no_verify)?;
    let columns: Vec<_> = frame.iter().collect();
    let cells = columns
        .iter()
        .map(|c| cells(c, Style::Csv))
        .collect::<Result<Vec<_>>>()?;
    let mut csv = csv::Writer::from_writer(out);
    let csv_error = |e: csv::Error| io(&args.output, "write", e.into());
    csv.write_record(columns.iter().map(|c| c.name()))
        .map_err(csv_error)?;
    let mut progress = Progress::rows("export", frame.rows() as u64);
    let mut text = String::new();
    for row in 0..frame.rows() {
        for cell in &cells {
            text.clear();
            cell(row, &mut text);
            csv.write_field(&text).map_err(csv_error)?;
        }
        csv.write_record(None::<&[u8]>).map_err(csv_error)?;
        if row % BATCH_ROWS == BATCH_ROWS - 1 {
            checks.advance(row + 1);
            progress.inc(BATCH_ROWS as u64);
        }
    }
    checks.finish()?;
    let out = csv
        .into_inner()
        .map_err(|e| io(&args.output, "write", e.into_error()))?;
    out.commit()?;
    drop(progress);
    crate::print(&format!(
        "wrote {} ({} rows x {} columns)\n",
        args.output.display(),
        frame.rows(),
        frame.width()
    ))
}

fn export_arrow(args: &Args, out: Output, reader: Reader) -> Result<()> {
    let reader = Arc::new(reader);
    let frame = reader.frame(&args.entry)?;
    let mut checks = Checks::new(&reader, &frame, !args.no_verify)?;
    let batch = brine::frame::arrow::record_batch(&reader, &args.entry)?;
    let arrow_error = |e: arrow_schema::ArrowError| data(&args.output, format_args!("{e}"));
    let mut w =
        arrow_ipc::writer::FileWriter::try_new(out, &batch.schema()).map_err(arrow_error)?;
    let mut progress = Progress::rows("export", batch.num_rows() as u64);
    let mut offset = 0;
    // An empty frame still gets one (empty) batch, so that readers see its schema in use.
    loop {
        let len = BATCH_ROWS.min(batch.num_rows() - offset);
        w.write(&batch.slice(offset, len)).map_err(arrow_error)?;
        progress.inc(len as u64);
        offset += len;
        checks.advance(offset);
        if offset == batch.num_rows() {
            break;
        }
    }
    checks.finish()?;
    w.finish().map_err(arrow_error)?;
    w.into_inner().map_err(arrow_error)?.commit()?;
    drop(progress);
    crate::print(&format!(
        "wrote {} ({} rows x {} columns)\n",
        args.output.display(),
        batch.num_rows(),
        batch.num_columns()
    ))
}

/// Opens a brine file for streaming: no limit on decompressed bytes, since
/// [`for_each_piece`] bounds them itself.
pub fn open(path: &Path) -> Result<Reader> {
    Ok(Reader::options()
        .max_decompressed_bytes(u64::MAX)
        .open(path)?)
}

/// Calls `f` with the decoded, little-endian, C-order bytes of array `name`, in pieces of at
/// most [`PIECE`] bytes, with memory bounded whatever the array's size: raw entries are read
/// from the mapping, compressed ones decoded a few chunks at a time (the reader checks each
/// chunk's checksum). The reader keeps what it touched (mapped pages, decoded chunks), so it
/// is reopened every [`REOPEN_AFTER`] bytes: opening costs O(manifest), and dropping the old
/// reader unmaps its pages and frees its decoded chunks.
///
/// With `verify`, the entry's section checksum is checked as `brine verify` checks it: a raw
/// section's over the pieces on the way, a compressed one's over its stored bytes first (its
/// chunks' checksums are checked as they are decoded, whatever `verify`). Bool elements are
/// checked to be 0 or 1.
pub fn for_each_piece(
    path: &Path,
    reader: &mut Reader,
    name: &str,
    verify: bool,
    mut f: impl FnMut(&[u8]) -> Result<()>,
) -> Result<()> {
    let dtype = reader.array_entry(name)?.dtype();
    with_element!(dtype, T => pieces::<T>(path, reader, name, verify, &mut f))
}

fn pieces<T: Element>(
    path: &Path,
    reader: &mut Reader,
    name: &str,
    verify: bool,
    f: &mut dyn FnMut(&[u8]) -> Result<()>,
) -> Result<()> {
    let entry = reader.array_entry(name)?;
    let (len, checksum, offset) = (entry.len(), entry.checksum(), entry.offset());
    let compressed = entry.is_compressed();
    // A raw section's stored bytes are the pieces: hashed as they go by. (The reader is
    // reopened on the way, so the running hash is kept here, not in a `SectionCheck`.)
    let mut hasher = (verify && !compressed).then(Hasher::new);
    let size = T::DTYPE.size();
    let per_piece = (PIECE / size).max(1);
    let per_open = (REOPEN_AFTER / size).max(1);
    let mut start = 0;
    while start < len {
        let stop = len.min(start + per_open);
        {
            let entry = reader.array_entry(name)?;
            if entry.checksum() != checksum || entry.offset() != offset {
                return Err(CliError::Data(format!(
                    "{}: the file was replaced while it was read",
                    path.display()
                )));
            }
            // Advice only: a refusal changes nothing but speed.
            let _ = entry.advise(AccessPattern::Sequential);
            let mut i = start;
            while i < stop {
                let j = stop.min(i + per_piece);
                let piece = T::as_bytes(entry.range::<T>(i..j)?);
                if let Some(h) = &mut hasher {
                    h.update(piece);
                }
                f(piece)?;
                i = j;
            }
        }
        start = stop;
        if start < len {
            *reader = open(path)?;
        }
    }
    if verify && compressed {
        // Its chunks were checked as they were decoded; now its stored bytes.
        reader
            .section_check(&reader.array_entry(name)?.section())
            .finish()?;
    }
    if let Some(h) = hasher {
        let got = h.digest();
        if got != checksum {
            // Only on failure, the section is read again, for the error `brine verify` gives.
            reader
                .section_check(&reader.array_entry(name)?.section())
                .finish()?;
            return Err(data(
                path,
                format_args!(
                    "checksum mismatch in entry {name:?}: stored {checksum:#018x}, computed {got:#018x}"
                ),
            ));
        }
    }
    Ok(())
}
