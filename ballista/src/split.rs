//! A brine scan in the one shape Ballista's scheduler cuts into tasks: a `DataSourceExec`
//! over a `FileScanConfig` with one file group per unit of the scan.
//!
//! Ballista 55 turns a stage into tasks by restricting the stage's leaves to each task's
//! partitions (`restrict_plan_to_partitions`, ballista-scheduler 55.0.0,
//! `src/state/task_builder.rs`), and the leaves it knows are file and memory scans and shuffle
//! readers. A `BrineExec` left as it is would be read whole by every task of its stage. As
//! file groups, each task keeps only its units: the physical codec sends an executor a
//! `BrineExec` of exactly the units its task's groups name, so every shard is read once, by
//! the executor that runs its task.
//!
//! In-process (tests, or a scheduler that runs a stage itself) the file source reads a group's
//! unit through the same `BrineExec`.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use brine_datafusion::BrineExec;
use datafusion::common::internal_err;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{
    FileGroup, FileOpenFuture, FileOpener, FileScanConfig, FileScanConfigBuilder, FileSource,
};
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::table_schema::TableSchema;
use datafusion::error::Result;
use datafusion::execution::TaskContext;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::object_store::ObjectStore;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use datafusion::physical_plan::{DisplayFormatType, ExecutionPlan};
use datafusion::prelude::SessionConfig;
use futures::StreamExt;

/// Which unit of the scan a file of a split scan reads (its `PartitionedFile` extension).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct UnitIndex(usize);

/// The file source of a split brine scan: the scan itself, read one unit per file.
#[derive(Clone)]
pub struct BrineUnitSource {
    exec: Arc<BrineExec>,
    schema: TableSchema,
    metrics: ExecutionPlanMetricsSet,
    batch_size: Option<usize>,
}

impl fmt::Debug for BrineUnitSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BrineUnitSource")
            .field("units", &self.exec.units().len())
            .finish_non_exhaustive()
    }
}

impl BrineUnitSource {
    /// The scan whose units the files name.
    pub fn exec(&self) -> &Arc<BrineExec> {
        &self.exec
    }
}

/// `exec` as a `DataSourceExec` of one file group per unit (a scan of one unit or none is
/// returned as it is: there is nothing to split).
pub fn split(exec: Arc<BrineExec>) -> Arc<dyn ExecutionPlan> {
    if exec.units().len() <= 1 {
        return exec;
    }
    let sources = exec.table().sources();
    let groups = exec
        .units()
        .iter()
        .enumerate()
        .map(|(k, unit)| {
            let path = sources
                .get(unit.source)
                .map_or_else(String::new, |s| s.path().display().to_string());
            FileGroup::new(vec![
                PartitionedFile::new(path, 0).with_extension(UnitIndex(k)),
            ])
        })
        .collect();
    let source = BrineUnitSource {
        schema: TableSchema::from(exec.schema()),
        exec,
        metrics: ExecutionPlanMetricsSet::new(),
        batch_size: None,
    };
    let config = FileScanConfigBuilder::new(ObjectStoreUrl::local_filesystem(), Arc::new(source))
        .with_file_groups(groups)
        .build();
    DataSourceExec::from_data_source(config)
}

/// The brine scan a split scan's node stands for, restricted to the units its file groups
/// still name (all of them, or a task's share once Ballista restricted the groups), with its
/// limit; `None` for any other node.
///
/// # Errors
/// A file without its unit, or naming a unit the scan does not have.
pub fn unsplit(node: &dyn ExecutionPlan) -> Result<Option<BrineExec>> {
    let Some(data_source_exec) = node.downcast_ref::<DataSourceExec>() else {
        return Ok(None);
    };
    let data_source: &dyn Any = data_source_exec.data_source().as_ref();
    let Some(config) = data_source.downcast_ref::<FileScanConfig>() else {
        return Ok(None);
    };
    let file_source: &dyn Any = config.file_source().as_ref();
    let Some(source) = file_source.downcast_ref::<BrineUnitSource>() else {
        return Ok(None);
    };
    let exec = &source.exec;
    let units = config
        .file_groups
        .iter()
        .flat_map(|g| g.files())
        .map(|file| {
            let Some(&UnitIndex(k)) = file.extensions.get::<UnitIndex>() else {
                return internal_err!("a split brine scan's file without its unit");
            };
            match exec.units().get(k) {
                Some(unit) => Ok(unit.clone()),
                None => internal_err!("unit {k} of a scan of {}", exec.units().len()),
            }
        })
        .collect::<Result<Vec<_>>>()?;
    BrineExec::try_new(
        Arc::clone(exec.table()),
        units,
        exec.projection().to_vec(),
        tighter(exec.limit(), config.limit),
    )
    .map(Some)
}

/// The smaller of two optional row limits (`None`: no limit).
fn tighter(a: Option<usize>, b: Option<usize>) -> Option<usize> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl FileSource for BrineUnitSource {
    fn create_file_opener(
        &self,
        _object_store: Arc<dyn ObjectStore>,
        base_config: &FileScanConfig,
        _partition: usize,
    ) -> Result<Arc<dyn FileOpener>> {
        let mut config = SessionConfig::new();
        if let Some(n) = self.batch_size {
            config = config.with_batch_size(n);
        }
        // The config's limit (pushed into the scan by DataFusion) joins the scan's own.
        let exec = match base_config.limit {
            None => Arc::clone(&self.exec),
            limit => Arc::new(BrineExec::try_new(
                Arc::clone(self.exec.table()),
                self.exec.units().to_vec(),
                self.exec.projection().to_vec(),
                tighter(self.exec.limit(), limit),
            )?),
        };
        Ok(Arc::new(UnitOpener {
            exec,
            context: Arc::new(TaskContext::default().with_session_config(config)),
        }))
    }

    fn table_schema(&self) -> &TableSchema {
        &self.schema
    }

    fn with_batch_size(&self, batch_size: usize) -> Arc<dyn FileSource> {
        Arc::new(BrineUnitSource {
            batch_size: Some(batch_size),
            ..self.clone()
        })
    }

    fn metrics(&self) -> &ExecutionPlanMetricsSet {
        &self.metrics
    }

    fn file_type(&self) -> &str {
        "brine"
    }

    /// No filter or projection expressions: filters stay above the scan (the table pruned
    /// sources by them when it planned the scan).
    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn fmt_extra(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, ", brine units={}", self.exec.units().len())
    }

    /// A unit is already a row range of a shard: its rows are not cut again by bytes.
    fn supports_repartitioning(&self) -> bool {
        false
    }
}

/// Reads one unit of the scan per file.
struct UnitOpener {
    exec: Arc<BrineExec>,
    context: Arc<TaskContext>,
}

impl FileOpener for UnitOpener {
    fn open(&self, file: PartitionedFile) -> Result<FileOpenFuture> {
        let Some(&UnitIndex(k)) = file.extensions.get::<UnitIndex>() else {
            return internal_err!("a split brine scan's file without its unit");
        };
        let stream = self.exec.execute(k, Arc::clone(&self.context))?;
        Ok(Box::pin(async move { Ok(stream.boxed()) }))
    }
}
