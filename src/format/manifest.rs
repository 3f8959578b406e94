//! The manifest: one rkyv archive at the end of the file (spec/FORMAT.md, "Manifest").
//!
//! Only plain structs, vectors, strings and small enums: no hash maps, so that a reader in
//! another language can walk it from the byte layout in the spec. Field order is the layout
//! order; changing it changes the format.

use rkyv::{Archive, Deserialize, Serialize};

/// The root of the manifest archive.
#[derive(Archive, Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
#[rkyv(derive(Debug))]
pub struct Manifest {
    /// Entries, sorted by name (byte-wise), names unique.
    pub entries: Vec<Entry>,
    /// The section table, sorted by offset, non-overlapping; each section belongs to exactly
    /// one entry.
    pub sections: Vec<Section>,
    /// File-level metadata, sorted by key, keys unique.
    pub metadata: Vec<MetaItem>,
}

/// One named entry.
#[derive(Archive, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[rkyv(derive(Debug))]
pub struct Entry {
    /// The entry's name: any UTF-8 string, unique in the file.
    pub name: String,
    /// What the entry is, with its kind-specific metadata.
    pub kind: EntryKind,
    /// The entry's own metadata, sorted by key, keys unique.
    pub metadata: Vec<MetaItem>,
}

/// The kind of an entry. Payloads are boxed so that every variant has the same size and
/// adding a kind does not move the bytes of the others.
#[derive(Archive, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[rkyv(derive(Debug))]
#[repr(u8)]
pub enum EntryKind {
    /// An n-dimensional array (tag 0).
    Array(Box<ArrayMeta>),
}

/// Metadata of an array entry.
#[derive(Archive, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[rkyv(derive(Debug))]
pub struct ArrayMeta {
    /// Shape, outermost dimension first (C order). Empty for a 0-d scalar.
    pub shape: Vec<u64>,
    /// Index of the data section in the section table.
    pub section: u32,
    /// Dtype code ([`crate::format::Dtype::code`]).
    pub dtype: u8,
}

/// Codec code: the section holds the raw bytes.
pub const CODEC_RAW: u8 = 0;
/// Codec code: the section holds independent zstd frames, one per chunk.
pub const CODEC_ZSTD: u8 = 1;

/// A byte range of the file holding one buffer of one entry.
#[derive(Archive, Serialize, Deserialize, Debug, Clone, PartialEq)]
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
    /// Decoded bytes per chunk (every chunk but the last); 0 for raw sections.
    pub chunk_length: u64,
    /// Chunk index of a compressed section; empty for raw sections.
    pub chunks: Vec<Chunk>,
    /// [`CODEC_RAW`] or [`CODEC_ZSTD`].
    pub codec: u8,
    /// Byte-shuffle element size applied before compression; 0 for none.
    pub shuffle: u8,
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

/// The name of a codec code, for messages.
pub fn codec_name(codec: u8, shuffle: u8) -> &'static str {
    match (codec, shuffle) {
        (CODEC_RAW, _) => "raw",
        (CODEC_ZSTD, 0) => "zstd",
        (CODEC_ZSTD, _) => "zstd+shuffle",
        _ => "unknown",
    }
}
