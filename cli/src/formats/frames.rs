//! What the frame formats (`.csv`, Arrow IPC) share: the summary line of a frame imported,
//! and, on export, the checksums of the frame's sections computed over the bytes as the rows
//! are written ([`Checks`]).

use std::path::Path;

use brine::frame::{ColumnType, FrameView};
use brine::{Reader, SectionCheck};

use crate::error::Result;

/// Rows of a frame written at a time (one Arrow record batch).
pub const BATCH_ROWS: usize = 64 * 1024;

/// The summary line of a frame written.
pub fn frame_line(name: &str, rows: u64, fields: &[brine::frame::Field], path: &Path) -> String {
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
pub struct Checks<'r> {
    raw: Vec<(SectionCheck<'r>, Reach<'r>)>,
}

impl<'r> Checks<'r> {
    /// The checks of every section of `frame` (none with `--no-verify`).
    pub fn new(reader: &'r Reader, frame: &FrameView<'r>, verify: bool) -> Result<Checks<'r>> {
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
                    _ if info.codec.is_compressed() => Reach::End,
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
    pub fn advance(&mut self, rows: usize) {
        for (check, reach) in &mut self.raw {
            check.advance_to(reach.bytes(rows));
        }
    }

    /// Hashes the rest of every section and compares.
    pub fn finish(self) -> Result<()> {
        for (check, _) in self.raw {
            check.finish()?;
        }
        Ok(())
    }
}
