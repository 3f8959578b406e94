//! `brine export`: an array entry to `.npy` or `.safetensors`, a frame entry to `.csv` or
//! Arrow IPC (`.arrow`, `.feather`). This module holds the command: its arguments, the output
//! format ([`Format::of_output`]) against the entry's kind, and the output file ([`Output`]);
//! each format's writing is in its module of [`crate::formats`]. From a dataset folder, an
//! array is exported from the shard that holds it, and the frame `data` of a frame dataset
//! as one file of all its shards in order.
//!
//! The output is a [`brine::AtomicFile`], as every file brine writes: checked before anything
//! is read (a folder, a missing folder), written to a temporary file in the target's folder
//! that dead writers' cleanup knows, and renamed over the target once complete, so a failed or
//! killed export leaves no partial file. Array data is streamed in pieces: from the mapping for
//! raw entries, and chunk by chunk for compressed ones (see
//! [`for_each_piece`](crate::pieces::for_each_piece)). A frame is read in place (a compressed
//! column is decoded whole on first access) and written in batches of 64K rows.
//!
//! Everything exported is checked as `brine verify` checks it, in the same pass: the checksum
//! of every section the entry owns is computed over the bytes as they are copied (a raw
//! section's bytes, batch by batch; each chunk's decoded checksum as it is decoded, then a
//! compressed section's stored bytes), and a mismatch fails the export with verify's error;
//! `--no-verify` skips the section checksums.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use brine::{AtomicFile, Kind};

use crate::error::{CliError, Result, io, usage};
use crate::formats::{Format, arrow, csv, npy, safetensors};
use crate::pieces::open;

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
    /// The brine file, or a dataset folder (an array of an arrays dataset, or `data`, the
    /// frame of a frame dataset, all its shards in order).
    pub file: PathBuf,
    /// The entry to export.
    pub entry: String,
    /// The file to write (.npy, .safetensors, .csv, .arrow or .feather; replaced atomically
    /// if it exists, keeping its permissions; a symbolic link is written through).
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,
    /// Do not check the checksums of the sections exported.
    #[arg(long)]
    pub no_verify: bool,
}

pub fn run(args: &Args) -> Result<()> {
    let format = Format::of_output(&args.output)?;
    let wrong = |what: &str| {
        Err(usage(
            &args.output,
            format_args!("entry {:?} is {what}", args.entry),
        ))
    };
    const FRAME_FORMATS: &str = "a frame: export frames to .csv, .arrow or .feather";
    // Checked, and created, before a byte of the entry is read.
    let out = || Output::create(&args.output);
    if crate::dataset::is_dataset(&args.file) {
        return match crate::dataset::export_source(&args.file, &args.entry)? {
            crate::dataset::ExportSource::Array(shard) => {
                // An array of an arrays dataset: exported from the shard that holds it.
                let one = Args {
                    file: shard,
                    entry: args.entry.clone(),
                    output: args.output.clone(),
                    no_verify: args.no_verify,
                };
                run(&one)
            }
            // The frame of a frame dataset: its shards, in order, as one file.
            crate::dataset::ExportSource::Frame(shards) => match format {
                Format::Csv => csv::export(args, out()?, &shards),
                Format::Arrow => arrow::export(args, out()?, &shards),
                _ => wrong(FRAME_FORMATS),
            },
        };
    }
    let reader = open(&args.file)?;
    let kind = reader.entry(&args.entry)?.kind();
    match (kind, format) {
        (Kind::Array, Format::Npy) => npy::export(args, out()?, reader),
        (Kind::Array, Format::Safetensors) => safetensors::export(args, out()?, reader),
        (Kind::Frame, Format::Csv) => csv::export(args, out()?, &[Arc::new(reader)]),
        (Kind::Frame, Format::Arrow) => arrow::export(args, out()?, &[Arc::new(reader)]),
        (Kind::Array, _) => wrong("an array: export arrays to .npy or .safetensors"),
        (Kind::Frame, _) => wrong(FRAME_FORMATS),
        (Kind::Model, _) => wrong(
            "a model, which only a program with its Rust type can read (`brine schema` prints \
             its schema)",
        ),
        (other, _) => wrong(&format!("of kind {other:?}, which cannot be exported")),
    }
}

/// A file written beside its target and renamed over it once complete.
pub struct Output {
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

    pub fn error(&self, e: impl Into<std::io::Error>) -> CliError {
        io(&self.path, "write", e.into())
    }

    /// Flushes, syncs and renames the file over its target.
    pub fn commit(self) -> Result<()> {
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
