//! Dataset benchmarks (issue 15), brine alone: writing one logical frame as a dataset of 16
//! shards with the parallel writer, against the same writer one shard at a time
//! (`DatasetOptions::serial`) and against the whole frame written as one file.
//!
//! `cargo bench --bench datasets` writes the 10M-row frame of the frame benchmarks (`i64 id,
//! f64 value, timestamp, utf8 name`, about 350 MB), raw and zstd-compressed (level 3, byte
//! shuffle off). `BRINE_BENCH_ROWS=N` changes the row count.

use std::path::{Path, PathBuf};
use std::time::Duration;

use brine::dataset::{DatasetOptions, DatasetWriter};
use brine::frame::{Frame, FrameOptions};
use brine::{Codec, Writer};
use criterion::{BatchSize, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group};

#[path = "peers/src/frame_data.rs"]
#[allow(dead_code)]
mod frame_data;

const SHARDS: u64 = 16;

fn fresh(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    if path.is_dir() {
        std::fs::remove_dir_all(&path).unwrap();
    } else if path.exists() {
        std::fs::remove_file(&path).unwrap();
    }
    path
}

fn write_dataset(root: &Path, frame: &Frame, options: &FrameOptions, serial: bool) {
    let rows = frame.rows() as u64;
    let options = DatasetOptions::new()
        .max_rows(rows.div_ceil(SHARDS))
        .frame_options(options.clone())
        .serial(serial);
    let mut w = DatasetWriter::create(root, options).unwrap();
    w.write_frame(frame).unwrap();
    w.finish().unwrap();
}

fn write_one_file(path: &Path, frame: &Frame, options: &FrameOptions) {
    let mut w = Writer::create(path).unwrap();
    w.put_frame_with(frame_data::ENTRY, frame, options).unwrap();
    w.finish().unwrap();
}

fn write(c: &mut Criterion) {
    let rows = frame_data::rows();
    let label = frame_data::label(rows);
    let frame = frame_data::frame(rows);
    let dir = tempfile::tempdir().unwrap();
    let probe = dir.path().join("probe.brine");
    write_one_file(&probe, &frame, &FrameOptions::new());
    let bytes = std::fs::metadata(&probe).unwrap().len();
    std::fs::remove_file(&probe).unwrap();

    let mut group = c.benchmark_group(format!("dataset-write-{label}"));
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Bytes(bytes));
    let codecs = [
        ("raw", FrameOptions::new()),
        (
            "zstd",
            FrameOptions::new().codec(Codec::Zstd { shuffle: false }),
        ),
    ];
    for (codec, options) in &codecs {
        group.bench_function(BenchmarkId::new("one-file", codec), |b| {
            b.iter_batched(
                || fresh(dir.path(), "one.brine"),
                |path| write_one_file(&path, &frame, options),
                BatchSize::PerIteration,
            )
        });
        for (name, serial) in [("16-shards-serial", true), ("16-shards-parallel", false)] {
            group.bench_function(BenchmarkId::new(name, codec), |b| {
                b.iter_batched(
                    || fresh(dir.path(), "ds"),
                    |root| write_dataset(&root, &frame, options, serial),
                    BatchSize::PerIteration,
                )
            });
        }
    }
    group.finish();
}

criterion_group!(benches, write);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
