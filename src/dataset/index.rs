//! The index file of a dataset (spec/DATASET.md §3–§5): how it is read and validated (rules
//! X1–X9), and how it is written.

use std::path::Path;
use std::sync::Arc;

use half::f16;

use crate::dataset::{
    ArrayInfo, Dataset, DatasetKind, FORMAT_VERSION, IndexParts, SHARD_ENTRY, ShardInfo,
};
use crate::error::{Error, Result};
use crate::frame::{Column, ColumnStats, ColumnType, ColumnView, Field, Frame, StatRange};
use crate::raw::Dtype;
use crate::raw::manifest::MetaRef;
use crate::reader::{Kind, Reader};

/// File metadata keys of the index.
pub(crate) const KEY_FORMAT: &str = "brine.dataset";
pub(crate) const KEY_KIND: &str = "brine.dataset.kind";
pub(crate) const KEY_VERSION: &str = "brine.dataset.version";

/// Most shards an index may list (rule X9): bounds what opening a hostile index allocates
/// beyond the index's own size (one `ShardInfo` and one cache cell per shard).
pub const MAX_SHARDS: usize = 1 << 24;

/// Longest shard path, in bytes (rule X4).
pub const MAX_PATH_LEN: usize = 1024;

/// Deepest array shape (rule X8), as for arrays in files.
const MAX_NDIM: usize = crate::raw::limits::MAX_NDIM;

/// The range domain of a column type's statistics (FORMAT.md §8.5), `None` for kinds without.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Domain {
    Int,
    UInt,
    Float,
}

pub(crate) fn domain(ty: &ColumnType) -> Option<Domain> {
    match ty {
        ColumnType::Bool
        | ColumnType::Timestamp { .. }
        | ColumnType::Date
        | ColumnType::Duration(_) => Some(Domain::Int),
        ColumnType::Primitive(d) => match d {
            Dtype::U8 | Dtype::U16 | Dtype::U32 | Dtype::U64 => Some(Domain::UInt),
            Dtype::F16 | Dtype::F32 | Dtype::F64 => Some(Domain::Float),
            Dtype::I8 | Dtype::I16 | Dtype::I32 | Dtype::I64 => Some(Domain::Int),
            _ => None,
        },
        ColumnType::Utf8 | ColumnType::Binary | ColumnType::Categorical { .. } => None,
    }
}

/// Whether a column of this type may partition a dataset (its values become folder names).
pub(crate) fn partitionable(ty: &ColumnType) -> bool {
    match ty {
        ColumnType::Utf8 | ColumnType::Categorical { .. } | ColumnType::Bool => true,
        ColumnType::Primitive(d) => matches!(
            d,
            Dtype::I8
                | Dtype::I16
                | Dtype::I32
                | Dtype::I64
                | Dtype::U8
                | Dtype::U16
                | Dtype::U32
                | Dtype::U64
        ),
        _ => false,
    }
}

/// Percent-encodes every byte outside `[A-Za-z0-9._-]` (uppercase hex), so that a partition
/// value is always one safe path component (spec/DATASET.md §4).
pub(crate) fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for &b in value.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The inverse of [`escape`], for canonical encodings only (so a value has one path).
fn unescape(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = |c: u8| match c {
                b'0'..=b'9' => Some(c - b'0'),
                b'A'..=b'F' => Some(c - b'A' + 10),
                _ => None,
            };
            let hi = hex(*b.get(i + 1)?)?;
            let lo = hex(*b.get(i + 2)?)?;
            out.push(hi * 16 + lo);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    let value = String::from_utf8(out).ok()?;
    (escape(&value) == s).then_some(value)
}

/// Rule X4: a shard path is relative, `/`-separated components of `[A-Za-z0-9._=%-]`, none
/// empty, `.` or `..`; its file name ends in `.brine` and starts with neither `_` nor `.`.
pub(crate) fn check_path(path: &str) -> std::result::Result<(), String> {
    if path.is_empty() || path.len() > MAX_PATH_LEN {
        return Err(format!(
            "{} bytes; a path has 1 to {MAX_PATH_LEN}",
            path.len()
        ));
    }
    let components: Vec<&str> = path.split('/').collect();
    for c in &components {
        if c.is_empty() || *c == "." || *c == ".." {
            return Err(
                "an empty, `.` or `..` component (paths are relative, inside the dataset)".into(),
            );
        }
        if let Some(bad) = c.bytes().find(|&b| {
            !(b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'=' | b'%' | b'-'))
        }) {
            return Err(format!("byte {bad:#04x} is not allowed in a shard path"));
        }
    }
    let file = components[components.len() - 1];
    if !file.ends_with(".brine") || file.starts_with('_') || file.starts_with('.') {
        return Err("a shard's file name ends in .brine and starts with neither _ nor .".into());
    }
    Ok(())
}

/// The shard path's partition folders for `values`, then `file`.
pub(crate) fn shard_path(partition: &[(String, String)], file: &str) -> String {
    let mut p = String::new();
    for (k, v) in partition {
        p.push_str(&escape(k));
        p.push('=');
        p.push_str(&escape(v));
        p.push('/');
    }
    p.push_str(file);
    p
}

struct Ctx<'a> {
    root: &'a Path,
}

impl Ctx<'_> {
    fn bad(&self, field: &'static str, reason: String) -> Error {
        Error::InvalidDataset {
            dataset: self.root.to_path_buf(),
            shard: None,
            field,
            reason,
        }
    }
    fn bad_shard(&self, shard: &str, field: &'static str, reason: String) -> Error {
        Error::InvalidDataset {
            dataset: self.root.to_path_buf(),
            shard: Some(shard.to_owned()),
            field,
            reason,
        }
    }

    /// A column of the index's `shards` (or `arrays`) frame, of the type expected, without
    /// nulls unless `nullable`.
    fn column<'r>(
        &self,
        frame: &crate::frame::FrameView<'r>,
        at: usize,
        name: &str,
        ty: &ColumnType,
        nullable: bool,
    ) -> Result<ColumnView<'r>> {
        let entry = frame.name();
        if at >= frame.width() {
            return Err(self.bad(
                "columns",
                format!(
                    "frame {entry:?} has {} columns; column {at} should be {name:?}",
                    frame.width()
                ),
            ));
        }
        let c = frame.column_at(at);
        if c.name() != name || c.ty() != *ty {
            return Err(self.bad(
                "columns",
                format!(
                    "column {at} of frame {entry:?} is {:?} ({}), expected {name:?} ({ty})",
                    c.name(),
                    c.ty()
                ),
            ));
        }
        if !nullable && c.null_count() != 0 {
            return Err(self.bad(
                "columns",
                format!("column {name:?} of frame {entry:?} has nulls"),
            ));
        }
        Ok(c)
    }
}

fn meta_int(r: &Reader, key: &str) -> Option<i64> {
    match r.metadata().get(key) {
        Some(MetaRef::Int(v)) => Some(v),
        _ => None,
    }
}

/// Reads and validates an index (X1–X9).
pub(crate) fn parse(root: &Path, r: &Reader) -> Result<IndexParts> {
    let cx = Ctx { root };
    // X2: the dataset format, kind and version.
    match meta_int(r, KEY_FORMAT) {
        Some(FORMAT_VERSION) => {}
        Some(v) => {
            return Err(cx.bad(
                "brine.dataset",
                format!("dataset format {v}; this reader reads format {FORMAT_VERSION}"),
            ));
        }
        None => {
            return Err(cx.bad(
                "brine.dataset",
                "the index has no integer metadata brine.dataset: not a dataset index".into(),
            ));
        }
    }
    let kind = match r.metadata().get(KEY_KIND) {
        Some(MetaRef::Str("frame")) => DatasetKind::Frame,
        Some(MetaRef::Str("arrays")) => DatasetKind::Arrays,
        other => {
            return Err(cx.bad(
                "brine.dataset.kind",
                format!("{other:?}; a dataset's kind is \"frame\" or \"arrays\""),
            ));
        }
    };
    let version = meta_int(r, KEY_VERSION)
        .and_then(|v| u64::try_from(v).ok())
        .filter(|&v| v >= 1)
        .ok_or_else(|| {
            cx.bad(
                "brine.dataset.version",
                "the index has no integer metadata brine.dataset.version of at least 1".into(),
            )
        })?;
    // X3: exactly the entries of its kind.
    let expected: &[&str] = match kind {
        DatasetKind::Frame => &["schema", "shards"],
        DatasetKind::Arrays => &["arrays", "shards"],
    };
    let names: Vec<&str> = r.entries().map(|e| e.name()).collect();
    if names != expected || r.entries().any(|e| e.kind() != Kind::Frame) {
        return Err(cx.bad(
            "entries",
            format!(
                "the index holds {names:?}; a {} index holds the frames {expected:?}",
                kind.name()
            ),
        ));
    }
    let schema = match kind {
        DatasetKind::Frame => {
            let f = r.frame("schema")?;
            if f.rows() != 0 {
                return Err(cx.bad(
                    "schema",
                    format!("{} rows; the schema frame has none", f.rows()),
                ));
            }
            f.fields()
        }
        DatasetKind::Arrays => Vec::new(),
    };
    let shards_frame = r.frame("shards")?;
    let n = shards_frame.rows();
    if n > MAX_SHARDS {
        return Err(cx.bad("shards", format!("{n} shards; at most {MAX_SHARDS}")));
    }
    let u64_ty = ColumnType::Primitive(Dtype::U64);
    let utf8 = ColumnType::Utf8;
    let paths = cx
        .column(&shards_frame, 0, "path", &utf8, false)?
        .strings()?;
    let rows = cx
        .column(&shards_frame, 1, "rows", &u64_ty, false)?
        .values::<u64>()?;
    let bytes = cx
        .column(&shards_frame, 2, "bytes", &u64_ty, false)?
        .values::<u64>()?;
    // Partition columns: `part:<name>` for schema columns, in folder order.
    let mut at = 3;
    let mut partition_by = Vec::new();
    let mut partition_values = Vec::new();
    while at < shards_frame.width() {
        let c = shards_frame.column_at(at);
        let Some(name) = c.name().strip_prefix("part:") else {
            break;
        };
        let field = schema.iter().find(|f| f.name == name).ok_or_else(|| {
            cx.bad(
                "columns",
                format!("partition column {name:?} is not a schema column"),
            )
        })?;
        if !partitionable(&field.ty) || partition_by.iter().any(|p: &String| p == name) {
            return Err(cx.bad(
                "columns",
                format!(
                    "column {name:?} ({}) cannot partition, or partitions twice",
                    field.ty
                ),
            ));
        }
        let values = cx
            .column(&shards_frame, at, c.name(), &utf8, false)?
            .strings()?;
        partition_by.push(name.to_owned());
        partition_values.push(values);
        at += 1;
    }
    // Statistics: per schema column `nulls:<c>`, and `min:<c>`, `max:<c>` for kinds with a
    // range.
    let mut stats_columns = Vec::new();
    for f in &schema {
        let nulls = cx
            .column(
                &shards_frame,
                at,
                &format!("nulls:{}", f.name),
                &u64_ty,
                false,
            )?
            .values::<u64>()?;
        at += 1;
        let range = match domain(&f.ty) {
            None => None,
            Some(d) => {
                let ty = ColumnType::Primitive(match d {
                    Domain::Int => Dtype::I64,
                    Domain::UInt => Dtype::U64,
                    Domain::Float => Dtype::F64,
                });
                let lo = cx.column(&shards_frame, at, &format!("min:{}", f.name), &ty, true)?;
                let hi = cx.column(&shards_frame, at + 1, &format!("max:{}", f.name), &ty, true)?;
                at += 2;
                Some((d, lo, hi))
            }
        };
        stats_columns.push((nulls, range));
    }
    if at != shards_frame.width() {
        return Err(cx.bad(
            "columns",
            format!(
                "frame \"shards\" has {} columns, {at} expected",
                shards_frame.width()
            ),
        ));
    }
    let names: Arc<[String]> = schema.iter().map(|f| f.name.clone()).collect();
    let mut shards = Vec::with_capacity(n);
    let mut total: u64 = 0;
    let mut seen = std::collections::HashSet::with_capacity(n);
    for i in 0..n {
        let path = paths.value(i);
        check_path(path).map_err(|e| cx.bad_shard(path, "path", e))?;
        if !seen.insert(path) {
            return Err(cx.bad_shard(path, "path", "listed twice".into()));
        }
        // X6: the partition folders are the partition values, in order.
        let partition: Vec<(String, String)> = partition_by
            .iter()
            .zip(&partition_values)
            .map(|(k, v)| (k.clone(), v.value(i).to_owned()))
            .collect();
        let components: Vec<&str> = path.split('/').collect();
        let folders_ok = components.len() == partition.len() + 1
            && partition.iter().zip(&components).all(|((k, v), c)| {
                c.split_once('=').is_some_and(|(ck, cv)| {
                    unescape(ck).as_deref() == Some(k.as_str())
                        && unescape(cv).as_deref() == Some(v.as_str())
                })
            });
        if !folders_ok {
            return Err(cx.bad_shard(
                path,
                "path",
                format!("its folders are not the partition values {partition:?} as col=value/"),
            ));
        }
        // X7: counts.
        total = total
            .checked_add(rows[i])
            .filter(|&t| t <= i64::MAX as u64)
            .ok_or_else(|| {
                cx.bad_shard(path, "rows", "the rows of all shards overflow 2^63".into())
            })?;
        let mut stats = Vec::with_capacity(schema.len());
        for (f, (nulls, range)) in schema.iter().zip(&stats_columns) {
            let null_count = nulls[i];
            if null_count > rows[i] {
                return Err(cx.bad_shard(
                    path,
                    "stats",
                    format!(
                        "column {:?}: {null_count} nulls in {} rows",
                        f.name, rows[i]
                    ),
                ));
            }
            let range = match range {
                None => None,
                Some((d, lo, hi)) => stat_range(*d, lo, hi, i).map_err(|e| {
                    cx.bad_shard(path, "stats", format!("column {:?}: {e}", f.name))
                })?,
            };
            stats.push(ColumnStats { null_count, range });
        }
        shards.push(ShardInfo {
            path: path.to_owned(),
            rows: rows[i],
            bytes: bytes[i],
            partition,
            stats,
            names: names.clone(),
        });
    }
    let arrays = match kind {
        DatasetKind::Frame => Vec::new(),
        DatasetKind::Arrays => parse_arrays(&cx, r, &shards)?,
    };
    Ok(IndexParts {
        version,
        kind,
        schema,
        partition_by,
        shards,
        arrays,
    })
}

/// Row `i` of a pair of `min:`/`max:` columns: both null (no range) or both set, `min ≤ max`,
/// no NaN (X7).
fn stat_range(
    d: Domain,
    lo: &ColumnView<'_>,
    hi: &ColumnView<'_>,
    i: usize,
) -> std::result::Result<Option<StatRange>, String> {
    let r = match d {
        Domain::Int => {
            let (a, b) = (
                lo.primitive::<i64>().map_err(|e| e.to_string())?,
                hi.primitive::<i64>().map_err(|e| e.to_string())?,
            );
            match (a.get(i), b.get(i)) {
                (None, None) => None,
                (Some(x), Some(y)) if x <= y => Some(StatRange::Int(x, y)),
                (x, y) => return Err(format!("min {x:?} and max {y:?}")),
            }
        }
        Domain::UInt => {
            let (a, b) = (
                lo.primitive::<u64>().map_err(|e| e.to_string())?,
                hi.primitive::<u64>().map_err(|e| e.to_string())?,
            );
            match (a.get(i), b.get(i)) {
                (None, None) => None,
                (Some(x), Some(y)) if x <= y => Some(StatRange::UInt(x, y)),
                (x, y) => return Err(format!("min {x:?} and max {y:?}")),
            }
        }
        Domain::Float => {
            let (a, b) = (
                lo.primitive::<f64>().map_err(|e| e.to_string())?,
                hi.primitive::<f64>().map_err(|e| e.to_string())?,
            );
            match (a.get(i), b.get(i)) {
                (None, None) => None,
                (Some(x), Some(y)) if x <= y => Some(StatRange::Float(x, y)),
                (x, y) => return Err(format!("min {x:?} and max {y:?} (NaN, or min above max)")),
            }
        }
    };
    Ok(r)
}

/// X8: the `arrays` frame of an arrays index: `name` (sorted, unique), `shard`, `dtype`,
/// `shape`; every shard's `rows` is its number of arrays.
fn parse_arrays(cx: &Ctx<'_>, r: &Reader, shards: &[ShardInfo]) -> Result<Vec<ArrayInfo>> {
    let f = r.frame("arrays")?;
    if f.width() != 4 {
        return Err(cx.bad(
            "arrays",
            format!("{} columns; the arrays frame has 4", f.width()),
        ));
    }
    let utf8 = ColumnType::Utf8;
    let names = cx.column(&f, 0, "name", &utf8, false)?.strings()?;
    let shard = cx
        .column(&f, 1, "shard", &ColumnType::Primitive(Dtype::U64), false)?
        .values::<u64>()?;
    let dtypes = cx.column(&f, 2, "dtype", &utf8, false)?.strings()?;
    let shapes = cx.column(&f, 3, "shape", &utf8, false)?.strings()?;
    let mut counts = vec![0u64; shards.len()];
    let mut out = Vec::with_capacity(f.rows());
    #[allow(clippy::needless_range_loop)] // row `i` of four columns
    for i in 0..f.rows() {
        let name = names.value(i);
        let bad = |reason: String| cx.bad("arrays", format!("array {name:?}: {reason}"));
        if name.is_empty()
            || out
                .last()
                .is_some_and(|a: &ArrayInfo| a.name.as_str() >= name)
        {
            return Err(bad("names are non-empty, sorted and unique".into()));
        }
        let s = usize::try_from(shard[i])
            .ok()
            .filter(|&s| s < shards.len())
            .ok_or_else(|| bad(format!("shard {} of {}", shard[i], shards.len())))?;
        counts[s] += 1;
        let dtype: Dtype = dtypes
            .value(i)
            .parse()
            .map_err(|_| bad(format!("unknown dtype {:?}", dtypes.value(i))))?;
        let text = shapes.value(i);
        let shape: Vec<u64> = if text.is_empty() {
            Vec::new()
        } else {
            text.split(',')
                .map(|d| d.parse::<u64>().ok().filter(|_| !d.starts_with('+')))
                .collect::<Option<Vec<u64>>>()
                .ok_or_else(|| bad(format!("shape {text:?} is not dims separated by commas")))?
        };
        if shape.len() > MAX_NDIM {
            return Err(bad(format!(
                "{} dimensions; at most {MAX_NDIM}",
                shape.len()
            )));
        }
        shape
            .iter()
            .try_fold(dtype.size() as u64, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| bad(format!("shape {text:?} overflows 2^64 bytes")))?;
        out.push(ArrayInfo {
            name: name.to_owned(),
            shard: s,
            dtype,
            shape,
        });
    }
    for (s, count) in shards.iter().zip(counts) {
        if s.rows != count {
            return Err(cx.bad_shard(
                &s.path,
                "rows",
                format!(
                    "the index lists {count} arrays in it, its rows say {}",
                    s.rows
                ),
            ));
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Partition values
// ---------------------------------------------------------------------------------------------

/// The partition value of every row of an owned column, `None` for a null (writer side).
pub(crate) fn column_keys(c: &Column) -> Option<Vec<Option<String>>> {
    let ty = c.ty().clone();
    let validity = c.validity();
    let valid = |i: usize| validity.is_none_or(|v| v.get(i));
    let b = c.buffers();
    let n = c.len();
    let keys: Vec<Option<String>> = match ty {
        ColumnType::Utf8 => {
            let offsets = b.offsets?;
            (0..n)
                .map(|i| {
                    valid(i).then(|| {
                        let (x, y) = (offsets[i] as usize, offsets[i + 1] as usize);
                        String::from_utf8_lossy(&b.values[x..y]).into_owned()
                    })
                })
                .collect()
        }
        ColumnType::Categorical { .. } => {
            let (codes, offsets, bytes) = c.codes()?;
            (0..n)
                .map(|i| {
                    valid(i).then(|| {
                        let k = codes[i] as usize;
                        let (x, y) = (offsets[k] as usize, offsets[k + 1] as usize);
                        String::from_utf8_lossy(&bytes[x..y]).into_owned()
                    })
                })
                .collect()
        }
        ColumnType::Bool => {
            let bits = crate::frame::Bitmap::new(b.values, n)?;
            (0..n)
                .map(|i| valid(i).then(|| bits.get(i).to_string()))
                .collect()
        }
        ColumnType::Primitive(d) => {
            let size = d.size();
            let int = |chunk: &[u8]| -> String {
                let mut w = [0u8; 8];
                w[..size].copy_from_slice(chunk);
                let unsigned = u64::from_le_bytes(w);
                match d {
                    Dtype::I8 | Dtype::I16 | Dtype::I32 | Dtype::I64 => {
                        // Sign-extend from `size` bytes.
                        let shift = 64 - 8 * size as u32;
                        (((unsigned << shift) as i64) >> shift).to_string()
                    }
                    _ => unsigned.to_string(),
                }
            };
            if !partitionable(c.ty()) {
                return None;
            }
            b.values
                .chunks_exact(size)
                .enumerate()
                .map(|(i, chunk)| valid(i).then(|| int(chunk)))
                .collect()
        }
        _ => return None,
    };
    Some(keys)
}

/// Rule Y7, checked by verify: every row of a partition column of shard `i` has the shard's
/// partition value.
pub(crate) fn check_partition_values(ds: &Dataset, i: usize, r: &Reader) -> Result<()> {
    let info = &ds.shards[i];
    let frame = r.frame(SHARD_ENTRY)?;
    for (name, value) in &info.partition {
        let c = frame.column(name)?;
        let bad_row = match c.ty() {
            ColumnType::Utf8 => {
                let s = c.strings()?;
                (0..s.len()).find(|&k| s.get(k) != Some(value.as_str()))
            }
            ColumnType::Categorical { .. } => {
                let s = c.categorical()?;
                (0..s.codes.len()).find(|&k| s.get(k) != Some(value.as_str()))
            }
            ColumnType::Bool => {
                let s = c.bools()?;
                (0..c.len()).find(|&k| s.get(k).map(|b| b.to_string()).as_deref() != Some(value))
            }
            ColumnType::Primitive(d) => {
                let text = |k: usize| -> Result<Option<String>> {
                    Ok(match d {
                        Dtype::I8 => c.primitive::<i8>()?.get(k).map(|v| v.to_string()),
                        Dtype::I16 => c.primitive::<i16>()?.get(k).map(|v| v.to_string()),
                        Dtype::I32 => c.primitive::<i32>()?.get(k).map(|v| v.to_string()),
                        Dtype::I64 => c.primitive::<i64>()?.get(k).map(|v| v.to_string()),
                        Dtype::U8 => c.primitive::<u8>()?.get(k).map(|v| v.to_string()),
                        Dtype::U16 => c.primitive::<u16>()?.get(k).map(|v| v.to_string()),
                        Dtype::U32 => c.primitive::<u32>()?.get(k).map(|v| v.to_string()),
                        Dtype::U64 => c.primitive::<u64>()?.get(k).map(|v| v.to_string()),
                        _ => None,
                    })
                };
                let mut bad = None;
                for k in 0..c.len() {
                    if text(k)?.as_deref() != Some(value.as_str()) {
                        bad = Some(k);
                        break;
                    }
                }
                bad
            }
            _ => Some(0),
        };
        if let Some(row) = bad_row {
            return Err(ds.invalid_shard(
                i,
                "partition",
                format!("row {row} of column {name:?} is not the partition value {value:?}"),
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/// A column of 0 rows of type `ty` (the schema frame holds the schema as such columns).
fn empty_column(ty: &ColumnType) -> Column {
    match ty {
        ColumnType::Bool => Column::bools([]),
        ColumnType::Utf8 => Column::strings(Vec::<&str>::new()),
        ColumnType::Binary => Column::binary_opt(Vec::<Option<&[u8]>>::new()),
        ColumnType::Timestamp { unit, zone } => Column::timestamps(vec![], *unit, zone.as_deref()),
        ColumnType::Date => Column::dates(vec![]),
        ColumnType::Duration(unit) => Column::durations(vec![], *unit),
        ColumnType::Categorical { ordered } => {
            Column::categorical(Vec::<Option<&str>>::new()).ordered(*ordered)
        }
        ColumnType::Primitive(d) => match d {
            Dtype::I8 => Column::new(Vec::<i8>::new()),
            Dtype::I16 => Column::new(Vec::<i16>::new()),
            Dtype::I32 => Column::new(Vec::<i32>::new()),
            Dtype::U8 => Column::new(Vec::<u8>::new()),
            Dtype::U16 => Column::new(Vec::<u16>::new()),
            Dtype::U32 => Column::new(Vec::<u32>::new()),
            Dtype::U64 => Column::new(Vec::<u64>::new()),
            Dtype::F16 => Column::new(Vec::<f16>::new()),
            Dtype::F32 => Column::new(Vec::<f32>::new()),
            Dtype::F64 => Column::new(Vec::<f64>::new()),
            _ => Column::new(Vec::<i64>::new()),
        },
    }
}

/// Writes the index of a dataset to `path` atomically (temp file + rename).
pub(crate) fn write(
    path: &Path,
    version: u64,
    kind: DatasetKind,
    schema: &[Field],
    partition_by: &[String],
    shards: &[ShardInfo],
    arrays: &[ArrayInfo],
) -> Result<()> {
    let mut w = crate::Writer::create(path)?;
    w.set_metadata(KEY_FORMAT, FORMAT_VERSION);
    w.set_metadata(KEY_KIND, kind.name());
    w.set_metadata(KEY_VERSION, i64::try_from(version).unwrap_or(i64::MAX));
    let mut f = Frame::builder()
        .column(
            "path",
            Column::strings(shards.iter().map(|s| s.path.as_str())),
        )
        .column(
            "rows",
            Column::new(shards.iter().map(|s| s.rows).collect::<Vec<u64>>()),
        )
        .column(
            "bytes",
            Column::new(shards.iter().map(|s| s.bytes).collect::<Vec<u64>>()),
        );
    for (k, name) in partition_by.iter().enumerate() {
        f = f.column(
            format!("part:{name}"),
            Column::strings(shards.iter().map(|s| s.partition[k].1.as_str())),
        );
    }
    for (j, field) in schema.iter().enumerate() {
        f = f.column(
            format!("nulls:{}", field.name),
            Column::new(
                shards
                    .iter()
                    .map(|s| s.stats[j].null_count)
                    .collect::<Vec<u64>>(),
            ),
        );
        let ranges = shards.iter().map(|s| s.stats[j].range);
        let (lo, hi) = match domain(&field.ty) {
            None => continue,
            Some(Domain::Int) => (
                Column::from_options(ranges.clone().map(|r| match r {
                    Some(StatRange::Int(a, _)) => Some(a),
                    _ => None,
                })),
                Column::from_options(ranges.map(|r| match r {
                    Some(StatRange::Int(_, b)) => Some(b),
                    _ => None,
                })),
            ),
            Some(Domain::UInt) => (
                Column::from_options(ranges.clone().map(|r| match r {
                    Some(StatRange::UInt(a, _)) => Some(a),
                    _ => None,
                })),
                Column::from_options(ranges.map(|r| match r {
                    Some(StatRange::UInt(_, b)) => Some(b),
                    _ => None,
                })),
            ),
            Some(Domain::Float) => (
                Column::from_options(ranges.clone().map(|r| match r {
                    Some(StatRange::Float(a, _)) => Some(a),
                    _ => None,
                })),
                Column::from_options(ranges.map(|r| match r {
                    Some(StatRange::Float(_, b)) => Some(b),
                    _ => None,
                })),
            ),
        };
        f = f
            .column(format!("min:{}", field.name), lo)
            .column(format!("max:{}", field.name), hi);
    }
    w.put_frame("shards", &f.build()?)?;
    match kind {
        DatasetKind::Frame => {
            let mut s = Frame::builder();
            for field in schema {
                s.push(field.name.clone(), empty_column(&field.ty));
            }
            w.put_frame("schema", &s.build()?)?;
        }
        DatasetKind::Arrays => {
            let a = Frame::builder()
                .column(
                    "name",
                    Column::strings(arrays.iter().map(|a| a.name.as_str())),
                )
                .column(
                    "shard",
                    Column::new(arrays.iter().map(|a| a.shard as u64).collect::<Vec<u64>>()),
                )
                .column(
                    "dtype",
                    Column::strings(arrays.iter().map(|a| a.dtype.name())),
                )
                .column(
                    "shape",
                    Column::strings(arrays.iter().map(|a| {
                        a.shape
                            .iter()
                            .map(u64::to_string)
                            .collect::<Vec<_>>()
                            .join(",")
                    })),
                )
                .build()?;
            w.put_frame("arrays", &a)?;
        }
    }
    w.finish()
}
