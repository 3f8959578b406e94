//! The one error type of the crate.
//!
//! Every variant that comes from reading a file names the file, and where it applies the entry
//! and the field, so that a message alone tells a user what is wrong and where. Tests match on
//! variants, never on message text.

use std::fmt;
use std::path::PathBuf;

use crate::array::Dtype;
use crate::raw::Version;
use crate::reader::Kind;

/// A specialized `Result` for brine operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Which limit a value passed ([`Error::LimitExceeded`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Limit {
    /// [`OpenOptions::max_manifest_len`](crate::OpenOptions::max_manifest_len).
    MaxManifestLen,
    /// [`OpenOptions::max_decompressed_bytes`](crate::OpenOptions::max_decompressed_bytes).
    MaxDecompressedBytes,
    /// [`OpenOptions::max_model_depth`](crate::OpenOptions::max_model_depth).
    MaxModelDepth,
    /// The format's largest chunk (`raw::limits::MAX_CHUNK_LEN`).
    MaxChunkLen,
    /// What this platform can address (`usize`).
    AddressSpace,
    /// [`OpenOptions::max_fetched_bytes`](crate::OpenOptions::max_fetched_bytes).
    MaxFetchedBytes,
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Limit::MaxManifestLen => "OpenOptions::max_manifest_len",
            Limit::MaxDecompressedBytes => "OpenOptions::max_decompressed_bytes",
            Limit::MaxModelDepth => "OpenOptions::max_model_depth",
            Limit::MaxChunkLen => "format limit MAX_CHUNK_LEN",
            Limit::AddressSpace => "this platform's address space",
            Limit::MaxFetchedBytes => "OpenOptions::max_fetched_bytes",
        })
    }
}

/// Everything that can go wrong while writing, opening or reading a brine file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An operating-system call on `path` failed.
    #[error("{}: {op}: {source}", path.display())]
    Io {
        /// The file or folder the call was about.
        path: PathBuf,
        /// What brine was doing (`open`, `map`, `write`, `rename`, ...).
        op: &'static str,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// Reading bytes of a file from a remote source
    /// ([`Reader::open_source`](crate::Reader::open_source)) failed, or the source returned
    /// fewer bytes than asked. Nothing of the failed read was kept: reading again retries.
    #[error("{}: {op} (bytes {}..{}): {source}", path.display(), range.start, range.end)]
    Remote {
        /// The name the file was opened under (its URL, for object storage).
        path: PathBuf,
        /// What brine was reading (`read the header and the end`, `read the manifest`,
        /// `read sections`, `verify`).
        op: &'static str,
        /// The bytes of the file asked for (the span of every range of the batch).
        range: std::ops::Range<u64>,
        /// The source's error.
        #[source]
        source: std::io::Error,
    },

    /// The file does not start with the brine magic bytes.
    #[error("{}: not a brine file (magic bytes {found:02x?})", file.display())]
    NotBrine {
        /// The file.
        file: PathBuf,
        /// The first bytes found (fewer than 8 if the file is shorter).
        found: Vec<u8>,
    },

    /// The file is shorter than a structure it must contain.
    #[error("{}: truncated: {what} needs {needed} bytes but the file has {len}", file.display())]
    Truncated {
        /// The file.
        file: PathBuf,
        /// What did not fit.
        what: &'static str,
        /// Bytes needed.
        needed: u64,
        /// Bytes present.
        len: u64,
    },

    /// The file was written with a format major version this build cannot read.
    #[error(
        "{}: written with brine format {found}, this build reads format {supported} \
         (major versions must match; upgrade brine to read it)",
        file.display()
    )]
    UnsupportedVersion {
        /// The file.
        file: PathBuf,
        /// The version recorded in the header.
        found: Version,
        /// The newest version this build reads.
        supported: Version,
    },

    /// The file uses a feature (flag, dtype, codec, rkyv layout) this build does not know.
    #[error(
        "{}: {what} {value} is not supported by this build (file written with format {found}, \
         this build reads format {supported})",
        file.display()
    )]
    UnsupportedFeature {
        /// The file.
        file: PathBuf,
        /// Which field carries the unknown value (`required flags`, `dtype of entry "x"`...).
        what: String,
        /// The unknown value.
        value: u64,
        /// The version recorded in the header.
        found: Version,
        /// The newest version this build reads.
        supported: Version,
    },

    /// A checksum did not match the bytes it covers.
    #[error(
        "{}: checksum mismatch in {what}: stored {expected:#018x}, computed {got:#018x}",
        file.display()
    )]
    ChecksumMismatch {
        /// The file.
        file: PathBuf,
        /// What the checksum covers (`header`, `manifest`, `entry "x" section 0 chunk 3`...).
        what: String,
        /// The checksum stored in the file.
        expected: u64,
        /// The checksum of the bytes present.
        got: u64,
    },

    /// A header field holds a value the format forbids.
    #[error("{}: header field {field} = {value}: {reason}", file.display())]
    InvalidHeader {
        /// The file.
        file: PathBuf,
        /// The field's name in spec/FORMAT.md.
        field: &'static str,
        /// The value found.
        value: u64,
        /// The rule it breaks.
        reason: &'static str,
    },

    /// The manifest is not a valid rkyv archive of the manifest type.
    #[error("{}: invalid manifest: {detail}", file.display())]
    InvalidManifest {
        /// The file.
        file: PathBuf,
        /// What bytecheck found, with the path inside the archive.
        detail: String,
    },

    /// A manifest field breaks a rule of the format.
    #[error("{}: {location}: {field}: {reason}", file.display())]
    InvalidField {
        /// The file.
        file: PathBuf,
        /// Where: `entry "weights"`, `section 3`, `file metadata`...
        location: String,
        /// The field's name in spec/FORMAT.md.
        field: &'static str,
        /// The rule it breaks, with the values involved.
        reason: String,
    },

    /// A section reaches outside the data area of the file.
    #[error(
        "{}: section {section} (offset {offset}, length {len}) is out of bounds: data area ends at {limit}",
        file.display()
    )]
    SectionOutOfBounds {
        /// The file.
        file: PathBuf,
        /// The section's index in the section table.
        section: u32,
        /// Its offset.
        offset: u64,
        /// Its length.
        len: u64,
        /// Where the data area ends (the manifest offset).
        limit: u64,
    },

    /// Two sections share bytes.
    #[error("{}: sections {first} and {second} overlap", file.display())]
    SectionsOverlap {
        /// The file.
        file: PathBuf,
        /// The section with the lower offset.
        first: u32,
        /// The other one.
        second: u32,
    },

    /// A size declared by the file exceeds a limit of this reader.
    #[error(
        "{}: {what} is {value}, over the limit of {limit} ({setting})",
        file.display()
    )]
    LimitExceeded {
        /// The file.
        file: PathBuf,
        /// What is too large.
        what: String,
        /// The declared value.
        value: u64,
        /// The limit.
        limit: u64,
        /// Where the limit comes from (a constant of the format or an `OpenOptions` setting).
        setting: Limit,
    },

    /// Decompressing a chunk failed.
    #[error("{}: entry {entry:?}{part}: chunk {chunk}: {reason}", file.display())]
    Decompress {
        /// The file.
        file: PathBuf,
        /// The entry.
        entry: String,
        /// The buffer of the entry the chunk belongs to: `, column "name" offsets` for a
        /// frame's column, empty for arrays and models.
        part: String,
        /// The chunk's index.
        chunk: usize,
        /// What went wrong.
        reason: String,
    },

    /// The bytes of an entry break a rule checked on first access.
    #[error("{}: entry {entry:?}: {reason}", file.display())]
    InvalidData {
        /// The file.
        file: PathBuf,
        /// The entry.
        entry: String,
        /// What is wrong.
        reason: String,
    },

    /// No entry has this name.
    #[error("{}: no entry named {entry:?}", file.display())]
    NotFound {
        /// The file.
        file: PathBuf,
        /// The name asked for.
        entry: String,
    },

    /// The entry exists but is of another kind.
    #[error("{}: entry {entry:?} is {found}, not {expected}", file.display())]
    WrongKind {
        /// The file.
        file: PathBuf,
        /// The entry.
        entry: String,
        /// The kind asked for.
        expected: Kind,
        /// The kind stored.
        found: Kind,
    },

    /// The array exists but holds another element type.
    #[error("{}: array {entry:?} holds {found}, not {expected}", file.display())]
    WrongDtype {
        /// The file.
        file: PathBuf,
        /// The entry.
        entry: String,
        /// The dtype asked for.
        expected: Dtype,
        /// The dtype stored.
        found: Dtype,
    },

    /// The reader was opened with `require_zero_copy` and the entry would need a copy.
    #[error(
        "{}: entry {entry:?} is compressed ({codec}); reading it needs a copy, \
         and this reader requires zero-copy access",
        file.display()
    )]
    CopyRequired {
        /// The file.
        file: PathBuf,
        /// The entry.
        entry: String,
        /// The entry's codec.
        codec: crate::Codec,
    },

    /// An element range outside the array.
    #[error("{}: entry {entry:?}: range {start}..{end} is outside the array of {len} elements", file.display())]
    RangeOutOfBounds {
        /// The file.
        file: PathBuf,
        /// The entry.
        entry: String,
        /// Range start (element index).
        start: usize,
        /// Range end (element index, exclusive).
        end: usize,
        /// Number of elements in the array.
        len: usize,
    },

    /// A writer call was given arguments that cannot be written.
    #[error("{}: cannot write {entry:?}: {reason}", file.display())]
    InvalidInput {
        /// The file being written.
        file: PathBuf,
        /// The entry being written (empty for file-level problems).
        entry: String,
        /// What is wrong.
        reason: String,
    },

    /// Two entries (or two metadata keys) of one file share a name.
    #[error("{}: duplicate {what} {name:?}", file.display())]
    Duplicate {
        /// The file.
        file: PathBuf,
        /// `entry name` or `metadata key`.
        what: &'static str,
        /// The repeated name.
        name: String,
    },

    /// A column of a frame breaks a rule checked on its first access (offsets, UTF-8,
    /// dictionary codes, validity).
    #[error("{}: frame {entry:?}, column {column:?}, {field}: {reason}", file.display())]
    InvalidColumn {
        /// The file.
        file: PathBuf,
        /// The frame entry.
        entry: String,
        /// The column.
        column: String,
        /// Which buffer or field: `offsets`, `values`, `codes`, `validity`, `dictionary`...
        field: &'static str,
        /// The rule it breaks, with the row or byte involved.
        reason: String,
    },

    /// The column exists but holds another type than the one asked for.
    #[error("{}: frame {entry:?}, column {column:?} is {found}, not {expected}", file.display())]
    WrongColumnType {
        /// The file.
        file: PathBuf,
        /// The frame entry.
        entry: String,
        /// The column.
        column: String,
        /// The type asked for.
        expected: String,
        /// The type stored.
        found: String,
    },

    /// A frame has no column of this name.
    #[error("{}: frame {entry:?} has no column named {column:?}", file.display())]
    NoSuchColumn {
        /// The file.
        file: PathBuf,
        /// The frame entry.
        entry: String,
        /// The name asked for.
        column: String,
    },

    /// A model was written by a type whose schema differs from the one asked for (pickle's
    /// version-skew trap, refused before any byte of the archive is read).
    #[error("{0}")]
    SchemaMismatch(Box<SchemaMismatch>),

    /// A model's archive failed validation (bytecheck) or deserialization.
    #[error("{}: model {entry:?}: {detail}", file.display())]
    InvalidModel {
        /// The file.
        file: PathBuf,
        /// The model entry.
        entry: String,
        /// What failed, with the path inside the archive (`field 'trees', index 3, ...`).
        detail: String,
    },

    /// A dataset's index, or one of its shards measured against the index, breaks a rule of
    /// spec/DATASET.md.
    #[error("{}: {}{field}: {reason}", dataset.display(), shard.as_ref().map(|s| format!("shard {s:?}, ")).unwrap_or_default())]
    InvalidDataset {
        /// The dataset's folder (or the root its opener was given).
        dataset: PathBuf,
        /// The shard (its path relative to the dataset), when the problem is one shard.
        shard: Option<String>,
        /// The index's field (`path`, `rows`, `schema`, `version`...) or the shard's.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },

    /// A CSV file could not be imported.
    #[error("{}:{line}: {}{reason}", file.display(), column.as_ref().map(|c| format!("column {c:?}: ")).unwrap_or_default())]
    Csv {
        /// The CSV file (or the name given for a stream).
        file: PathBuf,
        /// The 1-based line number where the record starts.
        line: u64,
        /// The column, when the problem is one field.
        column: Option<String>,
        /// What is wrong (ragged row, bad quote, a value that does not fit the column's type,
        /// invalid UTF-8...).
        reason: String,
    },
}

/// A bytecheck/rancor error that keeps the path inside the archive where validation failed.
///
/// `rancor::Error` prints nothing useful in release builds; this type keeps the message of the
/// innermost error and every trace frame bytecheck adds on the way out
/// (`while checking field 'entries' of 'ArchivedManifest'`...). It is one pointer wide: every
/// `check_bytes` call returns a `Result` of it, and a wider error type made validating a
/// 10,000-entry manifest 4x slower (measured: 510 us against 125 us).
#[derive(Debug)]
pub struct ArchiveError(Box<ArchiveErrorInner>);

#[derive(Debug)]
struct ArchiveErrorInner {
    message: String,
    trace: Vec<String>,
}

impl fmt::Display for ArchiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)?;
        for frame in &self.0.trace {
            write!(f, "; {frame}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ArchiveError {}

impl rancor::Trace for ArchiveError {
    // Out of line and cold: validation calls this only on failure, and inlining it into every
    // check site slows the success path.
    #[cold]
    #[inline(never)]
    fn trace<R>(mut self, trace: R) -> Self
    where
        R: fmt::Debug + fmt::Display + Send + Sync + 'static,
    {
        // A hostile archive can nest deeply; keep the message bounded.
        if self.0.trace.len() < 32 {
            self.0.trace.push(trace.to_string());
        }
        self
    }
}

impl rancor::Source for ArchiveError {
    #[cold]
    #[inline(never)]
    fn new<T: std::error::Error + Send + Sync + 'static>(source: T) -> Self {
        ArchiveError(Box::new(ArchiveErrorInner {
            message: source.to_string(),
            trace: Vec::new(),
        }))
    }
}

/// The details of [`Error::SchemaMismatch`]: both schemas and where they first differ.
#[derive(Debug)]
pub struct SchemaMismatch {
    /// The file.
    pub file: PathBuf,
    /// The model entry.
    pub entry: String,
    /// The type name recorded in the file.
    pub stored_type: String,
    /// The type asked for.
    pub expected_type: String,
    /// The user version recorded in the file, if any.
    pub stored_version: Option<u64>,
    /// The fingerprint recorded in the file.
    pub stored_fingerprint: u64,
    /// The fingerprint of the type asked for.
    pub expected_fingerprint: u64,
    /// The schema description recorded in the file.
    pub stored_schema: String,
    /// The schema description of the type asked for.
    pub expected_schema: String,
    /// Where the two descriptions first differ (`None` when the texts are equal and only the
    /// fingerprints differ: a hash collision or a hand-edited file).
    pub diff: Option<crate::model::SchemaDiff>,
}

impl fmt::Display for SchemaMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: model {:?} was written as {}",
            self.file.display(),
            self.entry,
            self.stored_type
        )?;
        if let Some(v) = self.stored_version {
            write!(f, ", version {v}")?;
        }
        write!(
            f,
            " (fingerprint {:#018x}); this program expects {} (fingerprint {:#018x}); ",
            self.stored_fingerprint, self.expected_type, self.expected_fingerprint
        )?;
        match &self.diff {
            Some(d) => write!(f, "first difference at {d}")?,
            None => f.write_str(
                "the schema texts are equal but the fingerprints differ (a hash collision or a hand-edited file)",
            )?,
        }
        write!(
            f,
            "\nstored schema:\n{}\nexpected schema:\n{}",
            self.stored_schema, self.expected_schema
        )
    }
}
