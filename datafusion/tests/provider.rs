//! The brine table provider against DataFusion's own Parquet and Arrow IPC readers on the same
//! rows, and its pushdowns (projection, statistics, limit) checked by what the scans touched.

mod common;

#[path = "../../tests/common/crafted.rs"]
mod crafted;

use std::sync::Arc;

use brine_datafusion::{BrineTable, SessionContextExt};
use datafusion::catalog::TableProvider;
use datafusion::common::ScalarValue;
use datafusion::common::stats::Precision;
use datafusion::datasource::file_format::options::ArrowReadOptions;
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};

const SHARDS: usize = 4;
const ROWS: usize = 2_500;

/// The queries every reader must answer alike. Floats are rounded: the readers' partitions
/// sum in different orders.
const QUERIES: &[&str] = &[
    // group-by aggregates over a categorical, nulls in the aggregated column
    "SELECT origin, count(*) AS n, count(dep_delay) AS d, round(avg(dep_delay), 6) AS a, \
     min(distance), max(distance) FROM t GROUP BY origin ORDER BY origin",
    // strings with nulls as the key
    "SELECT dest, count(*) FROM t GROUP BY dest ORDER BY dest NULLS FIRST",
    // selective filters, on the statistics' column and on others
    "SELECT origin, dest, distance FROM t WHERE distance BETWEEN 4000 AND 4100 ORDER BY distance",
    "SELECT count(*) FROM t WHERE distance > 20000 AND dep_delay > 30",
    "SELECT count(*), sum(distance) FROM t WHERE dest = 'lax1' OR origin = 'ATL'",
    // nulls
    "SELECT count(*) FROM t WHERE dep_delay IS NULL",
    "SELECT count(*) FROM t WHERE dest IS NOT NULL AND dep_delay IS NULL",
    // timestamps
    "SELECT date_trunc('day', ts) AS day, count(*) FROM t GROUP BY 1 ORDER BY 1",
    "SELECT min(ts), max(ts) FROM t WHERE ts >= TIMESTAMP '2023-11-20T00:00:00Z'",
    "SELECT ts, distance FROM t WHERE ts < TIMESTAMP '2023-11-14T23:00:00Z' ORDER BY ts",
    // bools
    "SELECT cancelled, count(*) FROM t GROUP BY cancelled ORDER BY cancelled",
    // projections and limits
    "SELECT distance, origin FROM t ORDER BY distance DESC LIMIT 7",
    "SELECT count(*) FROM (SELECT * FROM t LIMIT 100)",
    "SELECT upper(dest) AS d, length(dest) AS l FROM t WHERE distance < 130 ORDER BY distance",
    // a filter no source survives
    "SELECT count(*), max(distance) FROM t WHERE distance < 0",
];

async fn contexts(dir: &std::path::Path) -> (SessionContext, SessionContext, SessionContext) {
    let paths = common::write_all(dir, SHARDS, ROWS);
    let brine = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(4));
    let table = BrineTable::open_many(&paths, Some("flights")).unwrap();
    brine.register_table("t", Arc::new(table)).unwrap();
    let parquet = SessionContext::new();
    parquet
        .register_parquet(
            "t",
            dir.join("parquet").to_str().unwrap(),
            ParquetReadOptions::default(),
        )
        .await
        .unwrap();
    let ipc = SessionContext::new();
    let options = ArrowReadOptions {
        file_extension: ".arrow",
        ..ArrowReadOptions::default()
    };
    ipc.register_arrow("t", dir.join("arrow").to_str().unwrap(), options)
        .await
        .unwrap();
    (brine, parquet, ipc)
}

#[tokio::test]
async fn answers_equal_parquet_and_arrow_ipc() {
    let dir = tempfile::tempdir().unwrap();
    let (brine, parquet, ipc) = contexts(dir.path()).await;
    for sql in QUERIES {
        let b = common::run(&brine, sql).await.unwrap();
        let p = common::run(&parquet, sql).await.unwrap();
        let a = common::run(&ipc, sql).await.unwrap();
        assert_eq!(b, p, "brine vs parquet: {sql}");
        assert_eq!(b, a, "brine vs arrow ipc: {sql}");
        // Every query returns something to compare (a header and at least one row).
        assert!(b.lines().count() >= 5, "{sql}:\n{b}");
    }
}

#[tokio::test]
async fn statistics_skip_sources_and_say_inexact() {
    let dir = tempfile::tempdir().unwrap();
    let paths = common::write_all(dir.path(), SHARDS, ROWS);
    let table = Arc::new(BrineTable::open_many(&paths, Some("flights")).unwrap());
    let ctx = SessionContext::new();
    ctx.register_table("t", Arc::clone(&table) as _).unwrap();

    // Shard 1 holds distances 7600..=15097 (rows 2500..5000): the filter keeps it alone.
    let out = common::run(
        &ctx,
        "SELECT count(*) FROM t WHERE distance BETWEEN 8000 AND 8099",
    )
    .await
    .unwrap();
    assert!(out.contains("| 33 "), "{out}");
    let (_, sources, _) = table.counters().get();
    assert_eq!(sources, 1, "one of {SHARDS} sources read");

    // Inexact: DataFusion keeps its filter above the scan, so rows of a kept source that fail
    // the predicate are still dropped.
    let plan = common::run(&ctx, "EXPLAIN SELECT * FROM t WHERE distance = 8002")
        .await
        .unwrap();
    assert!(plan.contains("FilterExec"), "{plan}");
    assert!(plan.contains("BrineExec: sources=1/4"), "{plan}");

    // A predicate on a column without statistics (strings) prunes nothing.
    table.counters().reset();
    common::run(&ctx, "SELECT count(*) FROM t WHERE dest = 'jfk1'")
        .await
        .unwrap();
    assert_eq!(table.counters().get().1, SHARDS as u64);

    // Float ranges ignore NaN, so they never prune.
    table.counters().reset();
    common::run(&ctx, "SELECT count(*) FROM t WHERE dep_delay > 1000")
        .await
        .unwrap();
    assert_eq!(table.counters().get().1, SHARDS as u64);
}

/// The scan's plan statistics: verified, so exact (DataFusion may answer `count(*)`,
/// `min`, `max` from them alone). The table's own statistics are the described row counts.
#[tokio::test]
async fn planner_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let paths = common::write_all(dir.path(), SHARDS, ROWS);
    let table = Arc::new(BrineTable::open_many(&paths, Some("flights")).unwrap());
    assert_eq!(
        table.statistics().unwrap().num_rows,
        Precision::Inexact(SHARDS * ROWS)
    );
    let ctx = SessionContext::new();
    ctx.register_table("t", Arc::clone(&table) as _).unwrap();
    let plan = ctx
        .sql("SELECT * FROM t")
        .await
        .unwrap()
        .create_physical_plan()
        .await
        .unwrap();
    let exec = find_exec(&plan).expect("a BrineExec in the plan");
    let stats = exec.statistics(None).unwrap();
    assert_eq!(stats.num_rows, Precision::Exact(SHARDS * ROWS));
    let schema = table.schema();
    let col = |name: &str| &stats.column_statistics[schema.index_of(name).unwrap()];
    let distance = col("distance");
    let last = ((SHARDS * ROWS - 1) * 3 + 100) as i64;
    assert_eq!(
        distance.min_value,
        Precision::Exact(ScalarValue::Int64(Some(100)))
    );
    assert_eq!(
        distance.max_value,
        Precision::Exact(ScalarValue::Int64(Some(last)))
    );
    let nulls = (0..SHARDS * ROWS).filter(|i| i % 13 == 0).count();
    assert_eq!(col("dep_delay").null_count, Precision::Exact(nulls));
    // Float ranges ignore NaN, DataFusion's order does not: never given.
    assert_eq!(col("dep_delay").min_value, Precision::Absent);
    let ts = col("ts");
    assert_eq!(
        ts.min_value,
        Precision::Exact(ScalarValue::TimestampMicrosecond(
            Some(1_700_000_000_000_000),
            Some("UTC".into())
        ))
    );
    // Verified, they answer aggregates: the same as computing them.
    let out = common::run(&ctx, "SELECT count(*), min(distance), max(distance) FROM t")
        .await
        .unwrap();
    assert!(
        out.contains(&format!("| {} ", SHARDS * ROWS)) && out.contains(&format!("| {last} ")),
        "{out}"
    );
}

fn find_exec(
    plan: &Arc<dyn datafusion::physical_plan::ExecutionPlan>,
) -> Option<&brine_datafusion::BrineExec> {
    if let Some(e) = plan.downcast_ref::<brine_datafusion::BrineExec>() {
        return Some(e);
    }
    plan.children().into_iter().find_map(find_exec)
}

#[tokio::test]
async fn limit_reads_only_the_first_sources() {
    let dir = tempfile::tempdir().unwrap();
    let paths = common::write_all(dir.path(), SHARDS, ROWS);
    let table = Arc::new(BrineTable::open_many(&paths, Some("flights")).unwrap());
    let ctx = SessionContext::new();
    ctx.register_table("t", Arc::clone(&table) as _).unwrap();
    let out = common::run(&ctx, "SELECT distance FROM t LIMIT 3")
        .await
        .unwrap();
    assert_eq!(out.lines().count(), 3 + 4, "{out}");
    assert_eq!(
        table.counters().get().1,
        1,
        "a limit within the first source reads it alone"
    );
    let plan = common::run(&ctx, "EXPLAIN SELECT distance FROM t LIMIT 3")
        .await
        .unwrap();
    assert!(plan.contains("limit=Some(3)"), "{plan}");
}

/// Projection pushdown, shown two ways: the counters name only the projected columns, and a
/// file whose `dest` column holds invalid UTF-8 answers every query that leaves `dest` alone
/// and fails (with brine's error naming the column) the ones that touch it.
#[tokio::test]
async fn untouched_columns_are_never_read() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.brine");
    let mut w = brine::Writer::create(&good).unwrap();
    w.put_frame("flights", &common::flights(0, 1000)).unwrap();
    w.finish().unwrap();

    let reader = brine::Reader::open(&good).unwrap();
    let frame = reader.frame("flights").unwrap();
    let dest = frame.column("dest").unwrap();
    let (_, values) = dest.sections().find(|(slot, _)| *slot == "values").unwrap();
    let crafted = crafted::Crafted::from_written(&std::fs::read(&good).unwrap())
        .patched(values.index, |bytes| bytes[0] = 0xFF);
    let bad = dir.path().join("bad.brine");
    std::fs::write(&bad, crafted.bytes()).unwrap();

    let table = Arc::new(BrineTable::open(&bad).unwrap());
    let ctx = SessionContext::new();
    ctx.register_table("t", Arc::clone(&table) as _).unwrap();
    let out = common::run(
        &ctx,
        "SELECT origin, count(*), sum(distance) FROM t GROUP BY origin",
    )
    .await
    .unwrap();
    assert!(out.contains("JFK"), "{out}");
    let (bytes, sources, columns) = table.counters().get();
    assert_eq!((sources, columns), (1, 2), "origin and distance only");
    let two: u64 = ["origin", "distance"]
        .iter()
        .map(|c| {
            let f = reader.frame("flights").unwrap();
            let c = f.column(c).unwrap();
            c.sections().map(|(_, s)| s.stored_len).sum::<u64>()
        })
        .sum();
    assert_eq!(bytes, two);

    let err = common::run(&ctx, "SELECT count(dest) FROM t")
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("dest") && text.contains("bad.brine"),
        "{text}"
    );
    let brine_err = find_brine(&err).expect("brine's own error inside DataFusion's");
    assert!(
        matches!(brine_err, brine::Error::InvalidColumn { column, .. } if column == "dest"),
        "{brine_err:?}"
    );
}

fn find_brine(e: &datafusion::error::DataFusionError) -> Option<&brine::Error> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(b) = err.downcast_ref::<brine::Error>() {
            return Some(b);
        }
        if let Some(datafusion::error::DataFusionError::External(inner)) =
            err.downcast_ref::<datafusion::error::DataFusionError>()
            && let Some(b) = inner.downcast_ref::<brine::Error>()
        {
            return Some(b);
        }
        cur = err.source();
    }
    None
}

/// A file whose manifest says `distance` lies in 0..=10 while its rows hold 100 and up: a
/// filter on the lie must fail or answer from the data, never prune the rows away.
#[tokio::test]
async fn lying_statistics_never_give_a_wrong_answer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("liar.brine");
    let table = Arc::new(lying_table(&path));
    let ctx = SessionContext::new();
    ctx.register_table("t", Arc::clone(&table) as _).unwrap();
    let err = common::run(&ctx, "SELECT count(*) FROM t WHERE distance >= 100")
        .await
        .unwrap_err();
    assert_lie(&err, "liar.brine", "distance");
    // Nothing was read to answer from: the check refused the lie before any scan.
    assert_eq!(table.counters().get().1, 0);
}

/// The same lie and the planner: `max(distance)` is never taken from it.
#[tokio::test]
async fn lying_statistics_never_answer_an_aggregate() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("liar.brine");
    let table = lying_table(&path);
    let ctx = SessionContext::new();
    ctx.register_table("t", Arc::new(table)).unwrap();
    for sql in [
        "SELECT max(distance) FROM t",
        "SELECT min(distance) FROM t",
        "SELECT distance FROM t ORDER BY distance LIMIT 1",
    ] {
        match common::run(&ctx, sql).await {
            Ok(out) => assert!(
                out.contains("| 100 ") || out.contains("| 3097 "),
                "{sql}: {out}"
            ),
            Err(e) => assert_lie(&e, "liar.brine", "distance"),
        }
    }
    // Columns the lie is not in answer from the data.
    let out = common::run(&ctx, "SELECT count(dest) FROM t")
        .await
        .unwrap();
    let dest = (0..1000).filter(|i| i % 11 != 0).count();
    assert!(out.contains(&format!("| {dest} ")), "{out}");
}

/// `err` is brine's `InvalidColumn` for `column`, naming `file`.
fn assert_lie(err: &datafusion::error::DataFusionError, file: &str, column: &str) {
    assert!(err.to_string().contains(file), "{err}");
    let brine_err = find_brine(err).expect("brine's own error inside DataFusion's");
    assert!(
        matches!(brine_err, brine::Error::InvalidColumn { column: c, .. } if c == column),
        "{brine_err:?}"
    );
}

fn lying_table(path: &std::path::Path) -> BrineTable {
    let honest = path.with_extension("honest");
    let mut w = brine::Writer::create(&honest).unwrap();
    w.put_frame("flights", &common::flights(0, 1000)).unwrap();
    w.finish().unwrap();
    let reader = brine::Reader::open(&honest).unwrap();
    let crafted = crafted::Crafted::from_written(&std::fs::read(&honest).unwrap());
    let names: Vec<String> = reader
        .frame("flights")
        .unwrap()
        .iter()
        .map(|c| c.name().to_owned())
        .collect();
    let row = names.iter().position(|n| n == "distance").unwrap();
    let bytes = crafted.bytes_edited(|m| {
        m.columns[row].min = 0;
        m.columns[row].max = 10;
    });
    std::fs::write(path, bytes).unwrap();
    let liar = brine::Reader::open(path).unwrap();
    let lie = liar
        .frame("flights")
        .unwrap()
        .column("distance")
        .unwrap()
        .stats();
    assert_eq!(
        lie.range,
        Some(brine::frame::StatRange::Int(0, 10)),
        "the crafted lie"
    );
    BrineTable::open(path).unwrap()
}

#[tokio::test]
async fn register_brine_and_its_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one.brine");
    let mut w = brine::Writer::create(&path).unwrap();
    w.put_frame("flights", &common::flights(0, 50)).unwrap();
    w.finish().unwrap();
    let ctx = SessionContext::new();
    ctx.register_brine("flights", &path).unwrap();
    let out = common::run(&ctx, "SELECT count(*) FROM flights")
        .await
        .unwrap();
    assert!(out.contains("| 50 "), "{out}");

    let two = dir.path().join("two.brine");
    let mut w = brine::Writer::create(&two).unwrap();
    w.put_frame("a", &common::flights(0, 5)).unwrap();
    w.put_frame("b", &common::flights(5, 5)).unwrap();
    w.finish().unwrap();
    let err = ctx.register_brine("x", &two).unwrap_err().to_string();
    assert!(err.contains("a, b") && err.contains("two.brine"), "{err}");
    ctx.register_brine_entry("b", &two, "b").unwrap();
    let out = common::run(&ctx, "SELECT min(distance) FROM b")
        .await
        .unwrap();
    assert!(out.contains("| 115 "), "{out}");

    let missing = ctx.register_brine("m", dir.path().join("missing.brine"));
    assert!(missing.unwrap_err().to_string().contains("missing.brine"));
}

#[tokio::test]
async fn one_file_is_cut_into_partitions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.brine");
    let mut w = brine::Writer::create(&path).unwrap();
    w.put_frame("flights", &common::flights(0, 300_000))
        .unwrap();
    w.finish().unwrap();
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(4));
    ctx.register_brine("t", &path).unwrap();
    let plan = common::run(
        &ctx,
        "EXPLAIN SELECT origin, count(*) FROM t GROUP BY origin",
    )
    .await
    .unwrap();
    assert!(plan.contains("partitions=4"), "{plan}");
    let out = common::run(&ctx, "SELECT count(*), sum(distance) FROM t")
        .await
        .unwrap();
    let sum: i64 = (0..300_000i64).map(|i| i * 3 + 100).sum();
    assert!(
        out.contains("| 300000 ") && out.contains(&format!("| {sum} ")),
        "{out}"
    );
}

/// The D11 invalid vectors of spec/vectors/invalid/ (statistics that lie about the data):
/// every query on the lying column fails with brine's `InvalidColumn` naming the column and
/// the vector's field, or answers what the honest file it was derived from answers.
#[tokio::test]
async fn d11_vectors_fail_or_answer_right() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/vectors");
    let mut failed = 0;
    for (vector, column, entry, honest, field) in [
        (
            "D11-lying-min",
            "small",
            "no-nulls",
            "frame-no-nulls",
            "min",
        ),
        ("D11-lying-max", "score", "batched", "frame-batched", "max"),
        (
            "D11-missing-range",
            "id",
            "batched",
            "frame-batched",
            "stats",
        ),
    ] {
        let liar = root.join(format!("invalid/{vector}.brine"));
        let ctx = SessionContext::new();
        ctx.register_brine_entry("t", &liar, entry).unwrap();
        ctx.register_brine_entry("h", root.join(format!("{honest}.brine")), entry)
            .unwrap();
        for query in [
            "SELECT min(@), max(@), count(@), count(*) FROM t",
            "SELECT count(*) FROM t WHERE @ < 0",
            "SELECT count(*) FROM t WHERE @ > 4",
            "SELECT @ FROM t ORDER BY @ LIMIT 3",
        ] {
            let sql = query.replace('@', &format!("\"{column}\""));
            match common::run(&ctx, &sql).await {
                Ok(out) => {
                    let right = common::run(&ctx, &sql.replace("FROM t", "FROM h"))
                        .await
                        .unwrap();
                    assert_eq!(out, right, "{vector}: {sql}");
                }
                Err(e) => {
                    failed += 1;
                    let b = find_brine(&e).expect("brine's own error");
                    assert!(
                        matches!(b, brine::Error::InvalidColumn { column: c, field: f, .. }
                            if c == column && *f == field),
                        "{vector}: {sql}: {b:?}"
                    );
                }
            }
        }
        // The lie that pruning would act on (min above the data) is refused, not obeyed.
        if vector == "D11-lying-min" {
            let err = common::run(&ctx, "SELECT count(*) FROM t WHERE small < 0")
                .await
                .unwrap_err();
            assert!(find_brine(&err).is_some(), "{err}");
        }
    }
    assert!(failed > 0, "some queries touch the lying columns");
}
