//! The scan: one partition per unit (a source, or a row range of a large one), each yielding
//! the zero-copy arrays of its projected columns, sliced into DataFusion's batch size.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use brine::frame::arrow::array;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::array::RecordBatchOptions;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{Statistics, internal_err};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::statistics::StatisticsArgs;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
    SendableRecordBatchStream,
};
use futures::StreamExt;

use crate::df_err;
use crate::source::{BrineSource, BrineTable};

/// A large frame is cut into row ranges of at least this many rows when DataFusion wants more
/// partitions than there are sources.
const MIN_SPLIT_ROWS: usize = 64 * 1024;

/// What one partition reads: rows `rows` of source `source` (`None`: all of them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    /// Index in the table's sources.
    pub source: usize,
    /// Row range, or the whole frame.
    pub rows: Option<Range<usize>>,
}

impl Unit {
    /// One unit per surviving source; large sources split when there are fewer sources than
    /// `target` partitions; with a limit, only the first sources whose rows cover it.
    pub(crate) fn plan(
        sources: &[Arc<BrineSource>],
        surviving: &[usize],
        target: usize,
        limit: Option<usize>,
    ) -> Vec<Unit> {
        let mut chosen = Vec::new();
        let mut covered = 0usize;
        for &i in surviving {
            if limit.is_some_and(|l| covered >= l) {
                break;
            }
            chosen.push(i);
            // An unknown row count covers nothing: keep going.
            covered = covered.saturating_add(sources[i].rows().unwrap_or(0));
        }
        let split = limit.is_none() && chosen.len() < target;
        let mut units = Vec::new();
        let per_source = target / chosen.len().max(1);
        for &i in &chosen {
            let rows = sources[i].rows();
            match rows {
                Some(n) if split && n >= 2 * MIN_SPLIT_ROWS => {
                    let parts = per_source.clamp(1, n / MIN_SPLIT_ROWS);
                    let step = n.div_ceil(parts);
                    let mut start = 0;
                    while start < n {
                        let end = (start + step).min(n);
                        units.push(Unit {
                            source: i,
                            rows: Some(start..end),
                        });
                        start = end;
                    }
                }
                _ => units.push(Unit {
                    source: i,
                    rows: None,
                }),
            }
        }
        units
    }
}

/// DataFusion's scan of brine sources.
#[derive(Debug)]
pub struct BrineExec {
    table: Arc<BrineTable>,
    units: Vec<Unit>,
    projection: Vec<usize>,
    fetch: Option<usize>,
    projected: SchemaRef,
    properties: Arc<PlanProperties>,
}

impl BrineExec {
    /// A scan of `units` of `table`'s sources, yielding columns `projection` of its schema and
    /// at most `fetch` rows per partition.
    ///
    /// # Errors
    /// A projection or unit outside the table.
    pub fn try_new(
        table: Arc<BrineTable>,
        units: Vec<Unit>,
        projection: Vec<usize>,
        fetch: Option<usize>,
    ) -> Result<BrineExec> {
        let sources = table.sources().len();
        if let Some(u) = units.iter().find(|u| u.source >= sources) {
            return internal_err!("brine scan: unit of source {} of {sources}", u.source);
        }
        let projected = Arc::new(table.schema().project(&projection)?);
        let properties = PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&projected)),
            Partitioning::UnknownPartitioning(units.len().max(1)),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        Ok(BrineExec {
            table,
            units,
            projection,
            fetch,
            projected,
            properties: Arc::new(properties),
        })
    }

    /// The table scanned.
    pub fn table(&self) -> &Arc<BrineTable> {
        &self.table
    }

    /// What each partition reads.
    pub fn units(&self) -> &[Unit] {
        &self.units
    }

    /// The projected columns, as indices in the table's schema.
    pub fn projection(&self) -> &[usize] {
        &self.projection
    }

    /// The row limit per partition.
    pub fn limit(&self) -> Option<usize> {
        self.fetch
    }

    /// Reads one unit: the projected columns as zero-copy arrays, sliced to its rows.
    fn read(&self, unit: &Unit) -> Result<RecordBatch> {
        let source = &self.table.sources()[unit.source];
        let reader = source.reader().map_err(df_err)?;
        let frame = reader.frame(source.entry()).map_err(df_err)?;
        // Units were planned from the described row count (a dataset's index, a caller's).
        source.check_rows(frame.rows()).map_err(df_err)?;
        let mut arrays = Vec::with_capacity(self.projection.len());
        let mut bytes = 0u64;
        for (field, _) in self.projected.fields().iter().zip(&self.projection) {
            let column = frame.column(field.name()).map_err(df_err)?;
            let ty = brine::frame::arrow::data_type(&column.ty());
            if &ty != field.data_type() {
                return Err(df_err(brine::Error::WrongColumnType {
                    file: reader.path().to_path_buf(),
                    entry: source.entry().to_owned(),
                    column: field.name().clone(),
                    expected: field.data_type().to_string(),
                    found: ty.to_string(),
                }));
            }
            bytes += column.sections().map(|(_, s)| s.stored_len).sum::<u64>();
            arrays.push(array(&reader, &column).map_err(df_err)?);
        }
        // A source cut into row ranges maps its columns once; its first range counts them.
        if unit.rows.as_ref().is_none_or(|r| r.start == 0) {
            let counters = self.table.counters();
            counters.bytes.fetch_add(bytes, Ordering::Relaxed);
            counters.sources.fetch_add(1, Ordering::Relaxed);
            counters
                .columns
                .fetch_add(self.projection.len() as u64, Ordering::Relaxed);
        }
        let options = RecordBatchOptions::new().with_row_count(Some(frame.rows()));
        let batch =
            RecordBatch::try_new_with_options(Arc::clone(&self.projected), arrays, &options)?;
        let range = unit.rows.clone().unwrap_or(0..frame.rows());
        if range.end > frame.rows() || range.start > range.end {
            return Err(DataFusionError::Execution(format!(
                "{}: frame {:?} has {} rows, the plan reads {range:?}",
                reader.path().display(),
                source.entry(),
                frame.rows()
            )));
        }
        let len = self.fetch.map_or(range.len(), |f| f.min(range.len()));
        Ok(batch.slice(range.start, len))
    }

    /// The statistics this scan gives the planner for partition `partition` (all when
    /// `None`): verified, so exact (see [`BrineTable`]); with a limit, the described row
    /// counts only, inexact, so that planning a limited scan opens nothing more than the scan
    /// will.
    ///
    /// # Errors
    /// Those of opening a source and checking its statistics (a lying file fails here).
    pub fn statistics(&self, partition: Option<usize>) -> Result<Statistics> {
        self.unit_statistics(partition)
    }

    fn unit_statistics(&self, partition: Option<usize>) -> Result<Statistics> {
        let all = self.table.sources();
        let sources: Vec<&BrineSource> = match partition {
            Some(p) => self
                .units
                .get(p)
                .map(|u| vec![all[u.source].as_ref()])
                .unwrap_or_default(),
            None => {
                let mut seen: Vec<usize> = self.units.iter().map(|u| u.source).collect();
                seen.dedup();
                seen.iter().map(|&i| all[i].as_ref()).collect()
            }
        };
        if self.fetch.is_some() {
            return Ok(self
                .table
                .described_statistics(&sources, Some(&self.projection)));
        }
        let stats = self.table.statistics_of(&sources, Some(&self.projection))?;
        let split = match partition {
            Some(p) => self.units.get(p).is_some_and(|u| u.rows.is_some()),
            None => false,
        };
        // A row range reads fewer rows than its source's statistics describe.
        Ok(if split { stats.to_inexact() } else { stats })
    }
}

impl DisplayAs for BrineExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let columns: Vec<&str> = self
            .projected
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        match t {
            DisplayFormatType::Default | DisplayFormatType::Verbose => write!(
                f,
                "BrineExec: sources={}/{}, partitions={}, projection=[{}], limit={:?}",
                {
                    let mut s: Vec<usize> = self.units.iter().map(|u| u.source).collect();
                    s.dedup();
                    s.len()
                },
                self.table.sources().len(),
                self.units.len(),
                columns.join(", "),
                self.fetch
            ),
            DisplayFormatType::TreeRender => {
                write!(f, "sources={}", self.table.sources().len())
            }
        }
    }
}

impl ExecutionPlan for BrineExec {
    fn name(&self) -> &str {
        "BrineExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if children.is_empty() {
            Ok(self)
        } else {
            internal_err!("BrineExec has no children")
        }
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let schema = Arc::clone(&self.projected);
        let Some(unit) = self.units.get(partition).cloned() else {
            if self.units.is_empty() && partition == 0 {
                // Every source was pruned: one empty partition.
                let empty = futures::stream::empty();
                return Ok(Box::pin(RecordBatchStreamAdapter::new(schema, empty)));
            }
            return internal_err!(
                "BrineExec: no partition {partition} of {}",
                self.units.len()
            );
        };
        let batch_size = context.session_config().batch_size().max(1);
        let this = BrineExec {
            table: Arc::clone(&self.table),
            units: Vec::new(),
            projection: self.projection.clone(),
            fetch: self.fetch,
            projected: Arc::clone(&self.projected),
            properties: Arc::clone(&self.properties),
        };
        // Mapping and the first-access checks of the columns run when the stream is polled.
        let stream =
            futures::stream::once(async move { this.read(&unit) }).flat_map(move |batch| {
                let parts: Vec<Result<RecordBatch>> = match batch {
                    Ok(b) => {
                        let n = b.num_rows();
                        (0..n.div_ceil(batch_size))
                            .map(|k| {
                                let start = k * batch_size;
                                Ok(b.slice(start, batch_size.min(n - start)))
                            })
                            .collect()
                    }
                    Err(e) => vec![Err(e)],
                };
                futures::stream::iter(parts)
            });
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, stream)))
    }

    fn statistics_from_inputs(
        &self,
        _input_stats: &[Arc<Statistics>],
        args: &StatisticsArgs,
    ) -> Result<Arc<Statistics>> {
        Ok(Arc::new(self.unit_statistics(args.partition())?))
    }

    fn supports_limit_pushdown(&self) -> bool {
        true
    }

    fn with_fetch(&self, limit: Option<usize>) -> Option<Arc<dyn ExecutionPlan>> {
        let fetch = match (self.fetch, limit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        BrineExec::try_new(
            Arc::clone(&self.table),
            self.units.clone(),
            self.projection.clone(),
            fetch,
        )
        .ok()
        .map(|e| Arc::new(e) as _)
    }

    fn fetch(&self) -> Option<usize> {
        self.fetch
    }
}
