//! One test per error variant and validation rule, each built from hand-crafted or surgically
//! modified bytes and named after the error it provokes. Tests match on variants and their
//! structured fields, never on message text.
//!
//! Files are crafted with [`Craft`]: entries and sections held nested, as a writer holds them
//! (their fields can lie), laid out into the manifest's flat tables exactly as the writer lays
//! them out, serialized with rkyv, and assembled behind a header from `Header::encode`, with
//! section bytes placed by hand. Tests of the tables' own rules (`*_end` offsets, `index`,
//! `reserved`, row counts) edit the laid-out `Manifest` instead ([`Craft::bytes_edited`]).
//! Every negative test starts from a crafted file that opens and reads cleanly
//! (`crafted_baseline_is_valid`) and changes one thing.

use std::ops::{Deref, DerefMut};

use brine::raw::checksum::xxh3;
use brine::raw::codec;
use brine::raw::header::MAGIC;
use brine::raw::limits::{MAX_CHUNK_LEN, MAX_NDIM, PAGE};
use brine::raw::manifest::{
    ArrayMeta, CODEC_RAW, CODEC_ZSTD, Chunk, Entry, KIND_ARRAY, KIND_FRAME, Manifest, MetaItem,
    MetaValue, ROOT_LEN, Section,
};
use brine::raw::manifest::{ColumnExtra, Manifest11, ROOT_LEN_1_1};
use brine::raw::{Dtype, FORMAT_VERSION, HEADER_LEN, Header, Version};

/// The version of crafted files: 1.0, the version of every file without column extras.
const V1_0: Version = Version { major: 1, minor: 0 };
use brine::frame::{Column, Frame, TimeUnit};
use brine::{
    AlignedBuf, Codec, Element, EntryOptions, Error, Kind, OpenOptions, Reader, Result, Writer,
};

// ---------------------------------------------------------------------------------------------
// Crafting files
// ---------------------------------------------------------------------------------------------

/// An array entry as a writer holds it before laying the tables out.
#[derive(Clone, Debug)]
struct CraftEntry {
    name: String,
    metadata: Vec<MetaItem>,
    dims: Vec<u64>,
    section: u32,
    dtype: u8,
}

/// A section with its own chunk index. Derefs to the `Section` row, whose `chunks_end` is set
/// when the tables are laid out.
#[derive(Clone, Debug)]
struct CraftSection {
    row: Section,
    chunks: Vec<Chunk>,
}

impl Deref for CraftSection {
    type Target = Section;
    fn deref(&self) -> &Section {
        &self.row
    }
}

impl DerefMut for CraftSection {
    fn deref_mut(&mut self) -> &mut Section {
        &mut self.row
    }
}

/// A file under construction: section bytes placed at chosen offsets, and entries, sections
/// and metadata whose fields the test may set to anything.
struct Craft {
    alignment: u32,
    /// The header's `root_length`; `None`: the root size of the file's version (104 for 1.0,
    /// 120 for 1.1 and later).
    root_length: Option<u32>,
    version: Version,
    required_flags: u32,
    optional_flags: u32,
    /// Bytes to place in the data area, at their offsets.
    blobs: Vec<(u64, Vec<u8>)>,
    /// End of the data written so far.
    end: u64,
    /// Entries in table order (add them sorted).
    entries: Vec<CraftEntry>,
    /// Sections in table order.
    sections: Vec<CraftSection>,
    /// File-level metadata.
    metadata: Vec<MetaItem>,
}

impl Craft {
    fn new() -> Craft {
        Craft {
            alignment: 4096,
            root_length: None,
            // Crafted files are 1.0 files, as a writer makes them without column extras.
            version: V1_0,
            required_flags: 0,
            optional_flags: 0,
            blobs: Vec::new(),
            end: HEADER_LEN as u64,
            entries: Vec::new(),
            sections: Vec::new(),
            metadata: Vec::new(),
        }
    }

    /// Places `bytes`, which decode to `raw_length` bytes, at the next offset the format's
    /// alignment rule allows.
    fn place(&mut self, bytes: Vec<u8>, raw_length: u64) -> u64 {
        let align = if raw_length >= PAGE {
            u64::from(self.alignment)
        } else {
            64
        };
        let offset = self.end.next_multiple_of(align);
        self.place_at(offset, bytes);
        offset
    }

    /// Places `bytes` at `offset` (no rule checked).
    fn place_at(&mut self, offset: u64, bytes: Vec<u8>) {
        self.end = self.end.max(offset + bytes.len() as u64);
        self.blobs.push((offset, bytes));
    }

    /// Adds a raw section holding `bytes`; returns its index.
    fn raw_section(&mut self, bytes: Vec<u8>) -> u32 {
        let length = bytes.len() as u64;
        let checksum = xxh3(&bytes);
        let offset = self.place(bytes, length);
        self.push_section(raw_section_row(offset, length, checksum), Vec::new())
    }

    /// Adds a zstd section of `raw` in chunks of `chunk_len` bytes, byte-shuffled by `shuffle`
    /// (0 for none); returns its index.
    fn zstd_section(&mut self, raw: &[u8], chunk_len: usize, shuffle: u8) -> u32 {
        let frames = raw
            .chunks(chunk_len)
            .map(|c| {
                let frame = codec::compress_chunk(c, 3, usize::from(shuffle));
                (frame.unwrap(), xxh3(c))
            })
            .collect::<Vec<_>>();
        self.zstd_section_from_frames(raw.len() as u64, chunk_len as u32, shuffle, frames)
    }

    /// Adds a zstd section made of `frames` (each with the checksum of its decoded bytes),
    /// declared to decode to `raw_length` bytes in chunks of `chunk_length`.
    fn zstd_section_from_frames(
        &mut self,
        raw_length: u64,
        chunk_length: u32,
        shuffle: u8,
        frames: Vec<(Vec<u8>, u64)>,
    ) -> u32 {
        let mut stored = Vec::new();
        let mut chunks = Vec::new();
        for (frame, checksum) in frames {
            chunks.push(Chunk {
                offset: stored.len() as u64,
                length: frame.len() as u64,
                checksum,
            });
            stored.extend_from_slice(&frame);
        }
        let length = stored.len() as u64;
        let checksum = xxh3(&stored);
        let offset = self.place(stored, raw_length);
        let row = Section {
            offset,
            length,
            checksum,
            raw_length,
            chunks_end: 0,
            chunk_length,
            codec: CODEC_ZSTD,
            shuffle,
            reserved: [0; 6],
        };
        self.push_section(row, chunks)
    }

    fn push_section(&mut self, row: Section, chunks: Vec<Chunk>) -> u32 {
        self.sections.push(CraftSection { row, chunks });
        (self.sections.len() - 1) as u32
    }

    /// Adds an array entry (entries are kept in insertion order: add them sorted).
    fn entry(&mut self, name: &str, dtype: Dtype, shape: &[u64], section: u32) {
        self.entries.push(CraftEntry {
            name: name.to_owned(),
            metadata: Vec::new(),
            dims: shape.to_vec(),
            section,
            dtype: dtype.code(),
        });
    }

    fn raw_array<T: Element + bytemuck::NoUninit>(
        &mut self,
        name: &str,
        data: &[T],
        shape: &[u64],
    ) {
        let s = self.raw_section(bytemuck::cast_slice(data).to_vec());
        self.entry(name, T::DTYPE, shape, s);
    }

    fn zstd_array<T: Element + bytemuck::NoUninit>(
        &mut self,
        name: &str,
        data: &[T],
        shape: &[u64],
        chunk_len: usize,
        shuffle: bool,
    ) {
        let size = std::mem::size_of::<T>();
        let shuffle = if shuffle && size > 1 { size as u8 } else { 0 };
        let s = self.zstd_section(bytemuck::cast_slice(data), chunk_len, shuffle);
        self.entry(name, T::DTYPE, shape, s);
    }

    /// The manifest's flat tables, laid out as `Writer::lay_out_manifest` lays them out: names,
    /// entry metadata and dimensions concatenated in entry order, chunk indexes in section
    /// order, each run delimited by the running `*_end` offset; array rows in entry order.
    fn manifest(&self) -> Manifest {
        let mut m = Manifest {
            metadata: self.metadata.clone(),
            ..Manifest::default()
        };
        for e in &self.entries {
            m.names.push_str(&e.name);
            m.entry_metadata.extend(e.metadata.iter().cloned());
            m.dims.extend(&e.dims);
            m.arrays.push(ArrayMeta {
                section: e.section,
                dims_end: m.dims.len() as u32,
                dtype: e.dtype,
                reserved: [0; 3],
            });
            m.entries.push(Entry {
                name_end: m.names.len() as u32,
                metadata_end: m.entry_metadata.len() as u32,
                index: (m.arrays.len() - 1) as u32,
                kind: KIND_ARRAY,
                reserved: [0; 3],
            });
        }
        for s in &self.sections {
            m.chunks.extend(s.chunks.iter().cloned());
            m.sections.push(Section {
                chunks_end: m.chunks.len() as u32,
                ..s.row.clone()
            });
        }
        m
    }

    /// The file's bytes, with correct checksums for whatever the fields say.
    fn bytes(&self) -> Vec<u8> {
        self.bytes_of(&self.manifest())
    }

    /// The file's bytes, with the laid-out tables changed by `edit` first.
    fn bytes_edited(&self, edit: impl FnOnce(&mut Manifest)) -> Vec<u8> {
        let mut m = self.manifest();
        edit(&mut m);
        self.bytes_of(&m)
    }

    /// The file's bytes with manifest `m`, with correct checksums: a 1.0 root, or for a file
    /// of a later minor version a 1.1 root whose columns have no metadata and no flags.
    fn bytes_of(&self, m: &Manifest) -> Vec<u8> {
        let manifest = if self.version.minor == 0 {
            rkyv::to_bytes::<rancor::Error>(m).unwrap()
        } else {
            let m = Manifest11 {
                base: m.clone(),
                column_extras: vec![ColumnExtra::default(); m.columns.len()],
                column_metadata: Vec::new(),
            };
            rkyv::to_bytes::<rancor::Error>(&m).unwrap()
        };
        self.bytes_with_archive(&manifest)
    }

    fn root_length(&self) -> u32 {
        let default = if self.version.minor == 0 {
            ROOT_LEN
        } else {
            ROOT_LEN_1_1
        };
        self.root_length.unwrap_or(default)
    }

    /// The file's bytes with `manifest` as the archive, whatever it holds.
    fn bytes_with_archive(&self, manifest: &[u8]) -> Vec<u8> {
        let manifest_offset = self.end.next_multiple_of(64);
        let mut out = vec![0u8; manifest_offset as usize];
        for (offset, blob) in &self.blobs {
            let at = *offset as usize;
            out[at..at + blob.len()].copy_from_slice(blob);
        }
        out.extend_from_slice(manifest);
        let header = Header {
            version: self.version,
            required_flags: self.required_flags,
            optional_flags: self.optional_flags,
            alignment: self.alignment,
            root_length: self.root_length(),
            manifest_offset,
            manifest_len: manifest.len() as u64,
            manifest_checksum: xxh3(manifest),
            file_len: out.len() as u64,
        };
        out[..HEADER_LEN].copy_from_slice(&header.encode());
        out
    }
}

/// The row of a raw section at `offset`.
fn raw_section_row(offset: u64, length: u64, checksum: u64) -> Section {
    Section {
        offset,
        length,
        checksum,
        raw_length: length,
        chunks_end: 0,
        chunk_length: 0,
        codec: CODEC_RAW,
        shuffle: 0,
        reserved: [0; 6],
    }
}

/// Test data.
fn f32s() -> Vec<f32> {
    (0..6).map(|i| i as f32 * 1.5 - 2.0).collect()
}
fn i64s() -> Vec<i64> {
    (0..100).map(|i| i * i - 1000).collect()
}
fn bools() -> Vec<bool> {
    (0..13).map(|i| i % 3 == 0).collect()
}

/// A valid file: a raw f32 [2, 3] array "a", a zstd+shuffle i64 [100] array "b" in 7 chunks of
/// 128 bytes (the last one partial), a raw bool [13] array "c", and a 0-d u16 "d".
fn baseline() -> Craft {
    let mut c = Craft::new();
    c.raw_array("a", &f32s(), &[2, 3]);
    c.zstd_array("b", &i64s(), &[100], 128, true);
    c.raw_array("c", &bools(), &[13]);
    c.raw_array("d", &[7u16], &[]);
    c.metadata.push(MetaItem {
        key: "k".into(),
        value: MetaValue::Int(1),
    });
    c
}

/// The baseline with metadata on entries "b" (two items) and "d" (one): `metadata_end` is
/// [0, 2, 2, 3].
fn baseline_with_entry_metadata() -> Craft {
    let mut c = baseline();
    c.entries[1].metadata = vec![
        meta("p", MetaValue::Float(1.5)),
        meta("q", MetaValue::Str("two".into())),
    ];
    c.entries[3].metadata = vec![meta("r", MetaValue::Bytes(vec![1, 2]))];
    c
}

fn meta(key: &str, value: MetaValue) -> MetaItem {
    MetaItem {
        key: key.into(),
        value,
    }
}

fn open(bytes: &[u8]) -> Result<Reader> {
    open_with(Reader::options(), bytes)
}

fn open_with(options: OpenOptions, bytes: &[u8]) -> Result<Reader> {
    options.open_buffer("crafted.brine", AlignedBuf::copy_from_slice(bytes))
}

/// Reads every entry of the baseline file in full.
fn read_baseline(r: &Reader) -> Result<()> {
    assert_eq!(r.array::<f32>("a")?.as_slice(), &f32s()[..]);
    assert_eq!(r.array::<i64>("b")?.as_slice(), &i64s()[..]);
    assert_eq!(r.array::<bool>("c")?.as_slice(), &bools()[..]);
    assert_eq!(r.array::<u16>("d")?.as_slice(), &[7]);
    Ok(())
}

/// Asserts that `$result` is an `Err` matching the pattern.
macro_rules! assert_err {
    ($result:expr, $($pattern:tt)+) => {
        match $result {
            Err(e) => assert!(
                matches!(e, $($pattern)+),
                "expected {}, got {e:?}",
                stringify!($($pattern)+)
            ),
            Ok(_) => panic!("expected {}, got Ok", stringify!($($pattern)+)),
        }
    };
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap())
}

fn set_u16(bytes: &mut [u8], at: usize, v: u16) {
    bytes[at..at + 2].copy_from_slice(&v.to_le_bytes());
}
fn set_u32(bytes: &mut [u8], at: usize, v: u32) {
    bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
}
fn set_u64(bytes: &mut [u8], at: usize, v: u64) {
    bytes[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// Header byte offsets (spec/FORMAT.md, "Header").
mod at {
    pub const MAJOR: usize = 8;
    pub const MINOR: usize = 10;
    pub const REQUIRED_FLAGS: usize = 12;
    pub const OPTIONAL_FLAGS: usize = 16;
    pub const RKYV_LAYOUT: usize = 20;
    pub const ALIGNMENT: usize = 24;
    pub const MANIFEST_OFFSET: usize = 32;
    pub const MANIFEST_LEN: usize = 40;
    pub const MANIFEST_CHECKSUM: usize = 48;
    pub const FILE_LEN: usize = 56;
    pub const CHECKSUM: usize = 120;
}

/// Recomputes the header checksum after an edit of the header.
fn reseal_header(bytes: &mut [u8]) {
    let sum = xxh3(&bytes[..at::CHECKSUM]);
    set_u64(bytes, at::CHECKSUM, sum);
}

/// Recomputes the manifest checksum (and then the header's) after an edit of the manifest.
fn reseal_manifest(bytes: &mut [u8]) {
    let offset = u64_at(bytes, at::MANIFEST_OFFSET) as usize;
    let sum = xxh3(&bytes[offset..]);
    set_u64(bytes, at::MANIFEST_CHECKSUM, sum);
    reseal_header(bytes);
}

/// A file written by the real writer, for tests that start from the writer's output.
fn written(build: impl FnOnce(&mut Writer) -> Result<()>) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.brine");
    let mut w = Writer::create(&path).unwrap();
    build(&mut w).unwrap();
    w.finish().unwrap();
    std::fs::read(&path).unwrap()
}

// ---------------------------------------------------------------------------------------------
// The baseline
// ---------------------------------------------------------------------------------------------

#[test]
fn crafted_baseline_is_valid() {
    let bytes = baseline().bytes();
    let r = open_with(Reader::options().verify(true), &bytes).unwrap();
    read_baseline(&r).unwrap();
    r.verify().unwrap();
    assert_eq!(r.array_entry("b").unwrap().chunk_count(), 7);
    // Zero-copy only refuses the compressed entry.
    let r = open_with(Reader::options().require_zero_copy(true), &bytes).unwrap();
    r.array::<f32>("a").unwrap();

    // The tables the negative tests edit, as the format lays them out.
    let m = baseline().manifest();
    assert_eq!(m.names, "abcd");
    let column = |f: fn(&Entry) -> u32| m.entries.iter().map(f).collect::<Vec<_>>();
    assert_eq!(column(|e| e.name_end), [1, 2, 3, 4]);
    assert_eq!(column(|e| e.metadata_end), [0, 0, 0, 0]);
    assert_eq!(column(|e| e.index), [0, 1, 2, 3]);
    assert!(m.entries.iter().all(|e| e.kind == KIND_ARRAY));
    assert_eq!(m.dims, [2, 3, 100, 13]);
    let dims_end: Vec<u32> = m.arrays.iter().map(|a| a.dims_end).collect();
    assert_eq!(dims_end, [2, 3, 4, 4]);
    let sections: Vec<u32> = m.arrays.iter().map(|a| a.section).collect();
    assert_eq!(sections, [0, 1, 2, 3]);
    let chunks_end: Vec<u32> = m.sections.iter().map(|s| s.chunks_end).collect();
    assert_eq!(chunks_end, [0, 7, 7, 7]);
    assert_eq!(m.chunks.len(), 7);
    assert!(m.entry_metadata.is_empty());

    // With entry metadata.
    let c = baseline_with_entry_metadata();
    let r = open_with(Reader::options().verify(true), &c.bytes()).unwrap();
    read_baseline(&r).unwrap();
    let keys = |name| -> Vec<String> {
        let e = r.entry(name).unwrap();
        e.metadata().iter().map(|(k, _)| k.to_owned()).collect()
    };
    assert_eq!(keys("a"), Vec::<String>::new());
    assert_eq!(keys("b"), ["p", "q"]);
    assert_eq!(keys("d"), ["r"]);
    let m = c.manifest();
    let metadata_end: Vec<u32> = m.entries.iter().map(|e| e.metadata_end).collect();
    assert_eq!(metadata_end, [0, 2, 2, 3]);
}

#[test]
fn crafted_baseline_matches_the_writer_byte_for_byte() {
    // The crafting helper follows the same layout rules as the writer, so what the negative
    // tests change is the only difference from a real file.
    let from_writer = written(|w| {
        w.put_array("a", &f32s(), &[2, 3])?;
        let z = EntryOptions::new()
            .codec(Codec::zstd_shuffled())
            .chunk_len(128);
        w.put_array_with("b", &i64s(), &[100], &z)?;
        w.put_array("c", &bools(), &[13])?;
        w.put_array::<u16>("d", &[7], &[])?;
        w.set_metadata("k", 1i64);
        Ok(())
    });
    assert_eq!(baseline().bytes(), from_writer);

    // And with entry metadata, laid out in entry order.
    let from_writer = written(|w| {
        w.put_array("a", &f32s(), &[2, 3])?;
        let z = EntryOptions::new()
            .codec(Codec::zstd_shuffled())
            .chunk_len(128)
            .metadata("q", "two")
            .metadata("p", 1.5);
        w.put_array_with("b", &i64s(), &[100], &z)?;
        w.put_array("c", &bools(), &[13])?;
        let d = EntryOptions::new().metadata("r", vec![1u8, 2]);
        w.put_array_with::<u16>("d", &[7], &[], &d)?;
        w.set_metadata("k", 1i64);
        Ok(())
    });
    assert_eq!(baseline_with_entry_metadata().bytes(), from_writer);
}

// ---------------------------------------------------------------------------------------------
// Header (tier 1)
// ---------------------------------------------------------------------------------------------

#[test]
fn empty_file() {
    assert_err!(
        open(&[]),
        Error::Truncated {
            what: "header",
            len: 0,
            ..
        }
    );
    // The same through a real (empty) mapping.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.brine");
    std::fs::write(&path, b"").unwrap();
    assert_err!(
        Reader::open(&path),
        Error::Truncated {
            what: "header",
            len: 0,
            ..
        }
    );
}

#[test]
fn missing_file_is_io_error() {
    let dir = tempfile::tempdir().unwrap();
    assert_err!(
        Reader::open(dir.path().join("nope.brine")),
        Error::Io { op: "open", .. }
    );
}

#[test]
fn truncated_header() {
    let bytes = baseline().bytes();
    for len in [1, 4, 8, 9, 64, HEADER_LEN - 1] {
        assert_err!(
            open(&bytes[..len]),
            Error::Truncated { what: "header", needed: 128, len: l, .. } if l == len as u64
        );
    }
}

#[test]
fn truncated_header_on_disk() {
    // Through a real map (the header is then read with `pread` when the file is long enough).
    let bytes = baseline().bytes();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("short.brine");
    for len in [1, 8, 100, HEADER_LEN - 1] {
        std::fs::write(&path, &bytes[..len]).unwrap();
        assert_err!(
            Reader::open(&path),
            Error::Truncated { what: "header", len: l, .. } if l == len as u64
        );
    }
    std::fs::write(&path, &bytes[..HEADER_LEN]).unwrap();
    assert_err!(Reader::open(&path), Error::Truncated { .. });
}

#[test]
fn opening_a_folder_is_io_error() {
    let dir = tempfile::tempdir().unwrap();
    assert_err!(Reader::open(dir.path()), Error::Io { .. });
}

#[test]
fn writer_into_a_missing_folder_is_io_error() {
    let dir = tempfile::tempdir().unwrap();
    assert_err!(
        Writer::create(dir.path().join("missing/x.brine")),
        Error::Io { .. }
    );
}

#[test]
fn writer_over_a_folder_fails_at_create_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("sub");
    std::fs::create_dir(&target).unwrap();
    // Refused before anything is written, not at the rename of `finish`.
    assert_err!(
        Writer::create(&target),
        Error::Io { ref source, .. } if source.kind() == std::io::ErrorKind::IsADirectory
    );
    // Only the folder is left: no temporary file was made.
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1);
    assert!(target.is_dir());
}

#[test]
fn not_brine_wrong_magic() {
    let mut bytes = baseline().bytes();
    bytes[1] = b'b';
    assert_err!(open(&bytes), Error::NotBrine { ref found, .. } if found[..] == bytes[..8]);
    assert_err!(
        open(b"hello, world: not a brine file at all"),
        Error::NotBrine { ref found, .. } if found == b"hello, w"
    );
    // Shorter than the magic and not a prefix of it.
    assert_err!(open(b"PK\x03"), Error::NotBrine { ref found, .. } if found == b"PK\x03");
    assert_eq!(MAGIC.len(), 8);
}

#[test]
fn newer_major_version() {
    let mut c = baseline();
    c.version = Version {
        major: FORMAT_VERSION.major + 1,
        minor: 0,
    };
    let err = open(&c.bytes()).unwrap_err();
    let Error::UnsupportedVersion {
        found, supported, ..
    } = err
    else {
        panic!("expected UnsupportedVersion, got {err:?}");
    };
    assert_eq!(found, c.version);
    assert_eq!(supported, FORMAT_VERSION);

    // The version is read before the checksum: a future header layout still gets this error.
    let mut bytes = baseline().bytes();
    set_u16(&mut bytes, at::MAJOR, 7);
    set_u16(&mut bytes, at::MINOR, 3);
    assert_err!(
        open(&bytes),
        Error::UnsupportedVersion { found: Version { major: 7, minor: 3 }, supported, .. }
            if supported == FORMAT_VERSION
    );
}

#[test]
fn older_major_version() {
    let mut c = baseline();
    c.version = Version { major: 0, minor: 9 };
    assert_err!(
        open(&c.bytes()),
        Error::UnsupportedVersion {
            found: Version { major: 0, minor: 9 },
            ..
        }
    );
}

#[test]
fn newer_minor_version_is_read() {
    let mut c = baseline();
    c.version = Version {
        major: FORMAT_VERSION.major,
        minor: FORMAT_VERSION.minor + 1,
    };
    let r = open(&c.bytes()).unwrap();
    assert_eq!(r.version(), c.version);
    read_baseline(&r).unwrap();
}

#[test]
fn unknown_required_flag() {
    for bit in [0, 1, 17, 31] {
        let mut c = baseline();
        c.required_flags = 1 << bit;
        assert_err!(
            open(&c.bytes()),
            Error::UnsupportedFeature { ref what, value, found, supported, .. }
                if what == "required flags" && value == 1 << bit
                    && found == V1_0 && supported == FORMAT_VERSION
        );
    }
    // The same by editing the bytes of a written file.
    let mut bytes = baseline().bytes();
    set_u32(&mut bytes, at::REQUIRED_FLAGS, 0x8000_0001);
    reseal_header(&mut bytes);
    assert_err!(
        open(&bytes),
        Error::UnsupportedFeature {
            value: 0x8000_0001,
            ..
        }
    );
}

#[test]
fn unknown_optional_flag_is_ignored() {
    let mut c = baseline();
    c.optional_flags = 0xFFFF_FFFF;
    read_baseline(&open(&c.bytes()).unwrap()).unwrap();
}

#[test]
fn wrong_rkyv_layout_byte() {
    let good = baseline().bytes();
    for (i, what) in ["rkyv endianness", "rkyv alignment", "rkyv pointer width"]
        .into_iter()
        .enumerate()
    {
        for delta in [1u8, 0x80] {
            let mut bytes = good.clone();
            bytes[at::RKYV_LAYOUT + i] ^= delta;
            reseal_header(&mut bytes);
            let expected = u64::from(bytes[at::RKYV_LAYOUT + i]);
            assert_err!(
                open(&bytes),
                Error::UnsupportedFeature { what: ref w, value, .. } if w == what && value == expected
            );
        }
    }
}

#[test]
fn nonzero_reserved_header_byte() {
    let good = baseline().bytes();
    let reserved = [23].into_iter().chain(64..at::CHECKSUM);
    for offset in reserved {
        let mut bytes = good.clone();
        bytes[offset] = 0x01;
        reseal_header(&mut bytes);
        assert_err!(
            open(&bytes),
            Error::InvalidHeader {
                field: "reserved",
                ..
            }
        );
    }
}

#[test]
fn bad_alignment_unit() {
    let good = baseline().bytes();
    for alignment in [
        0u32,
        1,
        32,
        63,
        96,
        100,
        3000,
        4095,
        4 << 20,
        1 << 31,
        u32::MAX,
    ] {
        let mut bytes = good.clone();
        set_u32(&mut bytes, at::ALIGNMENT, alignment);
        reseal_header(&mut bytes);
        assert_err!(
            open(&bytes),
            Error::InvalidHeader { field: "alignment", value, .. } if value == u64::from(alignment)
        );
    }
}

#[test]
fn every_valid_alignment_unit() {
    let mut shift = 6;
    while 1u32 << shift <= 2 << 20 {
        let mut c = Craft::new();
        c.alignment = 1 << shift;
        // One section of a page, which must start on the unit.
        c.raw_array("big", &vec![3u8; PAGE as usize], &[PAGE]);
        c.raw_array("small", &[1u8], &[1]);
        let r = open(&c.bytes()).unwrap();
        assert_eq!(r.alignment(), 1 << shift);
        assert_eq!(r.array_entry("big").unwrap().offset() % (1 << shift), 0);
        shift += 1;
    }
}

#[test]
fn header_checksum_mismatch() {
    let good = baseline().bytes();
    // A covered field changed without resealing, then the checksum itself changed.
    for offset in [
        at::MINOR,
        at::OPTIONAL_FLAGS,
        at::FILE_LEN + 7,
        100,
        at::CHECKSUM,
        127,
    ] {
        let mut bytes = good.clone();
        bytes[offset] ^= 0x10;
        assert_err!(
            open(&bytes),
            Error::ChecksumMismatch { ref what, expected, got, .. }
                if what == "header" && expected != got
        );
    }
}

#[test]
fn file_length_mismatch() {
    let good = baseline().bytes();
    let mut longer = good.clone();
    longer.push(0);
    assert_err!(
        open(&longer),
        Error::InvalidHeader { field: "file_length", value, .. } if value == good.len() as u64
    );
    // Shorter than the header says: reported as a truncation, with both lengths.
    let full = good.len() as u64;
    for cut in [1, 64, good.len() - HEADER_LEN] {
        assert_err!(
            open(&good[..good.len() - cut]),
            Error::Truncated { needed, len, .. } if needed == full && len == full - cut as u64
        );
    }
    // The same through real mappings.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.brine");
    std::fs::write(&path, &longer).unwrap();
    assert_err!(
        Reader::open(&path),
        Error::InvalidHeader {
            field: "file_length",
            ..
        }
    );
    std::fs::write(&path, &good[..good.len() - 1]).unwrap();
    assert_err!(Reader::open(&path), Error::Truncated { needed, .. } if needed == full);
    // A header that agrees with a truncated file still cannot place the manifest.
    let mut short = good[..good.len() - 1].to_vec();
    let short_len = short.len() as u64;
    set_u64(&mut short, at::FILE_LEN, short_len);
    reseal_header(&mut short);
    assert_err!(
        open(&short),
        Error::InvalidHeader {
            field: "manifest_length",
            ..
        }
    );
}

#[test]
fn manifest_offset_invalid() {
    let good = baseline().bytes();
    let manifest_offset = u64_at(&good, at::MANIFEST_OFFSET);
    for bad in [0, 64, 127, manifest_offset - 1, manifest_offset + 8] {
        let mut bytes = good.clone();
        set_u64(&mut bytes, at::MANIFEST_OFFSET, bad);
        reseal_header(&mut bytes);
        assert_err!(
            open(&bytes),
            Error::InvalidHeader {
                field: "manifest_offset" | "manifest_length",
                ..
            }
        );
    }
}

#[test]
fn manifest_length_invalid() {
    let good = baseline().bytes();
    let len = u64_at(&good, at::MANIFEST_LEN);
    for bad in [0, len - 1, len + 1, u64::MAX, u64::MAX - 200] {
        let mut bytes = good.clone();
        set_u64(&mut bytes, at::MANIFEST_LEN, bad);
        reseal_header(&mut bytes);
        assert_err!(
            open(&bytes),
            Error::InvalidHeader { field: "manifest_length", value, .. } if value == bad
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Manifest (tier 1)
// ---------------------------------------------------------------------------------------------

#[test]
fn manifest_checksum_mismatch() {
    let good = baseline().bytes();
    let offset = u64_at(&good, at::MANIFEST_OFFSET) as usize;
    for at in [offset, (offset + good.len()) / 2, good.len() - 1] {
        let mut bytes = good.clone();
        bytes[at] ^= 0x04;
        assert_err!(
            open(&bytes),
            Error::ChecksumMismatch { ref what, .. } if what == "manifest"
        );
    }
    // The stored checksum itself changed (header resealed so the header is fine).
    let mut bytes = good.clone();
    bytes[at::MANIFEST_CHECKSUM] ^= 1;
    reseal_header(&mut bytes);
    assert_err!(open(&bytes), Error::ChecksumMismatch { ref what, .. } if what == "manifest");
}

/// The manifest's root (`ArchivedManifest`), which ends the file (spec/FORMAT.md, "rkyv
/// layout"): thirteen 8-byte fields in declaration order, strings (names, column text, model
/// text) and vectors; each vector is an i32 offset relative to the field itself and a u32
/// length.
mod root {
    pub const LEN: usize = 104;
    pub const NAMES: usize = 0;
    pub const ENTRIES: usize = 8;
    pub const ARRAYS: usize = 16;
    pub const DIMS: usize = 24;
    pub const SECTIONS: usize = 32;
    pub const CHUNKS: usize = 40;
    pub const METADATA: usize = 48;
    pub const ENTRY_METADATA: usize = 56;
    pub const FRAMES: usize = 64;
    pub const COLUMNS: usize = 72;
    pub const COLUMN_TEXT: usize = 80;
    pub const MODELS: usize = 88;
    pub const MODEL_TEXT: usize = 96;
}

/// The file offset of the root.
fn root_at(bytes: &[u8]) -> usize {
    bytes.len() - root::LEN
}

/// The file offset and length of the vector at `field` of the root.
fn table(bytes: &[u8], field: usize) -> (usize, usize) {
    let at = root_at(bytes) + field;
    let rel = i32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap());
    ((at as i64 + i64::from(rel)) as usize, len as usize)
}

#[test]
fn manifest_root_layout_is_as_documented() {
    // Guards the byte offsets the tests below corrupt.
    let c = baseline_with_entry_metadata();
    let (bytes, m) = (c.bytes(), c.manifest());
    let lengths = [
        (root::ENTRIES, m.entries.len()),
        (root::ARRAYS, m.arrays.len()),
        (root::DIMS, m.dims.len()),
        (root::SECTIONS, m.sections.len()),
        (root::CHUNKS, m.chunks.len()),
        (root::METADATA, m.metadata.len()),
        (root::ENTRY_METADATA, m.entry_metadata.len()),
    ];
    for (field, len) in lengths {
        assert_eq!(table(&bytes, field).1, len, "root field at {field}");
    }
    // An array-only file: the tables of the other kinds are empty, their strings empty and
    // inline (all 0xFF).
    assert_eq!(root::LEN, ROOT_LEN as usize);
    for field in [root::FRAMES, root::COLUMNS, root::MODELS] {
        assert_eq!(table(&bytes, field).1, 0, "root field at {field}");
    }
    for field in [root::COLUMN_TEXT, root::MODEL_TEXT] {
        let at = root_at(&bytes) + field;
        assert_eq!(bytes[at..at + 8], [0xFF; 8], "root field at {field}");
    }
    // Entry rows are 16 bytes: name_end, metadata_end, index, kind, reserved.
    let (entries, _) = table(&bytes, root::ENTRIES);
    for (i, e) in m.entries.iter().enumerate() {
        let row = &bytes[entries + 16 * i..entries + 16 * (i + 1)];
        let expected = [
            &e.name_end.to_le_bytes()[..],
            &e.metadata_end.to_le_bytes(),
            &e.index.to_le_bytes(),
            &[e.kind],
            &e.reserved,
        ]
        .concat();
        assert_eq!(row, expected);
    }
    // "abcd" fits in the string's 8 bytes: stored inline, padded with 0xFF.
    let names = root_at(&bytes) + root::NAMES;
    assert_eq!(bytes[names..names + 8], *b"abcd\xFF\xFF\xFF\xFF");

    // A written file with an array and a frame of two columns: one frame row (16 bytes: rows,
    // columns_end, reserved), two column rows, and the columns' names and zone in column_text.
    let bytes = written(|w| {
        w.put_array("a", &[1u8], &[1])?;
        let frame = Frame::builder()
            .column("x", Column::new(vec![1i64, 2]))
            .column(
                "t",
                Column::timestamps(vec![0, 1], TimeUnit::Second, Some("UTC")),
            )
            .build()?;
        w.put_frame("f", &frame)
    });
    assert_eq!(table(&bytes, root::ENTRIES).1, 2);
    assert_eq!(table(&bytes, root::ARRAYS).1, 1);
    assert_eq!(table(&bytes, root::FRAMES).1, 1);
    assert_eq!(table(&bytes, root::COLUMNS).1, 2);
    assert_eq!(table(&bytes, root::MODELS).1, 0);
    let (entries, _) = table(&bytes, root::ENTRIES);
    assert_eq!(bytes[entries + 12], KIND_ARRAY);
    assert_eq!(bytes[entries + 16 + 12], KIND_FRAME);
    let (frames, _) = table(&bytes, root::FRAMES);
    let expected = [&2u64.to_le_bytes()[..], &2u32.to_le_bytes(), &[0; 4]].concat();
    assert_eq!(bytes[frames..frames + 16], expected);
    let text = root_at(&bytes) + root::COLUMN_TEXT;
    assert_eq!(bytes[text..text + 8], *b"xtUTC\xFF\xFF\xFF");
}

#[test]
fn manifest_not_valid_rkyv() {
    let mut c = baseline();
    // A name long enough for the names to be stored out of line, to corrupt their UTF-8.
    c.entries[0].name = "a_name_long_enough_to_find".into();
    let good = c.bytes();
    let offset = u64_at(&good, at::MANIFEST_OFFSET) as usize;
    let root = root_at(&good);

    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();

    let mut bytes = good.clone();
    set_u32(&mut bytes, root + root::ENTRIES + 4, u32::MAX);
    cases.push(("entries length past the end", bytes));

    let mut bytes = good.clone();
    set_u32(&mut bytes, root + root::ENTRIES, 0x4000_0000);
    cases.push(("entries pointer past the end", bytes));

    let mut bytes = good.clone();
    set_u32(&mut bytes, root + root::SECTIONS + 4, 0x00FF_FFFF);
    cases.push(("sections length past the end", bytes));

    let mut bytes = good.clone();
    set_u32(&mut bytes, root + root::DIMS + 4, 0x0FFF_FFFF);
    cases.push(("dims length past the end", bytes));

    let mut bytes = good.clone();
    set_u32(&mut bytes, root + root::CHUNKS, 0x7FFF_FFF0);
    cases.push(("chunks pointer past the end", bytes));

    let mut bytes = good.clone();
    // An out-of-line string is a u32 length (with a marker in its top bits), then an offset.
    set_u32(&mut bytes, root + root::NAMES + 4, 0x4000_0000);
    cases.push(("names pointer past the end", bytes));

    let mut bytes = good.clone();
    let name = bytes
        .windows(5)
        .rposition(|w| w == b"a_nam")
        .expect("name bytes");
    bytes[name + 3] = 0xFF;
    cases.push(("names not UTF-8", bytes));

    let mut bytes = good.clone();
    bytes[offset..].fill(0xFF);
    cases.push(("all 0xFF", bytes));

    for (what, mut bytes) in cases {
        reseal_manifest(&mut bytes);
        match open(&bytes) {
            Err(Error::InvalidManifest { .. }) => {}
            other => panic!("{what}: expected InvalidManifest, got {other:?}"),
        }
    }
}

#[test]
fn manifest_too_short_for_its_root() {
    let good = baseline().bytes();
    let offset = u64_at(&good, at::MANIFEST_OFFSET) as usize;
    for keep in [0, 1, 8, 23, root::LEN - 1] {
        let mut bytes = good[..offset + keep].to_vec();
        set_u64(&mut bytes, at::MANIFEST_LEN, keep as u64);
        let len = bytes.len() as u64;
        set_u64(&mut bytes, at::FILE_LEN, len);
        reseal_manifest(&mut bytes);
        // The header's root_length (104) does not fit in the manifest.
        assert_err!(
            open(&bytes),
            Error::InvalidHeader {
                field: "root_length",
                ..
            }
        );
    }
}

#[test]
fn empty_manifest_is_valid() {
    let r = open(&Craft::new().bytes()).unwrap();
    assert!(r.is_empty());
    assert_eq!(r.entries().count(), 0);
    r.verify().unwrap();
}

#[test]
fn manifest_errors_on_disk_small_and_large() {
    // Small manifests are read with `pread`, large ones (over 64 KiB) through the map: both
    // paths refuse the same corruptions.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.brine");
    for blob in [0usize, 100 * 1024] {
        let mut c = baseline();
        c.metadata.push(MetaItem {
            key: "zz".into(),
            value: MetaValue::Bytes(vec![0xAB; blob]),
        });
        let good = c.bytes();
        let offset = u64_at(&good, at::MANIFEST_OFFSET) as usize;
        let len = u64_at(&good, at::MANIFEST_LEN);
        assert_eq!(len > 64 * 1024, blob > 0);

        std::fs::write(&path, &good).unwrap();
        let r = Reader::options().verify(true).open(&path).unwrap();
        read_baseline(&r).unwrap();
        assert_err!(
            Reader::options().max_manifest_len(len - 1).open(&path),
            Error::LimitExceeded { value, .. } if value == len
        );

        let mut bytes = good.clone();
        bytes[offset + 3] ^= 0x20;
        std::fs::write(&path, &bytes).unwrap();
        assert_err!(
            Reader::open(&path),
            Error::ChecksumMismatch { ref what, .. } if what == "manifest"
        );

        let mut bytes = good.clone();
        let root = root_at(&bytes);
        set_u32(&mut bytes, root + root::ENTRIES + 4, u32::MAX);
        reseal_manifest(&mut bytes);
        std::fs::write(&path, &bytes).unwrap();
        assert_err!(Reader::open(&path), Error::InvalidManifest { .. });
    }
}

#[test]
fn max_manifest_len_limit() {
    let bytes = baseline().bytes();
    let len = u64_at(&bytes, at::MANIFEST_LEN);
    assert_err!(
        open_with(Reader::options().max_manifest_len(len - 1), &bytes),
        Error::LimitExceeded { value, limit, .. } if value == len && limit == len - 1
    );
    assert_err!(
        open_with(Reader::options().max_manifest_len(0), &bytes),
        Error::LimitExceeded { .. }
    );
    open_with(Reader::options().max_manifest_len(len), &bytes).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Sections (tier 1)
// ---------------------------------------------------------------------------------------------

#[test]
fn sections_out_of_bounds() {
    let good = baseline();
    let manifest_offset = u64_at(&good.bytes(), at::MANIFEST_OFFSET);
    let last = good.sections.len() - 1;
    let cases: Vec<(usize, u64, u64)> = vec![
        // (section, offset, length)
        (last, manifest_offset, 1),
        (last, manifest_offset + 64, 0),
        (last, u64::MAX - 63, 2),
        (last, 4096 * 64, 2),
        (last, good.sections[last].offset, manifest_offset),
        (last, good.sections[last].offset, u64::MAX),
        (0, 0, 4),
        (0, 64, 4),
    ];
    for (section, offset, length) in cases {
        let mut c = baseline();
        let s = &mut c.sections[section];
        s.offset = offset;
        s.length = length;
        s.raw_length = length;
        assert_err!(
            open(&c.bytes()),
            Error::SectionOutOfBounds { section: i, offset: o, len, limit, .. }
                if i == section as u32 && o == offset && len == length && limit == manifest_offset
        );
    }
}

#[test]
fn empty_section_at_the_end_of_the_data_area_is_valid() {
    let mut c = baseline();
    let s = c.raw_section(Vec::new());
    c.entry("e", Dtype::F64, &[0, 5], s);
    let bytes = c.bytes();
    let r = open(&bytes).unwrap();
    assert_eq!(
        r.array_entry("e").unwrap().offset(),
        u64_at(&bytes, at::MANIFEST_OFFSET)
    );
    assert!(r.array::<f64>("e").unwrap().is_empty());
}

#[test]
fn sections_overlap() {
    // Section 1 starts inside section 0.
    let mut c = Craft::new();
    c.raw_array("a", &[1u32; 64], &[64]);
    c.raw_array("b", &[2u32; 4], &[4]);
    let s0 = c.sections[0].clone();
    c.sections[1].offset = s0.offset + 192;
    assert_eq!(s0.length, 256);
    assert_err!(
        open(&c.bytes()),
        Error::SectionsOverlap {
            first: 0,
            second: 1,
            ..
        }
    );

    // The section table is not sorted by offset: that also makes sections overlap.
    let mut c = Craft::new();
    c.raw_array("a", &[1u32; 4], &[4]);
    c.raw_array("b", &[2u32; 4], &[4]);
    c.sections.swap(0, 1);
    c.entries[0].section = 1;
    c.entries[1].section = 0;
    assert_err!(
        open(&c.bytes()),
        Error::SectionsOverlap {
            first: 0,
            second: 1,
            ..
        }
    );

    // Two sections at the same offset.
    let mut c = Craft::new();
    c.raw_array("a", &[1u32; 4], &[4]);
    c.raw_array("b", &[1u32; 4], &[4]);
    c.sections[1].offset = c.sections[0].offset;
    assert_err!(open(&c.bytes()), Error::SectionsOverlap { .. });
}

#[test]
fn section_misaligned() {
    // A small section off the 64-byte grid.
    for delta in [1, 4, 8, 32] {
        let mut c = Craft::new();
        c.place_at(128 + delta, vec![5u8; 16]);
        let checksum = xxh3(&[5u8; 16]);
        c.push_section(raw_section_row(128 + delta, 16, checksum), Vec::new());
        c.entry("a", Dtype::U8, &[16], 0);
        assert_err!(
            open(&c.bytes()),
            Error::InvalidField {
                field: "offset",
                ..
            }
        );
    }
    // A section of a page on the 64-byte grid but not on the 4096-byte unit.
    let mut c = Craft::new();
    let data = vec![9u8; PAGE as usize];
    c.place_at(192, data.clone());
    c.push_section(raw_section_row(192, PAGE, xxh3(&data)), Vec::new());
    c.entry("a", Dtype::U8, &[PAGE], 0);
    assert_err!(
        open(&c.bytes()),
        Error::InvalidField {
            field: "offset",
            ..
        }
    );
    // The same file is valid when the unit is 64.
    c.alignment = 64;
    open(&c.bytes()).unwrap();
}

#[test]
fn section_owned_by_no_array() {
    // A stray section after the last one.
    let mut c = baseline();
    c.raw_section(vec![0u8; 8]);
    assert_err!(
        open(&c.bytes()),
        Error::InvalidField {
            field: "sections",
            ..
        }
    );
    // A stray section between two owned ones.
    let mut c = Craft::new();
    c.raw_array("x", &[1u32; 4], &[4]);
    c.raw_section(vec![0u8; 8]);
    let s = c.raw_section(vec![2u8; 8]);
    c.entry("y", Dtype::U8, &[8], s);
    assert_err!(
        open(&c.bytes()),
        Error::InvalidField {
            field: "sections",
            ..
        }
    );
    // A section and no entry at all.
    let mut c = Craft::new();
    c.raw_section(vec![0u8; 8]);
    assert_err!(
        open(&c.bytes()),
        Error::InvalidField {
            field: "sections",
            ..
        }
    );
}

#[test]
fn section_owned_by_two_arrays() {
    let mut c = baseline();
    let shared = c.entries[0].section;
    c.entry("e", Dtype::F32, &[6], shared);
    assert_err!(
        open(&c.bytes()),
        Error::InvalidField {
            field: "section",
            ..
        }
    );
    // Two rows of the array table name one section (and the other section is then owned by
    // none: the first error wins).
    let mut c = Craft::new();
    c.raw_array("x", &[1u32; 4], &[4]);
    c.raw_array("y", &[2u32; 4], &[4]);
    open(&c.bytes()).unwrap();
    for (row, section) in [(1, 0), (0, 1)] {
        let bytes = c.bytes_edited(|m| m.arrays[row].section = section);
        assert_err!(
            open(&bytes),
            Error::InvalidField {
                field: "section",
                ..
            }
        );
    }
}

#[test]
fn section_index_out_of_range() {
    for bad in [4, 5, u32::MAX] {
        let mut c = baseline();
        c.entries[0].section = bad;
        assert_err!(
            open(&c.bytes()),
            Error::InvalidField {
                field: "section",
                ..
            }
        );
    }
}

#[test]
fn raw_section_with_codec_fields() {
    let edits: [fn(&mut CraftSection); 4] = [
        |s| s.raw_length += 1,
        |s| s.chunk_length = 4,
        |s| s.shuffle = 4,
        |s| {
            s.chunks.push(Chunk {
                offset: 0,
                length: s.length,
                checksum: 0,
            })
        },
    ];
    for edit in edits {
        let mut c = baseline();
        edit(&mut c.sections[0]);
        assert_err!(open(&c.bytes()), Error::InvalidField { field: "codec", .. });
    }
}

// ---------------------------------------------------------------------------------------------
// Entries (tier 1)
// ---------------------------------------------------------------------------------------------

#[test]
fn entries_unsorted() {
    let mut c = baseline();
    c.entries.swap(1, 2);
    assert_err!(
        open(&c.bytes()),
        Error::InvalidField {
            field: "name_end",
            ..
        }
    );
    // Byte-wise order: "B" (0x42) sorts before "a" (0x61), and "é" after both.
    let mut c = Craft::new();
    c.raw_array("a", &[1u8], &[1]);
    c.raw_array("B", &[1u8], &[1]);
    assert_err!(
        open(&c.bytes()),
        Error::InvalidField {
            field: "name_end",
            ..
        }
    );
    let mut c = Craft::new();
    c.raw_array("é", &[1u8], &[1]);
    c.raw_array("z", &[1u8], &[1]);
    assert_err!(
        open(&c.bytes()),
        Error::InvalidField {
            field: "name_end",
            ..
        }
    );
}

#[test]
fn duplicate_entry_names() {
    let mut c = baseline();
    c.entries[1].name = "a".into();
    assert_err!(
        open(&c.bytes()),
        Error::Duplicate { what: "entry name", ref name, .. } if name == "a"
    );
}

#[test]
fn metadata_keys_unsorted() {
    let mut c = baseline();
    c.metadata = vec![
        meta("z", MetaValue::Bool(true)),
        meta("a", MetaValue::Int(1)),
    ];
    assert_err!(
        open(&c.bytes()),
        Error::InvalidField {
            field: "metadata",
            ..
        }
    );
    let mut c = baseline();
    c.entries[2].metadata = vec![
        meta("y", MetaValue::Float(1.0)),
        meta("x", MetaValue::Bytes(vec![1])),
    ];
    assert_err!(
        open(&c.bytes()),
        Error::InvalidField {
            field: "metadata",
            ..
        }
    );
}

#[test]
fn duplicate_metadata_keys() {
    let mut c = baseline();
    c.metadata = vec![meta("k", MetaValue::Int(1)), meta("k", MetaValue::Int(2))];
    assert_err!(
        open(&c.bytes()),
        Error::Duplicate { what: "metadata key", ref name, .. } if name == "k"
    );
    let mut c = baseline();
    c.entries[0].metadata = vec![
        meta("", MetaValue::Str("x".into())),
        meta("", MetaValue::Str("y".into())),
    ];
    assert_err!(
        open(&c.bytes()),
        Error::Duplicate {
            what: "metadata key",
            ..
        }
    );
}

#[test]
fn shape_product_overflows_u64() {
    let shapes: [&[u64]; 4] = [
        &[u64::MAX, 2],
        &[1 << 32, 1 << 32],
        &[u64::MAX],      // times the element size 4
        &[1 << 62, 2, 0], // overflows before the zero is reached
    ];
    for shape in shapes {
        let mut c = baseline();
        c.entries[0].dims = shape.to_vec();
        assert_err!(open(&c.bytes()), Error::InvalidField { field: "dims", .. });
    }
}

#[test]
fn too_many_dimensions() {
    let mut c = baseline();
    c.entries[0].dims = vec![1; MAX_NDIM + 1];
    assert_err!(
        open(&c.bytes()),
        Error::InvalidField {
            field: "dims_end",
            ..
        }
    );
    // Exactly the limit is fine when the bytes agree.
    let mut c = baseline();
    let mut shape = vec![1; MAX_NDIM];
    shape[0] = 6;
    c.entries[0].dims = shape;
    open(&c.bytes()).unwrap();
}

#[test]
fn raw_length_mismatch() {
    // The shape disagrees with the section (raw and compressed), and the dtype does.
    let shapes: [(usize, &[u64]); 4] = [(0, &[2, 2]), (0, &[7]), (0, &[]), (1, &[101])];
    for (entry, shape) in shapes {
        let mut c = baseline();
        c.entries[entry].dims = shape.to_vec();
        assert_err!(
            open(&c.bytes()),
            Error::InvalidField {
                field: "section",
                ..
            }
        );
    }
    let mut c = baseline();
    c.entries[0].dtype = Dtype::F64.code();
    assert_err!(
        open(&c.bytes()),
        Error::InvalidField {
            field: "section",
            ..
        }
    );
}

#[test]
fn unknown_dtype_code() {
    for code in [13u8, 99, 255] {
        let mut c = baseline();
        c.entries[0].dtype = code;
        assert_err!(
            open(&c.bytes()),
            Error::UnsupportedFeature { value, found, supported, .. }
                if value == u64::from(code) && found == V1_0 && supported == FORMAT_VERSION
        );
    }
}

#[test]
fn unknown_codec() {
    for codec in [2u8, 7, 255] {
        let mut c = baseline();
        c.sections[1].codec = codec;
        assert_err!(
            open(&c.bytes()),
            Error::UnsupportedFeature { value, .. } if value == u64::from(codec)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Chunk index (tier 1)
// ---------------------------------------------------------------------------------------------

#[test]
fn chunk_claims_huge_size() {
    for chunk_length in [MAX_CHUNK_LEN as u32 + 8, 1 << 31, u32::MAX - 7] {
        let mut c = baseline();
        c.sections[1].chunk_length = chunk_length;
        assert_err!(
            open(&c.bytes()),
            Error::LimitExceeded { value, limit, .. }
                if value == u64::from(chunk_length) && limit == MAX_CHUNK_LEN
        );
    }
}

#[test]
fn chunk_length_zero() {
    let mut c = baseline();
    c.sections[1].chunk_length = 0;
    assert_err!(
        open(&c.bytes()),
        Error::InvalidField {
            field: "chunk_length",
            ..
        }
    );
}

#[test]
fn chunk_length_not_a_multiple_of_the_element_size() {
    // 100 i64 = 800 bytes in chunks of 100 bytes: 8 chunks. Build it honestly so that only the
    // element-size rule is broken.
    let mut c = Craft::new();
    c.zstd_array("b", &i64s(), &[100], 100, false);
    assert_err!(
        open(&c.bytes()),
        Error::InvalidField {
            field: "section",
            ..
        }
    );
}

#[test]
fn shuffle_not_the_element_size() {
    for shuffle in [1u8, 2, 4, 16, 255] {
        let mut c = baseline();
        c.sections[1].shuffle = shuffle;
        assert_err!(
            open(&c.bytes()),
            Error::InvalidField {
                field: "section",
                ..
            }
        );
    }
    // Shuffle on a 1-byte dtype.
    let mut c = Craft::new();
    c.zstd_array("u", &[1u8, 2, 3], &[3], 2, false);
    c.sections[0].shuffle = 1;
    assert_err!(
        open(&c.bytes()),
        Error::InvalidField {
            field: "section",
            ..
        }
    );
}

#[test]
fn chunk_index_not_contiguous() {
    let edits: [fn(&mut CraftSection); 5] = [
        // A gap between chunks.
        |s| s.chunks[2].offset += 1,
        // Chunks out of order.
        |s| s.chunks.swap(1, 2),
        // A chunk too long: the index ends past the section.
        |s| s.chunks[6].length += 1,
        // A chunk too short: the index ends before the section.
        |s| s.chunks[6].length -= 1,
        // Lengths that overflow u64 when added.
        |s| {
            s.chunks[0].length = u64::MAX;
            s.chunks[1].offset = u64::MAX;
        },
    ];
    for (i, edit) in edits.into_iter().enumerate() {
        let mut c = baseline();
        edit(&mut c.sections[1]);
        match open(&c.bytes()) {
            Err(Error::InvalidField {
                field: "chunks", ..
            }) => {}
            other => panic!("edit {i}: expected InvalidField chunks, got {other:?}"),
        }
    }
}

#[test]
fn chunk_count_not_what_raw_length_needs() {
    let edits: [fn(&mut CraftSection); 3] = [
        // One chunk fewer than raw_length needs.
        |s| {
            s.chunks.pop();
        },
        // One chunk more.
        |s| {
            let end = s.length;
            s.chunks.push(Chunk {
                offset: end,
                length: 0,
                checksum: 0,
            })
        },
        // None at all.
        |s| s.chunks.clear(),
    ];
    for (i, edit) in edits.into_iter().enumerate() {
        let mut c = baseline();
        edit(&mut c.sections[1]);
        match open(&c.bytes()) {
            Err(Error::InvalidField {
                field: "chunks_end",
                ..
            }) => {}
            other => panic!("edit {i}: expected InvalidField chunks_end, got {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Flat tables: runs, row indexes, reserved bytes (tier 1)
// ---------------------------------------------------------------------------------------------

/// Asserts that opening `bytes` fails with `InvalidField` naming `field`.
fn assert_invalid_field(bytes: &[u8], field: &str) {
    match open(bytes) {
        Err(Error::InvalidField { field: f, .. }) if f == field => {}
        other => panic!("expected InvalidField {field}, got {other:?}"),
    }
}

#[test]
fn name_end_decreasing() {
    let c = baseline();
    // Entry 1 ends before entry 0 does; entry 3 before entry 2.
    assert_invalid_field(&c.bytes_edited(|m| m.entries[1].name_end = 0), "name_end");
    assert_invalid_field(&c.bytes_edited(|m| m.entries[3].name_end = 2), "name_end");
    // Between two valid ends, but below the previous one.
    assert_invalid_field(
        &c.bytes_edited(|m| {
            m.entries[1].name_end = 3;
            m.entries[2].name_end = 2;
        }),
        "name_end",
    );
}

#[test]
fn name_end_past_names() {
    let c = baseline();
    for (entry, end) in [(3, 5), (3, u32::MAX), (0, 5), (1, 1 << 31)] {
        assert_invalid_field(
            &c.bytes_edited(|m| m.entries[entry].name_end = end),
            "name_end",
        );
    }
    // An entry table with names and no name bytes at all.
    assert_invalid_field(&c.bytes_edited(|m| m.names.clear()), "name_end");
}

#[test]
fn name_end_splits_utf8_character() {
    // "é" is 2 bytes and "€" 3: the names are bytes [7a | c3 a9 | e2 82 ac].
    let mut c = Craft::new();
    c.raw_array("z", &[1u8], &[1]);
    c.raw_array("é", &[2u8], &[1]);
    c.raw_array("€", &[3u8], &[1]);
    assert_eq!(c.manifest().names.as_bytes(), b"z\xc3\xa9\xe2\x82\xac");
    open(&c.bytes()).unwrap();
    for (entry, end) in [(1, 2), (2, 4), (2, 5)] {
        assert_invalid_field(
            &c.bytes_edited(|m| m.entries[entry].name_end = end),
            "name_end",
        );
    }
}

#[test]
fn names_not_fully_referenced() {
    // Bytes after the last name.
    let c = baseline();
    assert_invalid_field(&c.bytes_edited(|m| m.names.push_str("zz")), "name_end");
    // Names and no entries.
    assert_invalid_field(
        &Craft::new().bytes_edited(|m| m.names.push('x')),
        "name_end",
    );
}

#[test]
fn metadata_end_out_of_bounds() {
    // metadata_end is [0, 2, 2, 3] over 3 items.
    let c = baseline_with_entry_metadata();
    for (entry, end) in [(3, 4), (3, u32::MAX), (1, 4)] {
        assert_invalid_field(
            &c.bytes_edited(|m| m.entries[entry].metadata_end = end),
            "metadata_end",
        );
    }
    // No items at all.
    assert_invalid_field(
        &baseline().bytes_edited(|m| m.entries[0].metadata_end = 1),
        "metadata_end",
    );
}

#[test]
fn metadata_end_decreasing() {
    let c = baseline_with_entry_metadata();
    assert_invalid_field(
        &c.bytes_edited(|m| m.entries[2].metadata_end = 1),
        "metadata_end",
    );
    assert_invalid_field(
        &c.bytes_edited(|m| {
            m.entries[0].metadata_end = 2;
            m.entries[1].metadata_end = 1;
        }),
        "metadata_end",
    );
}

/// Items after the last entry's metadata run.
fn entry_metadata_not_fully_referenced_files() -> Vec<Vec<u8>> {
    let extra = || meta("s", MetaValue::Bool(true));
    vec![
        baseline_with_entry_metadata().bytes_edited(|m| m.entry_metadata.push(extra())),
        baseline().bytes_edited(|m| m.entry_metadata.push(extra())),
        // Entry metadata and no entries.
        Craft::new().bytes_edited(|m| m.entry_metadata.push(extra())),
    ]
}

#[test]
fn entry_metadata_not_fully_referenced() {
    for bytes in entry_metadata_not_fully_referenced_files() {
        assert_err!(open(&bytes), Error::InvalidField { .. });
    }
}

#[test]
fn entry_metadata_not_fully_referenced_names_metadata_end() {
    for bytes in entry_metadata_not_fully_referenced_files() {
        assert_invalid_field(&bytes, "metadata_end");
    }
}

#[test]
fn entry_reserved_nonzero() {
    let c = baseline();
    for (entry, byte) in [(0, 0), (1, 1), (3, 2)] {
        let bytes = c.bytes_edited(|m| m.entries[entry].reserved[byte] = 0x01);
        assert_invalid_field(&bytes, "reserved");
    }
    let bytes = c.bytes_edited(|m| m.entries[2].reserved = [0xFF; 3]);
    assert_invalid_field(&bytes, "reserved");
}

#[test]
fn array_reserved_nonzero() {
    let c = baseline();
    for (row, byte) in [(0, 0), (1, 1), (3, 2)] {
        let bytes = c.bytes_edited(|m| m.arrays[row].reserved[byte] = 0x80);
        assert_invalid_field(&bytes, "reserved");
    }
}

#[test]
fn section_reserved_nonzero() {
    let c = baseline();
    for byte in 0..6 {
        for section in [0, 1] {
            let bytes = c.bytes_edited(|m| m.sections[section].reserved[byte] = 0x01);
            assert_invalid_field(&bytes, "reserved");
        }
    }
    // Through the crafted section too.
    let mut c = baseline();
    c.sections[3].reserved = [0xFF; 6];
    assert_invalid_field(&c.bytes(), "reserved");
}

#[test]
fn entry_index_not_running_count() {
    let c = baseline();
    for (entry, index) in [(0, 1), (1, 0), (1, 2), (3, 2), (3, 4), (2, u32::MAX)] {
        let bytes = c.bytes_edited(|m| m.entries[entry].index = index);
        assert_invalid_field(&bytes, "index");
    }
    // Array rows listed in another order than the entries (each index in range, each row named
    // once).
    let bytes = c.bytes_edited(|m| {
        m.entries[0].index = 1;
        m.entries[1].index = 0;
        m.arrays.swap(0, 1);
    });
    assert_invalid_field(&bytes, "index");
}

#[test]
fn array_rows_more_than_array_entries() {
    let c = baseline();
    let bytes = c.bytes_edited(|m| {
        let extra = m.arrays[3].clone();
        m.arrays.push(extra);
    });
    assert_invalid_field(&bytes, "arrays");
    // Rows and no entries.
    let bytes = Craft::new().bytes_edited(|m| {
        m.arrays.push(ArrayMeta {
            section: 0,
            dims_end: 0,
            dtype: Dtype::U8.code(),
            reserved: [0; 3],
        })
    });
    assert_invalid_field(&bytes, "arrays");
}

#[test]
fn array_rows_fewer_than_array_entries() {
    let c = baseline();
    let bytes = c.bytes_edited(|m| {
        m.arrays.pop();
    });
    assert_invalid_field(&bytes, "arrays");
    assert_invalid_field(&c.bytes_edited(|m| m.arrays.clear()), "arrays");
}

#[test]
fn dims_end_decreasing() {
    // dims_end is [2, 3, 4, 4] over dims [2, 3, 100, 13].
    let c = baseline();
    for (row, end) in [(1, 1), (2, 2), (3, 3), (1, 0)] {
        assert_invalid_field(
            &c.bytes_edited(|m| m.arrays[row].dims_end = end),
            "dims_end",
        );
    }
}

#[test]
fn dims_end_past_dims() {
    let c = baseline();
    for (row, end) in [(3, 5), (3, u32::MAX), (0, 5)] {
        assert_invalid_field(
            &c.bytes_edited(|m| m.arrays[row].dims_end = end),
            "dims_end",
        );
    }
}

#[test]
fn dims_not_fully_referenced() {
    let c = baseline();
    assert_invalid_field(&c.bytes_edited(|m| m.dims.push(1)), "dims_end");
    // Dimensions and no arrays.
    assert_invalid_field(&Craft::new().bytes_edited(|m| m.dims.push(1)), "dims_end");
}

#[test]
fn chunks_end_decreasing() {
    // chunks_end is [0, 7, 7, 7] over 7 chunks.
    let c = baseline();
    for (section, end) in [(2, 6), (3, 0), (2, 3)] {
        let bytes = c.bytes_edited(|m| m.sections[section].chunks_end = end);
        assert_invalid_field(&bytes, "chunks_end");
    }
}

#[test]
fn chunks_end_past_chunks() {
    let c = baseline();
    for (section, end) in [(3, 8), (1, 8), (0, u32::MAX)] {
        let bytes = c.bytes_edited(|m| m.sections[section].chunks_end = end);
        assert_invalid_field(&bytes, "chunks_end");
    }
}

#[test]
fn chunks_not_fully_referenced() {
    let c = baseline();
    let bytes = c.bytes_edited(|m| {
        let extra = m.chunks[6].clone();
        m.chunks.push(extra);
    });
    assert_invalid_field(&bytes, "chunks_end");
    // Chunks and no sections.
    let bytes = Craft::new().bytes_edited(|m| {
        m.chunks.push(Chunk {
            offset: 0,
            length: 0,
            checksum: 0,
        })
    });
    assert_invalid_field(&bytes, "chunks_end");
}

#[test]
fn chunks_run_moved_to_another_section() {
    // Every end in range and the last one equal to the count, but the raw section 0 is given
    // the compressed section's first chunk.
    let bytes = baseline().bytes_edited(|m| m.sections[0].chunks_end = 1);
    assert_invalid_field(&bytes, "codec");
}

// ---------------------------------------------------------------------------------------------
// Compressed data (tier 2: first access, and verify)
// ---------------------------------------------------------------------------------------------

fn zstd_frame(raw: &[u8]) -> Vec<u8> {
    zstd::bulk::compress(raw, 3).unwrap()
}

#[test]
fn zstd_frame_decodes_to_wrong_size() {
    // 64 i32 in two chunks of 128 bytes; chunk 1's frame decodes to fewer or more bytes. Every
    // checksum matches what is stored, so only decompression can find it.
    let raw: Vec<u8> = (0..256u32).map(|i| (i * 7) as u8).collect();
    for wrong_len in [0usize, 1, 127, 129, 256] {
        let wrong: Vec<u8> = (0..wrong_len).map(|i| i as u8).collect();
        let frames = vec![
            (zstd_frame(&raw[..128]), xxh3(&raw[..128])),
            (zstd_frame(&wrong), xxh3(&wrong)),
        ];
        let mut c = Craft::new();
        let s = c.zstd_section_from_frames(256, 128, 0, frames);
        c.entry("x", Dtype::I32, &[64], s);
        let bytes = c.bytes();
        let r = open(&bytes).unwrap();
        // Chunk 0 is fine and can be read alone.
        let e = r.array_entry("x").unwrap();
        assert_eq!(
            e.get::<i32>(0).unwrap(),
            i32::from_le_bytes(raw[..4].try_into().unwrap())
        );
        assert_err!(e.get::<i32>(40), Error::Decompress { chunk: 1, .. });
        assert_err!(r.array::<i32>("x"), Error::Decompress { chunk: 1, .. });
        assert_err!(r.verify(), Error::Decompress { chunk: 1, .. });
        assert_err!(
            open_with(Reader::options().verify(true), &bytes),
            Error::Decompress { chunk: 1, .. }
        );
    }
}

#[test]
fn zstd_frame_is_garbage() {
    let raw = [0u8; 64];
    let frames: [Vec<u8>; 4] = [
        Vec::new(),
        vec![0xFF; 20],
        zstd_frame(&raw)[..5].to_vec(),
        // A skippable frame: valid zstd, decodes to nothing.
        [
            &0x184D_2A50u32.to_le_bytes()[..],
            &4u32.to_le_bytes(),
            &[0; 4],
        ]
        .concat(),
    ];
    for frame in frames {
        let mut c = Craft::new();
        let s = c.zstd_section_from_frames(64, 64, 0, vec![(frame, xxh3(&raw))]);
        c.entry("x", Dtype::U8, &[64], s);
        let r = open(&c.bytes()).unwrap();
        assert_err!(r.array::<u8>("x"), Error::Decompress { chunk: 0, .. });
        assert_err!(r.verify(), Error::Decompress { chunk: 0, .. });
    }
}

#[test]
fn chunk_checksum_mismatch() {
    let mut c = baseline();
    c.sections[1].chunks[3].checksum ^= 1;
    let bytes = c.bytes();
    let r = open(&bytes).unwrap();
    // Chunks other than 3 read fine.
    let e = r.array_entry("b").unwrap();
    assert_eq!(e.range::<i64>(0..48).unwrap(), &i64s()[..48]);
    assert_err!(e.get::<i64>(48), Error::ChecksumMismatch { .. });
    assert_err!(r.array::<i64>("b"), Error::ChecksumMismatch { .. });
    // The failed chunk is not cached as good: the error repeats.
    assert_err!(e.range::<i64>(40..60), Error::ChecksumMismatch { .. });
    assert_err!(r.verify(), Error::ChecksumMismatch { .. });
    assert_err!(
        open_with(Reader::options().verify(true), &bytes),
        Error::ChecksumMismatch { .. }
    );
}

#[test]
fn section_checksum_mismatch_found_by_verify() {
    // Stored bytes of a raw section changed: tier 1 does not read data pages, so open succeeds
    // and the reader sees the new bytes; verify finds it.
    let mut c = baseline();
    let offset = c.sections[0].offset as usize;
    let mut bytes = c.bytes();
    bytes[offset] ^= 0x40;
    let r = open(&bytes).unwrap();
    assert_ne!(r.array::<f32>("a").unwrap().as_slice(), &f32s()[..]);
    assert_err!(
        r.verify(),
        Error::ChecksumMismatch { expected, got, .. } if expected == xxh3(bytemuck::cast_slice(&f32s())) && got != expected
    );
    assert_err!(
        open_with(Reader::options().verify(true), &bytes),
        Error::ChecksumMismatch { .. }
    );

    // The stored checksum of a compressed section is wrong: reading works (chunks have their
    // own checksums), verify does not.
    c.sections[1].checksum ^= 1 << 63;
    let bytes = c.bytes();
    let r = open(&bytes).unwrap();
    read_baseline(&r).unwrap();
    assert_err!(r.verify(), Error::ChecksumMismatch { .. });
}

#[test]
fn nonzero_padding_found_by_verify() {
    let good = baseline().bytes();
    let c = baseline();
    // Between the header and section 0? Section 0 starts right at 128; use the gap after it,
    // and the gap before the manifest.
    let s0 = &c.sections[0];
    let after_s0 = (s0.offset + s0.length) as usize;
    let manifest_offset = u64_at(&good, at::MANIFEST_OFFSET) as usize;
    let last = c.sections.last().unwrap();
    let after_last = (last.offset + last.length) as usize;
    assert!(after_s0 < c.sections[1].offset as usize);
    assert!(after_last < manifest_offset);
    for at in [after_s0, after_last, manifest_offset - 1] {
        let mut bytes = good.clone();
        bytes[at] = 1;
        let r = open(&bytes).unwrap();
        read_baseline(&r).unwrap();
        assert_err!(
            r.verify(),
            Error::InvalidField {
                field: "padding",
                ..
            }
        );
    }
}

#[test]
fn padding_before_the_first_section_found_by_verify() {
    let mut c = Craft::new();
    c.place_at(128, vec![1]); // a stray byte, owned by no section
    c.raw_array("a", &[1u8; 4], &[4]);
    let r = open(&c.bytes()).unwrap();
    assert_eq!(r.array_entry("a").unwrap().offset(), 192);
    assert_err!(
        r.verify(),
        Error::InvalidField {
            field: "padding",
            ..
        }
    );
}

// ---------------------------------------------------------------------------------------------
// Looking entries up and reading them
// ---------------------------------------------------------------------------------------------

#[test]
fn not_found() {
    let r = open(&baseline().bytes()).unwrap();
    for name in ["", "A", "aa", "e", "\u{10FFFF}"] {
        assert!(r.get(name).is_none());
        assert_err!(r.entry(name), Error::NotFound { ref entry, .. } if entry == name);
        assert_err!(r.array_entry(name), Error::NotFound { ref entry, .. } if entry == name);
        assert_err!(r.array::<f32>(name), Error::NotFound { .. });
    }
}

#[test]
fn wrong_kind() {
    // Every entry of the baseline is an array; asked for as a frame, each is refused. (Frames
    // asked for as arrays: tests/frame_adversarial.rs.)
    let r = open(&baseline().bytes()).unwrap();
    for e in r.entries() {
        assert_eq!(e.kind(), brine::Kind::Array);
        e.array().unwrap();
        assert_err!(
            e.frame(),
            Error::WrongKind { ref entry, expected: Kind::Frame, found: Kind::Array, .. }
                if entry == e.name()
        );
        assert_err!(r.frame(e.name()), Error::WrongKind { .. });
    }
}

#[test]
fn wrong_dtype() {
    let r = open(&baseline().bytes()).unwrap();
    assert_err!(
        r.array::<f64>("a"),
        Error::WrongDtype { expected: Dtype::F64, found: Dtype::F32, ref entry, .. } if entry == "a"
    );
    assert_err!(r.array::<u32>("a"), Error::WrongDtype { .. });
    assert_err!(
        r.array::<u8>("c"),
        Error::WrongDtype {
            expected: Dtype::U8,
            found: Dtype::Bool,
            ..
        }
    );
    assert_err!(r.array::<bool>("d"), Error::WrongDtype { .. });
    let b = r.array_entry("b").unwrap();
    assert_err!(
        b.view::<u64>(),
        Error::WrongDtype {
            expected: Dtype::U64,
            found: Dtype::I64,
            ..
        }
    );
    assert_err!(b.range::<f64>(0..1), Error::WrongDtype { .. });
    assert_err!(b.get::<i32>(0), Error::WrongDtype { .. });
    // A wrong dtype is refused before any decompression.
    let zc = open_with(
        Reader::options().require_zero_copy(true),
        &baseline().bytes(),
    )
    .unwrap();
    assert_err!(zc.array::<u64>("b"), Error::WrongDtype { .. });
}

#[test]
fn invalid_bool_byte() {
    for bad in [2u8, 0x80, 0xFF] {
        // Raw.
        let mut c = Craft::new();
        let mut data = vec![0u8, 1, 1, 0, 1];
        data[3] = bad;
        let s = c.raw_section(data.clone());
        c.entry("raw", Dtype::Bool, &[5], s);
        // Compressed, the bad byte in the second chunk.
        let s = c.zstd_section(&data, 2, 0);
        c.entry("z", Dtype::Bool, &[5], s);
        let bytes = c.bytes();
        // Tier 1 and verify do not look at values.
        let r = open_with(Reader::options().verify(true), &bytes).unwrap();
        for name in ["raw", "z"] {
            // A failed check is not cached as a success: every view fails.
            for _ in 0..2 {
                assert_err!(
                    r.array::<bool>(name),
                    Error::InvalidData { ref entry, .. } if entry == name
                );
            }
            let e = r.array_entry(name).unwrap();
            assert_err!(e.get::<bool>(3), Error::InvalidData { .. });
            assert_err!(e.range::<bool>(2..5), Error::InvalidData { .. });
            // Elements away from the bad byte read fine.
            assert_eq!(e.range::<bool>(0..3).unwrap(), &[false, true, true]);
            assert!(e.get::<bool>(4).unwrap());
        }
    }
}

#[test]
fn require_zero_copy_refuses_compressed() {
    let bytes = baseline().bytes();
    let r = open_with(Reader::options().require_zero_copy(true), &bytes).unwrap();
    assert_err!(
        r.array::<i64>("b"),
        Error::CopyRequired { ref entry, codec: Codec::Zstd { shuffle: true }, .. } if entry == "b"
    );
    let b = r.array_entry("b").unwrap();
    assert_err!(b.get::<i64>(0), Error::CopyRequired { .. });
    assert_err!(b.range::<i64>(0..0), Error::CopyRequired { .. });
    // Raw entries are views of the buffer.
    let a = r.array::<f32>("a").unwrap();
    assert_eq!(a.as_slice(), &f32s()[..]);
    // verify still checks compressed sections (it keeps nothing).
    r.verify().unwrap();
}

#[test]
fn max_decompressed_bytes_limit() {
    // Two compressed entries of 4096 bytes each.
    let mut c = Craft::new();
    let x: Vec<u32> = (0..1024).collect();
    c.zstd_array("x", &x, &[1024], 1024, true);
    c.zstd_array("y", &x, &[32, 32], 4096, false);
    let bytes = c.bytes();

    let r = open_with(Reader::options().max_decompressed_bytes(4095), &bytes).unwrap();
    assert_err!(
        r.array::<u32>("x"),
        Error::LimitExceeded {
            value: 4096,
            limit: 4095,
            ..
        }
    );
    // Even one element needs the section's buffer.
    assert_err!(
        r.array_entry("y").unwrap().get::<u32>(0),
        Error::LimitExceeded { .. }
    );

    // The limit is a total over the reader: the first entry fits, the second does not.
    let r = open_with(Reader::options().max_decompressed_bytes(6000), &bytes).unwrap();
    assert_eq!(r.array::<u32>("x").unwrap().as_slice(), &x[..]);
    assert_eq!(r.array::<u32>("x").unwrap().as_slice(), &x[..]); // cached, not counted twice
    assert_err!(r.array::<u32>("y"), Error::LimitExceeded { .. });
    // A refused entry takes nothing from the budget: x is still readable.
    assert_eq!(r.array_entry("x").unwrap().get::<u32>(1000).unwrap(), 1000);

    let r = open_with(Reader::options().max_decompressed_bytes(8192), &bytes).unwrap();
    assert_eq!(r.array::<u32>("x").unwrap().as_slice(), &x[..]);
    assert_eq!(r.array::<u32>("y").unwrap().as_slice(), &x[..]);
    // verify does not count against the budget.
    let r = open_with(
        Reader::options().max_decompressed_bytes(0).verify(true),
        &bytes,
    )
    .unwrap();
    assert_err!(r.array::<u32>("x"), Error::LimitExceeded { limit: 0, .. });
}

#[test]
fn decompression_bomb_is_bounded_by_the_declared_size() {
    // A 1 MiB chunk of zeros compresses to a few bytes; declared honestly, it is read fine. A
    // frame that decodes to more than the index declares is refused, whatever the frame says.
    let zeros = vec![0u8; 1 << 20];
    let frame = zstd_frame(&zeros);
    assert!(frame.len() < 200);
    let mut c = Craft::new();
    let s = c.zstd_section_from_frames(4096, 4096, 0, vec![(frame, xxh3(&zeros[..4096]))]);
    c.entry("bomb", Dtype::U8, &[4096], s);
    let r = open(&c.bytes()).unwrap();
    assert_err!(r.array::<u8>("bomb"), Error::Decompress { .. });
    assert_err!(r.verify(), Error::Decompress { .. });
}

#[test]
fn range_out_of_bounds() {
    let r = open(&baseline().bytes()).unwrap();
    for name in ["a", "b", "c", "d"] {
        let e = r.array_entry(name).unwrap();
        let len = e.len();
        macro_rules! check {
            ($t:ty) => {{
                assert_err!(
                    e.range::<$t>(0..len + 1),
                    Error::RangeOutOfBounds { start: 0, end, len: l, .. } if end == len + 1 && l == len
                );
                assert_err!(e.range::<$t>(len + 1..len + 1), Error::RangeOutOfBounds { .. });
                #[allow(clippy::reversed_empty_ranges)]
                let backwards = 2..1;
                assert_err!(e.range::<$t>(backwards), Error::RangeOutOfBounds { .. });
                assert_err!(e.range::<$t>(usize::MAX - 1..usize::MAX), Error::RangeOutOfBounds { .. });
                assert_err!(e.get::<$t>(len), Error::RangeOutOfBounds { .. });
                assert_err!(e.get::<$t>(usize::MAX), Error::RangeOutOfBounds { .. });
                // The edges are fine.
                assert!(e.range::<$t>(len..len).unwrap().is_empty());
                assert!(e.range::<$t>(0..0).unwrap().is_empty());
                e.get::<$t>(len - 1).unwrap();
            }};
        }
        match e.dtype() {
            Dtype::F32 => check!(f32),
            Dtype::I64 => check!(i64),
            Dtype::Bool => check!(bool),
            Dtype::U16 => check!(u16),
            d => unreachable!("{d}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Writer errors
// ---------------------------------------------------------------------------------------------

fn dir_is_empty(dir: &std::path::Path) -> bool {
    std::fs::read_dir(dir).unwrap().next().is_none()
}

#[test]
fn duplicate_entry_name_on_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.brine");
    let mut w = Writer::create(&path).unwrap();
    w.put_array("x", &[1u8], &[1]).unwrap();
    assert_err!(
        w.put_array("x", &[2u8], &[1]),
        Error::Duplicate { what: "entry name", ref name, .. } if name == "x"
    );
    assert_err!(
        w.array_writer::<f32>("x", &[1], &EntryOptions::new()),
        Error::Duplicate { .. }
    );
    // A different type does not make it a different entry.
    assert_err!(w.put_array("x", &[2.0f64], &[1]), Error::Duplicate { .. });
    // The refused writes did not break the writer.
    w.put_array("y", &[3u8], &[1]).unwrap();
    w.finish().unwrap();
    let r = Reader::open(&path).unwrap();
    assert_eq!(r.array::<u8>("x").unwrap().as_slice(), &[1]);
    assert_eq!(r.array::<u8>("y").unwrap().as_slice(), &[3]);
}

#[test]
fn shape_mismatch_on_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.brine");
    for codec in [Codec::Raw, Codec::zstd()] {
        let opts = EntryOptions::new().codec(codec);
        let mut w = Writer::create(&path).unwrap();
        assert_err!(
            w.put_array_with("x", &[1u32, 2, 3], &[2, 2], &opts),
            Error::InvalidInput { ref entry, .. } if entry == "x"
        );
        // The writer cannot be finished after a refused entry, and nothing is published.
        assert_err!(w.finish(), Error::InvalidInput { .. });
        assert!(dir_is_empty(dir.path()));

        let mut w = Writer::create(&path).unwrap();
        assert_err!(
            w.put_array_with::<u8>("x", &[], &[1], &opts),
            Error::InvalidInput { .. }
        );
        drop(w);
        assert!(dir_is_empty(dir.path()));

        // Streaming: too few elements is found at finish.
        let mut w = Writer::create(&path).unwrap();
        let mut a = w.array_writer::<u16>("s", &[3, 3], &opts).unwrap();
        a.write(&[1; 8]).unwrap();
        assert_err!(a.finish(), Error::InvalidInput { ref entry, .. } if entry == "s");
        assert_err!(w.put_array("t", &[1u8], &[1]), Error::InvalidInput { .. });
        assert_err!(w.finish(), Error::InvalidInput { .. });
        assert!(dir_is_empty(dir.path()));
    }
}

#[test]
fn too_many_elements_on_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.brine");
    for codec in [Codec::Raw, Codec::zstd_shuffled()] {
        let opts = EntryOptions::new().codec(codec);
        let mut w = Writer::create(&path).unwrap();
        assert_err!(
            w.put_array_with("x", &[1i64; 5], &[2, 2], &opts),
            Error::InvalidInput { ref entry, .. } if entry == "x"
        );
        drop(w);
        // A 0-d array holds exactly one element.
        let mut w = Writer::create(&path).unwrap();
        assert_err!(
            w.put_array_with::<u8>("y", &[1, 2], &[], &opts),
            Error::InvalidInput { .. }
        );
        drop(w);
        // A dimension of 0 holds none.
        let mut w = Writer::create(&path).unwrap();
        assert_err!(
            w.put_array_with("z", &[1.0f64], &[3, 0], &opts),
            Error::InvalidInput { .. }
        );
        drop(w);

        // Streaming: the piece that goes past the shape is refused.
        let mut w = Writer::create(&path).unwrap();
        let mut a = w.array_writer::<f32>("s", &[4], &opts).unwrap();
        a.write(&[1.0; 3]).unwrap();
        assert_err!(a.write(&[2.0; 2]), Error::InvalidInput { ref entry, .. } if entry == "s");
        drop(a);
        assert_err!(w.finish(), Error::InvalidInput { .. });
        assert!(dir_is_empty(dir.path()));
    }
}

#[test]
fn shape_overflow_on_write() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = Writer::create(dir.path().join("w.brine")).unwrap();
    let opts = EntryOptions::new();
    assert_err!(
        w.array_writer::<u8>("x", &[usize::MAX, 2], &opts),
        Error::InvalidInput { .. }
    );
    assert_err!(
        w.array_writer::<u64>("x", &[usize::MAX / 4], &opts),
        Error::InvalidInput { .. }
    );
    assert_err!(
        w.array_writer::<u8>("x", &vec![1; MAX_NDIM + 1], &opts),
        Error::InvalidInput { .. }
    );
    // Refused before anything was written: the writer is still usable.
    w.put_array::<u8>("x", &[], &[0, 3]).unwrap();
    w.finish().unwrap();
}

#[test]
fn bad_alignment_option() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.brine");
    for alignment in [
        0u32,
        1,
        2,
        32,
        63,
        65,
        100,
        3000,
        4 << 20,
        1 << 31,
        u32::MAX,
    ] {
        assert_err!(
            Writer::options().alignment(alignment).create(&path),
            Error::InvalidInput { .. }
        );
    }
    assert!(dir_is_empty(dir.path()));
    for alignment in [64, 2 << 20] {
        let mut w = Writer::options()
            .alignment(alignment)
            .create(&path)
            .unwrap();
        w.put_array("x", &[0u8; 5000], &[5000]).unwrap();
        w.finish().unwrap();
        let r = Reader::open(&path).unwrap();
        assert_eq!(r.alignment(), alignment);
        assert_eq!(
            r.array_entry("x").unwrap().offset() % u64::from(alignment),
            0
        );
    }
}

#[test]
fn dropped_array_writer_poisons_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.brine");
    std::fs::write(&path, b"previous contents").unwrap();
    let mut w = Writer::create(&path).unwrap();
    let mut a = w
        .array_writer::<i8>("x", &[2], &EntryOptions::new())
        .unwrap();
    a.write(&[1, 2]).unwrap();
    drop(a);
    assert_err!(w.put_array("y", &[1u8], &[1]), Error::InvalidInput { .. });
    assert_err!(w.finish(), Error::InvalidInput { .. });
    // The previous file is untouched and no temporary file is left.
    assert_eq!(std::fs::read(&path).unwrap(), b"previous contents");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn extreme_writer_options_do_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    let data: Vec<u32> = (0..1000).collect();
    let options = [
        EntryOptions::new()
            .codec(Codec::zstd())
            .zstd_level(i32::MIN),
        EntryOptions::new()
            .codec(Codec::zstd())
            .zstd_level(i32::MAX),
        EntryOptions::new()
            .codec(Codec::zstd())
            .zstd_level(-5)
            .chunk_len(0),
        EntryOptions::new()
            .codec(Codec::zstd_shuffled())
            .zstd_level(1)
            .chunk_len(1),
        EntryOptions::new()
            .codec(Codec::zstd_shuffled())
            .zstd_level(1)
            .chunk_len(7),
        EntryOptions::new()
            .codec(Codec::zstd())
            .zstd_level(1)
            .chunk_len(usize::MAX),
    ];
    for (i, o) in options.iter().enumerate() {
        let path = dir.path().join(format!("x{i}.brine"));
        // Alignment 64: tiny chunks make the stored section longer than a page while the raw
        // data is not (see `compressed_section_stored_longer_than_a_page_opens`).
        let mut w = Writer::options().alignment(64).create(&path).unwrap();
        // An error is acceptable for an absurd level; a panic is not.
        if w.put_array_with("x", &data, &[1000], o).is_err() {
            assert!(i < 2, "options {i} refused");
            continue;
        }
        w.finish().unwrap();
        let r = Reader::options().verify(true).open(&path).unwrap();
        assert_eq!(
            r.array::<u32>("x").unwrap().as_slice(),
            &data[..],
            "options {i}"
        );
    }
}

#[test]
fn compressed_section_stored_longer_than_a_page_opens() {
    // 4000 raw bytes (under a page) in 4-byte chunks: about 1000 zstd frames, stored in more
    // than a page. The alignment rule follows the raw length, so the section may sit on the
    // 64-byte grid.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.brine");
    let data: Vec<u32> = (0..1000).collect();
    let mut w = Writer::create(&path).unwrap();
    let o = EntryOptions::new()
        .codec(Codec::zstd())
        .zstd_level(1)
        .chunk_len(4);
    w.put_array_with("x", &data, &[1000], &o).unwrap();
    w.finish().unwrap();
    let r = Reader::options().verify(true).open(&path).unwrap();
    assert!(r.array_entry("x").unwrap().stored_len() >= PAGE);
    assert_eq!(r.array::<u32>("x").unwrap().as_slice(), &data[..]);

    // And the other way round: raw data of a page or more that compresses to less than a page
    // is placed on the unit by the writer; the reader must accept it (it does: the unit is a
    // multiple of 64).
    let zeros = vec![0u32; 4096];
    let mut w = Writer::create(&path).unwrap();
    w.put_array_with(
        "z",
        &zeros,
        &[4096],
        &EntryOptions::new().codec(Codec::zstd()).zstd_level(1),
    )
    .unwrap();
    w.finish().unwrap();
    let r = Reader::options().verify(true).open(&path).unwrap();
    assert_eq!(r.array::<u32>("z").unwrap().as_slice(), &zeros[..]);
}

#[test]
fn chunk_that_is_not_exactly_one_frame_is_refused() {
    // Each stored chunk decodes to the right 64 bytes with the right checksum, but is two
    // frames, a skippable frame and a frame, or a frame with trailing bytes.
    let raw: Vec<u8> = (0..64).collect();
    let skippable = [
        &0x184D_2A50u32.to_le_bytes()[..],
        &4u32.to_le_bytes(),
        &[0; 4],
    ]
    .concat();
    let chunks: [Vec<u8>; 3] = [
        [zstd_frame(&raw[..32]), zstd_frame(&raw[32..])].concat(),
        [skippable, zstd_frame(&raw)].concat(),
        [zstd_frame(&raw), vec![0; 3]].concat(),
    ];
    for (i, chunk) in chunks.into_iter().enumerate() {
        let mut c = Craft::new();
        let s = c.zstd_section_from_frames(64, 64, 0, vec![(chunk, xxh3(&raw))]);
        c.entry("x", Dtype::U8, &[64], s);
        let r = open(&c.bytes()).unwrap();
        match r.array::<u8>("x") {
            Err(Error::Decompress { chunk: 0, .. }) => {}
            other => panic!("case {i}: expected Decompress, got {other:?}"),
        }
    }
}

#[test]
fn unknown_entry_kind_is_unsupported_feature() {
    // Kinds 0 (array), 1 (frame) and 2 (model) are known.
    for kind in [3u8, 4, 200, 255] {
        for minor in [0, FORMAT_VERSION.minor, FORMAT_VERSION.minor + 1] {
            let version = Version {
                major: FORMAT_VERSION.major,
                minor,
            };
            let unsupported = |bytes: &[u8]| {
                assert_err!(
                    open(bytes),
                    Error::UnsupportedFeature { value, found, supported, .. }
                        if value == u64::from(kind) && found == version && supported == FORMAT_VERSION
                );
            };
            // The kind byte of an entry of the crafted file.
            let mut c = baseline();
            c.version = version;
            for entry in [0, 2, 3] {
                unsupported(&c.bytes_edited(|m| m.entries[entry].kind = kind));
            }
            // An entry of that kind with no array row, as a writer of that kind would lay it
            // out (row 0 of its own kind's table).
            unsupported(&c.bytes_edited(|m| {
                m.names.push('e');
                m.entries.push(Entry {
                    name_end: m.names.len() as u32,
                    metadata_end: m.entry_metadata.len() as u32,
                    index: 0,
                    kind,
                    reserved: [0; 3],
                });
            }));
            // The byte poked into a written file (of version 1.0: its root is 1.0's): the kind
            // is byte 12 of the 16-byte row.
            if minor != 0 {
                continue;
            }
            let mut bytes = written(|w| {
                w.put_array("a", &[1u8, 2], &[2])?;
                w.put_array("b", &[3u16], &[1])
            });
            let (entries, count) = table(&bytes, root::ENTRIES);
            assert_eq!(count, 2);
            for row in 0..2 {
                assert_eq!(bytes[entries + 16 * row + 12], KIND_ARRAY);
            }
            bytes[entries + 16 + 12] = kind;
            set_u16(&mut bytes, at::MINOR, minor);
            reseal_manifest(&mut bytes);
            unsupported(&bytes);
        }
    }
}

/// The manifest as a newer minor version might lay it out: this version's tables, then one
/// more.
#[derive(rkyv::Archive, rkyv::Serialize)]
struct GrownManifest {
    base: Manifest,
    column_extras: Vec<ColumnExtra>,
    column_metadata: Vec<MetaItem>,
    /// The table a newer minor version appends.
    added: Vec<u64>,
}

fn grown_manifests() -> Vec<Vec<u8>> {
    let m = baseline_with_entry_metadata().manifest();
    [vec![], vec![7u64; 3]]
        .into_iter()
        .map(|added| {
            let grown = GrownManifest {
                column_extras: vec![ColumnExtra::default(); m.columns.len()],
                column_metadata: Vec::new(),
                base: m.clone(),
                added,
            };
            rkyv::to_bytes::<rancor::Error>(&grown).unwrap().to_vec()
        })
        .collect()
}

#[test]
fn newer_minor_root_with_more_tables_is_read() {
    assert_eq!((ROOT_LEN, ROOT_LEN_1_1), (104, 120));
    for archive in grown_manifests() {
        let mut c = baseline_with_entry_metadata();
        c.version.minor = FORMAT_VERSION.minor + 1;
        c.root_length = Some(ROOT_LEN_1_1 + 8);
        let r = open(&c.bytes_with_archive(&archive)).unwrap();
        read_baseline(&r).unwrap();
        r.verify().unwrap();
        // The same bytes claiming this version: its root is exactly ROOT_LEN_1_1 bytes.
        c.version = FORMAT_VERSION;
        assert_err!(
            open(&c.bytes_with_archive(&archive)),
            Error::InvalidHeader {
                field: "root_length",
                value,
                ..
            } if value == u64::from(ROOT_LEN_1_1 + 8)
        );
        // Read with this version's root size, the last ROOT_LEN_1_1 bytes are not a valid root.
        c.root_length = Some(ROOT_LEN_1_1);
        assert_err!(
            open(&c.bytes_with_archive(&archive)),
            Error::InvalidManifest { .. }
        );
    }
}

#[test]
fn root_length_out_of_range() {
    let archive = rkyv::to_bytes::<rancor::Error>(&baseline().manifest())
        .unwrap()
        .to_vec();
    for (minor, root_length) in [
        (FORMAT_VERSION.minor, 0),
        (FORMAT_VERSION.minor, 64),
        (FORMAT_VERSION.minor, ROOT_LEN - 4),
        (FORMAT_VERSION.minor, ROOT_LEN + 4),
        (0, ROOT_LEN_1_1),
        (FORMAT_VERSION.minor, ROOT_LEN_1_1 + 4),
        (FORMAT_VERSION.minor + 1, ROOT_LEN),
        (FORMAT_VERSION.minor + 1, ROOT_LEN - 4),
        (FORMAT_VERSION.minor + 1, ROOT_LEN + 2),
        (FORMAT_VERSION.minor + 1, archive.len() as u32 + 4),
        (FORMAT_VERSION.minor + 1, u32::MAX),
    ] {
        let mut c = baseline();
        c.version.minor = minor;
        c.root_length = Some(root_length);
        assert_err!(
            open(&c.bytes_with_archive(&archive)),
            Error::InvalidHeader {
                field: "root_length",
                ..
            }
        );
    }
}

#[test]
fn newer_minor_manifest_that_fails_validation_is_unsupported_feature() {
    for archive in [vec![0xA5; 256], vec![0; ROOT_LEN_1_1 as usize]] {
        let mut c = baseline_with_entry_metadata();
        assert_err!(
            open(&c.bytes_with_archive(&archive)),
            Error::InvalidManifest { .. }
        );
        c.version.minor = FORMAT_VERSION.minor + 1;
        assert_err!(
            open(&c.bytes_with_archive(&archive)),
            Error::UnsupportedFeature { found, supported, .. }
                if found.minor == FORMAT_VERSION.minor + 1 && supported == FORMAT_VERSION
        );
    }
}

#[test]
fn manifest_too_large_on_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.brine");
    let mut w = Writer::create(&path).unwrap();
    w.set_metadata("blob", vec![0u8; 257 << 20]);
    assert_err!(w.finish(), Error::InvalidInput { .. });
    assert!(!path.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
