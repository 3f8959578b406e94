//! `brine import`: `.npy`, `.npz`, `.safetensors`, `.csv` and Arrow IPC files into one brine
//! file. This module holds the command: its arguments, the format of each input
//! ([`Format::of_input`]) and the brine file written; each format's reading is in its module
//! of [`crate::formats`].
//!
//! Streaming: array data goes from the input to [`brine::ArrayWriter`] in pieces of
//! [`PIECE`](crate::pieces::PIECE) bytes, so memory holds a few pieces (and, when compressing,
//! the writer's few chunks) whatever the input's size.
//!
//! Fortran-order `.npy` data is transposed into C order while it is copied (the values read
//! back identical, index for index, in C order): the input's data is mapped (a `.npz` member
//! is first decompressed to a temporary file, then mapped) and gathered element by element.
//!
//! A CSV file is parsed in batches ([`brine::frame::csv::import`]), an Arrow IPC file read one
//! record batch at a time: a frame's memory is bounded by a batch.

use std::path::{Path, PathBuf};

use brine::frame::FrameOptions;
use brine::frame::csv::{CsvOptions, OnError};
use brine::frame::{ColumnType, TimeUnit};
use brine::{Codec, DEFAULT_ZSTD_LEVEL, EntryOptions, Writer};

use crate::error::{CliError, Result, io, usage};
use crate::formats::{Format, arrow, csv, npy, npz, safetensors};
use crate::progress::Progress;

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
    /// The brine file to write (for a .safetensors.index.json: the dataset folder) (replaced atomically if it exists, keeping its permissions,
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

/// Everything an input needs from the command line.
pub struct Ctx {
    /// The options of array entries.
    pub options: EntryOptions,
    /// The options of frame entries (their codec and level; the metadata is the input's).
    pub frame_options: FrameOptions,
    /// The entry name given with --name.
    name: Option<String>,
    /// Names of entries written, with a description, for the summary.
    pub written: Vec<String>,
    pub progress: Progress,
    pub csv: CsvOptions,
}

impl Ctx {
    /// The name of an entry: --name if given (for the only entry), else `default`.
    pub fn name(&self, default: &str, input: &Path) -> Result<String> {
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
    if args
        .inputs
        .iter()
        .any(|p| crate::dataset::is_safetensors_index(p))
    {
        return run_safetensors_index(args);
    }
    let formats = args
        .inputs
        .iter()
        .map(|p| Format::of_input(p))
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
    let (codec, level) = args.codec();
    let mut ctx = Ctx {
        options: EntryOptions::new().codec(codec).zstd_level(level),
        frame_options: FrameOptions::new().codec(codec).zstd_level(level),
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
            Format::Npy => npy::import(&mut w, &mut ctx, path)?,
            Format::Npz => npz::import(&mut w, &mut ctx, path)?,
            Format::Safetensors => safetensors::import(&mut w, &mut ctx, path)?,
            Format::Csv => csv::import(&mut w, &mut ctx, path)?,
            Format::Arrow => arrow::import(&mut w, &mut ctx, path)?,
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

impl Args {
    /// The codec and zstd level `--compress` and `--shuffle` ask for.
    fn codec(&self) -> (Codec, i32) {
        match self.compress {
            None => (Codec::Raw, DEFAULT_ZSTD_LEVEL),
            Some(level) => (
                Codec::Zstd {
                    shuffle: self.shuffle,
                },
                level,
            ),
        }
    }
}

/// `brine import model.safetensors.index.json -o DIR`: a sharded safetensors checkpoint as an
/// arrays dataset (spec/DATASET.md), one brine shard per safetensors shard.
fn run_safetensors_index(args: &Args) -> Result<()> {
    let [index] = args.inputs.as_slice() else {
        return Err(CliError::Usage(
            "a .safetensors.index.json is imported alone (its shards are read from its folder)"
                .to_owned(),
        ));
    };
    if args.name.is_some() || args.csv.any() || args.align.is_some() {
        return Err(usage(
            index,
            "--name, --align and CSV options do not apply to a sharded checkpoint",
        ));
    }
    let (codec, level) = args.codec();
    let mut ctx = Ctx {
        options: EntryOptions::new().codec(codec).zstd_level(level),
        frame_options: FrameOptions::new().codec(codec).zstd_level(level),
        name: None,
        written: Vec::new(),
        progress: Progress::new("import", 0),
        csv: args.csv.options(),
    };
    crate::dataset::import_safetensors_index(index, &args.output, &mut ctx)?;
    drop(ctx.progress);
    let mut out = String::new();
    for line in &ctx.written {
        out.push_str(line);
        out.push('\n');
    }
    crate::print(&out)
}
