//! `brine export`: one array entry to `.npy` or `.safetensors`.
//!
//! The output is written to a temporary file in the target's folder and renamed over the
//! target once complete, so a failed export leaves no partial file. Data is streamed in
//! pieces: from the mapping for raw entries (and its checksum checked on the way), and chunk
//! by chunk for compressed ones (see [`for_each_piece`]).

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use brine::format::checksum::Hasher;
use brine::{AccessPattern, Element, Reader};

use crate::elements::with_element;
use crate::error::{CliError, Result, data, io, usage};
use crate::import::PIECE;
use crate::progress::Progress;
use crate::{npy, safetensors};

/// Bytes read through one [`Reader`] before it is reopened (see [`for_each_piece`]).
const REOPEN_AFTER: usize = 64 << 20;

const AFTER_HELP: &str = "\
Output types:
  .npy          C order, little-endian; bf16 has no numpy dtype (export it to .safetensors)
  .safetensors  one tensor named as the entry; string file metadata becomes `__metadata__`
Frames (.csv, .arrow) are not supported yet.";

/// Write one array entry of a brine file as .npy or .safetensors.
#[derive(clap::Args, Debug)]
#[command(after_long_help = AFTER_HELP)]
pub struct Args {
    /// The brine file.
    file: PathBuf,
    /// The entry to export.
    entry: String,
    /// The file to write (.npy or .safetensors; replaced atomically if it exists).
    #[arg(short, long, value_name = "OUT")]
    output: PathBuf,
}

pub fn run(args: &Args) -> Result<()> {
    let ext = args
        .output
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let safetensors = match ext.as_str() {
        "npy" => false,
        "safetensors" => true,
        "csv" | "arrow" | "feather" => {
            return Err(usage(
                &args.output,
                "exporting frames is not supported yet (.npy and .safetensors are)",
            ));
        }
        _ => {
            return Err(usage(
                &args.output,
                "unknown output type (expected .npy or .safetensors)",
            ));
        }
    };
    let mut reader = open(&args.file)?;
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

    let out = &args.output;
    let folder = match out.parent() {
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
        .map_err(|e| io(out, "create temporary file", e))?;
    let mut w = BufWriter::with_capacity(1 << 20, tmp);
    w.write_all(&header).map_err(|e| io(out, "write", e))?;
    let mut progress = Progress::new("export", raw_len);
    for_each_piece(&args.file, &mut reader, &args.entry, |piece| {
        progress.inc(piece.len() as u64);
        w.write_all(piece).map_err(|e| io(out, "write", e))
    })?;
    let tmp = w
        .into_inner()
        .map_err(|e| io(out, "write", e.into_error()))?;
    tmp.as_file().sync_all().map_err(|e| io(out, "sync", e))?;
    tmp.persist(out).map_err(|e| io(out, "rename", e.error))?;
    drop(progress);
    crate::print(&format!(
        "wrote {} ({dtype} {shape:?}, {raw_len} bytes of data)\n",
        out.display()
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
