//! Sources (one frame entry in one file) and the table over a list of them.

use std::any::Any;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use brine::frame::ColumnStats;
use brine::{Kind, Reader};
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::catalog::Session;
use datafusion::catalog::TableProvider;
use datafusion::common::stats::Precision;
use datafusion::common::{ColumnStatistics, DFSchema, Statistics};
use datafusion::datasource::TableType;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_optimizer::pruning::PruningPredicateBuilder;
use datafusion::physical_plan::ExecutionPlan;

use crate::df_err;
use crate::exec::{BrineExec, Unit};
use crate::stats::{SourceStats, checked_stats, scalar_range};

/// One frame entry in one brine file: a container of rows that a scan reads whole or skips.
#[derive(Debug)]
pub struct BrineSource {
    path: PathBuf,
    entry: String,
    rows: Option<usize>,
    /// Per table column, in table order; `None` where unknown.
    stats: Vec<Option<ColumnStats>>,
    /// Whether `stats` were checked against the data (see [`checked_stats`]).
    stats_checked: bool,
    reader: OnceLock<Arc<Reader>>,
}

impl BrineSource {
    /// Opens `path` (O(metadata)) and describes its frame `entry` from its manifest.
    ///
    /// # Errors
    /// The file's errors at open, [`brine::Error::NotFound`], [`brine::Error::WrongKind`].
    pub fn open(path: impl AsRef<Path>, entry: &str) -> brine::Result<BrineSource> {
        let reader = Arc::new(Reader::open(path.as_ref())?);
        BrineSource::from_reader(reader, entry)
    }

    /// Describes frame `entry` of an open reader (the reader is kept for the scan).
    ///
    /// # Errors
    /// [`brine::Error::NotFound`], [`brine::Error::WrongKind`], and those of [`checked_stats`].
    pub fn from_reader(reader: Arc<Reader>, entry: &str) -> brine::Result<BrineSource> {
        let frame = reader.frame(entry)?;
        let mut stats = Vec::with_capacity(frame.width());
        let mut all_checked = true;
        for column in frame.iter() {
            let (s, checked) = checked_stats(&column)?;
            all_checked &= checked;
            stats.push(Some(s));
        }
        let rows = frame.rows();
        let path = reader.path().to_path_buf();
        let cell = OnceLock::new();
        let _ = cell.set(Arc::clone(&reader));
        Ok(BrineSource {
            path,
            entry: entry.to_owned(),
            rows: Some(rows),
            stats,
            stats_checked: all_checked,
            reader: cell,
        })
    }

    /// A source known by its description only (a dataset's shard list, a plan received over
    /// the network): the file is opened by the first scan that reads it, and a file whose
    /// columns are not the table's is refused then. `stats` are per table column; pass
    /// `checked = true` only for statistics verified against the data.
    pub fn described(
        path: impl Into<PathBuf>,
        entry: impl Into<String>,
        rows: Option<usize>,
        stats: Vec<Option<ColumnStats>>,
        checked: bool,
    ) -> BrineSource {
        BrineSource {
            path: path.into(),
            entry: entry.into(),
            rows,
            stats,
            stats_checked: checked,
            reader: OnceLock::new(),
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The frame entry.
    pub fn entry(&self) -> &str {
        &self.entry
    }

    /// Number of rows, when known without opening the file.
    pub fn rows(&self) -> Option<usize> {
        self.rows
    }

    /// Per-column statistics, in table column order.
    pub fn stats(&self) -> &[Option<ColumnStats>] {
        &self.stats
    }

    /// Whether [`BrineSource::stats`] were checked against the data.
    pub fn stats_checked(&self) -> bool {
        self.stats_checked
    }

    /// The reader, opened on first use.
    pub(crate) fn reader(&self) -> brine::Result<Arc<Reader>> {
        if let Some(r) = self.reader.get() {
            return Ok(Arc::clone(r));
        }
        let r = Arc::new(Reader::open(&self.path)?);
        Ok(Arc::clone(self.reader.get_or_init(|| r)))
    }
}

/// What scans of a table touched, summed over every scan since the table was made: for
/// checking pushdown and for benchmarks.
#[derive(Debug, Default)]
pub struct ScanCounters {
    /// Stored bytes of the column sections that scans mapped.
    pub bytes: AtomicU64,
    /// Sources that scans read (after pruning).
    pub sources: AtomicU64,
    /// Columns that scans mapped (one per source and projected column).
    pub columns: AtomicU64,
}

impl ScanCounters {
    /// `(bytes, sources, columns)` so far.
    pub fn get(&self) -> (u64, u64, u64) {
        (
            self.bytes.load(Ordering::Relaxed),
            self.sources.load(Ordering::Relaxed),
            self.columns.load(Ordering::Relaxed),
        )
    }

    /// Sets every counter back to zero.
    pub fn reset(&self) {
        self.bytes.store(0, Ordering::Relaxed);
        self.sources.store(0, Ordering::Relaxed);
        self.columns.store(0, Ordering::Relaxed);
    }
}

/// A DataFusion table over brine sources that share one schema.
#[derive(Debug)]
pub struct BrineTable {
    schema: SchemaRef,
    sources: Arc<[Arc<BrineSource>]>,
    counters: Arc<ScanCounters>,
}

/// The only frame entry of a reader.
fn only_frame(reader: &Reader) -> Result<String> {
    let frames: Vec<&str> = reader
        .entries()
        .filter(|e| e.kind() == Kind::Frame)
        .map(|e| e.name())
        .collect();
    match frames.as_slice() {
        [one] => Ok((*one).to_owned()),
        _ => Err(DataFusionError::Plan(format!(
            "{}: a table needs one frame entry, the file has {} ({}); name the entry",
            reader.path().display(),
            frames.len(),
            frames.join(", ")
        ))),
    }
}

impl BrineTable {
    /// The table of the only frame entry of the file at `path`.
    ///
    /// # Errors
    /// The file's errors at open (as [`DataFusionError::External`]); a plan error when it has
    /// no frame or several.
    pub fn open(path: impl AsRef<Path>) -> Result<BrineTable> {
        let reader = Arc::new(Reader::open(path.as_ref()).map_err(df_err)?);
        let entry = only_frame(&reader)?;
        BrineTable::from_reader(reader, &entry).map_err(df_err)
    }

    /// The table of frame `entry` of the file at `path`.
    ///
    /// # Errors
    /// The file's errors at open, [`brine::Error::NotFound`], [`brine::Error::WrongKind`].
    pub fn open_entry(path: impl AsRef<Path>, entry: &str) -> brine::Result<BrineTable> {
        let reader = Arc::new(Reader::open(path.as_ref())?);
        BrineTable::from_reader(reader, entry)
    }

    /// The table of frame `entry` of an open reader.
    ///
    /// # Errors
    /// [`brine::Error::NotFound`], [`brine::Error::WrongKind`].
    pub fn from_reader(reader: Arc<Reader>, entry: &str) -> brine::Result<BrineTable> {
        let schema = frame_schema(&reader, entry)?;
        let source = BrineSource::from_reader(reader, entry)?;
        Ok(BrineTable::new(schema, vec![source]))
    }

    /// The table of several files' frames, opening each (O(metadata)); `entry` names the frame
    /// in each file, or `None` for each file's only frame.
    ///
    /// # Errors
    /// Each file's errors, and a plan error when a file's columns (names, types) differ from
    /// the first's, or when the list is empty (it has no schema).
    pub fn open_many<P: AsRef<Path>>(
        paths: impl IntoIterator<Item = P>,
        entry: Option<&str>,
    ) -> Result<BrineTable> {
        let mut schema: Option<SchemaRef> = None;
        let mut sources = Vec::new();
        for p in paths {
            let reader = Arc::new(Reader::open(p.as_ref()).map_err(df_err)?);
            let entry = match entry {
                Some(e) => e.to_owned(),
                None => only_frame(&reader)?,
            };
            let s = frame_schema(&reader, &entry).map_err(df_err)?;
            match &schema {
                None => schema = Some(s),
                Some(first) => same_columns(first, &s, reader.path(), &entry)?,
            }
            sources.push(BrineSource::from_reader(reader, &entry).map_err(df_err)?);
        }
        let schema = schema
            .ok_or_else(|| DataFusionError::Plan("a table needs at least one file".into()))?;
        Ok(BrineTable::new(schema, sources))
    }

    /// A table of sources described by the caller (a dataset): `schema` is the table's
    /// columns (see [`brine::frame::arrow::data_type`] for their Arrow types); each source's
    /// statistics are in schema order. Nothing is opened here.
    pub fn new(schema: SchemaRef, sources: Vec<BrineSource>) -> BrineTable {
        BrineTable {
            schema,
            sources: sources.into_iter().map(Arc::new).collect(),
            counters: Arc::default(),
        }
    }

    /// The sources.
    pub fn sources(&self) -> &[Arc<BrineSource>] {
        &self.sources
    }

    /// What scans of this table touched.
    pub fn counters(&self) -> &Arc<ScanCounters> {
        &self.counters
    }

    /// The sources that `filters` cannot rule out by their statistics (all when there is no
    /// usable predicate).
    fn surviving(&self, state: &dyn Session, filters: &[Expr]) -> Result<Vec<usize>> {
        let all: Vec<usize> = (0..self.sources.len()).collect();
        let Some(predicate) = conjunction(filters.iter().cloned()) else {
            return Ok(all);
        };
        let df_schema = DFSchema::try_from(Arc::clone(&self.schema))?;
        let physical = state.create_physical_expr(predicate, &df_schema)?;
        let pruning = PruningPredicateBuilder::new()
            .with_file_schema(Arc::clone(&self.schema))
            .try_build(physical)?;
        if pruning.always_true() {
            return Ok(all);
        }
        let stats = SourceStats {
            schema: Arc::clone(&self.schema),
            sources: self
                .sources
                .iter()
                .map(|s| (s.rows, s.stats.as_slice()))
                .collect(),
        };
        let keep = pruning.prune(&stats)?;
        Ok(all.into_iter().filter(|&i| keep[i]).collect())
    }

    /// Table statistics over `sources`: exact row counts where known; null counts and ranges
    /// exact only when every source's statistics were checked.
    pub(crate) fn statistics_of(
        schema: &Schema,
        sources: &[&BrineSource],
        projection: Option<&[usize]>,
    ) -> Statistics {
        let rows = sources
            .iter()
            .try_fold(0usize, |acc, s| Some(acc + s.rows?));
        let checked = sources.iter().all(|s| s.stats_checked);
        let exact = |v| {
            if checked {
                Precision::Exact(v)
            } else {
                Precision::Inexact(v)
            }
        };
        let columns: Vec<usize> =
            projection.map_or_else(|| (0..schema.fields().len()).collect(), <[usize]>::to_vec);
        let column_statistics =
            columns
                .iter()
                .map(|&i| {
                    let ty = schema.field(i).data_type();
                    let per: Option<Vec<ColumnStats>> = sources
                        .iter()
                        .map(|s| s.stats.get(i).copied().flatten())
                        .collect();
                    let Some(per) = per else {
                        return ColumnStatistics::new_unknown();
                    };
                    let nulls: u64 = per.iter().map(|s| s.null_count).sum();
                    let mut stat = ColumnStatistics::new_unknown()
                        .with_null_count(exact(usize::try_from(nulls).unwrap_or(usize::MAX)));
                    let ranges: Option<Vec<_>> = per
                        .iter()
                        .map(|s| s.range.and_then(|r| scalar_range(ty, r)))
                        .collect();
                    if let Some(ranges) = ranges.filter(|r| !r.is_empty()) {
                        let min = ranges
                            .iter()
                            .map(|r| r.0.clone())
                            .reduce(|a, b| if b < a { b } else { a });
                        let max = ranges
                            .iter()
                            .map(|r| r.1.clone())
                            .reduce(|a, b| if b > a { b } else { a });
                        if let (Some(min), Some(max)) = (min, max) {
                            let (min, max) = if checked {
                                (Precision::Exact(min), Precision::Exact(max))
                            } else {
                                (Precision::Inexact(min), Precision::Inexact(max))
                            };
                            stat = stat.with_min_value(min).with_max_value(max);
                        }
                    }
                    stat
                })
                .collect();
        Statistics {
            num_rows: rows.map_or(Precision::Absent, Precision::Exact),
            total_byte_size: Precision::Absent,
            column_statistics,
        }
    }
}

/// The Arrow schema of frame `entry` (with the frame's and columns' metadata).
fn frame_schema(reader: &Arc<Reader>, entry: &str) -> brine::Result<SchemaRef> {
    let frame = reader.frame(entry)?;
    let fields: Vec<_> = frame
        .iter()
        .map(|c| brine::frame::arrow::field(&c))
        .collect();
    Ok(Arc::new(Schema::new(fields)))
}

fn same_columns(a: &Schema, b: &Schema, path: &Path, entry: &str) -> Result<()> {
    let cols = |s: &Schema| -> Vec<(String, String)> {
        s.fields()
            .iter()
            .map(|f| (f.name().clone(), f.data_type().to_string()))
            .collect()
    };
    if cols(a) == cols(b) {
        return Ok(());
    }
    Err(DataFusionError::Plan(format!(
        "{}: frame {entry:?} has columns {:?}, the table's are {:?}",
        path.display(),
        cols(b),
        cols(a)
    )))
}

#[async_trait]
impl TableProvider for BrineTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        // Statistics skip whole sources; DataFusion still filters the rows of those read.
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    fn statistics(&self) -> Option<Statistics> {
        let sources: Vec<&BrineSource> = self.sources.iter().map(AsRef::as_ref).collect();
        Some(BrineTable::statistics_of(&self.schema, &sources, None))
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let surviving = self.surviving(state, filters)?;
        let target = state.config().target_partitions().max(1);
        let units = Unit::plan(&self.sources, &surviving, target, limit);
        let projection: Vec<usize> = projection
            .cloned()
            .unwrap_or_else(|| (0..self.schema.fields().len()).collect());
        let exec = BrineExec::try_new(
            Arc::clone(&self.schema),
            Arc::clone(&self.sources),
            units,
            projection,
            limit,
            Arc::clone(&self.counters),
        )?;
        Ok(Arc::new(exec))
    }
}

impl BrineTable {
    /// Downcasts a DataFusion table to a brine one.
    pub fn of(provider: &dyn TableProvider) -> Option<&BrineTable> {
        (provider as &dyn Any).downcast_ref()
    }
}
