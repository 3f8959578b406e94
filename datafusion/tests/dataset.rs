//! Brine datasets (brine::dataset) as tables: one source per shard, shards skipped by the
//! index's verified statistics, answers equal to the same rows in one file.

mod common;

use std::sync::Arc;

use brine::dataset::{Dataset, DatasetOptions, DatasetWriter};
use brine_datafusion::{BrineTable, SessionContextExt};
use datafusion::prelude::{SessionConfig, SessionContext};

const ROWS: usize = 10_000;
const PER_SHARD: usize = 1_000;

/// The same rows as a dataset of 10 shards and as one file.
fn write(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let frame = common::flights(0, ROWS);
    let ds = dir.join("flights");
    let mut w =
        DatasetWriter::create(&ds, DatasetOptions::new().max_rows(PER_SHARD as u64)).unwrap();
    w.write_frame(&frame).unwrap();
    w.finish().unwrap();
    let one = dir.join("one.brine");
    let mut w = brine::Writer::create(&one).unwrap();
    w.put_frame("flights", &frame).unwrap();
    w.finish().unwrap();
    (ds, one)
}

#[tokio::test]
async fn a_dataset_answers_as_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let (ds, one) = write(dir.path());
    let config = SessionConfig::new().with_target_partitions(4);
    let a = SessionContext::new_with_config(config.clone());
    a.register_brine("t", &ds).unwrap();
    let b = SessionContext::new_with_config(config);
    b.register_brine("t", &one).unwrap();
    let table = a.table_provider("t").await.unwrap();
    assert_eq!(
        BrineTable::of(table.as_ref()).unwrap().sources().len(),
        ROWS / PER_SHARD
    );
    for sql in [
        "SELECT origin, count(*), count(dep_delay), round(avg(dep_delay), 6), min(distance), \
         max(distance) FROM t GROUP BY origin ORDER BY origin",
        "SELECT dest, count(*) FROM t GROUP BY dest ORDER BY dest NULLS FIRST",
        "SELECT origin, distance FROM t WHERE distance BETWEEN 4000 AND 4100 ORDER BY distance",
        "SELECT count(*), sum(distance) FROM t WHERE ts >= TIMESTAMP '2023-11-20T00:00:00Z'",
        "SELECT distance FROM t ORDER BY distance DESC LIMIT 5",
        "SELECT count(*) FROM (SELECT * FROM t LIMIT 1234)",
        "SELECT count(*) FROM t WHERE distance < 0",
    ] {
        let x = common::run(&a, sql).await.unwrap();
        let y = common::run(&b, sql).await.unwrap();
        assert_eq!(x, y, "{sql}");
        assert!(x.lines().count() >= 5, "{sql}: {x}");
    }
}

#[tokio::test]
async fn a_filter_skips_shards() {
    let dir = tempfile::tempdir().unwrap();
    let (ds, _) = write(dir.path());
    let dataset = Arc::new(Dataset::open(&ds).unwrap());
    let table = Arc::new(BrineTable::from_dataset(Arc::clone(&dataset)).unwrap());
    let ctx = SessionContext::new();
    ctx.register_table("t", Arc::clone(&table) as _).unwrap();
    // distance = 3 * row + 100: rows 3000..3100 are all in shard 3.
    let out = common::run(
        &ctx,
        "SELECT count(*), sum(dep_delay) FROM t WHERE distance BETWEEN 9100 AND 9397",
    )
    .await
    .unwrap();
    assert!(out.contains("| 100 "), "{out}");
    let (bytes, sources, columns) = table.counters().get();
    assert_eq!((sources, columns), (1, 2), "one shard of 10, two columns");
    let shard = dataset.open_shard(3).unwrap();
    let frame = shard.frame("data").unwrap();
    let two: u64 = ["distance", "dep_delay"]
        .iter()
        .map(|c| {
            let c = frame.column(c).unwrap();
            c.sections().map(|(_, s)| s.stored_len).sum::<u64>()
        })
        .sum();
    assert_eq!(bytes, two);
    // Unverified, each shard's `distance` was checked once (its data read) to trust its range,
    // and the planner's statistics checked the columns the scan of shard 3 reads.
    let distance_bytes: u64 = (0..dataset.shards().len())
        .map(|i| {
            let r = dataset.open_shard(i).unwrap();
            let f = r.frame("data").unwrap();
            let c = f.column("distance").unwrap();
            c.sections().map(|(_, s)| s.stored_len).sum::<u64>()
        })
        .sum();
    let dep_delay: u64 = frame
        .column("dep_delay")
        .unwrap()
        .sections()
        .map(|(_, s)| s.stored_len)
        .sum();
    assert_eq!(table.counters().stats_bytes(), distance_bytes + dep_delay);

    // A verified dataset prunes by its index alone.
    let verified = Arc::new(Dataset::open(&ds).unwrap());
    verified.verify().unwrap();
    let table = Arc::new(BrineTable::from_dataset(verified).unwrap());
    let ctx = SessionContext::new();
    ctx.register_table("t", Arc::clone(&table) as _).unwrap();
    let again = common::run(
        &ctx,
        "SELECT count(*), sum(dep_delay) FROM t WHERE distance BETWEEN 9100 AND 9397",
    )
    .await
    .unwrap();
    assert_eq!(again, out);
    assert_eq!(table.counters().get().1, 1);
    assert_eq!(table.counters().stats_bytes(), 0);
}

/// Invalid datasets of spec/vectors/datasets/invalid whose index lies about a shard (rows,
/// statistics): a query fails with brine's error or answers right, never from the lie.
#[tokio::test]
async fn lying_indexes_fail_or_answer_right() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/vectors/datasets");
    let honest = SessionContext::new();
    honest
        .register_brine("t", root.join("flights-small"))
        .unwrap();
    for vector in ["Y4-rows", "Y5-lying-min", "Y7-partition-value"] {
        let ctx = SessionContext::new();
        ctx.register_brine("t", root.join("invalid").join(vector))
            .unwrap();
        for sql in [
            "SELECT count(*) FROM t",
            "SELECT min(distance), max(distance) FROM t",
            "SELECT count(*) FROM t WHERE distance < 500",
            "SELECT count(*) FROM t WHERE origin = 'JFK'",
            "SELECT count(*) FROM t WHERE origin = 'LGA'",
            "SELECT count(*) FROM t WHERE origin IN ('LGA', 'SFO')",
        ] {
            let right = common::run(&honest, sql).await.unwrap();
            match common::run(&ctx, sql).await {
                Ok(out) => assert_eq!(out, right, "{vector}: {sql}"),
                Err(e) => assert!(e.to_string().contains(vector), "{vector}: {sql}: {e}"),
            }
        }
    }
}

/// A partitioned dataset skips the shards whose (checked) partition value a filter rules out:
/// `col = v`, `col IN (...)`, `col <> v`; the answers equal those of a filter that cannot
/// prune (the same test on a computed value).
#[tokio::test]
async fn partition_values_skip_shards() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../spec/vectors/datasets/flights-small");
    let dataset = Arc::new(Dataset::open(&root).unwrap());
    assert_eq!(dataset.partition_by(), ["origin"]);
    let shards_of = |origins: &[&str], keep: bool| {
        dataset
            .shards()
            .iter()
            .filter(|s| origins.contains(&s.partition_values()[0].1.as_str()) == keep)
            .count() as u64
    };
    for (filter, origins, keep) in [
        ("origin = 'SFO'", &["SFO"][..], true),
        ("origin IN ('JFK', 'LGA')", &["JFK", "LGA"][..], true),
        ("origin <> 'SFO'", &["SFO"][..], false),
        ("origin = 'ZRH'", &["ZRH"][..], true),
    ] {
        let expected = shards_of(origins, keep);
        assert!(expected < dataset.shards().len() as u64, "{filter}");
        let table = Arc::new(BrineTable::from_dataset(Arc::clone(&dataset)).unwrap());
        let ctx = SessionContext::new();
        ctx.register_table("t", Arc::clone(&table) as _).unwrap();
        let sql = format!("SELECT count(*), sum(distance) FROM t WHERE {filter}");
        let out = common::run(&ctx, &sql).await.unwrap();
        let (_, sources, _) = table.counters().get();
        assert_eq!(sources, expected, "{filter}: shards read");
        let unpruned = format!(
            "SELECT count(*), sum(distance) FROM t WHERE {}",
            filter.replacen("origin", "concat(origin, '')", 1)
        );
        let right = common::run(&ctx, &unpruned).await.unwrap();
        assert_eq!(out, right, "{filter}");
    }
}
