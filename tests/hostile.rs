//! Hostile sizes (issue 7, part 5): files, small on disk, that declare arrays of 2^63 elements,
//! frames of 2^60 rows, dictionaries of 2^31 strings, tables of billions of rows, manifests
//! and decoded sections far larger than the file, zstd frames that decode to gigabytes, and
//! archives nested thousands deep. Each test asserts the exact error variant, that the message
//! names the limit (the setting and its value) or the field at fault, and that the heap grew by
//! less than a stated bound while the file was opened and read.
//!
//! Memory is measured with a counting global allocator: bytes live, and their peak. The tests
//! of this file take one lock each, so no other test allocates while one is measured (the test
//! harness itself may, a few KB). What the allocator does not see, and why that is bounded:
//! buffers of decoded sections of 256 KiB or more are anonymous maps (`AlignedBuf`), created only
//! once `max_decompressed_bytes` allowed the section's declared length; zstd's own context is
//! allocated by C code, a fixed ~100 KiB.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use brine::frame::{Column, Frame, FrameOptions};
use brine::raw::checksum::xxh3;
use brine::raw::limits::{
    DEFAULT_MAX_DECOMPRESSED, DEFAULT_MAX_MANIFEST_LEN, DEFAULT_MAX_MODEL_DEPTH, MAX_CHUNK_LEN,
};
use brine::raw::manifest::{ArchivedManifest, CODEC_ZSTD, Chunk};
use brine::raw::{HEADER_LEN, Header};
use brine::{AlignedBuf, Codec, EntryOptions, Error, Limit, OpenOptions, Reader, Result, Writer};

#[path = "common/crafted.rs"]
mod crafted;
use crafted::Crafted;

/// The name crafted files are opened under; every message must name it.
const FILE: &str = "hostile.brine";

const KIB: usize = 1 << 10;
const MIB: usize = 1 << 20;
const GIB: u64 = 1 << 30;

// ---------------------------------------------------------------------------------------------
// A counting allocator
// ---------------------------------------------------------------------------------------------

/// Forwards to the system allocator and counts the bytes live and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(size: usize) {
    let live = LIVE.fetch_add(size, Ordering::Relaxed) + size;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the only
// additions are atomic updates, which do not allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded contract.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded contract.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            grew(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Held by every test of this file for its whole run: measurements do not overlap.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `f`, and returns its result and by how much the heap's peak exceeded what was live
/// when it started.
fn peak_growth<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let start = LIVE.load(Ordering::Relaxed);
    PEAK.store(start, Ordering::Relaxed);
    let r = f();
    (r, PEAK.load(Ordering::Relaxed).saturating_sub(start))
}

/// Runs `f` and asserts that the heap grew by less than `bound` while it ran.
#[track_caller]
fn bounded<R>(what: &str, bound: usize, f: impl FnOnce() -> R) -> R {
    let (r, growth) = peak_growth(f);
    eprintln!("{what}: heap peak +{growth} bytes (bound {bound})");
    assert!(
        growth < bound,
        "{what}: the heap grew by {growth} bytes, over the bound of {bound}"
    );
    r
}

/// What opening and reading a refused file may allocate: messages, the reader, small caches.
const SMALL: usize = 64 * KIB;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn open_with(options: OpenOptions, bytes: &[u8]) -> Result<Reader> {
    options.open_buffer(FILE, AlignedBuf::copy_from_slice(bytes))
}

fn open(bytes: &[u8]) -> Result<Reader> {
    open_with(Reader::options(), bytes)
}

#[track_caller]
fn err<T>(r: Result<T>) -> Error {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}

/// Asserts that the message names the file and every one of `parts`.
#[track_caller]
fn assert_names(e: &Error, parts: &[&str]) {
    let message = e.to_string();
    assert!(message.contains(FILE), "{message}");
    for part in parts {
        assert!(message.contains(part), "{message:?} does not name {part:?}");
    }
}

/// Asserts `LimitExceeded` with exactly this setting, value and limit, naming them all.
#[track_caller]
fn assert_limit(e: &Error, setting: Limit, value: u64, limit: u64, what: &str) {
    match e {
        Error::LimitExceeded {
            what: w,
            value: v,
            limit: l,
            setting: s,
            ..
        } => {
            assert_eq!((*s, *v, *l), (setting, value, limit), "{e}");
            assert!(w.contains(what), "{w:?} does not name {what:?}");
        }
        other => panic!("expected LimitExceeded ({setting}), got {other:?}"),
    }
    assert_names(
        e,
        &[
            &setting.to_string(),
            &value.to_string(),
            &limit.to_string(),
            what,
        ],
    );
}

/// Asserts `InvalidField` at `location` (a part of it), field `field`.
#[track_caller]
fn assert_field(e: &Error, location: &str, field: &str, parts: &[&str]) {
    assert!(
        matches!(e, Error::InvalidField { location: l, field: f, .. } if l.contains(location) && *f == field),
        "expected InvalidField {location} {field}, got {e:?}"
    );
    assert_names(e, parts);
}

/// A written file, taken apart.
fn written(write: impl FnOnce(&mut Writer)) -> Crafted {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.brine");
    let mut w = Writer::create(&path).unwrap();
    write(&mut w);
    w.finish().unwrap();
    Crafted::from_written(&std::fs::read(&path).unwrap())
}

/// A file with one u8 array "a" of 64 elements, compressed when `zstd`.
fn one_array(zstd: bool) -> Crafted {
    written(|w| {
        let codec = if zstd { Codec::zstd() } else { Codec::Raw };
        let options = EntryOptions::new().codec(codec).chunk_len(16);
        w.put_array_with("a", &[7u8; 64], &[64], &options).unwrap();
    })
}

/// A zstd frame of `blocks` RLE blocks, each 128 KiB of `byte` in 4 bytes: a ratio of
/// 32768:1, the best the format allows. The header declares no content size, or
/// `content_size` (which may lie).
fn rle_frame(blocks: u32, byte: u8, content_size: Option<u64>) -> Vec<u8> {
    const BLOCK: u32 = 128 * 1024;
    let mut f = vec![0x28, 0xB5, 0x2F, 0xFD];
    // Frame header descriptor: bits 7-6 the size of Frame_Content_Size (0 or 8 bytes), no
    // single segment (so a window descriptor follows), no checksum, no dictionary.
    f.push(if content_size.is_some() { 0xC0 } else { 0x00 });
    // Window descriptor: exponent 7, mantissa 0: a window of 2^(10 + 7) = 128 KiB.
    f.push(7 << 3);
    if let Some(n) = content_size {
        f.extend_from_slice(&n.to_le_bytes());
    }
    for i in 0..blocks {
        let last = u32::from(i + 1 == blocks);
        // Block header: bit 0 last block, bits 1-2 type (1: RLE), bits 3-23 decoded size.
        let h = last | (1 << 1) | (BLOCK << 3);
        f.extend_from_slice(&h.to_le_bytes()[..3]);
        f.push(byte);
    }
    f
}

/// Replaces section `s` with a zstd section of `raw_length` decoded bytes in chunks of
/// `chunk_length`, whose chunks are `frames` (cycled), with correct stored checksums and
/// chunk checksums that are those of `chunk_length` zero bytes: the tables are consistent,
/// only the frames' content can lie.
fn set_zstd(c: &mut Crafted, s: usize, raw_length: u64, chunk_length: u32, frames: &[Vec<u8>]) {
    let count = raw_length.div_ceil(u64::from(chunk_length)) as usize;
    let mut stored = Vec::new();
    let zero_sum = xxh3(&vec![0u8; chunk_length as usize]);
    let chunks: Vec<Chunk> = (0..count)
        .map(|i| {
            let frame = &frames[i % frames.len()];
            let chunk = Chunk {
                offset: stored.len() as u64,
                length: frame.len() as u64,
                checksum: zero_sum,
            };
            stored.extend_from_slice(frame);
            chunk
        })
        .collect();
    let range = c.chunk_range(s);
    let delta = count as i64 - range.len() as i64;
    c.m.chunks.splice(range, chunks);
    for later in &mut c.m.sections[s..] {
        later.chunks_end = (i64::from(later.chunks_end) + delta) as u32;
    }
    let section = &mut c.m.sections[s];
    section.codec = CODEC_ZSTD;
    section.shuffle = 0;
    section.raw_length = raw_length;
    section.chunk_length = chunk_length;
    section.length = stored.len() as u64;
    section.checksum = xxh3(&stored);
    c.stored[s] = stored;
}

/// The file's bytes, with the u32 at `at` bytes past the manifest archive's root replaced by
/// `value`, and the manifest checksum recomputed.
fn with_root_u32(bytes: &[u8], at: usize, value: u32) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let header = Header::decode(Path::new(FILE), &bytes[..HEADER_LEN], bytes.len() as u64).unwrap();
    let root = bytes.len() - header.root_length as usize;
    out[root + at..root + at + 4].copy_from_slice(&value.to_le_bytes());
    let manifest = &out[header.manifest_offset as usize..];
    let header = Header {
        manifest_checksum: xxh3(manifest),
        ..header
    };
    out[..HEADER_LEN].copy_from_slice(&header.encode());
    out
}

// ---------------------------------------------------------------------------------------------
// Arrays of 2^63 elements
// ---------------------------------------------------------------------------------------------

#[test]
fn array_whose_shape_product_overflows_u64_is_invalid_field() {
    let _g = serial();
    let c = one_array(false);
    // u8 x [2^63, 2] = 2^64 bytes; f64 x [2^61] = 2^64 bytes; u8 x [2^32, 2^32] = 2^64.
    for dims in [vec![1 << 63, 2], vec![1 << 61], vec![1 << 32, 1 << 32]] {
        let bytes = c.bytes_edited(|m| {
            m.dims = dims.clone();
            m.arrays[0].dims_end = dims.len() as u32;
            if dims.len() == 1 {
                m.arrays[0].dtype = brine::raw::Dtype::F64.code();
            }
        });
        let e = bounded("shape overflow", SMALL, || err(open(&bytes)));
        assert_field(&e, "entry \"a\"", "dims", &["overflows u64"]);
    }
}

#[test]
fn empty_array_whose_nonzero_dimensions_pass_isize_max_is_limit_exceeded() {
    let _g = serial();
    let c = one_array(false);
    // u8 x [0, 2^63] holds no element, so its byte count (0) fits, but no ndarray or numpy
    // array has that shape: `as_ndarray` would have nothing to return. f64 x [0, 2^61, 2^4]
    // overflows u64 in its nonzero dimensions alone.
    for (dims, f64_dtype) in [(vec![0, 1 << 63], false), (vec![0, 1 << 61, 16], true)] {
        let bytes = c.bytes_edited(|m| {
            m.dims = dims.clone();
            m.arrays[0].dims_end = dims.len() as u32;
            if f64_dtype {
                m.arrays[0].dtype = brine::raw::Dtype::F64.code();
            }
            m.sections[0].length = 0;
            m.sections[0].raw_length = 0;
        });
        let e = bounded("empty, huge shape", SMALL, || err(open(&bytes)));
        let Error::LimitExceeded {
            value,
            limit,
            setting,
            ..
        } = &e
        else {
            panic!("expected LimitExceeded, got {e:?}");
        };
        assert_eq!(*setting, brine::Limit::AddressSpace);
        assert_eq!(*limit, i64::MAX as u64);
        assert_eq!(*value, if f64_dtype { u64::MAX } else { 1 << 63 });
        assert_names(&e, &["entry \"a\"", "nonzero dimensions"]);
    }
}

#[test]
fn array_of_2_pow_63_elements_raw_is_section_out_of_bounds() {
    let _g = serial();
    let c = one_array(false);
    // Just below overflow: u8 x [2^63] and f64 x [2^61 - 1] (2^64 - 8 bytes), raw: the
    // section would have to be that long, and the file is a few hundred bytes.
    for (dims, raw) in [(1u64 << 63, 1u64 << 63), ((1 << 61) - 1, u64::MAX - 7)] {
        let bytes = c.bytes_edited(|m| {
            m.dims = vec![dims];
            if raw != dims {
                m.arrays[0].dtype = brine::raw::Dtype::F64.code();
            }
            m.sections[0].length = raw;
            m.sections[0].raw_length = raw;
        });
        let e = bounded("2^63 raw", SMALL, || err(open(&bytes)));
        let Error::SectionOutOfBounds {
            section,
            len,
            limit,
            ..
        } = &e
        else {
            panic!("expected SectionOutOfBounds, got {e:?}");
        };
        assert_eq!((*section, *len), (0, raw));
        assert!(*limit < 4096, "the limit is the data's end: {limit}");
        assert_names(&e, &[&raw.to_string(), &limit.to_string()]);
    }
}

#[test]
fn array_of_2_pow_63_elements_zstd_needs_2_pow_37_chunks_and_is_invalid_field() {
    let _g = serial();
    let c = one_array(true);
    // A zstd section of 2^63 decoded bytes in 64 MiB chunks needs 2^37 rows of the chunk
    // table: 3 TiB of manifest. The file has one chunk.
    let mut c = c;
    set_zstd(&mut c, 0, 64, 16, &[rle_frame(1, 0, None)]);
    c.m.sections[0].raw_length = 1 << 63;
    c.m.sections[0].chunk_length = MAX_CHUNK_LEN as u32;
    let bytes = c.bytes_edited(|m| m.dims = vec![1 << 63]);
    let e = bounded("2^63 zstd", SMALL, || err(open(&bytes)));
    assert_field(&e, "section 0", "chunks_end", &["needs 137438953472"]);
}

#[test]
fn chunk_length_over_max_chunk_len_is_limit_exceeded() {
    let _g = serial();
    let mut c = one_array(true);
    // One chunk declared 4 GiB - 1 long: its decompression would need that much at once.
    set_zstd(&mut c, 0, 64, 16, &[rle_frame(1, 0, None)]);
    c.m.sections[0].raw_length = u64::from(u32::MAX);
    c.m.sections[0].chunk_length = u32::MAX;
    let bytes = c.bytes_edited(|m| m.dims = vec![u64::from(u32::MAX)]);
    let e = bounded("chunk_length", SMALL, || err(open(&bytes)));
    assert_limit(
        &e,
        Limit::MaxChunkLen,
        u64::from(u32::MAX),
        MAX_CHUNK_LEN,
        "chunk_length of section 0",
    );
}

// ---------------------------------------------------------------------------------------------
// Decoded sizes far beyond the file, and zstd bombs
// ---------------------------------------------------------------------------------------------

/// A file whose array "a" (u8) is a zstd section declaring `raw` decoded bytes in 64 MiB
/// chunks, each a 10-byte frame: a few KB on disk.
fn lying_zstd_array(raw: u64) -> Vec<u8> {
    let mut c = one_array(true);
    set_zstd(
        &mut c,
        0,
        raw,
        MAX_CHUNK_LEN as u32,
        &[rle_frame(1, 0, None)],
    );
    c.bytes_edited(|m| m.dims = vec![raw])
}

#[test]
fn zstd_section_declaring_more_than_max_decompressed_bytes_is_limit_exceeded() {
    let _g = serial();
    // 16 GiB declared, 256 chunks of 10 bytes: the default budget of 8 GiB refuses it before
    // allocating, for a whole view, for one element, and when it is a column's buffer too
    // (`categorical_dictionary_of_2_pow_31_strings_is_limit_exceeded`).
    let bytes = lying_zstd_array(16 * GIB);
    assert!(bytes.len() < 16 * KIB, "{} bytes on disk", bytes.len());
    let r = open(&bytes).unwrap();
    let entry = r.array_entry("a").unwrap();
    assert_eq!((entry.raw_len(), entry.chunk_count()), (16 * GIB, 256));
    for e in [
        bounded("16 GiB view", SMALL, || err(r.array::<u8>("a"))),
        bounded("16 GiB get", SMALL, || err(entry.get::<u8>(0))),
    ] {
        assert_limit(
            &e,
            Limit::MaxDecompressedBytes,
            16 * GIB,
            DEFAULT_MAX_DECOMPRESSED,
            "decompressed size of entry \"a\"",
        );
    }
    // The budget is configurable both ways: 1 MiB refuses 2 MiB.
    let bytes = lying_zstd_array(2 * MIB as u64);
    let options = Reader::options().max_decompressed_bytes(MIB as u64);
    let r = open_with(options, &bytes).unwrap();
    let e = bounded("2 MiB over 1 MiB", SMALL, || err(r.array::<u8>("a")));
    assert_limit(
        &e,
        Limit::MaxDecompressedBytes,
        2 * MIB as u64,
        MIB as u64,
        "decompressed size of entry \"a\"",
    );
}

#[test]
fn zstd_bomb_stops_at_the_declared_chunk_size_and_is_decompress_error() {
    let _g = serial();
    // One chunk declared 1 MiB whose 128 KiB frame decodes to 4 GiB of 0xAB (32768 RLE blocks),
    // with and without a content size in its header (the true one, and 2^62).
    const BLOCKS: u32 = 32 * 1024;
    for content_size in [None, Some(4 * GIB), Some(1 << 62)] {
        let frame = rle_frame(BLOCKS, 0xAB, content_size);
        assert!(frame.len() < 130 * KIB);
        let mut c = one_array(true);
        set_zstd(&mut c, 0, MIB as u64, MIB as u32, &[frame]);
        let bytes = c.bytes_edited(|m| m.dims = vec![MIB as u64]);
        let r = open(&bytes).unwrap();
        // The decoded buffer (1 MiB, an anonymous map) and zstd's context are outside the
        // count; the heap holds only messages and caches.
        for e in [
            bounded("bomb view", SMALL, || err(r.array::<u8>("a"))),
            bounded("bomb verify", SMALL + MIB, || err(r.verify())),
        ] {
            assert!(
                matches!(&e, Error::Decompress { entry, chunk: 0, .. } if entry == "a"),
                "{e:?}"
            );
            assert_names(&e, &["\"a\"", "chunk 0", "zstd"]);
        }
    }
    // The same frame cut to the declared size decodes and checks (the builder is right).
    let mut c = one_array(true);
    let frame = rle_frame(8, 0xAB, None);
    set_zstd(&mut c, 0, MIB as u64, MIB as u32, &[frame]);
    c.m.chunks[0].checksum = xxh3(&vec![0xAB; MIB]);
    let bytes = c.bytes_edited(|m| m.dims = vec![MIB as u64]);
    let r = open(&bytes).unwrap();
    r.verify().unwrap();
    assert!(
        r.array::<u8>("a")
            .unwrap()
            .as_slice()
            .iter()
            .all(|&b| b == 0xAB)
    );
}

#[test]
fn zstd_chunks_decoding_to_less_than_declared_are_decompress_error() {
    let _g = serial();
    // 64 MiB chunks whose frames decode to 128 KiB each: each decoded chunk is checked against
    // its declared size; the budget allowed the declared 128 MiB.
    let bytes = lying_zstd_array(128 * MIB as u64);
    let r = open(&bytes).unwrap();
    let e = bounded("short chunk", SMALL, || {
        err(r.array_entry("a").unwrap().get::<u8>(0))
    });
    assert!(
        matches!(&e, Error::Decompress { chunk: 0, reason, .. } if reason.contains("131072")),
        "{e:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Manifests: the length cap, and lying counts
// ---------------------------------------------------------------------------------------------

/// A sparse file whose header declares a manifest of `manifest_len` bytes: the file is that
/// long, but holds no data (a few KB on disk).
fn sparse_manifest(dir: &Path, manifest_len: u64) -> std::path::PathBuf {
    let c = one_array(false);
    let bytes = c.bytes();
    let header = Header::decode(Path::new(FILE), &bytes[..HEADER_LEN], bytes.len() as u64).unwrap();
    let header = Header {
        manifest_offset: 4096,
        manifest_len,
        file_len: 4096 + manifest_len,
        ..header
    };
    let path = dir.join(FILE);
    let f = std::fs::File::create(&path).unwrap();
    std::io::Write::write_all(&mut &f, &header.encode()).unwrap();
    f.set_len(header.file_len).unwrap();
    path
}

#[test]
fn manifest_over_max_manifest_len_is_limit_exceeded_before_it_is_read() {
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    // 1 GiB of declared manifest (a sparse file): refused by the default cap of 256 MiB
    // without reading a byte of it (its checksum would be wrong).
    let path = sparse_manifest(dir.path(), GIB);
    let e = bounded("1 GiB manifest", SMALL, || err(Reader::open(&path)));
    assert_limit(
        &e,
        Limit::MaxManifestLen,
        GIB,
        DEFAULT_MAX_MANIFEST_LEN,
        "manifest length",
    );
    // A lower cap refuses a smaller one.
    let path = sparse_manifest(dir.path(), 2 * MIB as u64);
    let options = Reader::options().max_manifest_len(MIB as u64);
    let e = bounded("2 MiB manifest", SMALL, || err(options.open(&path)));
    assert_limit(
        &e,
        Limit::MaxManifestLen,
        2 * MIB as u64,
        MIB as u64,
        "manifest length",
    );
    // Under the cap, the checksum is what fails: the cap came first.
    let e = err(Reader::open(&path));
    assert!(matches!(e, Error::ChecksumMismatch { .. }), "{e:?}");
}

#[test]
fn huge_metadata_is_limited_by_max_manifest_len() {
    let _g = serial();
    // 3 MiB of file metadata (one bytes value) and 200,000 entry-metadata items.
    let c = written(|w| {
        w.set_metadata("blob", vec![0x5Au8; 3 * MIB]);
        let mut options = EntryOptions::new();
        for i in 0..200_000 {
            options = options.metadata(format!("k{i:06}"), i as i64);
        }
        w.put_array_with("a", &[1u8], &[1], &options).unwrap();
    });
    let bytes = c.bytes();
    let manifest_len = Reader::from_buffer(FILE, AlignedBuf::copy_from_slice(&bytes))
        .unwrap()
        .manifest_len();
    assert!(manifest_len > 3 * MIB as u64);
    let options = Reader::options().max_manifest_len(MIB as u64);
    let e = bounded("metadata over 1 MiB", SMALL, || {
        err(open_with(options, &bytes))
    });
    assert_limit(
        &e,
        Limit::MaxManifestLen,
        manifest_len,
        MIB as u64,
        "manifest length",
    );
    // At the cap exactly it opens; reading the metadata copies nothing.
    let options = Reader::options().max_manifest_len(manifest_len);
    let r = open_with(options, &bytes).unwrap();
    let (blob, entries) = bounded("metadata read", SMALL, || {
        let blob = match r.metadata().get("blob") {
            Some(brine::MetaRef::Bytes(b)) => b.len(),
            other => panic!("{other:?}"),
        };
        (blob, r.entry("a").unwrap().metadata().len())
    });
    assert_eq!((blob, entries), (3 * MIB, 200_000));
}

/// Where each table's `ArchivedVec` sits in the manifest's root, and its length.
fn vec_fields(m: &ArchivedManifest) -> Vec<(&'static str, usize, u32)> {
    let base = std::ptr::from_ref(m) as usize;
    let at = |p: *const u8| p as usize - base;
    vec![
        (
            "entries",
            at(std::ptr::from_ref(&m.entries).cast()),
            m.entries.len() as u32,
        ),
        (
            "arrays",
            at(std::ptr::from_ref(&m.arrays).cast()),
            m.arrays.len() as u32,
        ),
        (
            "dims",
            at(std::ptr::from_ref(&m.dims).cast()),
            m.dims.len() as u32,
        ),
        (
            "sections",
            at(std::ptr::from_ref(&m.sections).cast()),
            m.sections.len() as u32,
        ),
        (
            "chunks",
            at(std::ptr::from_ref(&m.chunks).cast()),
            m.chunks.len() as u32,
        ),
        (
            "metadata",
            at(std::ptr::from_ref(&m.metadata).cast()),
            m.metadata.len() as u32,
        ),
        (
            "entry_metadata",
            at(std::ptr::from_ref(&m.entry_metadata).cast()),
            m.entry_metadata.len() as u32,
        ),
        (
            "frames",
            at(std::ptr::from_ref(&m.frames).cast()),
            m.frames.len() as u32,
        ),
        (
            "columns",
            at(std::ptr::from_ref(&m.columns).cast()),
            m.columns.len() as u32,
        ),
        (
            "models",
            at(std::ptr::from_ref(&m.models).cast()),
            m.models.len() as u32,
        ),
    ]
}

#[test]
fn tables_declaring_billions_of_rows_are_invalid_manifest_without_allocating() {
    let _g = serial();
    // One of each table, compressed array included.
    let c = written(|w| {
        w.set_metadata("k", 1i64);
        let options = EntryOptions::new().codec(Codec::zstd()).metadata("e", 2i64);
        w.put_array_with("a", &[1u16; 100], &[10, 10], &options)
            .unwrap();
        let f = Frame::builder()
            .column("s", Column::strings(["x", "yz"]))
            .build()
            .unwrap();
        w.put_frame("f", &f).unwrap();
        w.put_model("m", &vec![1u32, 2]).unwrap();
    });
    let bytes = c.bytes();
    let header = Header::decode(Path::new(FILE), &bytes[..HEADER_LEN], bytes.len() as u64).unwrap();
    let mut archive = rkyv::util::AlignedVec::<16>::new();
    archive.extend_from_slice(&bytes[header.manifest_offset as usize..]);
    let m = rkyv::access::<ArchivedManifest, rancor::Error>(&archive).unwrap();
    let root = archive.len() - header.root_length as usize;
    assert_eq!(
        std::ptr::from_ref(m) as usize,
        archive.as_ptr() as usize + root
    );
    let fields = vec_fields(m);
    for (table, at, len) in fields {
        // The layout: a 4-byte relative pointer, then the length (pointer_width_32).
        let stored = u32::from_le_bytes(archive[root + at + 4..root + at + 8].try_into().unwrap());
        assert_eq!(stored, len, "{table}");
        for lie in [1_000_000_000, u32::MAX] {
            let hostile = with_root_u32(&bytes, at + 4, lie);
            let e = bounded(table, SMALL, || err(open(&hostile)));
            assert!(
                matches!(&e, Error::InvalidManifest { .. }),
                "{table} = {lie}: {e:?}"
            );
            assert_names(&e, &["invalid manifest"]);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Frames
// ---------------------------------------------------------------------------------------------

#[test]
fn frame_of_2_pow_60_rows_is_invalid_field_naming_the_row_count() {
    let _g = serial();
    let c = written(|w| {
        let f = Frame::builder()
            .column("x", Column::new(vec![1i64, 2, 3]))
            .build()
            .unwrap();
        w.put_frame("f", &f).unwrap();
    });
    // 2^60 rows of i64 need 2^63 bytes of values; the section holds 24.
    let bytes = c.bytes_edited(|m| m.frames[0].rows = 1 << 60);
    let e = bounded("2^60 rows", SMALL, || err(open(&bytes)));
    assert_field(
        &e,
        "column \"x\"",
        "values",
        &["\"f\"", "decodes to 24 bytes", &(1u64 << 63).to_string()],
    );
    // 2^64 - 1 rows: the offsets a string column would need overflow.
    let bytes = c.bytes_edited(|m| m.frames[0].rows = u64::MAX);
    let e = bounded("2^64 rows", SMALL, || err(open(&bytes)));
    assert_field(&e, "column \"x\"", "rows", &["overflow"]);
}

#[test]
fn string_offsets_far_beyond_the_bytes_are_invalid_column() {
    let _g = serial();
    let c = written(|w| {
        let f = Frame::builder()
            .column("s", Column::strings(["ab", "c", "def"]))
            .build()
            .unwrap();
        w.put_frame("f", &f).unwrap();
    });
    let offsets = c.m.columns[0].offsets as usize;
    let cases: [([i64; 4], &str); 3] = [
        ([0, 2, 3, 1 << 62], "the last offset is 4611686018427387904"),
        (
            [0, 1 << 62, 1 << 40, 6],
            "offset 2 (1099511627776) is below",
        ),
        (
            [0, -(1 << 62), 3, 6],
            "offset 1 (-4611686018427387904) is below",
        ),
    ];
    for (patch, says) in cases {
        let bytes = c
            .patched(offsets, |raw| {
                raw.clear();
                raw.extend(patch.iter().flat_map(|o| o.to_le_bytes()));
            })
            .bytes();
        let r = open(&bytes).unwrap();
        let e = bounded("offsets", SMALL, || {
            err(r.frame("f").unwrap().column("s").unwrap().strings())
        });
        assert!(
            matches!(&e, Error::InvalidColumn { column, field: "offsets", .. } if column == "s"),
            "{e:?}"
        );
        assert_names(&e, &["\"f\"", "\"s\"", says]);
    }
}

#[test]
fn categorical_dictionary_of_2_pow_31_strings_is_limit_exceeded() {
    let _g = serial();
    let c = written(|w| {
        let f = Frame::builder()
            .column("c", Column::categorical([Some("a"), Some("b"), Some("a")]))
            .build()
            .unwrap();
        w.put_frame("f", &f).unwrap();
    });
    let s = c.m.columns[0].dictionary_offsets as usize;
    // 2^31 strings: 8 x (2^31 + 1) bytes of offsets, 16 GiB, in 257 chunks of 10 bytes. Tier 1
    // accepts the count (codes are i32); decoding it is over the default budget.
    let declare = |strings: u64| {
        let mut c = c.clone();
        let raw = 8 * (strings + 1);
        set_zstd(
            &mut c,
            s,
            raw,
            MAX_CHUNK_LEN as u32,
            &[rle_frame(1, 0, None)],
        );
        c.bytes()
    };
    let bytes = declare(1 << 31);
    assert!(bytes.len() < 16 * KIB, "{} bytes on disk", bytes.len());
    let r = open(&bytes).unwrap();
    let e = bounded("2^31 dictionary", SMALL, || {
        err(r.frame("f").unwrap().column("c").unwrap().categorical())
    });
    assert_limit(
        &e,
        Limit::MaxDecompressedBytes,
        8 * ((1 << 31) + 1),
        DEFAULT_MAX_DECOMPRESSED,
        "decompressed size of entry \"f\"",
    );
    // One more string than i32 codes can reach: refused at open.
    let bytes = declare((1 << 31) + 1);
    let e = bounded("2^31 + 1 dictionary", SMALL, || err(open(&bytes)));
    assert_field(&e, "column \"c\"", "dictionary_offsets", &["2^31"]);
}

// ---------------------------------------------------------------------------------------------
// Models: nesting and schema text
// ---------------------------------------------------------------------------------------------

/// A recursive type: its archive nests one level per element.
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
struct List {
    value: u32,
    #[rkyv(omit_bounds)]
    next: Option<Box<List>>,
}

/// A file with model "deep": a `List` of `len` elements (`len - 1` nested boxes).
fn deep_list(len: u32) -> Vec<u8> {
    let mut list = List {
        value: 0,
        next: None,
    };
    for value in 1..len {
        list = List {
            value,
            next: Some(Box::new(list)),
        };
    }
    let c = written(|w| w.put_model("deep", &list).unwrap());
    // Dropped iteratively: a recursive drop of a long list needs a deep stack.
    let mut next = list.next.take();
    while let Some(mut node) = next {
        next = node.next.take();
    }
    c.bytes()
}

#[test]
fn archive_nested_deeper_than_max_model_depth_is_limit_exceeded() {
    let _g = serial();
    // 3000 elements: deeper than the default 1024 levels.
    let bytes = deep_list(3000);
    let r = open(&bytes).unwrap();
    let e = bounded("3000 deep", SMALL, || err(r.model::<List>("deep")));
    let limit = DEFAULT_MAX_MODEL_DEPTH as u64;
    assert_limit(
        &e,
        Limit::MaxModelDepth,
        limit + 1,
        limit,
        "nesting depth of model \"deep\"",
    );
    // Raised, the same archive reads.
    let options = Reader::options().max_model_depth(4096);
    let r = open_with(options, &bytes).unwrap();
    assert_eq!(r.model::<List>("deep").unwrap().value, 2999);
    // The limit counts levels exactly: each element of the list adds one, and one level below
    // the least that reads, the error names that limit.
    let least = |len: u32| {
        let bytes = deep_list(len);
        let reads = |depth| {
            let r = open_with(Reader::options().max_model_depth(depth), &bytes).unwrap();
            r.model::<List>("deep").map(|l| l.value)
        };
        let least = (1..100).find(|&d| reads(d).is_ok()).unwrap();
        assert_eq!(reads(least).unwrap(), len - 1);
        let e = err(reads(least - 1));
        let limit = least as u64 - 1;
        assert_limit(
            &e,
            Limit::MaxModelDepth,
            limit + 1,
            limit,
            "nesting depth of model \"deep\"",
        );
        least
    };
    assert_eq!(least(21), least(11) + 10);
}

#[test]
fn schema_text_nested_a_million_deep_is_read_without_recursion() {
    let _g = serial();
    // `Vec<Vec<...<u8>...>>` a million deep: 7 MB of schema text. Nothing parses it
    // recursively: it is compared line by line, and reported as a mismatch.
    const DEPTH: usize = 1_000_000;
    let c = written(|w| w.put_model("m", &vec![1u8, 2]).unwrap());
    let ty = format!("{}u8{}", "Vec<".repeat(DEPTH), ">".repeat(DEPTH));
    let schema = format!("root: {ty}\n");
    let bytes = c.bytes_edited(|m| {
        m.model_text = format!("{ty}{schema}");
        m.models[0].type_name_end = ty.len() as u32;
        m.models[0].schema_end = (ty.len() + schema.len()) as u32;
        m.models[0].fingerprint ^= 1;
    });
    let text = ty.len() + schema.len();
    let r = open(&bytes).unwrap();
    let e = bounded("deep schema text", 3 * text, || {
        let entry = r.model_entry("m").unwrap();
        assert_eq!(entry.schema().len(), schema.len());
        err(r.model::<Vec<u8>>("m"))
    });
    let Error::SchemaMismatch(mismatch) = &e else {
        panic!("expected SchemaMismatch, got {e:?}");
    };
    assert_eq!(mismatch.stored_schema, schema);
    assert!(mismatch.diff.is_some());
    // A lower manifest cap refuses the text before anything is read.
    let options = Reader::options().max_manifest_len(MIB as u64);
    let e = bounded("deep schema capped", SMALL, || {
        err(open_with(options, &bytes))
    });
    assert!(
        matches!(&e, Error::LimitExceeded { setting, .. } if *setting == Limit::MaxManifestLen)
    );
}

#[test]
fn frames_written_by_brine_open_under_tight_limits() {
    let _g = serial();
    // The limits bound hostile files, not honest ones: a frame with a compressed string
    // column reads within a budget of its own decoded size.
    let c = written(|w| {
        let f = Frame::builder()
            .column("s", Column::strings((0..1000).map(|i| format!("row {i}"))))
            .build()
            .unwrap();
        let options = FrameOptions::new().codec(Codec::zstd());
        w.put_frame_with("f", &f, &options).unwrap();
    });
    let bytes = c.bytes();
    let decoded: u64 = c.m.sections.iter().map(|s| s.raw_length).sum();
    let options = Reader::options()
        .max_decompressed_bytes(decoded)
        .max_manifest_len(64 * KIB as u64);
    let r = open_with(options, &bytes).unwrap();
    let strings = r
        .frame("f")
        .unwrap()
        .column("s")
        .unwrap()
        .strings()
        .unwrap();
    assert_eq!(strings.value(999), "row 999");
    // One byte less and the last buffer read is refused.
    let options = Reader::options().max_decompressed_bytes(decoded - 1);
    let r = open_with(options, &bytes).unwrap();
    let e = err(r.frame("f").unwrap().column("s").unwrap().strings());
    assert!(matches!(e, Error::LimitExceeded { .. }), "{e:?}");
}
