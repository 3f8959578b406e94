//! The manifest: one rkyv archive at the end of the file (spec/FORMAT.md, "Manifest").
//!
//! Only plain structs, vectors, strings and small enums: no hash maps, so that a reader in
//! another language can walk it from the byte layout in the spec. Field order is the layout
//! order; changing it changes the format.

use rkyv::{Archive, Deserialize, Serialize};

/// The root of the manifest archive: flat tables, so that the archive validates in O(1) per
/// table plus one UTF-8 check, and a reader in another language can view each table as an
/// array of fixed-size records. Variable-length parts (names, dimensions, chunks, per-entry
/// metadata) are concatenated in one vector each and delimited by `*_end` offsets, as Arrow
/// delimits strings: item `i` spans `end[i - 1]..end[i]` (`0..end[0]` for the first).
#[derive(Archive, Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
#[rkyv(derive(Debug))]
pub struct Manifest {
    /// Every entry's name, concatenated in entry order.
    pub names: String,
    /// The entry table, sorted by name (byte-wise), names unique.
    pub entries: Vec<Entry>,
    /// The array table: one row per array entry, in entry order.
    pub arrays: Vec<ArrayMeta>,
    /// Every array's dimensions, concatenated in array order.
    pub dims: Vec<u64>,
    /// The section table, sorted by offset, non-overlapping; each section belongs to exactly
    /// one entry.
    pub sections: Vec<Section>,
    /// Every compressed section's chunk index, concatenated in section order.
    pub chunks: Vec<Chunk>,
    /// File-level metadata, sorted by key, keys unique.
    pub metadata: Vec<MetaItem>,
    /// Every entry's metadata, concatenated in entry order; each entry's run sorted by key.
    pub entry_metadata: Vec<MetaItem>,
    /// The frame table: one row per frame entry, in entry order.
    pub frames: Vec<FrameMeta>,
    /// Every frame's columns, concatenated in frame order; each frame's in column order.
    pub columns: Vec<ColumnMeta>,
    /// Every column's name followed by its time zone (empty for none), concatenated in column
    /// order.
    pub column_text: String,
    /// The model table: one row per model entry, in entry order.
    pub models: Vec<ModelMeta>,
    /// Every model's type name followed by its schema description, concatenated in model
    /// order.
    pub model_text: String,
}

/// The root of a version 1.1 manifest: the 1.0 root with two tables appended (format 1.1,
/// spec/FORMAT.md "Column metadata and flags"). A file uses it only when one of its columns
/// has metadata or a flag; every other file keeps the 1.0 root, so it opens with 1.0 readers
/// and its bytes are those a 1.0 writer produces. A 1.0 reader reads the first 104 bytes of
/// this root as its own and ignores the rest.
#[derive(Archive, Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
#[rkyv(derive(Debug))]
pub struct Manifest11 {
    /// The tables of version 1.0.
    pub base: Manifest,
    /// One row per row of [`Manifest::columns`], in the same order.
    pub column_extras: Vec<ColumnExtra>,
    /// Every column's metadata, concatenated in column order; each column's run sorted by key.
    pub column_metadata: Vec<MetaItem>,
}

/// One row of the column extras table (format 1.1): what Arrow keeps beside a column's type.
#[derive(Archive, Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
#[rkyv(derive(Debug))]
pub struct ColumnExtra {
    /// End of the column's metadata in [`Manifest11::column_metadata`].
    pub metadata_end: u32,
    /// [`COLUMN_FLAG_ORDERED`]; other bits zero.
    pub flags: u32,
}

/// Column flag: the categories of a categorical column are ordered (Arrow's
/// `dictionary.isOrdered`, pandas' `ordered=True`): their dictionary order is their order.
pub const COLUMN_FLAG_ORDERED: u32 = 1;

/// Size of the archived 1.0 root ([`ArchivedManifest`]), recorded in the header as
/// `root_length` of a 1.0 file.
#[allow(clippy::cast_possible_truncation)] // 104 bytes: asserted below
pub const ROOT_LEN: u32 = std::mem::size_of::<ArchivedManifest>() as u32;

/// Size of the archived 1.1 root ([`ArchivedManifest11`]).
#[allow(clippy::cast_possible_truncation)] // 120 bytes: asserted below
pub const ROOT_LEN_1_1: u32 = std::mem::size_of::<ArchivedManifest11>() as u32;

/// Entry kind code: an n-dimensional array; its details are a row of [`Manifest::arrays`].
pub const KIND_ARRAY: u8 = 0;
/// Entry kind code: a frame; its details are a row of [`Manifest::frames`].
pub const KIND_FRAME: u8 = 1;
/// Entry kind code: a model; its details are a row of [`Manifest::models`].
pub const KIND_MODEL: u8 = 2;

/// A buffer slot of a column that holds no section.
pub const NO_SECTION: u32 = u32::MAX;

/// Column kind code: booleans, bit-packed LSB first.
pub const COLUMN_BOOL: u8 = 0;
/// Column kind code: fixed-width numbers of the column's dtype.
pub const COLUMN_PRIMITIVE: u8 = 1;
/// Column kind code: UTF-8 strings (i64 offsets and bytes).
pub const COLUMN_UTF8: u8 = 2;
/// Column kind code: byte strings (i64 offsets and bytes).
pub const COLUMN_BINARY: u8 = 3;
/// Column kind code: i64 timestamps with a unit and an optional zone.
pub const COLUMN_TIMESTAMP: u8 = 4;
/// Column kind code: i32 days since 1970-01-01.
pub const COLUMN_DATE: u8 = 5;
/// Column kind code: i64 durations with a unit.
pub const COLUMN_DURATION: u8 = 6;
/// Column kind code: i32 codes into a dictionary of UTF-8 strings.
pub const COLUMN_CATEGORICAL: u8 = 7;

/// One row of the frame table.
#[derive(Archive, Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
#[rkyv(derive(Debug))]
pub struct FrameMeta {
    /// Number of rows of every column.
    pub rows: u64,
    /// End of the frame's columns in [`Manifest::columns`].
    pub columns_end: u32,
    /// Zero.
    pub reserved: [u8; 4],
}

/// One row of the column table. Buffer slots hold a section index or [`NO_SECTION`].
#[derive(Archive, Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
#[rkyv(derive(Debug))]
pub struct ColumnMeta {
    /// End of the column's name in [`Manifest::column_text`].
    pub name_end: u32,
    /// End of the column's time zone in [`Manifest::column_text`] (equal to `name_end` for
    /// none).
    pub zone_end: u32,
    /// Validity bitmap: `ceil(rows / 8)` bytes, bit set = value present; [`NO_SECTION`] when
    /// no row is null.
    pub validity: u32,
    /// Values: `rows` elements of `dtype`, bit-packed booleans, string bytes, or codes.
    pub values: u32,
    /// String offsets: `rows + 1` little-endian i64.
    pub offsets: u32,
    /// Categorical dictionary offsets: `dictionary size + 1` little-endian i64.
    pub dictionary_offsets: u32,
    /// Categorical dictionary bytes (UTF-8).
    pub dictionary_values: u32,
    /// Zero.
    pub reserved: u32,
    /// Number of null rows.
    pub null_count: u64,
    /// Smallest non-null value, as i64, u64 or f64 bits by dtype (when `stats` is 1).
    pub min: u64,
    /// Largest non-null value, encoded as `min`.
    pub max: u64,
    /// Column kind code (`COLUMN_*`).
    pub kind: u8,
    /// Dtype code of the values buffer.
    pub dtype: u8,
    /// Time unit code of timestamps and durations; 0 otherwise.
    pub unit: u8,
    /// 1 when `min` and `max` hold values, 0 otherwise.
    pub stats: u8,
    /// Zero.
    pub reserved2: [u8; 4],
}

/// One row of the model table.
#[derive(Archive, Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
#[rkyv(derive(Debug))]
pub struct ModelMeta {
    /// Index of the section holding the rkyv archive, exactly (its root is at the end).
    pub section: u32,
    /// End of the model's type name in [`Manifest::model_text`].
    pub type_name_end: u32,
    /// End of the model's schema description in [`Manifest::model_text`].
    pub schema_end: u32,
    /// Bit 0: `version` holds a user version.
    pub flags: u32,
    /// The type's schema fingerprint.
    pub fingerprint: u64,
    /// The user's version of the type, when flag bit 0 is set.
    pub version: u64,
}

/// One row of the entry table.
#[derive(Archive, Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
#[rkyv(derive(Debug))]
pub struct Entry {
    /// End of the entry's name in [`Manifest::names`].
    pub name_end: u32,
    /// End of the entry's metadata in [`Manifest::entry_metadata`].
    pub metadata_end: u32,
    /// Row of the kind's table holding the entry's details: for the `i`-th entry of a kind,
    /// `i`.
    pub index: u32,
    /// [`KIND_ARRAY`].
    pub kind: u8,
    /// Zero.
    pub reserved: [u8; 3],
}

/// One row of the array table.
#[derive(Archive, Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
#[rkyv(derive(Debug))]
pub struct ArrayMeta {
    /// Index of the data section in the section table.
    pub section: u32,
    /// End of the array's dimensions in [`Manifest::dims`]: outermost first (C order); none
    /// for a 0-d scalar.
    pub dims_end: u32,
    /// Dtype code ([`crate::raw::Dtype::code`]).
    pub dtype: u8,
    /// Zero.
    pub reserved: [u8; 3],
}

/// Codec code: the section holds the raw bytes.
pub const CODEC_RAW: u8 = 0;
/// Codec code: the section holds independent zstd frames, one per chunk.
pub const CODEC_ZSTD: u8 = 1;

/// A byte range of the file holding one buffer of one entry.
#[derive(Archive, Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
#[rkyv(derive(Debug))]
pub struct Section {
    /// Offset of the first byte in the file.
    pub offset: u64,
    /// Exact number of bytes stored.
    pub length: u64,
    /// xxh3-64 of the stored bytes.
    pub checksum: u64,
    /// Length of the data once decoded (equal to `length` for raw sections).
    pub raw_length: u64,
    /// End of the section's chunks in [`Manifest::chunks`] (raw sections have none).
    pub chunks_end: u32,
    /// Decoded bytes per chunk (every chunk but the last); 0 for raw sections.
    pub chunk_length: u32,
    /// [`CODEC_RAW`] or [`CODEC_ZSTD`].
    pub codec: u8,
    /// Byte-shuffle element size applied before compression; 0 for none.
    pub shuffle: u8,
    /// Zero.
    pub reserved: [u8; 6],
}

/// One independently compressed chunk of a section.
#[derive(Archive, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[rkyv(derive(Debug))]
pub struct Chunk {
    /// Offset of the chunk's zstd frame from the start of the section.
    pub offset: u64,
    /// Length of the zstd frame.
    pub length: u64,
    /// xxh3-64 of the chunk's decoded (decompressed and unshuffled) bytes.
    pub checksum: u64,
}

/// A typed key/value pair of metadata.
#[derive(Archive, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[rkyv(derive(Debug))]
pub struct MetaItem {
    /// The key.
    pub key: String,
    /// The value.
    pub value: MetaValue,
}

/// A metadata value.
#[derive(Archive, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[rkyv(derive(Debug))]
#[repr(u8)]
pub enum MetaValue {
    /// A UTF-8 string (tag 0).
    Str(String),
    /// A signed 64-bit integer (tag 1).
    Int(i64),
    /// A 64-bit float (tag 2).
    Float(f64),
    /// A boolean (tag 3).
    Bool(bool),
    /// Raw bytes (tag 4).
    Bytes(Vec<u8>),
}

impl From<&str> for MetaValue {
    fn from(v: &str) -> Self {
        MetaValue::Str(v.to_owned())
    }
}
impl From<String> for MetaValue {
    fn from(v: String) -> Self {
        MetaValue::Str(v)
    }
}
impl From<i64> for MetaValue {
    fn from(v: i64) -> Self {
        MetaValue::Int(v)
    }
}
impl From<f64> for MetaValue {
    fn from(v: f64) -> Self {
        MetaValue::Float(v)
    }
}
impl From<bool> for MetaValue {
    fn from(v: bool) -> Self {
        MetaValue::Bool(v)
    }
}
impl From<Vec<u8>> for MetaValue {
    fn from(v: Vec<u8>) -> Self {
        MetaValue::Bytes(v)
    }
}
impl From<&[u8]> for MetaValue {
    fn from(v: &[u8]) -> Self {
        MetaValue::Bytes(v.to_vec())
    }
}

/// A borrowed view of a metadata value inside a mapped manifest.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MetaRef<'a> {
    /// A UTF-8 string.
    Str(&'a str),
    /// A signed integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// Raw bytes.
    Bytes(&'a [u8]),
}

impl ArchivedMetaValue {
    /// A borrowed, native-endian view of the value.
    pub fn as_ref(&self) -> MetaRef<'_> {
        match self {
            ArchivedMetaValue::Str(s) => MetaRef::Str(s.as_str()),
            ArchivedMetaValue::Int(v) => MetaRef::Int(v.to_native()),
            ArchivedMetaValue::Float(v) => MetaRef::Float(v.to_native()),
            ArchivedMetaValue::Bool(v) => MetaRef::Bool(*v),
            ArchivedMetaValue::Bytes(v) => MetaRef::Bytes(v.as_slice()),
        }
    }
}

impl ArchivedSection {
    /// Whether reading the section needs decoding (and so a copy).
    pub fn is_compressed(&self) -> bool {
        self.codec != CODEC_RAW
    }
}

/// Item `i` of a run delimited by `end` offsets: `end(i - 1)..end(i)`. Empty if the offsets
/// are inconsistent, which tier-1 validation rules out.
fn run<T>(items: &[T], i: usize, end: impl Fn(usize) -> u32) -> &[T] {
    let start = if i == 0 { 0 } else { end(i - 1) as usize };
    items.get(start..end(i) as usize).unwrap_or_default()
}

impl ArchivedManifest {
    /// The name of entry `i`.
    pub fn name(&self, i: usize) -> &str {
        let start = if i == 0 {
            0
        } else {
            self.entries[i - 1].name_end.to_native() as usize
        };
        self.names
            .get(start..self.entries[i].name_end.to_native() as usize)
            .unwrap_or_default()
    }

    /// The metadata of entry `i`.
    pub fn entry_metadata(&self, i: usize) -> &[ArchivedMetaItem] {
        run(&self.entry_metadata, i, |j| {
            self.entries[j].metadata_end.to_native()
        })
    }

    /// The dimensions of array row `i`.
    pub fn dims(&self, i: usize) -> &[rkyv::rend::u64_le] {
        run(&self.dims, i, |j| self.arrays[j].dims_end.to_native())
    }

    /// The columns of frame row `i`, and the index of the first.
    pub fn frame_columns(&self, i: usize) -> (usize, &[ArchivedColumnMeta]) {
        let start = if i == 0 {
            0
        } else {
            self.frames[i - 1].columns_end.to_native() as usize
        };
        (
            start,
            run(&self.columns, i, |j| self.frames[j].columns_end.to_native()),
        )
    }

    /// The name and time zone of column `i` (of the whole column table).
    pub fn column_text(&self, i: usize) -> (&str, &str) {
        let start = if i == 0 {
            0
        } else {
            self.columns[i - 1].zone_end.to_native() as usize
        };
        let c = &self.columns[i];
        let (name_end, zone_end) = (
            c.name_end.to_native() as usize,
            c.zone_end.to_native() as usize,
        );
        (
            self.column_text.get(start..name_end).unwrap_or_default(),
            self.column_text.get(name_end..zone_end).unwrap_or_default(),
        )
    }

    /// The type name and schema description of model row `i`.
    pub fn model_text(&self, i: usize) -> (&str, &str) {
        let start = if i == 0 {
            0
        } else {
            self.models[i - 1].schema_end.to_native() as usize
        };
        let m = &self.models[i];
        let (name_end, schema_end) = (
            m.type_name_end.to_native() as usize,
            m.schema_end.to_native() as usize,
        );
        (
            self.model_text.get(start..name_end).unwrap_or_default(),
            self.model_text
                .get(name_end..schema_end)
                .unwrap_or_default(),
        )
    }

    /// The chunk index of section `i`.
    pub fn section_chunks(&self, i: usize) -> &[ArchivedChunk] {
        run(&self.chunks, i, |j| self.sections[j].chunks_end.to_native())
    }
}

/// The name of a codec code, for messages.
pub fn codec_name(codec: u8, shuffle: u8) -> &'static str {
    match (codec, shuffle) {
        (CODEC_RAW, _) => "raw",
        (CODEC_ZSTD, 0) => "zstd",
        (CODEC_ZSTD, _) => "zstd+shuffle",
        _ => "unknown",
    }
}

// The header message and spec/FORMAT.md state this size.
const _: () = assert!(ROOT_LEN == 104);
const _: () = assert!(ROOT_LEN_1_1 == 120);

impl ArchivedManifest11 {
    /// The metadata of column `i` (of the whole column table); empty where the tables are
    /// inconsistent, which tier-1 validation rules out.
    pub fn column_metadata(&self, i: usize) -> &[ArchivedMetaItem] {
        if i >= self.column_extras.len() {
            return &[];
        }
        run(&self.column_metadata, i, |j| {
            self.column_extras[j].metadata_end.to_native()
        })
    }
}
