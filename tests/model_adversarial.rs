//! Models against hostile bytes (issue 4, "Bad input"): a wrong fingerprint, patched archive
//! bytes, truncated archives, corrupt compressed chunks, the wrong entry kind, the validation
//! cache, deep nesting, the writer's 2 GiB guard, and the rules of the model table (N1 to N3). Each test
//! asserts the error variant and its structured fields, and that the message names the file,
//! the entry and, for archive failures, the path inside the archive as bytecheck traces it
//! (`while checking field 'threshold' of struct 'ArchivedTree'; while checking index '3' of
//! slice; while checking field 'trees' of struct 'ArchivedForest'`).
//!
//! Archive bytes are located, not hard-coded ([`Located`]): the written section is accessed
//! with rkyv, and a field's position is the distance of its address from the start of the
//! section. The root's marker field, read at `offset_of!` within the root (the last bytes of
//! the section), checks the locating. Patches of the file's bytes leave the section's checksum
//! stale, so that `verify` must refuse the same file at open; patches through [`Crafted`]
//! recompute every checksum, so that only the validation on first access can notice.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::mem::offset_of;

use brine::frame::{Column, Frame};
use brine::model::{MAX_ARCHIVE_LEN, ModelOptions, Schema};
use brine::raw::manifest::{CODEC_RAW, CODEC_ZSTD, KIND_MODEL, Manifest};
use brine::{AlignedBuf, Codec, Error, OpenOptions, Reader, Result, SchemaMismatch, Writer};

#[path = "common/crafted.rs"]
mod crafted;
use crafted::Crafted;

/// The name crafted files are opened under; every message must name it.
const FILE: &str = "crafted.brine";

// ---------------------------------------------------------------------------------------------
// An allocator that remembers each thread's largest request
// ---------------------------------------------------------------------------------------------

/// Forwards to the system allocator and records, per thread, the largest single request:
/// tests run in parallel, and one of them allocates 2 GiB on purpose.
struct Watching;

thread_local! {
    // `const`, no destructor: reading it never allocates and works during thread teardown.
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    let _ = LARGEST.try_with(|l| l.set(l.get().max(size)));
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the only
// addition is a thread-local store, which does not allocate.
unsafe impl GlobalAlloc for Watching {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: forwarded contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: forwarded contract.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded contract.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: forwarded contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Watching = Watching;

/// Runs `f` and returns its result and the largest single allocation it made on this thread.
fn largest_allocation<R>(f: impl FnOnce() -> R) -> (R, usize) {
    LARGEST.with(|l| l.set(0));
    let r = f();
    (r, LARGEST.with(Cell::get))
}

/// The largest allocation a read of the baseline (a few KB) may make, whatever the bytes
/// claim.
const MAX_ALLOCATION: usize = 1 << 20;

// ---------------------------------------------------------------------------------------------
// The model types
// ---------------------------------------------------------------------------------------------

/// `Forest::marker`, read at the root of the archive to check that it is where it should be.
const MARKER: u32 = 0xB121_7E57;
/// `Forest::name`: longer than 8 bytes, so stored out of line; not ASCII.
const NAME: &str = "a name longer than eight bytes: ünïcödé";
/// `Forest::tag`: 4 bytes, stored inline.
const TAG: &str = "αβ";

/// The types of the baseline model; expanded twice, into [`v1`] and into [`twin`]: two sets
/// of distinct Rust types with the same structure, and so the same fingerprint.
macro_rules! forest_types {
    () => {
        #[derive(
            rkyv::Archive,
            rkyv::Serialize,
            rkyv::Deserialize,
            brine::Schema,
            Clone,
            Debug,
            PartialEq,
        )]
        pub struct Forest {
            pub marker: u32,
            pub trees: Vec<Tree>,
            pub name: String,
            pub tag: String,
            pub kind: Kind,
            pub active: bool,
        }

        #[derive(
            rkyv::Archive,
            rkyv::Serialize,
            rkyv::Deserialize,
            brine::Schema,
            Clone,
            Debug,
            PartialEq,
        )]
        pub struct Tree {
            pub feature: u32,
            pub threshold: Threshold,
            pub leaf: bool,
        }

        #[derive(
            rkyv::Archive,
            rkyv::Serialize,
            rkyv::Deserialize,
            brine::Schema,
            Clone,
            Debug,
            PartialEq,
        )]
        pub enum Threshold {
            Below(f32),
            Missing,
            Above(f32),
        }

        #[derive(
            rkyv::Archive,
            rkyv::Serialize,
            rkyv::Deserialize,
            brine::Schema,
            Clone,
            Debug,
            PartialEq,
        )]
        pub enum Kind {
            Classifier { classes: u32, calibrated: bool },
            Regressor,
        }
    };
}

/// The types the baseline is written with.
mod v1 {
    forest_types!();
}

/// The same types again: other Rust types, the same fingerprint.
mod twin {
    forest_types!();
}

/// `Tree::feature` is a `u64` (a field's type changed).
mod feature_u64 {
    use super::v1::{Kind, Threshold};

    #[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema)]
    pub struct Forest {
        pub marker: u32,
        pub trees: Vec<Tree>,
        pub name: String,
        pub tag: String,
        pub kind: Kind,
        pub active: bool,
    }

    #[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema)]
    pub struct Tree {
        pub feature: u64,
        pub threshold: Threshold,
        pub leaf: bool,
    }
}

/// `Forest::active` is called `enabled` (a field renamed).
mod active_renamed {
    use super::v1::{Kind, Tree};

    #[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema)]
    pub struct Forest {
        pub marker: u32,
        pub trees: Vec<Tree>,
        pub name: String,
        pub tag: String,
        pub kind: Kind,
        pub enabled: bool,
    }
}

/// `Tree` has one more field, `depth`.
mod depth_added {
    use super::v1::{Kind, Threshold};

    #[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema)]
    pub struct Forest {
        pub marker: u32,
        pub trees: Vec<Tree>,
        pub name: String,
        pub tag: String,
        pub kind: Kind,
        pub active: bool,
    }

    #[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema)]
    pub struct Tree {
        pub feature: u32,
        pub threshold: Threshold,
        pub leaf: bool,
        pub depth: u8,
    }
}

/// `Threshold::Missing` is called `Absent` (an enum variant renamed).
mod variant_renamed {
    use super::v1::Kind;

    #[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema)]
    pub struct Forest {
        pub marker: u32,
        pub trees: Vec<Tree>,
        pub name: String,
        pub tag: String,
        pub kind: Kind,
        pub active: bool,
    }

    #[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema)]
    pub struct Tree {
        pub feature: u32,
        pub threshold: Threshold,
        pub leaf: bool,
    }

    #[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema)]
    pub enum Threshold {
        Below(f32),
        Absent,
        Above(f32),
    }
}

/// `Forest` is called `Woods` (the type renamed), with the same fields.
mod type_renamed {
    use super::v1::{Kind, Tree};

    #[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema)]
    pub struct Woods {
        pub marker: u32,
        pub trees: Vec<Tree>,
        pub name: String,
        pub tag: String,
        pub kind: Kind,
        pub active: bool,
    }
}

use v1::{ArchivedForest, ArchivedKind, ArchivedThreshold, Forest, Kind, Threshold, Tree};

/// Five trees: `trees[3]` is the one nested failures are planted in.
const TREES: usize = 5;

fn forest() -> Forest {
    Forest {
        marker: MARKER,
        trees: (0..TREES as u32)
            .map(|i| Tree {
                feature: i * 10,
                threshold: match i % 3 {
                    0 => Threshold::Below(i as f32 + 0.5),
                    1 => Threshold::Missing,
                    _ => Threshold::Above(-(i as f32)),
                },
                leaf: i % 2 == 1,
            })
            .collect(),
        name: NAME.to_owned(),
        tag: TAG.to_owned(),
        kind: Kind::Classifier {
            classes: 3,
            calibrated: true,
        },
        active: true,
    }
}

// ---------------------------------------------------------------------------------------------
// The baseline
// ---------------------------------------------------------------------------------------------

/// The baseline file as the writer writes it: array "arr", frame "frame", model "forest"
/// (raw, version 2) and model "packed" (zstd), both [`forest`].
fn written() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.brine");
    let mut w = Writer::create(&path).unwrap();
    w.put_array("arr", &[1.5f32, 2.5], &[2]).unwrap();
    let frame = Frame::builder()
        .column("x", Column::new(vec![1i32, 2, 3]))
        .build()
        .unwrap();
    w.put_frame("frame", &frame).unwrap();
    w.put_model_with("forest", &forest(), &ModelOptions::new().version(2))
        .unwrap();
    w.put_model_with(
        "packed",
        &forest(),
        &ModelOptions::new().codec(Codec::zstd()),
    )
    .unwrap();
    w.finish().unwrap();
    std::fs::read(&path).unwrap()
}

fn baseline() -> Crafted {
    Crafted::from_written(&written())
}

fn open(bytes: &[u8]) -> Result<Reader> {
    open_with(Reader::options(), bytes)
}

fn open_with(options: OpenOptions, bytes: &[u8]) -> Result<Reader> {
    options.open_buffer(FILE, AlignedBuf::copy_from_slice(bytes))
}

/// Every entry's name, in entry-table order.
fn entry_names(m: &Manifest) -> Vec<String> {
    let mut start = 0;
    m.entries
        .iter()
        .map(|e| {
            let name = m.names[start..e.name_end as usize].to_owned();
            start = e.name_end as usize;
            name
        })
        .collect()
}

/// The row of model entry `name` in the model table.
fn model_row(m: &Manifest, name: &str) -> usize {
    let i = entry_names(m)
        .iter()
        .position(|n| n == name)
        .unwrap_or_else(|| panic!("no entry {name:?}"));
    assert_eq!(m.entries[i].kind, KIND_MODEL, "{name}");
    m.entries[i].index as usize
}

/// The index of model `name`'s section in the section table.
fn model_section(m: &Manifest, name: &str) -> usize {
    m.models[model_row(m, name)].section as usize
}

/// Each model row's type name and schema text.
fn model_texts(m: &Manifest) -> Vec<(String, String)> {
    let mut start = 0;
    m.models
        .iter()
        .map(|row| {
            let (name_end, schema_end) = (row.type_name_end as usize, row.schema_end as usize);
            let text = (
                m.model_text[start..name_end].to_owned(),
                m.model_text[name_end..schema_end].to_owned(),
            );
            start = schema_end;
            text
        })
        .collect()
}

/// Rewrites `model_text` with the type name and schema of model row `row` replaced, moving
/// every later end, as a writer would have laid them out.
fn set_model_text(m: &mut Manifest, row: usize, type_name: &str, schema: &str) {
    let mut texts = model_texts(m);
    texts[row] = (type_name.to_owned(), schema.to_owned());
    m.model_text.clear();
    for (meta, (name, schema)) in m.models.iter_mut().zip(texts) {
        m.model_text.push_str(&name);
        meta.type_name_end = m.model_text.len() as u32;
        m.model_text.push_str(&schema);
        meta.schema_end = m.model_text.len() as u32;
    }
}

/// The archive of a raw model located in a file: where its section is, and its bytes
/// accessed with rkyv, so that tests find a field's bytes from its address.
struct Located {
    /// Index of the section in the section table.
    section: usize,
    /// Where the section starts in the file.
    start: usize,
    /// A copy of the section's bytes, aligned as rkyv needs.
    archive: rkyv::util::AlignedVec<16>,
}

impl Located {
    /// Locates raw model `name` in `bytes`, and checks the locating: the root is the last
    /// `size_of::<ArchivedForest>()` bytes, with [`MARKER`] in its `marker` field.
    fn new(bytes: &[u8], name: &str) -> Located {
        let c = Crafted::from_written(bytes);
        let section = model_section(&c.m, name);
        let s = &c.m.sections[section];
        assert_eq!(s.codec, CODEC_RAW, "model {name:?} is stored raw");
        let start = s.offset as usize;
        let mut archive = rkyv::util::AlignedVec::<16>::new();
        archive.extend_from_slice(&bytes[start..start + s.length as usize]);
        let l = Located {
            section,
            start,
            archive,
        };
        let root = l.archive.len() - size_of::<ArchivedForest>();
        assert_eq!(l.pos(l.root()), root);
        assert_eq!(l.u32_at(root + offset_of!(ArchivedForest, marker)), MARKER);
        l
    }

    /// The archived root, validated.
    fn root(&self) -> &ArchivedForest {
        rkyv::access::<ArchivedForest, rancor::Error>(&self.archive).unwrap()
    }

    /// The position inside the section of the value `field` refers to.
    fn pos<T: ?Sized>(&self, field: &T) -> usize {
        let at = (field as *const T).cast::<u8>() as usize;
        let base = self.archive.as_ptr() as usize;
        assert!((base..base + self.archive.len()).contains(&at));
        at - base
    }

    fn u32_at(&self, pos: usize) -> u32 {
        u32::from_le_bytes(self.archive[pos..pos + 4].try_into().unwrap())
    }

    fn i32_at(&self, pos: usize) -> i32 {
        i32::from_le_bytes(self.archive[pos..pos + 4].try_into().unwrap())
    }

    /// The position of `Forest::trees`, an `ArchivedVec`: a relative pointer (an `i32`
    /// offset from the vector's own position to its first element) and a `u32` length. The
    /// layout is checked against the archive.
    fn trees(&self) -> usize {
        let root = self.root();
        let at = self.pos(&root.trees);
        let first = self.pos(&root.trees[0]);
        assert_eq!(self.i32_at(at) as isize, first as isize - at as isize);
        assert_eq!(self.u32_at(at + 4) as usize, TREES);
        at
    }

    /// The position of the tag byte of `Forest::kind` (0, `Classifier`).
    fn kind_tag(&self) -> usize {
        let at = self.pos(&self.root().kind);
        assert_eq!(self.archive[at], 0);
        at
    }

    /// The position of `calibrated` in `Forest::kind`.
    fn calibrated(&self) -> usize {
        match &self.root().kind {
            ArchivedKind::Classifier { calibrated, .. } => self.pos(calibrated),
            ArchivedKind::Regressor => unreachable!(),
        }
    }

    /// The position of the tag byte of `trees[3].threshold` (0, `Below`).
    fn threshold_tag(&self) -> usize {
        let threshold = &self.root().trees[3].threshold;
        assert!(matches!(threshold, ArchivedThreshold::Below(_)));
        let at = self.pos(threshold);
        assert_eq!(self.archive[at], 0);
        at
    }

    /// The position of the bytes of `s` (of the archive).
    fn str_bytes(&self, s: &rkyv::string::ArchivedString) -> usize {
        self.pos(s.as_str().as_bytes())
    }
}

// ---------------------------------------------------------------------------------------------
// Assertions
// ---------------------------------------------------------------------------------------------

/// Asserts that the message of `e` names every one of `parts`.
#[track_caller]
fn assert_names(e: &Error, parts: &[&str]) {
    let message = e.to_string();
    for part in parts {
        assert!(
            message.contains(part),
            "the message {message:?} does not name {part:?}"
        );
    }
}

/// Asserts that `text` holds every one of `parts`, in this order.
#[track_caller]
fn assert_in_order(text: &str, parts: &[&str]) {
    let mut rest = text;
    for part in parts {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => panic!("{text:?} does not hold {part:?} (after the parts before it)"),
        }
    }
}

/// The error of `result`, which must be one.
#[track_caller]
fn err<T>(result: Result<T>) -> Error {
    match result {
        Ok(_) => panic!("expected an error, got a value"),
        Err(e) => e,
    }
}

/// The error of opening `bytes`.
#[track_caller]
fn open_err(bytes: &[u8]) -> Error {
    err(open(bytes))
}

/// Asserts that `result` is [`Error::InvalidModel`] of `entry`, naming the file, the entry,
/// the type `Forest` and each of `path` in order (the message of the innermost error, then
/// the trace outwards); returns the detail.
#[track_caller]
fn assert_invalid_model<T>(result: Result<T>, entry: &str, path: &[&str]) -> String {
    let e = err(result);
    let Error::InvalidModel {
        entry: found,
        detail,
        ..
    } = &e
    else {
        panic!("expected InvalidModel of {entry:?}, got {e:?}");
    };
    assert_eq!(found, entry, "{e}");
    assert_names(&e, &[FILE, &format!("model {entry:?}"), "Forest"]);
    assert_in_order(detail, path);
    detail.clone()
}

/// Asserts that every read of model "forest" in `bytes` fails validation with `path`, on
/// every call, while the rest of the file reads; that the reads allocate nothing sized by
/// the bytes; and that `verify` refuses the file at open (its patch left the checksum
/// stale). Returns the detail.
#[track_caller]
fn assert_patch_refused(bytes: &[u8], path: &[&str]) -> String {
    let r = open(bytes).expect("opens without verify");
    let (detail, largest) = largest_allocation(|| {
        let detail = assert_invalid_model(r.model::<Forest>("forest"), "forest", path);
        // A failure is not cached: the second call validates again and fails again.
        assert_eq!(
            assert_invalid_model(r.model::<Forest>("forest"), "forest", path),
            detail
        );
        assert_invalid_model(r.load_model::<Forest>("forest"), "forest", path);
        // The twin type is validated on its own, and fails the same way.
        let e = err(r.model::<twin::Forest>("forest"));
        assert!(matches!(e, Error::InvalidModel { .. }), "{e:?}");
        detail
    });
    assert!(
        largest <= MAX_ALLOCATION,
        "an allocation of {largest} bytes"
    );
    // The other entries are untouched.
    assert_eq!(r.load_model::<Forest>("packed").unwrap(), forest());
    assert_eq!(r.array::<f32>("arr").unwrap().as_slice(), &[1.5, 2.5]);
    let e = err(open_with(Reader::options().verify(true), bytes));
    assert!(
        matches!(&e, Error::ChecksumMismatch { what, .. } if what.contains("entry \"forest\"")),
        "{e:?}"
    );
    assert_names(&e, &[FILE, "\"forest\""]);
    detail
}

/// Patches the archive of model "forest" in a copy of `bytes` with `patch` (given the
/// located archive and the section's bytes in the file) and asserts [`assert_patch_refused`].
#[track_caller]
fn assert_archive_patch(
    bytes: &[u8],
    patch: impl FnOnce(&Located, &mut [u8]),
    path: &[&str],
) -> String {
    let l = Located::new(bytes, "forest");
    let mut bytes = bytes.to_vec();
    let section = &mut bytes[l.start..l.start + l.archive.len()];
    patch(&l, section);
    assert_patch_refused(&bytes, path)
}

/// Asserts that `result` is [`Error::SchemaMismatch`] of model "forest", stored as `Forest`
/// version 2 and asked as `expected_type`, naming the file and the entry; returns the
/// details.
#[track_caller]
fn assert_mismatch<T>(result: Result<T>, expected_type: &str) -> Box<SchemaMismatch> {
    let e = err(result);
    assert_names(
        &e,
        &[
            FILE,
            "model \"forest\"",
            "was written as Forest, version 2",
            &format!("this program expects {expected_type}"),
        ],
    );
    let Error::SchemaMismatch(details) = e else {
        panic!("expected SchemaMismatch, got {e:?}")
    };
    assert_eq!(details.entry, "forest");
    assert_eq!(details.file.to_str(), Some(FILE));
    assert_eq!(
        (details.stored_type.as_str(), details.expected_type.as_str()),
        ("Forest", expected_type)
    );
    assert_eq!(details.stored_version, Some(2));
    assert_eq!(details.stored_fingerprint, Forest::FINGERPRINT);
    assert_eq!(details.stored_schema, brine::model::schema_text::<Forest>());
    details
}

/// Asserts that reading "forest" as `T` is refused with a diff at `line`, whose stored and
/// expected lines hold `stored` and `expected`.
macro_rules! assert_refused_as {
    ($r:expr, $t:ty, $type_name:expr, line $line:expr, $stored:expr, $expected:expr) => {{
        let details = assert_mismatch($r.model::<$t>("forest"), $type_name);
        assert_ne!(details.expected_fingerprint, details.stored_fingerprint);
        assert_eq!(details.expected_fingerprint, <$t as Schema>::FINGERPRINT);
        assert_eq!(details.expected_schema, brine::model::schema_text::<$t>());
        let diff = details.diff.as_ref().expect("the schema texts differ");
        assert_eq!(diff.line, $line, "{diff}");
        let stored = diff.stored.as_deref().unwrap_or_default();
        let expected = diff.expected.as_deref().unwrap_or_default();
        assert!(stored.contains($stored), "{diff}");
        assert!(expected.contains($expected), "{diff}");
        let message = details.to_string();
        assert!(
            message.contains(&format!("first difference at line {}", $line)),
            "{message}"
        );
        // Refused by the entry's accessor too.
        let e = err($r.model_entry("forest").unwrap().access::<$t>());
        assert!(matches!(e, Error::SchemaMismatch(_)), "{e:?}");
    }};
}

/// Asserts that `bytes` are refused at open with [`Error::InvalidField`] of `field` at
/// `location`, naming the file, the location and the field.
#[track_caller]
fn assert_field(bytes: &[u8], location: &str, field: &str) -> Error {
    let e = open_err(bytes);
    assert!(
        matches!(&e, Error::InvalidField { location: l, field: f, .. } if l == location && *f == field),
        "expected InvalidField {{ location: {location:?}, field: {field:?} }}, got {e:?}"
    );
    assert_names(&e, &[FILE, location, field]);
    e
}

// ---------------------------------------------------------------------------------------------
// The baseline is valid
// ---------------------------------------------------------------------------------------------

#[test]
fn crafted_baseline_is_valid() {
    let w = written();
    let c = Crafted::from_written(&w);
    assert_eq!(c.bytes(), w);
    let r = open_with(Reader::options().verify(true), &w).unwrap();
    for name in ["forest", "packed"] {
        let m = r.model::<Forest>(name).unwrap();
        assert_eq!(m.marker, MARKER);
        assert_eq!(m.name.as_str(), NAME);
        assert_eq!(m.tag.as_str(), TAG);
        assert_eq!(r.load_model::<Forest>(name).unwrap(), forest());
    }
    assert_eq!(r.model_entry("forest").unwrap().version(), Some(2));
    assert_eq!(
        c.m.sections[model_section(&c.m, "packed")].codec,
        CODEC_ZSTD
    );
    // The locating helpers agree with the archive.
    let l = Located::new(&w, "forest");
    l.trees();
    l.kind_tag();
    l.threshold_tag();
    l.calibrated();
    assert_eq!(
        &l.archive[l.str_bytes(&l.root().name)..][..NAME.len()],
        NAME.as_bytes()
    );
    // The long name is out of line: its bytes are not inside the root.
    let root = l.archive.len() - size_of::<ArchivedForest>();
    assert!(l.str_bytes(&l.root().name) < root);
    assert!(l.str_bytes(&l.root().tag) >= root);
}

// ---------------------------------------------------------------------------------------------
// Wrong fingerprint (rule D8)
// ---------------------------------------------------------------------------------------------

#[test]
fn field_type_changed_is_schema_mismatch() {
    let r = open(&written()).unwrap();
    assert_refused_as!(r, feature_u64::Forest, "Forest", line 3, "feature: u32", "feature: u64");
    // The owned read is refused the same way.
    let e = err(r.load_model::<feature_u64::Forest>("forest"));
    assert!(matches!(e, Error::SchemaMismatch(_)), "{e:?}");
}

#[test]
fn field_renamed_is_schema_mismatch() {
    let r = open(&written()).unwrap();
    assert_refused_as!(r, active_renamed::Forest, "Forest", line 2, "active: bool", "enabled: bool");
}

#[test]
fn field_added_is_schema_mismatch() {
    let r = open(&written()).unwrap();
    assert_refused_as!(r, depth_added::Forest, "Forest", line 3, "leaf: bool }", "depth: u8");
}

#[test]
fn enum_variant_renamed_is_schema_mismatch() {
    let r = open(&written()).unwrap();
    assert_refused_as!(r, variant_renamed::Forest, "Forest", line 4, "Missing", "Absent");
}

#[test]
fn type_renamed_is_schema_mismatch() {
    let r = open(&written()).unwrap();
    assert_refused_as!(r, type_renamed::Woods, "Woods", line 1, "root: Forest", "root: Woods");
}

#[test]
fn a_different_type_altogether_is_schema_mismatch() {
    let r = open(&written()).unwrap();
    assert_refused_as!(r, Vec<u32>, "Vec<u32>", line 1, "root: Forest", "root: Vec<u32>");
}

#[test]
fn altered_fingerprint_with_equal_schema_text_is_schema_mismatch_without_diff() {
    let c = baseline();
    let row = model_row(&c.m, "forest");
    let bytes = c.bytes_edited(|m| m.models[row].fingerprint ^= 1);
    let r = open_with(Reader::options().verify(true), &bytes).unwrap();
    let e = err(r.model::<Forest>("forest"));
    let message = e.to_string();
    let Error::SchemaMismatch(details) = e else {
        panic!("expected SchemaMismatch, got {e:?}")
    };
    assert_eq!(details.stored_fingerprint, Forest::FINGERPRINT ^ 1);
    assert_eq!(details.expected_fingerprint, Forest::FINGERPRINT);
    assert_eq!(details.stored_schema, details.expected_schema);
    assert_eq!(details.diff, None);
    assert!(
        message.contains("the schema texts are equal but the fingerprints differ"),
        "{message}"
    );
    assert!(
        message.contains(FILE) && message.contains("\"forest\""),
        "{message}"
    );
    // The other model, untouched, reads.
    r.model::<Forest>("packed").unwrap();
}

#[test]
fn schema_mismatch_is_reported_before_the_archive_is_read() {
    // D8 before D9 (and before decoding): a wrong type is refused as such even when the
    // archive is invalid, empty, or does not decompress.
    let c = baseline();
    let l = Located::new(&c.bytes(), "forest");
    let at = l.pos(&l.root().active);
    let forest = model_section(&c.m, "forest");
    let packed = model_section(&c.m, "packed");
    let files = [
        c.patched(forest, |raw| raw[at] = 2).bytes(),
        c.patched(forest, Vec::clear).bytes(),
        c.with_garbage_chunk(packed, 0, 0xFF).bytes(),
    ];
    for bytes in files {
        let r = open(&bytes).unwrap();
        for name in ["forest", "packed"] {
            let e = err(r.model::<feature_u64::Forest>(name));
            assert!(
                matches!(&e, Error::SchemaMismatch(d) if d.entry == name),
                "{e:?}"
            );
        }
        // With the right type, one of the two fails.
        assert!(r.model::<Forest>("forest").is_err() || r.model::<Forest>("packed").is_err());
    }
}

// ---------------------------------------------------------------------------------------------
// Archive bytes (rule D9), raw model: patched in the file, checksums left stale
// ---------------------------------------------------------------------------------------------

#[test]
fn bool_set_to_2_is_invalid_model() {
    let w = written();
    assert_archive_patch(
        &w,
        |l, s| s[l.pos(&l.root().active)] = 2,
        &[
            "bool set to invalid byte 2",
            "while checking field 'active' of struct 'ArchivedForest'",
        ],
    );
}

#[test]
fn enum_tag_out_of_range_is_invalid_model() {
    let w = written();
    // `Kind` has 2 variants: tags 0 and 1.
    for tag in [2, 0xFF] {
        assert_archive_patch(
            &w,
            |l, s| s[l.kind_tag()] = tag,
            &[
                &format!("invalid discriminant '{tag}' for enum 'ArchivedKind'"),
                "while checking field 'kind' of struct 'ArchivedForest'",
            ],
        );
    }
}

#[test]
fn bool_inside_an_enum_variant_is_invalid_model() {
    assert_archive_patch(
        &written(),
        |l, s| s[l.calibrated()] = 7,
        &[
            "bool set to invalid byte 7",
            "while checking field 'calibrated' of variant 'Classifier' of enum 'ArchivedKind'",
            "while checking field 'kind' of struct 'ArchivedForest'",
        ],
    );
}

#[test]
fn invalid_utf8_in_an_out_of_line_string_is_invalid_model() {
    let w = written();
    // A continuation byte where a character starts, a lead byte at the end (in place of the
    // last continuation byte of 'é'), and 0xFF.
    for (at, byte) in [(0, 0x80), (NAME.len() - 1, 0xC3), (5, 0xFF)] {
        assert_archive_patch(
            &w,
            |l, s| s[l.str_bytes(&l.root().name) + at] = byte,
            &[
                "invalid UTF-8",
                "while checking field 'name' of struct 'ArchivedForest'",
            ],
        );
    }
}

#[test]
fn invalid_utf8_in_an_inline_string_is_invalid_model() {
    assert_archive_patch(
        &written(),
        |l, s| s[l.str_bytes(&l.root().tag) + 1] = b'a',
        &[
            "invalid UTF-8",
            "while checking field 'tag' of struct 'ArchivedForest'",
        ],
    );
}

#[test]
fn vec_pointer_out_of_the_archive_is_invalid_model() {
    let w = written();
    let l = Located::new(&w, "forest");
    let at = l.trees() as i32;
    let len = l.archive.len() as i32;
    let offsets = [
        i32::MAX,
        i32::MIN,
        // One byte before the start of the archive, and a whole element before it.
        -at - 1,
        -at - 12,
        // Into the root itself, and just past the end of the archive.
        0,
        len - at,
    ];
    for offset in offsets {
        assert_archive_patch(
            &w,
            |l, s| {
                let at = l.trees();
                s[at..at + 4].copy_from_slice(&offset.to_le_bytes());
            },
            &[
                "subtree pointer overran range",
                "while checking field 'trees' of struct 'ArchivedForest'",
            ],
        );
    }
}

#[test]
fn vec_length_huge_is_invalid_model_without_allocating() {
    let w = written();
    let set_len = |len: u32| {
        move |l: &Located, s: &mut [u8]| {
            let at = l.trees() + 4;
            s[at..at + 4].copy_from_slice(&len.to_le_bytes());
        }
    };
    // The allocation bound is asserted by `assert_patch_refused`. `u32::MAX / 12 + 1`
    // elements of 12 bytes pass 2^32 bytes.
    for len in [u32::MAX, u32::MAX / 12 + 1, 1 << 28] {
        assert_archive_patch(
            &w,
            set_len(len),
            &[
                "subtree pointer overran range",
                "while checking field 'trees' of struct 'ArchivedForest'",
            ],
        );
    }
    // One element more than written: the next bytes (of the name) are not a tree.
    assert_archive_patch(
        &w,
        set_len(TREES as u32 + 1),
        &[
            &format!("while checking index '{TREES}' of slice"),
            "while checking field 'trees' of struct 'ArchivedForest'",
        ],
    );
}

#[test]
fn nested_enum_tag_names_the_path_inside_the_archive() {
    let detail = assert_archive_patch(
        &written(),
        |l, s| s[l.threshold_tag()] = 3,
        &[
            "invalid discriminant '3' for enum 'ArchivedThreshold'",
            "while checking field 'threshold' of struct 'ArchivedTree'",
            "while checking index '3' of slice",
            "while checking field 'trees' of struct 'ArchivedForest'",
        ],
    );
    eprintln!("{detail}");
}

#[test]
fn nested_bool_names_the_path_inside_the_archive() {
    assert_archive_patch(
        &written(),
        |l, s| s[l.pos(&l.root().trees[3].leaf)] = 2,
        &[
            "bool set to invalid byte 2",
            "while checking field 'leaf' of struct 'ArchivedTree'",
            "while checking index '3' of slice",
            "while checking field 'trees' of struct 'ArchivedForest'",
        ],
    );
}

#[test]
fn patched_archive_with_recomputed_checksums_passes_verify_and_fails_on_access() {
    // The same corruption through `Crafted`, which recomputes the checksums: `verify` cannot
    // notice, only the validation on first access does.
    let c = baseline();
    let l = Located::new(&c.bytes(), "forest");
    let at = l.threshold_tag();
    let bad = c.patched(l.section, |raw| raw[at] = 3).bytes();
    let r = open_with(Reader::options().verify(true), &bad).unwrap();
    assert_invalid_model(
        r.model::<Forest>("forest"),
        "forest",
        &["while checking index '3' of slice"],
    );
}

// ---------------------------------------------------------------------------------------------
// Truncated archives
// ---------------------------------------------------------------------------------------------

#[test]
fn every_truncated_archive_is_invalid_model() {
    // The section is cut to every shorter length (the tables say so, and the checksums match):
    // the root moves to the new end, over bytes that are not a root.
    let c = baseline();
    let s = model_section(&c.m, "forest");
    let len = c.stored[s].len();
    let (_, largest) = largest_allocation(|| {
        for cut in 0..len {
            let bytes = c.patched(s, |raw| raw.truncate(cut)).bytes();
            let r = open_with(Reader::options().verify(true), &bytes)
                .unwrap_or_else(|e| panic!("length {cut}: {e}"));
            assert_eq!(r.model_entry("forest").unwrap().archive_len(), cut as u64);
            let e = err(r.model::<Forest>("forest"));
            assert!(
                matches!(&e, Error::InvalidModel { entry, .. } if entry == "forest"),
                "length {cut}: {e:?}"
            );
            assert_names(&e, &[FILE, "model \"forest\""]);
            let e = err(r.load_model::<Forest>("forest"));
            assert!(
                matches!(e, Error::InvalidModel { .. }),
                "length {cut}: {e:?}"
            );
        }
    });
    assert!(
        largest <= MAX_ALLOCATION,
        "an allocation of {largest} bytes"
    );
}

#[test]
fn empty_archive_is_invalid_model() {
    let c = baseline();
    let s = model_section(&c.m, "forest");
    let bytes = c.patched(s, Vec::clear).bytes();
    let r = open_with(Reader::options().verify(true), &bytes).unwrap();
    assert_eq!(r.model_entry("forest").unwrap().archive_len(), 0);
    // The root does not fit.
    let root = format!("size {}", size_of::<ArchivedForest>());
    for _ in 0..2 {
        assert_invalid_model(
            r.model::<Forest>("forest"),
            "forest",
            &["subtree pointer overran range", &root],
        );
    }
    assert_invalid_model(r.load_model::<Forest>("forest"), "forest", &[&root]);
}

#[test]
fn archive_with_trailing_bytes_is_invalid_model() {
    // Bytes after the archive move the root (spec §9: the section holds the archive exactly).
    let c = baseline();
    let s = model_section(&c.m, "forest");
    for extra in [1, 4, 8] {
        let bytes = c
            .patched(s, |raw| raw.extend(std::iter::repeat_n(0xAB, extra)))
            .bytes();
        let r = open(&bytes).unwrap();
        assert_invalid_model(r.model::<Forest>("forest"), "forest", &[]);
    }
}

// ---------------------------------------------------------------------------------------------
// Compressed models
// ---------------------------------------------------------------------------------------------

/// Asserts that reading model "packed" in `bytes` fails to decode ([`Error::Decompress`] or
/// [`Error::ChecksumMismatch`]) on every access, naming the file and the entry, and that
/// `verify` refuses the file at open.
#[track_caller]
fn assert_packed_decode_error(bytes: &[u8]) -> Error {
    let r = open(bytes).unwrap();
    let mut last = None;
    for _ in 0..2 {
        for e in [
            err(r.model::<Forest>("packed")),
            err(r.load_model::<Forest>("packed")),
        ] {
            assert!(
                matches!(&e, Error::Decompress { entry, part, .. } if entry == "packed" && part.is_empty())
                    || matches!(&e, Error::ChecksumMismatch { what, .. } if what.contains("\"packed\"")),
                "{e:?}"
            );
            assert_names(&e, &[FILE, "\"packed\""]);
            last = Some(e);
        }
    }
    // The raw model is untouched.
    assert_eq!(r.load_model::<Forest>("forest").unwrap(), forest());
    assert!(open_with(Reader::options().verify(true), bytes).is_err());
    last.unwrap()
}

#[test]
fn compressed_model_with_a_garbage_chunk_is_decompress_error() {
    let c = baseline();
    let s = model_section(&c.m, "packed");
    assert_eq!(c.chunk_range(s).len(), 1);
    for byte in [0x00, 0xFF] {
        let e = assert_packed_decode_error(&c.with_garbage_chunk(s, 0, byte).bytes());
        assert!(matches!(&e, Error::Decompress { chunk: 0, .. }), "{e:?}");
    }
}

#[test]
fn compressed_model_decoding_to_other_bytes_is_checksum_mismatch() {
    let c = baseline();
    let s = model_section(&c.m, "packed");
    let bytes = c
        .with_stale_chunk_checksums(s, |raw| {
            let last = raw.len() - 1;
            raw[last] ^= 1;
        })
        .bytes();
    let e = assert_packed_decode_error(&bytes);
    assert!(
        matches!(&e, Error::ChecksumMismatch { what, .. } if what.contains("chunk 0")),
        "{e:?}"
    );
}

#[test]
fn compressed_model_is_validated_after_decoding() {
    // A valid zstd stream of an invalid archive: every checksum matches, and the validation
    // of the decoded bytes names the path.
    let c = baseline();
    let l = Located::new(&c.bytes(), "forest");
    let at = l.threshold_tag();
    let s = model_section(&c.m, "packed");
    let bytes = c.patched(s, |raw| raw[at] = 3).bytes();
    let r = open_with(Reader::options().verify(true), &bytes).unwrap();
    for _ in 0..2 {
        assert_invalid_model(
            r.model::<Forest>("packed"),
            "packed",
            &[
                "invalid discriminant '3' for enum 'ArchivedThreshold'",
                "while checking index '3' of slice",
                "while checking field 'trees' of struct 'ArchivedForest'",
            ],
        );
    }
}

#[test]
fn compressed_model_needs_a_copy_and_counts_against_the_budget() {
    let w = written();
    let r = open_with(Reader::options().require_zero_copy(true), &w).unwrap();
    let e = err(r.model::<Forest>("packed"));
    assert!(
        matches!(&e, Error::CopyRequired { entry, .. } if entry == "packed"),
        "{e:?}"
    );
    r.model::<Forest>("forest").unwrap();

    let len = open(&w)
        .unwrap()
        .model_entry("packed")
        .unwrap()
        .archive_len();
    let r = open_with(Reader::options().max_decompressed_bytes(len - 1), &w).unwrap();
    let e = err(r.model::<Forest>("packed"));
    assert!(
        matches!(&e, Error::LimitExceeded { what, value, .. } if what.contains("\"packed\"") && *value == len),
        "{e:?}"
    );
    let r = open_with(Reader::options().max_decompressed_bytes(len), &w).unwrap();
    r.model::<Forest>("packed").unwrap();
}

// ---------------------------------------------------------------------------------------------
// Entries of the wrong kind, missing entries
// ---------------------------------------------------------------------------------------------

#[test]
fn model_of_an_array_or_a_frame_is_wrong_kind() {
    let r = open(&written()).unwrap();
    for (name, found) in [("arr", "array"), ("frame", "frame")] {
        let errors = [
            err(r.model::<Forest>(name)),
            err(r.load_model::<Forest>(name)),
            err(r.model_entry(name)),
            err(r.entry(name).unwrap().model()),
        ];
        for e in errors {
            assert!(
                matches!(&e, Error::WrongKind { entry, expected: brine::Kind::Model, found: f, .. } if entry == name && f.name() == found),
                "{e:?}"
            );
            assert_names(&e, &[FILE, &format!("{name:?}"), "model", found]);
        }
    }
    // And the other way round.
    let e = err(r.array::<u8>("forest"));
    assert!(
        matches!(
            &e,
            Error::WrongKind {
                expected: brine::Kind::Array,
                found: brine::Kind::Model,
                ..
            }
        ),
        "{e:?}"
    );
    let e = err(r.frame("packed"));
    assert!(
        matches!(
            &e,
            Error::WrongKind {
                expected: brine::Kind::Frame,
                found: brine::Kind::Model,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn missing_model_is_not_found() {
    let r = open(&written()).unwrap();
    let errors = [
        err(r.load_model::<Forest>("missing")),
        err(r.model::<Forest>("missing")),
        err(r.model_entry("missing")),
        // A prefix of a model's name is another name.
        err(r.model::<Forest>("fores")),
    ];
    for e in errors {
        assert!(matches!(&e, Error::NotFound { .. }), "{e:?}");
        assert_names(&e, &[FILE, "no entry named"]);
    }
}

// ---------------------------------------------------------------------------------------------
// The validation cache
// ---------------------------------------------------------------------------------------------

#[test]
fn success_is_cached_and_gives_the_same_reference() {
    let r = open(&written()).unwrap();
    for name in ["forest", "packed"] {
        let a = r.model::<Forest>(name).unwrap();
        let b = r.model::<Forest>(name).unwrap();
        assert!(std::ptr::eq(a, b), "{name}");
        assert_eq!(a.marker, MARKER);
    }
}

#[test]
fn structurally_identical_type_is_validated_on_its_own_and_reads() {
    assert_eq!(Forest::FINGERPRINT, twin::Forest::FINGERPRINT);
    assert_ne!(
        std::any::TypeId::of::<Forest>(),
        std::any::TypeId::of::<twin::Forest>()
    );
    let w = written();
    // Either type first: the first validated is cached, the other validated on each call.
    for twin_first in [false, true] {
        let r = open(&w).unwrap();
        for name in ["forest", "packed"] {
            let (a, b) = if twin_first {
                let b = r.model::<twin::Forest>(name).unwrap();
                (r.model::<Forest>(name).unwrap(), b)
            } else {
                let a = r.model::<Forest>(name).unwrap();
                (a, r.model::<twin::Forest>(name).unwrap())
            };
            // The same bytes, viewed as either type.
            assert_eq!(
                (a as *const ArchivedForest).cast::<u8>(),
                (b as *const twin::ArchivedForest).cast::<u8>()
            );
            assert_eq!(b.name.as_str(), NAME);
            assert_eq!(b.trees.len(), TREES);
            let again = r.model::<twin::Forest>(name).unwrap();
            assert!(std::ptr::eq(b, again));
            let owned = r.load_model::<twin::Forest>(name).unwrap();
            assert_eq!(owned.trees.len(), TREES);
            assert_eq!(
                owned.kind,
                twin::Kind::Classifier {
                    classes: 3,
                    calibrated: true
                }
            );
        }
    }
}

#[test]
fn failure_is_not_cached_for_either_type() {
    // `assert_patch_refused` calls each accessor twice; here the order is mixed too.
    let c = baseline();
    let l = Located::new(&c.bytes(), "forest");
    let at = l.pos(&l.root().active);
    let bad = c.patched(l.section, |raw| raw[at] = 2).bytes();
    let r = open(&bad).unwrap();
    for _ in 0..3 {
        for e in [
            err(r.model::<twin::Forest>("forest")),
            err(r.model::<Forest>("forest")),
            err(r.load_model::<twin::Forest>("forest")),
        ] {
            assert!(matches!(e, Error::InvalidModel { .. }), "{e:?}");
        }
    }
    // A failure of one model leaves the other readable, and cached.
    let a = r.model::<Forest>("packed").unwrap();
    assert!(std::ptr::eq(a, r.model::<Forest>("packed").unwrap()));
}

// ---------------------------------------------------------------------------------------------
// Nesting
// ---------------------------------------------------------------------------------------------

/// A recursive type (`#[rkyv(omit_bounds)]` makes its schema count the field by name): its
/// archive can nest as deep as it is long, about 12 bytes a level, whoever wrote it.
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

/// The environment variable that makes
/// [`deeply_nested_archive_is_an_error_not_a_stack_overflow`] run its read (in a child
/// process: a stack overflow aborts the whole process).
const DEEP_CHILD: &str = "BRINE_TEST_DEEP_ARCHIVE_CHILD";

#[test]
fn deeply_nested_archive_is_an_error_not_a_stack_overflow() {
    // bytecheck validates recursively and brine's validator sets no depth limit
    // (`ArchiveValidator::new`, `max_subtree_depth: None`), so a 12 MB archive of a list a
    // million deep aborts `model::<List>` with a stack overflow (measured: 20,000 levels,
    // 240 KB, already overflow a test thread's 2 MiB). Expected: an error (`InvalidModel` or
    // `LimitExceeded`) naming the entry, or the model; never an abort.
    if std::env::var_os(DEEP_CHILD).is_none() {
        let name = "deeply_nested_archive_is_an_error_not_a_stack_overflow";
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", name, "--include-ignored", "--test-threads=1"])
            .env(DEEP_CHILD, "1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "reading the model crashed the process ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    const DEPTH: u32 = 1_000_000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deep.brine");
    let writer_path = path.clone();
    // rkyv serializes recursively too: a thread with room for it. The list is dropped
    // iteratively (a recursive drop would need that room as well).
    std::thread::Builder::new()
        .stack_size(1 << 30)
        .spawn(move || {
            let mut list = List {
                value: 0,
                next: None,
            };
            for value in 1..DEPTH {
                list = List {
                    value,
                    next: Some(Box::new(list)),
                };
            }
            let mut w = Writer::create(&writer_path).unwrap();
            w.put_model("list", &list).unwrap();
            w.finish().unwrap();
            let mut next = list.next.take();
            while let Some(mut node) = next {
                next = node.next.take();
            }
        })
        .unwrap()
        .join()
        .unwrap();
    // Read with the stack of a main thread.
    std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || {
            let r = Reader::open(&path).unwrap();
            match r.model::<List>("list") {
                Ok(list) => assert_eq!(list.value, DEPTH - 1),
                Err(e) => {
                    assert!(
                        matches!(&e, Error::InvalidModel { entry, .. } | Error::LimitExceeded { what: entry, .. } if entry.contains("list")),
                        "{e:?}"
                    );
                }
            }
        })
        .unwrap()
        .join()
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// The writer's 2 GiB guard
// ---------------------------------------------------------------------------------------------

/// A `Vec<u8>` of `len` zero bytes that costs no memory until it is read: the allocator hands
/// out untouched zero pages, and the archiver refuses it before copying a byte.
fn lazy_zeros(len: usize) -> Vec<u8> {
    vec![0u8; len]
}

#[test]
fn archive_past_max_archive_len_is_invalid_input() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.brine");
    // A new writer for each: a refused model leaves the writer unusable (see
    // `writer_is_usable_after_an_archive_past_max_archive_len`).
    // One slice written at once, one byte over; then two slices whose sum passes the limit
    // only at the second one.
    let one = lazy_zeros(MAX_ARCHIVE_LEN + 1);
    let e = err(Writer::create(&path).unwrap().put_model("one", &one));
    drop(one);
    let two = (vec![7u8; 64], lazy_zeros(MAX_ARCHIVE_LEN - 32));
    let e2 = err(Writer::create(&path).unwrap().put_model("two", &two));
    drop(two);
    for (e, entry) in [(e, "one"), (e2, "two")] {
        assert!(
            matches!(&e, Error::InvalidInput { entry: n, .. } if n == entry),
            "{e:?}"
        );
        assert_names(
            &e,
            &[
                "big.brine",
                &format!("{entry:?}"),
                &MAX_ARCHIVE_LEN.to_string(),
                "TensorRef",
            ],
        );
    }
}

#[test]
fn writer_is_usable_after_an_archive_past_max_archive_len() {
    // The refusal happens before a byte reaches the file, as for a bad shape in put_array:
    // the writer should go on and finish a valid file.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.brine");
    let mut w = Writer::create(&path).unwrap();
    let big = lazy_zeros(MAX_ARCHIVE_LEN + 1);
    assert!(matches!(
        w.put_model("big", &big),
        Err(Error::InvalidInput { .. })
    ));
    drop(big);
    w.put_model("big", &forest()).unwrap();
    w.put_array("x", &[1u8], &[1]).unwrap();
    w.finish().unwrap();
    let r = Reader::options().verify(true).open(&path).unwrap();
    assert_eq!(r.load_model::<Forest>("big").unwrap(), forest());
}

#[test]
#[ignore = "allocates 2 GiB: run with --ignored"]
fn archive_of_exactly_max_archive_len_bytes_is_refused_at_its_root() {
    // A slice of MAX_ARCHIVE_LEN bytes fits, so the archiver copies it (2 GiB); the root that
    // follows passes the limit.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.brine");
    let mut w = Writer::create(&path).unwrap();
    let e = err(w.put_model("big", &lazy_zeros(MAX_ARCHIVE_LEN)));
    assert!(
        matches!(&e, Error::InvalidInput { entry, .. } if entry == "big"),
        "{e:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// The model table (tier 1: N1 to N3)
// ---------------------------------------------------------------------------------------------

#[test]
fn unknown_flag_bits_are_unsupported_feature() {
    let c = baseline();
    let row = model_row(&c.m, "forest");
    for flags in [2, 3, 1 << 31, u32::MAX] {
        let bytes = c.bytes_edited(|m| m.models[row].flags = flags);
        let e = open_err(&bytes);
        assert!(
            matches!(&e, Error::UnsupportedFeature { what, value, .. } if what == "flags of entry \"forest\"" && *value == u64::from(flags)),
            "{e:?}"
        );
        assert_names(&e, &[FILE, "\"forest\"", "flags"]);
    }
}

#[test]
fn version_without_the_version_flag_is_invalid_field() {
    let c = baseline();
    let row = model_row(&c.m, "forest");
    let bytes = c.bytes_edited(|m| m.models[row].flags = 0);
    // The flag clear and the version 0: no version.
    let ok = c.bytes_edited(|m| {
        m.models[row].flags = 0;
        m.models[row].version = 0;
    });
    assert_eq!(
        open(&ok).unwrap().model_entry("forest").unwrap().version(),
        None
    );
    assert_field(&bytes, "entry \"forest\"", "version");
    let packed = model_row(&c.m, "packed");
    let bytes = c.bytes_edited(|m| m.models[packed].version = 1);
    assert_field(&bytes, "entry \"packed\"", "version");
}

#[test]
fn model_text_ends_out_of_range_are_invalid_field() {
    let c = baseline();
    let (forest, packed) = (model_row(&c.m, "forest"), model_row(&c.m, "packed"));
    let text_len = c.m.model_text.len() as u32;
    let first = forest.min(packed);
    let last = forest.max(packed);
    let location = |row| {
        if row == forest {
            "entry \"forest\""
        } else {
            "entry \"packed\""
        }
    };
    type Edit = Box<dyn Fn(&mut Manifest)>;
    let cases: Vec<(usize, Edit)> = vec![
        // The type name ends after the schema.
        (
            first,
            Box::new(move |m| m.models[first].type_name_end = m.models[first].schema_end + 1),
        ),
        // Past the text, both ends.
        (
            last,
            Box::new(move |m| {
                m.models[last].type_name_end = text_len + 1;
                m.models[last].schema_end = text_len + 1;
            }),
        ),
        (
            last,
            Box::new(move |m| m.models[last].schema_end = text_len + 1),
        ),
        (
            last,
            Box::new(move |m| m.models[last].schema_end = u32::MAX),
        ),
        // Decreasing: the second row's type name starts before the first row's end.
        (
            last,
            Box::new(move |m| m.models[last].type_name_end = m.models[first].schema_end - 1),
        ),
    ];
    for (row, edit) in cases {
        let e = assert_field(&c.bytes_edited(edit), location(row), "type_name_end");
        assert_names(&e, &["schema_end", "model_text"]);
    }
}

#[test]
fn model_text_ends_splitting_a_character_are_invalid_field() {
    let c = baseline();
    let row = model_row(&c.m, "forest");
    let mut m = c.m.clone();
    let (_, schema) = model_texts(&m)[row].clone();
    // "Forêt": 'ê' is bytes 3 and 4 of the type name; and a schema ending in 'é'.
    set_model_text(&mut m, row, "Forêt", &format!("{schema}é"));
    let start = if row == 0 {
        0
    } else {
        m.models[row - 1].schema_end
    };
    let mut c = c.clone();
    c.m = m;
    // The edited text alone is valid (the text is not checked against the fingerprint).
    assert_eq!(
        open(&c.bytes())
            .unwrap()
            .model_entry("forest")
            .unwrap()
            .type_name(),
        "Forêt"
    );
    let name_split = c.bytes_edited(|m| m.models[row].type_name_end = start + 4);
    assert_field(&name_split, "entry \"forest\"", "type_name_end");
    let schema_split = c.bytes_edited(|m| m.models[row].schema_end -= 1);
    let e = open_err(&schema_split);
    assert!(
        matches!(
            &e,
            Error::InvalidField {
                field: "type_name_end" | "schema_end",
                ..
            }
        ),
        "{e:?}"
    );
    assert_names(&e, &[FILE, "schema_end"]);
}

#[test]
fn model_text_not_fully_referenced_is_invalid_field() {
    let c = baseline();
    let bytes = c.bytes_edited(|m| m.model_text.push('x'));
    assert_field(&bytes, "model table", "schema_end");
}

#[test]
fn model_section_out_of_range_is_invalid_field() {
    let c = baseline();
    let row = model_row(&c.m, "forest");
    let count = c.m.sections.len() as u32;
    for section in [count, count + 1, u32::MAX] {
        let bytes = c.bytes_edited(|m| m.models[row].section = section);
        let e = assert_field(&bytes, "entry \"forest\"", "section");
        assert_names(&e, &[&section.to_string()]);
    }
}

#[test]
fn model_section_owned_by_another_entry_is_invalid_field() {
    let c = baseline();
    let row = model_row(&c.m, "forest");
    let array = c.m.arrays[0].section;
    let bytes = c.bytes_edited(|m| m.models[row].section = array);
    let e = open_err(&bytes);
    assert!(matches!(&e, Error::InvalidField { .. }), "{e:?}");
    assert_names(&e, &[FILE, "section"]);
}

#[test]
fn shuffled_model_section_is_invalid_field() {
    let c = baseline();
    // Compressed: rule N3 (an archive's element size is 1, so no shuffle).
    let s = model_section(&c.m, "packed");
    for shuffle in [1, 2, 4, 8, 0xFF] {
        let bytes = c.bytes_edited(|m| m.sections[s].shuffle = shuffle);
        let e = assert_field(&bytes, "entry \"packed\"", "section");
        assert_names(
            &e,
            &[
                &format!("section {s} has shuffle {shuffle}"),
                "never shuffled",
            ],
        );
    }
    // Raw: a raw section is never shuffled (rule C1), whatever owns it.
    let s = model_section(&c.m, "forest");
    for shuffle in [1, 2] {
        let bytes = c.bytes_edited(|m| m.sections[s].shuffle = shuffle);
        assert_field(&bytes, &format!("section {s}"), "codec");
    }
}

#[test]
fn shuffle_of_1_on_a_model_section_says_what_is_wrong() {
    // Rule N3 asks for shuffle 0; with shuffle 1 the reason contradicts itself (the shuffle
    // equals the element size) instead of saying that a model's section is not shuffled.
    // validate.rs `check_buffer` refuses `shuffle == size` when `size < 2` with the message
    // meant for `shuffle != size`; frame columns of 1-byte elements get the same message.
    let c = baseline();
    let s = model_section(&c.m, "packed");
    let bytes = c.bytes_edited(|m| m.sections[s].shuffle = 1);
    let e = assert_field(&bytes, "entry \"packed\"", "section");
    let Error::InvalidField { reason, .. } = &e else {
        unreachable!()
    };
    assert!(
        !reason.contains("but the buffer's elements are 1 bytes"),
        "{reason}"
    );
}
