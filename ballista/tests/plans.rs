//! The codecs in one process: a brine table's logical plan and its physical plan go through
//! DataFusion's protobuf with the brine codecs, and the decoded plans answer as the originals.

use std::sync::Arc;

use ballista_scheduler::state::task_builder::restrict_plan_to_partitions;
use brine::frame::{Column, Frame};
use brine_ballista::{BrineExec, BrineLogicalCodec, BrinePhysicalCodec, BrineTable, split};
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::physical_plan::{ExecutionPlan, collect};
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion_proto::bytes::{
    logical_plan_from_bytes_with_extension_codec, logical_plan_to_bytes_with_extension_codec,
    physical_plan_from_bytes_with_extension_codec, physical_plan_to_bytes_with_extension_codec,
};

const QUERIES: &[&str] = &[
    "SELECT k, count(*), sum(v) FROM t GROUP BY k ORDER BY k",
    "SELECT v, k FROM t WHERE v > 2500 ORDER BY v",
    "SELECT v FROM t ORDER BY v DESC LIMIT 3",
];

fn files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    (0..3i64)
        .map(|s| {
            let path = dir.join(format!("part-{s}.brine"));
            let frame = Frame::builder()
                .column(
                    "v",
                    Column::new((s * 1000..(s + 1) * 1000).collect::<Vec<_>>()),
                )
                .column(
                    "k",
                    Column::strings((0..1000).map(|i| ["x", "y", "z"][i % 3])),
                )
                .build()
                .unwrap();
            let mut w = brine::Writer::create(&path).unwrap();
            w.put_frame("data", &frame).unwrap();
            w.finish().unwrap();
            path
        })
        .collect()
}

fn contains_brine_exec(plan: &Arc<dyn ExecutionPlan>) -> bool {
    plan.downcast_ref::<BrineExec>().is_some()
        || plan.children().iter().any(|c| contains_brine_exec(c))
}

/// The split brine scan in `plan` (a `DataSourceExec` of one file group per unit).
fn split_scan(plan: &Arc<dyn ExecutionPlan>) -> Option<Arc<dyn ExecutionPlan>> {
    if split::unsplit(plan.as_ref()).unwrap().is_some() {
        return Some(Arc::clone(plan));
    }
    plan.children().into_iter().find_map(split_scan)
}

/// A context with table `t` over the three files in `dir`.
fn context(dir: &std::path::Path) -> SessionContext {
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(4));
    let table = BrineTable::open_many(files(dir), Some("data")).unwrap();
    ctx.register_table("t", Arc::new(table)).unwrap();
    ctx
}

#[tokio::test]
async fn logical_and_physical_plans_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path());
    let logical_codec = BrineLogicalCodec::default();
    let physical_codec = BrinePhysicalCodec::default();
    for sql in QUERIES {
        let df = ctx.sql(sql).await.unwrap();
        let want = pretty_format_batches(&df.clone().collect().await.unwrap())
            .unwrap()
            .to_string();

        // Client to scheduler: the logical plan, whose table is reopened from its files.
        let plan = df.into_optimized_plan().unwrap();
        let bytes = logical_plan_to_bytes_with_extension_codec(&plan, &logical_codec).unwrap();
        let decoded =
            logical_plan_from_bytes_with_extension_codec(&bytes, &ctx.task_ctx(), &logical_codec)
                .unwrap();
        let physical = ctx.state().create_physical_plan(&decoded).await.unwrap();
        // Split into one file group per unit, unless one unit is left (a pruned scan).
        assert!(
            split_scan(&physical).is_some() || contains_brine_exec(&physical),
            "{sql}"
        );

        // Scheduler to executor: the physical plan, with its brine scan.
        let bytes = physical_plan_to_bytes_with_extension_codec(physical, &physical_codec).unwrap();
        let decoded =
            physical_plan_from_bytes_with_extension_codec(&bytes, &ctx.task_ctx(), &physical_codec)
                .unwrap();
        assert!(contains_brine_exec(&decoded), "{sql}");
        let got = collect(decoded, ctx.task_ctx()).await.unwrap();
        assert_eq!(
            pretty_format_batches(&got).unwrap().to_string(),
            want,
            "{sql}"
        );
    }
}

/// What Ballista's scheduler does to a stage before sending a task: restrict its leaves to the
/// task's partitions. Each partition of a split brine scan, restricted and sent alone, reads
/// its own rows: together they read every row once.
#[tokio::test]
async fn a_task_reads_only_its_units() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path());
    let logical_codec = BrineLogicalCodec::default();
    let physical_codec = BrinePhysicalCodec::default();
    let plan = ctx
        .sql("SELECT v FROM t")
        .await
        .unwrap()
        .into_optimized_plan()
        .unwrap();
    let bytes = logical_plan_to_bytes_with_extension_codec(&plan, &logical_codec).unwrap();
    let decoded =
        logical_plan_from_bytes_with_extension_codec(&bytes, &ctx.task_ctx(), &logical_codec)
            .unwrap();
    let physical = ctx.state().create_physical_plan(&decoded).await.unwrap();
    let scan = split_scan(&physical).expect("a split brine scan");
    let partitions = scan.properties().output_partitioning().partition_count();
    assert!(partitions >= 3, "{partitions} partitions");

    let mut seen = Vec::new();
    for p in 0..partitions {
        let task = restrict_plan_to_partitions(Arc::clone(&scan), &[p]).unwrap();
        assert_eq!(task.properties().output_partitioning().partition_count(), 1);
        let bytes = physical_plan_to_bytes_with_extension_codec(task, &physical_codec).unwrap();
        let sent =
            physical_plan_from_bytes_with_extension_codec(&bytes, &ctx.task_ctx(), &physical_codec)
                .unwrap();
        let exec = sent.downcast_ref::<BrineExec>().expect("a BrineExec");
        assert_eq!(exec.units().len(), 1, "partition {p}");
        let mut rows: Vec<i64> = Vec::new();
        for batch in collect(sent, ctx.task_ctx()).await.unwrap() {
            let v = batch
                .column(0)
                .as_any()
                .downcast_ref::<datafusion::arrow::array::Int64Array>()
                .unwrap();
            rows.extend(v.values().iter());
        }
        assert!(!rows.is_empty(), "partition {p} read nothing");
        seen.extend(rows);
    }
    seen.sort_unstable();
    assert_eq!(seen, (0..3000).collect::<Vec<i64>>());
}
