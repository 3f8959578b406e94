//! The cross-language property test (issue 6): random files written with brine's public
//! `Writer` API must read back exactly, entry for entry, with the Python reader of
//! `spec/reader-python/`, which was written from `spec/FORMAT.md` and `spec/SCHEMA.md` alone.
//!
//! Each run writes a few dozen files (random dtypes and shapes, 0-d and zero-length arrays,
//! raw and zstd with and without shuffle, chunk lengths, alignment units, file and entry
//! metadata of every type, frames of every column kind with random nulls, written whole or in
//! batches, and models of derived structs, enums, options, vectors, strings, tuples, arrays,
//! maps, sets and a recursive type), plus `expected.json`, the content each file was given;
//! then `check_random.py` reads every file with `brine_reader` and compares. The seed is fixed
//! (`BRINE_PY_SEED` changes it; a failure prints it) so that failures reproduce.
//!
//! The test also runs `check_vectors.py` over `spec/vectors/` (valid and invalid golden files).
//! It needs Python 3 with numpy, zstandard and xxhash; without them it fails (never skips) and
//! says how to install them. `BRINE_PYTHON` names another interpreter.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use brine::frame::{Column, ColumnElement, Frame, FrameOptions, TimeUnit};
use brine::model::{ModelOptions, Schema as _};
use brine::{Codec, Dtype, EntryOptions, MetaValue, Writer};
use half::{bf16, f16};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde_json::{Value, json};

const DEFAULT_SEED: u64 = 0x6272_696e_6570_7931;
const FILES: usize = 36;

type Rand = Xoshiro256PlusPlus;

// ---------------------------------------------------------------------------------------------
// Python

/// The Python interpreter, checked to have the reader's packages.
fn python() -> String {
    let python = std::env::var("BRINE_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let probe = Command::new(&python)
        .args(["-c", "import numpy, zstandard, xxhash"])
        .output();
    match probe {
        Ok(o) if o.status.success() => python,
        Ok(o) => panic!(
            "the Python reader tests need numpy, zstandard and xxhash for {python}: install them \
             with `{python} -m pip install -r tests/requirements.txt` ({})",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => panic!(
            "the Python reader tests need {python} with numpy, zstandard and xxhash: install \
             Python 3, then `python3 -m pip install -r tests/requirements.txt` \
             (or set BRINE_PYTHON) ({e})"
        ),
    }
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("spec/reader-python")
        .join(name)
}

fn describe(o: &Output) -> String {
    format!(
        "{}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn python_reader_reads_every_golden_vector_and_rejects_every_invalid_one() {
    let python = python();
    let o = Command::new(&python)
        .env("PYTHONDONTWRITEBYTECODE", "1") // no __pycache__ in the source tree
        .arg(script("check_vectors.py"))
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("spec/vectors"))
        .output()
        .unwrap();
    assert!(o.status.success(), "check_vectors.py: {}", describe(&o));
    // It must have read something: the summary line names the vectors it checked.
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(" valid and ") && !out.contains(": 0 valid"),
        "check_vectors.py read no vector: {out}"
    );
}

#[test]
fn python_reader_reads_random_files_written_by_brine() {
    let python = python();
    let seed = std::env::var("BRINE_PY_SEED")
        .ok()
        .map(|s| {
            let s = s.trim();
            match s.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => s.parse(),
            }
            .expect("BRINE_PY_SEED must be a u64")
        })
        .unwrap_or(DEFAULT_SEED);
    // BRINE_PY_KEEP=DIR writes the files into DIR (kept) instead of a temporary folder.
    let tmp = tempfile::tempdir().unwrap();
    let dir = match std::env::var_os("BRINE_PY_KEEP") {
        Some(d) => {
            std::fs::create_dir_all(&d).unwrap();
            PathBuf::from(d)
        }
        None => tmp.path().to_owned(),
    };
    let files = write_random_files(&dir, seed);
    let o = Command::new(&python)
        .env("PYTHONDONTWRITEBYTECODE", "1") // no __pycache__ in the source tree
        .arg(script("check_random.py"))
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "check_random.py failed on files written with seed {seed:#x} (rerun with \
         BRINE_PY_SEED={seed:#x}): {}",
        describe(&o)
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(&format!("{files} files")),
        "check_random.py did not read all {files} files: {out}"
    );
}

// ---------------------------------------------------------------------------------------------
// Random content, and its expected JSON (the encoding check_random.py documents)

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn f64_bits(x: f64) -> String {
    format!("{:#018x}", x.to_bits())
}

/// A random string: ASCII, multi-byte characters, sometimes long (out-of-line in archives).
fn string(rng: &mut Rand, max: usize) -> String {
    const POOL: &[char] = &[
        'a', 'b', 'z', '0', ' ', '-', 'é', 'ß', '日', '本', '🦀', '\u{7f}',
    ];
    let n = rng.gen_range(0..=max);
    (0..n).map(|_| *POOL.choose(rng).unwrap()).collect()
}

fn bytes(rng: &mut Rand, n: usize) -> Vec<u8> {
    let mut b = vec![0u8; n];
    // Half the time small values, which zstd compresses, half the time noise.
    if rng.gen_bool(0.5) {
        b.iter_mut().for_each(|x| *x = rng.gen_range(0..4));
    } else {
        rng.fill(&mut b[..]);
    }
    b
}

/// Metadata items with unique keys, of every value type, and their expected JSON (sorted by
/// key, the file's order).
fn metadata(rng: &mut Rand) -> (Vec<(String, MetaValue)>, Value) {
    let n = *[0, 0, 1, 2, 5].choose(rng).unwrap();
    let mut items = BTreeMap::new();
    for _ in 0..n {
        let key = string(rng, 12);
        let value = match rng.gen_range(0..5) {
            0 => MetaValue::Str(string(rng, 20)),
            1 => MetaValue::Int(
                *[i64::MIN, -1, 0, 7, i64::MAX, rng.r#gen()]
                    .choose(rng)
                    .unwrap(),
            ),
            2 => MetaValue::Float(f64::from_bits(rng.r#gen())),
            3 => MetaValue::Bool(rng.r#gen()),
            _ => {
                let n = rng.gen_range(0..12);
                MetaValue::Bytes(bytes(rng, n))
            }
        };
        items.insert(key, value);
    }
    let expected = items
        .iter()
        .map(|(k, v)| match v {
            MetaValue::Str(s) => json!([k, "str", s]),
            MetaValue::Int(i) => json!([k, "int", i]),
            MetaValue::Float(f) => json!([k, "float", f64_bits(*f)]),
            MetaValue::Bool(b) => json!([k, "bool", b]),
            MetaValue::Bytes(b) => json!([k, "bytes", hex(b)]),
        })
        .collect();
    (items.into_iter().collect(), expected)
}

/// A random codec; the golden files' name of it for buffers of `elem`-byte elements (the
/// shuffle is dropped for 1-byte elements).
fn codec(rng: &mut Rand, elem: usize) -> (Codec, &'static str) {
    match rng.gen_range(0..3) {
        0 => (Codec::Raw, "raw"),
        1 => (Codec::zstd(), "zstd"),
        _ => (
            Codec::zstd_shuffled(),
            if elem >= 2 { "zstd+shuffle" } else { "zstd" },
        ),
    }
}

fn codec_name(c: Codec, elem: usize) -> &'static str {
    match c {
        Codec::Raw => "raw",
        Codec::Zstd { shuffle: true, .. } if elem >= 2 => "zstd+shuffle",
        _ => "zstd",
    }
}

fn typed<T: bytemuck::Pod + Default>(raw: &[u8]) -> Vec<T> {
    let mut v = vec![T::default(); raw.len() / size_of::<T>()];
    bytemuck::cast_slice_mut::<T, u8>(&mut v).copy_from_slice(raw);
    v
}

fn put_array(rng: &mut Rand, w: &mut Writer, name: &str) -> Value {
    let dtype = Dtype::ALL[rng.gen_range(0..Dtype::ALL.len())];
    let size = dtype.size();
    let ndim = *[0, 1, 1, 2, 3, 4].choose(rng).unwrap();
    let mut shape: Vec<usize> = (0..ndim)
        .map(|_| {
            if rng.gen_bool(0.08) {
                0
            } else {
                rng.gen_range(1..=5)
            }
        })
        .collect();
    if ndim > 0 && rng.gen_bool(0.25) {
        shape[0] = rng.gen_range(200..800); // often past 4096 bytes: on the alignment unit
    }
    let n: usize = shape.iter().product();
    let mut raw = bytes(rng, n * size);
    if dtype == Dtype::Bool {
        raw.iter_mut().for_each(|b| *b &= 1);
    }
    let (c, cname) = codec(rng, size);
    let mut opts = EntryOptions::new().codec(c);
    if c != Codec::Raw && rng.gen_bool(0.6) {
        opts = opts.chunk_len(rng.gen_range(size..=700));
    }
    let (meta, meta_json) = metadata(rng);
    for (k, v) in meta {
        opts = opts.metadata(k, v);
    }
    macro_rules! put {
        ($t:ty) => {
            w.put_array_with::<$t>(name, &typed::<$t>(&raw), &shape, &opts)
        };
    }
    match dtype {
        Dtype::Bool => {
            let v: Vec<bool> = raw.iter().map(|&b| b == 1).collect();
            w.put_array_with(name, &v, &shape, &opts)
        }
        Dtype::I8 => put!(i8),
        Dtype::I16 => put!(i16),
        Dtype::I32 => put!(i32),
        Dtype::I64 => put!(i64),
        Dtype::U8 => put!(u8),
        Dtype::U16 => put!(u16),
        Dtype::U32 => put!(u32),
        Dtype::U64 => put!(u64),
        Dtype::F16 => put!(f16),
        Dtype::BF16 => put!(bf16),
        Dtype::F32 => put!(f32),
        Dtype::F64 => put!(f64),
        other => unreachable!("Dtype::ALL holds {other}, which this test does not know"),
    }
    .unwrap();
    json!({"name": name, "kind": "array", "dtype": dtype.name(), "shape": shape, "codec": cname,
           "metadata": meta_json, "hex": hex(&raw)})
}

// --- frames ----------------------------------------------------------------------------------

/// A column's values, one `Option` per row.
#[derive(Clone)]
enum Values {
    Bool(Vec<Option<bool>>),
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
    Str(Vec<Option<String>>),
    Bin(Vec<Option<Vec<u8>>>),
    Ts(Vec<Option<i64>>, TimeUnit, Option<&'static str>),
    Date(Vec<Option<i32>>),
    Dur(Vec<Option<i64>>, TimeUnit),
    Cat(Vec<Option<String>>),
}

const UNITS: [TimeUnit; 4] = [
    TimeUnit::Second,
    TimeUnit::Millisecond,
    TimeUnit::Microsecond,
    TimeUnit::Nanosecond,
];
const ZONES: [Option<&str>; 6] = [
    None,
    Some("UTC"),
    Some("Europe/Paris"),
    Some("America/New_York"),
    Some("+05:30"),
    Some("-11:00"),
];

fn opts<T>(
    rng: &mut Rand,
    rows: usize,
    p_null: f64,
    mut f: impl FnMut(&mut Rand) -> T,
) -> Vec<Option<T>> {
    (0..rows)
        .map(|_| {
            if rng.gen_bool(p_null) {
                None
            } else {
                Some(f(rng))
            }
        })
        .collect()
}

fn random_values(rng: &mut Rand, rows: usize) -> Values {
    let p = *[0.0, 0.0, 0.1, 0.5, 1.0].choose(rng).unwrap();
    let words: Vec<String> = (0..rng.gen_range(1..6)).map(|_| string(rng, 6)).collect();
    match rng.gen_range(0..18) {
        0 => Values::Bool(opts(rng, rows, p, |r| r.r#gen())),
        1 => Values::I8(opts(rng, rows, p, |r| r.r#gen())),
        2 => Values::I16(opts(rng, rows, p, |r| r.r#gen())),
        3 => Values::I32(opts(rng, rows, p, |r| r.r#gen())),
        4 => Values::I64(opts(rng, rows, p, |r| r.r#gen())),
        5 => Values::U8(opts(rng, rows, p, |r| r.r#gen())),
        6 => Values::U16(opts(rng, rows, p, |r| r.r#gen())),
        7 => Values::U32(opts(rng, rows, p, |r| r.r#gen())),
        8 => Values::U64(opts(rng, rows, p, |r| r.r#gen())),
        9 => Values::F16(opts(rng, rows, p, |r| f16::from_bits(r.r#gen()))),
        10 => Values::F32(opts(rng, rows, p, |r| {
            if r.gen_bool(0.7) {
                r.gen_range(-100.0..100.0)
            } else {
                f32::from_bits(r.r#gen())
            }
        })),
        11 => Values::F64(opts(rng, rows, p, |r| {
            if r.gen_bool(0.7) {
                r.gen_range(-1e9..1e9)
            } else {
                f64::from_bits(r.r#gen())
            }
        })),
        12 => Values::Str(opts(rng, rows, p, |r| string(r, 12))),
        13 => Values::Bin(opts(rng, rows, p, |r| {
            let n = r.gen_range(0..10);
            bytes(r, n)
        })),
        14 => {
            let unit = *UNITS.choose(rng).unwrap();
            let zone = *ZONES.choose(rng).unwrap();
            Values::Ts(opts(rng, rows, p, |r| r.r#gen()), unit, zone)
        }
        15 => Values::Date(opts(rng, rows, p, |r| r.gen_range(-100_000..100_000))),
        16 => {
            let unit = *UNITS.choose(rng).unwrap();
            Values::Dur(opts(rng, rows, p, |r| r.r#gen()), unit)
        }
        _ => Values::Cat(opts(rng, rows, p, |r| words.choose(r).unwrap().clone())),
    }
}

fn prim<T: ColumnElement + Default + Copy>(v: &[Option<T>]) -> Column {
    Column::from_options(v.iter().copied())
}

impl Values {
    /// The column of rows `range`.
    fn column(&self, range: std::ops::Range<usize>) -> Column {
        match self {
            Values::Bool(v) => Column::bools_opt(v[range].iter().copied()),
            Values::I8(v) => prim(&v[range]),
            Values::I16(v) => prim(&v[range]),
            Values::I32(v) => prim(&v[range]),
            Values::I64(v) => prim(&v[range]),
            Values::U8(v) => prim(&v[range]),
            Values::U16(v) => prim(&v[range]),
            Values::U32(v) => prim(&v[range]),
            Values::U64(v) => prim(&v[range]),
            Values::F16(v) => prim(&v[range]),
            Values::F32(v) => prim(&v[range]),
            Values::F64(v) => prim(&v[range]),
            Values::Str(v) => Column::strings_opt(v[range].iter().map(|s| s.as_deref())),
            Values::Bin(v) => Column::binary_opt(v[range].iter().map(|s| s.as_deref())),
            Values::Ts(v, unit, zone) => {
                Column::timestamps_opt(v[range].iter().copied(), *unit, *zone)
            }
            Values::Date(v) => Column::dates_opt(v[range].iter().copied()),
            Values::Dur(v, unit) => Column::durations_opt(v[range].iter().copied(), *unit),
            Values::Cat(v) => Column::categorical(v[range].iter().map(|s| s.as_deref())),
        }
    }

    /// The type name (as `Column.type` of the Python reader), the element size of the values
    /// buffer, and every row as JSON.
    fn expected(&self) -> (String, usize, Vec<Value>) {
        fn each<T>(v: &[Option<T>], f: impl Fn(&T) -> Value) -> Vec<Value> {
            v.iter()
                .map(|x| x.as_ref().map_or(Value::Null, &f))
                .collect()
        }
        match self {
            Values::Bool(v) => ("bool".into(), 1, each(v, |x| json!(x))),
            Values::I8(v) => ("i8".into(), 1, each(v, |x| json!(x))),
            Values::I16(v) => ("i16".into(), 2, each(v, |x| json!(x))),
            Values::I32(v) => ("i32".into(), 4, each(v, |x| json!(x))),
            Values::I64(v) => ("i64".into(), 8, each(v, |x| json!(x))),
            Values::U8(v) => ("u8".into(), 1, each(v, |x| json!(x))),
            Values::U16(v) => ("u16".into(), 2, each(v, |x| json!(x))),
            Values::U32(v) => ("u32".into(), 4, each(v, |x| json!(x))),
            Values::U64(v) => ("u64".into(), 8, each(v, |x| json!(x))),
            Values::F16(v) => (
                "f16".into(),
                2,
                each(v, |x| json!(format!("{:#06x}", x.to_bits()))),
            ),
            Values::F32(v) => (
                "f32".into(),
                4,
                each(v, |x| json!(format!("{:#010x}", x.to_bits()))),
            ),
            Values::F64(v) => ("f64".into(), 8, each(v, |x| json!(f64_bits(*x)))),
            Values::Str(v) => ("utf8".into(), 1, each(v, |x| json!(x))),
            Values::Bin(v) => ("binary".into(), 1, each(v, |x| json!(hex(x)))),
            Values::Ts(v, unit, zone) => (
                match zone {
                    Some(z) => format!("timestamp[{}, {z}]", TimeUnit::name(*unit)),
                    None => format!("timestamp[{}]", TimeUnit::name(*unit)),
                },
                8,
                each(v, |x| json!(x)),
            ),
            Values::Date(v) => ("date".into(), 4, each(v, |x| json!(x))),
            Values::Dur(v, unit) => (
                format!("duration[{}]", TimeUnit::name(*unit)),
                8,
                each(v, |x| json!(x)),
            ),
            Values::Cat(v) => ("categorical".into(), 4, each(v, |x| json!(x))),
        }
    }
}

fn put_frame(rng: &mut Rand, w: &mut Writer, name: &str) -> Value {
    let ncols = if rng.gen_bool(0.05) {
        0
    } else {
        rng.gen_range(1..=7)
    };
    // A frame without columns has 0 rows (FORMAT.md Appendix C, issue 3).
    let rows = match ncols {
        0 => 0,
        _ => *[0, 1, 7, 8, 9, 33, 100, rng.gen_range(0..300)]
            .choose(rng)
            .unwrap(),
    };
    let mut names = BTreeSet::new();
    let mut cols = Vec::new();
    for _ in 0..ncols {
        let cname = loop {
            let n = string(rng, 6);
            if names.insert(n.clone()) {
                break n;
            }
        };
        cols.push((cname, random_values(rng, rows)));
    }
    let (c, _) = codec(rng, 8);
    let mut options = FrameOptions::new().codec(c);
    let mut codecs: BTreeMap<String, Codec> = cols.iter().map(|(n, _)| (n.clone(), c)).collect();
    for (cname, _) in &cols {
        if rng.gen_bool(0.2) {
            let (cc, _) = codec(rng, 8);
            options = options.column_codec(cname.clone(), cc);
            codecs.insert(cname.clone(), cc);
        }
    }
    if rng.gen_bool(0.5) {
        options = options.chunk_len(rng.gen_range(8..400));
    }
    let (meta, meta_json) = metadata(rng);
    for (k, v) in meta {
        options = options.metadata(k, v);
    }
    let build = |range: std::ops::Range<usize>| {
        cols.iter()
            .fold(Frame::builder(), |b, (n, v)| {
                b.column(n.clone(), v.column(range.clone()))
            })
            .build()
            .unwrap()
    };
    let batched = rows > 0 && ncols > 0 && rng.gen_bool(0.4);
    if batched {
        let mut cuts: Vec<usize> = (0..rng.gen_range(0..4))
            .map(|_| rng.gen_range(1..=rows))
            .collect();
        cuts.extend([0, rows]);
        cuts.sort_unstable();
        cuts.dedup();
        let mut fw = w.frame_writer(name, &options).unwrap();
        for pair in cuts.windows(2) {
            fw.write_batch(&build(pair[0]..pair[1])).unwrap();
        }
        fw.finish().unwrap();
    } else {
        w.put_frame_with(name, &build(0..rows), &options).unwrap();
    }
    let columns: Vec<Value> = cols
        .iter()
        .map(|(cname, v)| {
            let (ty, elem, values) = v.expected();
            let nulls = values.iter().filter(|x| x.is_null()).count();
            json!({"name": cname, "type": ty, "codec": codec_name(codecs[cname], elem),
                   "null_count": nulls, "values": values})
        })
        .collect();
    json!({"name": name, "kind": "frame", "rows": rows, "batched": batched,
           "metadata": meta_json, "columns": columns})
}

// --- models ----------------------------------------------------------------------------------

#[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema)]
struct Record {
    id: u64,
    name: String,
    tags: Vec<String>,
    scores: Vec<f32>,
    weight: Option<f64>,
    shape: Shape,
    pair: (u8, i32),
    grid: [i16; 3],
    flag: bool,
    letter: char,
    lookup: BTreeMap<String, u32>,
    ids: BTreeSet<u64>,
    items: Vec<Item>,
    boxed: Box<Item>,
    big: u128,
    meters: Meters,
    marker: Marker,
}

#[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema)]
enum Shape {
    Empty,
    Circle(f32),
    Rect { w: f32, h: f32 },
    Poly(Vec<(f64, f64)>),
}

#[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema)]
struct Item {
    a: i8,
    b: Option<String>,
    c: u16,
}

#[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema)]
struct Meters(f64);

#[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema)]
struct Marker;

/// A recursive type: its boxed fields count by name (`@Box<Tree>` in the schema text).
#[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema)]
#[rkyv(serialize_bounds(
    __S: rkyv::ser::Writer + rkyv::ser::Allocator,
    __S::Error: rkyv::rancor::Source,
))]
#[rkyv(deserialize_bounds(__D::Error: rkyv::rancor::Source))]
#[rkyv(bytecheck(bounds(
    __C: rkyv::validation::ArchiveContext,
    __C::Error: rkyv::rancor::Source,
)))]
enum Tree {
    Leaf(i32),
    Node {
        label: String,
        #[rkyv(omit_bounds)]
        left: Box<Tree>,
        #[rkyv(omit_bounds)]
        right: Box<Tree>,
    },
}

fn f32_json(x: f32) -> Value {
    json!(f64_bits(f64::from(x)))
}

fn item(rng: &mut Rand) -> (Item, Value) {
    let it = Item {
        a: rng.r#gen(),
        b: rng.gen_bool(0.5).then(|| string(rng, 14)),
        c: rng.r#gen(),
    };
    let v = json!({"a": it.a, "b": it.b, "c": it.c});
    (it, v)
}

fn record(rng: &mut Rand) -> (Record, Value) {
    let n_tags = rng.gen_range(0..5);
    let tags: Vec<String> = (0..n_tags).map(|_| string(rng, 12)).collect();
    let scores: Vec<f32> = (0..rng.gen_range(0..40))
        .map(|_| rng.gen_range(-10.0..10.0))
        .collect();
    let (shape, shape_json) = match rng.gen_range(0..4) {
        0 => (Shape::Empty, json!({"Empty": null})),
        1 => {
            let r: f32 = rng.r#gen();
            (Shape::Circle(r), json!({"Circle": [f32_json(r)]}))
        }
        2 => {
            let (w, h): (f32, f32) = (rng.r#gen(), rng.r#gen());
            (
                Shape::Rect { w, h },
                json!({"Rect": {"w": f32_json(w), "h": f32_json(h)}}),
            )
        }
        _ => {
            let pts: Vec<(f64, f64)> = (0..rng.gen_range(0..6))
                .map(|_| (rng.r#gen(), rng.r#gen()))
                .collect();
            let j: Vec<Value> = pts
                .iter()
                .map(|(x, y)| json!([f64_bits(*x), f64_bits(*y)]))
                .collect();
            (Shape::Poly(pts), json!({"Poly": [j]}))
        }
    };
    // Maps and sets of up to 40 entries: a B-tree of leaves and inner nodes.
    let lookup: BTreeMap<String, u32> = (0..rng.gen_range(0..40))
        .map(|_| (string(rng, 10), rng.r#gen()))
        .collect();
    let ids: BTreeSet<u64> = (0..rng.gen_range(0..40)).map(|_| rng.r#gen()).collect();
    let (items, items_json): (Vec<Item>, Vec<Value>) =
        (0..rng.gen_range(0..4)).map(|_| item(rng)).unzip();
    let (boxed, boxed_json) = item(rng);
    let weight = rng.gen_bool(0.5).then(|| rng.r#gen::<f64>());
    let letter = *['a', 'é', '日', '🦀', '\0', char::MAX].choose(rng).unwrap();
    let r = Record {
        id: rng.r#gen(),
        name: string(rng, 20),
        tags,
        scores,
        weight,
        shape,
        pair: (rng.r#gen(), rng.r#gen()),
        grid: rng.r#gen(),
        flag: rng.r#gen(),
        letter,
        lookup,
        ids,
        items,
        boxed: Box::new(boxed),
        big: rng.r#gen(),
        meters: Meters(rng.r#gen()),
        marker: Marker,
    };
    let v = json!({
        "id": r.id, "name": r.name, "tags": r.tags,
        "scores": r.scores.iter().map(|x| f32_json(*x)).collect::<Vec<_>>(),
        "weight": r.weight.map(f64_bits), "shape": shape_json,
        "pair": [r.pair.0, r.pair.1], "grid": r.grid, "flag": r.flag,
        "letter": r.letter.to_string(),
        "lookup": r.lookup, "lookup_order": r.lookup.keys().collect::<Vec<_>>(),
        "ids": r.ids.iter().collect::<Vec<_>>(),
        "items": items_json, "boxed": boxed_json, "big": r.big.to_string(),
        "meters": [f64_bits(r.meters.0)], "marker": null,
    });
    (r, v)
}

fn tree(rng: &mut Rand, depth: u32) -> (Tree, Value) {
    if depth == 0 || rng.gen_bool(0.3) {
        let x: i32 = rng.r#gen();
        return (Tree::Leaf(x), json!({"Leaf": [x]}));
    }
    let (l, lj) = tree(rng, depth - 1);
    let (r, rj) = tree(rng, depth - 1);
    let label = string(rng, 10);
    let v = json!({"Node": {"label": label, "left": lj, "right": rj}});
    (
        Tree::Node {
            label,
            left: Box::new(l),
            right: Box::new(r),
        },
        v,
    )
}

fn put_model(rng: &mut Rand, w: &mut Writer, name: &str) -> Value {
    let (c, cname) = codec(rng, 1);
    // A model's archive has 1-byte elements: a shuffled codec is stored without shuffle.
    let mut options = ModelOptions::new().codec(c);
    let version = rng.gen_bool(0.5).then(|| rng.r#gen::<u64>());
    if let Some(v) = version {
        options = options.version(v);
    }
    let (meta, meta_json) = metadata(rng);
    for (k, v) in meta {
        options = options.metadata(k, v);
    }
    let (type_name, fingerprint, value) = match rng.gen_range(0..5) {
        0 | 1 => {
            let (r, v) = record(rng);
            w.put_model_with(name, &r, &options).unwrap();
            ("Record", Record::FINGERPRINT, v)
        }
        2 => {
            let depth = rng.gen_range(0..6);
            let (t, v) = tree(rng, depth);
            w.put_model_with(name, &t, &options).unwrap();
            ("Tree", Tree::FINGERPRINT, v)
        }
        3 => {
            let (items, v): (Vec<Item>, Vec<Value>) =
                (0..rng.gen_range(0..5)).map(|_| item(rng)).unzip();
            w.put_model_with(name, &items, &options).unwrap();
            ("Vec<Item>", <Vec<Item>>::FINGERPRINT, json!(v))
        }
        _ => {
            let t: (String, Vec<u16>) = (
                string(rng, 20),
                (0..rng.gen_range(0..9)).map(|_| rng.r#gen()).collect(),
            );
            let v = json!([t.0, t.1]);
            w.put_model_with(name, &t, &options).unwrap();
            ("(String, Vec<u16>)", <(String, Vec<u16>)>::FINGERPRINT, v)
        }
    };
    json!({"name": name, "kind": "model", "type_name": type_name,
           "fingerprint": format!("{fingerprint:#018x}"),
           "version": version.map(|v| v.to_string()), "codec": cname,
           "metadata": meta_json, "value": value})
}

// ---------------------------------------------------------------------------------------------

/// Writes `FILES` random files and `expected.json` into `dir`; returns the number of files.
fn write_random_files(dir: &Path, seed: u64) -> usize {
    let mut rng = Rand::seed_from_u64(seed);
    let mut files = Vec::new();
    for i in 0..FILES {
        let alignment = *[64u32, 128, 4096, 4096, 8192, 65536]
            .choose(&mut rng)
            .unwrap();
        let path = dir.join(format!("{i}.brine"));
        let mut w = Writer::options()
            .alignment(alignment)
            .create(&path)
            .unwrap();
        let (meta, meta_json) = metadata(&mut rng);
        for (k, v) in meta {
            w.set_metadata(k, v);
        }
        let n = *[0, 1, 2, 3, 5, 8].choose(&mut rng).unwrap();
        let mut names = BTreeSet::new();
        let mut entries = Vec::new();
        for _ in 0..n {
            let name = loop {
                let s = string(&mut rng, 10);
                if names.insert(s.clone()) {
                    break s;
                }
            };
            entries.push(match rng.gen_range(0..3) {
                0 => put_array(&mut rng, &mut w, &name),
                1 => put_frame(&mut rng, &mut w, &name),
                _ => put_model(&mut rng, &mut w, &name),
            });
        }
        w.finish().unwrap();
        files.push(json!({"path": format!("{i}.brine"), "alignment": alignment,
                          "metadata": meta_json, "entries": entries}));
    }
    let expected = json!({"seed": format!("{seed:#x}"), "files": files});
    std::fs::write(
        dir.join("expected.json"),
        serde_json::to_vec_pretty(&expected).unwrap(),
    )
    .unwrap();
    FILES
}
