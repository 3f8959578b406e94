//! An array entry's data in pieces, with memory bounded whatever its size and the checks of
//! `brine verify` on the way: what `brine export` copies and `brine verify` decodes.

use std::path::Path;

use brine::raw::checksum::Hasher;
use brine::{AccessPattern, Element, Reader};

use crate::elements::with_element;
use crate::error::{CliError, Result, data};

/// Bytes moved at a time: from an input to the writer (import), from a brine file to an output
/// (export).
pub const PIECE: usize = 4 << 20;

/// Bytes read through one [`Reader`] before it is reopened (see [`for_each_piece`]).
const REOPEN_AFTER: usize = 64 << 20;

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
