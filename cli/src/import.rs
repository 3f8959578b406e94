//! `brine import`: `.npy`, `.npz`, `.safetensors`, `.csv` and Arrow IPC files into one brine
//! file.
//!
//! Streaming: array data goes from the input to [`brine::ArrayWriter`] in pieces of
//! [`PIECE`] bytes, so memory holds a few pieces (and, when compressing, the writer's few
//! chunks) whatever the input's size.
//!
//! Fortran-order `.npy` data is transposed into C order while it is copied (the values read
//! back identical, index for index, in C order): the input's data is mapped (a `.npz` member
//! is first decompressed to a temporary file, then mapped) and gathered element by element.
//!
//! A CSV file is parsed in batches ([`brine::frame::csv::import`]), an Arrow IPC file read one
//! record batch at a time: a frame's memory is bounded by a batch.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use brine::frame::csv::{CsvOptions, OnError};
use brine::frame::{ColumnType, FrameOptions, TimeUnit};
use brine::{Codec, Element, EntryOptions, Writer};

use crate::elements::with_element;
use crate::error::{CliError, Result, data, io, usage};
use crate::progress::Progress;
use crate::{npy, safetensors};

/// Bytes moved at a time from an input to the writer.
pub const PIECE: usize = 4 << 20;

const AFTER_HELP: &str = "\
Inputs and entry names:
  .npy          one array; entry named after the file's stem
  .npz          one array per member (np.savez and np.savez_compressed); entry named after the
                member without `.npy`
  .safetensors  one array per tensor, named as the tensor; `__metadata__` strings become file
                metadata
  .csv          one frame (types inferred from a sample, see CSV options); entry named after
                the file's stem
  .arrow, .feather, .arrows
                one frame from an Arrow IPC file (Feather version 2, as pandas' to_feather and
                pyarrow write; lz4 or zstd compressed or not) or stream; entry named after the
                file's stem. Dictionary-encoded strings become categoricals; Arrow types brine
                does not store (lists, structs, decimals, times) are refused
--name renames the entry when the inputs hold exactly one.

CSV inference: each column is the first of bool (true/false), i64, f64, date (YYYY-MM-DD or
YYYY/MM/DD), timestamp (ISO 8601, with Z or an offset: zoned UTC) and utf8 that every value of
the first --sample-rows rows fits. --type NAME=TYPE fixes a column's type, one of bool, i8..i64,
u8..u64, f16, f32, f64, utf8, binary, date, categorical, timestamp[UNIT], timestamp[UNIT, ZONE]
and duration[UNIT] (UNIT: s, ms, us or ns), e.g. --type 'when=timestamp[ms, Europe/Paris]'.

Arrays of every dtype brine has are read: bool, i8..i64, u8..u64, f16, f32, f64 (and bf16 from
.safetensors), in either byte order (swapped to little-endian) and in C or Fortran order
(transposed into C order: the values read back identical in C order). Object (pickled) and
structured dtypes are refused.";

/// Convert .npy, .npz, .safetensors, .csv and Arrow IPC files into one brine file.
#[derive(clap::Args, Debug)]
#[command(after_long_help = AFTER_HELP)]
pub struct Args {
    /// Input files (.npy, .npz, .safetensors, .csv, .arrow, .feather).
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// The brine file to write (replaced atomically if it exists, keeping its permissions,
    /// owner and group; a symbolic link is written through to the file it points to).
    #[arg(short, long, value_name = "OUT.brine")]
    output: PathBuf,
    /// Compress entries with zstd, at LEVEL 1 to 22 (default 3).
    #[arg(long, value_name = "zstd[:LEVEL]", value_parser = parse_compress)]
    compress: Option<i32>,
    /// Byte-shuffle elements before compressing (better ratios on numeric data).
    #[arg(long, requires = "compress")]
    shuffle: bool,
    /// Name of the entry, when the inputs hold exactly one.
    #[arg(long)]
    name: Option<String>,
    /// Alignment of large sections: a power of two from 64 to 2097152 (default 4096).
    #[arg(long, value_name = "BYTES", value_parser = parse_align)]
    align: Option<u32>,
    #[command(flatten)]
    csv: CsvArgs,
}

/// How .csv inputs are read.
#[derive(clap::Args, Debug)]
#[command(next_help_heading = "CSV options (for .csv inputs)")]
struct CsvArgs {
    /// The first row is data, not column names (columns are named column_1, column_2...).
    #[arg(long)]
    no_header: bool,
    /// Field delimiter: one ASCII character, or `tab`.
    #[arg(long, value_name = "CHAR", value_parser = parse_byte)]
    delimiter: Option<u8>,
    /// Quote character: one ASCII character.
    #[arg(long, value_name = "CHAR", value_parser = parse_byte)]
    quote: Option<u8>,
    /// A field that means null; repeat for several. Replaces the defaults: the empty field,
    /// NA, N/A, NaN, null and NULL.
    #[arg(long = "null", value_name = "TOKEN")]
    nulls: Vec<String>,
    /// Fix the type of column NAME instead of inferring it; repeat for several columns.
    #[arg(long = "type", value_name = "NAME=TYPE", value_parser = parse_column_type)]
    types: Vec<(String, ColumnType)>,
    /// Unit of inferred timestamps.
    #[arg(long, value_name = "UNIT", value_parser = parse_time_unit)]
    time_unit: Option<TimeUnit>,
    /// Rows read to infer column types.
    #[arg(long, value_name = "N")]
    sample_rows: Option<usize>,
    /// Skip malformed rows (counted and reported) instead of failing on the first.
    #[arg(long)]
    skip_bad_rows: bool,
    /// Trim spaces around fields.
    #[arg(long)]
    trim: bool,
}

impl CsvArgs {
    fn options(&self) -> CsvOptions {
        let mut o = CsvOptions::new()
            .has_header(!self.no_header)
            .trim(self.trim);
        if let Some(d) = self.delimiter {
            o = o.delimiter(d);
        }
        if let Some(q) = self.quote {
            o = o.quote(q);
        }
        if !self.nulls.is_empty() {
            o = o.null_tokens(self.nulls.iter().cloned());
        }
        for (name, ty) in &self.types {
            o = o.column_type(name.clone(), ty.clone());
        }
        if let Some(u) = self.time_unit {
            o = o.time_unit(u);
        }
        if let Some(n) = self.sample_rows {
            o = o.sample_rows(n);
        }
        if self.skip_bad_rows {
            o = o.on_error(OnError::Skip);
        }
        o
    }

    /// Whether any CSV option was given.
    fn any(&self) -> bool {
        self.no_header
            || self.delimiter.is_some()
            || self.quote.is_some()
            || !self.nulls.is_empty()
            || !self.types.is_empty()
            || self.time_unit.is_some()
            || self.sample_rows.is_some()
            || self.skip_bad_rows
            || self.trim
    }
}

fn parse_byte(s: &str) -> Result<u8, String> {
    match s {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        _ if s.len() == 1 && s.is_ascii() => Ok(s.as_bytes()[0]),
        _ => Err(format!("{s:?} is not one ASCII character (or `tab`)")),
    }
}

fn parse_column_type(s: &str) -> Result<(String, ColumnType), String> {
    let (name, ty) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?} is not NAME=TYPE"))?;
    let ty = ty.trim().parse::<ColumnType>().map_err(|e| e.to_string())?;
    Ok((name.to_owned(), ty))
}

fn parse_time_unit(s: &str) -> Result<TimeUnit, String> {
    s.parse::<TimeUnit>().map_err(|e| e.to_string())
}

fn parse_compress(s: &str) -> Result<i32, String> {
    let level = match s.split_once(':') {
        None if s == "zstd" => return Ok(3),
        Some(("zstd", level)) => level
            .parse::<i32>()
            .map_err(|_| format!("level {level:?} is not an integer"))?,
        _ => return Err(format!("{s:?} is not zstd or zstd:LEVEL")),
    };
    if !(1..=22).contains(&level) {
        return Err(format!("zstd level {level} is not from 1 to 22"));
    }
    Ok(level)
}

fn parse_align(s: &str) -> Result<u32, String> {
    let n: u32 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of bytes"))?;
    if !n.is_power_of_two() || !(64..=2 << 20).contains(&n) {
        return Err(format!("{n} is not a power of two from 64 to 2097152"));
    }
    Ok(n)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Npy,
    Npz,
    Safetensors,
    Csv,
    Arrow,
}

fn format_of(path: &Path) -> Result<Format> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    Ok(match ext.as_str() {
        "npy" => Format::Npy,
        "npz" => Format::Npz,
        "safetensors" => Format::Safetensors,
        "csv" => Format::Csv,
        "arrow" | "feather" | "ipc" | "arrows" => Format::Arrow,
        _ => {
            return Err(usage(
                path,
                "unknown input type (expected .npy, .npz, .safetensors, .csv, .arrow or .feather)",
            ));
        }
    })
}

/// Everything an input needs from the command line.
struct Ctx {
    options: EntryOptions,
    codec: Codec,
    /// The entry name given with --name.
    name: Option<String>,
    /// Names of entries written, with a description, for the summary.
    written: Vec<String>,
    progress: Progress,
    csv: CsvOptions,
}

impl Ctx {
    /// The name of an entry: --name if given (for the only entry), else `default`.
    fn name(&self, default: &str, input: &Path) -> Result<String> {
        match &self.name {
            None => Ok(default.to_owned()),
            Some(n) if self.written.is_empty() => Ok(n.clone()),
            Some(_) => Err(usage(
                input,
                "holds more than one entry; --name only names a single entry",
            )),
        }
    }
}

pub fn run(args: &Args) -> Result<()> {
    let formats = args
        .inputs
        .iter()
        .map(|p| format_of(p))
        .collect::<Result<Vec<_>>>()?;
    if args.csv.any() && !formats.contains(&Format::Csv) {
        return Err(CliError::Usage(
            "CSV options were given, but no input is a .csv file".to_owned(),
        ));
    }
    if args.name.is_some() && args.inputs.len() > 1 {
        return Err(CliError::Usage(
            "--name names the entry of a single input; it cannot be used with several inputs"
                .to_owned(),
        ));
    }
    let mut total = 0;
    for path in &args.inputs {
        total += std::fs::metadata(path)
            .map_err(|e| io(path, "open", e))?
            .len();
    }
    let codec = match args.compress {
        None => Codec::Raw,
        Some(level) => Codec::Zstd {
            level,
            shuffle: args.shuffle,
        },
    };
    let mut ctx = Ctx {
        options: EntryOptions::new().codec(codec),
        codec,
        name: args.name.clone(),
        written: Vec::new(),
        progress: Progress::new("import", total),
        csv: args.csv.options(),
    };
    let mut options = Writer::options();
    if let Some(a) = args.align {
        options = options.alignment(a);
    }
    let mut w = options.create(&args.output)?;
    for (path, format) in args.inputs.iter().zip(formats) {
        ctx.progress.message(path.display().to_string());
        match format {
            Format::Npy => import_npy(&mut w, &mut ctx, path)?,
            Format::Npz => import_npz(&mut w, &mut ctx, path)?,
            Format::Safetensors => import_safetensors(&mut w, &mut ctx, path)?,
            Format::Csv => import_csv(&mut w, &mut ctx, path)?,
            Format::Arrow => import_arrow(&mut w, &mut ctx, path)?,
        }
    }
    ctx.progress.message("finishing");
    w.finish()?;
    drop(ctx.progress);
    let mut out = String::new();
    for line in &ctx.written {
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(&format!(
        "wrote {} ({} entries)\n",
        args.output.display(),
        ctx.written.len()
    ));
    crate::print(&out)
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn open(path: &Path) -> Result<(File, u64)> {
    let file = File::open(path).map_err(|e| io(path, "open", e))?;
    let len = file.metadata().map_err(|e| io(path, "stat", e))?.len();
    Ok((file, len))
}

fn import_npy(w: &mut Writer, ctx: &mut Ctx, path: &Path) -> Result<()> {
    let (file, len) = open(path)?;
    let mut r = BufReader::new(file);
    let header = npy::read_header(&mut r).map_err(|m| data(path, m))?;
    let need = header
        .data_len()
        .ok_or_else(|| data(path, "the shape's size overflows 64 bits"))?;
    let have = len - header.data_offset.min(len);
    if have != need {
        return Err(data(
            path,
            format_args!(
                "{}: the header announces {need} bytes of data ({} x {:?}), the file has {have}",
                if have < need {
                    "truncated"
                } else {
                    "trailing bytes"
                },
                header.dtype,
                header.shape
            ),
        ));
    }
    let name = ctx.name(&stem(path), path)?;
    if header.fortran_order && header.shape.len() > 1 {
        let file = r.into_inner();
        let map = map_file(&file, path)?;
        let bytes = &map[header.data_offset as usize..];
        let mut src = FortranSource::new(bytes, &header);
        put_array(w, ctx, path, &name, &header, &mut src)
    } else {
        let mut src = ReadSource::new(r, path, header.big_endian.then_some(header.dtype.size()));
        put_array(w, ctx, path, &name, &header, &mut src)
    }
}

fn import_npz(w: &mut Writer, ctx: &mut Ctx, path: &Path) -> Result<()> {
    let (file, _) = open(path)?;
    let mut zip = zip::ZipArchive::new(BufReader::new(file))
        .map_err(|e| data(path, format_args!("not a readable .npz (zip) file: {e}")))?;
    for i in 0..zip.len() {
        let mut member = zip
            .by_index(i)
            .map_err(|e| data(path, format_args!("member {i}: {e}")))?;
        let member_name = member.name().to_owned();
        let at =
            |m: &dyn std::fmt::Display| data(path, format_args!("member {member_name:?}: {m}"));
        if member.is_dir() {
            continue;
        }
        let Some(entry) = member_name.strip_suffix(".npy") else {
            return Err(at(&"not an array (.npz members are .npy files)"));
        };
        let entry = ctx.name(entry, path)?;
        let member_len = member.size();
        let header = npy::read_header(&mut member).map_err(|m| at(&m))?;
        let need = header
            .data_len()
            .ok_or_else(|| at(&"the shape's size overflows 64 bits"))?;
        let have = member_len.saturating_sub(header.data_offset);
        if have != need {
            return Err(at(&format_args!(
                "{}: the header announces {need} bytes of data, the member has {have}",
                if have < need {
                    "truncated"
                } else {
                    "trailing bytes"
                },
            )));
        }
        let shown = PathBuf::from(format!("{}[{member_name}]", path.display()));
        if header.fortran_order && header.shape.len() > 1 {
            // Random access is needed to transpose: spool the member to a temporary file.
            let mut spool =
                tempfile::tempfile().map_err(|e| io(path, "create temporary file", e))?;
            std::io::copy(&mut member, &mut spool).map_err(|e| at(&format_args!("read: {e}")))?;
            let map = map_file(&spool, path)?;
            let mut src = FortranSource::new(&map, &header);
            put_array(w, ctx, &shown, &entry, &header, &mut src)?;
        } else {
            let swap = header.big_endian.then_some(header.dtype.size());
            let mut src = ReadSource::new(&mut member, &shown, swap);
            put_array(w, ctx, &shown, &entry, &header, &mut src)?;
        }
    }
    Ok(())
}

fn import_safetensors(w: &mut Writer, ctx: &mut Ctx, path: &Path) -> Result<()> {
    let (file, len) = open(path)?;
    let mut r = BufReader::with_capacity(1 << 16, file);
    let contents = safetensors::read_header(&mut r, len).map_err(|m| data(path, m))?;
    for (k, v) in &contents.metadata {
        w.set_metadata(k.clone(), v.clone());
    }
    let mut file = r.into_inner();
    for t in &contents.tensors {
        let entry = ctx.name(&t.name, path)?;
        file.seek(SeekFrom::Start(t.offset))
            .map_err(|e| io(path, "seek", e))?;
        let header = npy::Header {
            dtype: t.dtype,
            big_endian: false,
            fortran_order: false,
            shape: t.shape.clone(),
            data_offset: t.offset,
        };
        let mut src = ReadSource::new(&mut file, path, None);
        put_array(w, ctx, path, &entry, &header, &mut src)?;
    }
    Ok(())
}

fn import_csv(w: &mut Writer, ctx: &mut Ctx, path: &Path) -> Result<()> {
    let name = ctx.name(&stem(path), path)?;
    let frame_options = FrameOptions::new().codec(ctx.codec);
    let report = brine::frame::csv::import(w, &name, path, &ctx.csv, &frame_options)?;
    ctx.progress.inc(report.bytes);
    let mut line = frame_line(&name, report.rows, &report.fields, path);
    if report.skipped > 0 {
        line.push_str(&format!(
            "; skipped {} malformed rows (first: {})",
            report.skipped,
            report
                .skipped_errors
                .first()
                .map(ToString::to_string)
                .unwrap_or_default()
        ));
    }
    ctx.written.push(line);
    Ok(())
}

/// The summary line of a frame written.
fn frame_line(name: &str, rows: u64, fields: &[brine::frame::Field], path: &Path) -> String {
    let types = fields
        .iter()
        .map(|f| format!("{} {}", f.name, f.ty))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "{name}: frame, {rows} rows x {} columns ({types}) from {}",
        fields.len(),
        path.display()
    )
}

/// An Arrow IPC file (or stream) as one frame, a record batch at a time.
fn import_arrow(w: &mut Writer, ctx: &mut Ctx, path: &Path) -> Result<()> {
    use arrow_array::RecordBatch;
    use arrow_schema::ArrowError;

    let name = ctx.name(&stem(path), path)?;
    let (mut file, len) = open(path)?;
    let mut magic = Vec::with_capacity(6);
    (&mut file)
        .take(6)
        .read_to_end(&mut magic)
        .map_err(|e| io(path, "read", e))?;
    file.seek(SeekFrom::Start(0))
        .map_err(|e| io(path, "seek", e))?;
    let arrow_error =
        |e: ArrowError| data(path, format_args!("not a readable Arrow IPC file: {e}"));
    type Batches = Box<dyn Iterator<Item = std::result::Result<RecordBatch, ArrowError>>>;
    let (schema, batches): (_, Batches) = if magic == b"ARROW1" {
        let r = arrow_ipc::reader::FileReader::try_new(BufReader::new(file), None)
            .map_err(arrow_error)?;
        (r.schema(), Box::new(r))
    } else if magic.starts_with(b"FEA1") {
        return Err(data(
            path,
            "Feather version 1 is not supported (rewrite it with pyarrow.feather.write_feather, \
             which writes version 2)",
        ));
    } else {
        let r = arrow_ipc::reader::StreamReader::try_new(BufReader::new(file), None)
            .map_err(arrow_error)?;
        (r.schema(), Box::new(r))
    };
    // A file of no record batches still has columns: write them, empty.
    let mut batches = batches.peekable();
    // The schema's and the fields' metadata (pyarrow's `pandas` key among them) are kept as
    // the entry's and the columns' metadata, so that export gives them back.
    let options =
        brine::frame::arrow::frame_options(&schema, &FrameOptions::new().codec(ctx.codec));
    let empty = batches
        .peek()
        .is_none()
        .then(|| Ok(RecordBatch::new_empty(schema)));
    let mut fw = w.frame_writer(&name, &options)?;
    let mut rows = 0u64;
    for batch in batches.chain(empty) {
        let batch = batch.map_err(arrow_error)?;
        rows += batch.num_rows() as u64;
        let frame = brine::frame::arrow::frame(&batch).map_err(|e| match e {
            // The conversion knows the column, not the file.
            brine::Error::InvalidInput { reason, .. } => data(path, reason),
            e => e.into(),
        })?;
        fw.write_batch(&frame)?;
        // In-memory size stands in for the bytes read: compression makes them differ.
        ctx.progress
            .inc((batch.get_array_memory_size() as u64).min(len));
    }
    let fields = fw.fields().to_vec();
    fw.finish()?;
    ctx.written.push(frame_line(&name, rows, &fields, path));
    Ok(())
}

/// Maps a file read-only.
fn map_file(file: &File, path: &Path) -> Result<memmap2::Mmap> {
    // SAFETY: the map is only read, and only while this command runs. A file truncated by
    // another process while it is mapped would kill this process with SIGBUS: the same
    // contract brine's own reader states (`brine` documents that files must be replaced by
    // rename, never rewritten in place); the temporary spool files are ours alone.
    unsafe { memmap2::Mmap::map(file) }.map_err(|e| io(path, "map", e))
}

/// Fills buffers with the next little-endian, C-order bytes of an array.
trait ByteSource {
    fn fill(&mut self, buf: &mut [u8]) -> Result<()>;
}

/// Data read in order from a stream, byte-swapped per element if `swap` gives a size.
struct ReadSource<'p, R> {
    r: R,
    path: &'p Path,
    swap: Option<usize>,
}

impl<'p, R: Read> ReadSource<'p, R> {
    fn new(r: R, path: &'p Path, swap: Option<usize>) -> Self {
        ReadSource { r, path, swap }
    }
}

impl<R: Read> ByteSource for ReadSource<'_, R> {
    fn fill(&mut self, buf: &mut [u8]) -> Result<()> {
        self.r.read_exact(buf).map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => data(
                self.path,
                "truncated: the data ends before the shape is filled",
            ),
            _ => io(self.path, "read", e),
        })?;
        if let Some(size) = self.swap {
            for element in buf.chunks_exact_mut(size) {
                element.reverse();
            }
        }
        Ok(())
    }
}

/// Fortran-order data, gathered into C order: the output walks indices in C order (the last
/// axis fastest) and reads each element at its column-major offset.
struct FortranSource<'a> {
    bytes: &'a [u8],
    size: usize,
    swap: bool,
    shape: Vec<usize>,
    /// Column-major stride of each axis, in bytes.
    strides: Vec<usize>,
    /// The next output element's index, and its input offset.
    index: Vec<usize>,
    offset: usize,
}

impl<'a> FortranSource<'a> {
    fn new(bytes: &'a [u8], header: &npy::Header) -> Self {
        let size = header.dtype.size();
        let mut strides = Vec::with_capacity(header.shape.len());
        let mut stride = size;
        for &d in &header.shape {
            strides.push(stride);
            stride *= d;
        }
        FortranSource {
            bytes,
            size,
            swap: header.big_endian,
            shape: header.shape.clone(),
            strides,
            index: vec![0; header.shape.len()],
            offset: 0,
        }
    }
}

impl ByteSource for FortranSource<'_> {
    fn fill(&mut self, buf: &mut [u8]) -> Result<()> {
        let size = self.size;
        let last = self.shape.len() - 1;
        for out in buf.chunks_exact_mut(size) {
            // In bounds: the caller checked the data is exactly as long as the shape needs,
            // and fills no more elements than the shape holds.
            out.copy_from_slice(&self.bytes[self.offset..self.offset + size]);
            if self.swap {
                out.reverse();
            }
            // Advance the C-order index (odometer), keeping the offset in step.
            let mut axis = last;
            loop {
                self.index[axis] += 1;
                self.offset += self.strides[axis];
                if self.index[axis] < self.shape[axis] || axis == 0 {
                    break;
                }
                self.offset -= self.strides[axis] * self.shape[axis];
                self.index[axis] = 0;
                axis -= 1;
            }
        }
        Ok(())
    }
}

/// Writes an array entry from `src`, in pieces.
fn put_array(
    w: &mut Writer,
    ctx: &mut Ctx,
    input: &Path,
    name: &str,
    header: &npy::Header,
    src: &mut dyn ByteSource,
) -> Result<()> {
    with_element!(header.dtype, T => put_typed::<T>(w, ctx, input, name, &header.shape, src))?;
    ctx.written.push(format!(
        "{name}: {} {:?} from {}",
        header.dtype,
        header.shape,
        input.display()
    ));
    Ok(())
}

fn put_typed<T: Element>(
    w: &mut Writer,
    ctx: &mut Ctx,
    input: &Path,
    name: &str,
    shape: &[usize],
    src: &mut dyn ByteSource,
) -> Result<()> {
    let size = T::DTYPE.size();
    let total = shape
        .iter()
        .try_fold(size as u64, |acc, &d| acc.checked_mul(d as u64))
        .ok_or_else(|| data(input, "the shape's size overflows 64 bits"))?;
    let mut aw = w.array_writer::<T>(name, shape, &ctx.options)?;
    // u64 words: aligned for every element type, so the bytes can be viewed as `T`s.
    let mut words = vec![0u64; (total as usize).min(PIECE).div_ceil(8)];
    let buf: &mut [u8] = bytemuck::cast_slice_mut(&mut words);
    let mut left = total;
    while left > 0 {
        let n = (left as usize).min(PIECE);
        src.fill(&mut buf[..n])?;
        let items = T::cast_slice(&buf[..n]).map_err(|_| {
            data(
                input,
                format_args!("array {name:?}: a {} element is not valid (a bool byte that is neither 0 nor 1)", T::DTYPE),
            )
        })?;
        aw.write(items)?;
        ctx.progress.inc(n as u64);
        left -= n as u64;
    }
    aw.finish()?;
    Ok(())
}
