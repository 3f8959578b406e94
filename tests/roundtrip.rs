//! Round trips: what a `Writer` writes, a `Reader` reads back bit for bit, with the promised
//! alignment, for every dtype, shape (rank 0 to 4, zero-length dimensions), codec, chunk size
//! and alignment unit; metadata of every value type; streaming writes; concurrent reads; and
//! the atomic-replacement guarantees of the writer.

use std::path::Path;

mod common;
use common::{Data, Meta};

use half::{bf16, f16};
use proptest::prelude::*;
use proptest::sample::Index;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use brine::raw::limits::PAGE;
use brine::raw::{Dtype, FORMAT_VERSION, Version};
use brine::{
    ArrayEntry, ArrayView, Codec, Element, EntryOptions, EntryRef, Error, MetaRef, MetaValue,
    Reader, Writer,
};

/// Cases per property: enough to reach every dtype and codec many times, few enough to keep
/// the suite fast.
const CASES: u32 = 64;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        // Failures print their minimal input; no regression files are written into the tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Typed test data
// ---------------------------------------------------------------------------------------------

/// An element type with two generators: arbitrary bit patterns (NaNs, infinities, subnormals
/// included) that compress badly, and a smooth walk that compresses well.
trait Gen: Element + bytemuck::NoUninit {
    fn from_bits(bits: u64) -> Self;
    fn from_walk(x: i64) -> Self;
}

macro_rules! gen_int {
    ($($t:ty),*) => {$(
        impl Gen for $t {
            fn from_bits(bits: u64) -> Self {
                bits as $t
            }
            fn from_walk(x: i64) -> Self {
                x as $t
            }
        }
    )*};
}
gen_int!(i8, i16, i32, i64, u8, u16, u32, u64);

impl Gen for bool {
    fn from_bits(bits: u64) -> Self {
        bits & 1 == 1
    }
    fn from_walk(x: i64) -> Self {
        (x / 4) % 2 != 0
    }
}
impl Gen for f16 {
    fn from_bits(bits: u64) -> Self {
        f16::from_bits(bits as u16)
    }
    fn from_walk(x: i64) -> Self {
        f16::from_f32(x as f32 / 4.0)
    }
}
impl Gen for bf16 {
    fn from_bits(bits: u64) -> Self {
        bf16::from_bits(bits as u16)
    }
    fn from_walk(x: i64) -> Self {
        bf16::from_f32(x as f32 / 4.0)
    }
}
impl Gen for f32 {
    fn from_bits(bits: u64) -> Self {
        f32::from_bits(bits as u32)
    }
    fn from_walk(x: i64) -> Self {
        x as f32 / 8.0
    }
}
impl Gen for f64 {
    fn from_bits(bits: u64) -> Self {
        f64::from_bits(bits)
    }
    fn from_walk(x: i64) -> Self {
        x as f64 / 16.0
    }
}

fn make<T: Gen>(n: usize, seed: u64, smooth: bool) -> Vec<T> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut x = 0i64;
    (0..n)
        .map(|_| {
            if smooth {
                x += rng.gen_range(-3..=3);
                T::from_walk(x)
            } else {
                T::from_bits(rng.r#gen())
            }
        })
        .collect()
}

impl Data {
    fn new(dtype: Dtype, n: usize, seed: u64, smooth: bool) -> Data {
        match dtype {
            Dtype::Bool => Data::Bool(make(n, seed, smooth)),
            Dtype::I8 => Data::I8(make(n, seed, smooth)),
            Dtype::I16 => Data::I16(make(n, seed, smooth)),
            Dtype::I32 => Data::I32(make(n, seed, smooth)),
            Dtype::I64 => Data::I64(make(n, seed, smooth)),
            Dtype::U8 => Data::U8(make(n, seed, smooth)),
            Dtype::U16 => Data::U16(make(n, seed, smooth)),
            Dtype::U32 => Data::U32(make(n, seed, smooth)),
            Dtype::U64 => Data::U64(make(n, seed, smooth)),
            Dtype::F16 => Data::F16(make(n, seed, smooth)),
            Dtype::BF16 => Data::BF16(make(n, seed, smooth)),
            Dtype::F32 => Data::F32(make(n, seed, smooth)),
            Dtype::F64 => Data::F64(make(n, seed, smooth)),
            d => unreachable!("dtype {d} is not covered by this test"),
        }
    }
}

/// Bitwise equality (NaNs with the same bits are equal, 0.0 and -0.0 are not).
fn same_bits<T: bytemuck::NoUninit>(a: &[T], b: &[T]) -> bool {
    bytemuck::cast_slice::<T, u8>(a) == bytemuck::cast_slice::<T, u8>(b)
}

fn assert_aligned<T>(slice: &[T], what: &str) {
    let align = std::mem::align_of::<T>();
    assert_eq!(
        slice.as_ptr() as usize % align,
        0,
        "{what}: view at {:p} is not aligned to {align}",
        slice.as_ptr()
    );
}

// ---------------------------------------------------------------------------------------------
// Entries and files
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq)]
enum CodecSpec {
    Raw,
    Zstd,
    ZstdShuffle,
}

#[derive(Clone, Debug)]
struct EntrySpec {
    name: String,
    shape: Vec<usize>,
    data: Data,
    codec: CodecSpec,
    chunk_len: usize,
}

impl EntrySpec {
    fn options(&self) -> EntryOptions {
        let codec = match self.codec {
            CodecSpec::Raw => Codec::Raw,
            CodecSpec::Zstd => Codec::zstd(),
            CodecSpec::ZstdShuffle => Codec::zstd_shuffled(),
        };
        EntryOptions::new()
            .codec(codec)
            .chunk_len(self.chunk_len)
            .metadata("index", self.name.len() as i64)
    }

    fn raw_len(&self) -> usize {
        self.data.len() * self.data.dtype().size()
    }

    /// The chunk length the writer uses: at least one element, whole elements.
    fn effective_chunk_len(&self) -> usize {
        let size = self.data.dtype().size();
        let c = self.chunk_len.max(size);
        c - c % size
    }

    fn codec_name(&self) -> &'static str {
        match (self.codec, self.data.dtype().size()) {
            (CodecSpec::Raw, _) => "raw",
            (CodecSpec::Zstd, _) | (CodecSpec::ZstdShuffle, 1) => "zstd",
            (CodecSpec::ZstdShuffle, _) => "zstd+shuffle",
        }
    }
}

fn dims(rank: usize) -> impl Strategy<Value = Vec<usize>> {
    let max: usize = [1, 1200, 40, 12, 7][rank];
    prop::collection::vec(prop_oneof![1 => Just(0usize), 6 => 1..=max], rank)
}

fn entry_spec(name: String) -> impl Strategy<Value = EntrySpec> {
    (
        0..Dtype::ALL.len(),
        (0usize..=4).prop_flat_map(dims),
        any::<u64>(),
        any::<bool>(),
        prop_oneof![
            Just(CodecSpec::Raw),
            Just(CodecSpec::Zstd),
            Just(CodecSpec::ZstdShuffle)
        ],
        prop_oneof![1 => 0usize..=16, 3 => 1usize..=1024, 1 => Just(1 << 20)],
    )
        .prop_map(move |(dtype, shape, seed, smooth, codec, chunk_len)| {
            let n = shape.iter().product();
            EntrySpec {
                name: name.clone(),
                data: Data::new(Dtype::ALL[dtype], n, seed, smooth),
                shape,
                codec,
                chunk_len,
            }
        })
}

#[derive(Clone, Debug)]
struct FileSpec {
    alignment: u32,
    entries: Vec<EntrySpec>,
}

fn file_spec() -> impl Strategy<Value = FileSpec> {
    let entries = prop_oneof![
        entry_spec("a".into()).prop_map(|e| vec![e]),
        (entry_spec("b".into()), entry_spec("a".into())).prop_map(|(b, a)| vec![b, a]),
        (
            entry_spec("x/1".into()),
            entry_spec("x".into()),
            entry_spec("é".into())
        )
            .prop_map(|(a, b, c)| vec![a, b, c]),
    ];
    (6u32..=16, entries).prop_map(|(shift, entries)| FileSpec {
        alignment: 1 << shift,
        entries,
    })
}

fn write_file(path: &Path, spec: &FileSpec) {
    let mut w = Writer::options()
        .alignment(spec.alignment)
        .create(path)
        .unwrap();
    for e in &spec.entries {
        let opts = e.options();
        dispatch!(&e.data, v => w.put_array_with(&e.name, v, &e.shape, &opts)).unwrap();
    }
    w.finish().unwrap();
}

/// Checks one entry against its spec: metadata, layout, ranges (before anything else has
/// decoded the entry), single elements, and the whole view.
fn check_entry<T: Element + bytemuck::NoUninit>(
    r: &Reader,
    alignment: u32,
    spec: &EntrySpec,
    expected: &[T],
) {
    let name = &spec.name;
    let e: ArrayEntry<'_> = r.array_entry(name).unwrap();
    let shape: Vec<u64> = spec.shape.iter().map(|&d| d as u64).collect();
    assert_eq!(e.name(), name);
    assert_eq!(e.dtype(), T::DTYPE);
    assert_eq!(e.shape(), &shape[..]);
    assert_eq!(e.len(), expected.len());
    assert_eq!(e.is_empty(), expected.is_empty());
    assert_eq!(e.raw_len(), spec.raw_len() as u64);
    assert_eq!(e.codec().name(), spec.codec_name(), "{name}");
    assert_eq!(e.is_compressed(), spec.codec != CodecSpec::Raw);
    assert_eq!(e.offset() % 64, 0, "{name}: offset {}", e.offset());
    if e.is_compressed() {
        let chunk = spec.effective_chunk_len();
        assert_eq!(e.chunk_count(), spec.raw_len().div_ceil(chunk), "{name}");
    } else {
        assert_eq!(e.chunk_count(), 0);
        assert_eq!(e.stored_len(), e.raw_len());
        if e.raw_len() >= PAGE {
            assert_eq!(
                e.offset() % u64::from(alignment),
                0,
                "{name}: offset {} of a section of {} bytes, unit {alignment}",
                e.offset(),
                e.raw_len()
            );
        }
    }
    let meta = r.entry(name).unwrap().metadata();
    assert_eq!(meta.get("index"), Some(MetaRef::Int(name.len() as i64)));

    // Ranges: chunk-sized, straddling chunk boundaries, and at the edges.
    let n = expected.len();
    let per_chunk = (spec.effective_chunk_len() / T::DTYPE.size()).max(1);
    let mut ranges = vec![
        (n / 3, 2 * n / 3),
        (n.saturating_sub(1), n),
        (0, n.min(1)),
        (n, n),
        (per_chunk.saturating_sub(1).min(n), (per_chunk + 1).min(n)),
        (
            (2 * per_chunk).min(n),
            (2 * per_chunk + per_chunk / 2).min(n),
        ),
    ];
    ranges.push((0, n));
    for (start, end) in ranges {
        let got = e.range::<T>(start..end).unwrap();
        assert!(
            same_bits(got, &expected[start..end]),
            "{name}: range {start}..{end}"
        );
        assert_aligned(got, name);
    }
    for i in [0, n / 2, n.saturating_sub(1)] {
        if i < n {
            let got = e.get::<T>(i).unwrap();
            assert!(same_bits(&[got], &expected[i..=i]), "{name}: element {i}");
        }
    }

    let v: ArrayView<'_, T> = r.array::<T>(name).unwrap();
    assert!(same_bits(v.as_slice(), expected), "{name}: whole view");
    assert_aligned(v.as_slice(), name);
    assert_eq!(v.shape(), &shape[..]);
    assert_eq!(v.ndim(), shape.len());
    assert_eq!(v.dtype(), T::DTYPE);
    assert_eq!(v.len(), n);
    assert_eq!(v.is_empty(), n == 0);
}

fn check_file(path: &Path, spec: &FileSpec) {
    let r = Reader::options().verify(true).open(path).unwrap();
    // W1: a file without column metadata or flags is of version 1.0, whatever the writer's.
    assert_eq!(
        r.version(),
        Version {
            major: FORMAT_VERSION.major,
            minor: 0
        }
    );
    assert_eq!(r.alignment(), spec.alignment);
    assert_eq!(r.file_len(), std::fs::metadata(path).unwrap().len());
    assert_eq!(r.len(), spec.entries.len());
    for e in &spec.entries {
        dispatch!(&e.data, v => check_entry(&r, spec.alignment, e, v));
    }
    // The same bytes read from memory instead of a map.
    let bytes = std::fs::read(path).unwrap();
    let r = Reader::from_buffer("copy", brine::AlignedBuf::copy_from_slice(&bytes)).unwrap();
    for e in &spec.entries {
        dispatch!(&e.data, v => {
            let got = r.array(&e.name).unwrap();
            assert!(same_bits(got.as_slice(), v), "{} from a buffer", e.name);
            assert_aligned(got.as_slice(), &e.name);
        });
    }
}

proptest! {
    #![proptest_config(config(CASES))]

    #[test]
    fn arrays_round_trip(spec in file_spec()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.brine");
        write_file(&path, &spec);
        check_file(&path, &spec);
    }

    #[test]
    fn streaming_in_uneven_pieces_equals_one_shot(
        e in entry_spec("s".into()),
        cuts in prop::collection::vec(any::<Index>(), 0..8),
        alignment_shift in 6u32..=13,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let alignment = 1 << alignment_shift;
        let one_shot = dir.path().join("one.brine");
        write_file(&one_shot, &FileSpec { alignment, entries: vec![e.clone()] });

        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(e.data.len() + 1)).collect();
        cuts.push(e.data.len());
        cuts.sort_unstable();
        let streamed = dir.path().join("streamed.brine");
        let mut w = Writer::options().alignment(alignment).create(&streamed).unwrap();
        dispatch!(&e.data, v => {
            let mut aw = w.array_writer(&e.name, &e.shape, &e.options()).unwrap();
            let mut start = 0;
            for &end in &cuts {
                aw.write(&v[start..end]).unwrap(); // some pieces are empty
                start = end;
            }
            aw.finish().unwrap();
        });
        w.finish().unwrap();

        // Chunks are cut by raw offset, not by piece: the files are identical.
        prop_assert!(std::fs::read(&one_shot).unwrap() == std::fs::read(&streamed).unwrap());
        check_file(&streamed, &FileSpec { alignment, entries: vec![e] });
    }
}

#[test]
fn every_dtype_and_codec_with_large_sections() {
    // Deterministic companion of the property: every dtype, every codec, sections of a page
    // and more on a 2 MiB unit, and chunks of one element.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("all.brine");
    let mut entries = Vec::new();
    for (i, dtype) in Dtype::ALL.into_iter().enumerate() {
        for (j, codec) in [CodecSpec::Raw, CodecSpec::Zstd, CodecSpec::ZstdShuffle]
            .into_iter()
            .enumerate()
        {
            let n = 3000 + i * 7;
            entries.push(EntrySpec {
                name: format!("{dtype}/{j}"),
                shape: vec![n],
                data: Data::new(dtype, n, (i * 3 + j) as u64, j == 1),
                codec,
                chunk_len: if j == 2 { 1 } else { 1000 },
            });
        }
    }
    let spec = FileSpec {
        alignment: 2 << 20,
        entries,
    };
    write_file(&path, &spec);
    check_file(&path, &spec);
}

#[test]
fn zero_sized_arrays_of_every_codec() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zero.brine");
    let shapes: [&[usize]; 4] = [&[0], &[3, 0], &[0, 5, 2], &[1, 1, 0, 1]];
    let mut entries = Vec::new();
    for (i, shape) in shapes.into_iter().enumerate() {
        for (j, codec) in [CodecSpec::Raw, CodecSpec::Zstd, CodecSpec::ZstdShuffle]
            .into_iter()
            .enumerate()
        {
            entries.push(EntrySpec {
                name: format!("z{i}{j}"),
                shape: shape.to_vec(),
                data: Data::new(Dtype::ALL[(i * 3 + j) % 13], 0, 0, false),
                codec,
                chunk_len: 8,
            });
        }
    }
    let spec = FileSpec {
        alignment: 4096,
        entries,
    };
    write_file(&path, &spec);
    check_file(&path, &spec);
}

#[test]
fn empty_file_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.brine");
    Writer::create(&path).unwrap().finish().unwrap();
    let r = Reader::options().verify(true).open(&path).unwrap();
    assert!(r.is_empty());
    assert_eq!(r.len(), 0);
    assert_eq!(r.entries().len(), 0);
    assert!(r.metadata().is_empty());
    assert!(r.get("").is_none());
}

// ---------------------------------------------------------------------------------------------
// Metadata
// ---------------------------------------------------------------------------------------------

impl From<&MetaValue> for Meta {
    fn from(m: &MetaValue) -> Meta {
        match m {
            MetaValue::Str(s) => Meta::Str(s.clone()),
            MetaValue::Int(v) => Meta::Int(*v),
            MetaValue::Float(v) => Meta::Float(v.to_bits()),
            MetaValue::Bool(v) => Meta::Bool(*v),
            MetaValue::Bytes(v) => Meta::Bytes(v.clone()),
        }
    }
}

fn metadata_of(m: brine::Metadata<'_>) -> Vec<(String, Meta)> {
    m.iter()
        .map(|(k, v)| (k.to_owned(), Meta::from(v)))
        .collect()
}

#[test]
fn metadata_of_every_value_type_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("meta.brine");
    let values: Vec<(&str, MetaValue)> = vec![
        ("str", "hé\u{0}llo \u{1F980}".into()),
        ("str/empty", "".into()),
        ("int/min", i64::MIN.into()),
        ("int/max", i64::MAX.into()),
        ("int/zero", 0i64.into()),
        ("float", 3.5f64.into()),
        ("float/-0", (-0.0f64).into()),
        ("float/nan", f64::from_bits(0x7FF8_0000_DEAD_BEEF).into()),
        ("float/inf", f64::NEG_INFINITY.into()),
        ("float/subnormal", f64::from_bits(1).into()),
        ("bool/true", true.into()),
        ("bool/false", false.into()),
        ("bytes", (&[0u8, 1, 0xFF][..]).into()),
        ("bytes/empty", Vec::<u8>::new().into()),
        ("", "empty key".into()),
    ];
    let mut w = Writer::create(&path).unwrap();
    let mut opts = EntryOptions::new();
    for (k, v) in &values {
        w.set_metadata(*k, v.clone());
        opts = opts.metadata(*k, v.clone());
    }
    // A later value replaces an earlier one.
    w.set_metadata("replaced", 1i64);
    w.set_metadata("replaced", "second");
    opts = opts
        .metadata("replaced", false)
        .metadata("replaced", 2.0f64);
    w.put_array_with("x", &[1u8], &[1], &opts).unwrap();
    w.put_array("no-meta", &[1u8], &[1]).unwrap();
    w.finish().unwrap();

    let r = Reader::options().verify(true).open(&path).unwrap();
    let mut expected: Vec<(String, Meta)> = values
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Meta::from(v)))
        .collect();
    let mut file_expected = expected.clone();
    file_expected.push(("replaced".into(), Meta::Str("second".into())));
    file_expected.sort_by(|a, b| a.0.cmp(&b.0));
    expected.push(("replaced".into(), Meta::Float(2.0f64.to_bits())));
    expected.sort_by(|a, b| a.0.cmp(&b.0));

    assert_eq!(metadata_of(r.metadata()), file_expected);
    assert_eq!(metadata_of(r.entry("x").unwrap().metadata()), expected);
    assert!(r.entry("no-meta").unwrap().metadata().is_empty());
    let m = r.metadata();
    assert_eq!(m.len(), values.len() + 1);
    for (k, v) in &values {
        assert_eq!(m.get(k).map(Meta::from), Some(Meta::from(v)), "{k:?}");
    }
    assert_eq!(m.get("missing"), None);
    assert_eq!(m.get("str"), Some(MetaRef::Str("hé\u{0}llo \u{1F980}")));
}

fn meta_value() -> impl Strategy<Value = MetaValue> {
    prop_oneof![
        any::<String>().prop_map(MetaValue::Str),
        any::<i64>().prop_map(MetaValue::Int),
        any::<u64>().prop_map(|b| MetaValue::Float(f64::from_bits(b))),
        any::<bool>().prop_map(MetaValue::Bool),
        prop::collection::vec(any::<u8>(), 0..40).prop_map(MetaValue::Bytes),
    ]
}

proptest! {
    #![proptest_config(config(32))]

    #[test]
    fn random_metadata_round_trips(
        file in prop::collection::btree_map("\\PC{0,10}", meta_value(), 0..10),
        entry in prop::collection::btree_map("\\PC{0,10}", meta_value(), 0..10),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.brine");
        let mut w = Writer::create(&path).unwrap();
        let mut opts = EntryOptions::new();
        for (k, v) in &file {
            w.set_metadata(k.clone(), v.clone());
        }
        for (k, v) in &entry {
            opts = opts.metadata(k.clone(), v.clone());
        }
        w.put_array_with("e", &[0i16; 3], &[3], &opts).unwrap();
        w.finish().unwrap();
        let r = Reader::open(&path).unwrap();
        // BTreeMap<String> iterates in byte order, the order of the file.
        let expect = |m: &std::collections::BTreeMap<String, MetaValue>| -> Vec<(String, Meta)> {
            m.iter().map(|(k, v)| (k.clone(), Meta::from(v))).collect()
        };
        prop_assert_eq!(metadata_of(r.metadata()), expect(&file));
        prop_assert_eq!(metadata_of(r.entry("e").unwrap().metadata()), expect(&entry));
        for (k, v) in &file {
            prop_assert_eq!(r.metadata().get(k).map(Meta::from), Some(Meta::from(v)));
        }
    }

    #[test]
    fn entries_are_sorted_by_name_and_found(
        names in prop::collection::hash_set("\\PC{0,6}", 1..12),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n.brine");
        // Written in the hash set's (arbitrary) order, each holding its write index.
        let names: Vec<String> = names.into_iter().collect();
        let mut w = Writer::create(&path).unwrap();
        for (i, name) in names.iter().enumerate() {
            w.put_array(name, &[i as u32], &[]).unwrap();
        }
        w.finish().unwrap();
        let r = Reader::open(&path).unwrap();
        let listed: Vec<&str> = r.entries().map(|e| e.name()).collect();
        let mut sorted: Vec<&str> = names.iter().map(String::as_str).collect();
        sorted.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        prop_assert_eq!(listed, sorted);
        for (i, name) in names.iter().enumerate() {
            let e: EntryRef<'_> = r.get(name).unwrap();
            prop_assert_eq!(e.name(), name.as_str());
            prop_assert_eq!(e.array().unwrap().get::<u32>(0).unwrap(), i as u32);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Lookups
// ---------------------------------------------------------------------------------------------

#[test]
fn missing_names_are_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.brine");
    let mut w = Writer::create(&path).unwrap();
    for name in ["b", "d", "dd"] {
        w.put_array(name, &[1.0f32], &[1]).unwrap();
    }
    w.finish().unwrap();
    let r = Reader::open(&path).unwrap();
    for name in ["", "a", "c", "d\0", "ddd", "e", "B"] {
        assert!(r.get(name).is_none(), "{name:?}");
        assert!(
            matches!(r.entry(name), Err(Error::NotFound { ref entry, .. }) if entry == name),
            "{name:?}"
        );
        assert!(matches!(r.array::<f32>(name), Err(Error::NotFound { .. })));
    }
}

#[test]
fn many_entries_and_a_large_manifest() {
    // Over 64 KiB of manifest: read through the map rather than copied at open.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.brine");
    let mut w = Writer::create(&path).unwrap();
    let n = 1500u32;
    for i in (0..n).rev() {
        let opts = EntryOptions::new().metadata("i", i64::from(i));
        w.put_array_with(&format!("entry/{i:05}"), &[i, i + 1], &[2], &opts)
            .unwrap();
    }
    w.set_metadata("blob", vec![7u8; 20_000]);
    w.finish().unwrap();
    let r = Reader::options().verify(true).open(&path).unwrap();
    assert!(r.manifest_len() > 64 * 1024, "{}", r.manifest_len());
    assert_eq!(r.len(), n as usize);
    for (i, e) in r.entries().enumerate() {
        assert_eq!(e.name(), format!("entry/{i:05}"));
    }
    for i in (0..n).step_by(7) {
        let name = format!("entry/{i:05}");
        assert_eq!(r.array::<u32>(&name).unwrap().as_slice(), &[i, i + 1]);
        assert_eq!(
            r.entry(&name).unwrap().metadata().get("i"),
            Some(MetaRef::Int(i64::from(i)))
        );
    }
    assert!(r.get("entry/").is_none());
    assert!(r.get("entry/01500").is_none());
}

#[test]
fn advise_never_fails_on_a_valid_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("adv.brine");
    let mut w = Writer::create(&path).unwrap();
    w.put_array("big", &vec![1u8; 3 * PAGE as usize], &[3 * PAGE as usize])
        .unwrap();
    w.put_array::<u8>("empty", &[], &[0]).unwrap();
    w.put_array("small", &[1u8; 10], &[10]).unwrap();
    w.put_array_with(
        "z",
        &[1u8; 10],
        &[10],
        &EntryOptions::new().codec(Codec::zstd()).zstd_level(1),
    )
    .unwrap();
    w.finish().unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let mapped = Reader::open(&path).unwrap();
    let buffered = Reader::from_buffer("b", brine::AlignedBuf::copy_from_slice(&bytes)).unwrap();
    for r in [&mapped, &buffered] {
        for e in r.entries() {
            let a = e.array().unwrap();
            for p in [
                brine::AccessPattern::Normal,
                brine::AccessPattern::Sequential,
                brine::AccessPattern::Random,
                brine::AccessPattern::WillNeed,
            ] {
                a.advise(p).unwrap();
            }
        }
        assert_eq!(r.array::<u8>("big").unwrap().len(), 3 * PAGE as usize);
    }
}

// ---------------------------------------------------------------------------------------------
// Threads
// ---------------------------------------------------------------------------------------------

#[test]
fn reader_is_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Reader>();
    send_sync::<ArrayEntry<'static>>();
    send_sync::<EntryRef<'static>>();
    send_sync::<ArrayView<'static, f32>>();
    send_sync::<Error>();
    send::<Writer>();
}

#[test]
fn concurrent_reads_of_a_compressed_entry_agree() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.brine");
    let data: Vec<f32> = make(200_000, 7, true);
    let mut w = Writer::create(&path).unwrap();
    let opts = EntryOptions::new()
        .codec(Codec::zstd_shuffled())
        .zstd_level(1)
        .chunk_len(16 * 1024);
    w.put_array_with("z", &data, &[400, 500], &opts).unwrap();
    w.put_array("raw", &data, &[200_000]).unwrap();
    w.finish().unwrap();

    for round in 0..3 {
        let r = Reader::open(&path).unwrap();
        assert_eq!(r.array_entry("z").unwrap().chunk_count(), 49);
        let threads = 4;
        let barrier = std::sync::Barrier::new(threads);
        std::thread::scope(|s| {
            for t in 0..threads {
                let (r, data, barrier) = (&r, &data, &barrier);
                s.spawn(move || {
                    barrier.wait();
                    let e = r.array_entry("z").unwrap();
                    // Each thread starts somewhere else, so chunks are decoded by whoever
                    // gets there first and read by the others.
                    let n = data.len();
                    for k in 0..8 {
                        let start = (t * 7919 + k * 24_989 + round * 101) % n;
                        let end = (start + 9000).min(n);
                        let got = e.range::<f32>(start..end).unwrap();
                        assert!(
                            same_bits(got, &data[start..end]),
                            "thread {t} {start}..{end}"
                        );
                        let i = (start * 31) % n;
                        assert_eq!(e.get::<f32>(i).unwrap().to_bits(), data[i].to_bits());
                    }
                    let all = r.array::<f32>("z").unwrap();
                    assert!(same_bits(all.as_slice(), data), "thread {t}");
                    assert_aligned(all.as_slice(), "z");
                    let raw = r.array::<f32>("raw").unwrap();
                    assert!(same_bits(raw.as_slice(), data));
                });
            }
        });
        // Every thread saw the same bytes: the one cached buffer.
        let a = r.array::<f32>("z").unwrap().as_slice().as_ptr();
        let b = r.array::<f32>("z").unwrap().as_slice().as_ptr();
        assert_eq!(a, b);
    }
}

// ---------------------------------------------------------------------------------------------
// Atomic replacement
// ---------------------------------------------------------------------------------------------

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn writer_dropped_without_finish_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.brine");
    {
        let mut w = Writer::create(&path).unwrap();
        w.put_array("x", &[1u64; 5000], &[5000]).unwrap();
        w.set_metadata("k", "v");
        // The temporary file exists while writing, beside the target.
        assert_eq!(files_in(dir.path()).len(), 1);
    }
    assert!(files_in(dir.path()).is_empty());

    // Dropped in the middle of a streamed, compressed entry.
    {
        let mut w = Writer::create(&path).unwrap();
        let mut a = w
            .array_writer::<u16>(
                "s",
                &[100],
                &EntryOptions::new().codec(Codec::zstd()).zstd_level(1),
            )
            .unwrap();
        a.write(&[3; 40]).unwrap();
    }
    assert!(files_in(dir.path()).is_empty());

    // A dropped writer leaves an existing file alone.
    let mut w = Writer::create(&path).unwrap();
    w.put_array("old", &[1i8], &[1]).unwrap();
    w.finish().unwrap();
    let before = std::fs::read(&path).unwrap();
    {
        let mut w = Writer::create(&path).unwrap();
        w.put_array("new", &[2i8], &[1]).unwrap();
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(files_in(dir.path()), ["d.brine"]);
}

#[test]
fn finish_replaces_the_file_and_open_readers_keep_the_old_contents() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.brine");
    let old: Vec<i32> = (0..50_000).collect();
    let mut w = Writer::create(&path).unwrap();
    w.put_array("x", &old, &[50_000]).unwrap();
    w.put_array_with(
        "z",
        &old,
        &[50_000],
        &EntryOptions::new().codec(Codec::zstd()).zstd_level(1),
    )
    .unwrap();
    w.set_metadata("generation", 1i64);
    w.finish().unwrap();

    let old_reader = Reader::open(&path).unwrap();
    // Read part of the old file before the replacement, the rest after.
    assert_eq!(
        old_reader.array::<i32>("x").unwrap().as_slice()[..10],
        old[..10]
    );

    let new: Vec<i32> = (0..70_000).map(|i| -i).collect();
    let mut w = Writer::create(&path).unwrap();
    w.put_array("x", &new, &[70_000]).unwrap();
    w.put_array("only-new", &[true], &[1]).unwrap();
    w.set_metadata("generation", 2i64);
    w.finish().unwrap();
    assert_eq!(files_in(dir.path()), ["r.brine"]);

    // The old reader still sees the old file, whole, including the entry it had not read.
    assert_eq!(old_reader.array::<i32>("x").unwrap().as_slice(), &old[..]);
    assert_eq!(old_reader.array::<i32>("z").unwrap().as_slice(), &old[..]);
    assert!(old_reader.get("only-new").is_none());
    assert_eq!(
        old_reader.metadata().get("generation"),
        Some(MetaRef::Int(1))
    );
    old_reader.verify().unwrap();

    let new_reader = Reader::options().verify(true).open(&path).unwrap();
    assert_eq!(new_reader.array::<i32>("x").unwrap().as_slice(), &new[..]);
    assert!(new_reader.get("z").is_none());
    assert_eq!(
        new_reader.metadata().get("generation"),
        Some(MetaRef::Int(2))
    );
}

/// A finished file has the mode of any new file (0666 less the umask), not the 0600 of the
/// temporary file it was written as.
#[cfg(unix)]
#[test]
fn finished_file_has_the_mode_of_a_new_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain");
    std::fs::File::create(&plain).unwrap();
    let path = dir.path().join("x.brine");
    let mut w = brine::Writer::create(&path).unwrap();
    w.put_array("x", &[1u8], &[1]).unwrap();
    w.finish().unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), mode(&plain));
}
