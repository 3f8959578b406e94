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

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};

mod common;
use common::Data;

use brine::frame::{ColumnType, ColumnView, FrameOptions, StatRange, TimeUnit};
use brine::model::{ModelOptions, Schema, Value as Tree, schema_text};
use brine::raw::header::Header;
use brine::raw::manifest::{
    ArchivedArrayMeta, ArchivedChunk, ArchivedColumnMeta, ArchivedEntry, ArchivedFrameMeta,
    ArchivedManifest, ArchivedMetaItem, ArchivedMetaValue, ArchivedModelMeta, ArchivedSection,
    KIND_ARRAY, KIND_FRAME, KIND_MODEL, NO_SECTION, codec_name as section_codec_name,
};
use brine::{
    AlignedBuf, Codec, Column, Dtype, Element, EntryOptions, Frame, Kind, MetaRef, MetaValue,
    Reader, Writer,
};
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
        codec_name(self.codec, self.data.dtype().size())
    }
}

/// The codec name of a section of `size`-byte elements written with `codec`: the shuffle
/// request is dropped for 1-byte elements.
fn codec_name(codec: Codec, size: usize) -> &'static str {
    match codec {
        Codec::Zstd { shuffle: true, .. } if size > 1 => "zstd+shuffle",
        Codec::Zstd { .. } => "zstd",
        _ => "raw",
    }
}

/// The numbers a primitive column holds, by dtype; `None` is a null.
#[derive(Clone, Debug, PartialEq)]
enum Prim {
    I8(Vec<Option<i8>>),
    I16(Vec<Option<i16>>),
    I32(Vec<Option<i32>>),
    I64(Vec<Option<i64>>),
    U8(Vec<Option<u8>>),
    U16(Vec<Option<u16>>),
    U32(Vec<Option<u32>>),
    U64(Vec<Option<u64>>),
    F16(Vec<Option<f16>>),
    F32(Vec<Option<f32>>),
    F64(Vec<Option<f64>>),
}

/// Runs `$body` with `$v` bound to the typed `Vec` inside a [`Prim`].
macro_rules! prim_dispatch {
    ($p:expr, $v:ident => $body:expr) => {
        match $p {
            Prim::I8($v) => $body,
            Prim::I16($v) => $body,
            Prim::I32($v) => $body,
            Prim::I64($v) => $body,
            Prim::U8($v) => $body,
            Prim::U16($v) => $body,
            Prim::U32($v) => $body,
            Prim::U64($v) => $body,
            Prim::F16($v) => $body,
            Prim::F32($v) => $body,
            Prim::F64($v) => $body,
        }
    };
}

/// The smallest and largest of values, in the order given: on ties the first stays, as in
/// brine's writer (which matters only for 0.0 and -0.0).
fn fold_range<K: PartialOrd + Copy>(keys: impl Iterator<Item = K>) -> Option<(K, K)> {
    keys.fold(None, |acc, k| {
        Some(match acc {
            None => (k, k),
            Some((lo, hi)) => (if k < lo { k } else { lo }, if k > hi { k } else { hi }),
        })
    })
}

/// A column element type: its statistics domain (spec/FORMAT.md, column statistics).
trait Stat: Copy {
    fn range(values: &[Option<Self>]) -> Option<StatRange>;
}

macro_rules! stat {
    ($($t:ty => $variant:ident, $key:expr;)*) => {$(
        impl Stat for $t {
            fn range(values: &[Option<Self>]) -> Option<StatRange> {
                fold_range(values.iter().flatten().filter_map(|&v| $key(v)))
                    .map(|(lo, hi)| StatRange::$variant(lo, hi))
            }
        }
    )*};
}

stat! {
    i8 => Int, |v: i8| Some(i64::from(v));
    i16 => Int, |v: i16| Some(i64::from(v));
    i32 => Int, |v: i32| Some(i64::from(v));
    i64 => Int, |v: i64| Some(v);
    u8 => UInt, |v: u8| Some(u64::from(v));
    u16 => UInt, |v: u16| Some(u64::from(v));
    u32 => UInt, |v: u32| Some(u64::from(v));
    u64 => UInt, |v: u64| Some(v);
    f16 => Float, |v: f16| Some(f64::from(v)).filter(|x: &f64| !x.is_nan());
    f32 => Float, |v: f32| Some(f64::from(v)).filter(|x: &f64| !x.is_nan());
    f64 => Float, |v: f64| Some(v).filter(|x: &f64| !x.is_nan());
}

/// The content of one column, as a reader finds it: every row, `None` for a null.
#[derive(Clone, Debug, PartialEq)]
enum ColData {
    Bool(Vec<Option<bool>>),
    Prim(Prim),
    Utf8(Vec<Option<String>>),
    Binary(Vec<Option<Vec<u8>>>),
    Timestamp(Vec<Option<i64>>, TimeUnit, Option<String>),
    Date(Vec<Option<i32>>),
    Duration(Vec<Option<i64>>, TimeUnit),
    /// Codes into `dictionary`.
    Categorical {
        codes: Vec<Option<i32>>,
        dictionary: Vec<String>,
    },
}

/// A categorical column of `values`: each distinct string gets the next code in order of
/// first appearance (brine's writers do the same, also across the batches of a frame).
fn categorical(values: &[Option<&str>]) -> ColData {
    let mut dictionary: Vec<String> = Vec::new();
    let codes = values
        .iter()
        .map(|v| {
            v.map(|s| match dictionary.iter().position(|d| d == s) {
                Some(i) => i as i32,
                None => {
                    dictionary.push(s.to_owned());
                    dictionary.len() as i32 - 1
                }
            })
        })
        .collect();
    ColData::Categorical { codes, dictionary }
}

fn strings(values: &[Option<&str>]) -> ColData {
    ColData::Utf8(values.iter().map(|v| v.map(str::to_owned)).collect())
}

impl ColData {
    fn len(&self) -> usize {
        match self {
            ColData::Bool(v) => v.len(),
            ColData::Prim(p) => prim_dispatch!(p, v => v.len()),
            ColData::Utf8(v) => v.len(),
            ColData::Binary(v) => v.len(),
            ColData::Timestamp(v, ..) | ColData::Duration(v, _) => v.len(),
            ColData::Date(v) => v.len(),
            ColData::Categorical { codes, .. } => codes.len(),
        }
    }

    fn null_count(&self) -> usize {
        fn nulls<T>(v: &[Option<T>]) -> usize {
            v.iter().filter(|x| x.is_none()).count()
        }
        match self {
            ColData::Bool(v) => nulls(v),
            ColData::Prim(p) => prim_dispatch!(p, v => nulls(v)),
            ColData::Utf8(v) => nulls(v),
            ColData::Binary(v) => nulls(v),
            ColData::Timestamp(v, ..) | ColData::Duration(v, _) => nulls(v),
            ColData::Date(v) => nulls(v),
            ColData::Categorical { codes, .. } => nulls(codes),
        }
    }

    fn ty(&self) -> ColumnType {
        fn of<T: Element>(_: &[Option<T>]) -> Dtype {
            T::DTYPE
        }
        match self {
            ColData::Bool(_) => ColumnType::Bool,
            ColData::Prim(p) => ColumnType::Primitive(prim_dispatch!(p, v => of(v))),
            ColData::Utf8(_) => ColumnType::Utf8,
            ColData::Binary(_) => ColumnType::Binary,
            ColData::Timestamp(_, unit, zone) => ColumnType::Timestamp {
                unit: *unit,
                zone: zone.clone(),
            },
            ColData::Date(_) => ColumnType::Date,
            ColData::Duration(_, unit) => ColumnType::Duration(*unit),
            ColData::Categorical { .. } => ColumnType::Categorical { ordered: false },
        }
    }

    /// Bytes per element of the values buffer (1 for bit-packed booleans and string bytes).
    fn value_size(&self) -> usize {
        match self.ty() {
            ColumnType::Bool | ColumnType::Utf8 | ColumnType::Binary => 1,
            t => t.physical().size(),
        }
    }

    /// The statistics a writer stores: the range of the non-null (and non-NaN) values of
    /// bool, numeric and temporal columns.
    fn stats(&self) -> Option<StatRange> {
        match self {
            ColData::Bool(v) => fold_range(v.iter().flatten().map(|&b| i64::from(b)))
                .map(|(lo, hi)| StatRange::Int(lo, hi)),
            ColData::Prim(p) => prim_dispatch!(p, v => Stat::range(v)),
            ColData::Timestamp(v, ..) | ColData::Duration(v, _) => Stat::range(v),
            ColData::Date(v) => Stat::range(v),
            ColData::Utf8(_) | ColData::Binary(_) | ColData::Categorical { .. } => None,
        }
    }

    /// Rows `rows` as a brine column.
    fn column(&self, rows: Range<usize>) -> Column {
        match self {
            ColData::Bool(v) => Column::bools_opt(v[rows].iter().copied()),
            ColData::Prim(p) => {
                prim_dispatch!(p, v => Column::from_options(v[rows].iter().copied()))
            }
            ColData::Utf8(v) => Column::strings_opt(v[rows].iter().map(Option::as_deref)),
            ColData::Binary(v) => Column::binary_opt(v[rows].iter().map(Option::as_deref)),
            ColData::Timestamp(v, unit, zone) => {
                Column::timestamps_opt(v[rows].iter().copied(), *unit, zone.as_deref())
            }
            ColData::Date(v) => Column::dates_opt(v[rows].iter().copied()),
            ColData::Duration(v, unit) => Column::durations_opt(v[rows].iter().copied(), *unit),
            ColData::Categorical { codes, dictionary } => Column::categorical(
                codes[rows]
                    .iter()
                    .map(|c| c.map(|c| dictionary[c as usize].as_str())),
            ),
        }
    }

    /// `values` (and `bits` for floats, `codes` and `dictionary` for categoricals) as they
    /// appear in the JSON files.
    fn json(&self, o: &mut Map<String, Value>) {
        match self {
            ColData::Bool(v) => opt_values_json(v, o),
            ColData::Prim(p) => prim_dispatch!(p, v => opt_values_json(v, o)),
            ColData::Utf8(v) => {
                o.insert("values".into(), json!(v));
            }
            ColData::Binary(v) => {
                let v: Vec<Option<String>> = v.iter().map(|b| b.as_deref().map(hex)).collect();
                o.insert("values".into(), json!(v));
            }
            ColData::Timestamp(v, ..) | ColData::Duration(v, _) => opt_values_json(v, o),
            ColData::Date(v) => opt_values_json(v, o),
            ColData::Categorical { codes, dictionary } => {
                let values: Vec<Option<&str>> = codes
                    .iter()
                    .map(|c| c.map(|c| dictionary[c as usize].as_str()))
                    .collect();
                o.insert("values".into(), json!(values));
                o.insert("codes".into(), json!(codes));
                o.insert("dictionary".into(), json!(dictionary));
            }
        }
    }
}

/// A column's JSON object without its layout facts (`buffers`).
fn column_json(
    name: &str,
    ty: &str,
    codec: &str,
    null_count: usize,
    stats: Option<StatRange>,
    data: &ColData,
) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("name".into(), json!(name));
    o.insert("type".into(), json!(ty));
    o.insert("codec".into(), json!(codec));
    o.insert("null_count".into(), json!(null_count));
    o.insert("stats".into(), stats_json(stats));
    assert_eq!(
        data.null_count(),
        null_count,
        "column {name:?}: null_count and the rows that are null"
    );
    data.json(&mut o);
    o
}

/// Column statistics in JSON: `null`, or `min` and `max` as decimal strings (integers,
/// temporal values and bools as 0 or 1) or float strings with their `f64` bits.
fn stats_json(range: Option<StatRange>) -> Value {
    match range {
        None => Value::Null,
        Some(StatRange::Int(lo, hi)) => json!({"min": lo.to_string(), "max": hi.to_string()}),
        Some(StatRange::UInt(lo, hi)) => json!({"min": lo.to_string(), "max": hi.to_string()}),
        Some(StatRange::Float(lo, hi)) => json!({
            "min": lo.value(),
            "max": hi.value(),
            "min_bits": lo.bits(),
            "max_bits": hi.bits(),
        }),
    }
}

/// One declared frame entry: written whole, or in batches of the given row counts.
struct FrameDecl {
    name: String,
    columns: Vec<(String, ColData)>,
    batches: Option<Vec<usize>>,
    codec: Codec,
    column_codecs: Vec<(String, Codec)>,
    chunk_len: Option<usize>,
    metadata: Vec<(String, MetaValue)>,
    /// Column metadata (format 1.1): column, key, value.
    column_metadata: Vec<(String, String, MetaValue)>,
    /// Categorical columns whose categories are ordered (format 1.1).
    ordered: Vec<String>,
}

impl FrameDecl {
    fn new(name: impl Into<String>) -> FrameDecl {
        FrameDecl {
            name: name.into(),
            columns: Vec::new(),
            batches: None,
            codec: Codec::Raw,
            column_codecs: Vec::new(),
            chunk_len: None,
            metadata: Vec::new(),
            column_metadata: Vec::new(),
            ordered: Vec::new(),
        }
    }

    fn column_meta(mut self, column: &str, key: &str, value: impl Into<MetaValue>) -> FrameDecl {
        self.column_metadata
            .push((column.to_owned(), key.to_owned(), value.into()));
        self
    }

    fn ordered(mut self, column: &str) -> FrameDecl {
        self.ordered.push(column.to_owned());
        self
    }

    /// Whether the frame needs format 1.1: a column with metadata or a flag.
    fn is_1_1(&self) -> bool {
        !self.column_metadata.is_empty() || !self.ordered.is_empty()
    }

    fn ty(&self, name: &str, data: &ColData) -> ColumnType {
        match data.ty() {
            ColumnType::Categorical { .. } => ColumnType::Categorical {
                ordered: self.ordered.iter().any(|c| c == name),
            },
            ty => ty,
        }
    }

    fn column(mut self, name: &str, data: ColData) -> FrameDecl {
        self.columns.push((name.to_owned(), data));
        self
    }

    fn batches(mut self, rows: &[usize]) -> FrameDecl {
        self.batches = Some(rows.to_vec());
        self
    }

    fn codec(mut self, codec: Codec) -> FrameDecl {
        self.codec = codec;
        self
    }

    fn column_codec(mut self, column: &str, codec: Codec) -> FrameDecl {
        self.column_codecs.push((column.to_owned(), codec));
        self
    }

    fn chunk_len(mut self, bytes: usize) -> FrameDecl {
        self.chunk_len = Some(bytes);
        self
    }

    fn meta(mut self, key: &str, value: impl Into<MetaValue>) -> FrameDecl {
        self.metadata.push((key.to_owned(), value.into()));
        self
    }

    fn rows(&self) -> usize {
        self.columns.first().map_or(0, |(_, c)| c.len())
    }

    fn codec_of(&self, column: &str) -> Codec {
        self.column_codecs
            .iter()
            .find(|(c, _)| c == column)
            .map_or(self.codec, |(_, codec)| *codec)
    }

    fn options(&self) -> FrameOptions {
        let mut o = FrameOptions::new().codec(self.codec);
        for (c, codec) in &self.column_codecs {
            o = o.column_codec(c.clone(), *codec);
        }
        if let Some(n) = self.chunk_len {
            o = o.chunk_len(n);
        }
        for (k, v) in &self.metadata {
            o = o.metadata(k.clone(), v.clone());
        }
        for (c, k, v) in &self.column_metadata {
            o = o.column_metadata(c.clone(), k.clone(), v.clone());
        }
        o
    }

    /// Rows `rows` of every column, as a brine frame.
    fn frame(&self, rows: Range<usize>) -> Frame {
        let mut b = Frame::builder();
        for (name, data) in &self.columns {
            let ordered = self.ordered.contains(name);
            b.push(name.clone(), data.column(rows.clone()).ordered(ordered));
        }
        b.build().expect("frame")
    }

    fn write(&self, w: &mut Writer) -> brine::Result<()> {
        let options = self.options();
        let Some(batches) = &self.batches else {
            return w.put_frame_with(&self.name, &self.frame(0..self.rows()), &options);
        };
        let mut fw = w.frame_writer(&self.name, &options)?;
        let mut start = 0;
        for &n in batches {
            fw.write_batch(&self.frame(start..start + n))?;
            start += n;
        }
        assert_eq!(
            start,
            self.rows(),
            "frame {}: the batches cover every row",
            self.name
        );
        fw.finish()
    }

    /// The frame's JSON; `v1_1`: the file is of format 1.1, whose columns list their metadata.
    fn declared_json(&self, v1_1: bool) -> Value {
        let columns: Vec<Value> = self
            .columns
            .iter()
            .map(|(name, data)| {
                let codec = codec_name(self.codec_of(name), data.value_size());
                let ty = self.ty(name, data).to_string();
                let mut o = column_json(name, &ty, codec, data.null_count(), data.stats(), data);
                if v1_1 {
                    let items: Vec<(String, MetaValue)> = self
                        .column_metadata
                        .iter()
                        .filter(|(c, ..)| c == name)
                        .map(|(_, k, v)| (k.clone(), v.clone()))
                        .collect();
                    o.insert("metadata".into(), metadata_json(sorted_meta(&items)));
                }
                Value::Object(o)
            })
            .collect();
        json!({
            "name": self.name,
            "kind": "frame",
            "rows": self.rows(),
            "metadata": metadata_json(sorted_meta(&self.metadata)),
            "columns": columns,
        })
    }
}

/// The type of the model vectors: a vector of floats, a string and an enum.
#[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema, Debug, Clone)]
struct Small {
    weights: Vec<f32>,
    label: String,
    activation: Activation,
}

#[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema, Debug, Clone)]
enum Activation {
    Relu,
    LeakyRelu { slope: f32 },
    Identity,
}

/// A `Small` value in JSON: floats as in the arrays, the enum as `{variant: fields}`.
fn small_json(weights: &[f32], label: &str, activation: (&str, Option<f32>)) -> Value {
    let mut w = Map::new();
    values_json(weights, &mut w);
    let fields = match activation.1 {
        None => json!({}),
        Some(slope) => json!({"slope": slope.value(), "slope_bits": slope.bits()}),
    };
    json!({
        "weights": w["values"],
        "weights_bits": w["bits"],
        "label": label,
        "activation": {activation.0: fields},
    })
}

impl Activation {
    fn json(&self) -> (&'static str, Option<f32>) {
        match self {
            Activation::Relu => ("Relu", None),
            Activation::LeakyRelu { slope } => ("LeakyRelu", Some(*slope)),
            Activation::Identity => ("Identity", None),
        }
    }
}

/// The root type of `model-rich`: with [`Expr`], every built-in type of spec/SCHEMA.md §3.1
/// that rkyv archives without a `with` wrapper (all but `f16` and `bf16`), and named types of
/// every shape. Floats are only in named fields, where the JSON gives their bits beside them.
#[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema, Debug, Clone)]
struct Rich {
    yes: bool,
    no: bool,
    unsigned: (u8, u16, u32, u64),
    signed: (i8, i16, i32, i64),
    wide: u128,
    wide_signed: i128,
    ratio: f32,
    precise: f64,
    samples: Vec<f64>,
    letters: (char, char, char),
    nothing: (),
    short: String,
    long: String,
    words: Vec<String>,
    counts: Vec<u16>,
    points: Vec<Point>,
    rows: Vec<Vec<i8>>,
    boxed: Box<Point>,
    none: Option<u8>,
    some: Option<u8>,
    none_wide: Option<u128>,
    some_wide: Option<u128>,
    grid: [[u8; 3]; 2],
    single: (u32,),
    labels: BTreeMap<String, u32>,
    set: BTreeSet<u8>,
    empty: BTreeSet<u32>,
    marker: Marker,
    id: Id,
    shapes: Vec<Shape>,
    bytes: Pair<u8>,
    names: Pair<String>,
}

#[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema, Debug, Clone)]
struct Point {
    x: f32,
    y: f32,
}

#[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema, Debug, Clone)]
struct Marker;

#[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema, Debug, Clone)]
struct Id(u32, i16);

#[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema, Debug, Clone)]
enum Shape {
    Empty,
    Circle(u32),
    Rect { w: f32, h: f32 },
}

#[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema, Debug, Clone)]
struct Pair<T> {
    first: T,
    rest: Vec<T>,
}

/// The recursive type of `model-rich`: by-name fields through `Box` and `Vec`.
#[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema, Debug, Clone)]
#[rkyv(serialize_bounds(
    __S: rkyv::ser::Writer + rkyv::ser::Allocator,
    __S::Error: rkyv::rancor::Source,
))]
#[rkyv(deserialize_bounds(__D::Error: rkyv::rancor::Source))]
#[rkyv(bytecheck(bounds(
    __C: rkyv::validation::ArchiveContext,
    __C::Error: rkyv::rancor::Source,
)))]
enum Expr {
    Nil,
    Lit(i64),
    Var(String),
    Neg(#[rkyv(omit_bounds)] Box<Expr>),
    Add {
        #[rkyv(omit_bounds)]
        left: Box<Expr>,
        #[schema(recursive)]
        #[rkyv(omit_bounds)]
        right: Box<Expr>,
    },
    Call {
        name: String,
        #[rkyv(omit_bounds)]
        args: Vec<Expr>,
    },
}

/// A model value as the JSON files write it (spec/vectors/README.md, "Model values").
trait ModelJson {
    fn json(&self) -> Value;
}

/// A float in a named field: its text, and its bits under `<name>_bits`.
fn float_field<T: JsonElem>(o: &mut Map<String, Value>, name: &str, x: T) {
    o.insert(format!("{name}_bits"), x.bits());
    o.insert(name.to_owned(), x.value());
}

/// A vector of floats in a named field: their texts, and their bits under `<name>_bits`.
fn floats_field<T: JsonElem>(o: &mut Map<String, Value>, name: &str, xs: &[T]) {
    let mut v = Map::new();
    values_json(xs, &mut v);
    o.insert(format!("{name}_bits"), v["bits"].clone());
    o.insert(name.to_owned(), v["values"].clone());
}

impl ModelJson for Small {
    fn json(&self) -> Value {
        small_json(&self.weights, &self.label, self.activation.json())
    }
}

impl ModelJson for Point {
    fn json(&self) -> Value {
        let mut o = Map::new();
        float_field(&mut o, "x", self.x);
        float_field(&mut o, "y", self.y);
        Value::Object(o)
    }
}

impl ModelJson for Shape {
    fn json(&self) -> Value {
        match self {
            Shape::Empty => json!({"Empty": null}),
            Shape::Circle(r) => json!({"Circle": [r]}),
            Shape::Rect { w, h } => {
                let mut o = Map::new();
                float_field(&mut o, "w", *w);
                float_field(&mut o, "h", *h);
                json!({"Rect": o})
            }
        }
    }
}

impl ModelJson for Expr {
    fn json(&self) -> Value {
        match self {
            Expr::Nil => json!({"Nil": null}),
            Expr::Lit(x) => json!({"Lit": [x.to_string()]}),
            Expr::Var(s) => json!({"Var": [s]}),
            Expr::Neg(e) => json!({"Neg": [e.json()]}),
            Expr::Add { left, right } => {
                json!({"Add": {"left": left.json(), "right": right.json()}})
            }
            Expr::Call { name, args } => json!({"Call": {
                "name": name,
                "args": args.iter().map(Expr::json).collect::<Vec<_>>(),
            }}),
        }
    }
}

impl ModelJson for Tree {
    fn json(&self) -> Value {
        let list = |items: &[Tree]| Value::Array(items.iter().map(Tree::json).collect());
        match self {
            Tree::None => json!({"None": null}),
            Tree::Bool(b) => json!({"Bool": [b]}),
            Tree::Int(i) => json!({"Int": [i.to_string()]}),
            Tree::Float(x) => {
                let mut o = Map::new();
                float_field(&mut o, "0", *x);
                json!({ "Float": o })
            }
            Tree::Str(s) => json!({"Str": [s]}),
            Tree::Bytes(b) => json!({"Bytes": [b]}),
            Tree::List(items) => json!({"List": [list(items)]}),
            Tree::Tuple(items) => json!({"Tuple": [list(items)]}),
            Tree::Map(pairs) => {
                let pairs: Vec<Value> = pairs
                    .iter()
                    .map(|(k, v)| json!([k.json(), v.json()]))
                    .collect();
                json!({"Map": [pairs]})
            }
            Tree::Array(name) => json!({"Array": [name]}),
            Tree::Object { class, fields } => {
                let fields: Vec<Value> = fields.iter().map(|(k, v)| json!([k, v.json()])).collect();
                json!({"Object": {"class": class, "fields": fields}})
            }
        }
    }
}

impl ModelJson for Rich {
    fn json(&self) -> Value {
        let s = self;
        let (u8_, u16_, u32_, u64_) = s.unsigned;
        let (i8_, i16_, i32_, i64_) = s.signed;
        let big = |x: Option<u128>| x.map(|x| x.to_string());
        let pair = |first: Value, rest: Value| json!({"first": first, "rest": rest});
        let mut o = Map::new();
        for (k, v) in [
            ("yes", json!(s.yes)),
            ("no", json!(s.no)),
            ("unsigned", json!([u8_, u16_, u32_, u64_.to_string()])),
            ("signed", json!([i8_, i16_, i32_, i64_.to_string()])),
            ("wide", json!(s.wide.to_string())),
            ("wide_signed", json!(s.wide_signed.to_string())),
            (
                "letters",
                json!([
                    s.letters.0.to_string(),
                    s.letters.1.to_string(),
                    s.letters.2.to_string()
                ]),
            ),
            ("nothing", json!([])),
            ("short", json!(s.short)),
            ("long", json!(s.long)),
            ("words", json!(s.words)),
            ("counts", json!(s.counts)),
            ("points", s.points.iter().map(Point::json).collect()),
            ("rows", json!(s.rows)),
            ("boxed", s.boxed.json()),
            ("none", json!(s.none)),
            ("some", json!(s.some)),
            ("none_wide", json!(big(s.none_wide))),
            ("some_wide", json!(big(s.some_wide))),
            ("grid", json!(s.grid)),
            ("single", json!([s.single.0])),
            ("labels", json!(s.labels)),
            ("set", json!(s.set)),
            ("empty", json!(s.empty)),
            ("marker", Value::Null),
            ("id", json!([s.id.0, s.id.1])),
            ("shapes", s.shapes.iter().map(Shape::json).collect()),
            ("bytes", pair(json!(s.bytes.first), json!(s.bytes.rest))),
            ("names", pair(json!(s.names.first), json!(s.names.rest))),
        ] {
            o.insert(k.to_owned(), v);
        }
        float_field(&mut o, "ratio", s.ratio);
        float_field(&mut o, "precise", s.precise);
        floats_field(&mut o, "samples", &s.samples);
        Value::Object(o)
    }
}

/// The value of a declared model entry, of one of the vectors' model types.
#[derive(Debug, Clone)]
enum ModelValue {
    Small(Small),
    Rich(Box<Rich>),
    Expr(Expr),
    Tree(Tree),
}

impl From<Tree> for ModelValue {
    fn from(v: Tree) -> ModelValue {
        ModelValue::Tree(v)
    }
}

impl From<Small> for ModelValue {
    fn from(v: Small) -> ModelValue {
        ModelValue::Small(v)
    }
}

impl From<Rich> for ModelValue {
    fn from(v: Rich) -> ModelValue {
        ModelValue::Rich(Box::new(v))
    }
}

impl From<Expr> for ModelValue {
    fn from(v: Expr) -> ModelValue {
        ModelValue::Expr(v)
    }
}

/// Runs `$body` with `$v` bound to the model value, as a reference to its own type.
macro_rules! with_model {
    ($value:expr, $v:ident => $body:expr) => {
        match $value {
            ModelValue::Small($v) => $body,
            ModelValue::Rich(b) => {
                let $v: &Rich = b;
                $body
            }
            ModelValue::Expr($v) => $body,
            ModelValue::Tree($v) => $body,
        }
    };
}

/// The type name, fingerprint and schema text of `T`, taken from a value of it.
fn schema_of<T: Schema>(_: &T) -> (String, u64, String) {
    (T::type_name(), T::FINGERPRINT, schema_text::<T>())
}

/// The declared value of model `name` of `vector`, as JSON.
fn declared_model_value(vector: &Vector, name: &str) -> Value {
    let model = vector.items.iter().find_map(|item| match item {
        Item::Model(m) if m.name == name => Some(m),
        _ => None,
    });
    with_model!(&model.expect("a declared model").value, v => v.json())
}

/// One declared model entry.
struct ModelDecl {
    name: String,
    value: ModelValue,
    version: Option<u64>,
    codec: Codec,
    metadata: Vec<(String, MetaValue)>,
}

impl ModelDecl {
    fn new(name: &str, value: impl Into<ModelValue>) -> ModelDecl {
        ModelDecl {
            name: name.to_owned(),
            value: value.into(),
            version: None,
            codec: Codec::Raw,
            metadata: Vec::new(),
        }
    }

    fn version(mut self, version: u64) -> ModelDecl {
        self.version = Some(version);
        self
    }

    fn codec(mut self, codec: Codec) -> ModelDecl {
        self.codec = codec;
        self
    }

    fn meta(mut self, key: &str, value: impl Into<MetaValue>) -> ModelDecl {
        self.metadata.push((key.to_owned(), value.into()));
        self
    }

    fn write(&self, w: &mut Writer) -> brine::Result<()> {
        let mut o = ModelOptions::new().codec(self.codec);
        if let Some(v) = self.version {
            o = o.version(v);
        }
        for (k, v) in &self.metadata {
            o = o.metadata(k.clone(), v.clone());
        }
        with_model!(&self.value, v => w.put_model_with(&self.name, v, &o))
    }

    fn declared_json(&self) -> Value {
        let (archive_length, (type_name, fingerprint, schema), value) = with_model!(&self.value, v => (
            rkyv::to_bytes::<rancor::Error>(v).expect("archive").len(),
            schema_of(v),
            v.json(),
        ));
        json!({
            "name": self.name,
            "kind": "model",
            "type_name": type_name,
            "version": self.version.map(|v| v.to_string()),
            "fingerprint": checksum_json(fingerprint),
            "codec": codec_name(self.codec, 1),
            "archive_length": archive_length,
            "metadata": metadata_json(sorted_meta(&self.metadata)),
            "schema": schema,
            "value": value,
        })
    }
}

/// One declared entry, of any kind.
enum Item {
    Array(Array),
    Frame(FrameDecl),
    Model(ModelDecl),
}

impl Item {
    fn name(&self) -> &str {
        match self {
            Item::Array(a) => &a.name,
            Item::Frame(f) => &f.name,
            Item::Model(m) => &m.name,
        }
    }
}

/// One golden file.
struct Vector {
    name: &'static str,
    about: &'static str,
    alignment: Option<u32>,
    metadata: Vec<(String, MetaValue)>,
    items: Vec<Item>,
}

impl Vector {
    fn new(name: &'static str, about: &'static str) -> Vector {
        Vector {
            name,
            about,
            alignment: None,
            metadata: Vec::new(),
            items: Vec::new(),
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
        self.items.push(Item::Array(array));
        self
    }

    fn frame(mut self, frame: FrameDecl) -> Vector {
        self.items.push(Item::Frame(frame));
        self
    }

    fn model(mut self, model: ModelDecl) -> Vector {
        self.items.push(Item::Model(model));
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
        for item in &self.items {
            match item {
                Item::Array(a) => {
                    let options = a.options();
                    dispatch!(&a.data, v => w.put_array_with(&a.name, v, &a.shape, &options))
                }
                Item::Frame(f) => f.write(&mut w),
                Item::Model(m) => m.write(&mut w),
            }
            .unwrap_or_else(|e| panic!("{}: put {:?}: {e}", self.name, item.name()));
        }
        w.finish().expect("finish");
    }

    /// The JSON content the vector declares: what a reader must find, without the layout
    /// facts (`header`, `sections`, `section`, `buffers`) that only the written file knows.
    fn declared_json(&self) -> Value {
        // W1: a file is of version 1.1 exactly when a column has metadata or a flag.
        let v1_1 = self
            .items
            .iter()
            .any(|i| matches!(i, Item::Frame(f) if f.is_1_1()));
        let mut items: Vec<&Item> = self.items.iter().collect();
        items.sort_by(|a, b| a.name().as_bytes().cmp(b.name().as_bytes()));
        let entries: Vec<Value> = items
            .iter()
            .map(|item| match item {
                Item::Array(a) => {
                    let mut e = Map::new();
                    e.insert("name".into(), json!(a.name));
                    e.insert("kind".into(), json!("array"));
                    e.insert("dtype".into(), json!(a.data.dtype().name()));
                    e.insert("shape".into(), json!(a.shape));
                    e.insert("codec".into(), json!(a.codec_name()));
                    e.insert("metadata".into(), metadata_json(sorted_meta(&a.metadata)));
                    a.data.json(&mut e);
                    Value::Object(e)
                }
                Item::Frame(f) => f.declared_json(v1_1),
                Item::Model(m) => m.declared_json(),
            })
            .collect();
        json!({
            "vector": self.name,
            "description": self.about,
            "format_version": if v1_1 { "1.1" } else { "1.0" },
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
        let e = e.as_object_mut().expect("entry");
        e.remove("section");
        for c in e
            .get_mut("columns")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            c.as_object_mut().expect("column").remove("buffers");
        }
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

/// `values` (and `bits` for floats) of a column with nulls: `null` for a null row.
fn opt_values_json<T: JsonElem>(values: &[Option<T>], entry: &mut Map<String, Value>) {
    let json =
        |f: fn(T) -> Value| Value::Array(values.iter().map(|v| v.map_or(Value::Null, f)).collect());
    entry.insert("values".into(), json(T::value));
    if T::FLOAT {
        entry.insert("bits".into(), json(T::bits));
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
        "name",
        "kind",
        "type",
        "dtype",
        "shape",
        "rows",
        "type_name",
        "version",
        "fingerprint",
        "codec",
        "null_count",
        "stats",
        "min",
        "max",
        "min_bits",
        "max_bits",
        "section",
        "buffers",
        "validity",
        "archive_length",
        "metadata",
        "value",
        "values",
        "bits",
        "codes",
        "dictionary",
        "offsets",
        "dictionary_offsets",
        "dictionary_values",
        "columns",
        "schema",
        "archive",
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
    let manifest = &buf.as_slice()[header.manifest_offset as usize..];
    // The 1.0 tables start the root of every version (§5.1).
    let m = rkyv::api::low::access_pos::<ArchivedManifest, rancor::Error>(
        manifest,
        manifest.len() - header.root_length as usize,
    )
    .expect("manifest");

    let mut entries = Vec::new();
    assert_eq!(reader.entries().len(), m.entries.len());
    for (i, (e, archived)) in reader.entries().zip(m.entries.iter()).enumerate() {
        assert_eq!(e.name(), m.name(i));
        let row = archived.index.to_native() as usize;
        let entry = match e.kind() {
            Kind::Array => {
                assert_eq!(archived.kind, KIND_ARRAY);
                array_json_brine(e, &m.arrays[row])
            }
            Kind::Frame => {
                assert_eq!(archived.kind, KIND_FRAME);
                frame_json_brine(e, m, row, reader.version().minor >= 1)
            }
            Kind::Model => {
                assert_eq!(archived.kind, KIND_MODEL);
                model_json_brine(e, m, row)
            }
            other => panic!("entry kind {other:?} has no vector support yet"),
        };
        entries.push(entry);
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

/// An array entry as JSON, read with brine.
fn array_json_brine(e: brine::EntryRef<'_>, meta: &ArchivedArrayMeta) -> Value {
    let a = e.array().expect("array entry");
    let mut o = Map::new();
    o.insert("name".into(), json!(e.name()));
    o.insert("kind".into(), json!(e.kind().name()));
    o.insert("dtype".into(), json!(a.dtype().name()));
    o.insert("shape".into(), json!(a.shape()));
    o.insert("codec".into(), json!(a.codec().name()));
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
    Value::Object(o)
}

/// A frame entry as JSON, read with brine: every column through its typed view.
fn frame_json_brine(e: brine::EntryRef<'_>, m: &ArchivedManifest, row: usize, v1_1: bool) -> Value {
    let f = e.frame().expect("frame entry");
    let (first, metas) = m.frame_columns(row);
    assert_eq!(f.width(), metas.len());
    let columns: Vec<Value> = f
        .iter()
        .zip(metas)
        .enumerate()
        .map(|(i, (c, meta))| {
            assert_eq!(m.column_text(first + i).0, c.name());
            assert_eq!(c.len(), f.rows());
            let values = &m.sections[meta.values.to_native() as usize];
            let codec = section_codec_name(values.codec, values.shuffle);
            assert_eq!(c.is_compressed(), codec != "raw");
            let data = column_data_brine(&c);
            let stats = c.stats();
            assert_eq!(stats.null_count as usize, c.null_count());
            let mut o = column_json(
                c.name(),
                &c.ty().to_string(),
                codec,
                c.null_count(),
                stats.range,
                &data,
            );
            o.insert("buffers".into(), buffers_json(meta));
            if v1_1 {
                o.insert("metadata".into(), metadata_json(c.metadata().iter()));
            }
            Value::Object(o)
        })
        .collect();
    json!({
        "name": e.name(),
        "kind": e.kind().name(),
        "rows": f.rows(),
        "metadata": metadata_json(e.metadata().iter()),
        "columns": columns,
    })
}

/// A model entry as JSON, read with brine: the fingerprint is checked and the archive
/// validated by `access`.
fn model_json_brine(e: brine::EntryRef<'_>, m: &ArchivedManifest, row: usize) -> Value {
    let model = e.model().expect("model entry");
    let section = m.models[row].section.to_native();
    let s = &m.sections[section as usize];
    // The other model types are checked whole: validated as their type by `access`, then
    // deserialized, so that the value's JSON is that of a native value like the declared one.
    macro_rules! native {
        ($t:ty) => {{
            let archived = model
                .access::<$t>()
                .expect(concat!("a valid ", stringify!($t)));
            rkyv::deserialize::<$t, rancor::Error>(archived)
                .expect("deserialize")
                .json()
        }};
    }
    let value = match model.type_name() {
        "Small" => {
            let v = model.access::<Small>().expect("a valid Small");
            let activation = match &v.activation {
                ArchivedActivation::Relu => ("Relu", None),
                ArchivedActivation::LeakyRelu { slope } => ("LeakyRelu", Some(slope.to_native())),
                ArchivedActivation::Identity => ("Identity", None),
            };
            let weights: Vec<f32> = v.weights.iter().map(|w| w.to_native()).collect();
            small_json(&weights, v.label.as_str(), activation)
        }
        "Rich" => native!(Rich),
        "Expr" => native!(Expr),
        "Value" => native!(Tree),
        other => panic!("model type {other} has no vector support yet"),
    };
    json!({
        "name": e.name(),
        "kind": e.kind().name(),
        "type_name": model.type_name(),
        "version": model.version().map(|v| v.to_string()),
        "fingerprint": checksum_json(model.fingerprint()),
        "codec": section_codec_name(s.codec, s.shuffle),
        "section": section,
        "archive_length": model.archive_len(),
        "metadata": metadata_json(e.metadata().iter()),
        "schema": model.schema(),
        "value": value,
    })
}

/// The sections of a column's buffers, by role; absent buffers are left out.
fn buffers_json(c: &ArchivedColumnMeta) -> Value {
    let slots = [
        ("validity", c.validity.to_native()),
        ("values", c.values.to_native()),
        ("offsets", c.offsets.to_native()),
        ("dictionary_offsets", c.dictionary_offsets.to_native()),
        ("dictionary_values", c.dictionary_values.to_native()),
    ];
    Value::Object(
        slots
            .into_iter()
            .filter(|&(_, s)| s != NO_SECTION)
            .map(|(k, s)| (k.to_owned(), json!(s)))
            .collect(),
    )
}

/// Every row of a column, through brine's typed column views.
fn column_data_brine(c: &ColumnView<'_>) -> ColData {
    macro_rules! prim {
        ($variant:ident, $t:ty) => {
            Prim::$variant(
                c.primitive::<$t>()
                    .expect("primitive column")
                    .iter()
                    .collect(),
            )
        };
    }
    match c.ty() {
        ColumnType::Bool => ColData::Bool(c.bools().expect("bool column").iter().collect()),
        ColumnType::Primitive(d) => ColData::Prim(match d {
            Dtype::I8 => prim!(I8, i8),
            Dtype::I16 => prim!(I16, i16),
            Dtype::I32 => prim!(I32, i32),
            Dtype::I64 => prim!(I64, i64),
            Dtype::U8 => prim!(U8, u8),
            Dtype::U16 => prim!(U16, u16),
            Dtype::U32 => prim!(U32, u32),
            Dtype::U64 => prim!(U64, u64),
            Dtype::F16 => prim!(F16, f16),
            Dtype::F32 => prim!(F32, f32),
            Dtype::F64 => prim!(F64, f64),
            other => panic!("no primitive column of {other}"),
        }),
        ColumnType::Utf8 => ColData::Utf8(
            c.strings()
                .expect("utf8 column")
                .iter()
                .map(|s| s.map(str::to_owned))
                .collect(),
        ),
        ColumnType::Binary => ColData::Binary(
            c.binary()
                .expect("binary column")
                .iter()
                .map(|b| b.map(<[u8]>::to_vec))
                .collect(),
        ),
        ColumnType::Timestamp { unit, zone } => {
            let t = c.timestamps().expect("timestamp column");
            assert_eq!((t.unit, t.zone), (unit, zone.as_deref()));
            ColData::Timestamp(t.values.iter().collect(), unit, zone)
        }
        ColumnType::Date => ColData::Date(c.dates().expect("date column").iter().collect()),
        ColumnType::Duration(unit) => {
            let t = c.timestamps().expect("duration column");
            assert_eq!(t.unit, unit);
            ColData::Duration(t.values.iter().collect(), unit)
        }
        ColumnType::Categorical { .. } => {
            let k = c.categorical().expect("categorical column");
            let valid = |i: usize| k.validity.is_none_or(|v| v.get(i));
            ColData::Categorical {
                codes: (0..k.codes.len())
                    .map(|i| valid(i).then_some(k.codes[i]))
                    .collect(),
                dictionary: k
                    .dictionary
                    .iter()
                    .map(|s| s.expect("dictionary strings are not null").to_owned())
                    .collect(),
            }
        }
        other => panic!("column type {other} has no vector support yet"),
    }
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

    /// A row of the entry table (§5.7, `ArchivedEntry`); the other rows below likewise.
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

    /// A row of the frame table (`ArchivedFrameMeta`).
    struct FrameRow {
        rows: u64,
        columns_end: u32,
    }

    /// A row of the column table (`ArchivedColumnMeta`).
    struct ColumnRow {
        name_end: u32,
        zone_end: u32,
        /// validity, values, offsets, dictionary_offsets, dictionary_values.
        buffers: [u32; 5],
        null_count: u64,
        min: u64,
        max: u64,
        kind: u8,
        dtype: u8,
        unit: u8,
        stats: u8,
    }

    /// A row of the model table (`ArchivedModelMeta`).
    struct ModelRow {
        section: u32,
        type_name_end: u32,
        schema_end: u32,
        flags: u32,
        fingerprint: u64,
        version: u64,
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
        frames: Vec<FrameRow>,
        columns: Vec<ColumnRow>,
        column_text: String,
        models: Vec<ModelRow>,
        model_text: String,
        /// The tables a 1.1 root appends (§8.7); `None` in a 1.0 file.
        extras: Option<Extras>,
    }

    /// `column_extras` (`metadata_end`, `flags`) and `column_metadata` of a 1.1 root.
    struct Extras {
        rows: Vec<(u32, u32)>,
        metadata: Vec<(String, Val)>,
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
        assert!(
            [104, 120].contains(&root_length),
            "§4: the root is 104 bytes (1.0) or 120 (1.1)"
        );
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
            frames: table(m, root + 64, 16) // ArchivedFrameMeta
                .map(|f| {
                    assert!(zero(f + 12..f + 16), "frame reserved bytes");
                    FrameRow {
                        rows: u64_at(m, f),
                        columns_end: u32_at(m, f + 8),
                    }
                })
                .collect(),
            columns: table(m, root + 72, 64) // ArchivedColumnMeta
                .map(|c| {
                    assert!(zero(c + 28..c + 32), "column reserved bytes");
                    assert!(zero(c + 60..c + 64), "column reserved2 bytes");
                    ColumnRow {
                        name_end: u32_at(m, c),
                        zone_end: u32_at(m, c + 4),
                        buffers: std::array::from_fn(|i| u32_at(m, c + 8 + 4 * i)),
                        null_count: u64_at(m, c + 32),
                        min: u64_at(m, c + 40),
                        max: u64_at(m, c + 48),
                        kind: m[c + 56],
                        dtype: m[c + 57],
                        unit: m[c + 58],
                        stats: m[c + 59],
                    }
                })
                .collect(),
            column_text: string_at(m, root + 80),
            models: table(m, root + 88, 32) // ArchivedModelMeta
                .map(|r| ModelRow {
                    section: u32_at(m, r),
                    type_name_end: u32_at(m, r + 4),
                    schema_end: u32_at(m, r + 8),
                    flags: u32_at(m, r + 12),
                    fingerprint: u64_at(m, r + 16),
                    version: u64_at(m, r + 24),
                })
                .collect(),
            model_text: string_at(m, root + 96),
            // §5.7: the 1.1 root appends two vectors after the 104 bytes of the 1.0 root.
            extras: (root_length == 120).then(|| Extras {
                rows: table(m, root + 104, 8) // ArchivedColumnExtra
                    .map(|x| (u32_at(m, x), u32_at(m, x + 4)))
                    .collect(),
                metadata: metadata_at(m, root + 112),
            }),
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
        let frames = o.records(
            8,
            t.frames.iter().map(|f| {
                let mut b = [0u8; 16];
                b[..8].copy_from_slice(&f.rows.to_le_bytes());
                b[8..12].copy_from_slice(&f.columns_end.to_le_bytes());
                b
            }),
        );
        let columns = o.records(
            8,
            t.columns.iter().map(|c| {
                let mut b = [0u8; 64];
                let words = [c.name_end, c.zone_end].into_iter().chain(c.buffers);
                for (i, x) in words.enumerate() {
                    b[4 * i..4 * i + 4].copy_from_slice(&x.to_le_bytes());
                }
                for (i, x) in [c.null_count, c.min, c.max].into_iter().enumerate() {
                    b[32 + 8 * i..40 + 8 * i].copy_from_slice(&x.to_le_bytes());
                }
                b[56..60].copy_from_slice(&[c.kind, c.dtype, c.unit, c.stats]);
                b
            }),
        );
        let column_text = o.string_children(&t.column_text);
        let models = o.records(
            8,
            t.models.iter().map(|r| {
                let mut b = [0u8; 32];
                for (i, x) in [r.section, r.type_name_end, r.schema_end, r.flags]
                    .into_iter()
                    .enumerate()
                {
                    b[4 * i..4 * i + 4].copy_from_slice(&x.to_le_bytes());
                }
                b[16..24].copy_from_slice(&r.fingerprint.to_le_bytes());
                b[24..32].copy_from_slice(&r.version.to_le_bytes());
                b
            }),
        );
        let model_text = o.string_children(&t.model_text);
        // §5.8, steps 14 and 15 of a 1.1 root.
        let extras = t.extras.as_ref().map(|x| {
            let rows = o.records(
                4,
                x.rows.iter().map(|&(end, flags)| {
                    let mut b = [0u8; 8];
                    b[..4].copy_from_slice(&end.to_le_bytes());
                    b[4..].copy_from_slice(&flags.to_le_bytes());
                    b
                }),
            );
            (rows, o.metadata(&x.metadata))
        });
        // The root: 13 fields of 8 bytes (and 2 more in a 1.1 root).
        o.pad(4);
        let root = o.pos();
        let field = |i: usize| root + 8 * i;
        o.put(&Out::string(field(0), &t.names, names));
        for (i, (target, len)) in [
            (entries, t.entries.len()),
            (arrays, t.arrays.len()),
            (dims, t.dims.len()),
            (sections, t.sections.len()),
            (chunks, t.chunks.len()),
            (metadata, t.metadata.len()),
            (entry_metadata, t.entry_metadata.len()),
            (frames, t.frames.len()),
            (columns, t.columns.len()),
        ]
        .into_iter()
        .enumerate()
        {
            o.put(&Out::vec(field(i + 1), target, len));
        }
        o.put(&Out::string(field(10), &t.column_text, column_text));
        o.put(&Out::vec(field(11), models, t.models.len()));
        o.put(&Out::string(field(12), &t.model_text, model_text));
        if let (Some(x), Some((rows, metadata))) = (&t.extras, extras) {
            o.put(&Out::vec(field(13), rows, x.rows.len()));
            o.put(&Out::vec(field(14), metadata, x.metadata.len()));
        }
        o.0
    }

    /// The decoded bytes of a section (§10).
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

    /// Inverse of the byte shuffle (§10.4): `raw[i*s + j] = shuffled[j*n + i]`.
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

    /// The codec name of a section (as `ArrayEntry::codec` reports it).
    fn codec(s: &SectionRow) -> &'static str {
        match (s.codec, s.shuffle) {
            (0, _) => "raw",
            (1, 0) => "zstd",
            _ => "zstd+shuffle",
        }
    }

    /// `n` bits of an LSB-first bitmap (§8.3); the unused bits of the last byte are zero.
    fn bits(bytes: &[u8], n: usize) -> Vec<bool> {
        assert_eq!(bytes.len(), n.div_ceil(8), "bitmap length");
        if n % 8 != 0 {
            assert_eq!(bytes[n / 8] >> (n % 8), 0, "unused bits of a bitmap");
        }
        (0..n).map(|i| bytes[i / 8] >> (i % 8) & 1 == 1).collect()
    }

    /// Little-endian `i64`s (offsets, timestamps, durations).
    fn i64s(bytes: &[u8]) -> Vec<i64> {
        bytes
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
            .collect()
    }

    /// The strings (or byte strings) of an offsets buffer and a values buffer (§8.4): `n + 1`
    /// offsets from 0, never decreasing, the last one the length of the values.
    fn slices(offsets: &[u8], values: &[u8], n: usize) -> Vec<Vec<u8>> {
        let o = i64s(offsets);
        assert_eq!(o.len(), n + 1, "offsets");
        assert_eq!(o[0], 0, "first offset");
        assert!(o.windows(2).all(|w| w[0] <= w[1]), "offsets never decrease");
        assert_eq!(o[n] as usize, values.len(), "last offset");
        o.windows(2)
            .map(|w| values[w[0] as usize..w[1] as usize].to_vec())
            .collect()
    }

    /// The numbers of a primitive column of dtype `dtype`; `None` where `valid` is false.
    fn prim(dtype: u8, bytes: &[u8], valid: &[bool]) -> Prim {
        macro_rules! le {
            ($variant:ident, $n:expr, $from:expr) => {{
                assert_eq!(bytes.len(), $n * valid.len(), "values length");
                Prim::$variant(
                    bytes
                        .chunks_exact($n)
                        .zip(valid)
                        .map(|(c, &ok)| ok.then(|| $from(c.try_into().unwrap())))
                        .collect(),
                )
            }};
        }
        match dtype {
            1 => le!(I8, 1, i8::from_le_bytes),
            2 => le!(I16, 2, i16::from_le_bytes),
            3 => le!(I32, 4, i32::from_le_bytes),
            4 => le!(I64, 8, i64::from_le_bytes),
            5 => le!(U8, 1, u8::from_le_bytes),
            6 => le!(U16, 2, u16::from_le_bytes),
            7 => le!(U32, 4, u32::from_le_bytes),
            8 => le!(U64, 8, u64::from_le_bytes),
            9 => le!(F16, 2, |c: [u8; 2]| f16::from_bits(u16::from_le_bytes(c))),
            11 => le!(F32, 4, f32::from_le_bytes),
            12 => le!(F64, 8, f64::from_le_bytes),
            d => panic!("dtype {d} is not a primitive column's"),
        }
    }

    /// A `Small` read from its archive with the rkyv layout rules of §5 (the model's schema
    /// text gives the sizes): the root, `Small` (24 bytes, alignment 4: `weights` at 0,
    /// `label` at 8, `activation` at 16), ends the archive; `Activation` is a `u8` tag (the
    /// variant's index) followed by the variant's fields, `LeakyRelu`'s `slope` at 4.
    fn small(a: &[u8]) -> Value {
        let root = a.len() - 24;
        let (p, n) = vec_at(a, root);
        let weights: Vec<f32> = (0..n)
            .map(|i| f32::from_le_bytes(a[p + 4 * i..p + 4 * i + 4].try_into().unwrap()))
            .collect();
        let slope = || f32::from_le_bytes(a[root + 20..root + 24].try_into().unwrap());
        let activation = match a[root + 16] {
            0 => ("Relu", None),
            1 => ("LeakyRelu", Some(slope())),
            2 => ("Identity", None),
            t => panic!("Activation tag {t}"),
        };
        small_json(&weights, &string_at(a, root + 8), activation)
    }

    /// Time units by code (§8.1).
    const UNITS: [(TimeUnit, &str); 4] = [
        (TimeUnit::Second, "s"),
        (TimeUnit::Millisecond, "ms"),
        (TimeUnit::Microsecond, "us"),
        (TimeUnit::Nanosecond, "ns"),
    ];

    /// A column's type as the JSON files write it (spec/vectors/README.md).
    fn type_text(c: &ColumnRow, zone: &str, flags: u32) -> String {
        let unit = UNITS[usize::from(c.unit)].1;
        match (c.kind, zone) {
            (0, _) => "bool".into(),
            (1, _) => DTYPES[usize::from(c.dtype)].0.into(),
            (2, _) => "utf8".into(),
            (3, _) => "binary".into(),
            (4, "") => format!("timestamp[{unit}]"),
            (4, _) => format!("timestamp[{unit}, {zone}]"),
            (5, _) => "date".into(),
            (6, _) => format!("duration[{unit}]"),
            // §8.7: flag bit 0, ordered.
            (7, _) if flags & 1 == 1 => "categorical[ordered]".into(),
            (7, _) => "categorical".into(),
            (k, _) => panic!("column kind {k}"),
        }
    }

    /// Column `ci` of the column table, in a frame of `rows` rows, read from its buffers
    /// (§8): its JSON object with its layout facts (`buffers`).
    fn column(
        t: &Tables,
        ci: usize,
        rows: usize,
        decoded: &dyn Fn(u32) -> Vec<u8>,
        owners: &mut [u32],
    ) -> Map<String, Value> {
        let c = &t.columns[ci];
        let text_start = if ci == 0 {
            0
        } else {
            t.columns[ci - 1].zone_end as usize
        };
        let name = &t.column_text[text_start..c.name_end as usize];
        let zone = &t.column_text[c.name_end as usize..c.zone_end as usize];
        for &b in c.buffers.iter().filter(|&&b| b != NO_SECTION) {
            owners[b as usize] += 1;
        }
        let buffer = |slot: usize| {
            let b = c.buffers[slot];
            (b != NO_SECTION).then(|| decoded(b))
        };
        let required = |slot: usize| buffer(slot).expect("a buffer this kind of column needs");
        // §8.3: the validity bitmap is absent exactly when no row is null (brine's writers
        // omit it then).
        let valid = match buffer(0) {
            None => vec![true; rows],
            Some(b) => bits(&b, rows),
        };
        assert_eq!(
            c.buffers[0] == NO_SECTION,
            c.null_count == 0,
            "validity absent iff no null"
        );
        assert_eq!(
            valid.iter().filter(|v| !**v).count() as u64,
            c.null_count,
            "null_count"
        );
        let with_validity = |v: Vec<i64>| -> Vec<Option<i64>> {
            v.into_iter()
                .zip(&valid)
                .map(|(x, &ok)| ok.then_some(x))
                .collect()
        };
        let unit = UNITS[usize::from(c.unit)].0;
        let data = match c.kind {
            0 => ColData::Bool(
                bits(&required(1), rows)
                    .into_iter()
                    .zip(&valid)
                    .map(|(x, &ok)| ok.then_some(x))
                    .collect(),
            ),
            1 => ColData::Prim(prim(c.dtype, &required(1), &valid)),
            2 => ColData::Utf8(
                slices(&required(2), &required(1), rows)
                    .into_iter()
                    .zip(&valid)
                    .map(|(s, &ok)| ok.then(|| String::from_utf8(s).expect("UTF-8")))
                    .collect(),
            ),
            3 => ColData::Binary(
                slices(&required(2), &required(1), rows)
                    .into_iter()
                    .zip(&valid)
                    .map(|(s, &ok)| ok.then_some(s))
                    .collect(),
            ),
            4 => ColData::Timestamp(
                with_validity(i64s(&required(1))),
                unit,
                (!zone.is_empty()).then(|| zone.to_owned()),
            ),
            5 => match prim(3, &required(1), &valid) {
                Prim::I32(v) => ColData::Date(v),
                _ => unreachable!(),
            },
            6 => ColData::Duration(with_validity(i64s(&required(1))), unit),
            7 => {
                let values = required(4);
                let dictionary: Vec<String> = {
                    let n = required(3).len() / 8 - 1;
                    slices(&required(3), &values, n)
                        .into_iter()
                        .map(|s| String::from_utf8(s).expect("UTF-8"))
                        .collect()
                };
                let Prim::I32(codes) = prim(3, &required(1), &valid) else {
                    unreachable!()
                };
                for code in codes.iter().flatten() {
                    assert!((0..dictionary.len() as i32).contains(code), "code {code}");
                }
                ColData::Categorical { codes, dictionary }
            }
            k => panic!("column kind {k}"),
        };
        let stats = (c.stats == 1).then(|| match c.dtype {
            5..=8 => StatRange::UInt(c.min, c.max),
            9..=12 => StatRange::Float(f64::from_bits(c.min), f64::from_bits(c.max)),
            _ => StatRange::Int(c.min as i64, c.max as i64),
        });
        // §8.7: column `ci`'s row of the extras, and its run of the column metadata.
        let extra = t.extras.as_ref().map(|x| {
            let start = if ci == 0 {
                0
            } else {
                x.rows[ci - 1].0 as usize
            };
            let (end, flags) = x.rows[ci];
            assert_eq!(flags & !1, 0, "unknown column flags");
            assert!(flags == 0 || c.kind == 7, "only categoricals are ordered");
            (metadata_json(&x.metadata[start..end as usize]), flags)
        });
        let flags = extra.as_ref().map_or(0, |e| e.1);
        let mut o = column_json(
            name,
            &type_text(c, zone, flags),
            codec(&t.sections[c.buffers[1] as usize]),
            c.null_count as usize,
            stats,
            &data,
        );
        if let Some((metadata, _)) = extra {
            o.insert("metadata".into(), metadata);
        }
        let slots = [
            "validity",
            "values",
            "offsets",
            "dictionary_offsets",
            "dictionary_values",
        ];
        let buffers: Map<String, Value> = slots
            .into_iter()
            .zip(c.buffers)
            .filter(|&(_, b)| b != NO_SECTION)
            .map(|(k, b)| (k.to_owned(), json!(b)))
            .collect();
        o.insert("buffers".into(), Value::Object(buffers));
        o
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

        let columns_ends: Vec<u32> = t.frames.iter().map(|f| f.columns_end).collect();
        let zone_ends: Vec<u32> = t.columns.iter().map(|c| c.zone_end).collect();
        let schema_ends: Vec<u32> = t.models.iter().map(|r| r.schema_end).collect();
        assert_eq!(last(&columns_ends), t.columns.len(), "columns");
        assert_eq!(last(&zone_ends), t.column_text.len(), "column text");
        assert_eq!(last(&schema_ends), t.model_text.len(), "model text");
        if let Some(x) = &t.extras {
            let ends: Vec<u32> = x.rows.iter().map(|r| r.0).collect();
            assert_eq!(x.rows.len(), t.columns.len(), "one extra per column");
            assert_eq!(last(&ends), x.metadata.len(), "column metadata");
        }

        // Entries (§7): the `k`-th entry of a kind (in entry order) has row `k` of that
        // kind's table. Every section belongs to exactly one array, column buffer or model
        // (S4).
        let decoded = |j: u32| {
            let s = &t.sections[j as usize];
            decode(file, s, &t.chunks[span(&chunks_ends, j as usize)])
        };
        let mut rows = [0u32; 3];
        let mut owners = vec![0u32; t.sections.len()];
        let mut entries = Vec::new();
        for (i, e) in t.entries.iter().enumerate() {
            let kind = usize::from(e.kind);
            assert_eq!(e.index, rows[kind], "row of entry {i} in its kind's table");
            rows[kind] += 1;
            let mut o = Map::new();
            o.insert("name".into(), json!(&t.names[span(&name_ends, i)]));
            match e.kind {
                0 => {
                    let a = &t.arrays[e.index as usize];
                    owners[a.section as usize] += 1;
                    let shape = &t.dims[span(&dims_ends, e.index as usize)];
                    let s = &t.sections[a.section as usize];
                    let (dtype, size) = DTYPES[a.dtype as usize];
                    assert_eq!(size * shape.iter().product::<u64>(), s.raw_length);
                    o.insert("kind".into(), json!("array"));
                    o.insert("dtype".into(), json!(dtype));
                    o.insert("shape".into(), json!(shape));
                    o.insert("codec".into(), json!(codec(s)));
                    o.insert("section".into(), json!(a.section));
                    values(a.dtype, &decoded(a.section), &mut o);
                }
                1 => {
                    let k = e.index as usize;
                    let rows = t.frames[k].rows as usize;
                    let columns: Vec<Value> = span(&columns_ends, k)
                        .map(|c| Value::Object(column(&t, c, rows, &decoded, &mut owners)))
                        .collect();
                    // §15 (W8): a frame's buffers are written column by column, each column's in
                    // slot order, one after the other.
                    let sections: Vec<u32> = span(&columns_ends, k)
                        .flat_map(|c| t.columns[c].buffers)
                        .filter(|&b| b != NO_SECTION)
                        .collect();
                    assert!(
                        sections.windows(2).all(|w| w[1] == w[0] + 1),
                        "a frame's buffers are consecutive sections, in column and slot order"
                    );
                    o.insert("kind".into(), json!("frame"));
                    o.insert("rows".into(), json!(rows));
                    o.insert("columns".into(), json!(columns));
                }
                2 => {
                    let r = &t.models[e.index as usize];
                    owners[r.section as usize] += 1;
                    let k = e.index as usize;
                    let start = if k == 0 {
                        0
                    } else {
                        t.models[k - 1].schema_end as usize
                    };
                    let type_name = &t.model_text[start..r.type_name_end as usize];
                    let schema = &t.model_text[r.type_name_end as usize..r.schema_end as usize];
                    assert_eq!(r.flags & !1, 0, "model flags");
                    let archive = decoded(r.section);
                    o.insert("kind".into(), json!("model"));
                    o.insert("type_name".into(), json!(type_name));
                    o.insert(
                        "version".into(),
                        json!((r.flags & 1 == 1).then(|| r.version.to_string())),
                    );
                    o.insert("fingerprint".into(), checksum_json(r.fingerprint));
                    o.insert(
                        "codec".into(),
                        json!(codec(&t.sections[r.section as usize])),
                    );
                    o.insert("section".into(), json!(r.section));
                    o.insert("archive_length".into(), json!(archive.len()));
                    o.insert("schema".into(), json!(schema));
                    let value = if type_name == "Small" {
                        small(&archive)
                    } else {
                        // This parser knows the layout of `Small` only. Other model types are
                        // checked with their Rust types by brine's reader, and decoded through
                        // their schema text by spec/reader-python. Here only the root's size
                        // (its definition line) is checked against the archive; the value is
                        // the declared one.
                        let root_line = schema.lines().nth(1).expect("a definition line");
                        let size: usize = root_line
                            .rsplit(" size ")
                            .next()
                            .and_then(|t| t.split(' ').next())
                            .and_then(|n| n.parse().ok())
                            .expect("the root's size");
                        assert!(root_line.starts_with(&format!("{type_name} = ")));
                        assert!(size <= archive.len(), "the root fits in the archive");
                        declared_model_value(vector, &t.names[span(&name_ends, i)])
                    };
                    o.insert("value".into(), value);
                }
                k => panic!("entry kind {k}"),
            }
            o.insert(
                "metadata".into(),
                metadata_json(&t.entry_metadata[span(&metadata_ends, i)]),
            );
            entries.push(Value::Object(o));
        }
        assert_eq!(
            rows.map(|n| n as usize),
            [t.arrays.len(), t.frames.len(), t.models.len()],
            "one row of each kind's table per entry of that kind"
        );
        assert!(
            owners.iter().all(|&n| n == 1),
            "every section belongs to exactly one array, column buffer or model: {owners:?}"
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
            .codec(Codec::zstd())
            .chunk_len(256),
        )
        .array(
            Array::new(
                "grid",
                Data::I64((0..512).map(|i| i % 37 - 18).collect()),
                &[16, 32],
            )
            .codec(Codec::zstd())
            .chunk_len(1001),
        )
        .array(
            Array::new("nothing", Data::F32(vec![]), &[0])
                .codec(Codec::zstd())
                .chunk_len(64),
        )
        .array(
            Array::new(
                "bytes",
                Data::U8((0..300).map(|i| (i % 13) as u8).collect()),
                &[300],
            )
            .codec(Codec::zstd())
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
                    .codec(Codec::zstd_shuffled())
                    .chunk_len(256),
            )
            .array(
                Array::new(
                    "ramp",
                    Data::U16((0..200).map(|i| i * 300).collect()),
                    &[200],
                )
                .codec(Codec::zstd_shuffled())
                .chunk_len(150),
            )
            .array(
                Array::new("mixed", Data::F64(mixed), &[5, 10])
                    .codec(Codec::zstd_shuffled())
                    .chunk_len(128),
            )
            .array(
                Array::new(
                    "one-chunk",
                    Data::I64((0..10).map(|i| i * i - 20).collect()),
                    &[10],
                )
                .codec(Codec::zstd_shuffled()),
            )
            .array(
                Array::new(
                    "bytes",
                    Data::U8((0..100).map(|i| (i * i) as u8).collect()),
                    &[100],
                )
                .codec(Codec::zstd_shuffled())
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
        "model-small" => {
            let small = Small {
                weights: vec![0.5, -1.25, 3.0, f32::MIN_POSITIVE],
                label: "a small model".into(),
                activation: Activation::LeakyRelu { slope: 0.125 },
            };
            let identity = Small {
                weights: vec![],
                label: "identity".into(),
                activation: Activation::Identity,
            };
            Vector::new(
                "model-small",
                "two models of one type (a struct of a Vec<f32>, a String and an enum with a \
                 struct variant), archived with rkyv in sections of their exact length: one \
                 raw without a version, whose label is an out-of-line string, and one \
                 zstd-compressed with version 2 and entry metadata, whose label is inline and \
                 whose vector is empty; model_text holds each model's type name followed by \
                 its schema text",
            )
            .model(ModelDecl::new("small", small))
            .model(
                ModelDecl::new("identity", identity)
                    .version(2)
                    .codec(Codec::zstd())
                    .meta("trained", false),
            )
        }
        "model-rich" => model_rich(),
        "model-value" => model_value(),
        "frame-every-type" => frame_every_type(),
        "frame-compressed" => frame_compressed(),
        "frame-batched" => frame_batched(),
        "frame-metadata" => frame_metadata(),
        "frame-empty" => Vector::new(
            "frame-empty",
            "frames without rows and without columns, between two arrays: a frame of 0 rows \
             whose columns have empty buffers (a string column's offsets buffer holds the one \
             offset 0, a categorical's dictionary is empty), a frame with no columns (an \
             empty run of the column table), and entries of two kinds interleaved in name \
             order, each kind's rows counted apart",
        )
        .array(Array::new("z-array", Data::U8(vec![3]), &[1]))
        .frame(
            FrameDecl::new("empty")
                .column("int", ColData::Prim(Prim::I32(vec![])))
                .column("text", strings(&[]))
                .column("flag", ColData::Bool(vec![]))
                .column("kind", categorical(&[]))
                .column(
                    "when",
                    ColData::Timestamp(vec![], TimeUnit::Millisecond, Some("UTC".into())),
                ),
        )
        .frame(FrameDecl::new("no-columns"))
        .array(Array::new("a-array", Data::I16(vec![1, 2]), &[2])),
        "frame-no-nulls" => Vector::new(
            "frame-no-nulls",
            "one frame of 4 rows with a column of each of the 8 column kinds and no null: no \
             validity bitmap at all, statistics on the bool, primitive and temporal columns, \
             a multi-byte string, binary values that are not UTF-8, a timestamp without a \
             zone, negative dates and durations, and a categorical column whose dictionary \
             has 3 strings",
        )
        .frame(
            FrameDecl::new("no-nulls")
                .column(
                    "flag",
                    ColData::Bool(vec![Some(true), Some(false), Some(false), Some(true)]),
                )
                .column(
                    "small",
                    ColData::Prim(Prim::I16(vec![Some(-3), Some(0), Some(7), Some(i16::MAX)])),
                )
                .column(
                    "text",
                    strings(&[Some("ab"), Some("é"), Some(""), Some("xyz")]),
                )
                .column(
                    "blob",
                    ColData::Binary(vec![
                        Some(vec![0x00, 0xff]),
                        Some(vec![]),
                        Some(vec![0x80]),
                        Some(vec![1, 2, 3]),
                    ]),
                )
                .column(
                    "at",
                    ColData::Timestamp(
                        vec![
                            Some(0),
                            Some(-1),
                            Some(1_700_000_000_000_000),
                            Some(86_400_000_000),
                        ],
                        TimeUnit::Microsecond,
                        None,
                    ),
                )
                .column(
                    "day",
                    ColData::Date(vec![Some(-1), Some(0), Some(1), Some(19_000)]),
                )
                .column(
                    "wait",
                    ColData::Duration(
                        vec![Some(0), Some(-5), Some(86_400), Some(1)],
                        TimeUnit::Second,
                    ),
                )
                .column(
                    "color",
                    categorical(&[Some("red"), Some("blue"), Some("red"), Some("green")]),
                ),
        ),
        _ => panic!("no vector named {name}"),
    }
}

/// One frame with a column of every kind and of every primitive dtype, each with nulls.
fn frame_every_type() -> Vector {
    let f = |x: f64| Some(x);
    let floats = [
        f(0.0),
        f(-0.0),
        None,
        f(1.0),
        f(-2.5),
        f(0.1),
        f(f64::NAN),
        f(f64::INFINITY),
        None,
        f(f64::NEG_INFINITY),
    ];
    let frame = FrameDecl::new("every-type")
        .meta("source", "tests/vectors.rs")
        .column(
            "bool",
            ColData::Bool(vec![
                Some(true),
                Some(false),
                None,
                Some(true),
                Some(true),
                None,
                Some(false),
                Some(false),
                Some(true),
                Some(true),
            ]),
        )
        .column(
            "i8",
            ColData::Prim(Prim::I8(vec![
                Some(i8::MIN),
                Some(-1),
                None,
                Some(0),
                Some(1),
                Some(i8::MAX),
                None,
                Some(5),
                Some(-5),
                Some(2),
            ])),
        )
        .column(
            "i16",
            ColData::Prim(Prim::I16(vec![
                None,
                Some(i16::MIN),
                Some(-300),
                Some(0),
                Some(300),
                Some(i16::MAX),
                Some(7),
                None,
                Some(-7),
                Some(1),
            ])),
        )
        .column(
            "i32",
            ColData::Prim(Prim::I32(vec![
                Some(0),
                None,
                Some(i32::MIN),
                Some(-70_000),
                Some(70_000),
                Some(i32::MAX),
                Some(3),
                Some(-3),
                None,
                Some(1),
            ])),
        )
        .column(
            "i64",
            ColData::Prim(Prim::I64(vec![
                Some(i64::MIN),
                Some(-1),
                Some(0),
                None,
                Some(1),
                Some(1 << 53),
                Some(i64::MAX),
                None,
                Some(-(1 << 53) - 1),
                Some(42),
            ])),
        )
        .column(
            "u8",
            ColData::Prim(Prim::U8(vec![
                Some(0),
                Some(1),
                Some(0x7f),
                Some(0x80),
                None,
                Some(u8::MAX),
                Some(9),
                Some(10),
                Some(11),
                None,
            ])),
        )
        .column(
            "u16",
            ColData::Prim(Prim::U16(vec![
                None,
                None,
                Some(0),
                Some(1),
                Some(0x1234),
                Some(u16::MAX),
                Some(2),
                Some(3),
                Some(4),
                Some(5),
            ])),
        )
        .column(
            "u32",
            ColData::Prim(Prim::U32(vec![
                Some(7),
                Some(0),
                Some(1),
                None,
                Some(0x1234_5678),
                Some(u32::MAX),
                Some(8),
                Some(9),
                None,
                Some(10),
            ])),
        )
        .column(
            "u64",
            ColData::Prim(Prim::U64(vec![
                Some(1),
                Some(0x0123_4567_89ab_cdef),
                Some(u64::MAX),
                Some(2),
                Some(3),
                None,
                Some(4),
                Some(5),
                Some(6),
                None,
            ])),
        )
        .column(
            "f16",
            ColData::Prim(Prim::F16(
                floats.iter().map(|x| x.map(f16::from_f64)).collect(),
            )),
        )
        .column(
            "f32",
            ColData::Prim(Prim::F32(
                floats
                    .iter()
                    .map(|x| {
                        x.map(|x| {
                            if x.is_infinite() {
                                x.signum() as f32 * 7.25
                            } else {
                                x as f32
                            }
                        })
                    })
                    .collect(),
            )),
        )
        .column("f64", ColData::Prim(Prim::F64(floats.to_vec())))
        .column(
            "utf8",
            strings(&[
                Some("ada"),
                Some(""),
                None,
                Some("Grüße"),
                Some("日本"),
                Some("🦀"),
                None,
                Some("a string longer than eight bytes"),
                Some("x"),
                Some(""),
            ]),
        )
        .column(
            "binary",
            ColData::Binary(vec![
                Some(vec![0x00]),
                Some(vec![]),
                None,
                Some(vec![0xff, 0xfe, 0x80]),
                Some(b"bytes".to_vec()),
                None,
                Some(vec![0xc3, 0x28]),
                Some(vec![]),
                Some(vec![1, 2, 3, 4, 5, 6, 7, 8, 9]),
                Some(vec![0x7f]),
            ]),
        )
        .column(
            "timestamp-ns",
            ColData::Timestamp(
                vec![
                    Some(0),
                    Some(1_700_000_000_123_456_789),
                    None,
                    Some(-1),
                    Some(86_400_000_000_000),
                    Some(i64::MIN),
                    None,
                    Some(i64::MAX),
                    Some(1_000_000_000),
                    Some(-86_400_000_000_000),
                ],
                TimeUnit::Nanosecond,
                None,
            ),
        )
        .column(
            "timestamp-paris",
            ColData::Timestamp(
                vec![
                    Some(1_700_000_000_000),
                    None,
                    Some(0),
                    Some(-1000),
                    Some(1_711_846_800_000),
                    Some(1_711_846_799_999),
                    Some(4_102_444_800_000),
                    None,
                    Some(1),
                    Some(-62_135_596_800_000),
                ],
                TimeUnit::Millisecond,
                Some("Europe/Paris".into()),
            ),
        )
        .column(
            "date",
            ColData::Date(vec![
                Some(0),
                Some(19_723),
                None,
                Some(-1),
                Some(-719_162),
                Some(2_932_896),
                Some(11_016),
                None,
                Some(1),
                Some(i32::MIN),
            ]),
        )
        .column(
            "duration-us",
            ColData::Duration(
                vec![
                    Some(0),
                    Some(1),
                    Some(-1),
                    None,
                    Some(3_600_000_000),
                    Some(-86_400_000_000),
                    None,
                    Some(i64::MAX),
                    Some(i64::MIN),
                    Some(1_500_000),
                ],
                TimeUnit::Microsecond,
            ),
        )
        .column(
            "categorical",
            categorical(&[
                Some("red"),
                Some("green"),
                None,
                Some("red"),
                Some("blue"),
                Some("grün"),
                None,
                Some("green"),
                Some("red"),
                Some("a category longer than eight bytes"),
            ]),
        );
    Vector::new(
        "frame-every-type",
        "one frame of 10 rows with a column of every kind (bool, primitive, utf8, binary, \
         timestamp, date, duration, categorical) and of every primitive dtype, each with \
         nulls (a validity bitmap of 2 bytes): integers at their extremes, floats with -0.0, \
         NaN (which the statistics ignore) and infinities (but not in f32), empty and multi-byte strings, \
         timestamps without a zone (ns) and with an IANA zone (ms), dates before 1970, \
         negative durations (us), a categorical column with a dictionary of 5 strings",
    )
    .frame(frame)
}

/// Compressed columns: zstd with the byte shuffle by default, one column raw, one zstd
/// without shuffle; chunks of 128 bytes.
fn frame_compressed() -> Vector {
    let rows = 100;
    let mut x = 0.0f64;
    let walk: Vec<Option<f64>> = lcg(rows, 3)
        .into_iter()
        .map(|r| {
            x += ((r * 8.0).floor() - 3.5) * 0.25;
            Some(x)
        })
        .collect();
    let kinds = ["alpha", "beta", "gamma", "delta"];
    let frame = FrameDecl::new("compressed")
        .codec(Codec::zstd_shuffled())
        .column_codec("raw-ids", Codec::Raw)
        .column_codec("plain", Codec::zstd())
        .chunk_len(128)
        .column("walk", ColData::Prim(Prim::F64(walk)))
        .column(
            "count",
            ColData::Prim(Prim::I32(
                (0..rows as i32)
                    .map(|i| (i % 7 != 3).then_some(i * i - 50))
                    .collect(),
            )),
        )
        .column(
            "label",
            ColData::Utf8(
                (0..rows)
                    .map(|i| Some(format!("item-{}", i % 13)))
                    .collect(),
            ),
        )
        .column(
            "flag",
            ColData::Bool((0..rows).map(|i| Some(i % 3 == 0)).collect()),
        )
        .column(
            "kind",
            categorical(
                &(0..rows)
                    .map(|i| (i % 11 != 5).then(|| kinds[i * i % 4]))
                    .collect::<Vec<_>>(),
            ),
        )
        .column(
            "raw-ids",
            ColData::Prim(Prim::U64(
                (0..rows as u64).map(|i| Some(i * 1001)).collect(),
            )),
        )
        .column(
            "plain",
            ColData::Duration(
                (0..rows as i64).map(|i| Some(i * 250 - 9000)).collect(),
                TimeUnit::Millisecond,
            ),
        );
    Vector::new(
        "frame-compressed",
        "one frame of 100 rows whose columns are zstd-compressed in chunks of 128 bytes, with \
         the byte shuffle by default (f64, i32, i64 offsets, i32 codes; dropped for 1-byte \
         buffers: validity bitmaps, bit-packed bools, string bytes), one column raw and one \
         zstd without shuffle (per-column codecs); a string column and a bool column without \
         nulls (no validity bitmap)",
    )
    .frame(frame)
}

/// A frame written with `Writer::frame_writer` in three batches.
fn frame_batched() -> Vector {
    let frame = FrameDecl::new("batched")
        .batches(&[5, 3, 7])
        .column("id", ColData::Prim(Prim::I64((0..15).map(Some).collect())))
        .column(
            "score",
            ColData::Prim(Prim::F32(
                (0..15)
                    .map(|i| (i != 6).then_some(i as f32 * 0.5 - 2.0))
                    .collect(),
            )),
        )
        .column(
            "name",
            strings(&[
                Some("ada"),
                None,
                Some("grace"),
                Some(""),
                Some("edsger"),
                Some("barbara"),
                Some("ken"),
                Some("Dennis"),
                Some("tony"),
                None,
                Some("niklaus"),
                Some("frances"),
                Some("Guido"),
                Some("bjarne"),
                Some("margaret"),
            ]),
        )
        .column(
            "flag",
            ColData::Bool(
                (0..15)
                    .map(|i| (i % 4 != 2).then_some(i % 3 == 1))
                    .collect(),
            ),
        )
        .column(
            "at",
            ColData::Timestamp(
                (0..15)
                    .map(|i| (i < 12).then_some(1_700_000_000 + i * 3600))
                    .collect(),
                TimeUnit::Second,
                Some("+05:30".into()),
            ),
        )
        .column(
            "color",
            categorical(&[
                Some("red"),
                Some("green"),
                Some("red"),
                None,
                Some("blue"),
                Some("green"),
                Some("violet"),
                None,
                Some("cyan"),
                Some("red"),
                Some("cyan"),
                Some("orange"),
                Some("blue"),
                Some("violet"),
                Some("red"),
            ]),
        )
        .column(
            "day",
            ColData::Date((0..15).map(|i| Some(19_000 + i * 7)).collect()),
        );
    Vector::new(
        "frame-batched",
        "one frame of 15 rows written with Writer::frame_writer in batches of 5, 3 and 7 rows: \
         bitmaps packed across batch boundaries, a column whose only null is in the second \
         batch (the first batch had no bitmap), a column without nulls (no bitmap at all), \
         string offsets rebased batch after batch, a categorical dictionary merged across \
         batches in order of first appearance, a timestamp column in seconds with a fixed \
         offset zone",
    )
    .meta("batches", 3i64)
    .frame(frame)
}

/// Format 1.1: column metadata and the ordered flag, as a pandas DataFrame written through
/// Arrow has them.
fn frame_metadata() -> Vector {
    let sizes = FrameDecl::new("sizes")
        .meta("pandas", r#"{"index_columns": ["id"], "columns": []}"#)
        .column(
            "id",
            ColData::Prim(Prim::I64(vec![Some(10), Some(20), Some(30)])),
        )
        .column("size", categorical(&[Some("small"), None, Some("large")]))
        .column(
            "color",
            categorical(&[Some("red"), Some("blue"), Some("red")]),
        )
        .column(
            "weight",
            ColData::Prim(Prim::F64(vec![Some(1.5), Some(2.25), None])),
        )
        .ordered("size")
        .column_meta("weight", "unit", "kg")
        .column_meta(
            "weight",
            "a long description key",
            "measured on the 2026 scale",
        )
        .column_meta("weight", "precision", 2i64)
        .column_meta("id", "", true);
    let plain = FrameDecl::new("plain").column("x", ColData::Prim(Prim::U8(vec![Some(1)])));
    Vector::new(
        "frame-metadata",
        "format 1.1: a frame (sizes) with an ordered categorical column (size), an unordered one \
         (color), column metadata on two columns (weight: an inline str, an out-of-line key and \
         value, an int; id: an empty key with a bool) and none on two, and entry metadata; a \
         second frame (plain) without column metadata, whose one column still has a row of the \
         column extras",
    )
    .frame(sizes)
    .frame(plain)
}

/// A model saved from Python (spec/SCHEMA.md §9): a `Value` tree whose arrays are array
/// entries of the file, and the class schema in the entry's metadata.
fn model_value() -> Vector {
    let class_schema = "root: Softmax\nSoftmax = dataclass { classes: list[str], weights: \
                        ndarray[float64], bias: ndarray[float64], epochs: int, rate: float, \
                        notes: dict[str, str], shape: tuple[int, ...], seed: int | None, \
                        frozen: bool, tag: bytes, inner: Scale } version 1\n\
                        Scale = dataclass { mean: list[float], extra: any }\n";
    let s = |t: &str| Tree::Str(t.into());
    let tree = Tree::Object {
        class: "Softmax".into(),
        fields: vec![
            (
                "classes".into(),
                Tree::List(vec![s("setosa"), s("versicolor"), s("virginica")]),
            ),
            ("weights".into(), Tree::Array("softmax/weights".into())),
            ("bias".into(), Tree::Array("softmax/bias".into())),
            ("epochs".into(), Tree::Int(500)),
            ("rate".into(), Tree::Float(0.1)),
            (
                "notes".into(),
                Tree::Map(vec![(s("data"), s("a string of more than eight bytes"))]),
            ),
            (
                "shape".into(),
                Tree::Tuple(vec![Tree::Int(4), Tree::Int(i64::MIN)]),
            ),
            ("seed".into(), Tree::None),
            ("frozen".into(), Tree::Bool(true)),
            ("tag".into(), Tree::Bytes(vec![0, 0xff, 7])),
            (
                "inner".into(),
                Tree::Object {
                    class: "Scale".into(),
                    fields: vec![
                        (
                            "mean".into(),
                            Tree::List(vec![
                                Tree::Float(-0.0),
                                Tree::Float(f64::NAN),
                                Tree::Float(5.843),
                            ]),
                        ),
                        (
                            "extra".into(),
                            Tree::Map(vec![
                                (Tree::Int(1), Tree::List(vec![])),
                                (Tree::None, Tree::Tuple(vec![])),
                            ]),
                        ),
                    ],
                },
            ),
        ],
    };
    let fingerprint = format!(
        "{:#018x}",
        brine::raw::checksum::xxh3(class_schema.as_bytes())
    );
    Vector::new(
        "model-value",
        "a model saved from Python (SCHEMA.md section 9): one model entry of the built-in type \
         Value, version 1, an object tree that uses every variant (None, Bool, Int at i64::MIN, \
         Float with -0.0 and NaN, Str inline and out-of-line, Bytes, List, Tuple, Map with \
         non-string keys, Array, nested Object), whose two Array nodes name the f64 array \
         entries softmax/weights [4, 3] and softmax/bias [3] of the same file; the entry \
         metadata holds the class schema text and its XXH3-64 fingerprint",
    )
    .array(Array::new(
        "softmax/weights",
        Data::F64((0..12).map(|i| f64::from(i) / 8.0 - 0.75).collect()),
        &[4, 3],
    ))
    .array(Array::new(
        "softmax/bias",
        Data::F64(vec![0.5, -0.25, 0.0]),
        &[3],
    ))
    .model(
        ModelDecl::new("softmax", tree)
            .version(1)
            .meta("brine.python.schema", class_schema)
            .meta("brine.python.fingerprint", fingerprint.as_str()),
    )
}

fn model_rich() -> Vector {
    let point = |x, y| Point { x, y };
    let labels = [
        ("alpha", 1),
        ("beta", 2),
        ("delta", 4),
        ("epsilon", 5),
        ("a key of more than eight bytes", 0),
        ("gamma", 3),
        ("zeta", u32::MAX),
    ];
    let rich = Rich {
        yes: true,
        no: false,
        unsigned: (u8::MAX, u16::MAX, u32::MAX, u64::MAX),
        signed: (i8::MIN, i16::MIN, i32::MIN, i64::MIN),
        wide: u128::MAX,
        wide_signed: i128::MIN,
        ratio: 0.1,
        precise: 0.1,
        samples: vec![
            1.5,
            -0.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::from_bits(1),
            f64::MAX,
        ],
        letters: ('a', 'é', '🦀'),
        nothing: (),
        short: "inline".into(),
        long: "a string of more than eight bytes".into(),
        words: vec![
            String::new(),
            "8 bytes!".into(),
            "nine byte".into(),
            "日本".into(),
        ],
        counts: vec![0, 1, u16::MAX],
        points: vec![point(0.5, -1.0), point(f32::from_bits(1), f32::MAX)],
        rows: vec![vec![1, -2, 3], vec![], vec![i8::MIN]],
        boxed: Box::new(point(3.0, 4.0)),
        none: None,
        some: Some(7),
        none_wide: None,
        some_wide: Some((1 << 100) + 1),
        grid: [[1, 2, 3], [4, 5, 6]],
        single: (42,),
        labels: labels.iter().map(|&(k, v)| (k.to_owned(), v)).collect(),
        set: (0..35).map(|i| i * 7).collect(),
        empty: BTreeSet::new(),
        marker: Marker,
        id: Id(7, -1),
        shapes: vec![
            Shape::Empty,
            Shape::Circle(5),
            Shape::Rect { w: 2.0, h: 0.25 },
        ],
        bytes: Pair {
            first: 255,
            rest: vec![0, 1],
        },
        names: Pair {
            first: "head".into(),
            rest: vec![String::new(), "a longer tail string".into()],
        },
    };
    let call = |name: &str, args| Expr::Call {
        name: name.into(),
        args,
    };
    let expr = Expr::Add {
        left: Box::new(Expr::Lit(-(1 << 53) - 1)),
        right: Box::new(call(
            "max",
            vec![
                Expr::Var("x".into()),
                Expr::Neg(Box::new(Expr::Lit(1))),
                Expr::Nil,
                call("a function name of more than eight bytes", vec![]),
            ],
        )),
    };
    Vector::new(
        "model-rich",
        "two raw models of two types that together use every built-in type of SCHEMA.md §3.1 \
         that rkyv archives without a with wrapper: rich (Rich, no version) holds bool, \
         every integer width at its extremes (u128 and i128 included), f32 and f64 (NaN, \
         -0.0, infinities, subnormals), char (1 to 4 UTF-8 bytes), (), inline, 8-byte and \
         out-of-line strings, vectors of numbers, of strings, of structs and of vectors, a \
         Box, Options (None and Some of u8 and of the 16-aligned u128), nested arrays, tuples \
         of 1 and 4 elements, a BTreeMap of 7 entries (an inner root node with one leaf \
         child), a BTreeSet of 35 entries (an inner root node with 5 lesser leaves and a \
         greater one), an empty BTreeSet, unit, tuple and named structs, an enum with unit, \
         tuple and struct variants, and a generic struct instantiated twice; expr (Expr, \
         version 2^53 + 1) is a recursive enum whose by-name fields go through Box and Vec",
    )
    .model(ModelDecl::new("rich", rich))
    .model(ModelDecl::new("expr", expr).version((1 << 53) + 1))
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
    vector_frame_every_type => "frame-every-type",
    vector_frame_compressed => "frame-compressed",
    vector_frame_batched => "frame-batched",
    vector_frame_metadata => "frame-metadata",
    vector_frame_empty => "frame-empty",
    vector_frame_no_nulls => "frame-no-nulls",
    vector_model_small => "model-small",
    vector_model_rich => "model-rich",
    vector_model_value => "model-value",
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
        ArchivedManifest, 104, 4,
        names @ 0, entries @ 8, arrays @ 16, dims @ 24, sections @ 32, chunks @ 40,
        metadata @ 48, entry_metadata @ 56, frames @ 64, columns @ 72, column_text @ 80,
        models @ 88, model_text @ 96
    );
    assert_eq!(
        brine::raw::manifest::ROOT_LEN,
        104,
        "root_length of version 1.0"
    );
    layout!(
        brine::raw::manifest::ArchivedManifest11, 120, 4,
        base @ 0, column_extras @ 104, column_metadata @ 112
    );
    assert_eq!(
        brine::raw::manifest::ROOT_LEN_1_1,
        120,
        "root_length of version 1.1"
    );
    layout!(
        brine::raw::manifest::ArchivedColumnExtra, 8, 4,
        metadata_end @ 0, flags @ 4
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
    layout!(ArchivedFrameMeta, 16, 8, rows @ 0, columns_end @ 8, reserved @ 12);
    layout!(
        ArchivedColumnMeta, 64, 8,
        name_end @ 0, zone_end @ 4, validity @ 8, values @ 12, offsets @ 16,
        dictionary_offsets @ 20, dictionary_values @ 24, reserved @ 28, null_count @ 32,
        min @ 40, max @ 48, kind @ 56, dtype @ 57, unit @ 58, stats @ 59, reserved2 @ 60
    );
    layout!(
        ArchivedModelMeta, 32, 8,
        section @ 0, type_name_end @ 4, schema_end @ 8, flags @ 12, fingerprint @ 16,
        version @ 24
    );
    layout!(ArchivedMetaItem, 24, 8, key @ 0, value @ 8);
    layout!(ArchivedMetaValue, 16, 8);
    layout!(rkyv::string::ArchivedString, 8, 4);
    layout!(rkyv::vec::ArchivedVec<u8>, 8, 4);
    layout!(rkyv::vec::ArchivedVec<rkyv::rend::u64_le>, 8, 4);
    layout!(rkyv::rend::u64_le, 8, 8);
}

/// The codes of spec/FORMAT.md: entry kinds, column kinds, time units, the absent buffer.
#[test]
fn codes_match_spec() {
    use brine::raw::manifest::{
        COLUMN_BINARY, COLUMN_BOOL, COLUMN_CATEGORICAL, COLUMN_DATE, COLUMN_DURATION,
        COLUMN_PRIMITIVE, COLUMN_TIMESTAMP, COLUMN_UTF8,
    };
    assert_eq!([KIND_ARRAY, KIND_FRAME, KIND_MODEL], [0, 1, 2]);
    assert_eq!(
        [
            COLUMN_BOOL,
            COLUMN_PRIMITIVE,
            COLUMN_UTF8,
            COLUMN_BINARY,
            COLUMN_TIMESTAMP,
            COLUMN_DATE,
            COLUMN_DURATION,
            COLUMN_CATEGORICAL,
        ],
        [0, 1, 2, 3, 4, 5, 6, 7]
    );
    assert_eq!(NO_SECTION, 0xFFFF_FFFF);
    let units = [
        TimeUnit::Second,
        TimeUnit::Millisecond,
        TimeUnit::Microsecond,
        TimeUnit::Nanosecond,
    ];
    assert_eq!(units.map(TimeUnit::code), [0, 1, 2, 3]);
    assert_eq!(units.map(TimeUnit::name), ["s", "ms", "us", "ns"]);
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
