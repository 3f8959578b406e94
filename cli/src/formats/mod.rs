//! The outside formats `brine import` reads and `brine export` writes, one module each: its
//! detection (by extension), its import into a brine [`brine::Writer`] and its export from a
//! [`brine::Reader`]. [`Format`] dispatches detection; `arrays` and `frames` hold what the
//! array formats and the frame formats share.

mod arrays;
pub mod arrow;
pub mod csv;
mod frames;
pub mod npy;
pub mod npz;
pub mod safetensors;

use std::fs::File;
use std::path::Path;

use crate::error::{Result, io, usage};

/// An outside format, as a file's extension names it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Npy,
    Npz,
    Safetensors,
    Csv,
    Arrow,
}

/// Whether a file is an input (import) or an output (export): some extensions are only read.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Input,
    Output,
}

/// A format module's `detect`: whether a lowercase extension, without the dot, names a file of
/// its format in that role.
type Detect = fn(&str, Role) -> bool;

/// Each format and its module's `detect`.
const DETECT: [(Format, Detect); 5] = [
    (Format::Npy, npy::detect),
    (Format::Npz, npz::detect),
    (Format::Safetensors, safetensors::detect),
    (Format::Csv, csv::detect),
    (Format::Arrow, arrow::detect),
];

impl Format {
    /// The format of input `path`; an extension no format reads is a usage error.
    pub fn of_input(path: &Path) -> Result<Format> {
        Format::detect(path, Role::Input).ok_or_else(|| {
            usage(
                path,
                "unknown input type (expected .npy, .npz, .safetensors, .csv, .arrow or .feather)",
            )
        })
    }

    /// The format of output `path`; an extension no format writes is a usage error.
    pub fn of_output(path: &Path) -> Result<Format> {
        Format::detect(path, Role::Output).ok_or_else(|| {
            usage(
                path,
                "unknown output type (expected .npy or .safetensors for an array, .csv, .arrow \
                 or .feather for a frame)",
            )
        })
    }

    fn detect(path: &Path, role: Role) -> Option<Format> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        DETECT
            .iter()
            .find(|(_, detect)| detect(&ext, role))
            .map(|&(format, _)| format)
    }
}

/// The name of the entry an input of one entry gets: the file's stem.
fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Opens an input, with its length.
fn open(path: &Path) -> Result<(File, u64)> {
    let file = File::open(path).map_err(|e| io(path, "open", e))?;
    let len = file.metadata().map_err(|e| io(path, "stat", e))?.len();
    Ok((file, len))
}
