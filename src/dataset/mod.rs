//! Datasets: a folder of self-contained brine files (shards) and an index that is itself a
//! brine file, published atomically (spec/DATASET.md).
//!
//! ```text
//! flights/
//!   _brine_index.brine                      the index: version, kind, schema, one row per shard
//!   part-v000002-k3J9aQ0x7b-00000.brine     a shard: one frame entry `data`
//!   origin=JFK/part-v000002-k3J9aQ0x7b-00001.brine   (partitioned by `origin`)
//! ```
//!
//! Opening a dataset reads and validates the index only; a shard is opened (and its tier 1
//! checked, and measured against its index row) the first time it is asked for. Statistics in
//! the index are the writer's claim until checked: [`ShardInfo::column_stats`] returns them
//! as stored, [`Dataset::checked_column_stats`] only after they were checked (spec/DATASET.md
//! §6).
//!
//! ```
//! # fn main() -> brine::Result<()> {
//! # let dir = tempfile::tempdir().unwrap();
//! # let path = dir.path().join("ds");
//! use brine::dataset::{Dataset, DatasetOptions, DatasetWriter};
//! use brine::frame::{Column, Frame};
//!
//! let frame = Frame::builder()
//!     .column("id", Column::new((0..10i64).collect::<Vec<_>>()))
//!     .build()?;
//! let mut w = DatasetWriter::create(&path, DatasetOptions::new().max_rows(4))?;
//! w.write_frame(&frame)?;
//! assert_eq!(w.finish()?, 1);
//!
//! let ds = Dataset::open(&path)?;
//! assert_eq!((ds.rows(), ds.shards().len()), (10, 3));
//! let shard = ds.open_shard(2)?;
//! assert_eq!(shard.frame("data")?.column("id")?.values::<i64>()?, &[8, 9]);
//! # Ok(()) }
//! ```

mod index;
mod write;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use once_cell::sync::OnceCell;

use crate::error::{Error, Result};
use crate::frame::{ColumnStats, Field};
use crate::raw::Dtype;
use crate::reader::Reader;

pub use index::{MAX_PATH_LEN, MAX_SHARDS};
pub use write::{DatasetOptions, DatasetWriter, LOCK_FILE};

/// The index's file name, in the dataset's folder.
pub const INDEX_FILE: &str = "_brine_index.brine";

/// The dataset format version this build reads and writes (file metadata `brine.dataset`).
pub const FORMAT_VERSION: i64 = 1;

/// The entry of a frame shard that holds its rows.
pub const SHARD_ENTRY: &str = "data";

/// Opens a file of the dataset by its path relative to the dataset's root (`/`-separated):
/// the index ([`INDEX_FILE`]) and every shard. A local dataset maps files; a remote one (an
/// object store) can read them into buffers ([`Reader::from_buffer`]).
pub type Opener = Arc<dyn Fn(&str) -> Result<Reader> + Send + Sync>;

/// What a dataset's shards hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatasetKind {
    /// One logical frame, cut into shards of rows: each shard holds a frame `data` with the
    /// dataset's schema.
    Frame,
    /// Named arrays, each in one shard (a sharded checkpoint).
    Arrays,
}

impl DatasetKind {
    /// The name stored in the index (`frame`, `arrays`).
    pub fn name(self) -> &'static str {
        match self {
            DatasetKind::Frame => "frame",
            DatasetKind::Arrays => "arrays",
        }
    }
}

/// One shard, as the index describes it.
#[derive(Clone, Debug)]
pub struct ShardInfo {
    pub(crate) path: String,
    pub(crate) rows: u64,
    pub(crate) bytes: u64,
    pub(crate) partition: Vec<(String, String)>,
    /// Per schema column, in schema order (empty for an arrays dataset).
    pub(crate) stats: Vec<ColumnStats>,
    pub(crate) names: Arc<[String]>,
}

impl ShardInfo {
    /// The shard's path relative to the dataset's root, `/`-separated.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Its rows (a frame shard) or its number of arrays (an arrays shard).
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Its file's length in bytes.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Its partition values, `(column, value)` in the dataset's partition order: the values
    /// of the `column=value` folders of its path, decoded (every row of the shard has them).
    pub fn partition_values(&self) -> &[(String, String)] {
        &self.partition
    }

    /// The statistics the index holds for column `name`, or `None` when the schema has no
    /// such column.
    ///
    /// **Unverified**: the writer's claim. A reader that skips this shard by them without
    /// checking them can return a wrong answer from a lying index; use
    /// [`Dataset::checked_column_stats`] (or [`Dataset::verify`] first), spec/DATASET.md §6.
    pub fn column_stats(&self, name: &str) -> Option<ColumnStats> {
        let i = self.names.iter().position(|n| n == name)?;
        self.stats.get(i).copied()
    }
}

/// One array of an arrays dataset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArrayInfo {
    /// The array's name (its entry's name in the shard).
    pub name: String,
    /// The index of the shard that holds it, in [`Dataset::shards`].
    pub shard: usize,
    /// Its dtype.
    pub dtype: Dtype,
    /// Its shape.
    pub shape: Vec<u64>,
}

/// An open dataset: its validated index, and its shards opened on demand.
pub struct Dataset {
    pub(crate) root: PathBuf,
    opener: Opener,
    pub(crate) version: u64,
    pub(crate) kind: DatasetKind,
    pub(crate) schema: Vec<Field>,
    pub(crate) partition_by: Vec<String>,
    pub(crate) shards: Vec<ShardInfo>,
    pub(crate) arrays: Vec<ArrayInfo>,
    opened: Vec<OnceCell<Arc<Reader>>>,
    /// Per shard: its partition columns were checked against its partition values (Y7).
    partitions_checked: Vec<OnceCell<()>>,
    verified: AtomicBool,
}

impl std::fmt::Debug for Dataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dataset")
            .field("root", &self.root)
            .field("version", &self.version)
            .field("kind", &self.kind)
            .field("shards", &self.shards.len())
            .finish()
    }
}

/// The opener of a local folder: maps `root/<relative path>`.
fn local_opener(root: &Path) -> Opener {
    let root = root.to_path_buf();
    Arc::new(move |rel: &str| Reader::open(root.join(rel)))
}

impl Dataset {
    /// Opens the dataset in folder `path`: reads and validates its index (rules X1–X9 of
    /// spec/DATASET.md). No shard is opened.
    ///
    /// # Errors
    /// The errors of opening the index as a brine file; [`Error::InvalidDataset`] for an
    /// index that breaks a rule of spec/DATASET.md.
    pub fn open(path: impl AsRef<Path>) -> Result<Dataset> {
        let root = path.as_ref();
        Dataset::open_with(root, local_opener(root))
    }

    /// Opens a dataset whose files `opener` opens (the index first, then shards on demand);
    /// `root` names it in messages.
    ///
    /// # Errors
    /// As [`Dataset::open`].
    pub fn open_with(root: impl Into<PathBuf>, opener: Opener) -> Result<Dataset> {
        let root = root.into();
        let index = opener(INDEX_FILE)?;
        let parsed = index::parse(&root, &index)?;
        let opened = (0..parsed.shards.len()).map(|_| OnceCell::new()).collect();
        let partitions_checked = (0..parsed.shards.len()).map(|_| OnceCell::new()).collect();
        Ok(Dataset {
            root,
            opener,
            version: parsed.version,
            kind: parsed.kind,
            schema: parsed.schema,
            partition_by: parsed.partition_by,
            shards: parsed.shards,
            arrays: parsed.arrays,
            opened,
            partitions_checked,
            verified: AtomicBool::new(false),
        })
    }

    /// The dataset's root, as given to `open`.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The index's version: 1 for the first write, one more for every write since.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// What the shards hold.
    pub fn kind(&self) -> DatasetKind {
        self.kind
    }

    /// The schema of every shard's frame (empty for an arrays dataset).
    pub fn schema(&self) -> &[Field] {
        &self.schema
    }

    /// The columns the shards are partitioned by (hive-style folders), in folder order.
    pub fn partition_by(&self) -> &[String] {
        &self.partition_by
    }

    /// Every shard, in index order (the order the rows were written in).
    pub fn shards(&self) -> &[ShardInfo] {
        &self.shards
    }

    /// Every array of an arrays dataset, sorted by name (empty for a frame dataset).
    pub fn arrays(&self) -> &[ArrayInfo] {
        &self.arrays
    }

    /// The array named `name`, by binary search.
    pub fn array(&self, name: &str) -> Option<&ArrayInfo> {
        self.arrays
            .binary_search_by(|a| a.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.arrays[i])
    }

    /// Total rows (frame dataset) or arrays (arrays dataset) over every shard.
    pub fn rows(&self) -> u64 {
        // X7 checked that the sum fits.
        self.shards.iter().map(|s| s.rows).sum()
    }

    fn invalid_shard(&self, i: usize, field: &'static str, reason: String) -> Error {
        Error::InvalidDataset {
            dataset: self.root.clone(),
            shard: Some(self.shards[i].path.clone()),
            field,
            reason,
        }
    }

    /// Shard `i`, opened through the opener the first time it is asked for (tier 1 of the
    /// file) and measured against its index row (rules Y1–Y6 of spec/DATASET.md), then kept.
    /// A failure is not kept: it is reported again on the next call.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for `i` out of range; the errors of opening the shard;
    /// [`Error::InvalidDataset`] (naming the shard) when the shard disagrees with the index.
    pub fn open_shard(&self, i: usize) -> Result<Arc<Reader>> {
        let cell = self.opened.get(i).ok_or_else(|| Error::InvalidInput {
            file: self.root.clone(),
            entry: String::new(),
            reason: format!("shard {i} of a dataset of {} shards", self.shards.len()),
        })?;
        cell.get_or_try_init(|| {
            let reader = (self.opener)(&self.shards[i].path)?;
            self.check_shard(i, &reader)?;
            Ok(Arc::new(reader))
        })
        .cloned()
    }

    /// Rules Y2–Y6: the shard's length, entries, schema, rows and statistics are what the
    /// index says.
    fn check_shard(&self, i: usize, r: &Reader) -> Result<()> {
        let info = &self.shards[i];
        match self.kind {
            DatasetKind::Frame => {
                if r.len() != 1 {
                    return Err(self.invalid_shard(
                        i,
                        "entries",
                        format!(
                            "a frame shard holds one entry {SHARD_ENTRY:?}, this one {}",
                            r.len()
                        ),
                    ));
                }
                let frame = r.frame(SHARD_ENTRY).map_err(|e| {
                    self.invalid_shard(i, "entries", format!("no frame {SHARD_ENTRY:?}: {e}"))
                })?;
                let fields = frame.fields();
                if fields != self.schema {
                    let show = |f: &[Field]| {
                        f.iter()
                            .map(|f| format!("{}: {}", f.name, f.ty))
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    return Err(self.invalid_shard(
                        i,
                        "schema",
                        format!(
                            "the shard's columns are [{}], the dataset's [{}]",
                            show(&fields),
                            show(&self.schema)
                        ),
                    ));
                }
                if frame.rows() as u64 != info.rows {
                    return Err(self.invalid_shard(
                        i,
                        "rows",
                        format!(
                            "the shard has {} rows, the index says {}",
                            frame.rows(),
                            info.rows
                        ),
                    ));
                }
                for (c, stored) in frame.iter().zip(&info.stats) {
                    let own = c.stats();
                    if own != *stored {
                        return Err(self.invalid_shard(
                            i,
                            "stats",
                            format!(
                                "column {:?}: the shard's statistics are {own:?}, the index's {stored:?}",
                                c.name()
                            ),
                        ));
                    }
                }
            }
            DatasetKind::Arrays => {
                let mine: Vec<&ArrayInfo> = self.arrays.iter().filter(|a| a.shard == i).collect();
                if r.len() != mine.len() {
                    return Err(self.invalid_shard(
                        i,
                        "entries",
                        format!(
                            "the shard has {} entries, the index lists {} arrays in it",
                            r.len(),
                            mine.len()
                        ),
                    ));
                }
                for a in mine {
                    let e = r.array_entry(&a.name).map_err(|e| {
                        self.invalid_shard(i, "arrays", format!("array {:?}: {e}", a.name))
                    })?;
                    if e.dtype() != a.dtype || e.shape() != a.shape.as_slice() {
                        return Err(self.invalid_shard(
                            i,
                            "arrays",
                            format!(
                                "array {:?} is {} {:?} in the shard, {} {:?} in the index",
                                a.name,
                                e.dtype(),
                                e.shape(),
                                a.dtype,
                                a.shape
                            ),
                        ));
                    }
                }
            }
        }
        // Last, so that a shard replaced by another file reports what differs first.
        if r.file_len() != info.bytes {
            return Err(self.invalid_shard(
                i,
                "bytes",
                format!(
                    "the shard has {} bytes, the index says {}",
                    r.file_len(),
                    info.bytes
                ),
            ));
        }
        Ok(())
    }

    /// Statistics of column `column` of shard `i` that may be trusted to skip data (spec
    /// DATASET.md §6): the index's, when [`Dataset::verify`] passed on this `Dataset`;
    /// otherwise the shard is opened (Y1–Y6: its own statistics equal the index's) and the
    /// column's tier-2 check runs (rule D11 of FORMAT.md: they are the data's range), once.
    ///
    /// # Errors
    /// [`Error::NoSuchColumn`]; as [`Dataset::open_shard`]; the column's tier-2 errors.
    pub fn checked_column_stats(&self, i: usize, column: &str) -> Result<ColumnStats> {
        let no_column = || Error::NoSuchColumn {
            file: self.root.clone(),
            entry: INDEX_FILE.into(),
            column: column.to_owned(),
        };
        let shard = self.shards.get(i).ok_or_else(|| Error::InvalidInput {
            file: self.root.clone(),
            entry: String::new(),
            reason: format!("shard {i} of a dataset of {} shards", self.shards.len()),
        })?;
        let stored = shard.column_stats(column).ok_or_else(no_column)?;
        if self.verified.load(Ordering::Acquire) {
            return Ok(stored);
        }
        let reader = self.open_shard(i)?;
        let checked = reader.frame(SHARD_ENTRY)?.column(column)?.checked_stats()?;
        Ok(checked)
    }

    /// The partition values of shard `i` (`(column, value)` in partition order) that may be
    /// trusted to skip it (spec DATASET.md §6): the index's, when [`Dataset::verify`] passed
    /// on this `Dataset`; otherwise the shard is opened (Y1–Y6) and every row of its partition
    /// columns is checked against them (Y7), once. Empty for an unpartitioned dataset.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for `i` out of range; as [`Dataset::open_shard`];
    /// [`Error::InvalidDataset`] (field `partition`) for a row that is not its shard's value.
    pub fn checked_partition_values(&self, i: usize) -> Result<&[(String, String)]> {
        let (Some(shard), Some(checked)) = (self.shards.get(i), self.partitions_checked.get(i))
        else {
            return Err(Error::InvalidInput {
                file: self.root.clone(),
                entry: String::new(),
                reason: format!("shard {i} of a dataset of {} shards", self.shards.len()),
            });
        };
        if shard.partition.is_empty() || self.verified.load(Ordering::Acquire) {
            return Ok(&shard.partition);
        }
        checked.get_or_try_init(|| {
            let reader = self.open_shard(i)?;
            index::check_partition_values(self, i, &reader)
        })?;
        Ok(&shard.partition)
    }

    /// Whether [`Dataset::verify`] passed on this `Dataset`.
    pub fn is_verified(&self) -> bool {
        self.verified.load(Ordering::Acquire)
    }

    /// Checks the whole dataset (O(dataset)): every shard opened and measured against the
    /// index (Y1–Y6), every shard's own verify (FORMAT.md tier 3, which includes D11 for every
    /// column), and every partition column's values against the shard's partition values
    /// (Y7). Afterwards the index's statistics and partition values may be trusted
    /// ([`Dataset::is_verified`]).
    ///
    /// # Errors
    /// The first error of any shard.
    pub fn verify(&self) -> Result<()> {
        use rayon::prelude::*;
        (0..self.shards.len()).into_par_iter().try_for_each(|i| {
            let r = self.open_shard(i)?;
            r.verify()?;
            if self.kind == DatasetKind::Frame {
                index::check_partition_values(self, i, &r)?;
            }
            Ok::<(), Error>(())
        })?;
        self.verified.store(true, Ordering::Release);
        Ok(())
    }
}

/// The parts of an index, for conformance tools that write invalid indexes on purpose (the
/// invalid vectors of spec/vectors/datasets/). **Unstable**, not for building datasets: use
/// [`DatasetWriter`].
#[doc(hidden)]
#[derive(Clone, Debug)]
pub struct IndexParts {
    pub version: u64,
    pub kind: DatasetKind,
    pub schema: Vec<Field>,
    pub partition_by: Vec<String>,
    pub shards: Vec<ShardInfo>,
    pub arrays: Vec<ArrayInfo>,
}

#[doc(hidden)]
impl ShardInfo {
    pub fn path_mut(&mut self) -> &mut String {
        &mut self.path
    }
    pub fn rows_mut(&mut self) -> &mut u64 {
        &mut self.rows
    }
    pub fn stats_mut(&mut self) -> &mut Vec<ColumnStats> {
        &mut self.stats
    }
    pub fn partition_mut(&mut self) -> &mut Vec<(String, String)> {
        &mut self.partition
    }
}

impl Dataset {
    /// The parts of this dataset's index (see [`IndexParts`]).
    #[doc(hidden)]
    pub fn index_parts(&self) -> IndexParts {
        IndexParts {
            version: self.version,
            kind: self.kind,
            schema: self.schema.clone(),
            partition_by: self.partition_by.clone(),
            shards: self.shards.clone(),
            arrays: self.arrays.clone(),
        }
    }
}

/// Writes `parts` as the index of folder `root`, without any check (see [`IndexParts`]).
///
/// # Errors
/// The errors of writing.
#[doc(hidden)]
pub fn write_index_unchecked(root: &Path, parts: &IndexParts) -> Result<()> {
    index::write(
        &root.join(INDEX_FILE),
        parts.version,
        parts.kind,
        &parts.schema,
        &parts.partition_by,
        &parts.shards,
        &parts.arrays,
    )
}
