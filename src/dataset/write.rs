//! Writing datasets: shards first (in parallel), the index last and atomically, then the
//! removal of shard files no index references (spec/DATASET.md §7).

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::ops::Range;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::dataset::index::{self, column_keys, partitionable, shard_path};
use crate::dataset::{ArrayInfo, Dataset, DatasetKind, INDEX_FILE, SHARD_ENTRY, ShardInfo};
use crate::error::{Error, Result};
use crate::frame::{Field, Frame, FrameOptions};
use crate::reader::{Kind, Reader};
use crate::writer::Writer;

/// The lock file a writer holds (Linux: an exclusive `flock`) for its whole life, so that two
/// writers never publish over each other or remove each other's new shards.
pub const LOCK_FILE: &str = "_brine_lock";

/// How a [`DatasetWriter`] cuts and writes shards.
#[derive(Clone, Debug, Default)]
pub struct DatasetOptions {
    max_rows: Option<u64>,
    max_bytes: Option<u64>,
    partition_by: Vec<String>,
    frame: FrameOptions,
    serial: bool,
}

impl DatasetOptions {
    /// Defaults: one shard per call of [`DatasetWriter::write_frame`] (per partition),
    /// shards written in parallel, columns raw.
    pub fn new() -> Self {
        Self::default()
    }

    /// At most `rows` rows per shard.
    pub fn max_rows(mut self, rows: u64) -> Self {
        self.max_rows = Some(rows.max(1));
        self
    }

    /// About at most `bytes` bytes of column data per shard (estimated from the frame's raw
    /// buffers, by the average row; compressed shards are smaller).
    pub fn max_bytes(mut self, bytes: u64) -> Self {
        self.max_bytes = Some(bytes.max(1));
        self
    }

    /// Partitions the shards by these columns' values, hive-style (`col=value/` folders, one
    /// per column, in this order). Columns must be utf8, categorical, bool or integers and
    /// hold no nulls.
    pub fn partition_by<S: Into<String>>(mut self, columns: impl IntoIterator<Item = S>) -> Self {
        self.partition_by = columns.into_iter().map(Into::into).collect();
        self
    }

    /// Codecs and metadata of every shard's frame.
    pub fn frame_options(mut self, options: FrameOptions) -> Self {
        self.frame = options;
        self
    }

    /// Writes shards one after the other instead of in parallel (same files, byte for byte).
    pub fn serial(mut self, yes: bool) -> Self {
        self.serial = yes;
        self
    }
}

/// Writes a new version of a dataset: [`DatasetWriter::create`] (replacing whatever the
/// folder held) or [`DatasetWriter::append`] (keeping the current shards, untouched). Nothing
/// is visible to readers until [`DatasetWriter::finish`] publishes the index; a writer dropped
/// or killed before leaves shard files that no index references, removed by the next writer.
#[derive(Debug)]
pub struct DatasetWriter {
    root: PathBuf,
    options: DatasetOptions,
    version: u64,
    write_id: String,
    kind: Option<DatasetKind>,
    schema: Option<Vec<Field>>,
    partition_by: Vec<String>,
    kept: Vec<ShardInfo>,
    kept_arrays: Vec<ArrayInfo>,
    new: Vec<ShardInfo>,
    new_arrays: Vec<(usize, ArrayInfo)>,
    next_seq: u64,
    _lock: Option<File>,
}

fn invalid(root: &Path, reason: String) -> Error {
    Error::InvalidInput {
        file: root.to_path_buf(),
        entry: String::new(),
        reason,
    }
}

fn io(path: &Path, e: std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        op: "create",
        source: e,
    }
}

/// 10 letters or digits, different for every writer (time, process, a per-process counter,
/// and std's random hash keys): shard names never collide with a dead writer's.
fn write_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.write_u32(std::process::id());
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let mut v = h.finish();
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    (0..10)
        .map(|_| {
            let c = ALPHABET[(v % 62) as usize];
            v /= 62;
            char::from(c)
        })
        .collect()
}

/// Whether `name` is a shard file name of brine's writer: `part-v<6+ digits>-<10 letters or
/// digits>-<5+ digits>.brine` (the only files a writer ever removes).
pub(crate) fn is_shard_name(name: &str) -> bool {
    let Some(rest) = name
        .strip_prefix("part-v")
        .and_then(|r| r.strip_suffix(".brine"))
    else {
        return false;
    };
    let parts: Vec<&str> = rest.split('-').collect();
    let digits = |s: &str, min: usize| s.len() >= min && s.bytes().all(|b| b.is_ascii_digit());
    parts.len() == 3
        && digits(parts[0], 6)
        && parts[1].len() == 10
        && parts[1].bytes().all(|b| b.is_ascii_alphanumeric())
        && digits(parts[2], 5)
}

#[cfg(target_os = "linux")]
fn lock(root: &Path) -> Result<Option<File>> {
    let path = root.join(LOCK_FILE);
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| io(&path, e))?;
    match rustix::fs::flock(&f, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(Some(f)),
        Err(rustix::io::Errno::WOULDBLOCK) => Err(invalid(
            root,
            "another writer holds the dataset's lock (_brine_lock): one writer at a time".into(),
        )),
        // No flock here (some network file systems): work unlocked.
        Err(_) => Ok(None),
    }
}

#[cfg(not(target_os = "linux"))]
fn lock(_root: &Path) -> Result<Option<File>> {
    Ok(None)
}

impl DatasetWriter {
    /// Starts a new version of the dataset in folder `path` (created if missing) that holds
    /// only what this writer writes; the shards of the current version are removed after
    /// [`DatasetWriter::finish`] publishes.
    ///
    /// # Errors
    /// [`Error::Io`]; the errors of opening the current index, if there is one;
    /// [`Error::InvalidInput`] when another writer holds the dataset.
    pub fn create(path: impl AsRef<Path>, options: DatasetOptions) -> Result<DatasetWriter> {
        let root = path.as_ref().to_path_buf();
        std::fs::create_dir_all(&root).map_err(|e| io(&root, e))?;
        let lock = lock(&root)?;
        let version = if root.join(INDEX_FILE).exists() {
            Dataset::open(&root)?.version() + 1
        } else {
            1
        };
        Ok(DatasetWriter {
            partition_by: options.partition_by.clone(),
            root,
            options,
            version,
            write_id: write_id(),
            kind: None,
            schema: None,
            kept: Vec::new(),
            kept_arrays: Vec::new(),
            new: Vec::new(),
            new_arrays: Vec::new(),
            next_seq: 0,
            _lock: lock,
        })
    }

    /// Starts a new version of the existing dataset in folder `path` that keeps every shard
    /// of the current version, as they are (not rewritten, not read), and adds what this
    /// writer writes. New frames must have the dataset's schema; the partition columns are the
    /// dataset's (options that name others are refused).
    ///
    /// # Errors
    /// As [`Dataset::open`]; [`Error::InvalidInput`] for other partition columns, or when
    /// another writer holds the dataset.
    pub fn append(path: impl AsRef<Path>, options: DatasetOptions) -> Result<DatasetWriter> {
        let root = path.as_ref().to_path_buf();
        let lock = lock(&root)?;
        let ds = Dataset::open(&root)?;
        if !options.partition_by.is_empty() && options.partition_by != ds.partition_by {
            return Err(invalid(
                &root,
                format!(
                    "the dataset is partitioned by {:?}, not {:?}",
                    ds.partition_by, options.partition_by
                ),
            ));
        }
        Ok(DatasetWriter {
            partition_by: ds.partition_by.clone(),
            version: ds.version + 1,
            kind: Some(ds.kind),
            schema: (ds.kind == DatasetKind::Frame).then(|| ds.schema.clone()),
            kept: ds.shards,
            kept_arrays: ds.arrays,
            root,
            options,
            write_id: write_id(),
            new: Vec::new(),
            new_arrays: Vec::new(),
            next_seq: 0,
            _lock: lock,
        })
    }

    /// The path (relative to the root) of the shard this writer wrote last, if any.
    pub fn last_shard(&self) -> Option<&str> {
        self.new.last().map(|s| s.path.as_str())
    }

    /// The version [`DatasetWriter::finish`] will publish.
    pub fn version(&self) -> u64 {
        self.version
    }

    fn set_kind(&mut self, kind: DatasetKind) -> Result<()> {
        match self.kind {
            Some(k) if k != kind => Err(invalid(
                &self.root,
                format!("a dataset of {} cannot take {}", k.name(), kind.name()),
            )),
            _ => {
                self.kind = Some(kind);
                Ok(())
            }
        }
    }

    fn next_file(&mut self) -> String {
        let name = format!(
            "part-v{:06}-{}-{:05}.brine",
            self.version, self.write_id, self.next_seq
        );
        self.next_seq += 1;
        name
    }

    /// Cuts `frame` into shards (by partition, then by [`DatasetOptions::max_rows`] and
    /// [`DatasetOptions::max_bytes`]) and writes them, in parallel unless
    /// [`DatasetOptions::serial`]. Rows of different calls never share a shard. A shard is
    /// written straight from the frame's rows (only a partitioned frame's rows are gathered
    /// first), and its statistics, computed from the rows as they are written, go into the
    /// index, where readers check them before pruning by them.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a frame whose schema differs from the dataset's, a
    /// partition column that is missing, of a type that cannot partition, or has nulls;
    /// [`Error::Io`] and the errors of writing the shards.
    pub fn write_frame(&mut self, frame: &Frame) -> Result<()> {
        self.set_kind(DatasetKind::Frame)?;
        let fields: Vec<Field> = frame
            .columns()
            .map(|(n, c)| Field {
                name: n.to_owned(),
                ty: c.ty().clone(),
            })
            .collect();
        match &self.schema {
            Some(s) if *s != fields => {
                return Err(invalid(
                    &self.root,
                    format!("the frame's columns {fields:?} are not the dataset's {s:?}"),
                ));
            }
            Some(_) => {}
            None => self.schema = Some(fields),
        }
        if frame.rows() == 0 {
            return Ok(());
        }
        // Rows by partition key, in key order.
        let mut groups: BTreeMap<Vec<String>, Vec<usize>> = BTreeMap::new();
        if self.partition_by.is_empty() {
            groups.insert(Vec::new(), Vec::new());
        } else {
            let mut keys = Vec::with_capacity(self.partition_by.len());
            for p in &self.partition_by {
                let c = frame
                    .columns()
                    .find(|(n, _)| n == p)
                    .map(|(_, c)| c)
                    .ok_or_else(|| invalid(&self.root, format!("no partition column {p:?}")))?;
                if !partitionable(c.ty()) {
                    return Err(invalid(
                        &self.root,
                        format!("column {p:?} ({}) cannot partition a dataset", c.ty()),
                    ));
                }
                let k = column_keys(c).ok_or_else(|| {
                    invalid(
                        &self.root,
                        format!("column {p:?} cannot partition a dataset"),
                    )
                })?;
                keys.push(k);
            }
            for row in 0..frame.rows() {
                let mut key = Vec::with_capacity(keys.len());
                for (k, p) in keys.iter().zip(&self.partition_by) {
                    key.push(k[row].clone().ok_or_else(|| {
                        invalid(
                            &self.root,
                            format!("partition column {p:?} has a null at row {row}"),
                        )
                    })?);
                }
                groups.entry(key).or_default().push(row);
            }
        }
        let per_shard = self.rows_per_shard(frame);
        // (partition, rows: None = a contiguous range of the frame) per shard.
        let mut pieces: Vec<(Vec<(String, String)>, Piece)> = Vec::new();
        for (key, rows) in groups {
            let partition: Vec<(String, String)> =
                self.partition_by.iter().cloned().zip(key).collect();
            let n = if self.partition_by.is_empty() {
                frame.rows()
            } else {
                rows.len()
            };
            let mut start = 0;
            while start < n {
                let end = (start + per_shard).min(n);
                let piece = if self.partition_by.is_empty() {
                    Piece::Range(start, end)
                } else {
                    Piece::Rows(rows[start..end].to_vec())
                };
                pieces.push((partition.clone(), piece));
                start = end;
            }
        }
        let jobs: Vec<Job> = pieces
            .into_iter()
            .map(|(p, piece)| {
                let file = self.next_file();
                (shard_path(&p, &file), p, piece)
            })
            .collect();
        let write_one = |(path, partition, piece): Job| match piece {
            Piece::Range(a, b) => write_frame_shard(
                &self.root,
                &path,
                partition,
                frame,
                a..b,
                &self.options.frame,
            ),
            Piece::Rows(rows) => {
                let sub = frame.take(&rows);
                let all = 0..sub.rows();
                write_frame_shard(&self.root, &path, partition, &sub, all, &self.options.frame)
            }
        };
        let written: Vec<ShardInfo> = if self.options.serial {
            jobs.into_iter().map(write_one).collect::<Result<_>>()?
        } else {
            jobs.into_par_iter().map(write_one).collect::<Result<_>>()?
        };
        self.new.extend(written);
        Ok(())
    }

    /// Writes an Arrow record batch as [`DatasetWriter::write_frame`] does (feature `arrow`).
    ///
    /// # Errors
    /// As [`crate::frame::arrow::frame`] and [`DatasetWriter::write_frame`].
    #[cfg(feature = "arrow")]
    pub fn write_record_batch(&mut self, batch: &arrow_array::RecordBatch) -> Result<()> {
        let frame = crate::frame::arrow::frame(batch)?;
        self.write_frame(&frame)
    }

    fn rows_per_shard(&self, frame: &Frame) -> usize {
        let mut n = self.options.max_rows.unwrap_or(u64::MAX);
        if let Some(max_bytes) = self.options.max_bytes {
            let total: u64 = frame
                .columns()
                .map(|(_, c)| {
                    let b = c.buffers();
                    (b.validity.map_or(0, <[u8]>::len)
                        + b.values.len()
                        + b.offsets.map_or(0, |o| o.len() * 8)
                        + b.dictionary.map_or(0, |(o, v)| o.len() * 8 + v.len()))
                        as u64
                })
                .sum();
            let per_row = total.div_ceil(frame.rows().max(1) as u64).max(1);
            n = n.min((max_bytes / per_row).max(1));
        }
        usize::try_from(n).unwrap_or(usize::MAX).max(1)
    }

    /// Writes one shard of an arrays dataset: `fill` puts arrays into the shard's
    /// [`Writer`] (only arrays: other kinds are refused), and the index records each array's
    /// name, dtype and shape, read back from the written file. Array names are unique across
    /// the dataset (checked by [`DatasetWriter::finish`]).
    ///
    /// # Errors
    /// The errors of `fill` and of writing; [`Error::InvalidInput`] for a shard with an entry
    /// that is not an array, or a frame dataset.
    pub fn write_array_shard(
        &mut self,
        fill: impl FnOnce(&mut Writer) -> Result<()>,
    ) -> Result<()> {
        self.set_kind(DatasetKind::Arrays)?;
        let file = self.next_file();
        let target = self.root.join(&file);
        let mut w = Writer::create(&target)?;
        fill(&mut w)?;
        w.finish()?;
        let r = Reader::open(&target)?;
        let shard = self.new.len();
        let mut arrays = Vec::with_capacity(r.len());
        for e in r.entries() {
            if e.kind() != Kind::Array {
                let _ = std::fs::remove_file(&target);
                return Err(invalid(
                    &self.root,
                    format!("entry {:?} of an arrays shard is not an array", e.name()),
                ));
            }
            let a = e.array()?;
            arrays.push((
                shard,
                ArrayInfo {
                    name: a.name().to_owned(),
                    shard,
                    dtype: a.dtype(),
                    shape: a.shape().to_vec(),
                },
            ));
        }
        self.new.push(ShardInfo {
            path: file,
            rows: arrays.len() as u64,
            bytes: r.file_len(),
            partition: Vec::new(),
            stats: Vec::new(),
            names: Vec::new().into(),
        });
        self.new_arrays.extend(arrays);
        Ok(())
    }

    /// Publishes the new version: writes the index atomically (temporary file, fsync, rename),
    /// so that readers see the old version or the new one, never a mix; then removes the shard
    /// files (named as brine names them) that the new index does not reference. Returns the
    /// version published.
    ///
    /// # Errors
    /// [`Error::Duplicate`] for an array name in two shards; the errors of writing the index.
    /// Failing to remove an unreferenced shard is not an error (the next writer tries again).
    pub fn finish(self) -> Result<u64> {
        let kind = self.kind.unwrap_or(DatasetKind::Frame);
        let schema = self.schema.clone().unwrap_or_default();
        let offset = self.kept.len();
        let mut shards = self.kept;
        let names: std::sync::Arc<[String]> = schema.iter().map(|f| f.name.clone()).collect();
        shards.extend(self.new.into_iter().map(|mut s| {
            if kind == DatasetKind::Frame {
                s.names = names.clone();
            }
            s
        }));
        let mut arrays = self.kept_arrays;
        arrays.extend(self.new_arrays.into_iter().map(|(s, mut a)| {
            a.shard = s + offset;
            a
        }));
        arrays.sort_by(|a, b| a.name.cmp(&b.name));
        if let Some(pair) = arrays.windows(2).find(|p| p[0].name == p[1].name) {
            return Err(Error::Duplicate {
                file: self.root.clone(),
                what: "array name",
                name: pair[0].name.clone(),
            });
        }
        index::write(
            &self.root.join(INDEX_FILE),
            self.version,
            kind,
            &schema,
            &self.partition_by,
            &shards,
            &arrays,
        )?;
        let referenced: HashSet<PathBuf> = shards.iter().map(|s| self.root.join(&s.path)).collect();
        // Any depth of partition folders an earlier version may have used, up to a bound.
        remove_unreferenced(&self.root, &referenced, 16);
        Ok(self.version)
    }
}

/// One shard to write: its path, partition values and rows.
type Job = (String, Vec<(String, String)>, Piece);

/// A shard's rows: a contiguous range of the frame, or the rows of one partition.
#[derive(Debug)]
enum Piece {
    Range(usize, usize),
    Rows(Vec<usize>),
}

/// Writes rows `rows` of `frame` as one shard, straight from the frame's memory, and returns
/// its index row with the statistics of the rows written. Those are the writer's claim, as in
/// every brine file; readers check them before pruning by them (spec/DATASET.md §6).
fn write_frame_shard(
    root: &Path,
    path: &str,
    partition: Vec<(String, String)>,
    frame: &Frame,
    rows: Range<usize>,
    options: &FrameOptions,
) -> Result<ShardInfo> {
    let target = root.join(path);
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
    }
    let mut w = Writer::create(&target)?;
    let stats = w.put_frame_rows(SHARD_ENTRY, frame, rows.clone(), options)?;
    w.finish()?;
    let bytes = std::fs::metadata(&target)
        .map_err(|e| io(&target, e))?
        .len();
    Ok(ShardInfo {
        path: path.to_owned(),
        rows: rows.len() as u64,
        bytes,
        partition,
        stats,
        names: Vec::new().into(),
    })
}

/// Removes, under `root` down to `depth` folders, every file named like a shard that is not
/// referenced, then partition folders left empty. Errors are ignored: what stays is removed
/// by a later writer.
fn remove_unreferenced(root: &Path, referenced: &HashSet<PathBuf>, depth: usize) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let Ok(t) = e.file_type() else { continue };
        let name = e.file_name();
        let name = name.to_string_lossy();
        if t.is_file() && is_shard_name(&name) && !referenced.contains(&path) {
            let _ = std::fs::remove_file(&path);
        } else if t.is_dir() && depth > 1 && name.contains('=') {
            remove_unreferenced(&path, referenced, depth - 1);
            // Only succeeds when empty.
            let _ = std::fs::remove_dir(&path);
        }
    }
}
