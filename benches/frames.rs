//! Frame benchmarks (issue 3), brine alone; the comparison with Arrow IPC is in the peers
//! crate (`cargo bench -p brine-bench-peers --bench frames_vs_arrow`).
//!
//! `cargo bench --bench frames` runs a 10M-row frame (`i64 id, f64 value, timestamp, utf8
//! name`, about 350 MB, generated once per run in a temporary folder) and a CSV import of
//! about 100 MiB; `BRINE_BENCH_LARGE=1` imports about 1 GiB of CSV instead.
//! `BRINE_BENCH_ROWS=N` changes the frame's row count (for a quick check of the benches).
//!
//! "Validated" for brine means what Arrow's validated decode checks: tier 1 at open (header,
//! manifest, every section in bounds), and tier 2 on the first access of each column (offsets
//! monotone, UTF-8 on character boundaries).

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use brine::frame::FrameOptions;
use brine::frame::csv::{self, CsvOptions};
use brine::{Reader, Writer};
use criterion::{BatchSize, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group};

// The generator shared with the peers crate, so that both measure the same rows.
#[path = "peers/src/frame_data.rs"]
#[allow(dead_code)]
mod frame_data;

use frame_data::ENTRY;

const MIB: u64 = 1024 * 1024;

/// The folder of the generated files. A static is never dropped, so `main` removes it.
static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();

fn dir() -> &'static Path {
    DIR.get_or_init(|| tempfile::tempdir().expect("temp dir"))
        .path()
}

/// The frame file, written once per run: its path, row count and label.
fn frame_file() -> &'static (std::path::PathBuf, usize, String) {
    static FILE: std::sync::OnceLock<(std::path::PathBuf, usize, String)> =
        std::sync::OnceLock::new();
    FILE.get_or_init(|| {
        let rows = frame_data::rows();
        let label = frame_data::label(rows);
        let path = dir().join(format!("frame-{label}.brine"));
        let start = Instant::now();
        let frame = frame_data::frame(rows);
        let generated = start.elapsed();
        let mut w = Writer::create(&path).unwrap();
        w.put_frame(ENTRY, &frame).unwrap();
        w.finish().unwrap();
        let len = std::fs::metadata(&path).unwrap().len();
        eprintln!(
            "frame-{label}: generated in {generated:.2?}, written in {:.2?}, {:.1} MiB",
            start.elapsed() - generated,
            len as f64 / MIB as f64
        );
        (path, rows, label)
    })
}

/// Looks up the frame and makes the first access of all four columns (tier 2 on each).
fn access_all(r: &Reader) -> usize {
    let f = r.frame(ENTRY).unwrap();
    let ids = f.column("id").unwrap().values::<i64>().unwrap();
    let values = f.column("value").unwrap().values::<f64>().unwrap();
    let ts = f.column("ts").unwrap().timestamps().unwrap();
    let names = f.column("name").unwrap().strings().unwrap();
    black_box((ids.as_ptr(), values.as_ptr(), ts.values.values.as_ptr()));
    black_box(names.data().len())
}

/// The scan of issue 3: the sum of `value` and the number of names starting with "a".
fn scan(r: &Reader) -> (f64, usize) {
    let f = r.frame(ENTRY).unwrap();
    let values = f.column("value").unwrap().values::<f64>().unwrap();
    let names = f.column("name").unwrap().strings().unwrap();
    let sum = values.iter().sum::<f64>();
    let count = names
        .iter()
        .flatten()
        .filter(|s| s.starts_with('a'))
        .count();
    (sum, count)
}

/// As [`scan`], counting from the string column's offsets and bytes directly.
fn scan_raw(r: &Reader) -> (f64, usize) {
    let f = r.frame(ENTRY).unwrap();
    let values = f.column("value").unwrap().values::<f64>().unwrap();
    let names = f.column("name").unwrap().strings().unwrap();
    let sum = values.iter().sum::<f64>();
    let data = names.data().as_bytes();
    let count = names
        .offsets()
        .windows(2)
        .filter(|w| w[1] > w[0] && data[w[0] as usize] == b'a')
        .count();
    (sum, count)
}

/// Open (tier 1), lookup, and first access of every column (tier 2), on a warm page cache.
fn open(c: &mut Criterion) {
    let (path, rows, label) = frame_file();
    let file_len = std::fs::metadata(path).unwrap().len();

    let mut group = c.benchmark_group(format!("frame-{label}/open"));
    group.measurement_time(Duration::from_secs(3));
    group.bench_function("brine/open", |b| {
        b.iter(|| black_box(Reader::open(path).unwrap()))
    });
    group.bench_function("brine/open+lookup", |b| {
        b.iter(|| {
            let r = Reader::open(path).unwrap();
            black_box(r.frame(ENTRY).unwrap().rows());
        })
    });
    group.finish();

    // Throughput in bytes of the file: tier 2 reads the string column's offsets and bytes.
    let mut group = c.benchmark_group(format!("frame-{label}/validated"));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Bytes(file_len));
    group.bench_function("brine/open+all-columns", |b| {
        b.iter(|| {
            let r = Reader::open(path).unwrap();
            black_box(access_all(&r));
        })
    });
    group.bench_function("brine/all-columns-first-access", |b| {
        b.iter_batched_ref(
            || Reader::open(path).unwrap(),
            |r| black_box(access_all(r)),
            BatchSize::PerIteration,
        )
    });
    group.finish();

    // Later accesses: tier 2 is cached per reader, so they cost a lookup and a slice.
    let mut group = c.benchmark_group(format!("frame-{label}/later-access"));
    group.measurement_time(Duration::from_secs(3));
    let r = Reader::open(path).unwrap();
    access_all(&r);
    group.bench_function("brine/all-columns", |b| b.iter(|| access_all(&r)));
    group.bench_function("brine/one-column", |b| {
        b.iter(|| {
            let f = r.frame(ENTRY).unwrap();
            black_box(f.column("name").unwrap().strings().unwrap().data().len())
        })
    });
    group.finish();

    let expected = frame_data::expected_scan(*rows);
    assert_eq!(scan(&r), expected, "the scan reads the generated rows");
    assert_eq!(scan_raw(&r), expected);
    let mut group = c.benchmark_group(format!("frame-{label}/scan"));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Bytes(file_len));
    group.bench_function("brine/open+sum+count", |b| {
        b.iter(|| {
            let r = Reader::open(path).unwrap();
            black_box(scan(&r))
        })
    });
    group.bench_function("brine/sum+count-validated-reader", |b| {
        b.iter(|| black_box(scan(&r)))
    });
    // The same count from the raw offsets and bytes: the cost of `StrColumn::iter` itself.
    group.bench_function("brine/sum+count-raw-buffers-validated-reader", |b| {
        b.iter(|| black_box(scan_raw(&r)))
    });
    group.finish();
}

/// Writing the whole frame durably, at once and in batches of 64 Ki rows.
fn write(c: &mut Criterion) {
    let (path, rows, label) = frame_file();
    let file_len = std::fs::metadata(path).unwrap().len();
    let frame = frame_data::frame(*rows);
    let mut group = c.benchmark_group(format!("frame-{label}/write"));
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Bytes(file_len));
    let out = dir().join("write.brine");
    group.bench_function("brine/put_frame", |b| {
        b.iter(|| {
            let mut w = Writer::create(&out).unwrap();
            w.put_frame(ENTRY, &frame).unwrap();
            w.finish().unwrap();
        })
    });
    group.finish();
}

/// CSV import: parse, infer types, write the frame (fsync included); MiB/s of CSV text.
fn csv_import(c: &mut Criterion) {
    let (target, label) = if std::env::var_os("BRINE_BENCH_LARGE").is_some() {
        (1024 * MIB, "1GiB")
    } else {
        (100 * MIB, "100MiB")
    };
    let csv_path = dir().join(format!("rows-{label}.csv"));
    let start = Instant::now();
    let (rows, bytes) = frame_data::write_csv(&csv_path, target).unwrap();
    eprintln!(
        "csv-{label}: {rows} rows, {bytes} bytes, generated in {:.2?}",
        start.elapsed()
    );
    let out = dir().join(format!("csv-{label}.brine"));
    let import = || {
        let mut w = Writer::create(&out).unwrap();
        let report = csv::import(
            &mut w,
            ENTRY,
            &csv_path,
            &CsvOptions::new(),
            &FrameOptions::new(),
        )
        .unwrap();
        w.finish().unwrap();
        report
    };
    // Once outside the measurement: the import must read back as the generated rows.
    let report = import();
    assert_eq!(report.rows, rows as u64);
    let r = Reader::open(&out).unwrap();
    assert_eq!(scan(&r), frame_data::expected_scan(rows));
    eprintln!("csv-{label}: imported as {:?}", report.fields);
    drop(r);

    let mut group = c.benchmark_group("csv-import");
    // Seconds per import at 1 GiB: the same iteration count in every sample.
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(if target > 100 * MIB {
        60
    } else {
        15
    }));
    group.throughput(Throughput::Bytes(bytes));
    group.bench_function(BenchmarkId::new("brine", label), |b| b.iter(import));
    group.finish();
    std::fs::remove_file(&csv_path).ok();
}

criterion_group!(benches, open, write, csv_import);

// `criterion_main!`, plus the removal of the generated files (hundreds of MB).
fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    if let Some(dir) = DIR.get() {
        std::fs::remove_dir_all(dir.path()).ok();
    }
}
