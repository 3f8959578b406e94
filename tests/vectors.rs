//! Golden test vectors: `spec/vectors/<name>.brine` and their human-readable content in
//! `spec/vectors/<name>.json` (see `spec/vectors/README.md`).
//!
//! For each vector this test
//! 1. builds the file twice with the public [`Writer`] from fixed data and checks that both
//!    builds are byte-identical (reproducible output);
//! 2. reads the *committed* `.brine` file three ways and checks each against the committed
//!    `.json`: with [`Reader`], with `Reader::options().verify(true)`, and with a small parser
//!    written from `spec/FORMAT.md` alone (no rkyv, no brine reader code), which keeps the byte
//!    tables of the spec honest;
//! 3. checks that the values in the `.json` are the ones the vector declares;
//! 4. checks that the fresh build is byte-identical to the committed `.brine`.
//!
//! It never rewrites a golden file on its own. A changed golden file is a format change: to
//! accept one deliberately, run `BRINE_BLESS_VECTORS=1 cargo test --test vectors` and commit
//! the new files together with the spec change that explains them.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

mod common;
use common::Data;

use brine::format::header::Header;
use brine::format::manifest::{
    ArchivedArrayMeta, ArchivedChunk, ArchivedEntry, ArchivedManifest, ArchivedMetaItem,
    ArchivedMetaValue, ArchivedSection, KIND_ARRAY,
};
use brine::{AlignedBuf, Codec, Dtype, EntryOptions, MetaRef, MetaValue, Reader, Writer};
use half::{bf16, f16};
use serde_json::{Map, Value, json};

/// Set to `1` to (re)write the golden files from the current writer.
const BLESS_VAR: &str = "BRINE_BLESS_VECTORS";

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("spec")
        .join("vectors")
}

fn blessing() -> bool {
    std::env::var(BLESS_VAR).is_ok_and(|v| v == "1")
}

// ---------------------------------------------------------------------------------------------
// Declared content of the vectors
// ---------------------------------------------------------------------------------------------

impl Data {
    /// `values` (and `bits` for floats) as they appear in the JSON files.
    fn json(&self, entry: &mut Map<String, Value>) {
        dispatch!(self, v => values_json(v, entry))
    }
}

/// One declared array entry.
struct Array {
    name: String,
    data: Data,
    shape: Vec<usize>,
    codec: Codec,
    chunk_len: Option<usize>,
    metadata: Vec<(String, MetaValue)>,
}

impl Array {
    fn new(name: impl Into<String>, data: Data, shape: &[usize]) -> Array {
        Array {
            name: name.into(),
            data,
            shape: shape.to_vec(),
            codec: Codec::Raw,
            chunk_len: None,
            metadata: Vec::new(),
        }
    }

    fn codec(mut self, codec: Codec) -> Array {
        self.codec = codec;
        self
    }

    fn chunk_len(mut self, bytes: usize) -> Array {
        self.chunk_len = Some(bytes);
        self
    }

    fn meta(mut self, key: &str, value: impl Into<MetaValue>) -> Array {
        self.metadata.push((key.to_owned(), value.into()));
        self
    }

    fn options(&self) -> EntryOptions {
        let mut o = EntryOptions::new().codec(self.codec);
        if let Some(n) = self.chunk_len {
            o = o.chunk_len(n);
        }
        for (k, v) in &self.metadata {
            o = o.metadata(k.clone(), v.clone());
        }
        o
    }

    /// The codec name the reader reports (`ArrayEntry::codec`).
    fn codec_name(&self) -> &'static str {
        match self.codec {
            Codec::Zstd { shuffle: true, .. } if self.data.dtype().size() > 1 => "zstd+shuffle",
            Codec::Zstd { .. } => "zstd",
            _ => "raw",
        }
    }
}

/// One golden file.
struct Vector {
    name: &'static str,
    about: &'static str,
    alignment: Option<u32>,
    metadata: Vec<(String, MetaValue)>,
    arrays: Vec<Array>,
}

impl Vector {
    fn new(name: &'static str, about: &'static str) -> Vector {
        Vector {
            name,
            about,
            alignment: None,
            metadata: Vec::new(),
            arrays: Vec::new(),
        }
    }

    fn alignment(mut self, bytes: u32) -> Vector {
        self.alignment = Some(bytes);
        self
    }

    fn meta(mut self, key: &str, value: impl Into<MetaValue>) -> Vector {
        self.metadata.push((key.to_owned(), value.into()));
        self
    }

    fn array(mut self, array: Array) -> Vector {
        self.arrays.push(array);
        self
    }

    /// Writes the vector with the public writer API, entries in declaration order.
    fn write(&self, path: &Path) {
        let mut options = Writer::options();
        if let Some(a) = self.alignment {
            options = options.alignment(a);
        }
        let mut w = options.create(path).expect("create");
        for (k, v) in &self.metadata {
            w.set_metadata(k.clone(), v.clone());
        }
        for a in &self.arrays {
            let options = a.options();
            dispatch!(&a.data, v => w.put_array_with(&a.name, v, &a.shape, &options))
                .unwrap_or_else(|e| panic!("{}: put {:?}: {e}", self.name, a.name));
        }
        w.finish().expect("finish");
    }

    /// The JSON content the vector declares: what a reader must find, without the layout
    /// facts (`header`, `sections`, `section`) that only the written file knows.
    fn declared_json(&self) -> Value {
        let mut arrays: Vec<&Array> = self.arrays.iter().collect();
        arrays.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
        let entries: Vec<Value> = arrays
            .iter()
            .map(|a| {
                let mut e = Map::new();
                e.insert("name".into(), json!(a.name));
                e.insert("kind".into(), json!("array"));
                e.insert("dtype".into(), json!(a.data.dtype().name()));
                e.insert("shape".into(), json!(a.shape));
                e.insert("codec".into(), json!(a.codec_name()));
                e.insert("metadata".into(), metadata_json(sorted_meta(&a.metadata)));
                a.data.json(&mut e);
                Value::Object(e)
            })
            .collect();
        json!({
            "vector": self.name,
            "description": self.about,
            "format_version": "1.0",
            "metadata": metadata_json(sorted_meta(&self.metadata)),
            "entries": entries,
        })
    }
}

fn sorted_meta(items: &[(String, MetaValue)]) -> Vec<(&str, MetaRef<'_>)> {
    let mut v: Vec<(&str, MetaRef<'_>)> = items
        .iter()
        .map(|(k, v)| {
            let r = match v {
                MetaValue::Str(s) => MetaRef::Str(s),
                MetaValue::Int(i) => MetaRef::Int(*i),
                MetaValue::Float(f) => MetaRef::Float(*f),
                MetaValue::Bool(b) => MetaRef::Bool(*b),
                MetaValue::Bytes(b) => MetaRef::Bytes(b),
            };
            (k.as_str(), r)
        })
        .collect();
    v.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    v
}

/// Removes what only the written file knows, leaving what [`Vector::declared_json`] gives.
fn without_layout(v: &Value) -> Value {
    let mut v = v.clone();
    let o = v.as_object_mut().expect("object");
    o.remove("header");
    o.remove("sections");
    for e in o["entries"].as_array_mut().expect("entries") {
        e.as_object_mut().expect("entry").remove("section");
    }
    v
}

// ---------------------------------------------------------------------------------------------
// JSON encoding of values (documented in spec/vectors/README.md)
// ---------------------------------------------------------------------------------------------

/// How one element type appears in JSON: 8- to 32-bit integers and bools as JSON numbers and
/// booleans; 64-bit integers as decimal strings (JSON numbers lose precision above 2^53 in
/// many parsers); floats as strings (see [`float_text`]) plus their exact bit patterns.
trait JsonElem: Copy {
    /// Whether the type is a float (and so has `bits` in the JSON).
    const FLOAT: bool = false;
    fn value(self) -> Value;
    fn bits(self) -> Value {
        Value::Null
    }
}

macro_rules! json_number {
    ($($t:ty),*) => {$(
        impl JsonElem for $t {
            fn value(self) -> Value {
                json!(self)
            }
        }
    )*};
}
json_number!(bool, i8, i16, i32, u8, u16, u32);

impl JsonElem for i64 {
    fn value(self) -> Value {
        json!(self.to_string())
    }
}
impl JsonElem for u64 {
    fn value(self) -> Value {
        json!(self.to_string())
    }
}

/// A float as text: `"NaN"`, `"inf"`, `"-inf"`, or `shortest`, the shortest decimal that
/// parses back to the same value of its type (`"-0.0"` keeps the sign of zero).
fn float_text(x: f64, shortest: String) -> Value {
    if x.is_nan() {
        json!("NaN")
    } else if x == f64::INFINITY {
        json!("inf")
    } else if x == f64::NEG_INFINITY {
        json!("-inf")
    } else {
        json!(shortest)
    }
}

impl JsonElem for f16 {
    const FLOAT: bool = true;
    fn value(self) -> Value {
        // f16 and bf16 values are exact in f32; the f32 shortest decimal round-trips.
        let x = f32::from(self);
        float_text(f64::from(x), format!("{x:?}"))
    }
    fn bits(self) -> Value {
        json!(format!("0x{:04x}", self.to_bits()))
    }
}
impl JsonElem for bf16 {
    const FLOAT: bool = true;
    fn value(self) -> Value {
        let x = f32::from(self);
        float_text(f64::from(x), format!("{x:?}"))
    }
    fn bits(self) -> Value {
        json!(format!("0x{:04x}", self.to_bits()))
    }
}
impl JsonElem for f32 {
    const FLOAT: bool = true;
    fn value(self) -> Value {
        float_text(f64::from(self), format!("{self:?}"))
    }
    fn bits(self) -> Value {
        json!(format!("0x{:08x}", self.to_bits()))
    }
}
impl JsonElem for f64 {
    const FLOAT: bool = true;
    fn value(self) -> Value {
        float_text(self, format!("{self:?}"))
    }
    fn bits(self) -> Value {
        json!(format!("0x{:016x}", self.to_bits()))
    }
}

fn values_json<T: JsonElem>(values: &[T], entry: &mut Map<String, Value>) {
    entry.insert(
        "values".into(),
        Value::Array(values.iter().map(|v| v.value()).collect()),
    );
    if T::FLOAT {
        entry.insert(
            "bits".into(),
            Value::Array(values.iter().map(|v| v.bits()).collect()),
        );
    }
}

/// Writes JSON for people: keys in a reading order, arrays of scalars packed on few lines.
fn json_text(v: &Value) -> String {
    const ORDER: &[&str] = &[
        "vector",
        "description",
        "format_version",
        "header",
        "alignment",
        "manifest_offset",
        "manifest_length",
        "manifest_checksum",
        "file_length",
        "key",
        "type",
        "name",
        "kind",
        "dtype",
        "shape",
        "codec",
        "section",
        "metadata",
        "value",
        "values",
        "bits",
        "entries",
        "sections",
        "offset",
        "length",
        "checksum",
        "raw_length",
        "chunk_length",
        "shuffle",
        "chunks",
    ];
    fn rank(k: &str) -> usize {
        ORDER.iter().position(|o| *o == k).unwrap_or(ORDER.len())
    }
    fn scalar(v: &Value) -> bool {
        !matches!(v, Value::Array(_) | Value::Object(_))
    }
    fn write(v: &Value, indent: usize, out: &mut String) {
        let pad = " ".repeat(indent + 2);
        match v {
            Value::Object(o) if !o.is_empty() => {
                let mut keys: Vec<&String> = o.keys().collect();
                keys.sort_by_key(|k| (rank(k), k.as_str()));
                out.push_str("{\n");
                for (i, k) in keys.iter().enumerate() {
                    out.push_str(&pad);
                    out.push_str(&Value::String(k.to_string()).to_string());
                    out.push_str(": ");
                    write(&o[k.as_str()], indent + 2, out);
                    out.push_str(if i + 1 < keys.len() { ",\n" } else { "\n" });
                }
                out.push_str(&" ".repeat(indent));
                out.push('}');
            }
            Value::Array(a) if !a.is_empty() => {
                let items: Vec<String> = if a.iter().all(scalar) {
                    a.iter().map(|x| x.to_string()).collect()
                } else {
                    a.iter()
                        .map(|x| {
                            let mut s = String::new();
                            write(x, indent + 2, &mut s);
                            s
                        })
                        .collect()
                };
                let one_line = items.join(", ");
                if a.iter().all(scalar) && one_line.len() + indent < 80 {
                    out.push('[');
                    out.push_str(&one_line);
                    out.push(']');
                    return;
                }
                out.push_str("[\n");
                if a.iter().all(scalar) {
                    let mut line = String::new();
                    for (i, item) in items.iter().enumerate() {
                        let item = if i + 1 < items.len() {
                            format!("{item},")
                        } else {
                            item.clone()
                        };
                        if !line.is_empty() && pad.len() + line.len() + 1 + item.len() > 100 {
                            out.push_str(&pad);
                            out.push_str(&line);
                            out.push('\n');
                            line.clear();
                        }
                        if !line.is_empty() {
                            line.push(' ');
                        }
                        line.push_str(&item);
                    }
                    out.push_str(&pad);
                    out.push_str(&line);
                    out.push('\n');
                } else {
                    for (i, item) in items.iter().enumerate() {
                        out.push_str(&pad);
                        out.push_str(item);
                        out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
                    }
                }
                out.push_str(&" ".repeat(indent));
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    write(v, 0, &mut out);
    out.push('\n');
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn checksum_json(x: u64) -> Value {
    json!(format!("0x{x:016x}"))
}

fn metadata_json<'a>(items: impl IntoIterator<Item = (&'a str, MetaRef<'a>)>) -> Value {
    Value::Array(
        items
            .into_iter()
            .map(|(key, value)| match value {
                MetaRef::Str(s) => json!({"key": key, "type": "str", "value": s}),
                MetaRef::Int(i) => json!({"key": key, "type": "int", "value": i.to_string()}),
                MetaRef::Float(f) => json!({
                    "key": key,
                    "type": "float",
                    "value": f.value(),
                    "bits": f.bits(),
                }),
                MetaRef::Bool(b) => json!({"key": key, "type": "bool", "value": b}),
                MetaRef::Bytes(b) => json!({"key": key, "type": "bytes", "value": hex(b)}),
            })
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------------
// Reading a file with brine
// ---------------------------------------------------------------------------------------------

/// Everything a file holds, as JSON, read with brine's reader (and, for the layout facts,
/// brine's header decoder and the archived manifest types).
fn describe_with_brine(path: &Path, reader: &Reader, vector: &Vector) -> Value {
    let bytes = std::fs::read(path).expect("read vector");
    let header = Header::decode(path, &bytes, bytes.len() as u64).expect("header");
    let buf = AlignedBuf::copy_from_slice(&bytes);
    let m = rkyv::access::<ArchivedManifest, rancor::Error>(
        &buf.as_slice()[header.manifest_offset as usize..],
    )
    .expect("manifest");

    let mut entries = Vec::new();
    assert_eq!(reader.entries().len(), m.entries.len());
    for (i, (e, archived)) in reader.entries().zip(m.entries.iter()).enumerate() {
        assert_eq!(e.name(), m.name(i));
        assert_eq!(archived.kind, KIND_ARRAY);
        let meta = &m.arrays[archived.index.to_native() as usize];
        let a = e.as_array().expect("array entry");
        let mut o = Map::new();
        o.insert("name".into(), json!(e.name()));
        o.insert("kind".into(), json!(e.kind().name()));
        o.insert("dtype".into(), json!(a.dtype().name()));
        o.insert("shape".into(), json!(a.shape()));
        o.insert("codec".into(), json!(a.codec()));
        o.insert("section".into(), json!(meta.section.to_native()));
        o.insert("metadata".into(), metadata_json(e.metadata().iter()));
        macro_rules! read {
            ($t:ty) => {{
                let view = a.view::<$t>().expect("view");
                assert_eq!(view.shape(), a.shape());
                values_json(view.as_slice(), &mut o);
            }};
        }
        match a.dtype() {
            Dtype::Bool => read!(bool),
            Dtype::I8 => read!(i8),
            Dtype::I16 => read!(i16),
            Dtype::I32 => read!(i32),
            Dtype::I64 => read!(i64),
            Dtype::U8 => read!(u8),
            Dtype::U16 => read!(u16),
            Dtype::U32 => read!(u32),
            Dtype::U64 => read!(u64),
            Dtype::F16 => read!(f16),
            Dtype::BF16 => read!(bf16),
            Dtype::F32 => read!(f32),
            Dtype::F64 => read!(f64),
            other => panic!("dtype {other} has no vector support yet"),
        }
        entries.push(Value::Object(o));
    }
    let sections: Vec<Value> = m
        .sections
        .iter()
        .enumerate()
        .map(|(i, s)| section_json_brine(s, m.section_chunks(i)))
        .collect();
    json!({
        "vector": vector.name,
        "description": vector.about,
        "format_version": reader.version().to_string(),
        "header": {
            "alignment": header.alignment,
            "manifest_offset": header.manifest_offset,
            "manifest_length": header.manifest_len,
            "manifest_checksum": checksum_json(header.manifest_checksum),
            "file_length": header.file_len,
        },
        "metadata": metadata_json(reader.metadata().iter()),
        "entries": entries,
        "sections": sections,
    })
}

fn section_json_brine(s: &ArchivedSection, chunks: &[ArchivedChunk]) -> Value {
    let chunks: Vec<Value> = chunks
        .iter()
        .map(|c: &ArchivedChunk| {
            json!({
                "offset": c.offset.to_native(),
                "length": c.length.to_native(),
                "checksum": checksum_json(c.checksum.to_native()),
            })
        })
        .collect();
    json!({
        "offset": s.offset.to_native(),
        "length": s.length.to_native(),
        "checksum": checksum_json(s.checksum.to_native()),
        "raw_length": s.raw_length.to_native(),
        "chunk_length": s.chunk_length.to_native(),
        "codec": s.codec,
        "shuffle": s.shuffle,
        "chunks": chunks,
    })
}

// ---------------------------------------------------------------------------------------------
// Reading a file from the spec alone
// ---------------------------------------------------------------------------------------------

/// A reader written from spec/FORMAT.md alone: plain byte offsets, no rkyv, no brine code.
/// It trusts the file (the vectors are valid); its point is to check the spec: the byte tables
/// (by reading every vector), and the canonical layout of §5.8 (by writing the parsed manifest
/// again with that procedure and comparing bytes).
mod by_spec {
    use std::ops::Range;

    use super::*;

    fn u16_at(b: &[u8], at: usize) -> u16 {
        u16::from_le_bytes(b[at..at + 2].try_into().unwrap())
    }
    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
    }
    fn i32_at(b: &[u8], at: usize) -> i32 {
        i32::from_le_bytes(b[at..at + 4].try_into().unwrap())
    }
    fn u64_at(b: &[u8], at: usize) -> u64 {
        u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
    }

    /// The target of the relative pointer at `at`, relative to `base` (§5.3).
    fn follow(m: &[u8], base: usize, at: usize) -> usize {
        base.checked_add_signed(i32_at(m, at) as isize)
            .expect("pointer")
    }

    /// An `ArchivedVec` at `at`: (position of the first element, length) (§5.4).
    fn vec_at(m: &[u8], at: usize) -> (usize, usize) {
        (follow(m, at, at), u32_at(m, at + 4) as usize)
    }

    /// The positions of the `size`-byte records of the `ArchivedVec` at `at`.
    fn table(m: &[u8], at: usize, size: usize) -> impl Iterator<Item = usize> {
        let (p, n) = vec_at(m, at);
        (0..n).map(move |i| p + size * i)
    }

    /// An `ArchivedString` at `at` (§5.5).
    fn string_at(m: &[u8], at: usize) -> String {
        let bytes = if m[at] & 0xc0 != 0x80 {
            let inline = &m[at..at + 8];
            let len = inline.iter().position(|&b| b == 0xff).unwrap_or(8);
            &inline[..len]
        } else {
            let v = u32_at(m, at);
            let len = ((v & 0x3f) | ((v >> 8) << 6)) as usize;
            assert!(len > 8, "out-of-line string of {len} bytes");
            let start = follow(m, at, at + 4);
            &m[start..start + len]
        };
        String::from_utf8(bytes.to_vec()).expect("utf-8")
    }

    /// Item `i` of a run delimited by end offsets (§5.1): `ends[i - 1]..ends[i]`, and
    /// `0..ends[0]` for the first.
    fn span(ends: &[u32], i: usize) -> Range<usize> {
        let start = if i == 0 { 0 } else { ends[i - 1] as usize };
        let end = ends[i] as usize;
        assert!(start <= end, "end offsets decrease at row {i}");
        start..end
    }

    /// The last end offset of a column, 0 for an empty table: the length of the table the
    /// offsets delimit (§5.1: nothing is left unreferenced).
    fn last(ends: &[u32]) -> usize {
        ends.last().map_or(0, |&e| e as usize)
    }

    #[derive(Debug)]
    enum Val {
        Str(String),
        Int(i64),
        Float(f64),
        Bool(bool),
        Bytes(Vec<u8>),
    }

    /// A row of the entry table (§5.7, `ArchivedEntry`).
    struct EntryRow {
        name_end: u32,
        metadata_end: u32,
        index: u32,
        kind: u8,
    }

    /// A row of the array table (`ArchivedArrayMeta`).
    struct ArrayRow {
        section: u32,
        dims_end: u32,
        dtype: u8,
    }

    /// A row of the section table (`ArchivedSection`).
    struct SectionRow {
        offset: u64,
        length: u64,
        checksum: u64,
        raw_length: u64,
        chunks_end: u32,
        chunk_length: u32,
        codec: u8,
        shuffle: u8,
    }

    /// A row of the chunk table (`ArchivedChunk`).
    struct Chunk {
        offset: u64,
        length: u64,
        checksum: u64,
    }

    /// The root's tables, as stored (§5.1).
    struct Tables {
        names: String,
        entries: Vec<EntryRow>,
        arrays: Vec<ArrayRow>,
        dims: Vec<u64>,
        sections: Vec<SectionRow>,
        chunks: Vec<Chunk>,
        metadata: Vec<(String, Val)>,
        entry_metadata: Vec<(String, Val)>,
    }

    /// `Vec<ArchivedMetaItem>` at `at` (items of 24 bytes; values of 16 bytes at item + 8).
    fn metadata_at(m: &[u8], at: usize) -> Vec<(String, Val)> {
        table(m, at, 24)
            .map(|item| {
                let v = item + 8;
                let value = match m[v] {
                    0 => Val::Str(string_at(m, v + 4)),
                    1 => Val::Int(u64_at(m, v + 8) as i64),
                    2 => Val::Float(f64::from_bits(u64_at(m, v + 8))),
                    3 => Val::Bool(match m[v + 1] {
                        0 => false,
                        1 => true,
                        x => panic!("bool byte {x}"),
                    }),
                    4 => {
                        let (bp, bn) = vec_at(m, v + 4);
                        Val::Bytes(m[bp..bp + bn].to_vec())
                    }
                    t => panic!("unknown metadata tag {t}"),
                };
                (string_at(m, item), value)
            })
            .collect()
    }

    fn parse(m: &[u8], root_length: usize) -> Tables {
        assert_eq!(root_length, 64, "§4: the 1.0 root is 64 bytes");
        let root = m.len() - root_length; // §5.8: the root ends the manifest
        let zero = |r: Range<usize>| m[r].iter().all(|&b| b == 0);
        Tables {
            names: string_at(m, root),
            entries: table(m, root + 8, 16) // ArchivedEntry
                .map(|e| {
                    assert!(zero(e + 13..e + 16), "entry reserved bytes");
                    EntryRow {
                        name_end: u32_at(m, e),
                        metadata_end: u32_at(m, e + 4),
                        index: u32_at(m, e + 8),
                        kind: m[e + 12],
                    }
                })
                .collect(),
            arrays: table(m, root + 16, 12) // ArchivedArrayMeta
                .map(|a| {
                    assert!(zero(a + 9..a + 12), "array reserved bytes");
                    ArrayRow {
                        section: u32_at(m, a),
                        dims_end: u32_at(m, a + 4),
                        dtype: m[a + 8],
                    }
                })
                .collect(),
            dims: table(m, root + 24, 8).map(|d| u64_at(m, d)).collect(),
            sections: table(m, root + 32, 48) // ArchivedSection
                .map(|s| {
                    assert!(zero(s + 42..s + 48), "section reserved bytes");
                    SectionRow {
                        offset: u64_at(m, s),
                        length: u64_at(m, s + 8),
                        checksum: u64_at(m, s + 16),
                        raw_length: u64_at(m, s + 24),
                        chunks_end: u32_at(m, s + 32),
                        chunk_length: u32_at(m, s + 36),
                        codec: m[s + 40],
                        shuffle: m[s + 41],
                    }
                })
                .collect(),
            chunks: table(m, root + 40, 24) // ArchivedChunk
                .map(|c| Chunk {
                    offset: u64_at(m, c),
                    length: u64_at(m, c + 8),
                    checksum: u64_at(m, c + 16),
                })
                .collect(),
            metadata: metadata_at(m, root + 48),
            entry_metadata: metadata_at(m, root + 56),
        }
    }

    /// The canonical layout of §5.8, step by step.
    #[derive(Default)]
    struct Out(Vec<u8>);

    impl Out {
        fn pos(&self) -> usize {
            self.0.len()
        }
        fn pad(&mut self, align: usize) {
            while self.0.len() % align != 0 {
                self.0.push(0);
            }
        }
        fn put(&mut self, bytes: &[u8]) {
            self.0.extend_from_slice(bytes);
        }
        /// A relative pointer at `at`, relative to `base`, to `target`.
        fn rel(base: usize, target: usize) -> [u8; 4] {
            i32::try_from(target as i64 - base as i64)
                .expect("pointer reach")
                .to_le_bytes()
        }
        fn vec(at: usize, target: usize, len: usize) -> [u8; 8] {
            let mut b = [0; 8];
            b[..4].copy_from_slice(&Self::rel(at, target));
            b[4..].copy_from_slice(&(len as u32).to_le_bytes());
            b
        }
        /// Children of a string: its bytes if out of line.
        fn string_children(&mut self, s: &str) -> usize {
            let p = self.pos();
            if s.len() > 8 {
                self.put(s.as_bytes());
            }
            p
        }
        fn string(at: usize, s: &str, target: usize) -> [u8; 8] {
            let mut b = [0xff; 8];
            if s.len() <= 8 {
                b[..s.len()].copy_from_slice(s.as_bytes());
            } else {
                let n = s.len() as u32;
                let tagged = (n & 0x3f) | 0x80 | ((n >> 6) << 8);
                b[..4].copy_from_slice(&tagged.to_le_bytes());
                b[4..].copy_from_slice(&Self::rel(at, target));
            }
            b
        }
        /// A table of plain records: pad to the record alignment, then the records.
        fn records<const N: usize>(
            &mut self,
            align: usize,
            rows: impl Iterator<Item = [u8; N]>,
        ) -> usize {
            self.pad(align);
            let start = self.pos();
            for row in rows {
                self.put(&row);
            }
            start
        }
        /// `Vec<MetaItem>`: children of every item, then the items.
        fn metadata(&mut self, items: &[(String, Val)]) -> usize {
            let children: Vec<(usize, usize)> = items
                .iter()
                .map(|(k, v)| {
                    let key = self.string_children(k);
                    let value = match v {
                        Val::Str(s) => self.string_children(s),
                        Val::Bytes(b) => {
                            let p = self.pos();
                            self.put(b);
                            p
                        }
                        _ => 0,
                    };
                    (key, value)
                })
                .collect();
            self.pad(8);
            let start = self.pos();
            for ((k, v), (key, value)) in items.iter().zip(children) {
                let item = self.pos();
                let mut b = [0u8; 24];
                b[..8].copy_from_slice(&Self::string(item, k, key));
                let at = item + 12;
                match v {
                    Val::Str(s) => {
                        b[8] = 0;
                        b[12..20].copy_from_slice(&Self::string(at, s, value));
                    }
                    Val::Int(i) => {
                        b[8] = 1;
                        b[16..24].copy_from_slice(&i.to_le_bytes());
                    }
                    Val::Float(f) => {
                        b[8] = 2;
                        b[16..24].copy_from_slice(&f.to_bits().to_le_bytes());
                    }
                    Val::Bool(x) => {
                        b[8] = 3;
                        b[9] = u8::from(*x);
                    }
                    Val::Bytes(bytes) => {
                        b[8] = 4;
                        b[12..20].copy_from_slice(&Self::vec(at, value, bytes.len()));
                    }
                }
                self.put(&b);
            }
            start
        }
    }

    /// Writes `t` again in the canonical layout: the children of the root's fields in field
    /// order (the names' bytes, then each table), then the root.
    fn canonical(t: &Tables) -> Vec<u8> {
        let mut o = Out::default();
        let names = o.string_children(&t.names);
        let entries = o.records(
            4,
            t.entries.iter().map(|e| {
                let mut b = [0u8; 16];
                b[..4].copy_from_slice(&e.name_end.to_le_bytes());
                b[4..8].copy_from_slice(&e.metadata_end.to_le_bytes());
                b[8..12].copy_from_slice(&e.index.to_le_bytes());
                b[12] = e.kind;
                b
            }),
        );
        let arrays = o.records(
            4,
            t.arrays.iter().map(|a| {
                let mut b = [0u8; 12];
                b[..4].copy_from_slice(&a.section.to_le_bytes());
                b[4..8].copy_from_slice(&a.dims_end.to_le_bytes());
                b[8] = a.dtype;
                b
            }),
        );
        let dims = o.records(8, t.dims.iter().map(|d| d.to_le_bytes()));
        let sections = o.records(
            8,
            t.sections.iter().map(|s| {
                let mut b = [0u8; 48];
                for (i, x) in [s.offset, s.length, s.checksum, s.raw_length]
                    .into_iter()
                    .enumerate()
                {
                    b[8 * i..8 * i + 8].copy_from_slice(&x.to_le_bytes());
                }
                b[32..36].copy_from_slice(&s.chunks_end.to_le_bytes());
                b[36..40].copy_from_slice(&s.chunk_length.to_le_bytes());
                b[40] = s.codec;
                b[41] = s.shuffle;
                b
            }),
        );
        let chunks = o.records(
            8,
            t.chunks.iter().map(|c| {
                let mut b = [0u8; 24];
                for (i, x) in [c.offset, c.length, c.checksum].into_iter().enumerate() {
                    b[8 * i..8 * i + 8].copy_from_slice(&x.to_le_bytes());
                }
                b
            }),
        );
        let metadata = o.metadata(&t.metadata);
        let entry_metadata = o.metadata(&t.entry_metadata);
        // The root.
        o.pad(4);
        let root = o.pos();
        o.put(&Out::string(root, &t.names, names));
        for (i, (target, len)) in [
            (entries, t.entries.len()),
            (arrays, t.arrays.len()),
            (dims, t.dims.len()),
            (sections, t.sections.len()),
            (chunks, t.chunks.len()),
            (metadata, t.metadata.len()),
            (entry_metadata, t.entry_metadata.len()),
        ]
        .into_iter()
        .enumerate()
        {
            o.put(&Out::vec(root + 8 * (i + 1), target, len));
        }
        o.0
    }

    /// The decoded bytes of a section (§8).
    fn decode(file: &[u8], s: &SectionRow, chunks: &[Chunk]) -> Vec<u8> {
        let stored = &file[s.offset as usize..(s.offset + s.length) as usize];
        assert_eq!(
            xxhash_rust::xxh3::xxh3_64(stored),
            s.checksum,
            "section checksum"
        );
        match s.codec {
            0 => stored.to_vec(),
            1 => {
                let mut out = Vec::new();
                let chunk_length = u64::from(s.chunk_length);
                assert_eq!(
                    chunks.len() as u64,
                    s.raw_length.div_ceil(chunk_length),
                    "chunk count"
                );
                for (i, c) in chunks.iter().enumerate() {
                    let n = chunk_length.min(s.raw_length - i as u64 * chunk_length);
                    let frame = &stored[c.offset as usize..(c.offset + c.length) as usize];
                    let plain = zstd::bulk::decompress(frame, n as usize).expect("zstd");
                    assert_eq!(plain.len() as u64, n);
                    let chunk = if s.shuffle > 1 {
                        unshuffle(&plain, usize::from(s.shuffle))
                    } else {
                        plain
                    };
                    assert_eq!(
                        xxhash_rust::xxh3::xxh3_64(&chunk),
                        c.checksum,
                        "chunk checksum"
                    );
                    out.extend_from_slice(&chunk);
                }
                out
            }
            c => panic!("unknown codec {c}"),
        }
    }

    /// Inverse of the byte shuffle (§8.4): `raw[i*s + j] = shuffled[j*n + i]`.
    fn unshuffle(shuffled: &[u8], s: usize) -> Vec<u8> {
        let n = shuffled.len() / s;
        let mut raw = shuffled.to_vec();
        for i in 0..n {
            for j in 0..s {
                raw[i * s + j] = shuffled[j * n + i];
            }
        }
        raw
    }

    fn values(dtype: u8, bytes: &[u8], entry: &mut Map<String, Value>) {
        macro_rules! le {
            ($t:ty, $n:expr, $from:expr) => {{
                let v: Vec<$t> = bytes
                    .chunks_exact($n)
                    .map(|c| $from(c.try_into().unwrap()))
                    .collect();
                values_json(&v, entry)
            }};
        }
        match dtype {
            0 => le!(bool, 1, |c: [u8; 1]| match c[0] {
                0 => false,
                1 => true,
                x => panic!("bool byte {x}"),
            }),
            1 => le!(i8, 1, i8::from_le_bytes),
            2 => le!(i16, 2, i16::from_le_bytes),
            3 => le!(i32, 4, i32::from_le_bytes),
            4 => le!(i64, 8, i64::from_le_bytes),
            5 => le!(u8, 1, u8::from_le_bytes),
            6 => le!(u16, 2, u16::from_le_bytes),
            7 => le!(u32, 4, u32::from_le_bytes),
            8 => le!(u64, 8, u64::from_le_bytes),
            9 => le!(f16, 2, |c| f16::from_bits(u16::from_le_bytes(c))),
            10 => le!(bf16, 2, |c| bf16::from_bits(u16::from_le_bytes(c))),
            11 => le!(f32, 4, f32::from_le_bytes),
            12 => le!(f64, 8, f64::from_le_bytes),
            d => panic!("unknown dtype {d}"),
        }
    }

    const DTYPES: [(&str, u64); 13] = [
        ("bool", 1),
        ("i8", 1),
        ("i16", 2),
        ("i32", 4),
        ("i64", 8),
        ("u8", 1),
        ("u16", 2),
        ("u32", 4),
        ("u64", 8),
        ("f16", 2),
        ("bf16", 2),
        ("f32", 4),
        ("f64", 8),
    ];

    fn metadata_json(items: &[(String, Val)]) -> Value {
        super::metadata_json(items.iter().map(|(k, v)| {
            let r = match v {
                Val::Str(s) => MetaRef::Str(s),
                Val::Int(i) => MetaRef::Int(*i),
                Val::Float(f) => MetaRef::Float(*f),
                Val::Bool(b) => MetaRef::Bool(*b),
                Val::Bytes(b) => MetaRef::Bytes(b),
            };
            (k.as_str(), r)
        }))
    }

    pub fn describe(file: &[u8], vector: &Vector) -> Value {
        // Header (§4).
        assert_eq!(&file[0..8], b"\x89BRINE\r\n");
        assert_eq!(
            xxhash_rust::xxh3::xxh3_64(&file[..120]),
            u64_at(file, 120),
            "header checksum"
        );
        assert_eq!(&file[20..23], &[0, 1, 4], "rkyv layout bytes");
        let zero = |r: std::ops::Range<usize>| file[r.clone()].iter().all(|&b| b == 0);
        assert!(zero(23..24) && zero(64..120), "reserved bytes");
        let (mo, ml) = (u64_at(file, 32) as usize, u64_at(file, 40) as usize);
        assert_eq!(mo % 64, 0);
        assert_eq!(mo + ml, file.len());
        assert_eq!(u64_at(file, 56) as usize, file.len());
        let m = &file[mo..];
        assert_eq!(xxhash_rust::xxh3::xxh3_64(m), u64_at(file, 48));

        // Manifest (§5), and its canonical layout (§5.8).
        let t = parse(m, u32_at(file, 28) as usize);
        assert!(
            canonical(&t) == m,
            "the manifest is not in the canonical layout of FORMAT.md §5.8"
        );

        // The end-offset columns delimit their tables exactly (§5.1).
        let name_ends: Vec<u32> = t.entries.iter().map(|e| e.name_end).collect();
        let metadata_ends: Vec<u32> = t.entries.iter().map(|e| e.metadata_end).collect();
        let dims_ends: Vec<u32> = t.arrays.iter().map(|a| a.dims_end).collect();
        let chunks_ends: Vec<u32> = t.sections.iter().map(|s| s.chunks_end).collect();
        assert_eq!(last(&name_ends), t.names.len(), "names");
        assert_eq!(
            last(&metadata_ends),
            t.entry_metadata.len(),
            "entry metadata"
        );
        assert_eq!(last(&dims_ends), t.dims.len(), "dims");
        assert_eq!(last(&chunks_ends), t.chunks.len(), "chunks");

        // Sections (§6): in bounds, sorted, aligned, zero bytes in between.
        let unit = u64::from(u32_at(file, 24));
        let mut end = 128;
        for s in &t.sections {
            assert!(s.offset >= end && s.offset + s.length <= mo as u64);
            let align = if s.raw_length >= 4096 { unit } else { 64 };
            assert_eq!(s.offset % align, 0, "section alignment");
            assert!(
                zero(end as usize..s.offset as usize),
                "padding before a section"
            );
            end = s.offset + s.length;
        }
        assert!(zero(end as usize..mo), "padding before the manifest");

        // Entries (§7): kind 0, and the `index`-th array entry has array row `index`.
        let mut arrays = 0;
        let entries: Vec<Value> = t
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                assert_eq!(e.kind, 0, "entry kind: array");
                assert_eq!(e.index, arrays, "array row of entry {i}");
                arrays += 1;
                let a = &t.arrays[e.index as usize];
                let shape = &t.dims[span(&dims_ends, e.index as usize)];
                let s = &t.sections[a.section as usize];
                let chunks = &t.chunks[span(&chunks_ends, a.section as usize)];
                let (dtype, size) = DTYPES[a.dtype as usize];
                assert_eq!(size * shape.iter().product::<u64>(), s.raw_length);
                let codec = match (s.codec, s.shuffle) {
                    (0, _) => "raw",
                    (1, 0) => "zstd",
                    _ => "zstd+shuffle",
                };
                let mut o = Map::new();
                o.insert("name".into(), json!(&t.names[span(&name_ends, i)]));
                o.insert("kind".into(), json!("array"));
                o.insert("dtype".into(), json!(dtype));
                o.insert("shape".into(), json!(shape));
                o.insert("codec".into(), json!(codec));
                o.insert("section".into(), json!(a.section));
                o.insert(
                    "metadata".into(),
                    metadata_json(&t.entry_metadata[span(&metadata_ends, i)]),
                );
                values(a.dtype, &decode(file, s, chunks), &mut o);
                Value::Object(o)
            })
            .collect();
        assert_eq!(
            arrays as usize,
            t.arrays.len(),
            "one array row per array entry"
        );
        let sections: Vec<Value> = t
            .sections
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let chunks: Vec<Value> = t.chunks[span(&chunks_ends, i)]
                    .iter()
                    .map(|c| {
                        json!({
                            "offset": c.offset,
                            "length": c.length,
                            "checksum": checksum_json(c.checksum),
                        })
                    })
                    .collect();
                json!({
                    "offset": s.offset,
                    "length": s.length,
                    "checksum": checksum_json(s.checksum),
                    "raw_length": s.raw_length,
                    "chunk_length": s.chunk_length,
                    "codec": s.codec,
                    "shuffle": s.shuffle,
                    "chunks": chunks,
                })
            })
            .collect();
        json!({
            "vector": vector.name,
            "description": vector.about,
            "format_version": format!("{}.{}", u16_at(file, 8), u16_at(file, 10)),
            "header": {
                "alignment": unit,
                "manifest_offset": mo,
                "manifest_length": ml,
                "manifest_checksum": checksum_json(u64_at(file, 48)),
                "file_length": file.len(),
            },
            "metadata": metadata_json(&t.metadata),
            "entries": entries,
            "sections": sections,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The vectors
// ---------------------------------------------------------------------------------------------

/// A deterministic pseudo-random sequence in [0, 1) (a 64-bit LCG), so vectors hold
/// irregular data without a random number generator.
fn lcg(n: usize, seed: u64) -> Vec<f64> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 11) as f64 / (1u64 << 53) as f64
        })
        .collect()
}

fn vector(name: &str) -> Vector {
    match name {
        "empty" => Vector::new(
            "empty",
            "no entries and no metadata: a header and an empty manifest",
        ),
        "short-names" => Vector::new(
            "short-names",
            "three entries whose names total 8 bytes or less, so the names string is stored \
             inline in the root",
        )
        .array(Array::new("a", Data::U8(vec![1, 2, 3]), &[3]))
        .array(Array::new("bc", Data::I16(vec![-1]), &[1]))
        .array(Array::new("d", Data::Bool(vec![true, false]), &[2])),
        "one-entry" => Vector::new(
            "one-entry",
            "the worked example of spec/FORMAT.md: one raw f32 array with an out-of-line \
             name and one entry metadata item, and one file metadata item",
        )
        .meta("version", 3i64)
        .array(Array::new("temperature", Data::F32(vec![20.5, 21.0]), &[2]).meta("unit", "degC")),
        "arrays-every-dtype" => {
            let f = [
                0.0,
                -0.0,
                1.0,
                -2.5,
                0.1,
                f64::NAN,
                f64::INFINITY,
                f64::NEG_INFINITY,
            ];
            Vector::new(
                "arrays-every-dtype",
                "one raw array of each of the 13 dtypes, written in dtype-code order (the \
                 section table is in that order, the entries are sorted by name); integers at \
                 their extremes, floats with -0.0, NaN, infinities, subnormals and extremes",
            )
            .array(Array::new(
                "bool",
                Data::Bool(vec![false, true, true]),
                &[3],
            ))
            .array(Array::new(
                "i8",
                Data::I8(vec![i8::MIN, -1, 0, 1, i8::MAX]),
                &[5],
            ))
            .array(Array::new(
                "i16",
                Data::I16(vec![i16::MIN, -1, 0, 1, i16::MAX]),
                &[5],
            ))
            .array(Array::new(
                "i32",
                Data::I32(vec![i32::MIN, -1, 0, 1, i32::MAX]),
                &[5],
            ))
            .array(Array::new(
                "i64",
                Data::I64(vec![i64::MIN, -1, 0, 1, i64::MAX]),
                &[5],
            ))
            .array(Array::new(
                "u8",
                Data::U8(vec![0, 1, 0x7f, 0x80, u8::MAX]),
                &[5],
            ))
            .array(Array::new(
                "u16",
                Data::U16(vec![0, 1, 0x1234, u16::MAX]),
                &[4],
            ))
            .array(Array::new(
                "u32",
                Data::U32(vec![0, 1, 0x1234_5678, u32::MAX]),
                &[4],
            ))
            .array(Array::new(
                "u64",
                Data::U64(vec![0, 1, 0x0123_4567_89ab_cdef, u64::MAX]),
                &[4],
            ))
            .array(Array::new(
                "f16",
                Data::F16(
                    f.iter()
                        .map(|&x| f16::from_f64(x))
                        .chain([f16::MIN_POSITIVE_SUBNORMAL, f16::MAX, f16::MIN])
                        .collect(),
                ),
                &[11],
            ))
            .array(Array::new(
                "bf16",
                Data::BF16(
                    f.iter()
                        .map(|&x| bf16::from_f64(x))
                        .chain([bf16::MIN_POSITIVE_SUBNORMAL, bf16::MAX, bf16::MIN])
                        .collect(),
                ),
                &[11],
            ))
            .array(Array::new(
                "f32",
                Data::F32(
                    f.iter()
                        .map(|&x| x as f32)
                        .chain([f32::from_bits(1), f32::MIN_POSITIVE, f32::MAX, f32::MIN])
                        .collect(),
                ),
                &[12],
            ))
            .array(Array::new(
                "f64",
                Data::F64(
                    f.iter()
                        .copied()
                        .chain([f64::from_bits(1), f64::MIN_POSITIVE, f64::MAX, f64::MIN])
                        .collect(),
                ),
                &[12],
            ))
        }
        "shapes" => Vector::new(
            "shapes",
            "shapes: a 3-d array, a 0-d scalar (empty shape), zero-length dimensions (empty \
             sections that share their offset with the next section), a column, and a \
             6-d array",
        )
        .array(Array::new("cube", Data::U16((0..24).collect()), &[2, 3, 4]))
        .array(Array::new("scalar", Data::F64(vec![3.25]), &[]))
        .array(Array::new("empty-dims", Data::I32(vec![]), &[3, 0, 2]))
        .array(Array::new("empty-1d", Data::F32(vec![]), &[0]))
        .array(Array::new("column", Data::I8(vec![-2, -1, 1, 2]), &[4, 1]))
        .array(Array::new(
            "rank-6",
            Data::U8((1..=8).collect()),
            &[1, 2, 1, 2, 1, 2],
        )),
        "zstd" => Vector::new(
            "zstd",
            "zstd-compressed arrays (level 3, no shuffle) with small chunk lengths: a last \
             partial chunk, a chunk length rounded down to whole elements (1001 -> 1000), a \
             section of at least 4096 decoded bytes on the alignment unit, a section of whole \
             chunks only, and an empty compressed array (no chunks)",
        )
        .array(
            Array::new(
                "counts",
                Data::I32((0..250).map(|i| i / 7).collect()),
                &[250],
            )
            .codec(Codec::zstd(3))
            .chunk_len(256),
        )
        .array(
            Array::new(
                "grid",
                Data::I64((0..512).map(|i| i % 37 - 18).collect()),
                &[16, 32],
            )
            .codec(Codec::zstd(3))
            .chunk_len(1001),
        )
        .array(
            Array::new("nothing", Data::F32(vec![]), &[0])
                .codec(Codec::zstd(3))
                .chunk_len(64),
        )
        .array(
            Array::new(
                "bytes",
                Data::U8((0..300).map(|i| (i % 13) as u8).collect()),
                &[300],
            )
            .codec(Codec::zstd(3))
            .chunk_len(100),
        ),
        "zstd-shuffle" => {
            let mut walk = 0.0f32;
            let walk: Vec<f32> = lcg(200, 1)
                .into_iter()
                .map(|r| {
                    walk += ((r * 8.0).floor() as f32 - 3.5) * 0.125;
                    walk
                })
                .collect();
            let mixed: Vec<f64> = lcg(50, 2)
                .into_iter()
                .enumerate()
                .map(|(i, r)| match i {
                    3 => f64::NAN,
                    7 => -0.0,
                    11 => f64::INFINITY,
                    _ => (r * 1000.0).round() / 8.0,
                })
                .collect();
            Vector::new(
                "zstd-shuffle",
                "zstd-compressed arrays with the byte-shuffle filter (element sizes 2, 4 and \
                 8), several chunks with a last partial one, a single-chunk section with the \
                 default chunk length, and a u8 array whose shuffle request is dropped \
                 (1-byte elements are stored with shuffle 0)",
            )
            .array(
                Array::new("walk", Data::F32(walk), &[200])
                    .codec(Codec::zstd_shuffled(3))
                    .chunk_len(256),
            )
            .array(
                Array::new(
                    "ramp",
                    Data::U16((0..200).map(|i| i * 300).collect()),
                    &[200],
                )
                .codec(Codec::zstd_shuffled(3))
                .chunk_len(150),
            )
            .array(
                Array::new("mixed", Data::F64(mixed), &[5, 10])
                    .codec(Codec::zstd_shuffled(3))
                    .chunk_len(128),
            )
            .array(
                Array::new(
                    "one-chunk",
                    Data::I64((0..10).map(|i| i * i - 20).collect()),
                    &[10],
                )
                .codec(Codec::zstd_shuffled(3)),
            )
            .array(
                Array::new(
                    "bytes",
                    Data::U8((0..100).map(|i| (i * i) as u8).collect()),
                    &[100],
                )
                .codec(Codec::zstd_shuffled(3))
                .chunk_len(64),
            )
        }
        "metadata" => Vector::new(
            "metadata",
            "file metadata of every value type (str, int, float, bool, bytes), including \
             empty, inline and out-of-line strings, extreme integers, NaN, -0.0 and \
             infinity; entry metadata on one entry, none on the other",
        )
        .meta("str", "short")
        .meta("str-empty", "")
        .meta("str-long", "a string longer than eight bytes")
        .meta("str-unicode", "Grüße, 世界")
        .meta("int", -42i64)
        .meta("int-max", i64::MAX)
        .meta("int-min", i64::MIN)
        .meta("float", 0.1f64)
        .meta("float-neg-zero", -0.0f64)
        .meta("float-nan", f64::NAN)
        .meta("float-inf", f64::INFINITY)
        .meta("bool-true", true)
        .meta("bool-false", false)
        .meta("bytes", vec![0x00u8, 0x01, 0x7f, 0x80, 0xff])
        .meta("bytes-empty", Vec::<u8>::new())
        .array(
            Array::new("with-metadata", Data::F32(vec![1.5, -1.5]), &[2])
                .meta("unit", "m/s")
                .meta("scale", 0.5f64)
                .meta("valid", true)
                .meta("id", 7i64)
                .meta("raw", vec![1u8, 2, 3]),
        )
        .array(Array::new("without-metadata", Data::U8(vec![42]), &[1])),
        "alignment-64" | "alignment-65536" => {
            let (name, unit) = if name == "alignment-64" {
                ("alignment-64", 64)
            } else {
                ("alignment-65536", 65536)
            };
            Vector::new(
                name,
                "alignment unit set with WriteOptions::alignment: a section of at least 4096 \
                 bytes starts on the unit, shorter sections on 64 bytes",
            )
            .alignment(unit)
            .array(Array::new(
                "small-before",
                Data::U8((0..10).collect()),
                &[10],
            ))
            .array(Array::new(
                "big",
                Data::U64((0..512).map(|i| i * 1000).collect()),
                &[16, 32],
            ))
            .array(Array::new(
                "small-after",
                Data::I16(vec![-3, -2, -1, 0, 1]),
                &[5],
            ))
        }
        "long-names" => {
            let long = "0123456789".repeat(10);
            let names = [
                "",
                "a",
                "exactly8",
                "nine-byte",
                "é",
                "🦀",
                "日本語の名前",
                long.as_str(),
            ];
            let mut v = Vector::new(
                "long-names",
                "entry names of 0, 1, 2, 4, 8, 9, 18 and 100 bytes, ASCII and multi-byte UTF-8, \
                 concatenated in the names string (the empty name sorts first, so entry 0 has \
                 name_end 0); a long metadata key and value (rkyv's out-of-line string \
                 representation)",
            )
            .meta(
                "a-metadata-key-longer-than-8-bytes",
                "and a value longer than 8 bytes",
            );
            for (i, n) in names.iter().enumerate() {
                v = v.array(Array::new(*n, Data::U8(vec![i as u8]), &[1]));
            }
            v
        }
        _ => panic!("no vector named {name}"),
    }
}

/// The first place where `got` and `want` differ, as a JSON path with both values.
fn json_diff(got: &Value, want: &Value, path: &str) -> Option<String> {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => {
            let mut keys: Vec<&String> = g.keys().chain(w.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| {
                let p = format!("{path}.{k}");
                match (g.get(k), w.get(k)) {
                    (Some(a), Some(b)) => json_diff(a, b, &p),
                    (a, b) => Some(format!("{p}: found {a:?}, expected {b:?}")),
                }
            })
        }
        (Value::Array(g), Value::Array(w)) if g.len() == w.len() => g
            .iter()
            .zip(w)
            .enumerate()
            .find_map(|(i, (a, b))| json_diff(a, b, &format!("{path}[{i}]"))),
        _ if got == want => None,
        _ => Some(format!("{path}: found {got}, expected {want}")),
    }
}

/// Checks one vector; see the module documentation.
fn check_vector(name: &str) {
    let v = vector(name);
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (dir.path().join("a.brine"), dir.path().join("b.brine"));
    v.write(&a);
    v.write(&b);
    let fresh = std::fs::read(&a).expect("read");
    assert!(
        fresh == std::fs::read(&b).expect("read"),
        "vector {name}: writing the same content twice gave different bytes; brine's output \
         must be a function of its input"
    );
    let golden = vectors_dir().join(format!("{name}.brine"));
    let golden_json = vectors_dir().join(format!("{name}.json"));
    let declared = v.declared_json();
    let bless = format!(
        "To accept a deliberate format change, update spec/FORMAT.md (and the format version if \
         older readers cannot read the new files), run `{BLESS_VAR}=1 cargo test --test \
         vectors` and commit spec/vectors/ with the spec change."
    );

    if blessing() {
        std::fs::create_dir_all(vectors_dir()).expect("mkdir spec/vectors");
        std::fs::write(&golden, &fresh).expect("write vector");
        let reader = Reader::open(&golden).expect("open the fresh vector");
        let described = describe_with_brine(&golden, &reader, &v);
        if let Some(d) = json_diff(&without_layout(&described), &declared, name) {
            panic!("vector {name}: brine does not read back what was written: {d}");
        }
        std::fs::write(&golden_json, json_text(&described)).expect("write json");
    }

    let committed = std::fs::read(&golden)
        .unwrap_or_else(|e| panic!("vector {name}: {}: {e}. {bless}", golden.display()));
    let expected: Value = std::fs::read_to_string(&golden_json)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
        .unwrap_or_else(|e| panic!("vector {name}: {}: {e}. {bless}", golden_json.display()));

    // The committed file (possibly written by an older brine) reads as its JSON says.
    let old_files = "Files written by earlier versions of the format must stay readable: \
                     this is a reader regression unless the format changed deliberately.";
    let plain = Reader::open(&golden)
        .unwrap_or_else(|e| panic!("vector {name}: Reader::open: {e}. {old_files}"));
    let verified = Reader::options()
        .verify(true)
        .open(&golden)
        .unwrap_or_else(|e| panic!("vector {name}: open with verify: {e}. {old_files}"));
    for (how, got) in [
        ("Reader::open", describe_with_brine(&golden, &plain, &v)),
        ("verify(true)", describe_with_brine(&golden, &verified, &v)),
        ("the spec-only parser", by_spec::describe(&committed, &v)),
    ] {
        if let Some(d) = json_diff(&got, &expected, name) {
            panic!(
                "vector {name}: {how} reads {name}.brine differently from {name}.json: {d}. {old_files} {bless}"
            );
        }
    }
    if let Some(d) = json_diff(&without_layout(&expected), &declared, name) {
        panic!(
            "vector {name}: {name}.json does not hold the content tests/vectors.rs declares: {d}. {bless}"
        );
    }

    // The writer still produces the committed bytes.
    if fresh != committed {
        let first = fresh
            .iter()
            .zip(&committed)
            .position(|(x, y)| x != y)
            .unwrap_or(fresh.len().min(committed.len()));
        panic!(
            "vector {name}: the writer's output differs from spec/vectors/{name}.brine (first \
             difference at byte {first}; {} bytes now, {} committed): the on-disk format \
             changed. A change in brine or a dependency update (rkyv's layout is not stable \
             across its breaking releases) can cause this. For vectors with zstd sections, a \
             libzstd update may change the compressed bytes without a format change: the \
             committed file still reads correctly (checked above), so blessing is then safe. \
             {bless}",
            fresh.len(),
            committed.len()
        );
    }
}

macro_rules! vector_tests {
    ($($test:ident => $name:literal),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                check_vector($name);
            }
        )*
        const VECTOR_NAMES: &[&str] = &[$($name),*];
    };
}

vector_tests! {
    vector_empty => "empty",
    vector_one_entry => "one-entry",
    vector_arrays_every_dtype => "arrays-every-dtype",
    vector_shapes => "shapes",
    vector_zstd => "zstd",
    vector_zstd_shuffle => "zstd-shuffle",
    vector_metadata => "metadata",
    vector_alignment_64 => "alignment-64",
    vector_alignment_65536 => "alignment-65536",
    vector_long_names => "long-names",
    vector_short_names => "short-names",
}

/// The sizes, alignments and field offsets of the archived manifest types, as the byte tables
/// of spec/FORMAT.md give them. Enum variants are checked through the spec-only parser above.
#[test]
fn archived_layout_matches_spec() {
    use std::mem::{align_of, offset_of, size_of};
    macro_rules! layout {
        ($t:ty, $size:expr, $align:expr $(, $field:ident @ $at:expr)*) => {
            assert_eq!(size_of::<$t>(), $size, "size of {}", stringify!($t));
            assert_eq!(align_of::<$t>(), $align, "alignment of {}", stringify!($t));
            $(assert_eq!(offset_of!($t, $field), $at, "offset of {}.{}", stringify!($t), stringify!($field));)*
        };
    }
    layout!(
        ArchivedManifest, 64, 4,
        names @ 0, entries @ 8, arrays @ 16, dims @ 24, sections @ 32, chunks @ 40,
        metadata @ 48, entry_metadata @ 56
    );
    layout!(
        ArchivedEntry, 16, 4,
        name_end @ 0, metadata_end @ 4, index @ 8, kind @ 12, reserved @ 13
    );
    layout!(ArchivedArrayMeta, 12, 4, section @ 0, dims_end @ 4, dtype @ 8, reserved @ 9);
    layout!(
        ArchivedSection, 48, 8,
        offset @ 0, length @ 8, checksum @ 16, raw_length @ 24, chunks_end @ 32,
        chunk_length @ 36, codec @ 40, shuffle @ 41, reserved @ 42
    );
    layout!(ArchivedChunk, 24, 8, offset @ 0, length @ 8, checksum @ 16);
    layout!(ArchivedMetaItem, 24, 8, key @ 0, value @ 8);
    layout!(ArchivedMetaValue, 16, 8);
    layout!(rkyv::string::ArchivedString, 8, 4);
    layout!(rkyv::vec::ArchivedVec<u8>, 8, 4);
    layout!(rkyv::vec::ArchivedVec<rkyv::rend::u64_le>, 8, 4);
    layout!(rkyv::rend::u64_le, 8, 8);
}

/// Every file in spec/vectors/ belongs to a vector, and the README describes every vector.
#[test]
fn vectors_folder_is_complete() {
    let readme = std::fs::read_to_string(vectors_dir().join("README.md")).expect("README.md");
    for name in VECTOR_NAMES {
        assert!(
            readme.contains(&format!("`{name}`")),
            "spec/vectors/README.md does not describe vector `{name}`"
        );
    }
    for f in std::fs::read_dir(vectors_dir()).expect("spec/vectors") {
        let f = f.expect("entry");
        if f.file_type().expect("file type").is_dir() {
            continue; // e.g. the planned invalid/ vectors, checked by their own test
        }
        let f = f.file_name().into_string().expect("utf-8 name");
        if f == "README.md" {
            continue;
        }
        let stem = f.strip_suffix(".brine").or_else(|| f.strip_suffix(".json"));
        assert!(
            stem.is_some_and(|s| VECTOR_NAMES.contains(&s)),
            "spec/vectors/{f} belongs to no vector of tests/vectors.rs"
        );
    }
}
