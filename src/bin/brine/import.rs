//! `brine import`: `.npy`, `.npz`, `.safetensors` and `.csv` files into one brine file.
//!
//! Streaming: array data goes from the input to [`brine::ArrayWriter`] in pieces of
//! [`PIECE`] bytes, so memory holds a few pieces (and, when compressing, the writer's few
//! chunks) whatever the input's size.
//!
//! Fortran-order `.npy` data is transposed into C order while it is copied (the values read
//! back identical, index for index, in C order): the input's data is mapped (a `.npz` member
//! is first decompressed to a temporary file, then mapped) and gathered element by element.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

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
  .csv          one frame (types inferred from a sample); entry named after the file's stem
--name renames the entry when the inputs hold exactly one.

Arrays of every dtype brine has are read: bool, i8..i64, u8..u64, f16, f32, f64 (and bf16 from
.safetensors), in either byte order (swapped to little-endian) and in C or Fortran order
(transposed into C order: the values read back identical in C order). Object (pickled) and
structured dtypes are refused.";

/// Convert .npy, .npz, .safetensors and .csv files into one brine file.
#[derive(clap::Args, Debug)]
#[command(after_long_help = AFTER_HELP)]
pub struct Args {
    /// Input files (.npy, .npz, .safetensors, .csv).
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// The brine file to write (replaced atomically if it exists).
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
        "arrow" | "feather" | "ipc" => {
            return Err(usage(
                path,
                "Arrow IPC input is not supported yet (convert it to .csv, or wait for a later version)",
            ));
        }
        _ => {
            return Err(usage(
                path,
                "unknown input type (expected .npy, .npz, .safetensors or .csv)",
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
    let frame_options = brine::frame::FrameOptions::new().codec(ctx.codec);
    let report = brine::frame::csv::import(
        w,
        &name,
        path,
        &brine::frame::csv::CsvOptions::new(),
        &frame_options,
    )?;
    ctx.progress.inc(report.bytes);
    let types = report
        .fields
        .iter()
        .map(|f| format!("{} {}", f.name, f.ty))
        .collect::<Vec<_>>()
        .join(", ");
    ctx.written.push(format!(
        "{name}: frame, {} rows x {} columns ({types}) from {}",
        report.rows,
        report.fields.len(),
        path.display()
    ));
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
