//! Exhaustive corruption of three small files, one of arrays, one of a frame (every column
//! type, nulls, a compressed column) and one of models (a string, an enum, vectors; raw and
//! compressed): every truncation and every single-byte flip (XOR 0x01, 0x80, 0xFF at every
//! offset). Opening and reading every entry with the right type must give the original data
//! or an error, and reading every column through every accessor, and every model in place
//! and owned, must not fail otherwise: never a panic, a hang or a huge allocation. With
//! `verify`, every corruption must be an error: checksums and zero padding cover every byte of
//! the file.

use std::alloc::{GlobalAlloc, Layout, System};
use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

mod common;
use common::Meta;

use brine::frame::{Column, ColumnType, ColumnView, Frame, FrameOptions, TimeUnit};
use brine::model::ModelOptions;
use brine::raw::manifest::{CODEC_RAW, Manifest};
use brine::{
    AlignedBuf, ArrayEntry, Codec, Element, EntryOptions, Error, Kind, Reader, Result, Writer,
};

// ---------------------------------------------------------------------------------------------
// An allocator that remembers the largest single request
// ---------------------------------------------------------------------------------------------

/// Forwards to the system allocator and records the largest request. The file under test is
/// a few KB, so no request should come near [`MAX_ALLOCATION`] whatever a corruption claims.
struct Watching;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

/// The largest single allocation any read of the corrupted files may make.
const MAX_ALLOCATION: usize = 8 << 20;

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the only
// addition is an atomic store, which does not allocate.
unsafe impl GlobalAlloc for Watching {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded contract.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded contract.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        // SAFETY: forwarded contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Watching = Watching;

// ---------------------------------------------------------------------------------------------
// The file
// ---------------------------------------------------------------------------------------------

/// What a read of the whole file returns, compared bitwise.
#[derive(Debug, PartialEq)]
struct Snapshot {
    names: Vec<String>,
    file_metadata: MetaList,
    /// Per array entry: shape, entry metadata, and the decoded bytes.
    arrays: Vec<(Vec<u64>, MetaList, Vec<u8>)>,
    /// Partial reads of the compressed arrays, made before the full reads.
    pieces: Vec<Vec<u8>>,
    /// Per frame entry: row count, entry metadata, and every column.
    frames: Vec<(usize, MetaList, Vec<ColumnSnapshot>)>,
    /// Per model entry: its type name, version, entry metadata, and the model read in place
    /// and owned, rendered with `Debug`.
    models: Vec<(String, Option<u64>, MetaList, String, String)>,
}

/// One column as its typed accessor reads it: every row rendered with `Debug`, and the raw
/// bytes of its buffers.
#[derive(Debug, PartialEq)]
struct ColumnSnapshot {
    name: String,
    ty: String,
    stats: String,
    rows: Vec<String>,
    buffers: [Vec<u8>; 5],
}

type MetaList = Vec<(String, Meta)>;

fn bytes_of<T: bytemuck::NoUninit>(data: &[T]) -> Vec<u8> {
    bytemuck::cast_slice(data).to_vec()
}

/// An original file: its bytes, what reading it returns, how it is read, and the byte ranges
/// of its sections and of its raw sections (where a flip changes the data a reader sees
/// without any check noticing, unless `verify` runs).
struct Original {
    name: &'static str,
    bytes: Vec<u8>,
    snapshot: Snapshot,
    read: fn(&Reader) -> Result<Snapshot>,
    sections: Vec<Range<usize>>,
    raw_sections: Vec<Range<usize>>,
}

impl Original {
    fn new(name: &'static str, bytes: Vec<u8>, read: fn(&Reader) -> Result<Snapshot>) -> Original {
        let snapshot = read(&open(&bytes, true).unwrap()).unwrap();
        let offset = u64::from_le_bytes(bytes[32..40].try_into().unwrap()) as usize;
        let mut archive = rkyv::util::AlignedVec::<16>::new();
        archive.extend_from_slice(&bytes[offset..]);
        let m = rkyv::from_bytes::<Manifest, rancor::Error>(&archive).unwrap();
        let range =
            |s: &brine::raw::manifest::Section| s.offset as usize..(s.offset + s.length) as usize;
        Original {
            name,
            snapshot,
            read,
            sections: m.sections.iter().map(range).collect(),
            raw_sections: m
                .sections
                .iter()
                .filter(|s| s.codec == CODEC_RAW)
                .map(range)
                .collect(),
            bytes,
        }
    }
}

/// The three files.
fn originals() -> [&'static Original; 3] {
    [original(), frame_original(), model_original()]
}

fn original() -> &'static Original {
    static ORIGINAL: OnceLock<Original> = OnceLock::new();
    ORIGINAL.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("small.brine");
        let mut w = Writer::options().alignment(64).create(&path).unwrap();
        let a: Vec<f32> = (0..12 * 16).map(|i| (i as f32 * 0.37).sin()).collect();
        w.put_array_with(
            "a_f32",
            &a,
            &[12, 16],
            &EntryOptions::new().metadata("unit", "m"),
        )
        .unwrap();
        let b: Vec<i64> = (0..150).map(|i| i * i * 7919 - 40_000).collect();
        let z = EntryOptions::new()
            .codec(Codec::zstd_shuffled())
            .chunk_len(256)
            .metadata("cold", true);
        w.put_array_with("b_i64", &b, &[150], &z).unwrap();
        let c: Vec<bool> = (0..37).map(|i| i % 3 == 1).collect();
        w.put_array("c_bool", &c, &[37]).unwrap();
        w.put_array::<f64>("d_scalar", &[-0.125], &[]).unwrap();
        // zstd without shuffle; 30-byte chunks of u16: 3 chunks, the last one partial.
        let e: Vec<u16> = (0..40).map(|i| i * 1000).collect();
        let z = EntryOptions::new()
            .codec(Codec::zstd())
            .zstd_level(1)
            .chunk_len(30);
        w.put_array_with("e_u16", &e, &[4, 10], &z).unwrap();
        w.set_metadata("author", "corruption.rs");
        w.set_metadata("epoch", -3i64);
        w.set_metadata("lr", 3e-4f64);
        w.set_metadata("flag", false);
        w.set_metadata("blob", &b"\x00\x01\xFF"[..]);
        w.finish().unwrap();
        let bytes = std::fs::read(&path).unwrap();

        let o = Original::new("arrays", bytes, read_all);
        let snapshot = &o.snapshot;
        assert_eq!(snapshot.arrays[0].2, bytes_of(&a));
        assert_eq!(snapshot.arrays[1].2, bytes_of(&b));
        assert_eq!(snapshot.arrays[2].2, bytes_of(&c));
        assert_eq!(snapshot.arrays[4].2, bytes_of(&e));
        let r = open(&o.bytes, true).unwrap();
        assert_eq!(r.array_entry("b_i64").unwrap().chunk_count(), 5);
        assert_eq!(r.array_entry("e_u16").unwrap().chunk_count(), 3);
        o
    })
}

const FRAME_ROWS: usize = 12;

/// A file holding one frame "f" of 12 rows: a column of every type, most with nulls, and one
/// compressed column ("z", strings, zstd in 32-byte chunks); no models.
fn frame_original() -> &'static Original {
    static ORIGINAL: OnceLock<Original> = OnceLock::new();
    ORIGINAL.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("frame.brine");
        let mut w = Writer::options().alignment(64).create(&path).unwrap();
        let n = FRAME_ROWS;
        let words = ["", "ä", "tea", "€uro", "x", "ünïcödé", "", "q"];
        let strs = |salt: usize| -> Vec<Option<String>> {
            (0..n)
                .map(|i| (i % 5 != salt).then(|| words[(i + salt) % words.len()].repeat(i % 3)))
                .collect()
        };
        let frame = Frame::builder()
            .column(
                "i8",
                Column::from_options((0..n).map(|i| (i % 4 != 1).then_some(i as i8 * 11 - 60))),
            )
            .column(
                "u16",
                Column::new((0..n as u16).map(|i| i * 999).collect::<Vec<_>>()),
            )
            .column(
                "f64",
                Column::from_options((0..n).map(|i| match i {
                    3 => Some(f64::NAN),
                    7 => None,
                    _ => Some(i as f64 / 3.0),
                })),
            )
            .column(
                "b",
                Column::bools_opt((0..n).map(|i| (i != 5).then_some(i % 2 == 0))),
            )
            .column("s", Column::strings_opt(strs(2)))
            .column(
                "bin",
                Column::binary_opt((0..n).map(|i| (i != 0).then(|| vec![i as u8; i % 4]))),
            )
            .column(
                "ts",
                Column::timestamps_opt(
                    (0..n as i64).map(|i| (i % 6 != 3).then_some(i * 3_600_000_000)),
                    TimeUnit::Microsecond,
                    Some("Asia/Tokyo"),
                ),
            )
            .column(
                "d",
                Column::dates_opt((0..n as i32).map(|i| (i != 11).then_some(19_500 + i))),
            )
            .column(
                "dur",
                Column::durations((0..n as i64).map(|i| -i).collect(), TimeUnit::Second),
            )
            .column(
                "cat",
                Column::categorical(
                    (0..n).map(|i| (i % 4 != 0).then_some(["lo", "hï", "mid"][i % 3])),
                ),
            )
            .column("z", Column::strings_opt(strs(4)))
            .build()
            .unwrap();
        let options = FrameOptions::new()
            .column_codec("z", Codec::zstd())
            .chunk_len(32)
            .metadata("source", "corruption.rs");
        w.put_frame_with("f", &frame, &options).unwrap();
        w.set_metadata("rows", n as i64);
        w.finish().unwrap();
        let bytes = std::fs::read(&path).unwrap();

        let o = Original::new("frame", bytes, read_frames);
        let r = open(&o.bytes, true).unwrap();
        let f = r.frame("f").unwrap();
        assert_eq!((f.rows(), f.width()), (n, 11));
        for c in f.iter() {
            assert_eq!(c.is_compressed(), c.name() == "z", "{}", c.name());
        }
        o
    })
}

/// The model of the model file: a number, a string longer than 8 bytes (stored out of line)
/// and a short one (inline), an enum with fields, vectors of numbers and of structs, an option
/// and a bool.
#[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema, Debug, PartialEq)]
#[rkyv(derive(Debug))]
struct Model {
    id: u32,
    name: String,
    tag: String,
    shape: Shape,
    weights: Vec<f32>,
    layers: Vec<Layer>,
    scale: Option<f64>,
    enabled: bool,
}

#[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema, Debug, PartialEq)]
#[rkyv(derive(Debug))]
enum Shape {
    Circle { radius: f32 },
    Rect(u16, u16),
    Empty,
}

#[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema, Debug, PartialEq)]
#[rkyv(derive(Debug))]
struct Layer {
    units: u16,
    bias: bool,
    label: String,
}

fn model() -> Model {
    Model {
        id: 0xC0FFEE,
        name: "a model of ünïcödé names".to_owned(),
        tag: "v1".to_owned(),
        shape: Shape::Rect(3, 4),
        weights: (0..6).map(|i| i as f32 * 0.25 - 0.5).collect(),
        layers: (0..3u16)
            .map(|i| Layer {
                units: 8 << i,
                bias: i != 1,
                label: ["in", "hidden layer ü", ""][usize::from(i)].to_owned(),
            })
            .collect(),
        scale: Some(1.5),
        enabled: true,
    }
}

/// A file holding two models of type [`Model`]: "m" raw, with a version and entry metadata,
/// and "mz" compressed (zstd).
fn model_original() -> &'static Original {
    static ORIGINAL: OnceLock<Original> = OnceLock::new();
    ORIGINAL.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.brine");
        let mut w = Writer::options().alignment(64).create(&path).unwrap();
        let options = ModelOptions::new()
            .version(3)
            .metadata("source", "corruption.rs");
        w.put_model_with("m", &model(), &options).unwrap();
        let options = ModelOptions::new().codec(Codec::zstd()).zstd_level(1);
        w.put_model_with("mz", &model(), &options).unwrap();
        w.finish().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        Original::new("model", bytes, read_models)
    })
}

fn open(bytes: &[u8], verify: bool) -> Result<Reader> {
    Reader::options()
        .verify(verify)
        .open_buffer("corrupt.brine", AlignedBuf::copy_from_slice(bytes))
}

fn metadata(m: brine::Metadata<'_>) -> MetaList {
    m.iter()
        .map(|(k, v)| (k.to_owned(), Meta::from(v)))
        .collect()
}

fn view_bytes<T: Element + bytemuck::NoUninit>(a: &ArrayEntry<'_>) -> Result<Vec<u8>> {
    Ok(bytes_of(a.view::<T>()?.as_slice()))
}

/// Reads everything the file holds, each entry with its right type; compressed entries first
/// in pieces (chunk by chunk), then whole.
fn read_all(r: &Reader) -> Result<Snapshot> {
    let mut pieces = Vec::new();
    let b = r.array_entry("b_i64")?;
    pieces.push(bytes_of(&[b.get::<i64>(149)?]));
    pieces.push(bytes_of(b.range::<i64>(10..70)?));
    let e = r.array_entry("e_u16")?;
    pieces.push(bytes_of(e.range::<u16>(14..16)?));

    let mut arrays = Vec::new();
    type Read = fn(&ArrayEntry<'_>) -> Result<Vec<u8>>;
    let entries: [(&str, Read); 5] = [
        ("a_f32", view_bytes::<f32>),
        ("b_i64", view_bytes::<i64>),
        ("c_bool", view_bytes::<bool>),
        ("d_scalar", view_bytes::<f64>),
        ("e_u16", view_bytes::<u16>),
    ];
    for (name, read) in entries {
        let entry = r.entry(name)?;
        let array = entry.array()?;
        arrays.push((
            array.shape().to_vec(),
            metadata(entry.metadata()),
            read(&array)?,
        ));
    }
    Ok(Snapshot {
        names: r.entries().map(|e| e.name().to_owned()).collect(),
        file_metadata: metadata(r.metadata()),
        arrays,
        pieces,
        frames: Vec::new(),
        models: Vec::new(),
    })
}

fn rows<T: std::fmt::Debug>(values: impl Iterator<Item = T>) -> Vec<String> {
    values.map(|v| format!("{v:?}")).collect()
}

/// Every row of a column, read with the accessor of its type.
fn column_rows(c: ColumnView<'_>) -> Result<Vec<String>> {
    use brine::Dtype as D;
    Ok(match c.ty() {
        ColumnType::Bool => rows(c.bools()?.iter()),
        ColumnType::Utf8 => rows(c.strings()?.iter()),
        ColumnType::Binary => rows(c.binary()?.iter()),
        ColumnType::Timestamp { .. } | ColumnType::Duration(_) => {
            let t = c.timestamps()?;
            let mut rows = rows(t.values.iter());
            rows.push(format!("{:?} {:?}", t.unit, t.zone));
            rows
        }
        ColumnType::Date => rows(c.dates()?.iter()),
        ColumnType::Categorical { .. } => {
            let cat = c.categorical()?;
            let mut rows = rows(cat.iter());
            rows.extend(self::rows(cat.dictionary.iter()));
            rows
        }
        ColumnType::Primitive(d) => match d {
            D::I8 => rows(c.primitive::<i8>()?.iter()),
            D::I16 => rows(c.primitive::<i16>()?.iter()),
            D::I32 => rows(c.primitive::<i32>()?.iter()),
            D::I64 => rows(c.primitive::<i64>()?.iter()),
            D::U8 => rows(c.primitive::<u8>()?.iter()),
            D::U16 => rows(c.primitive::<u16>()?.iter()),
            D::U32 => rows(c.primitive::<u32>()?.iter()),
            D::U64 => rows(c.primitive::<u64>()?.iter()),
            D::F16 => rows(c.primitive::<half::f16>()?.iter()),
            D::F32 => rows(c.primitive::<f32>()?.iter()),
            D::F64 => rows(c.primitive::<f64>()?.iter()),
            d => panic!("a primitive dtype this test does not know: {d}"),
        },
        ty => panic!("a column type this test does not know: {ty}"),
    })
}

/// Reads every model of the file as a [`Model`], in place and owned.
fn read_models(r: &Reader) -> Result<Snapshot> {
    let mut models = Vec::new();
    for e in r.entries() {
        let m = e.model()?;
        models.push((
            m.type_name().to_owned(),
            m.version(),
            metadata(e.metadata()),
            format!("{:?}", r.model::<Model>(e.name())?),
            format!("{:?}", r.load_model::<Model>(e.name())?),
        ));
    }
    Ok(Snapshot {
        names: r.entries().map(|e| e.name().to_owned()).collect(),
        file_metadata: metadata(r.metadata()),
        arrays: Vec::new(),
        pieces: Vec::new(),
        frames: Vec::new(),
        models,
    })
}

/// Every model of the file: what its entry records, then the model as a [`Model`] in place
/// (twice: the second call takes the cached path after a success) and owned. The first error,
/// after trying all; a schema mismatch (a lying fingerprint) is one too.
fn touch_models(r: &Reader) -> Result<()> {
    let mut first = None;
    for e in r.entries() {
        let Ok(m) = e.model() else { continue };
        let _ = (
            m.name(),
            m.type_name(),
            m.schema(),
            m.fingerprint(),
            m.version(),
            m.archive_len(),
            format!("{m:?}"),
        );
        let results = [
            r.model::<Model>(e.name()).map(|m| format!("{m:?}")),
            r.model::<Model>(e.name()).map(|m| format!("{m:?}")),
            r.load_model::<Model>(e.name()).map(|m| format!("{m:?}")),
        ];
        for result in results {
            if let Err(e) = result {
                first.get_or_insert(e);
            }
        }
    }
    first.map_or(Ok(()), Err)
}

/// Reads every frame of the file, every column with the accessor of its type.
fn read_frames(r: &Reader) -> Result<Snapshot> {
    let mut frames = Vec::new();
    for e in r.entries() {
        let f = e.frame()?;
        let mut columns = Vec::new();
        for c in f.iter() {
            let b = c.buffers()?;
            columns.push(ColumnSnapshot {
                name: c.name().to_owned(),
                ty: c.ty().to_string(),
                stats: format!("{:?}", c.stats()),
                rows: column_rows(c)?,
                buffers: b.map(<[u8]>::to_vec),
            });
        }
        frames.push((f.rows(), metadata(e.metadata()), columns));
    }
    Ok(Snapshot {
        names: r.entries().map(|e| e.name().to_owned()).collect(),
        file_metadata: metadata(r.metadata()),
        arrays: Vec::new(),
        pieces: Vec::new(),
        frames,
        models: Vec::new(),
    })
}

/// Calls every accessor of a column, the wrong ones too, and walks whatever they return.
/// Returns the first error other than [`Error::WrongColumnType`] (which a wrong accessor
/// must give), after trying everything.
fn touch_column(c: ColumnView<'_>) -> Result<()> {
    let _ = (
        c.name(),
        c.len(),
        c.is_empty(),
        c.ty(),
        c.physical(),
        c.unit(),
        c.zone(),
    );
    let _ = (
        c.null_count(),
        c.stats(),
        c.is_compressed(),
        format!("{c:?}"),
    );
    let mut first = None;
    let mut note = |r: Result<usize>| match r {
        Err(Error::WrongColumnType { .. }) | Ok(_) => {}
        Err(e) => {
            first.get_or_insert(e);
        }
    };
    note(c.validity().map(|v| v.map_or(0, |b| b.count_ones())));
    note(c.buffers().map(|b| b.iter().map(|x| x.len()).sum()));
    macro_rules! every_dtype {
        ($($t:ty),*) => {$(
            note(c.values::<$t>().map(|v| v.len()));
            note(c.primitive::<$t>().map(|p| p.iter().count()));
        )*};
    }
    every_dtype!(
        bool,
        i8,
        i16,
        i32,
        i64,
        u8,
        u16,
        u32,
        u64,
        half::f16,
        half::bf16,
        f32,
        f64
    );
    note(c.timestamps().map(|t| t.values.iter().count()));
    note(c.dates().map(|d| d.iter().count()));
    note(c.bools().map(|b| b.iter().count()));
    note(
        c.strings()
            .map(|s| s.iter().map(|x| x.map_or(0, str::len)).sum()),
    );
    note(
        c.binary()
            .map(|b| b.iter().map(|x| x.map_or(0, <[u8]>::len)).sum()),
    );
    note(
        c.categorical()
            .map(|cat| cat.iter().count() + cat.dictionary.iter().count()),
    );
    note(column_rows(c).map(|r| r.len()));
    first.map_or(Ok(()), Err)
}

/// Every column of every frame through every accessor; the first error, after trying all.
fn touch_frames(r: &Reader) -> Result<()> {
    let mut first = None;
    for e in r.entries() {
        let _ = e.metadata().iter().count();
        let Ok(f) = e.frame() else { continue };
        let _ = (f.name(), f.rows(), f.width(), f.fields(), format!("{f:?}"));
        for c in f.iter() {
            if let Err(e) = touch_column(c).and_then(|()| f.column(c.name()).map(drop)) {
                first.get_or_insert(e);
            }
        }
    }
    first.map_or(Ok(()), Err)
}

/// Opens and reads `bytes` as `o` is read, turning a panic into a description of it.
fn attempt(
    o: &Original,
    bytes: &[u8],
    verify: bool,
) -> std::result::Result<Result<Snapshot>, String> {
    catch_unwind(AssertUnwindSafe(|| {
        let r = open(bytes, verify)?;
        // Every column through every accessor first, the wrong ones too, and every model:
        // none may panic, whatever the verdict (it does not matter here).
        let _ = touch_frames(&r);
        let _ = touch_models(&r);
        let snapshot = (o.read)(&r)?;
        if !verify {
            // A verify after reading must not panic either; its verdict does not matter here.
            let _ = r.verify();
        }
        Ok(snapshot)
    }))
    .map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "non-string panic".into())
    })
}

fn assert_no_failures(what: &str, failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{what}: {} failures, the first ones:\n{}",
        failures.len(),
        failures[..failures.len().min(20)].join("\n")
    );
    let largest = LARGEST.load(Ordering::Relaxed);
    assert!(
        largest <= MAX_ALLOCATION,
        "{what}: an allocation of {largest} bytes"
    );
}

const FLIPS: [u8; 3] = [0x01, 0x80, 0xFF];

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[test]
fn the_file_is_small_and_varied() {
    let o = original();
    assert!((1500..8192).contains(&o.bytes.len()), "{}", o.bytes.len());
    assert_eq!(o.raw_sections.len(), 3);
    assert_eq!(o.snapshot.names.len(), 5);
    assert_eq!(o.snapshot.file_metadata.len(), 5);
}

#[test]
fn the_frame_file_is_small_and_varied() {
    let o = frame_original();
    assert!((2000..8192).contains(&o.bytes.len()), "{}", o.bytes.len());
    // 10 raw columns, 7 of them with nulls, the string, binary and categorical ones with
    // extra buffers; the compressed column's 3 buffers.
    assert_eq!(o.sections.len(), 25);
    assert_eq!(o.raw_sections.len(), 22);
    let (rows, metadata, columns) = &o.snapshot.frames[0];
    assert_eq!((*rows, metadata.len(), columns.len()), (FRAME_ROWS, 1, 11));
    let types: Vec<&str> = columns.iter().map(|c| c.ty.as_str()).collect();
    assert_eq!(
        types,
        [
            "i8",
            "u16",
            "f64",
            "bool",
            "utf8",
            "binary",
            "timestamp[us, Asia/Tokyo]",
            "date",
            "duration[s]",
            "categorical",
            "utf8"
        ]
    );
    for c in columns {
        assert!(c.rows.len() >= FRAME_ROWS, "{}", c.name);
        assert!(
            c.rows.iter().any(|r| r == "None") || ["u16", "dur"].contains(&c.name.as_str()),
            "{}",
            c.name
        );
    }
    // Every accessor of every column: the right ones succeed, the wrong ones are refused.
    touch_frames(&open(&o.bytes, true).unwrap()).unwrap();
}

#[test]
fn the_model_file_is_small_and_varied() {
    let o = model_original();
    assert!((700..4096).contains(&o.bytes.len()), "{}", o.bytes.len());
    assert_eq!((o.sections.len(), o.raw_sections.len()), (2, 1));
    let owned = format!("{:?}", model());
    for (name, (type_name, version, metadata, in_place, read)) in
        o.snapshot.names.iter().zip(&o.snapshot.models)
    {
        assert_eq!(type_name, "Model");
        assert_eq!(*version, (name == "m").then_some(3));
        assert_eq!(metadata.len(), usize::from(name == "m"));
        assert!(in_place.contains("a model of ünïcödé names"), "{in_place}");
        assert_eq!(read, &owned);
    }
    let r = open(&o.bytes, true).unwrap();
    assert!(r.model_entry("mz").unwrap().archive_len() > 64);
    touch_models(&r).unwrap();
}

#[test]
fn every_truncation_is_an_error() {
    let mut failures = Vec::new();
    for o in originals() {
        for len in 0..o.bytes.len() {
            for verify in [true, false] {
                match attempt(o, &o.bytes[..len], verify) {
                    Err(panic) => {
                        failures.push(format!("{}: length {len}: panic: {panic}", o.name))
                    }
                    Ok(Ok(_)) => failures.push(format!(
                        "{}: length {len} (verify {verify}): opened",
                        o.name
                    )),
                    Ok(Err(_)) => {}
                }
            }
        }
    }
    assert_no_failures("truncation", &failures);
}

#[test]
fn every_byte_flip_is_an_error_with_verify() {
    let mut failures = Vec::new();
    for o in originals() {
        let mut bytes = o.bytes.clone();
        for offset in 0..bytes.len() {
            for mask in FLIPS {
                bytes[offset] ^= mask;
                let at = format!("{}: offset {offset} ^ {mask:#04x}", o.name);
                match attempt(o, &bytes, true) {
                    Err(panic) => failures.push(format!("{at}: panic: {panic}")),
                    Ok(Ok(s)) => failures.push(format!(
                        "{at}: not detected (data {})",
                        if s == o.snapshot {
                            "unchanged"
                        } else {
                            "changed"
                        }
                    )),
                    Ok(Err(_)) => {}
                }
                bytes[offset] ^= mask;
            }
        }
    }
    assert_no_failures("flip with verify", &failures);
}

#[test]
fn every_byte_flip_without_verify_reads_the_original_or_fails() {
    // Without verify, a reader does not look at raw data pages beyond what it returns: a flip
    // inside a raw section shows up in the data (or, for bool arrays and for the offsets,
    // strings, codes and validity of columns, as an error of the first access). Anywhere else
    // a flip is caught (header and manifest checksums, chunk checksums) or harmless (padding).
    let mut failures = Vec::new();
    for o in originals() {
        let mut bytes = o.bytes.clone();
        let (mut changed_data, mut refused) = (0, 0);
        for offset in 0..bytes.len() {
            let in_raw = o.raw_sections.iter().any(|r| r.contains(&offset));
            for mask in FLIPS {
                bytes[offset] ^= mask;
                let at = format!("{}: offset {offset} ^ {mask:#04x}", o.name);
                match attempt(o, &bytes, false) {
                    Err(panic) => failures.push(format!("{at}: panic: {panic}")),
                    Ok(Ok(s)) if s != o.snapshot => {
                        changed_data += 1;
                        if !in_raw {
                            failures.push(format!("{at}: outside raw data, but the data changed"));
                        }
                    }
                    Ok(Err(_)) if in_raw => refused += 1,
                    Ok(_) => {}
                }
                bytes[offset] ^= mask;
            }
        }
        // Sanity: raw data flips were seen (so the comparison compares something), and for
        // the frame and the models, some were refused by the checks of a first access (of a
        // column, of an archive).
        assert!(changed_data > 0, "{}", o.name);
        if o.name != "arrays" {
            assert!(refused > 0, "{}", o.name);
        }
    }
    assert_no_failures("flip without verify", &failures);
}

#[test]
fn every_byte_flip_of_a_mapped_file() {
    // The same through real maps, on a sample of offsets (file writes are slower than buffers):
    // the header, the start of every section, and the manifest.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flip.brine");
    let mut failures = Vec::new();
    for o in originals() {
        let r = open(&o.bytes, false).unwrap();
        let mut offsets: Vec<usize> = (0..128).step_by(3).collect();
        offsets.extend(o.sections.iter().filter(|s| !s.is_empty()).map(|s| s.start));
        let manifest_offset = (r.file_len() - r.manifest_len()) as usize;
        offsets.extend((manifest_offset..o.bytes.len()).step_by(17));
        for offset in offsets {
            let mut bytes = o.bytes.clone();
            bytes[offset] ^= 0xFF;
            std::fs::write(&path, &bytes).unwrap();
            let result = catch_unwind(AssertUnwindSafe(|| {
                let r = Reader::options().verify(true).open(&path)?;
                (o.read)(&r)
            }));
            match result {
                Err(_) => failures.push(format!("{}: offset {offset}: panic", o.name)),
                Ok(Ok(_)) => failures.push(format!("{}: offset {offset}: not detected", o.name)),
                Ok(Err(e)) => assert!(!matches!(e, Error::Io { .. }), "{e}"),
            }
        }
    }
    assert_no_failures("flip of a mapped file", &failures);
}

// ---------------------------------------------------------------------------------------------
// Lying manifests and headers: corruptions with their checksums recomputed
// ---------------------------------------------------------------------------------------------

fn touch<T: Element>(a: &ArrayEntry<'_>) -> Result<()> {
    let n = a.len();
    if n > 0 {
        a.get::<T>(n - 1)?;
        a.range::<T>(n / 2..n)?;
    }
    a.view::<T>()?;
    Ok(())
}

/// Reads every entry with the kind and dtype the (possibly lying) manifest declares (frames:
/// every column through every accessor; models as a [`Model`]), then verifies.
fn read_whatever_is_there(r: &Reader) -> Result<()> {
    use brine::Dtype;
    let _ = r.metadata().iter().count();
    touch_frames(r)?;
    touch_models(r)?;
    for e in r.entries() {
        let _ = e.metadata().iter().count();
        match e.kind() {
            Kind::Array => {}
            Kind::Frame | Kind::Model => continue,
            kind => panic!("an entry of kind {kind:?}"),
        }
        let a = e.array()?;
        let _ = (
            a.shape(),
            a.codec(),
            a.offset(),
            a.stored_len(),
            a.chunk_count(),
        );
        match a.dtype() {
            Dtype::Bool => touch::<bool>(&a)?,
            Dtype::I8 => touch::<i8>(&a)?,
            Dtype::I16 => touch::<i16>(&a)?,
            Dtype::I32 => touch::<i32>(&a)?,
            Dtype::I64 => touch::<i64>(&a)?,
            Dtype::U8 => touch::<u8>(&a)?,
            Dtype::U16 => touch::<u16>(&a)?,
            Dtype::U32 => touch::<u32>(&a)?,
            Dtype::U64 => touch::<u64>(&a)?,
            Dtype::F16 => touch::<half::f16>(&a)?,
            Dtype::BF16 => touch::<half::bf16>(&a)?,
            Dtype::F32 => touch::<f32>(&a)?,
            Dtype::F64 => touch::<f64>(&a)?,
            d => panic!("a dtype this test does not know: {d}"),
        }
    }
    r.verify()
}

fn reseal_header(bytes: &mut [u8]) {
    let sum = brine::raw::checksum::xxh3(&bytes[..120]);
    bytes[120..128].copy_from_slice(&sum.to_le_bytes());
}

fn reseal_manifest(bytes: &mut [u8]) {
    let offset = u64::from_le_bytes(bytes[32..40].try_into().unwrap()) as usize;
    let sum = brine::raw::checksum::xxh3(&bytes[offset..]);
    bytes[48..56].copy_from_slice(&sum.to_le_bytes());
    reseal_header(bytes);
}

fn sweep(o: &Original, what: &str, offsets: Range<usize>, reseal: fn(&mut [u8])) {
    let what = &format!("{}: {what}", o.name);
    let mut failures = Vec::new();
    let (mut opened, mut refused) = (0, 0);
    for offset in offsets {
        for mask in FLIPS {
            let mut bytes = o.bytes.clone();
            bytes[offset] ^= mask;
            reseal(&mut bytes);
            let result = catch_unwind(AssertUnwindSafe(|| {
                let r = open(&bytes, false)?;
                opened += 1;
                read_whatever_is_there(&r)
            }));
            match result {
                Err(_) => failures.push(format!("{what} offset {offset} ^ {mask:#04x}: panic")),
                Ok(Err(_)) => refused += 1,
                Ok(Ok(())) => {}
            }
        }
    }
    assert_no_failures(what, &failures);
    assert!(refused > 0, "{what}: nothing refused ({opened} opened)");
}

#[test]
fn every_manifest_byte_flip_with_a_valid_checksum() {
    // The manifest checksum is recomputed, so what must hold is rkyv validation and the
    // manifest rules; a manifest that passes them is then read and verified in full.
    for o in originals() {
        let manifest_offset = u64::from_le_bytes(o.bytes[32..40].try_into().unwrap()) as usize;
        sweep(
            o,
            "manifest",
            manifest_offset..o.bytes.len(),
            reseal_manifest,
        );
    }
}

#[test]
fn every_header_byte_flip_with_a_valid_checksum() {
    for o in originals() {
        sweep(o, "header", 0..120, reseal_header);
    }
}

#[test]
fn random_manifest_field_overwrites_with_a_valid_checksum() {
    // Seeded random edits of the manifest that a single flip cannot make: several bytes at
    // once, and whole little-endian words set to values at the edges of the rules (zero, one,
    // alignments, a page, 2^32, 2^40, the maximum).
    for o in originals() {
        random_manifest_field_overwrites(o);
    }
}

fn random_manifest_field_overwrites(o: &Original) {
    use rand::{Rng, SeedableRng};
    let manifest_offset = u64::from_le_bytes(o.bytes[32..40].try_into().unwrap()) as usize;
    let words: [u64; 12] = [
        0,
        1,
        2,
        63,
        64,
        4096,
        u64::from(u32::MAX),
        1 << 32,
        1 << 40,
        64 << 20,
        i64::MAX as u64,
        u64::MAX,
    ];
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(0xB1E);
    let mut failures = Vec::new();
    let mut opened = 0;
    for case in 0..4000 {
        let mut bytes = o.bytes.clone();
        let edits = rng.gen_range(1..=3);
        for _ in 0..edits {
            if rng.gen_bool(0.5) {
                // A whole 4- or 8-byte word, aligned as rkyv aligns it.
                let width = if rng.gen_bool(0.5) { 4 } else { 8 };
                let slots = (bytes.len() - manifest_offset) / width;
                let at = manifest_offset + rng.gen_range(0..slots) * width;
                let v = words[rng.gen_range(0..words.len())];
                bytes[at..at + width].copy_from_slice(&v.to_le_bytes()[..width]);
            } else {
                let at = rng.gen_range(manifest_offset..bytes.len());
                bytes[at] = rng.r#gen();
            }
        }
        reseal_manifest(&mut bytes);
        let result = catch_unwind(AssertUnwindSafe(|| {
            let r = open(&bytes, false)?;
            opened += 1;
            read_whatever_is_there(&r)
        }));
        if result.is_err() {
            failures.push(format!("{}: case {case}: panic", o.name));
        }
    }
    assert_no_failures("random manifest edits", &failures);
    assert!(opened > 0);
}
