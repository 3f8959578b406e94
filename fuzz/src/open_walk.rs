//! Target `open_walk`: a `Reader` opened on arbitrary bytes, with and without verify, and every
//! entry walked: every array through every dtype (`view`, `range`, `get`), every column of
//! every frame through every accessor, every model through a fixed set of schema types.
//!
//! Input: one control byte, then the file. Control bits: 1 = open with `verify(true)`,
//! 2 = repair the checksums first (header, manifest, every section and every chunk), so that
//! mutations get past the checksums to the validation rules behind them, 4 =
//! `require_zero_copy(true)`.

use std::collections::BTreeMap;
use std::ops::Range;

use brine::frame::ColumnView;
use brine::model::{ModelEntry, Schema, TensorRef};
use brine::raw::checksum::xxh3;
use brine::raw::codec;
use brine::raw::header::{HEADER_LEN, Header, MAGIC};
use brine::raw::manifest::ArchivedManifest;
use brine::rkyv::api::high::{HighDeserializer, HighValidator};
use brine::rkyv::bytecheck::CheckBytes;
use brine::rkyv::{Archive, Deserialize, Portable};
use brine::{AlignedBuf, ArchiveError, Element, EntryRef, Kind, Reader};

use crate::models::{Node, Rich, Small};

/// Limits that keep one execution's memory and time small whatever the file declares.
const MAX_MANIFEST: u64 = 1 << 20;
const MAX_DECOMPRESSED: u64 = 64 << 20;
const MAX_DEPTH: usize = 256;
/// Chunks are decoded by the checksum repair only while their total stays under this.
const REPAIR_BUDGET: u64 = 16 << 20;

/// Runs the target on one input. Returns how many entries were read without error (for the
/// regression tests, which check that the walk got somewhere).
pub fn run(data: &[u8]) -> usize {
    let Some((&control, file)) = data.split_first() else {
        return 0;
    };
    let mut file = file.to_vec();
    if control & 2 != 0 {
        repair_checksums(&mut file);
    }
    open_and_walk(&file, control & 1 != 0, control & 4 != 0)
}

/// Opens `file` with bounded limits and walks every entry; returns the entries read in full.
pub fn open_and_walk(file: &[u8], verify: bool, zero_copy: bool) -> usize {
    let options = Reader::options()
        .verify(verify)
        .require_zero_copy(zero_copy)
        .max_manifest_len(MAX_MANIFEST)
        .max_decompressed_bytes(MAX_DECOMPRESSED)
        .max_model_depth(MAX_DEPTH);
    let Ok(reader) = options.open_buffer("fuzz.brine", AlignedBuf::copy_from_slice(file)) else {
        return 0;
    };
    walk(&reader)
}

/// Walks every entry of an open reader; returns the entries read without any error.
pub fn walk(reader: &Reader) -> usize {
    let _ = (reader.version(), reader.alignment(), reader.file_len());
    let _ = (reader.manifest_len(), reader.path(), reader.mapped_range());
    for (key, value) in reader.metadata().iter() {
        assert!(reader.metadata().get(key).is_some(), "metadata key {key:?}");
        let _ = format!("{value:?}");
    }
    let _ = format!("{:?}", reader.metadata());
    assert_eq!(reader.entries().len(), reader.len());
    let mut clean = 0;
    let names: Vec<String> = reader.entries().map(|e| e.name().to_owned()).collect();
    for (i, entry) in reader.entries().enumerate() {
        // Lookup by name finds the entry (names are unique and sorted).
        let found = reader
            .get(entry.name())
            .expect("an entry is found by its own name");
        assert_eq!(found.name(), names[i]);
        let _ = format!("{entry:?}");
        for (_, v) in entry.metadata().iter() {
            let _ = format!("{v:?}");
        }
        let ok = match entry.kind() {
            Kind::Array => walk_array(entry),
            Kind::Frame => walk_frame(reader, entry),
            Kind::Model => walk_model(reader, entry),
            _ => false,
        };
        // Asking for the wrong kind is an error, never a panic.
        if entry.kind() != Kind::Array {
            assert!(entry.array().is_err());
        }
        if entry.kind() != Kind::Frame {
            assert!(entry.frame().is_err());
        }
        if entry.kind() != Kind::Model {
            assert!(entry.model().is_err());
        }
        clean += usize::from(ok);
    }
    let _ = reader.get("\u{10ffff} not there");
    let _ = reader.verify();
    clean
}

fn walk_array(entry: EntryRef<'_>) -> bool {
    let Ok(a) = entry.array() else {
        return false;
    };
    let _ = format!("{a:?}");
    let _ = (a.name(), a.shape(), a.len(), a.is_empty(), a.codec());
    let _ = (a.is_compressed(), a.stored_len(), a.raw_len(), a.offset());
    let _ = (a.checksum(), a.chunk_count());
    let _ = a.advise(brine::AccessPattern::Sequential);
    let results = [
        array_as::<bool>(a),
        array_as::<u8>(a),
        array_as::<i8>(a),
        array_as::<u16>(a),
        array_as::<i16>(a),
        array_as::<u32>(a),
        array_as::<i32>(a),
        array_as::<u64>(a),
        array_as::<i64>(a),
        array_as::<half::f16>(a),
        array_as::<half::bf16>(a),
        array_as::<f32>(a),
        array_as::<f64>(a),
    ];
    // Exactly one element type is the array's; the others are refused.
    results.iter().filter(|r| r.is_some()).count() == 1 && results.iter().all(|r| *r != Some(false))
}

/// Reads the array as `T`: `None` when `T` is not its dtype, else whether every read worked.
fn array_as<T: Element + PartialEq + std::fmt::Debug>(a: brine::ArrayEntry<'_>) -> Option<bool> {
    if T::DTYPE != a.dtype() {
        assert!(a.view::<T>().is_err() && a.get::<T>(0).is_err());
        return None;
    }
    let len = a.len();
    let mut ok = true;
    // Ranges from the middle first: compressed entries then decode only some chunks before
    // the whole view decodes the rest.
    for range in [len / 2..len, 0..len.min(3), len.saturating_sub(1)..len] {
        match a.range::<T>(range.clone()) {
            Ok(items) => {
                assert_eq!(items.len(), range.len());
                touch(items);
            }
            Err(_) => ok = false,
        }
    }
    match a.view::<T>() {
        Ok(view) => {
            assert_eq!(view.len(), len);
            assert_eq!(view.shape(), a.shape());
            let _ = (view.ndim(), view.dtype(), view.is_empty());
            touch(view.as_slice());
            if len > 0 {
                // `get` and `range` agree with the view.
                let last = a.get::<T>(len - 1).expect("get after a successful view");
                assert_eq!(
                    format!("{last:?}"),
                    format!("{:?}", view.as_slice()[len - 1])
                );
            }
        }
        Err(_) => ok = false,
    }
    // Past the end, reversed, and far out of bounds.
    let reversed = Range { start: 1, end: 0 };
    for bad in [len..len + 1, reversed, usize::MAX - 1..usize::MAX] {
        assert!(a.range::<T>(bad).is_err());
    }
    assert!(a.get::<T>(len).is_err());
    Some(ok)
}

/// Reads every element (so a sanitizer sees every byte of a view).
fn touch<T: Copy>(items: &[T]) {
    for item in items {
        std::hint::black_box(*item);
    }
}

fn walk_frame(reader: &Reader, entry: EntryRef<'_>) -> bool {
    let Ok(frame) = entry.frame() else {
        return false;
    };
    let by_name = reader
        .frame(entry.name())
        .expect("the frame is found by its name");
    assert_eq!(by_name.width(), frame.width());
    let _ = (
        frame.name(),
        frame.rows(),
        frame.width(),
        format!("{frame:?}"),
    );
    let fields = frame.fields();
    assert_eq!(fields.len(), frame.width());
    assert_eq!(frame.iter().len(), frame.width());
    let mut ok = true;
    for (i, column) in frame.iter().enumerate() {
        assert_eq!(column.name(), frame.column_at(i).name());
        assert_eq!(fields[i].name, column.name());
        // Column names need not be unique to a fuzzer; the lookup must not panic.
        let _ = frame.column(column.name());
        ok &= walk_column(column, frame.rows());
    }
    assert!(frame.column("\u{10ffff} not a column").is_err());
    ok
}

fn walk_column(c: ColumnView<'_>, rows: usize) -> bool {
    assert_eq!(c.len(), rows);
    let _ = (
        c.name(),
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
        // Format 1.1: the column's metadata, read from the manifest.
        c.metadata()
            .iter()
            .map(|(k, v)| (k.len(), format!("{v:?}")))
            .count(),
    );
    let Ok(validity) = c.validity() else {
        return false;
    };
    if let Some(v) = validity {
        assert_eq!(v.len(), rows);
        assert_eq!(v.count_zeros(), c.null_count());
        assert_eq!(v.iter().filter(|b| !b).count(), c.null_count());
    }
    let mut ok = true;
    ok &= c.buffers().is_ok();
    let typed = [
        values_as::<u8>(c),
        values_as::<i8>(c),
        values_as::<u16>(c),
        values_as::<i16>(c),
        values_as::<u32>(c),
        values_as::<i32>(c),
        values_as::<u64>(c),
        values_as::<i64>(c),
        values_as::<half::f16>(c),
        values_as::<half::bf16>(c),
        values_as::<f32>(c),
        values_as::<f64>(c),
    ];
    ok &= typed.iter().all(|r| *r != Some(false));
    assert!(c.values::<bool>().is_err());
    if let Ok(t) = c.timestamps() {
        assert_eq!(t.values.len(), rows);
        let _ = (t.unit, t.zone, t.values.iter().count());
    }
    if let Ok(d) = c.dates() {
        assert_eq!(d.iter().count(), rows);
    }
    if let Ok(b) = c.bools() {
        assert_eq!(b.values.len(), rows);
        assert_eq!(b.iter().count(), rows);
    }
    if let Ok(s) = c.strings() {
        assert_eq!(s.len(), rows);
        assert_eq!(s.offsets().len(), rows + 1);
        let total: usize = s.values().map(str::len).sum();
        assert!(total <= s.data().len());
        for i in 0..rows {
            assert_eq!(s.get(i).is_some(), validity.is_none_or(|v| v.get(i)));
            let _ = s.value(i);
        }
        assert_eq!(s.iter().count(), rows);
        let _ = (s.validity(), s.is_empty());
    }
    if let Ok(b) = c.binary() {
        assert_eq!(b.offsets.len(), rows + 1);
        assert_eq!(b.iter().count(), rows);
    }
    if let Ok(cat) = c.categorical() {
        assert_eq!(cat.codes.len(), rows);
        let dict = cat.dictionary;
        let _ = dict.values().count();
        assert_eq!(cat.iter().count(), rows);
        for s in cat.iter().flatten() {
            std::hint::black_box(s.len());
        }
    }
    ok
}

/// The values of a fixed-width column as `T`: `None` when it does not hold `T`s.
fn values_as<T: Element + std::fmt::Debug>(c: ColumnView<'_>) -> Option<bool> {
    match c.primitive::<T>() {
        Ok(p) => {
            assert_eq!(p.len(), c.len());
            let _ = p.is_empty();
            let n = p.iter().filter(Option::is_some).count();
            assert_eq!(n, c.len() - p.validity.map_or(0, |v| v.count_zeros()));
            touch(p.values);
            Some(true)
        }
        Err(brine::Error::WrongColumnType { .. }) => None,
        Err(_) => Some(false),
    }
}

fn walk_model(reader: &Reader, entry: EntryRef<'_>) -> bool {
    let Ok(m) = entry.model() else {
        return false;
    };
    let by_name = reader
        .model_entry(entry.name())
        .expect("the model is found");
    assert_eq!(by_name.fingerprint(), m.fingerprint());
    let _ = (
        m.name(),
        m.type_name(),
        m.schema(),
        m.version(),
        m.archive_len(),
    );
    let _ = format!("{m:?}");
    let results = [
        model_as::<Small>(reader, m),
        model_as::<Rich>(reader, m),
        model_as::<Node>(reader, m),
        model_as::<Vec<f32>>(reader, m),
        model_as::<String>(reader, m),
        model_as::<u64>(reader, m),
        model_as::<Vec<Small>>(reader, m),
        model_as::<Option<Vec<String>>>(reader, m),
        model_as::<BTreeMap<String, Vec<f64>>>(reader, m),
        model_as::<TensorRef>(reader, m),
    ];
    results.contains(&Some(true))
}

/// Reads the model as `T`: `None` when the fingerprint is not `T`'s, else whether access and
/// load worked. Access twice (the second is the cached path) and load must agree.
fn model_as<T>(reader: &Reader, m: ModelEntry<'_>) -> Option<bool>
where
    T: Schema + Archive + std::fmt::Debug + 'static,
    T::Archived: Portable
        + for<'a> CheckBytes<HighValidator<'a, ArchiveError>>
        + Deserialize<T, HighDeserializer<ArchiveError>>,
{
    if m.fingerprint() != T::FINGERPRINT {
        assert!(matches!(
            m.access::<T>(),
            Err(brine::Error::SchemaMismatch(_))
        ));
        return None;
    }
    let first = m.access::<T>();
    let second = m.access::<T>();
    assert_eq!(first.is_ok(), second.is_ok());
    let loaded = reader.load_model::<T>(m.name());
    if let Ok(value) = &loaded {
        let _ = format!("{value:?}");
    }
    Some(first.is_ok() && loaded.is_ok())
}

/// Rewrites every checksum of `file` to match its content, where the structure allows: the
/// header's derived fields (magic, file and manifest length), each section's and each chunk's
/// checksum in the manifest (when the manifest is a valid archive), the manifest checksum and
/// the header checksum. Leaves everything else as the fuzzer made it.
pub fn repair_checksums(file: &mut [u8]) {
    if file.len() < HEADER_LEN {
        return;
    }
    let len = file.len() as u64;
    file[..8].copy_from_slice(&MAGIC);
    let manifest_offset = u64::from_le_bytes(file[32..40].try_into().unwrap_or_default());
    if manifest_offset <= len {
        file[40..48].copy_from_slice(&(len - manifest_offset).to_le_bytes());
    }
    file[56..64].copy_from_slice(&len.to_le_bytes());
    let header_checksum = |file: &mut [u8]| {
        let sum = xxh3(&file[..120]);
        file[120..128].copy_from_slice(&sum.to_le_bytes());
    };
    header_checksum(file);
    let Ok(header) = Header::decode("fuzz.brine".as_ref(), &file[..HEADER_LEN], len) else {
        return;
    };
    let start = header.manifest_offset as usize;
    repair_sections(file, &header);
    let sum = xxh3(&file[start..]);
    file[48..56].copy_from_slice(&sum.to_le_bytes());
    header_checksum(file);
}

/// Patches section and chunk checksums inside the manifest of `file`.
fn repair_sections(file: &mut [u8], header: &Header) {
    let start = header.manifest_offset as usize;
    let mut archive = brine::rkyv::util::AlignedVec::<16>::new();
    archive.extend_from_slice(&file[start..]);
    let Some(root) = archive.len().checked_sub(header.root_length as usize) else {
        return;
    };
    let Ok(m) = brine::rkyv::api::low::access_pos::<ArchivedManifest, ArchiveError>(&archive, root)
    else {
        return;
    };
    let base = archive.as_ptr() as usize;
    let at = |field: &brine::rkyv::rend::u64_le| start + (field as *const _ as usize - base);
    let mut patches = Vec::new();
    let mut budget = REPAIR_BUDGET;
    let mut chunk_start = 0usize;
    let mut scratch = Vec::new();
    for s in m.sections.iter() {
        let chunk_end = s.chunks_end.to_native() as usize;
        let (offset, length) = (s.offset.to_native(), s.length.to_native());
        let Some(stored) = offset
            .checked_add(length)
            .filter(|&end| end <= len_u64(file))
            .map(|end| &file[offset as usize..end as usize])
        else {
            return;
        };
        patches.push((at(&s.checksum), xxh3(stored)));
        let chunks = m.chunks.get(chunk_start..chunk_end).unwrap_or_default();
        chunk_start = chunk_end.max(chunk_start);
        let chunk_len = u64::from(s.chunk_length.to_native());
        let raw = s.raw_length.to_native();
        for (c, chunk) in chunks.iter().enumerate() {
            let (o, l) = (chunk.offset.to_native(), chunk.length.to_native());
            let Some(frame) = o
                .checked_add(l)
                .filter(|&end| end <= length)
                .map(|end| &stored[o as usize..end as usize])
            else {
                continue;
            };
            let first = (c as u64).saturating_mul(chunk_len);
            let out_len = raw.saturating_sub(first).min(chunk_len);
            if out_len > budget {
                return;
            }
            budget -= out_len;
            let mut out = vec![0u8; out_len as usize];
            let shuffle = usize::from(s.shuffle);
            if codec::decompress_chunk(frame, &mut out, shuffle, &mut scratch).is_ok() {
                patches.push((at(&chunk.checksum), xxh3(&out)));
            }
        }
    }
    for (pos, sum) in patches {
        file[pos..pos + 8].copy_from_slice(&sum.to_le_bytes());
    }
}

fn len_u64(file: &[u8]) -> u64 {
    file.len() as u64
}
