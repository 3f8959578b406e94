//! Invalid test vectors: `spec/vectors/invalid/<rule>-<what>.brine`, each breaking one
//! validation rule of spec/FORMAT.md §14, and `<rule>-<what>.json`, what a reader must do with
//! it (see spec/vectors/README.md, "Invalid vectors").
//!
//! Every vector is derived deterministically from a committed valid vector of `spec/vectors/`
//! (whose bytes `tests/vectors.rs` pins to the writer) by changing a few bytes and fixing every
//! checksum the rule does not cover, so that it breaks its rule and no rule checked before it.
//! No zstd compression is run: frames that must change are written by hand (raw blocks), so
//! the vectors do not depend on the zstd library.
//!
//! The test
//! 1. regenerates every vector in memory and checks that it equals the committed `.brine` and
//!    `.json` (a changed vector is a changed format: it never rewrites them on its own; run
//!    `BRINE_BLESS_VECTORS=1 cargo test --test invalid_vectors` to accept a deliberate change);
//! 2. checks that brine's [`Reader`] rejects each committed file with the named error at the
//!    named tier, and accepts it at the earlier tiers (a tier-2 file opens and its other entries
//!    and columns read; a tier-3 file opens and, unless its JSON says otherwise, reads);
//! 3. checks that every rule of FORMAT.md §14 has a vector, with the tier of its table, and
//!    that `spec/vectors/invalid/` holds nothing else.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use brine::model::Schema;
use brine::raw::checksum::xxh3;
use brine::raw::manifest::{
    ArrayMeta, CODEC_RAW, Chunk, ColumnExtra, Manifest, MetaItem, MetaValue, NO_SECTION,
};
use brine::{AlignedBuf, Dtype, Error, Kind, Reader};
use serde_json::{Map, Value, json};

#[path = "common/crafted.rs"]
mod crafted;
use crafted::Crafted;

/// Set to `1` to (re)write the vectors from the current code.
const BLESS_VAR: &str = "BRINE_BLESS_VECTORS";

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("spec")
        .join("vectors")
}

fn invalid_dir() -> PathBuf {
    vectors_dir().join("invalid")
}

fn blessing() -> bool {
    std::env::var(BLESS_VAR).is_ok_and(|v| v == "1")
}

// ---------------------------------------------------------------------------------------------
// The model type of `model-small` (as tests/vectors.rs declares it), and another type of the
// same name for rule D8
// ---------------------------------------------------------------------------------------------

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

/// `Small` with one more field: what a program that changed the type would expect.
#[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema, Debug, Clone)]
#[schema(name = "Small")]
struct SmallV2 {
    weights: Vec<f32>,
    label: String,
    activation: Activation,
    bias: f32,
}

// ---------------------------------------------------------------------------------------------
// Declared vectors
// ---------------------------------------------------------------------------------------------

/// How a vector is made from its base's bytes.
type Build = Box<dyn Fn(&[u8]) -> Vec<u8>>;

/// One invalid vector: what it breaks, what a reader must raise, and how it is made.
struct Case {
    /// The file stem: `<rule>-<what>`.
    name: &'static str,
    rule: &'static str,
    /// For M3: which of R1–R7 of FORMAT.md §5.9.
    clause: Option<&'static str>,
    /// The valid vector of `spec/vectors/` it is derived from.
    base: &'static str,
    description: &'static str,
    tier: u8,
    error: &'static str,
    field: Option<&'static str>,
    what: Option<&'static str>,
    location: Option<&'static str>,
    entry: Option<&'static str>,
    column: Option<&'static str>,
    model_type: Option<&'static str>,
    /// Reader limits under which the error is expected (rule M1).
    max_manifest_length: Option<u64>,
    /// Tier 3: whether every entry reads without error before `verify`.
    readable: bool,
    /// D8: what a reader without a type of its own (which asks for the type of the stored
    /// schema text, FORMAT.md rule D8) must raise; `None` inside: it reads the model.
    without_type: Option<Option<&'static str>>,
    build: Build,
}

impl Case {
    fn new(
        name: &'static str,
        base: &'static str,
        tier: u8,
        error: &'static str,
        description: &'static str,
        build: impl Fn(&[u8]) -> Vec<u8> + 'static,
    ) -> Case {
        let rule = name.split('-').next().expect("a rule id");
        Case {
            name,
            rule,
            clause: None,
            base,
            description,
            tier,
            error,
            field: None,
            what: None,
            location: None,
            entry: None,
            column: None,
            model_type: None,
            max_manifest_length: None,
            readable: true,
            without_type: None,
            build: Box::new(build),
        }
    }

    fn field(mut self, field: &'static str) -> Case {
        self.field = Some(field);
        self
    }

    fn what(mut self, what: &'static str) -> Case {
        self.what = Some(what);
        self
    }

    fn location(mut self, location: &'static str) -> Case {
        self.location = Some(location);
        self
    }

    fn clause(mut self, clause: &'static str) -> Case {
        self.clause = Some(clause);
        self
    }

    fn entry(mut self, entry: &'static str) -> Case {
        self.entry = Some(entry);
        self
    }

    fn column(mut self, column: &'static str) -> Case {
        self.column = Some(column);
        self
    }

    fn model(mut self, entry: &'static str) -> Case {
        self.entry = Some(entry);
        self.model_type = Some("Small");
        self
    }

    fn without_type(mut self, error: Option<&'static str>) -> Case {
        self.without_type = Some(error);
        self
    }

    fn unreadable(mut self) -> Case {
        self.readable = false;
        self
    }

    fn json(&self, bytes: &[u8]) -> Value {
        let mut o = Map::new();
        o.insert("vector".into(), json!(self.name));
        o.insert("rule".into(), json!(self.rule));
        if let Some(c) = self.clause {
            o.insert("clause".into(), json!(c));
        }
        o.insert("derived_from".into(), json!(self.base));
        o.insert("description".into(), json!(self.description));
        o.insert("tier".into(), json!(self.tier));
        o.insert("error".into(), json!(self.error));
        for (key, value) in [
            ("field", self.field),
            ("what", self.what),
            ("location", self.location),
            ("entry", self.entry),
            ("column", self.column),
        ] {
            if let Some(v) = value {
                o.insert(key.into(), json!(v));
            }
        }
        if let Some(t) = self.model_type {
            o.insert("model_type".into(), json!(t));
            o.insert(
                "expected_schema".into(),
                json!(brine::model::schema_text::<Small>()),
            );
            o.insert(
                "expected_fingerprint".into(),
                json!(format!("{:#018x}", <Small as Schema>::FINGERPRINT)),
            );
        }
        if let Some(e) = self.without_type {
            o.insert("error_without_type".into(), json!(e));
        }
        if let Some(n) = self.max_manifest_length {
            o.insert("reader_options".into(), json!({ "max_manifest_length": n }));
        }
        if self.tier == 3 {
            o.insert("readable".into(), json!(self.readable));
        }
        o.insert("file_length".into(), json!(bytes.len()));
        o.insert("file_xxh3".into(), json!(format!("{:#018x}", xxh3(bytes))));
        Value::Object(o)
    }
}

// ---------------------------------------------------------------------------------------------
// Editing files
// ---------------------------------------------------------------------------------------------

fn put_u16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}
fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}
fn put_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}
fn get_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}
fn get_u64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// Stores the xxh3 of header bytes `0..120` at 120 (rule H4).
fn seal_header(b: &mut [u8]) {
    let sum = xxh3(&b[..120]);
    put_u64(b, 120, sum);
}

/// The file with its header edited by `f` and the header checksum recomputed.
fn header_edit(base: &[u8], f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut b = base.to_vec();
    f(&mut b);
    seal_header(&mut b);
    b
}

/// The file with its manifest bytes edited by `f` (given the manifest and the root's position
/// in it), and the manifest and header checksums recomputed.
fn manifest_edit(base: &[u8], f: impl FnOnce(&mut [u8], usize)) -> Vec<u8> {
    let mut b = base.to_vec();
    let offset = get_u64(&b, 32) as usize;
    let root = b.len() - offset - get_u32(&b, 28) as usize;
    f(&mut b[offset..], root);
    let sum = xxh3(&b[offset..]);
    put_u64(&mut b, 48, sum);
    seal_header(&mut b);
    b
}

/// The file taken apart, edited by `f` (tables, section bytes) and put together again with
/// every checksum the edit did not set by hand recomputed (header, manifest).
fn craft(base: &[u8], f: impl FnOnce(&mut Crafted)) -> Vec<u8> {
    let mut c = Crafted::from_written(base);
    f(&mut c);
    c.bytes()
}

/// As [`craft`], with `f` editing the tables after the sections are laid out (so that it can
/// set section offsets).
fn craft_laid(base: &[u8], f: impl FnOnce(&mut Manifest)) -> Vec<u8> {
    Crafted::from_written(base).bytes_edited(f)
}

/// Changes the stored bytes of raw section `s` and recomputes its checksum (rule V2 holds).
fn poke(c: &mut Crafted, s: usize, f: impl FnOnce(&mut Vec<u8>)) {
    assert_eq!(c.m.sections[s].codec, CODEC_RAW, "poke edits raw sections");
    c.patch(s, f);
}

/// Removes section `s` (and its chunks) and renumbers every reference to later sections.
fn remove_section(c: &mut Crafted, s: usize) {
    let chunks = c.chunk_range(s);
    let n = chunks.len() as u32;
    c.m.chunks.drain(chunks);
    for later in &mut c.m.sections[s + 1..] {
        later.chunks_end -= n;
    }
    c.m.sections.remove(s);
    c.stored.remove(s);
    let s = s as u32;
    let renumber = |r: &mut u32| {
        assert_ne!(*r, s, "section {s} is still referenced");
        if *r != NO_SECTION && *r > s {
            *r -= 1;
        }
    };
    c.m.arrays.iter_mut().for_each(|a| renumber(&mut a.section));
    c.m.models.iter_mut().for_each(|m| renumber(&mut m.section));
    for col in &mut c.m.columns {
        for slot in [
            &mut col.validity,
            &mut col.values,
            &mut col.offsets,
            &mut col.dictionary_offsets,
            &mut col.dictionary_values,
        ] {
            renumber(slot);
        }
    }
}

/// The zstd frames of the chunks of section `s`.
fn frames(c: &Crafted, s: usize) -> Vec<Vec<u8>> {
    c.m.chunks[c.chunk_range(s)]
        .iter()
        .map(|k| c.stored[s][k.offset as usize..(k.offset + k.length) as usize].to_vec())
        .collect()
}

/// Replaces the stored frame of chunk `k` of section `s` with `frame`, moving the later chunks
/// and recomputing the section's length and checksum (C3 and V2 hold); the chunk's checksum of
/// its decoded bytes is kept.
fn set_frame(c: &mut Crafted, s: usize, k: usize, frame: Vec<u8>) {
    let mut all = frames(c, s);
    all[k] = frame;
    let range = c.chunk_range(s);
    let mut stored = Vec::new();
    for (chunk, f) in c.m.chunks[range].iter_mut().zip(&all) {
        chunk.offset = stored.len() as u64;
        chunk.length = f.len() as u64;
        stored.extend_from_slice(f);
    }
    c.m.sections[s].length = stored.len() as u64;
    c.m.sections[s].checksum = xxh3(&stored);
    c.stored[s] = stored;
}

/// A zstd frame (RFC 8878) holding `content` in one raw (stored) block, with its content size
/// and no checksum: written by hand so that the vectors do not depend on a zstd library.
fn raw_frame(content: &[u8]) -> Vec<u8> {
    let n = content.len();
    assert!(n < 256, "a one-byte frame content size");
    // Magic; frame header descriptor: single segment, no checksum, no dictionary, a one-byte
    // content size; then the block header: last block, raw, `n` bytes.
    let mut f = vec![0x28, 0xb5, 0x2f, 0xfd, 0x20, n as u8];
    f.extend_from_slice(&(1 | ((n as u32) << 3)).to_le_bytes()[..3]);
    f.extend_from_slice(content);
    f
}

/// The decoded bytes of chunk `k` of zstd section `s`.
fn chunk_content(c: &Crafted, s: usize, k: usize) -> Vec<u8> {
    let len = c.m.sections[s].chunk_length as usize;
    let raw = c.decoded(s);
    raw[k * len..((k + 1) * len).min(raw.len())].to_vec()
}

/// Position in the manifest of the `ArchivedVec` or `ArchivedString` at root offset `field`:
/// (target, length).
fn root_vec(m: &[u8], root: usize, field: usize) -> (usize, usize) {
    let at = root + field;
    let ptr = i32::from_le_bytes(m[at..at + 4].try_into().unwrap());
    (
        at.checked_add_signed(ptr as isize).unwrap(),
        get_u32(m, at + 4) as usize,
    )
}

/// The rows of column `name` (names are unique in the bases).
fn column(m: &Manifest, name: &str) -> usize {
    let mut start = 0;
    for (i, c) in m.columns.iter().enumerate() {
        if &m.column_text[start..c.name_end as usize] == name {
            return i;
        }
        start = c.zone_end as usize;
    }
    panic!("no column {name:?}")
}

/// The tables a 1.1 root appends, of a crafted 1.1 file.
fn ext(c: &mut Crafted) -> &mut (Vec<ColumnExtra>, Vec<MetaItem>) {
    c.ext.as_mut().expect("a 1.1 file")
}

/// The array row of entry `name`.
fn array(m: &Manifest, name: &str) -> usize {
    let mut start = 0;
    for e in &m.entries {
        if &m.names[start..e.name_end as usize] == name {
            return e.index as usize;
        }
        start = e.name_end as usize;
    }
    panic!("no entry {name:?}")
}

fn item(key: &str, value: MetaValue) -> MetaItem {
    MetaItem {
        key: key.into(),
        value,
    }
}

/// The byte offsets in the decoded offsets buffer of row boundary `i` (i64 offsets).
fn set_i64(b: &mut [u8], i: usize, v: i64) {
    b[8 * i..8 * i + 8].copy_from_slice(&v.to_le_bytes());
}

fn set_i32(b: &mut [u8], i: usize, v: i32) {
    b[4 * i..4 * i + 4].copy_from_slice(&v.to_le_bytes());
}

// ---------------------------------------------------------------------------------------------
// The vectors
// ---------------------------------------------------------------------------------------------

/// Section indices in the bases (spec/vectors/<base>.json, `sections`).
mod sections {
    /// `zstd-shuffle`: `walk` (f32, shuffle 4, chunks of 256 bytes), `bytes` (u8, no shuffle,
    /// chunks of 64: 64 + 36 bytes).
    pub const WALK: usize = 0;
    pub const BYTES: usize = 4;
    /// `frame-batched`: the validity bitmap of `score`.
    pub const SCORE_VALIDITY: usize = 1;
    /// `frame-no-nulls`: the buffers of `text` and `color`.
    pub const TEXT_VALUES: usize = 2;
    pub const TEXT_OFFSETS: usize = 3;
    pub const COLOR_CODES: usize = 9;
    pub const COLOR_DICT_OFFSETS: usize = 10;
    pub const COLOR_DICT_VALUES: usize = 11;
    /// `frame-empty`: the buffers of column `int` (values), `kind` (dictionary values).
    pub const INT_VALUES: usize = 1;
    pub const KIND_DICT_VALUES: usize = 7;
    /// `model-small`: the archives of `small` (raw, 56 bytes) and `identity` (zstd, one
    /// chunk of 24 bytes).
    pub const SMALL: usize = 0;
    pub const IDENTITY: usize = 1;
}
use sections::*;

fn cases() -> Vec<Case> {
    let t1 =
        |name, base, error, description, build| Case::new(name, base, 1, error, description, build);
    let mut v: Vec<Case> = Vec::new();

    // ---- Header (§14.1) ----
    v.push(t1(
        "H1-not-brine",
        "empty",
        "NotBrine",
        "the second magic byte is 'b' instead of 'B'",
        Box::new(|b: &[u8]| header_edit(b, |h| h[1] = b'b')) as Build,
    ));
    v.push(
        t1(
            "H1-empty-file",
            "empty",
            "Truncated",
            "an empty file, a prefix of the magic",
            Box::new(|_: &[u8]| Vec::new()) as Build,
        )
        .what("header"),
    );
    v.push(
        t1(
            "H1-magic-prefix",
            "empty",
            "Truncated",
            "a file of 5 bytes, the first 5 bytes of the magic",
            Box::new(|b: &[u8]| b[..5].to_vec()) as Build,
        )
        .what("header"),
    );
    v.push(
        t1(
            "H2-short-header",
            "empty",
            "Truncated",
            "the first 127 bytes of a valid file: the magic, then too few bytes for the header",
            Box::new(|b: &[u8]| b[..127].to_vec()) as Build,
        )
        .what("header"),
    );
    v.push(
        t1(
            "H2-magic-only",
            "empty",
            "Truncated",
            "a file of only the 8 magic bytes",
            Box::new(|b: &[u8]| b[..8].to_vec()) as Build,
        )
        .what("header"),
    );
    v.push(t1(
        "H3-major-2",
        "empty",
        "UnsupportedVersion",
        "major version 2 (header checksum recomputed)",
        Box::new(|b: &[u8]| header_edit(b, |h| put_u16(h, 8, 2))) as Build,
    ));
    v.push(t1(
        "H3-major-0",
        "empty",
        "UnsupportedVersion",
        "major version 0 (header checksum recomputed)",
        Box::new(|b: &[u8]| header_edit(b, |h| put_u16(h, 8, 0))) as Build,
    ));
    v.push(
        t1(
            "H4-header-checksum",
            "empty",
            "ChecksumMismatch",
            "the last byte of header_checksum is changed",
            Box::new(|b: &[u8]| {
                let mut b = b.to_vec();
                b[127] ^= 0x01;
                b
            }) as Build,
        )
        .what("header"),
    );
    v.push(
        t1(
            "H5-required-flags",
            "empty",
            "UnsupportedFeature",
            "required_flags has bit 0 set, which version 1.0 does not define",
            Box::new(|b: &[u8]| header_edit(b, |h| put_u32(h, 12, 1))) as Build,
        )
        .what("required flags"),
    );
    v.push(
        t1(
            "H6-rkyv-endianness",
            "empty",
            "UnsupportedFeature",
            "rkyv_endianness is 1 (big-endian)",
            Box::new(|b: &[u8]| header_edit(b, |h| h[20] = 1)) as Build,
        )
        .what("rkyv endianness"),
    );
    v.push(
        t1(
            "H6-rkyv-alignment",
            "empty",
            "UnsupportedFeature",
            "rkyv_alignment is 0 (unaligned)",
            Box::new(|b: &[u8]| header_edit(b, |h| h[21] = 0)) as Build,
        )
        .what("rkyv alignment"),
    );
    v.push(
        t1(
            "H6-rkyv-pointer-width",
            "empty",
            "UnsupportedFeature",
            "rkyv_pointer_width is 8",
            Box::new(|b: &[u8]| header_edit(b, |h| h[22] = 8)) as Build,
        )
        .what("rkyv pointer width"),
    );
    v.push(
        t1(
            "H7-reserved-byte-23",
            "empty",
            "InvalidHeader",
            "reserved header byte 23 is 1",
            Box::new(|b: &[u8]| header_edit(b, |h| h[23] = 1)) as Build,
        )
        .field("reserved"),
    );
    v.push(
        t1(
            "H7-reserved-byte-119",
            "empty",
            "InvalidHeader",
            "reserved header byte 119 (the last of 64..120) is 1",
            Box::new(|b: &[u8]| header_edit(b, |h| h[119] = 1)) as Build,
        )
        .field("reserved"),
    );
    for (name, alignment, description) in [
        (
            "H8-alignment-not-power-of-two",
            96u32,
            "the alignment unit is 96, not a power of two",
        ),
        (
            "H8-alignment-too-small",
            32,
            "the alignment unit is 32, below 64",
        ),
        (
            "H8-alignment-too-large",
            4 << 20,
            "the alignment unit is 4 MiB, above 2 MiB",
        ),
    ] {
        v.push(
            t1(
                name,
                "empty",
                "InvalidHeader",
                description,
                Box::new(move |b: &[u8]| header_edit(b, |h| put_u32(h, 24, alignment))) as Build,
            )
            .field("alignment"),
        );
    }
    v.push(
        t1(
            "H9-truncated",
            "one-entry",
            "Truncated",
            "the last byte of the file is cut off: the file is shorter than file_length",
            Box::new(|b: &[u8]| b[..b.len() - 1].to_vec()) as Build,
        )
        .what("file"),
    );
    v.push(
        t1(
            "H9-appended",
            "one-entry",
            "InvalidHeader",
            "a zero byte is appended: the file is longer than file_length",
            Box::new(|b: &[u8]| {
                let mut b = b.to_vec();
                b.push(0);
                b
            }) as Build,
        )
        .field("file_length"),
    );
    v.push(
        t1("H10-manifest-offset-unaligned", "one-entry", "InvalidHeader", "manifest_offset is 200 (not a multiple of 64) and manifest_length 240, so that they still add up to file_length", Box::new(|b: &[u8]| {
            header_edit(b, |h| {
                put_u64(h, 32, 200);
                put_u64(h, 40, 240);
            })
        }) as Build)
        .field("manifest_offset"),
    );
    v.push(
        t1("H10-manifest-offset-in-header", "one-entry", "InvalidHeader", "manifest_offset is 64 (a multiple of 64 inside the header) and manifest_length 376, so that they still add up to file_length", Box::new(|b: &[u8]| {
            header_edit(b, |h| {
                put_u64(h, 32, 64);
                put_u64(h, 40, 376);
            })
        }) as Build)
        .field("manifest_offset"),
    );
    v.push(
        t1(
            "H10-manifest-length",
            "one-entry",
            "InvalidHeader",
            "manifest_length is 8 bytes short: the manifest does not end at the end of the file",
            Box::new(|b: &[u8]| {
                header_edit(b, |h| {
                    let len = get_u64(h, 40);
                    put_u64(h, 40, len - 8);
                })
            }) as Build,
        )
        .field("manifest_length"),
    );
    v.push(
        t1(
            "H11-draft-root",
            "empty",
            "InvalidHeader",
            "root_length is 64, the root size of an earlier draft of 1.0",
            Box::new(|b: &[u8]| header_edit(b, |h| put_u32(h, 28, 64))) as Build,
        )
        .field("root_length"),
    );
    v.push(
        t1(
            "H11-root-not-exact",
            "empty",
            "InvalidHeader",
            "root_length is 108 in a version 1.0 file, whose root is exactly 104 bytes",
            Box::new(|b: &[u8]| header_edit(b, |h| put_u32(h, 28, 108))) as Build,
        )
        .field("root_length"),
    );
    v.push(
        t1("H11-root-not-multiple-of-4", "one-entry", "InvalidHeader", "a version 1.2 file (newer than the reader: a larger root is allowed) whose root_length, 122, is not a multiple of 4", Box::new(|b: &[u8]| {
            header_edit(b, |h| {
                put_u16(h, 10, 2);
                put_u32(h, 28, 122);
            })
        }) as Build)
        .field("root_length"),
    );
    v.push(
        t1("H11-root-past-manifest", "empty", "InvalidHeader", "a version 1.2 file (newer than the reader: a larger root is allowed) whose root_length, 124, is a multiple of 4 and at least the reader's 120 but exceeds manifest_length (104)", Box::new(|b: &[u8]| {
            header_edit(b, |h| {
                put_u16(h, 10, 2);
                put_u32(h, 28, 124);
            })
        }) as Build)
        .field("root_length"),
    );

    v.push(
        t1(
            "H11-root-of-another-version",
            "empty",
            "InvalidHeader",
            "a 1.0 file (104-byte root) whose header says version 1.1, whose root is exactly 120 bytes",
            Box::new(|b: &[u8]| header_edit(b, |h| put_u16(h, 10, 1))) as Build,
        )
        .field("root_length"),
    );

    // ---- Manifest (§14.2) ----
    let mut m1 = t1("M1-manifest-limit", "empty", "LimitExceeded", "a valid file (identical to empty.brine) whose 104-byte manifest exceeds the reader limit of 100 bytes given in reader_options", Box::new(|b: &[u8]| b.to_vec()) as Build)
        .what("manifest length");
    m1.max_manifest_length = Some(100);
    v.push(m1);
    v.push(
        t1(
            "M2-manifest-checksum",
            "one-entry",
            "ChecksumMismatch",
            "one byte of the manifest (in the names) is changed; manifest_checksum is not updated",
            Box::new(|b: &[u8]| {
                let mut b = b.to_vec();
                let at = get_u64(&b, 32) as usize;
                b[at] ^= 0x20;
                b
            }) as Build,
        )
        .what("manifest"),
    );
    v.push(
        t1(
            "M3-R1-pointer-out-of-bounds",
            "one-entry",
            "InvalidManifest",
            "the root's entries vector points past the end of the manifest",
            Box::new(|b: &[u8]| {
                manifest_edit(b, |m, root| {
                    let len = m.len();
                    let at = root + 8;
                    put_u32(m, at, (len - at + 64) as u32);
                })
            }) as Build,
        )
        .clause("R1"),
    );
    v.push(
        t1("M3-R1-misaligned", "one-entry", "InvalidManifest", "the root's dims vector (u64 elements, alignment 8) points 4 bytes after its elements, at a position that is not a multiple of 8", Box::new(|b: &[u8]| {
            manifest_edit(b, |m, root| {
                let at = root + 24;
                let ptr = get_u32(m, at);
                put_u32(m, at, ptr + 4);
            })
        }) as Build)
        .clause("R1"),
    );
    v.push(
        t1("M3-R2-overlap", "one-entry", "InvalidManifest", "the root's arrays vector points at the entry table's elements: two objects share bytes", Box::new(|b: &[u8]| {
            manifest_edit(b, |m, root| {
                let (entries, _) = root_vec(m, root, 8);
                let at = root + 16;
                put_u32(m, at, (entries as i64 - at as i64) as i32 as u32);
            })
        }) as Build)
        .clause("R2"),
    );
    v.push(
        t1(
            "M3-R3-invalid-utf8",
            "one-entry",
            "InvalidManifest",
            "a byte of the out-of-line names string is 0xff: not UTF-8",
            Box::new(|b: &[u8]| {
                manifest_edit(b, |m, root| {
                    let ptr = i32::from_le_bytes(m[root + 4..root + 8].try_into().unwrap());
                    let names = root.checked_add_signed(ptr as isize).unwrap();
                    m[names + 3] = 0xff;
                })
            }) as Build,
        )
        .clause("R3"),
    );
    v.push(
        t1("M3-R3-short-out-of-line", "one-entry", "InvalidManifest", "the out-of-line names string (11 bytes) claims a length of 8, which must be stored inline", Box::new(|b: &[u8]| {
            manifest_edit(b, |m, root| {
                assert_eq!(m[root], 0x8b, "an 11-byte out-of-line string");
                m[root] = 0x88;
            })
        }) as Build)
        .clause("R3"),
    );
    v.push(
        t1(
            "M3-R4-bool",
            "one-entry",
            "InvalidManifest",
            "a Bool metadata value (the entry's, made Bool) holds the byte 02",
            Box::new(|b: &[u8]| {
                let b = craft(b, |c| c.m.entry_metadata[0].value = MetaValue::Bool(true));
                manifest_edit(&b, |m, root| {
                    let (items, n) = root_vec(m, root, 56);
                    assert_eq!((n, m[items + 8], m[items + 9]), (1, 3, 1), "one Bool item");
                    m[items + 9] = 2;
                })
            }) as Build,
        )
        .clause("R4"),
    );
    v.push(
        t1(
            "M3-R5-enum-tag",
            "one-entry",
            "InvalidManifest",
            "the file metadata item's value has tag 5, which MetaValue does not define",
            Box::new(|b: &[u8]| {
                manifest_edit(b, |m, root| {
                    let (items, n) = root_vec(m, root, 48);
                    assert_eq!((n, m[items + 8]), (1, 1), "one Int item");
                    m[items + 8] = 5;
                })
            }) as Build,
        )
        .clause("R5"),
    );
    v.push(
        t1("M3-R6-vector-length", "one-entry", "InvalidManifest", "the entry table's length is 2^28: its elements (2^28 x 16 bytes, computed without overflow) do not fit in the manifest", Box::new(|b: &[u8]| {
            manifest_edit(b, |m, root| put_u32(m, root + 12, 1 << 28))
        }) as Build)
        .clause("R6"),
    );
    v.push(
        t1(
            "M4-name-end-decreasing",
            "short-names",
            "InvalidField",
            "entry 1's name_end (0) is below entry 0's (1)",
            Box::new(|b: &[u8]| craft(b, |c| c.m.entries[1].name_end = 0)) as Build,
        )
        .field("name_end"),
    );
    v.push(
        t1(
            "M4-name-end-past-names",
            "short-names",
            "InvalidField",
            "entry 1's name_end (5) is past the 4 bytes of names",
            Box::new(|b: &[u8]| craft(b, |c| c.m.entries[1].name_end = 5)) as Build,
        )
        .field("name_end"),
    );
    v.push(
        t1("M4-name-end-splits-character", "short-names", "InvalidField", "the names are a, bé, d (names \"abéd\"); entry 1's name_end (3) falls inside the 2 bytes of é", Box::new(|b: &[u8]| {
            craft(b, |c| {
                c.m.names = "abéd".into();
                c.m.entries[1].name_end = 3;
                c.m.entries[2].name_end = 5;
            })
        }) as Build)
        .field("name_end"),
    );
    v.push(
        t1(
            "M4-last-name-end",
            "short-names",
            "InvalidField",
            "names is \"abcdz\": the last entry's name_end (4) does not reach its end (5)",
            Box::new(|b: &[u8]| craft(b, |c| c.m.names = "abcdz".into())) as Build,
        )
        .field("name_end")
        .location("entry table"),
    );
    v.push(
        t1(
            "M4-order",
            "short-names",
            "InvalidField",
            "names is \"bcad\": entries bc, a, d are not sorted",
            Box::new(|b: &[u8]| {
                craft(b, |c| {
                    c.m.names = "bcad".into();
                    c.m.entries[0].name_end = 2;
                    c.m.entries[1].name_end = 3;
                })
            }) as Build,
        )
        .field("name_end"),
    );
    v.push(
        t1(
            "M4-duplicate",
            "short-names",
            "Duplicate",
            "names is \"aad\": entries 0 and 1 are both named a",
            Box::new(|b: &[u8]| {
                craft(b, |c| {
                    c.m.names = "aad".into();
                    c.m.entries[1].name_end = 2;
                    c.m.entries[2].name_end = 3;
                })
            }) as Build,
        )
        .what("entry name"),
    );
    v.push(
        t1(
            "M5-file-metadata-order",
            "one-entry",
            "InvalidField",
            "the file metadata holds the keys version, then aaa: not sorted",
            Box::new(|b: &[u8]| craft(b, |c| c.m.metadata.push(item("aaa", MetaValue::Int(1)))))
                as Build,
        )
        .field("metadata")
        .location("file metadata"),
    );
    v.push(
        t1(
            "M5-file-metadata-duplicate",
            "one-entry",
            "Duplicate",
            "the file metadata holds the key version twice",
            Box::new(|b: &[u8]| craft(b, |c| c.m.metadata.push(item("version", MetaValue::Int(4)))))
                as Build,
        )
        .what("metadata key"),
    );
    v.push(
        t1(
            "M5-entry-metadata-order",
            "one-entry",
            "InvalidField",
            "the entry's metadata holds the keys unit, then aaa: not sorted",
            Box::new(|b: &[u8]| {
                craft(b, |c| {
                    c.m.entry_metadata.push(item("aaa", MetaValue::Bool(false)));
                    c.m.entries[0].metadata_end = 2;
                })
            }) as Build,
        )
        .field("metadata"),
    );
    v.push(
        t1(
            "M5-entry-metadata-duplicate",
            "one-entry",
            "Duplicate",
            "the entry's metadata holds the key unit twice",
            Box::new(|b: &[u8]| {
                craft(b, |c| {
                    c.m.entry_metadata
                        .push(item("unit", MetaValue::Str("K".into())));
                    c.m.entries[0].metadata_end = 2;
                })
            }) as Build,
        )
        .what("metadata key"),
    );
    v.push(
        t1(
            "M6-metadata-end-past",
            "one-entry",
            "InvalidField",
            "the entry's metadata_end (2) is past the 1 item of entry_metadata",
            Box::new(|b: &[u8]| craft(b, |c| c.m.entries[0].metadata_end = 2)) as Build,
        )
        .field("metadata_end"),
    );
    v.push(
        t1(
            "M6-last-metadata-end",
            "one-entry",
            "InvalidField",
            "entry_metadata has a second item that no entry's run reaches",
            Box::new(|b: &[u8]| {
                craft(b, |c| {
                    c.m.entry_metadata.push(item("zzz", MetaValue::Int(0)))
                })
            }) as Build,
        )
        .field("metadata_end")
        .location("entry table"),
    );
    v.push(
        t1(
            "M6-reserved",
            "one-entry",
            "InvalidField",
            "the entry's reserved bytes are 01 00 00",
            Box::new(|b: &[u8]| craft(b, |c| c.m.entries[0].reserved = [1, 0, 0])) as Build,
        )
        .field("reserved"),
    );
    v.push(
        t1(
            "M6-unknown-kind",
            "one-entry",
            "UnsupportedFeature",
            "the entry's kind is 3, which version 1.0 does not define",
            Box::new(|b: &[u8]| craft(b, |c| c.m.entries[0].kind = 3)) as Build,
        )
        .what("kind of entry"),
    );
    v.push(
        t1(
            "M6-index",
            "short-names",
            "InvalidField",
            "entry bc (the second array) has index 2",
            Box::new(|b: &[u8]| craft(b, |c| c.m.entries[1].index = 2)) as Build,
        )
        .field("index"),
    );
    v.push(
        t1("M6-array-rows", "one-entry", "InvalidField", "the array table has a second, consistent row (a 0-d f32 array with a section of its own) that no entry names", Box::new(|b: &[u8]| {
            craft(b, |c| {
                c.push_raw_section(&[0, 0, 0x80, 0x3f]);
                c.m.arrays.push(ArrayMeta {
                    section: 1,
                    dims_end: 1,
                    dtype: c.m.arrays[0].dtype,
                    reserved: [0; 3],
                });
            })
        }) as Build)
        .field("arrays")
        .location("array table"),
    );

    // ---- Sections and codecs (§14.3) ----
    v.push(t1(
        "S1-past-data-area",
        "one-entry",
        "SectionOutOfBounds",
        "the section starts at manifest_offset (192): it ends inside the manifest",
        Box::new(|b: &[u8]| craft_laid(b, |m| m.sections[0].offset = 192)) as Build,
    ));
    v.push(t1(
        "S1-in-header",
        "one-entry",
        "SectionOutOfBounds",
        "the section starts at 64, inside the header",
        Box::new(|b: &[u8]| craft_laid(b, |m| m.sections[0].offset = 64)) as Build,
    ));
    v.push(t1("S2-overlap", "short-names", "SectionsOverlap", "section 1 starts at 128, inside section 0 (128..131); its checksum is that of the bytes it now covers", Box::new(|b: &[u8]| {
        let mut c = Crafted::from_written(b);
        c.m.sections[1].checksum = xxh3(&c.stored[0][..2]);
        let mut out = c.bytes_edited(|m| m.sections[1].offset = 128);
        // The bytes of the old section 1 are padding now (V1 holds).
        out[192..194].fill(0);
        out
    }) as Build));
    v.push(
        t1(
            "S3-unaligned",
            "one-entry",
            "InvalidField",
            "the section starts at 136, not a multiple of 64",
            Box::new(|b: &[u8]| craft_laid(b, |m| m.sections[0].offset = 136)) as Build,
        )
        .field("offset"),
    );
    v.push(
        t1(
            "S3-page-unaligned",
            "alignment-64",
            "InvalidField",
            "the alignment unit is 128 (header edit): the 4096-byte section at 192 is not on it",
            Box::new(|b: &[u8]| header_edit(b, |h| put_u32(h, 24, 128))) as Build,
        )
        .field("offset"),
    );
    v.push(
        t1("S4-shared-section", "short-names", "InvalidField", "array d (bool [2]) names section 1, which array bc (i16 [1], also 2 bytes) owns; section 2 is left to no one", Box::new(|b: &[u8]| {
            craft(b, |c| c.m.arrays[2].section = 1)
        }) as Build)
        .field("section"),
    );
    v.push(
        t1(
            "S4-orphan-section",
            "one-entry",
            "InvalidField",
            "a second raw section of 8 bytes that no entry references",
            Box::new(|b: &[u8]| craft(b, |c| c.push_raw_section(&[1, 2, 3, 4, 5, 6, 7, 8])))
                as Build,
        )
        .field("sections"),
    );
    v.push(
        t1(
            "S5-reserved",
            "one-entry",
            "InvalidField",
            "the section's reserved bytes are 01 00 00 00 00 00",
            Box::new(|b: &[u8]| craft(b, |c| c.m.sections[0].reserved = [1, 0, 0, 0, 0, 0]))
                as Build,
        )
        .field("reserved"),
    );
    v.push(
        t1(
            "S5-chunks-end-decreasing",
            "zstd-shuffle",
            "InvalidField",
            "section 1's chunks_end (3) is below section 0's (4)",
            Box::new(|b: &[u8]| craft(b, |c| c.m.sections[1].chunks_end = 3)) as Build,
        )
        .field("chunks_end"),
    );
    v.push(
        t1(
            "S5-last-chunks-end",
            "one-entry",
            "InvalidField",
            "the chunk table has one record that no section's run reaches",
            Box::new(|b: &[u8]| {
                craft(b, |c| {
                    c.m.chunks.push(Chunk {
                        offset: 0,
                        length: 8,
                        checksum: 0,
                    })
                })
            }) as Build,
        )
        .field("chunks_end")
        .location("section table"),
    );
    v.push(
        t1(
            "C1-unknown-codec",
            "one-entry",
            "UnsupportedFeature",
            "the section's codec is 2, which version 1.0 does not define",
            Box::new(|b: &[u8]| craft(b, |c| c.m.sections[0].codec = 2)) as Build,
        )
        .what("codec of section"),
    );
    v.push(
        t1(
            "C1-raw-chunk-length",
            "one-entry",
            "InvalidField",
            "a raw section with chunk_length 8",
            Box::new(|b: &[u8]| craft(b, |c| c.m.sections[0].chunk_length = 8)) as Build,
        )
        .field("codec"),
    );
    v.push(
        t1(
            "C2-chunk-length-zero",
            "model-small",
            "InvalidField",
            "the zstd section of model identity (24 bytes, one chunk) has chunk_length 0",
            Box::new(|b: &[u8]| craft(b, |c| c.m.sections[IDENTITY].chunk_length = 0)) as Build,
        )
        .field("chunk_length"),
    );
    v.push(
        t1("C2-chunk-length-limit", "model-small", "LimitExceeded", "the zstd section of model identity (24 bytes, one chunk) has chunk_length 64 MiB + 1, above the format limit (still one chunk)", Box::new(|b: &[u8]| {
            craft(b, |c| c.m.sections[IDENTITY].chunk_length = (64 << 20) + 1)
        }) as Build)
        .what("chunk_length"),
    );
    v.push(
        t1("C3-chunk-count", "model-small", "InvalidField", "the zstd section of model identity (24 bytes, one chunk) has chunk_length 8, which needs 3 chunks", Box::new(|b: &[u8]| {
            craft(b, |c| c.m.sections[IDENTITY].chunk_length = 8)
        }) as Build)
        .field("chunks_end"),
    );
    v.push(
        t1("C3-chunk-offset", "model-small", "InvalidField", "the only chunk of model identity's section starts at 1 instead of 0 (and is one byte shorter, so it still ends with the section)", Box::new(|b: &[u8]| {
            craft(b, |c| {
                let k = c.chunk_range(IDENTITY).start;
                c.m.chunks[k].offset += 1;
                c.m.chunks[k].length -= 1;
            })
        }) as Build)
        .field("chunks"),
    );
    v.push(
        t1("C3-chunks-end-short", "model-small", "InvalidField", "the only chunk of model identity's section is one byte shorter: it ends before the section does", Box::new(|b: &[u8]| {
            craft(b, |c| {
                let k = c.chunk_range(IDENTITY).start;
                c.m.chunks[k].length -= 1;
            })
        }) as Build)
        .field("chunks"),
    );
    // ---- Arrays (§14.4) ----
    v.push(
        t1(
            "A1-dims-end-past",
            "one-entry",
            "InvalidField",
            "the array's dims_end (2) is past the 1 item of dims",
            Box::new(|b: &[u8]| craft(b, |c| c.m.arrays[0].dims_end = 2)) as Build,
        )
        .field("dims_end"),
    );
    v.push(
        t1(
            "A1-last-dims-end",
            "one-entry",
            "InvalidField",
            "dims has a second item (1) that no array's run reaches",
            Box::new(|b: &[u8]| craft(b, |c| c.m.dims.push(1))) as Build,
        )
        .field("dims_end")
        .location("array table"),
    );
    v.push(
        t1(
            "A2-unknown-dtype",
            "one-entry",
            "UnsupportedFeature",
            "the array's dtype is 13, which version 1.0 does not define",
            Box::new(|b: &[u8]| craft(b, |c| c.m.arrays[0].dtype = 13)) as Build,
        )
        .what("dtype of entry"),
    );
    v.push(
        t1(
            "A2-reserved",
            "one-entry",
            "InvalidField",
            "the array row's reserved bytes are 00 01 00",
            Box::new(|b: &[u8]| craft(b, |c| c.m.arrays[0].reserved = [0, 1, 0])) as Build,
        )
        .field("reserved"),
    );
    v.push(
        t1(
            "A3-too-many-dimensions",
            "one-entry",
            "InvalidField",
            "the f32 array has shape [2, 1, 1, ... ] of 65 dimensions (still 8 bytes)",
            Box::new(|b: &[u8]| {
                craft(b, |c| {
                    c.m.dims.extend([1; 64]);
                    c.m.arrays[0].dims_end = 65;
                })
            }) as Build,
        )
        .field("dims_end"),
    );
    v.push(
        t1(
            "A3-size-overflow",
            "one-entry",
            "InvalidField",
            "the f32 array has shape [2^32, 2^32]: 4 x 2^64 bytes overflows a u64",
            Box::new(|b: &[u8]| {
                craft(b, |c| {
                    c.m.dims = vec![1 << 32, 1 << 32];
                    c.m.arrays[0].dims_end = 2;
                })
            }) as Build,
        )
        .field("dims"),
    );
    v.push(
        t1("A4-section-index", "short-names", "InvalidField", "array d names section 2, but there are 2 sections (its own section, the last, removed)", Box::new(|b: &[u8]| {
            craft(b, |c| {
                let row = array(&c.m, "d");
                let own = c.m.arrays[row].section as usize;
                c.m.arrays[row].section = NO_SECTION;
                remove_section(c, own);
                c.m.arrays[row].section = c.m.sections.len() as u32;
            })
        }) as Build)
        .field("section"),
    );
    v.push(
        t1(
            "A4-raw-length",
            "one-entry",
            "InvalidField",
            "the f32 array has shape [3] (12 bytes) but its section holds 8",
            Box::new(|b: &[u8]| craft(b, |c| c.m.dims[0] = 3)) as Build,
        )
        .field("section"),
    );
    v.push(
        t1(
            "A5-shuffle-size",
            "zstd-shuffle",
            "InvalidField",
            "the section of f32 array walk is shuffled by 2 bytes instead of 4",
            Box::new(|b: &[u8]| craft(b, |c| c.m.sections[WALK].shuffle = 2)) as Build,
        )
        .field("section"),
    );
    v.push(
        t1(
            "A5-shuffle-bytes",
            "zstd-shuffle",
            "InvalidField",
            "the section of u8 array bytes has shuffle 1: 1-byte elements are never shuffled",
            Box::new(|b: &[u8]| craft(b, |c| c.m.sections[BYTES].shuffle = 1)) as Build,
        )
        .field("section"),
    );
    v.push(
        t1("A5-chunk-length", "zstd-shuffle", "InvalidField", "the section of f32 array walk has chunk_length 254, not a multiple of 4 (still 4 chunks for 800 bytes)", Box::new(|b: &[u8]| {
            craft(b, |c| c.m.sections[WALK].chunk_length = 254)
        }) as Build)
        .field("section"),
    );

    // ---- Frames (§14.5) ----
    v.push(
        t1(
            "F1-reserved",
            "frame-empty",
            "InvalidField",
            "frame empty's reserved bytes are 00 00 00 01",
            Box::new(|b: &[u8]| craft(b, |c| c.m.frames[0].reserved = [0, 0, 0, 1])) as Build,
        )
        .field("reserved"),
    );
    v.push(
        t1(
            "F1-columns-end-decreasing",
            "frame-empty",
            "InvalidField",
            "frame no-columns' columns_end (4) is below frame empty's (5)",
            Box::new(|b: &[u8]| craft(b, |c| c.m.frames[1].columns_end = 4)) as Build,
        )
        .field("columns_end"),
    );
    v.push(
        t1(
            "F1-last-columns-end",
            "frame-empty",
            "InvalidField",
            "the column table has a sixth row (empty name, no buffers) that no frame's run reaches",
            Box::new(|b: &[u8]| {
                craft(b, |c| {
                    let mut extra = c.m.columns[0].clone();
                    let end = c.m.column_text.len() as u32;
                    (extra.name_end, extra.zone_end) = (end, end);
                    extra.validity = NO_SECTION;
                    extra.values = NO_SECTION;
                    c.m.columns.push(extra);
                })
            }) as Build,
        )
        .field("columns_end")
        .location("frame table"),
    );
    v.push(
        t1(
            "F2-name-end-decreasing",
            "frame-empty",
            "InvalidField",
            "column text's name_end (2) is below the end of column int's run (3)",
            Box::new(|b: &[u8]| craft(b, |c| c.m.columns[1].name_end = 2)) as Build,
        )
        .field("name_end"),
    );
    v.push(
        t1(
            "F2-zone-end-below-name-end",
            "frame-empty",
            "InvalidField",
            "column when's zone_end is below its name_end",
            Box::new(|b: &[u8]| {
                craft(b, |c| {
                    let i = column(&c.m, "when");
                    c.m.columns[i].zone_end = c.m.columns[i].name_end - 1;
                })
            }) as Build,
        )
        .field("zone_end"),
    );
    v.push(
        t1(
            "F2-name-end-splits-character",
            "frame-empty",
            "InvalidField",
            "column int is renamed ïnt; its name_end (1) falls inside the 2 bytes of ï",
            Box::new(|b: &[u8]| {
                craft(b, |c| {
                    c.m.column_text.replace_range(0..1, "ï");
                    for col in &mut c.m.columns {
                        col.name_end += 1;
                        col.zone_end += 1;
                    }
                    c.m.columns[0].name_end = 1;
                })
            }) as Build,
        )
        .field("name_end"),
    );
    v.push(
        t1(
            "F2-last-zone-end",
            "frame-empty",
            "InvalidField",
            "column_text has 3 more bytes than the last column's zone_end reaches",
            Box::new(|b: &[u8]| craft(b, |c| c.m.column_text.push_str("xyz"))) as Build,
        )
        .field("zone_end")
        .location("column table"),
    );
    v.push(
        t1(
            "F3-unknown-dtype",
            "frame-empty",
            "UnsupportedFeature",
            "column int's dtype is 13, which version 1.0 does not define",
            Box::new(|b: &[u8]| craft(b, |c| c.m.columns[0].dtype = 13)) as Build,
        )
        .what("dtype of"),
    );
    v.push(
        t1(
            "F3-unknown-kind",
            "frame-empty",
            "UnsupportedFeature",
            "column int's kind is 8, which version 1.0 does not define",
            Box::new(|b: &[u8]| craft(b, |c| c.m.columns[0].kind = 8)) as Build,
        )
        .what("kind of"),
    );
    v.push(
        t1(
            "F3-dtype-of-kind",
            "frame-empty",
            "InvalidField",
            "utf8 column text has dtype i32 instead of u8",
            Box::new(|b: &[u8]| {
                craft(b, |c| {
                    let i = column(&c.m, "text");
                    c.m.columns[i].dtype = Dtype::I32 as u8;
                })
            }) as Build,
        )
        .field("dtype"),
    );
    v.push(
        t1(
            "F3-primitive-bf16",
            "frame-empty",
            "InvalidField",
            "primitive column int (0 rows) has dtype bf16, which primitive columns do not hold",
            Box::new(|b: &[u8]| craft(b, |c| c.m.columns[0].dtype = Dtype::BF16 as u8)) as Build,
        )
        .field("dtype"),
    );
    v.push(
        t1(
            "F4-unknown-unit",
            "frame-empty",
            "UnsupportedFeature",
            "timestamp column when has time unit 4, which version 1.0 does not define",
            Box::new(|b: &[u8]| {
                craft(b, |c| {
                    let i = column(&c.m, "when");
                    c.m.columns[i].unit = 4;
                })
            }) as Build,
        )
        .what("time unit of"),
    );
    v.push(
        t1(
            "F4-unit-on-primitive",
            "frame-empty",
            "InvalidField",
            "primitive column int has unit 1",
            Box::new(|b: &[u8]| craft(b, |c| c.m.columns[0].unit = 1)) as Build,
        )
        .field("unit"),
    );
    v.push(
        t1("F4-zone-on-primitive", "frame-empty", "InvalidField", "column int's name_end is 0: its name is empty and its zone is \"int\", but only timestamps have a zone", Box::new(|b: &[u8]| {
            craft(b, |c| c.m.columns[0].name_end = 0)
        }) as Build)
        .field("zone_end"),
    );
    v.push(
        t1(
            "F4-bad-offset",
            "frame-empty",
            "InvalidField",
            "timestamp column when has the zone +24:00, an offset whose hours exceed 23",
            Box::new(|b: &[u8]| {
                craft(b, |c| {
                    c.m.column_text = c.m.column_text.replace("UTC", "+24:00");
                    let last = c.m.columns.len() - 1;
                    c.m.columns[last].zone_end = c.m.column_text.len() as u32;
                })
            }) as Build,
        )
        .field("zone_end"),
    );
    v.push(
        t1(
            "F5-reserved",
            "frame-empty",
            "InvalidField",
            "column int's reserved field is 1",
            Box::new(|b: &[u8]| craft(b, |c| c.m.columns[0].reserved = 1)) as Build,
        )
        .field("reserved"),
    );
    v.push(
        t1(
            "F5-reserved2",
            "frame-empty",
            "InvalidField",
            "column int's reserved2 bytes are 00 00 01 00",
            Box::new(|b: &[u8]| craft(b, |c| c.m.columns[0].reserved2 = [0, 0, 1, 0])) as Build,
        )
        .field("reserved"),
    );
    v.push(
        t1(
            "F5-null-count",
            "frame-batched",
            "InvalidField",
            "column score (with a validity bitmap) has null_count 16 in a frame of 15 rows",
            Box::new(|b: &[u8]| {
                craft(b, |c| {
                    let i = column(&c.m, "score");
                    c.m.columns[i].null_count = 16;
                })
            }) as Build,
        )
        .field("null_count"),
    );
    v.push(
        t1(
            "F5-stats-value",
            "frame-empty",
            "InvalidField",
            "column int's stats byte is 2",
            Box::new(|b: &[u8]| craft(b, |c| c.m.columns[0].stats = 2)) as Build,
        )
        .field("stats"),
    );
    v.push(
        t1(
            "F5-stats-on-utf8",
            "frame-empty",
            "InvalidField",
            "utf8 column text has stats 1: strings have no statistics",
            Box::new(|b: &[u8]| {
                craft(b, |c| {
                    let i = column(&c.m, "text");
                    c.m.columns[i].stats = 1;
                })
            }) as Build,
        )
        .field("stats"),
    );
    v.push(
        t1("F6-validity-missing", "frame-batched", "InvalidField", "column score has 1 null but no validity bitmap (its section removed, later sections renumbered)", Box::new(|b: &[u8]| {
            craft(b, |c| {
                let i = column(&c.m, "score");
                c.m.columns[i].validity = NO_SECTION;
                remove_section(c, SCORE_VALIDITY);
            })
        }) as Build)
        .field("validity"),
    );
    v.push(
        t1(
            "F6-values-missing",
            "frame-empty",
            "InvalidField",
            "column int has no values buffer (its section removed, later sections renumbered)",
            Box::new(|b: &[u8]| {
                craft(b, |c| {
                    c.m.columns[0].values = NO_SECTION;
                    remove_section(c, INT_VALUES);
                })
            }) as Build,
        )
        .field("values"),
    );
    v.push(
        t1("F6-offsets-on-primitive", "frame-empty", "InvalidField", "primitive column int has an offsets buffer (a section of its own holding the offset 0)", Box::new(|b: &[u8]| {
            craft(b, |c| {
                c.push_raw_section(&[0; 8]);
                c.m.columns[0].offsets = c.m.sections.len() as u32 - 1;
            })
        }) as Build)
        .field("offsets"),
    );
    v.push(
        t1("F6-dictionary-values-missing", "frame-empty", "InvalidField", "categorical column kind has no dictionary_values buffer (its section removed, later sections renumbered)", Box::new(|b: &[u8]| {
            craft(b, |c| {
                let i = column(&c.m, "kind");
                c.m.columns[i].dictionary_values = NO_SECTION;
                remove_section(c, KIND_DICT_VALUES);
            })
        }) as Build)
        .field("dictionary_values"),
    );
    v.push(
        t1(
            "F7-values-length",
            "frame-empty",
            "InvalidField",
            "the values of i32 column int (0 rows) hold 4 bytes",
            Box::new(|b: &[u8]| craft(b, |c| c.set_decoded(INT_VALUES, &[0; 4]))) as Build,
        )
        .field("values"),
    );
    v.push(
        t1("F7-section-index", "frame-empty", "InvalidField", "column int's values slot names a section past the section table (its own section removed)", Box::new(|b: &[u8]| {
            craft(b, |c| {
                c.m.columns[0].values = NO_SECTION;
                remove_section(c, INT_VALUES);
                c.m.columns[0].values = c.m.sections.len() as u32;
            })
        }) as Build)
        .field("values"),
    );
    v.push(
        t1(
            "F7-dictionary-offsets",
            "frame-empty",
            "InvalidField",
            "the dictionary offsets of categorical column kind hold 4 bytes, not 8 x (n + 1)",
            Box::new(|b: &[u8]| {
                craft(b, |c| {
                    let i = column(&c.m, "kind");
                    let s = c.m.columns[i].dictionary_offsets as usize;
                    c.set_decoded(s, &[0; 4]);
                })
            }) as Build,
        )
        .field("dictionary_offsets"),
    );
    v.push(
        t1(
            "F7-rows-overflow",
            "frame-empty",
            "InvalidField",
            "frame empty has 2^61 rows: (rows + 1) x 8 overflows a u64",
            Box::new(|b: &[u8]| craft(b, |c| c.m.frames[0].rows = 1 << 61)) as Build,
        )
        .field("rows"),
    );
    v.push(
        t1(
            "F8-duplicate-column",
            "frame-empty",
            "Duplicate",
            "column flag is renamed kind: two columns of frame empty are named kind",
            Box::new(|b: &[u8]| {
                craft(b, |c| {
                    c.m.column_text = c.m.column_text.replace("flag", "kind")
                })
            }) as Build,
        )
        .what("column name"),
    );
    // Format 1.1 (§8.7). The column table of frame-metadata: plain's x (0), then sizes' id
    // (1), size (2), color (3), weight (4); id has one metadata item, weight three.
    v.push(
        t1(
            "F9-extras-count",
            "frame-metadata",
            "InvalidField",
            "column_extras has 4 rows for the 5 rows of the column table (the last one, weight's, is gone, and its metadata with it)",
            Box::new(|b: &[u8]| {
                craft(b, |c| {
                    let (extras, metadata) = ext(c);
                    extras.pop();
                    metadata.truncate(1);
                })
            }) as Build,
        )
        .field("column_extras")
        .location("column table"),
    );
    v.push(
        t1(
            "F9-metadata-end-decreasing",
            "frame-metadata",
            "InvalidField",
            "column size's metadata_end is 0, below id's 1",
            Box::new(|b: &[u8]| craft(b, |c| ext(c).0[2].metadata_end = 0)) as Build,
        )
        .field("metadata_end"),
    );
    v.push(
        t1(
            "F9-metadata-end-past",
            "frame-metadata",
            "InvalidField",
            "column weight's metadata_end is 5, past the 4 items of column_metadata",
            Box::new(|b: &[u8]| craft(b, |c| ext(c).0[4].metadata_end = 5)) as Build,
        )
        .field("metadata_end"),
    );
    v.push(
        t1(
            "F9-last-metadata-end",
            "frame-metadata",
            "InvalidField",
            "column_metadata has one more item than the last column's metadata_end reaches",
            Box::new(|b: &[u8]| craft(b, |c| ext(c).1.push(item("zzz", MetaValue::Int(1)))))
                as Build,
        )
        .field("metadata_end")
        .location("column table"),
    );
    v.push(
        t1(
            "F9-metadata-order",
            "frame-metadata",
            "InvalidField",
            "column weight's metadata holds the keys a long description key, unit, then precision: not sorted",
            Box::new(|b: &[u8]| craft(b, |c| ext(c).1.swap(2, 3))) as Build,
        )
        .field("metadata"),
    );
    v.push(
        t1(
            "F9-metadata-duplicate",
            "frame-metadata",
            "Duplicate",
            "column weight's metadata holds the key unit twice",
            Box::new(|b: &[u8]| craft(b, |c| ext(c).1[2].key = "unit".into())) as Build,
        )
        .what("metadata key"),
    );
    v.push(
        t1(
            "F10-unknown-flag",
            "frame-metadata",
            "UnsupportedFeature",
            "column color's flags have bit 1 set, which version 1.1 does not define",
            Box::new(|b: &[u8]| craft(b, |c| ext(c).0[3].flags = 2)) as Build,
        )
        .what("flags of"),
    );
    v.push(
        t1(
            "F10-ordered-not-categorical",
            "frame-metadata",
            "InvalidField",
            "column weight (f64) has the ordered flag, which only categorical columns may have",
            Box::new(|b: &[u8]| craft(b, |c| ext(c).0[4].flags = 1)) as Build,
        )
        .field("flags"),
    );

    // ---- Models (§14.6) ----
    v.push(
        t1(
            "N1-type-name-end",
            "model-small",
            "InvalidField",
            "model identity's type_name_end is past its schema_end",
            Box::new(|b: &[u8]| {
                craft(b, |c| {
                    c.m.models[0].type_name_end = c.m.models[0].schema_end + 1
                })
            }) as Build,
        )
        .field("type_name_end"),
    );
    v.push(
        t1(
            "N1-last-schema-end",
            "model-small",
            "InvalidField",
            "model_text has one more line than the last model's schema_end reaches",
            Box::new(|b: &[u8]| craft(b, |c| c.m.model_text.push_str("extra\n"))) as Build,
        )
        .field("schema_end")
        .location("model table"),
    );
    v.push(
        t1(
            "N2-unknown-flag",
            "model-small",
            "UnsupportedFeature",
            "model small's flags have bit 1 set, which version 1.0 does not define",
            Box::new(|b: &[u8]| craft(b, |c| c.m.models[1].flags = 2)) as Build,
        )
        .what("flags of"),
    );
    v.push(
        t1(
            "N2-version-without-flag",
            "model-small",
            "InvalidField",
            "model small has version 5 but flag bit 0 clear",
            Box::new(|b: &[u8]| craft(b, |c| c.m.models[1].version = 5)) as Build,
        )
        .field("version"),
    );
    v.push(
        t1(
            "N3-section-index",
            "model-small",
            "InvalidField",
            "model small names a section past the section table (its own section removed)",
            Box::new(|b: &[u8]| {
                craft(b, |c| {
                    c.m.models[1].section = NO_SECTION;
                    remove_section(c, SMALL);
                    c.m.models[1].section = c.m.sections.len() as u32;
                })
            }) as Build,
        )
        .field("section"),
    );
    v.push(
        t1(
            "N3-shuffle",
            "model-small",
            "InvalidField",
            "the zstd section of model identity has shuffle 2: archives are never shuffled",
            Box::new(|b: &[u8]| {
                craft(b, |c| {
                    let s = c.m.models[0].section as usize;
                    c.m.sections[s].shuffle = 2;
                })
            }) as Build,
        )
        .field("section"),
    );
    v.push(
        t1(
            "S4-model-shares-section",
            "model-small",
            "InvalidField",
            "model identity names section 0, which model small owns; section 1 is left to no one",
            Box::new(|b: &[u8]| {
                // Keep N3 (a raw section without shuffle) intact.
                craft(b, |c| c.m.models[0].section = 0)
            }) as Build,
        )
        .field("section"),
    );

    // ---- First access (§14.7) ----
    let t2 =
        |name, base, error, description, build| Case::new(name, base, 2, error, description, build);
    v.push(
        t2("D1-garbage-frame", "model-small", "Decompress", "the chunk of model identity is 0xaa bytes, not a zstd frame (section checksum updated)", Box::new(|b: &[u8]| {
            craft(b, |c| {
                let n = frames(c, IDENTITY)[0].len();
                set_frame(c, IDENTITY, 0, vec![0xaa; n]);
            })
        }) as Build)
        .model("identity"),
    );
    v.push(
        t2(
            "D1-frame-too-short",
            "model-small",
            "Decompress",
            "the chunk of model identity (24 bytes) is a valid zstd frame of its first 23 bytes",
            Box::new(|b: &[u8]| {
                craft(b, |c| {
                    let content = chunk_content(c, IDENTITY, 0);
                    set_frame(c, IDENTITY, 0, raw_frame(&content[..content.len() - 1]));
                })
            }) as Build,
        )
        .model("identity"),
    );
    v.push(
        t2("D1-frame-too-long", "model-small", "Decompress", "the chunk of model identity (24 bytes) is a valid zstd frame of 25 bytes (its 24 and a zero)", Box::new(|b: &[u8]| {
            craft(b, |c| {
                let mut content = chunk_content(c, IDENTITY, 0);
                content.push(0);
                set_frame(c, IDENTITY, 0, raw_frame(&content));
            })
        }) as Build)
        .model("identity"),
    );
    v.push(
        t2("D1-trailing-frame", "model-small", "Decompress", "the chunk of model identity is two zstd frames (of 16 and 8 bytes) that decode to its 24 bytes together", Box::new(|b: &[u8]| {
            craft(b, |c| {
                let content = chunk_content(c, IDENTITY, 0);
                let mut two = raw_frame(&content[..16]);
                two.extend(raw_frame(&content[16..]));
                set_frame(c, IDENTITY, 0, two);
            })
        }) as Build)
        .model("identity"),
    );
    v.push(
        t2("D1-trailing-bytes", "model-small", "Decompress", "the chunk of model identity is a valid zstd frame of its 24 bytes followed by one zero byte", Box::new(|b: &[u8]| {
            craft(b, |c| {
                let mut f = raw_frame(&chunk_content(c, IDENTITY, 0));
                f.push(0);
                set_frame(c, IDENTITY, 0, f);
            })
        }) as Build)
        .model("identity"),
    );
    v.push(
        t2(
            "D2-chunk-checksum",
            "model-small",
            "ChecksumMismatch",
            "the checksum of the chunk of model identity has one bit flipped",
            Box::new(|b: &[u8]| {
                craft(b, |c| {
                    let k = c.chunk_range(IDENTITY).start;
                    c.m.chunks[k].checksum ^= 1;
                })
            }) as Build,
        )
        .model("identity"),
    );
    v.push(
        t2("D2-checksum-of-shuffled-bytes", "zstd-shuffle", "ChecksumMismatch", "the checksum of chunk 0 of f32 array walk is the xxh3 of its shuffled bytes, not of its decoded (unshuffled) bytes", Box::new(|b: &[u8]| {
            craft(b, |c| {
                let raw = chunk_content(c, WALK, 0);
                let mut shuffled = vec![0; raw.len()];
                brine::raw::codec::shuffle(&raw, &mut shuffled, 4);
                let k = c.chunk_range(WALK).start;
                c.m.chunks[k].checksum = xxh3(&shuffled);
            })
        }) as Build)
        .entry("walk"),
    );
    v.push(
        t2(
            "D3-bool-byte",
            "short-names",
            "InvalidData",
            "the second element of bool array d is the byte 02 (section checksum updated)",
            Box::new(|b: &[u8]| craft(b, |c| poke(c, 2, |s| s[1] = 2))) as Build,
        )
        .entry("d"),
    );
    v.push(
        t2("D4-null-count", "frame-batched", "InvalidColumn", "column score's null_count is 2, but its validity bitmap has 1 clear bit among the 15 rows", Box::new(|b: &[u8]| {
            craft(b, |c| {
                let i = column(&c.m, "score");
                c.m.columns[i].null_count = 2;
            })
        }) as Build)
        .field("validity")
        .entry("batched")
        .column("score"),
    );
    v.push(
        t2("D11-lying-min", "frame-no-nulls", "InvalidColumn", "column small's min is 0, but its smallest value is -3 (a reader pruning by it would skip the column for small < 0)", Box::new(|b: &[u8]| {
            craft(b, |c| {
                let i = column(&c.m, "small");
                c.m.columns[i].min = 0;
            })
        }) as Build)
        .field("min")
        .entry("no-nulls")
        .column("small"),
    );
    v.push(
        t2(
            "D11-lying-max",
            "frame-batched",
            "InvalidColumn",
            "column score's max is 4.5, but its largest non-null value is 5.0",
            Box::new(|b: &[u8]| {
                craft(b, |c| {
                    let i = column(&c.m, "score");
                    c.m.columns[i].max = 4.5f64.to_bits();
                })
            }) as Build,
        )
        .field("max")
        .entry("batched")
        .column("score"),
    );
    v.push(
        t2(
            "D11-missing-range",
            "frame-batched",
            "InvalidColumn",
            "column id's stats byte is 0 (and min = max = 0), but it has 15 non-null values",
            Box::new(|b: &[u8]| {
                craft(b, |c| {
                    let i = column(&c.m, "id");
                    c.m.columns[i].stats = 0;
                    c.m.columns[i].min = 0;
                    c.m.columns[i].max = 0;
                })
            }) as Build,
        )
        .field("stats")
        .entry("batched")
        .column("id"),
    );
    v.push(
        t2(
            "D10-unknown-zone",
            "frame-empty",
            "InvalidColumn",
            "timestamp column when has the zone Mars/Olympus, of the form of an IANA time zone name but not one (the bytes of the former F4-unknown-zone: the name is checked on first access)",
            Box::new(|b: &[u8]| {
                craft(b, |c| {
                    c.m.column_text = c.m.column_text.replace("UTC", "Mars/Olympus");
                    let last = c.m.columns.len() - 1;
                    c.m.columns[last].zone_end = c.m.column_text.len() as u32;
                })
            }) as Build,
        )
        .field("zone")
        .entry("empty")
        .column("when"),
    );
    v.push(
        t2(
            "D5-offsets-start",
            "frame-no-nulls",
            "InvalidColumn",
            "the first offset of utf8 column text is 1 instead of 0",
            Box::new(|b: &[u8]| craft(b, |c| poke(c, TEXT_OFFSETS, |s| set_i64(s, 0, 1)))) as Build,
        )
        .field("offsets")
        .entry("no-nulls")
        .column("text"),
    );
    v.push(
        t2(
            "D5-offsets-decrease",
            "frame-no-nulls",
            "InvalidColumn",
            "the offsets of utf8 column text are 0, 5, 4, 4, 7: offset 1 is more than offset 2",
            Box::new(|b: &[u8]| craft(b, |c| poke(c, TEXT_OFFSETS, |s| set_i64(s, 1, 5)))) as Build,
        )
        .field("offsets")
        .entry("no-nulls")
        .column("text"),
    );
    v.push(
        t2(
            "D5-offsets-end",
            "frame-no-nulls",
            "InvalidColumn",
            "the last offset of utf8 column text is 6, one less than the length of its values",
            Box::new(|b: &[u8]| craft(b, |c| poke(c, TEXT_OFFSETS, |s| set_i64(s, 4, 6)))) as Build,
        )
        .field("offsets")
        .entry("no-nulls")
        .column("text"),
    );
    v.push(
        t2(
            "D5-dictionary-offsets",
            "frame-no-nulls",
            "InvalidColumn",
            "dictionary offset 1 of categorical column color is 100, past the dictionary values",
            Box::new(|b: &[u8]| craft(b, |c| poke(c, COLOR_DICT_OFFSETS, |s| set_i64(s, 1, 100))))
                as Build,
        )
        .field("dictionary_offsets")
        .entry("no-nulls")
        .column("color"),
    );
    v.push(
        t2(
            "D6-invalid-utf8",
            "frame-no-nulls",
            "InvalidColumn",
            "the first byte of the values of utf8 column text is 0xff",
            Box::new(|b: &[u8]| craft(b, |c| poke(c, TEXT_VALUES, |s| s[0] = 0xff))) as Build,
        )
        .field("values")
        .entry("no-nulls")
        .column("text"),
    );
    v.push(
        t2("D6-offset-inside-character", "frame-no-nulls", "InvalidColumn", "the values of utf8 column text are \"aébxyz\" instead of \"abéxyz\" (valid UTF-8 of the same length): offset 2 falls inside é", Box::new(|b: &[u8]| {
            craft(b, |c| {
                poke(c, TEXT_VALUES, |s| {
                    assert_eq!(&s[..], "abéxyz".as_bytes());
                    s.copy_from_slice("aébxyz".as_bytes());
                })
            })
        }) as Build)
        .field("values")
        .entry("no-nulls")
        .column("text"),
    );
    v.push(
        t2(
            "D6-dictionary-utf8",
            "frame-no-nulls",
            "InvalidColumn",
            "the first byte of the dictionary values of categorical column color is 0xff",
            Box::new(|b: &[u8]| craft(b, |c| poke(c, COLOR_DICT_VALUES, |s| s[0] = 0xff))) as Build,
        )
        .field("dictionary_values")
        .entry("no-nulls")
        .column("color"),
    );
    v.push(
        t2(
            "D7-code-too-large",
            "frame-no-nulls",
            "InvalidColumn",
            "row 0 of categorical column color has code 3, but the dictionary has 3 strings",
            Box::new(|b: &[u8]| craft(b, |c| poke(c, COLOR_CODES, |s| set_i32(s, 0, 3)))) as Build,
        )
        .field("codes")
        .entry("no-nulls")
        .column("color"),
    );
    v.push(
        t2(
            "D7-code-negative",
            "frame-no-nulls",
            "InvalidColumn",
            "row 1 of categorical column color has code -1",
            Box::new(|b: &[u8]| craft(b, |c| poke(c, COLOR_CODES, |s| set_i32(s, 1, -1)))) as Build,
        )
        .field("codes")
        .entry("no-nulls")
        .column("color"),
    );
    v.push(
        t2("D8-fingerprint", "model-small", "SchemaMismatch", "model small's stored fingerprint has one bit flipped; its type name and schema text are Small's, so only the fingerprint computed from the expected schema text (SCHEMA.md §5) shows the mismatch", Box::new(|b: &[u8]| {
            craft(b, |c| c.m.models[1].fingerprint ^= 1)
        }) as Build)
        .model("small")
        .without_type(Some("SchemaMismatch")),
    );
    v.push(
        t2("D8-other-type", "model-small", "SchemaMismatch", "model small is a valid archive of a type also named Small with a fourth field (bias: f32), recorded with that type's schema text and fingerprint; asked for as the Small of model-small", Box::new(|b: &[u8]| {
            craft(b, |c| {
                let v2 = SmallV2 {
                    weights: vec![0.5, -1.25],
                    label: "a newer small model".into(),
                    activation: Activation::LeakyRelu { slope: 0.125 },
                    bias: 2.0,
                };
                let archive = rkyv::to_bytes::<rancor::Error>(&v2).expect("archive");
                c.set_decoded(SMALL, &archive);
                let text = brine::model::schema_text::<SmallV2>();
                let start = c.m.models[0].schema_end as usize;
                c.m.model_text.truncate(start);
                c.m.model_text.push_str("Small");
                c.m.models[1].type_name_end = c.m.model_text.len() as u32;
                c.m.model_text.push_str(&text);
                c.m.models[1].schema_end = c.m.model_text.len() as u32;
                c.m.models[1].fingerprint = <SmallV2 as Schema>::FINGERPRINT;
            })
        }) as Build)
        .model("small")
        .without_type(None),
    );
    v.push(
        t2("D9-enum-tag", "model-small", "InvalidModel", "the Activation tag of model small is 3, past its 3 variants (section checksum updated)", Box::new(|b: &[u8]| {
            craft(b, |c| {
                poke(c, SMALL, |a| {
                    let root = a.len() - 24;
                    a[root + 16] = 3;
                })
            })
        }) as Build)
        .model("small"),
    );
    v.push(
        t2(
            "D9-invalid-utf8",
            "model-small",
            "InvalidModel",
            "a byte of the out-of-line label of model small is 0xff (section checksum updated)",
            Box::new(|b: &[u8]| {
                craft(b, |c| {
                    poke(c, SMALL, |a| {
                        let root = a.len() - 24;
                        assert_eq!(a[root + 8] & 0xc0, 0x80, "an out-of-line label");
                        let ptr = i32::from_le_bytes(a[root + 12..root + 16].try_into().unwrap());
                        let at = (root + 8).checked_add_signed(ptr as isize).unwrap();
                        a[at] = 0xff;
                    })
                })
            }) as Build,
        )
        .model("small"),
    );
    v.push(
        t2("D9-pointer-out-of-bounds", "model-small", "InvalidModel", "the weights vector of model small points past the end of its archive (section checksum updated)", Box::new(|b: &[u8]| {
            craft(b, |c| {
                poke(c, SMALL, |a| {
                    let root = a.len() - 24;
                    a[root..root + 4].copy_from_slice(&64i32.to_le_bytes());
                })
            })
        }) as Build)
        .model("small"),
    );

    // ---- Verify (§14.8) ----
    let t3 =
        |name, base, error, description, build| Case::new(name, base, 3, error, description, build);
    v.push(
        t3(
            "V1-padding-between-sections",
            "short-names",
            "InvalidField",
            "byte 140, padding between sections 0 and 1, is 01",
            Box::new(|b: &[u8]| {
                let mut b = b.to_vec();
                b[140] = 1;
                b
            }) as Build,
        )
        .field("padding"),
    );
    v.push(
        t3(
            "V1-padding-before-manifest",
            "one-entry",
            "InvalidField",
            "byte 191, the last byte of padding before the manifest, is 01",
            Box::new(|b: &[u8]| {
                let mut b = b.to_vec();
                b[191] = 1;
                b
            }) as Build,
        )
        .field("padding"),
    );
    v.push(t3(
        "V2-section-checksum",
        "one-entry",
        "ChecksumMismatch",
        "the raw section's checksum has one bit flipped",
        Box::new(|b: &[u8]| craft(b, |c| c.m.sections[0].checksum ^= 1)) as Build,
    ));
    v.push(t3("V2-compressed-section-checksum", "model-small", "ChecksumMismatch", "the checksum of the stored bytes of model identity's zstd section has one bit flipped; its chunk decodes and matches its own checksum", Box::new(|b: &[u8]| {
        craft(b, |c| c.m.sections[IDENTITY].checksum ^= 1)
    }) as Build));
    v.push(
        t3("V3-chunk-garbage", "model-small", "Decompress", "the chunk of model identity is 0xaa bytes, not a zstd frame; the section's own checksum is that of these stored bytes", Box::new(|b: &[u8]| {
            craft(b, |c| {
                let n = frames(c, IDENTITY)[0].len();
                set_frame(c, IDENTITY, 0, vec![0xaa; n]);
            })
        }) as Build)
        .model("identity")
        .unreadable(),
    );
    v.push(
        t3("V3-chunk-checksum", "model-small", "ChecksumMismatch", "the checksum of the chunk of model identity has one bit flipped; the section's own checksum is correct", Box::new(|b: &[u8]| {
            craft(b, |c| {
                let k = c.chunk_range(IDENTITY).start;
                c.m.chunks[k].checksum ^= 1;
            })
        }) as Build)
        .model("identity")
        .unreadable(),
    );
    v
}

// ---------------------------------------------------------------------------------------------
// Checking brine's reader against a vector
// ---------------------------------------------------------------------------------------------

/// An error as the JSON files name it.
#[derive(Debug, Default)]
struct Named {
    error: &'static str,
    field: Option<String>,
    what: Option<String>,
    location: Option<String>,
    entry: Option<String>,
    column: Option<String>,
}

fn named(e: &Error) -> Named {
    let n = |error| Named {
        error,
        ..Named::default()
    };
    match e {
        Error::NotBrine { .. } => n("NotBrine"),
        Error::Truncated { what, .. } => Named {
            what: Some((*what).into()),
            ..n("Truncated")
        },
        Error::UnsupportedVersion { .. } => n("UnsupportedVersion"),
        Error::UnsupportedFeature { what, .. } => Named {
            what: Some(what.clone()),
            ..n("UnsupportedFeature")
        },
        Error::ChecksumMismatch { what, .. } => Named {
            what: Some(what.clone()),
            ..n("ChecksumMismatch")
        },
        Error::InvalidHeader { field, .. } => Named {
            field: Some((*field).into()),
            ..n("InvalidHeader")
        },
        Error::InvalidManifest { .. } => n("InvalidManifest"),
        Error::InvalidField {
            location, field, ..
        } => Named {
            field: Some((*field).into()),
            location: Some(location.clone()),
            ..n("InvalidField")
        },
        Error::SectionOutOfBounds { .. } => n("SectionOutOfBounds"),
        Error::SectionsOverlap { .. } => n("SectionsOverlap"),
        Error::LimitExceeded { what, .. } => Named {
            what: Some(what.clone()),
            ..n("LimitExceeded")
        },
        Error::Decompress { entry, .. } => Named {
            entry: Some(entry.clone()),
            ..n("Decompress")
        },
        Error::InvalidData { entry, .. } => Named {
            entry: Some(entry.clone()),
            ..n("InvalidData")
        },
        Error::Duplicate { what, .. } => Named {
            what: Some((*what).into()),
            ..n("Duplicate")
        },
        Error::InvalidColumn {
            entry,
            column,
            field,
            ..
        } => Named {
            field: Some((*field).into()),
            entry: Some(entry.clone()),
            column: Some(column.clone()),
            ..n("InvalidColumn")
        },
        Error::SchemaMismatch(m) => Named {
            entry: Some(m.entry.clone()),
            ..n("SchemaMismatch")
        },
        Error::InvalidModel { entry, .. } => Named {
            entry: Some(entry.clone()),
            ..n("InvalidModel")
        },
        other => panic!("an error no invalid vector expects: {other}"),
    }
}

/// Checks that `e` is the error `expected` (a vector's JSON) names.
fn check_error(name: &str, expected: &Value, e: &Error) {
    let got = named(e);
    let want = |key: &str| expected.get(key).and_then(Value::as_str);
    let context = format!("invalid vector {name}: brine raised {got:?} ({e})");
    assert_eq!(Some(got.error), want("error"), "{context}");
    assert_eq!(got.field.as_deref(), want("field"), "{context}: field");
    if let Some(what) = want("what") {
        assert!(
            got.what.as_deref().is_some_and(|w| w.contains(what)),
            "{context}: what should name {what:?}"
        );
    }
    if let Some(location) = want("location") {
        assert!(
            got.location
                .as_deref()
                .is_some_and(|l| l.contains(location)),
            "{context}: location should name {location:?}"
        );
    }
    for key in ["entry", "column"] {
        let value = if key == "entry" {
            &got.entry
        } else {
            &got.column
        };
        if let (Some(w), Some(g)) = (want(key), value) {
            assert_eq!(g, w, "{context}: {key}");
        }
    }
    // The message names the file, as every error of a file does.
    assert!(
        e.to_string().contains(name),
        "{context}: the message should name the file"
    );
}

/// Reads the whole data of an array.
fn read_array(r: &Reader, name: &str) -> brine::Result<()> {
    let a = r.array_entry(name)?;
    match a.dtype() {
        Dtype::Bool => a.view::<bool>().map(drop),
        Dtype::I8 => a.view::<i8>().map(drop),
        Dtype::I16 => a.view::<i16>().map(drop),
        Dtype::I32 => a.view::<i32>().map(drop),
        Dtype::I64 => a.view::<i64>().map(drop),
        Dtype::U8 => a.view::<u8>().map(drop),
        Dtype::U16 => a.view::<u16>().map(drop),
        Dtype::U32 => a.view::<u32>().map(drop),
        Dtype::U64 => a.view::<u64>().map(drop),
        Dtype::F16 => a.view::<half::f16>().map(drop),
        Dtype::BF16 => a.view::<half::bf16>().map(drop),
        Dtype::F32 => a.view::<f32>().map(drop),
        Dtype::F64 => a.view::<f64>().map(drop),
        other => panic!("a dtype this test does not know: {other}"),
    }
}

/// Reads entry `name` (and for a frame, only `column` if given, else every column); models as
/// `Small`, the only model type of the bases.
fn read(r: &Reader, name: &str, column: Option<&str>) -> brine::Result<()> {
    match r.entry(name)?.kind() {
        Kind::Array => read_array(r, name),
        Kind::Frame => {
            let f = r.frame(name)?;
            match column {
                Some(c) => f.column(c)?.buffers().map(drop),
                None => f.iter().try_for_each(|c| c.buffers().map(drop)),
            }
        }
        Kind::Model => r.model_entry(name)?.access::<Small>().map(drop),
        other => panic!("a kind this test does not know: {other:?}"),
    }
}

/// Reads every entry and column, except `skip` (an entry, and a column of it), and returns
/// the first error.
fn read_all_but(r: &Reader, skip: Option<(&str, Option<&str>)>) -> brine::Result<()> {
    let names: Vec<String> = r.entries().map(|e| e.name().to_owned()).collect();
    for name in &names {
        match skip {
            Some((entry, None)) if entry == name => {}
            Some((entry, Some(column))) if entry == name => {
                let f = r.frame(name)?;
                for c in f.iter().filter(|c| c.name() != column) {
                    c.buffers()?;
                }
            }
            _ => read(r, name, None)?,
        }
    }
    Ok(())
}

/// Checks brine's reader against the committed vector `path` and its JSON.
fn check_reader(name: &str, path: &Path, expected: &Value) {
    let tier = expected["tier"].as_u64().expect("tier");
    let mut options = Reader::options();
    if let Some(n) = expected["reader_options"]["max_manifest_length"].as_u64() {
        options = options.max_manifest_len(n);
    }
    let verified = options.clone().verify(true).open(path);
    let opened = options.open(path);
    if tier == 1 {
        let e = opened.err().unwrap_or_else(|| panic!("{name}: opened"));
        check_error(name, expected, &e);
        let e = verified
            .err()
            .unwrap_or_else(|| panic!("{name}: opened with verify"));
        check_error(name, expected, &e);
        return;
    }
    let r = opened.unwrap_or_else(|e| panic!("{name}: a tier-{tier} vector must open: {e}"));
    let entry = expected.get("entry").and_then(Value::as_str);
    let column = expected.get("column").and_then(Value::as_str);
    if tier == 2 {
        let entry = entry.expect("a tier-2 vector names its entry");
        // Everything else reads: the vector breaks its rule in that entry (column) only.
        read_all_but(&r, Some((entry, column)))
            .unwrap_or_else(|e| panic!("{name}: another entry or column fails: {e}"));
        assert_eq!(
            expected.get("model_type").and_then(Value::as_str),
            (r.entry(entry).unwrap().kind() == Kind::Model).then_some("Small"),
            "{name}: model_type"
        );
        let e = read(&r, entry, column)
            .err()
            .unwrap_or_else(|| panic!("{name}: {entry} reads"));
        check_error(name, expected, &e);
        // A failure is reported again on the next access (it is not cached as a success).
        let again = read(&r, entry, column)
            .err()
            .unwrap_or_else(|| panic!("{name}: {entry} reads the second time"));
        check_error(name, expected, &again);
        // The reader without a type finds what the typed one finds in the archive.
        if r.entry(entry).unwrap().kind() == Kind::Model && expected["error"] == "InvalidModel" {
            let e = r
                .model_entry(entry)
                .and_then(|m| m.decode_dynamic().map(drop))
                .err()
                .unwrap_or_else(|| panic!("{name}: decode_dynamic reads {entry}"));
            check_error(name, expected, &e);
        }
        if let Some(without) = expected.get("error_without_type") {
            check_without_type(name, &r, entry, without);
        }
        // D3 to D10 are content rules: the checksums are right, so verify passes. D11
        // (statistics against the data) is also checked by verify (FORMAT.md §14.8).
        if expected["rule"].as_str() == Some("D11") {
            let e = r
                .verify()
                .err()
                .unwrap_or_else(|| panic!("{name}: verify passes"));
            check_error(name, expected, &e);
        } else if !matches!(expected["rule"].as_str(), Some("D1" | "D2")) {
            r.verify()
                .unwrap_or_else(|e| panic!("{name}: verify must pass: {e}"));
        }
        return;
    }
    assert_eq!(tier, 3, "{name}: tier");
    let readable = expected["readable"].as_bool().expect("readable");
    match (readable, read_all_but(&r, None)) {
        (true, Err(e)) => panic!("{name}: a readable tier-3 vector fails to read: {e}"),
        (false, Ok(())) => panic!("{name}: every entry reads, but the JSON says it cannot"),
        (false, Err(e)) => check_error(name, expected, &e),
        (true, Ok(())) => {}
    }
    if let Some(entry) = entry {
        read_all_but(&r, Some((entry, None)))
            .unwrap_or_else(|e| panic!("{name}: another entry fails: {e}"));
    }
    let e = r
        .verify()
        .err()
        .unwrap_or_else(|| panic!("{name}: verifies"));
    check_error(name, expected, &e);
    let e = verified
        .err()
        .unwrap_or_else(|| panic!("{name}: opens with verify(true)"));
    check_error(name, expected, &e);
}

/// Rule D8 for a reader without a type of its own: it asks for the type of the stored schema
/// text, whose fingerprint it computes from the text. Here the texts are those of `Small` or
/// `SmallV2`, whose fingerprints brine computes.
fn check_without_type(name: &str, r: &Reader, entry: &str, expected: &Value) {
    let m = r.model_entry(entry).unwrap();
    let (text_fingerprint, readable) = if m.schema() == brine::model::schema_text::<Small>() {
        (<Small as Schema>::FINGERPRINT, None)
    } else {
        assert_eq!(m.schema(), brine::model::schema_text::<SmallV2>(), "{name}");
        let read = m.access::<SmallV2>().map(drop);
        (<SmallV2 as Schema>::FINGERPRINT, Some(read))
    };
    // brine's own reader without a type: the model decoded through its stored schema text.
    let dynamic = m.decode_dynamic();
    match (expected.as_str(), &dynamic) {
        (Some("SchemaMismatch"), Err(Error::SchemaMismatch(_))) | (None, Ok(_)) => {}
        (want, got) => panic!("{name}: decode_dynamic gave {got:?}, expected {want:?}"),
    }
    match expected.as_str() {
        Some("SchemaMismatch") => assert_ne!(
            text_fingerprint,
            m.fingerprint(),
            "{name}: the stored text's fingerprint should differ from the stored one"
        ),
        None => {
            assert_eq!(text_fingerprint, m.fingerprint(), "{name}: fingerprints");
            readable
                .expect("a readable type")
                .unwrap_or_else(|e| panic!("{name}: as the stored text's type: {e}"));
        }
        Some(other) => panic!("{name}: error_without_type {other}"),
    }
}

fn json_text(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("json");
    s.push('\n');
    s
}

/// The rule ids of the tables of FORMAT.md §14, with the tier of their subsection.
fn spec_rules() -> Vec<(String, u8)> {
    let spec = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("spec")
            .join("FORMAT.md"),
    )
    .expect("spec/FORMAT.md");
    let start = spec.find("\n## 14. ").expect("§14");
    let end = spec[start..].find("\n## 15. ").expect("§15") + start;
    let mut tier = 0;
    let mut rules = Vec::new();
    for line in spec[start..end].lines() {
        if line.starts_with("### 14.") {
            tier = ["(tier 1)", "(tier 2)", "(tier 3)"]
                .iter()
                .position(|t| line.contains(t))
                .map_or(0, |i| i as u8 + 1);
        }
        if let Some(rest) = line.strip_prefix("| **") {
            let id = rest.split("**").next().expect("a rule id");
            assert!(tier > 0, "rule {id} is under a heading without a tier");
            rules.push((id.to_owned(), tier));
        }
    }
    rules
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

/// Regenerates every vector, compares it with the committed files (or writes them when
/// blessing) and checks brine's reader against each committed file.
#[test]
fn invalid_vectors() {
    let bless = format!(
        "A changed invalid vector is a format change (or a changed valid vector it derives \
         from). To accept it deliberately, run `{BLESS_VAR}=1 cargo test --test \
         invalid_vectors` and commit spec/vectors/invalid/ with the spec change that explains it."
    );
    let dir = invalid_dir();
    if blessing() {
        std::fs::create_dir_all(&dir).expect("mkdir spec/vectors/invalid");
    }
    let cases = cases();
    let mut failures = Vec::new();
    for case in &cases {
        let base = std::fs::read(vectors_dir().join(format!("{}.brine", case.base)))
            .unwrap_or_else(|e| panic!("{}: base {}: {e}", case.name, case.base));
        let fresh = (case.build)(&base);
        let fresh_json = json_text(&case.json(&fresh));
        let path = dir.join(format!("{}.brine", case.name));
        let json_path = dir.join(format!("{}.json", case.name));
        if blessing() {
            std::fs::write(&path, &fresh).expect("write vector");
            std::fs::write(&json_path, &fresh_json).expect("write json");
        }
        let committed =
            std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}. {bless}", path.display()));
        let committed_json = std::fs::read_to_string(&json_path)
            .unwrap_or_else(|e| panic!("{}: {e}. {bless}", json_path.display()));
        if committed != fresh {
            failures.push(format!("{}.brine differs from its regeneration", case.name));
        }
        if committed_json != fresh_json {
            failures.push(format!("{}.json differs from its regeneration", case.name));
        }
        let expected: Value = serde_json::from_str(&committed_json).expect("json");
        check_reader(case.name, &path, &expected);
    }
    assert!(failures.is_empty(), "{}. {bless}", failures.join("; "));
}

/// Every rule of FORMAT.md §14 has a vector at the tier of its table, every vector names a
/// rule of §14, and the folder holds exactly the vectors' files.
#[test]
fn every_rule_has_an_invalid_vector() {
    let rules = spec_rules();
    assert!(rules.len() >= 53, "parsed only {} rules", rules.len());
    let cases = cases();
    for (rule, tier) in &rules {
        assert!(
            cases.iter().any(|c| c.rule == rule),
            "rule {rule} of spec/FORMAT.md §14 has no invalid vector in tests/invalid_vectors.rs"
        );
        for c in cases.iter().filter(|c| c.rule == rule) {
            assert_eq!(c.tier, *tier, "{}: the tier of rule {rule}", c.name);
        }
    }
    let mut names = BTreeSet::new();
    for c in &cases {
        assert!(
            rules.iter().any(|(r, _)| r == c.rule),
            "{} names rule {}, which §14 does not have",
            c.name,
            c.rule
        );
        assert!(names.insert(c.name), "{} is declared twice", c.name);
        assert_eq!(c.clause.is_some(), c.rule == "M3", "{}: clause", c.name);
    }
    if blessing() {
        return; // the files are being written by `invalid_vectors`
    }
    let mut files = BTreeSet::new();
    for f in std::fs::read_dir(invalid_dir()).expect("spec/vectors/invalid") {
        files.insert(f.expect("entry").file_name().into_string().expect("utf-8"));
    }
    let expected: BTreeSet<String> = cases
        .iter()
        .flat_map(|c| [format!("{}.brine", c.name), format!("{}.json", c.name)])
        .collect();
    let stray: Vec<_> = files.difference(&expected).collect();
    let missing: Vec<_> = expected.difference(&files).collect();
    assert!(
        stray.is_empty() && missing.is_empty(),
        "spec/vectors/invalid/: files of no vector {stray:?}, missing {missing:?}"
    );
    let readme = std::fs::read_to_string(vectors_dir().join("README.md")).expect("README.md");
    assert!(
        readme.contains("invalid/"),
        "spec/vectors/README.md describes the invalid vectors"
    );
}

/// The in-memory twin of each vector opens from a buffer with the same tier-1 result, so the
/// vectors do not depend on how the file is mapped; and `Small` is the type of `model-small`.
#[test]
fn invalid_vectors_from_buffers() {
    let small: Value = serde_json::from_str(
        &std::fs::read_to_string(vectors_dir().join("model-small.json")).expect("json"),
    )
    .expect("json");
    assert_eq!(
        small["entries"][1]["fingerprint"],
        json!(format!("{:#018x}", <Small as Schema>::FINGERPRINT)),
        "the Small of this test is the type of model-small"
    );
    for case in cases().iter().filter(|c| c.tier == 1) {
        let base = std::fs::read(vectors_dir().join(format!("{}.brine", case.base))).unwrap();
        let bytes = (case.build)(&base);
        let mut options = Reader::options();
        if let Some(n) = case.max_manifest_length {
            options = options.max_manifest_len(n);
        }
        let e = options
            .open_buffer(case.name, AlignedBuf::copy_from_slice(&bytes))
            .err()
            .unwrap_or_else(|| panic!("{}: opens from a buffer", case.name));
        check_error(case.name, &case.json(&bytes), &e);
    }
}

/// The hand-written zstd frames decode as zstd says: a raw-block frame of the right content
/// is accepted by brine's decoder, so that the D1 vectors fail for the reason they state.
#[test]
fn raw_frames_are_zstd() {
    let content: Vec<u8> = (0..36).collect();
    let mut out = vec![0; 36];
    brine::raw::codec::decompress_chunk(&raw_frame(&content), &mut out, 0, &mut Vec::new())
        .expect("a raw-block frame");
    assert_eq!(out, content);
}
