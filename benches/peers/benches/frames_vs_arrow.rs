//! brine frames against Arrow IPC files read through `mmap` (issue 3), in the same groups and
//! the same run.
//!
//! `cargo bench -p brine-bench-peers --bench frames_vs_arrow` writes a 10M-row frame
//! (`i64 id, f64 value, timestamp, utf8 name`, generated once per run in a temporary folder)
//! as a brine file and, with the same buffers, as an Arrow IPC file of one record batch
//! (`LargeUtf8` names: the same offsets and bytes as brine's). `BRINE_BENCH_ROWS=N` changes the
//! row count.
//!
//! Arrow is read as in arrow-rs's `zero_copy_ipc` example: the file is mapped, wrapped in a
//! `Buffer` without a copy, and decoded by a `FileDecoder`, validated (the default: offsets and
//! UTF-8 of the string column) or not (`with_skip_validation(true)`, an `unsafe` promise).
//! brine's validated counterpart is `Reader::open` (tier 1) plus the first access of all four
//! columns (tier 2: offsets and UTF-8); brine's `open` alone validates only tier 1.
//!
//! The scan (sum of `value`, count of names starting with "a") runs twice: through each
//! library's string iterator, and with one loop over the raw offsets and bytes shared by both
//! (`/raw-buffers`), which separates the cost of opening from that of each iterator.

use std::fs::File;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use arrow_array::RecordBatch;
use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_buffer::Buffer;
use arrow_ipc::reader::{FileDecoder, read_footer_length};
use brine::Reader;
use brine_bench_peers::frame_data::{self, ENTRY};
use criterion::{Criterion, Throughput, criterion_group};
use memmap2::Mmap;

const MIB: f64 = 1024.0 * 1024.0;

/// The folder of the generated files. A static is never dropped, so `main` removes it.
static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();

fn dir() -> &'static Path {
    DIR.get_or_init(|| tempfile::tempdir().expect("temp dir"))
        .path()
}

struct Files {
    brine: PathBuf,
    arrow: PathBuf,
    rows: usize,
    label: String,
}

/// Both files, written once per run from the same generated frame.
fn files() -> &'static Files {
    static FILES: OnceLock<Files> = OnceLock::new();
    FILES.get_or_init(|| {
        let rows = frame_data::rows();
        let label = frame_data::label(rows);
        let brine = dir().join(format!("frame-{label}.brine"));
        let arrow = dir().join(format!("frame-{label}.arrow"));
        let start = Instant::now();
        let frame = frame_data::frame(rows);
        let mut w = brine::Writer::create(&brine).unwrap();
        w.put_frame(ENTRY, &frame).unwrap();
        w.finish().unwrap();
        drop(frame);
        // The Arrow file holds the brine file's buffers: the batch is a zero-copy view of it.
        let reader = Arc::new(Reader::open(&brine).unwrap());
        let batch = brine::frame::arrow::record_batch(&reader, ENTRY).unwrap();
        let out = File::create(&arrow).unwrap();
        let mut writer = arrow_ipc::writer::FileWriter::try_new(out, &batch.schema()).unwrap();
        writer.write(&batch).unwrap();
        writer.finish().unwrap();
        writer.into_inner().unwrap().sync_all().unwrap();
        let size = |p: &Path| std::fs::metadata(p).unwrap().len() as f64 / MIB;
        eprintln!(
            "frame-{label}: brine {:.1} MiB, arrow ipc {:.1} MiB, schema {:?}, written in {:.2?}",
            size(&brine),
            size(&arrow),
            batch
                .schema()
                .fields()
                .iter()
                .map(|f| f.data_type().to_string())
                .collect::<Vec<_>>(),
            start.elapsed()
        );
        Files {
            brine,
            arrow,
            rows,
            label,
        }
    })
}

/// The mapped file as an Arrow `Buffer`, without a copy.
fn map_buffer(path: &Path) -> Buffer {
    let file = File::open(path).unwrap();
    // SAFETY: the bench's own file, written before and never modified while mapped.
    let map = unsafe { Mmap::map(&file) }.unwrap();
    let ptr = NonNull::new(map.as_ptr().cast_mut()).unwrap();
    let len = map.len();
    // SAFETY: `ptr` points to `len` readable bytes owned by `map`, which the buffer keeps alive
    // (as its allocation) and which never move or change while mapped.
    unsafe { Buffer::from_custom_allocation(ptr, len, Arc::new(map)) }
}

/// Opens an Arrow IPC file through `mmap` and decodes its one record batch, as arrow-rs's
/// `zero_copy_ipc` example does.
fn arrow_open(path: &Path, validate: bool) -> RecordBatch {
    let buffer = map_buffer(path);
    let trailer = buffer.len() - 10;
    let footer_len = read_footer_length(buffer[trailer..].try_into().unwrap()).unwrap();
    let footer = arrow_ipc::root_as_footer(&buffer[trailer - footer_len..trailer]).unwrap();
    let schema = arrow_ipc::convert::try_fb_to_schema(footer.schema().unwrap()).unwrap();
    let mut decoder = FileDecoder::new(Arc::new(schema), footer.version());
    if !validate {
        // SAFETY: the bench wrote this file itself, from a validated brine frame.
        decoder = unsafe { decoder.with_skip_validation(true) };
    }
    for block in footer.dictionaries().iter().flatten() {
        let len = block.bodyLength() as usize + block.metaDataLength() as usize;
        let data = buffer.slice_with_length(block.offset() as usize, len);
        decoder.read_dictionary(block, &data).unwrap();
    }
    let blocks = footer.recordBatches().unwrap();
    assert_eq!(blocks.len(), 1, "one record batch");
    let block = blocks.get(0);
    let len = block.bodyLength() as usize + block.metaDataLength() as usize;
    let data = buffer.slice_with_length(block.offset() as usize, len);
    decoder.read_record_batch(block, &data).unwrap().unwrap()
}

/// How the scans count names: through each library's string iterator, or with the same loop
/// over the raw offsets and bytes (which both store identically).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Count {
    Iter,
    RawBuffers,
}

/// Names starting with "a", from offsets and bytes (no nulls in this column).
fn count_raw(offsets: &[i64], data: &[u8]) -> usize {
    offsets
        .windows(2)
        .filter(|w| w[1] > w[0] && data[w[0] as usize] == b'a')
        .count()
}

/// The scan of issue 3 on an Arrow batch: the sum of `value` and the names starting with "a".
fn arrow_scan(batch: &RecordBatch, how: Count) -> (f64, usize) {
    let values = batch
        .column_by_name("value")
        .unwrap()
        .as_primitive::<Float64Type>();
    let names = batch.column_by_name("name").unwrap().as_string::<i64>();
    let sum = values.values().iter().sum::<f64>();
    let count = match how {
        Count::Iter => names
            .iter()
            .flatten()
            .filter(|s| s.starts_with('a'))
            .count(),
        Count::RawBuffers => count_raw(names.value_offsets(), names.value_data()),
    };
    (sum, count)
}

/// brine's validated open: tier 1, lookup, and the first access of every column (tier 2).
fn brine_open_all(path: &Path) -> Reader {
    let r = Reader::open(path).unwrap();
    let f = r.frame(ENTRY).unwrap();
    black_box(f.column("id").unwrap().values::<i64>().unwrap().as_ptr());
    black_box(f.column("value").unwrap().values::<f64>().unwrap().as_ptr());
    black_box(
        f.column("ts")
            .unwrap()
            .timestamps()
            .unwrap()
            .values
            .values
            .as_ptr(),
    );
    black_box(f.column("name").unwrap().strings().unwrap().data().len());
    r
}

/// The scan of issue 3 through brine's views.
fn brine_scan(r: &Reader, how: Count) -> (f64, usize) {
    let f = r.frame(ENTRY).unwrap();
    let values = f.column("value").unwrap().values::<f64>().unwrap();
    let names = f.column("name").unwrap().strings().unwrap();
    let sum = values.iter().sum::<f64>();
    let count = match how {
        Count::Iter => names
            .iter()
            .flatten()
            .filter(|s| s.starts_with('a'))
            .count(),
        Count::RawBuffers => count_raw(names.offsets(), names.data().as_bytes()),
    };
    (sum, count)
}

fn open(c: &mut Criterion) {
    let Files {
        brine,
        arrow,
        rows,
        label,
    } = files();
    let expected = frame_data::expected_scan(*rows);
    for how in [Count::Iter, Count::RawBuffers] {
        assert_eq!(arrow_scan(&arrow_open(arrow, true), how), expected);
        assert_eq!(arrow_scan(&arrow_open(arrow, false), how), expected);
        assert_eq!(brine_scan(&brine_open_all(brine), how), expected);
    }

    let mut group = c.benchmark_group(format!("frame-{label}/open"));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(6));
    group.bench_function("brine/open-tier1", |b| {
        b.iter(|| black_box(Reader::open(brine).unwrap()))
    });
    group.bench_function("brine/open-validated", |b| {
        b.iter(|| black_box(brine_open_all(brine)))
    });
    group.bench_function("brine/open-validated-as-record-batch", |b| {
        b.iter(|| {
            let r = Arc::new(Reader::open(brine).unwrap());
            black_box(brine::frame::arrow::record_batch(&r, ENTRY).unwrap())
        })
    });
    group.bench_function("arrow-ipc-mmap/open-validated", |b| {
        b.iter(|| black_box(arrow_open(arrow, true)))
    });
    group.bench_function("arrow-ipc-mmap/open-unvalidated", |b| {
        b.iter(|| black_box(arrow_open(arrow, false)))
    });
    group.finish();

    let file_len = std::fs::metadata(brine).unwrap().len();
    for (how, suffix) in [(Count::Iter, ""), (Count::RawBuffers, "/raw-buffers")] {
        let mut group = c.benchmark_group(format!("frame-{label}/open+sum+count{suffix}"));
        group.sample_size(20);
        group.measurement_time(Duration::from_secs(7));
        group.throughput(Throughput::Bytes(file_len));
        group.bench_function("brine", |b| {
            b.iter(|| {
                let r = Reader::open(brine).unwrap();
                black_box(brine_scan(&r, how))
            })
        });
        group.bench_function("arrow-ipc-mmap/validated", |b| {
            b.iter(|| black_box(arrow_scan(&arrow_open(arrow, true), how)))
        });
        group.bench_function("arrow-ipc-mmap/unvalidated", |b| {
            b.iter(|| black_box(arrow_scan(&arrow_open(arrow, false), how)))
        });
        group.finish();
    }
}

criterion_group!(benches, open);

// `criterion_main!`, plus the removal of the generated files (hundreds of MB).
fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    if let Some(dir) = DIR.get() {
        std::fs::remove_dir_all(dir.path()).ok();
    }
}
