//! Flights-like data written as brine shards and as the same data in Parquet and Arrow IPC.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use brine::frame::{Column, Frame, TimeUnit};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::prelude::SessionContext;

pub const ORIGINS: [&str; 5] = ["JFK", "LAX", "ORD", "ATL", "SFO"];

/// Rows `start..start + n` of a flights-like frame: `origin` categorical, `dest` string with
/// nulls, `dep_delay` f64 with nulls, `distance` i64 rising with the row (so shards have
/// disjoint ranges), `ts` microsecond UTC timestamp, `cancelled` bool.
pub fn flights(start: usize, n: usize) -> Frame {
    let rows = start..start + n;
    let origin = rows.clone().map(|i| Some(ORIGINS[(i * 7 + i / 3) % 5]));
    let dest = rows.clone().map(|i| {
        (i % 11 != 0).then(|| ORIGINS[(i * 3 + 1) % 5].to_lowercase() + &(i % 4).to_string())
    });
    let delay = rows
        .clone()
        .map(|i| (i % 13 != 0).then(|| ((i * 37) % 200) as f64 / 4.0 - 10.0));
    let distance: Vec<i64> = rows.clone().map(|i| i as i64 * 3 + 100).collect();
    let ts: Vec<i64> = rows
        .clone()
        .map(|i| 1_700_000_000_000_000 + i as i64 * 60_000_000)
        .collect();
    let cancelled = rows.map(|i| i % 17 == 0);
    Frame::builder()
        .column("origin", Column::categorical(origin))
        .column("dest", Column::strings_opt(dest))
        .column("dep_delay", Column::from_options(delay))
        .column("distance", Column::new(distance))
        .column(
            "ts",
            Column::timestamps(ts, TimeUnit::Microsecond, Some("UTC")),
        )
        .column("cancelled", Column::bools(cancelled))
        .build()
        .expect("a frame")
}

/// Writes `shards` brine files of `rows` rows each (`flights-NN.brine`, entry "flights") and
/// the same rows as Parquet (`parquet/NN.parquet`) and Arrow IPC (`arrow/NN.arrow`) files.
pub fn write_all(dir: &Path, shards: usize, rows: usize) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir.join("parquet")).unwrap();
    std::fs::create_dir_all(dir.join("arrow")).unwrap();
    (0..shards)
        .map(|s| {
            let path = dir.join(format!("flights-{s:02}.brine"));
            let mut w = brine::Writer::create(&path).unwrap();
            w.put_frame("flights", &flights(s * rows, rows)).unwrap();
            w.finish().unwrap();
            let reader = Arc::new(brine::Reader::open(&path).unwrap());
            let batch = brine::frame::arrow::record_batch(&reader, "flights").unwrap();
            write_parquet(&dir.join(format!("parquet/{s:02}.parquet")), &batch);
            write_ipc(&dir.join(format!("arrow/{s:02}.arrow")), &batch);
            path
        })
        .collect()
}

pub fn write_parquet(path: &Path, batch: &RecordBatch) {
    let file = std::fs::File::create(path).unwrap();
    let mut w = ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
}

pub fn write_ipc(path: &Path, batch: &RecordBatch) {
    let file = std::fs::File::create(path).unwrap();
    let mut w = datafusion::arrow::ipc::writer::FileWriter::try_new(file, &batch.schema()).unwrap();
    w.write(batch).unwrap();
    w.finish().unwrap();
}

/// The pretty-printed result of `sql` (row order as the query gives it).
pub async fn run(ctx: &SessionContext, sql: &str) -> datafusion::error::Result<String> {
    let batches = ctx.sql(sql).await?.collect().await?;
    Ok(pretty_format_batches(&batches)?.to_string())
}
