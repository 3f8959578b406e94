//! `brine export`: an array entry to `.npy` or `.safetensors`, a frame entry to `.csv` or
//! Arrow IPC (`.arrow`, `.feather`).
//!
//! The output is written to a temporary file in the target's folder and renamed over the
//! target once complete, so a failed export leaves no partial file. Array data is streamed in
//! pieces: from the mapping for raw entries (and its checksum checked on the way), and chunk
//! by chunk for compressed ones (see [`for_each_piece`]). A frame is read in place (a
//! compressed column is decoded whole on first access) and written in batches of
//! [`BATCH_ROWS`] rows.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use brine::format::checksum::Hasher;
use brine::{AccessPattern, Element, Kind, Reader};
use tempfile::NamedTempFile;

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
                     from an empty string: use .arrow to keep the difference)";

/// Write an entry of a brine file as .npy, .safetensors (arrays), .csv or .arrow (frames).
#[derive(clap::Args, Debug)]
#[command(after_long_help = AFTER_HELP)]
pub struct Args {
    /// The brine file.
    file: PathBuf,
    /// The entry to export.
    entry: String,
    /// The file to write (.npy, .safetensors, .csv, .arrow or .feather; replaced atomically
    /// if it exists).
    #[arg(short, long, value_name = "OUT")]
    output: PathBuf,
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
    let wrong = |what: &str| {
        Err(usage(
            &args.output,
            format_args!("entry {:?} is {what}", args.entry),
        ))
    };
    match (kind, format) {
        (Kind::Array, Format::Npy | Format::Safetensors) => {
            export_array(args, reader, format == Format::Safetensors)
        }
        (Kind::Frame, Format::Csv) => export_csv(args, &reader),
        (Kind::Frame, Format::Arrow) => export_arrow(args, reader),
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
    tmp: BufWriter<NamedTempFile>,
}

impl Output {
    fn create(path: &Path) -> Result<Output> {
        let folder = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let mut builder = tempfile::Builder::new();
        builder.prefix(".brine-export-");
        // Like any new file (the umask applies), not the 0600 of temporary files.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        let tmp = builder
            .tempfile_in(folder)
            .map_err(|e| io(path, "create temporary file", e))?;
        Ok(Output {
            path: path.to_owned(),
            tmp: BufWriter::with_capacity(1 << 20, tmp),
        })
    }

    fn error(&self, e: impl Into<std::io::Error>) -> CliError {
        io(&self.path, "write", e.into())
    }

    /// Flushes, syncs and renames the file over its target.
    fn commit(self) -> Result<()> {
        let path = self.path;
        let tmp = self
            .tmp
            .into_inner()
            .map_err(|e| io(&path, "write", e.into_error()))?;
        tmp.as_file().sync_all().map_err(|e| io(&path, "sync", e))?;
        tmp.persist(&path)
            .map_err(|e| io(&path, "rename", e.error))?;
        Ok(())
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

fn export_array(args: &Args, mut reader: Reader, safetensors: bool) -> Result<()> {
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
    let mut out = Output::create(&args.output)?;
    out.write_all(&header).map_err(|e| out.error(e))?;
    let mut progress = Progress::new("export", raw_len);
    for_each_piece(&args.file, &mut reader, &args.entry, |piece| {
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

fn export_csv(args: &Args, reader: &Reader) -> Result<()> {
    let frame = reader.frame(&args.entry)?;
    let columns: Vec<_> = frame.iter().collect();
    let cells = columns
        .iter()
        .map(|c| cells(c, Style::Csv))
        .collect::<Result<Vec<_>>>()?;
    let out = Output::create(&args.output)?;
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
            progress.inc(BATCH_ROWS as u64);
        }
    }
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

fn export_arrow(args: &Args, reader: Reader) -> Result<()> {
    let reader = Arc::new(reader);
    let batch = brine::frame::arrow::record_batch(&reader, &args.entry)?;
    let out = Output::create(&args.output)?;
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
        if offset == batch.num_rows() {
            break;
        }
    }
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
/// A raw entry's checksum is computed on the way and compared with the stored one; bool
/// elements are checked to be 0 or 1.
pub fn for_each_piece(
    path: &Path,
    reader: &mut Reader,
    name: &str,
    mut f: impl FnMut(&[u8]) -> Result<()>,
) -> Result<()> {
    let dtype = reader.array_entry(name)?.dtype();
    with_element!(dtype, T => pieces::<T>(path, reader, name, &mut f))
}

fn pieces<T: Element>(
    path: &Path,
    reader: &mut Reader,
    name: &str,
    f: &mut dyn FnMut(&[u8]) -> Result<()>,
) -> Result<()> {
    let entry = reader.array_entry(name)?;
    let (len, checksum, offset) = (entry.len(), entry.checksum(), entry.offset());
    let mut hasher = (!entry.is_compressed()).then(Hasher::new);
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
    if let Some(h) = hasher {
        let got = h.digest();
        if got != checksum {
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
