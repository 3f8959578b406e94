//! Queries through DataFusion (issue 15): the brine table provider over a dataset of 16 shards
//! against DataFusion's own Parquet and Arrow IPC readers over the same rows cut into the same
//! 16 files, all from the page cache.
//!
//! `cargo bench -p brine-datafusion --bench query` writes 10M flights-like rows (`origin` and
//! `carrier` categorical, `dep_delay` f64 with nulls, `distance` i64, `ts` a rising microsecond
//! timestamp, so that each shard covers its own time range) and runs:
//! - `group-by`: `origin, count(*), avg(dep_delay), max(distance)` grouped by `origin`;
//! - `sum`: `avg(dep_delay), sum(distance)` over every row, the scan with little on top;
//! - `filter`: count and average over one hour of the data, inside one shard: the brine
//!   provider and the Parquet reader skip the other 15 shards by their statistics (the bytes
//!   the brine scan mapped are counted and printed), Arrow IPC reads them all.
//!
//! A fourth context, `memory`, runs each query over a `MemTable` of the same rows already in
//! Arrow batches of the session's batch size, one partition per shard: what DataFusion costs
//! with no reader at all, the floor any table provider stands on; and `plan-only` times
//! parsing and planning each query over that table without running it.
//!
//! `BRINE_BENCH_ROWS=N` changes the row count.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use brine::dataset::{Dataset, DatasetOptions, DatasetWriter, SHARD_ENTRY};
use brine::frame::{Column, Frame, TimeUnit};
use brine_datafusion::BrineTable;
use criterion::{Criterion, criterion_group, criterion_main};
use datafusion::arrow::array::{MutableArrayData, RecordBatch, make_array};
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::options::ArrowReadOptions;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use tokio::runtime::Runtime;

const SHARDS: usize = 16;
const AIRPORTS: [&str; 24] = [
    "ATL", "BOS", "CLT", "DEN", "DFW", "DTW", "EWR", "FLL", "IAH", "JFK", "LAS", "LAX", "LGA",
    "MCO", "MIA", "MSP", "ORD", "PHL", "PHX", "SAN", "SEA", "SFO", "SLC", "TPA",
];
const CARRIERS: [&str; 8] = ["AA", "AS", "B6", "DL", "F9", "NK", "UA", "WN"];
const START_US: i64 = 1_700_000_000_000_000;
/// One row a second: a shard of 625,000 rows covers about a week.
const STEP_US: i64 = 1_000_000;

fn rows() -> usize {
    std::env::var("BRINE_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000)
}

/// A cheap, fixed pseudo-random stream (splitmix64), so every run writes the same rows.
fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn flights(n: usize) -> Frame {
    let r: Vec<u64> = (0..n as u64).map(mix).collect();
    Frame::builder()
        .column(
            "origin",
            Column::categorical(r.iter().map(|x| Some(AIRPORTS[(x % 24) as usize]))),
        )
        .column(
            "carrier",
            Column::categorical(r.iter().map(|x| Some(CARRIERS[((x >> 8) % 8) as usize]))),
        )
        .column(
            "dep_delay",
            Column::from_options(
                r.iter()
                    .map(|x| (x >> 16) % 50 != 0)
                    .zip(&r)
                    .map(|(some, x)| some.then(|| ((x >> 20) % 2400) as f64 / 10.0 - 30.0)),
            ),
        )
        .column(
            "distance",
            Column::new(r.iter().map(|x| 100 + ((x >> 32) % 4900) as i64).collect()),
        )
        .column(
            "ts",
            Column::timestamps(
                (0..n as i64).map(|i| START_US + i * STEP_US).collect(),
                TimeUnit::Microsecond,
                Some("UTC"),
            ),
        )
        .build()
        .unwrap()
}

/// The dataset (`brine/`), then each shard's rows as `parquet/NN.parquet` and `arrow/NN.arrow`.
fn write_all(dir: &Path, n: usize) {
    let frame = flights(n);
    let options = DatasetOptions::new().max_rows(n.div_ceil(SHARDS) as u64);
    let mut w = DatasetWriter::create(dir.join("brine"), options).unwrap();
    w.write_frame(&frame).unwrap();
    w.finish().unwrap();
    drop(frame);
    std::fs::create_dir_all(dir.join("parquet")).unwrap();
    std::fs::create_dir_all(dir.join("arrow")).unwrap();
    let dataset = Dataset::open(dir.join("brine")).unwrap();
    for s in 0..dataset.shards().len() {
        let reader = dataset.open_shard(s).unwrap();
        let batch = brine::frame::arrow::record_batch(&reader, SHARD_ENTRY).unwrap();
        write_parquet(&dir.join(format!("parquet/{s:02}.parquet")), &batch);
        write_ipc(&dir.join(format!("arrow/{s:02}.arrow")), &batch);
    }
}

fn write_parquet(path: &Path, batch: &RecordBatch) {
    let file = std::fs::File::create(path).unwrap();
    let mut w = ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
}

fn write_ipc(path: &Path, batch: &RecordBatch) {
    let file = std::fs::File::create(path).unwrap();
    let mut w = datafusion::arrow::ipc::writer::FileWriter::try_new(file, &batch.schema()).unwrap();
    w.write(batch).unwrap();
    w.finish().unwrap();
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum()
}

/// The averages are rounded to 6 places: readers that cut the rows into different batches sum
/// them in different orders, which changes the last digits of a float sum (the rounding costs
/// nothing next to the scan: it runs on the 24 or 1 result rows).
fn queries(n: usize) -> [(&'static str, String); 3] {
    // One hour in the middle of shard 7 of 16.
    let from = START_US + (n / SHARDS * 7 + n / SHARDS / 2) as i64 * STEP_US;
    let to = from + 3_600 * 1_000_000;
    [
        (
            "group-by",
            "SELECT origin, count(*) AS n, round(avg(dep_delay), 6) AS delay, \
             max(distance) AS far \
             FROM t GROUP BY origin ORDER BY origin"
                .to_owned(),
        ),
        // The scan and a cheap aggregate, no grouping: what reading the columns costs each
        // reader (a sum and an average: a min or max could be answered from the statistics alone).
        (
            "sum",
            "SELECT round(avg(dep_delay), 6) AS delay, sum(distance) AS far FROM t".to_owned(),
        ),
        (
            "filter",
            format!(
                "SELECT count(*) AS n, round(avg(dep_delay), 6) AS delay FROM t \
                 WHERE ts >= to_timestamp_micros({from}) AND ts < to_timestamp_micros({to})"
            ),
        ),
    ]
}

/// Every shard's rows copied into Arrow's own memory, in batches of the session's batch size,
/// one partition per shard.
fn memory_table(root: &Path, ctx: &SessionContext) -> MemTable {
    let size = ctx.copied_config().batch_size();
    let dataset = Dataset::open(root).unwrap();
    let mut schema = None;
    let partitions: Vec<Vec<RecordBatch>> = (0..dataset.shards().len())
        .map(|s| {
            let reader = dataset.open_shard(s).unwrap();
            let batch = brine::frame::arrow::record_batch(&reader, SHARD_ENTRY).unwrap();
            let batch = copied(&batch);
            schema = Some(batch.schema());
            (0..batch.num_rows())
                .step_by(size)
                .map(|k| batch.slice(k, size.min(batch.num_rows() - k)))
                .collect()
        })
        .collect();
    MemTable::try_new(schema.unwrap(), partitions).unwrap()
}

/// A deep copy of a batch (its buffers out of the brine file's mapping).
fn copied(batch: &RecordBatch) -> RecordBatch {
    let columns = batch
        .columns()
        .iter()
        .map(|c| {
            let data = c.to_data();
            let mut copy = MutableArrayData::new(vec![&data], false, data.len());
            copy.try_extend(0, 0, data.len()).unwrap();
            make_array(copy.freeze())
        })
        .collect();
    RecordBatch::try_new(batch.schema(), columns).unwrap()
}

fn plan(rt: &Runtime, ctx: &SessionContext, sql: &str) -> Arc<dyn ExecutionPlan> {
    rt.block_on(async {
        let frame = ctx.sql(sql).await.unwrap();
        frame.create_physical_plan().await.unwrap()
    })
}

fn collect(rt: &Runtime, ctx: &SessionContext, sql: &str) -> Vec<RecordBatch> {
    rt.block_on(async { ctx.sql(sql).await.unwrap().collect().await.unwrap() })
}

fn bench(c: &mut Criterion) {
    let n = rows();
    let dir = tempfile::tempdir().unwrap();
    write_all(dir.path(), n);
    let rt = Runtime::new().unwrap();

    let brine_table = Arc::new(BrineTable::open_dataset(dir.path().join("brine")).unwrap());
    let brine = SessionContext::new();
    brine.register_table("t", brine_table.clone()).unwrap();
    let parquet = SessionContext::new();
    let arrow = SessionContext::new();
    rt.block_on(async {
        let p = dir.path().join("parquet");
        let a = dir.path().join("arrow");
        parquet
            .register_parquet("t", p.to_str().unwrap(), ParquetReadOptions::default())
            .await
            .unwrap();
        arrow
            .register_arrow("t", a.to_str().unwrap(), ArrowReadOptions::default())
            .await
            .unwrap();
    });
    let memory = SessionContext::new();
    memory
        .register_table(
            "t",
            Arc::new(memory_table(&dir.path().join("brine"), &memory)),
        )
        .unwrap();
    let brine_bytes: u64 = Dataset::open(dir.path().join("brine"))
        .unwrap()
        .shards()
        .iter()
        .map(|s| s.bytes())
        .sum();
    eprintln!(
        "{n} rows in {SHARDS} shards: brine {} MB, Parquet {} MB, Arrow IPC {} MB",
        brine_bytes / 1_000_000,
        dir_bytes(&dir.path().join("parquet")) / 1_000_000,
        dir_bytes(&dir.path().join("arrow")) / 1_000_000
    );

    let label = format!("{}M", n / 1_000_000);
    for (name, sql) in queries(n) {
        // The three readers agree before anything is timed.
        let expected = collect(&rt, &brine, &sql);
        let pretty = |b: &[RecordBatch]| {
            datafusion::arrow::util::pretty::pretty_format_batches(b)
                .unwrap()
                .to_string()
        };
        for (peer, ctx) in [
            ("parquet", &parquet),
            ("arrow-ipc", &arrow),
            ("memory", &memory),
        ] {
            assert_eq!(
                pretty(&collect(&rt, ctx, &sql)),
                pretty(&expected),
                "{peer}: {name}"
            );
        }
        // What one brine scan maps, after the first run checked the statistics it prunes by.
        brine_table.counters().reset();
        collect(&rt, &brine, &sql);
        let (bytes, sources, _) = brine_table.counters().get();
        eprintln!(
            "{name}: the brine scan read {sources} of {SHARDS} shards, {bytes} bytes ({:.1}% of \
             the dataset's {brine_bytes})",
            bytes as f64 * 100.0 / brine_bytes as f64
        );

        let mut group = c.benchmark_group(format!("datafusion-{name}-{label}"));
        group
            .sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(5));
        for (reader, ctx) in [
            ("brine", &brine),
            ("parquet", &parquet),
            ("arrow-ipc", &arrow),
            ("memory", &memory),
        ] {
            group.bench_function(reader, |b| b.iter(|| collect(&rt, ctx, &sql)));
        }
        // Parsing, planning and optimising the query over the memory table, without running
        // it: the part of every reader's time that no reader can save.
        group.bench_function("plan-only", |b| b.iter(|| plan(&rt, &memory, &sql)));
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
