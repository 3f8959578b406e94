//! Sources (one frame entry in one file, or one shard of a dataset) and the table over a list
//! of them.

use std::any::Any;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use brine::dataset::{Dataset, DatasetKind, SHARD_ENTRY};
use brine::frame::{ColumnStats, ColumnType};
use brine::{Kind, Reader};
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
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
use crate::stats::{SourceStats, has_range, scalar_range};

/// Where a source's rows are.
#[derive(Debug)]
enum Origin {
    /// A frame entry of a file, opened on first use.
    File { reader: OnceLock<Arc<Reader>> },
    /// Shard `index` of a dataset (opened, and checked against its index row, by the dataset).
    Shard { dataset: Arc<Dataset>, index: usize },
}

/// One frame entry in one brine file, or one shard of a dataset: a container of rows that a
/// scan reads whole or skips.
///
/// Statistics used to skip a source or handed to the planner are only ever verified ones
/// (`ColumnView::checked_stats`, rule D11 of spec/FORMAT.md; a dataset's
/// `Dataset::checked_column_stats`): a file or an index whose statistics lie makes the query
/// fail with brine's error, never return fewer rows. They are asked for the columns a query
/// filters on or reads, when it is planned, and kept.
#[derive(Debug)]
pub struct BrineSource {
    path: PathBuf,
    entry: String,
    /// The row count as described: a file's manifest (tier 1 checked), or a claim (an index
    /// row, a caller's description) that the scan checks when it opens the source.
    rows: Option<usize>,
    origin: Origin,
    /// Verified statistics, per table column, as they were asked for.
    checked: Mutex<Vec<Option<ColumnStats>>>,
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
    /// [`brine::Error::NotFound`], [`brine::Error::WrongKind`].
    pub fn from_reader(reader: Arc<Reader>, entry: &str) -> brine::Result<BrineSource> {
        let rows = reader.frame(entry)?.rows();
        let cell = OnceLock::new();
        let path = reader.path().to_path_buf();
        let _ = cell.set(reader);
        Ok(BrineSource {
            path,
            entry: entry.to_owned(),
            rows: Some(rows),
            origin: Origin::File { reader: cell },
            checked: Mutex::default(),
        })
    }

    /// A source known by its description only (a plan received over the network, a list of
    /// files from a catalog): the file is opened by the first scan or plan that needs it, and
    /// a file whose columns are not the table's, or whose row count is not `rows`, is refused
    /// then. Its statistics are read from the file, checked.
    pub fn described(
        path: impl Into<PathBuf>,
        entry: impl Into<String>,
        rows: Option<usize>,
    ) -> BrineSource {
        BrineSource {
            path: path.into(),
            entry: entry.into(),
            rows,
            origin: Origin::File {
                reader: OnceLock::new(),
            },
            checked: Mutex::default(),
        }
    }

    /// Shard `index` of a frame dataset, described by the dataset's index (nothing opened).
    fn shard(dataset: &Arc<Dataset>, index: usize) -> BrineSource {
        let info = &dataset.shards()[index];
        BrineSource {
            path: dataset.root().join(info.path()),
            entry: SHARD_ENTRY.to_owned(),
            rows: usize::try_from(info.rows()).ok(),
            origin: Origin::Shard {
                dataset: Arc::clone(dataset),
                index,
            },
            checked: Mutex::default(),
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

    /// Number of rows as described (see [`BrineSource::described`]): exact for a file opened
    /// here, a claim checked by the scan for a dataset's shard or a described source.
    pub fn rows(&self) -> Option<usize> {
        self.rows
    }

    /// The reader, opened on first use (a dataset's shard: through the dataset, which checks
    /// it against its index row).
    pub(crate) fn reader(&self) -> brine::Result<Arc<Reader>> {
        match &self.origin {
            Origin::Shard { dataset, index } => dataset.open_shard(*index),
            Origin::File { reader } => {
                if let Some(r) = reader.get() {
                    return Ok(Arc::clone(r));
                }
                let r = Arc::new(Reader::open(&self.path)?);
                Ok(Arc::clone(reader.get_or_init(|| r)))
            }
        }
    }

    /// The columns of a dataset's shards that hold the partition values (none for a file).
    fn partition_columns(&self) -> &[String] {
        match &self.origin {
            Origin::Shard { dataset, .. } => dataset.partition_by(),
            Origin::File { .. } => &[],
        }
    }

    /// The partition values of a dataset's shard that may be trusted to skip it
    /// ([`Dataset::checked_partition_values`]: free after `Dataset::verify`, otherwise one
    /// pass over the shard's partition columns, once); none for a file.
    pub(crate) fn checked_partition_values(&self) -> brine::Result<&[(String, String)]> {
        match &self.origin {
            Origin::Shard { dataset, index } => dataset.checked_partition_values(*index),
            Origin::File { .. } => Ok(&[]),
        }
    }

    /// The row count, checked: the frame's own (tier 1), refused when it is not the described
    /// one; a verified dataset's index row without opening the shard.
    pub(crate) fn checked_rows(&self) -> brine::Result<usize> {
        if let Origin::Shard { dataset, .. } = &self.origin
            && dataset.is_verified()
            && let Some(rows) = self.rows
        {
            return Ok(rows);
        }
        let reader = self.reader()?;
        let frame = reader.frame(&self.entry)?;
        self.check_rows(frame.rows())?;
        Ok(frame.rows())
    }

    /// Refuses a frame of `rows` rows when the description said otherwise.
    pub(crate) fn check_rows(&self, rows: usize) -> brine::Result<()> {
        match self.rows {
            Some(claim) if claim != rows => Err(brine::Error::InvalidData {
                file: self.path.clone(),
                entry: self.entry.clone(),
                reason: format!("the table describes {claim} rows, the frame has {rows}"),
            }),
            _ => Ok(()),
        }
    }

    /// The verified statistics of table column `column` (named `name`), from the cache or
    /// checked now; the stored bytes of the column are added to `counters.stats_bytes` when
    /// checking them read the column.
    pub(crate) fn checked_stats(
        &self,
        column: usize,
        name: &str,
        counters: &ScanCounters,
    ) -> brine::Result<ColumnStats> {
        {
            let cache = self.checked.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(Some(s)) = cache.get(column) {
                return Ok(*s);
            }
        }
        let stats = match &self.origin {
            Origin::Shard { dataset, index } if dataset.is_verified() => {
                // `Dataset::verify` checked every shard (D11, Y5): the index is the truth.
                dataset.checked_column_stats(*index, name)?
            }
            Origin::Shard { dataset, index } => {
                // Opens the shard (Y1-Y6: its statistics are the index's) and checks the
                // column's data against them (D11).
                let stats = dataset.checked_column_stats(*index, name)?;
                counters.add_stats_bytes(&*self.reader()?, &self.entry, name);
                stats
            }
            Origin::File { .. } => {
                let reader = self.reader()?;
                let stats = reader.frame(&self.entry)?.column(name)?.checked_stats()?;
                counters.add_stats_bytes(&reader, &self.entry, name);
                stats
            }
        };
        let mut cache = self.checked.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() <= column {
            cache.resize(column + 1, None);
        }
        cache[column] = Some(stats);
        Ok(stats)
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
    /// Stored bytes of the columns whose statistics were checked against their data so that
    /// pruning or the planner could use them (once per source and column; nothing for a
    /// verified dataset, whose index is trusted). For a source that is read, these are bytes
    /// the scan maps again (the check is the column's first access, which the scan skips).
    pub stats_bytes: AtomicU64,
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

    /// Bytes read to check statistics so far (see [`ScanCounters::stats_bytes`]).
    pub fn stats_bytes(&self) -> u64 {
        self.stats_bytes.load(Ordering::Relaxed)
    }

    /// Sets every counter back to zero.
    pub fn reset(&self) {
        self.bytes.store(0, Ordering::Relaxed);
        self.sources.store(0, Ordering::Relaxed);
        self.columns.store(0, Ordering::Relaxed);
        self.stats_bytes.store(0, Ordering::Relaxed);
    }

    fn add_stats_bytes(&self, reader: &Reader, entry: &str, column: &str) {
        let bytes = reader
            .frame(entry)
            .and_then(|f| f.column(column))
            .map(|c| c.sections().map(|(_, s)| s.stored_len).sum::<u64>())
            .unwrap_or(0);
        self.stats_bytes.fetch_add(bytes, Ordering::Relaxed);
    }
}

/// A DataFusion table over brine sources that share one schema: one file's frame, several
/// files' frames, or the shards of a dataset. Clones share the sources, their verified
/// statistics and the counters.
#[derive(Clone, Debug)]
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
    /// The table of the only frame entry of the file at `path`, or of the dataset whose
    /// folder `path` is (see [`BrineTable::open_dataset`]).
    ///
    /// # Errors
    /// The file's or the dataset's errors at open (as [`DataFusionError::External`]); a plan
    /// error when the file has no frame or several, or the dataset holds arrays.
    pub fn open(path: impl AsRef<Path>) -> Result<BrineTable> {
        let path = path.as_ref();
        if path.is_dir() {
            return BrineTable::open_dataset(path);
        }
        let reader = Arc::new(Reader::open(path).map_err(df_err)?);
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

    /// The table of the frame dataset in folder `path` ([`Dataset::open`]: the index only is
    /// read), one source per shard.
    ///
    /// # Errors
    /// As [`Dataset::open`]; a plan error for an arrays dataset.
    pub fn open_dataset(path: impl AsRef<Path>) -> Result<BrineTable> {
        let dataset = Dataset::open(path.as_ref()).map_err(df_err)?;
        BrineTable::from_dataset(Arc::new(dataset))
    }

    /// The table of an open frame dataset: its schema, one source per shard (in index
    /// order), nothing opened. Shards are skipped by the index's statistics once checked
    /// ([`Dataset::checked_column_stats`]: free after [`Dataset::verify`], otherwise one pass
    /// over the filtered column of each shard, the first time); each shard is opened and
    /// checked against its index row when a scan or the planner first needs it.
    ///
    /// # Errors
    /// A plan error for an arrays dataset.
    pub fn from_dataset(dataset: Arc<Dataset>) -> Result<BrineTable> {
        if dataset.kind() != DatasetKind::Frame {
            return Err(DataFusionError::Plan(format!(
                "{}: a table needs a frame dataset, this one holds {}",
                dataset.root().display(),
                dataset.kind().name()
            )));
        }
        let fields: Vec<Field> = dataset
            .schema()
            .iter()
            .map(|f| {
                let ordered = matches!(f.ty, ColumnType::Categorical { ordered: true });
                Field::new(&f.name, brine::frame::arrow::data_type(&f.ty), true)
                    .with_dict_is_ordered(ordered)
            })
            .collect();
        let sources = (0..dataset.shards().len())
            .map(|i| BrineSource::shard(&dataset, i))
            .collect();
        Ok(BrineTable::new(Arc::new(Schema::new(fields)), sources))
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

    /// A table of sources described by the caller: `schema` is the table's columns (see
    /// [`brine::frame::arrow::data_type`] for their Arrow types). Nothing is opened here.
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

    /// The sources that `filters` cannot rule out by their verified statistics (all when
    /// there is no usable predicate).
    ///
    /// # Errors
    /// A source whose statistics do not survive their check (a lying file or index: brine's
    /// error), and DataFusion's errors building the predicate.
    fn surviving(&self, state: &dyn Session, filters: &[Expr]) -> Result<Vec<usize>> {
        let all: Vec<usize> = (0..self.sources.len()).collect();
        let Some(predicate) = conjunction(filters.iter().cloned()) else {
            return Ok(all);
        };
        // Only columns with a range in DataFusion's order, and a dataset's partition columns
        // (`col = value`, `col IN (...)`), can rule a source out, so only those are checked
        // (one pass over each, once).
        let referenced: Vec<usize> = predicate
            .column_refs()
            .iter()
            .filter_map(|c| self.schema.index_of(&c.name).ok())
            .collect();
        let mut columns: Vec<usize> = referenced
            .iter()
            .copied()
            .filter(|&i| has_range(self.schema.field(i).data_type()))
            .collect();
        columns.sort_unstable();
        columns.dedup();
        let partitioned = self.sources.iter().any(|s| {
            s.partition_columns()
                .iter()
                .any(|p| referenced.iter().any(|&i| self.schema.field(i).name() == p))
        });
        if columns.is_empty() && !partitioned {
            return Ok(all);
        }
        let df_schema = DFSchema::try_from(Arc::clone(&self.schema))?;
        let physical = state.create_physical_expr(predicate, &df_schema)?;
        let pruning = PruningPredicateBuilder::new()
            .with_file_schema(Arc::clone(&self.schema))
            .try_build(physical)?;
        if pruning.always_true() {
            return Ok(all);
        }
        let width = self.schema.fields().len();
        let mut per_source = Vec::with_capacity(self.sources.len());
        let mut partitions = Vec::with_capacity(self.sources.len());
        for source in self.sources.iter() {
            let mut stats = vec![None; width];
            for &c in &columns {
                let name = self.schema.field(c).name();
                let s = source
                    .checked_stats(c, name, &self.counters)
                    .map_err(df_err)?;
                stats[c] = Some(s);
            }
            let rows = source.checked_rows().map_err(df_err)?;
            per_source.push((Some(rows), stats));
            let values = if partitioned {
                source.checked_partition_values().map_err(df_err)?
            } else {
                &[]
            };
            partitions.push(
                values
                    .iter()
                    .filter_map(|(name, value)| {
                        Some((self.schema.index_of(name).ok()?, value.as_str()))
                    })
                    .collect(),
            );
        }
        let stats = SourceStats {
            schema: Arc::clone(&self.schema),
            sources: per_source
                .iter()
                .map(|(rows, stats)| (*rows, stats.as_slice()))
                .collect(),
            partitions,
        };
        let keep = pruning.prune(&stats)?;
        Ok(all.into_iter().filter(|&i| keep[i]).collect())
    }

    /// Planner statistics of `sources` for columns `projection` (all when `None`), all
    /// verified: each source's row count (its frame's, refused when its description said
    /// otherwise) and each column's checked null count and range (exact: a lie fails here,
    /// with brine's error). Checking a column is its first access, which the scan would do
    /// anyway.
    ///
    /// # Errors
    /// Those of opening a source and checking its statistics.
    pub(crate) fn statistics_of(
        &self,
        sources: &[&BrineSource],
        projection: Option<&[usize]>,
    ) -> Result<Statistics> {
        let schema = &self.schema;
        let mut rows = 0usize;
        for s in sources {
            rows = rows.saturating_add(s.checked_rows().map_err(df_err)?);
        }
        let columns: Vec<usize> =
            projection.map_or_else(|| (0..schema.fields().len()).collect(), <[usize]>::to_vec);
        let mut column_statistics = Vec::with_capacity(columns.len());
        for &i in &columns {
            let field = schema.field(i);
            let ty = field.data_type();
            let mut nulls = 0u64;
            let mut min = None;
            let mut max = None;
            for s in sources {
                let stats = s
                    .checked_stats(i, field.name(), &self.counters)
                    .map_err(df_err)?;
                nulls = nulls.saturating_add(stats.null_count);
                // A source without a range holds no non-null value (D11), so it bounds
                // nothing.
                if let Some((lo, hi)) = stats.range.and_then(|r| scalar_range(ty, r)) {
                    min = Some(match min {
                        Some(m) if m <= lo => m,
                        _ => lo,
                    });
                    max = Some(match max {
                        Some(m) if m >= hi => m,
                        _ => hi,
                    });
                }
            }
            let mut stat = ColumnStatistics::new_unknown().with_null_count(Precision::Exact(
                usize::try_from(nulls).unwrap_or(usize::MAX),
            ));
            if let (Some(min), Some(max)) = (min, max) {
                stat = stat
                    .with_min_value(Precision::Exact(min))
                    .with_max_value(Precision::Exact(max));
            }
            column_statistics.push(stat);
        }
        Ok(Statistics {
            num_rows: Precision::Exact(rows),
            total_byte_size: Precision::Absent,
            column_statistics,
        })
    }

    /// Row counts of `sources` as described, without opening or checking anything: inexact.
    pub(crate) fn described_statistics(
        &self,
        sources: &[&BrineSource],
        projection: Option<&[usize]>,
    ) -> Statistics {
        let rows = sources
            .iter()
            .try_fold(0usize, |acc, s| Some(acc.saturating_add(s.rows?)));
        let width = projection.map_or(self.schema.fields().len(), <[usize]>::len);
        Statistics {
            num_rows: rows.map_or(Precision::Absent, Precision::Inexact),
            total_byte_size: Precision::Absent,
            column_statistics: vec![ColumnStatistics::new_unknown(); width],
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

    /// Row counts as described, inexact: this is asked without a query, and checking
    /// statistics costs a pass over their columns. The scan's plan carries the verified
    /// statistics of the columns it reads.
    fn statistics(&self) -> Option<Statistics> {
        let sources: Vec<&BrineSource> = self.sources.iter().map(AsRef::as_ref).collect();
        Some(self.described_statistics(&sources, None))
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
        let exec = BrineExec::try_new(Arc::new(self.clone()), units, projection, limit)?;
        Ok(Arc::new(exec))
    }
}

impl BrineTable {
    /// Downcasts a DataFusion table to a brine one.
    pub fn of(provider: &dyn TableProvider) -> Option<&BrineTable> {
        (provider as &dyn Any).downcast_ref()
    }
}
