//! Model benchmarks (issue 4), brine against plain rkyv on the same bytes; the comparison with
//! serde + bincode is in the peers crate (`cargo bench -p brine-bench-peers --bench
//! models_vs_serde`).
//!
//! `cargo bench --bench models` measures a forest of about 1M nodes (numbers and a few
//! strings, generated once per run in a temporary folder); `BRINE_BENCH_LARGE=1` adds one of
//! 10M nodes. The later-access group also runs a 10k-node forest, to show its cost does not
//! grow with the model.
//!
//! A fresh mapping is slower to read than one already faulted in, so the first-access group
//! holds two rkyv baselines: `rkyv-access/fresh-mapping` (the file mapped in the untimed setup,
//! as brine's reader is in `brine/first-access`) and `rkyv-access/hot-mapping` (the same
//! mapping every time: validation alone).

use std::fs::File;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use brine::{Reader, Writer};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group};
use memmap2::Mmap;

// The model shared with the peers crate, so that both measure the same forest.
#[path = "peers/src/forest.rs"]
#[allow(dead_code)]
mod forest;

use forest::{ArchivedForest, ENTRY, Forest};

/// The folder of the generated files. A static is never dropped, so `main` removes it.
static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();

fn dir() -> &'static Path {
    DIR.get_or_init(|| tempfile::tempdir().expect("temp dir"))
        .path()
}

/// A model file: its path, and where the archive lies in it.
struct ModelFile {
    path: PathBuf,
    offset: usize,
    len: usize,
    expected: (f64, usize),
}

impl ModelFile {
    /// Writes the forest of `nodes` nodes and checks that the section brine stored holds the
    /// exact bytes `rkyv::to_bytes` makes of it.
    fn write(nodes: usize) -> ModelFile {
        let label = forest::label(nodes);
        let start = Instant::now();
        let value = forest::forest(nodes);
        let generated = start.elapsed();
        let path = dir().join(format!("model-{label}.brine"));
        let mut w = Writer::create(&path).unwrap();
        w.put_model(ENTRY, &value).unwrap();
        w.finish().unwrap();
        let rkyv_bytes = rkyv::to_bytes::<rancor::Error>(&value).unwrap();
        let expected = forest::walk(&value);
        drop(value);

        // rkyv puts the root at the end of the archive: the section ends where the root does.
        let r = Reader::open(&path).unwrap();
        let len = r.model_entry(ENTRY).unwrap().archive_len() as usize;
        let root = r.model::<Forest>(ENTRY).unwrap() as *const ArchivedForest as usize;
        let end = root + size_of::<ArchivedForest>() - r.mapped_range().start;
        let file = ModelFile {
            path,
            offset: end - len,
            len,
            expected,
        };
        assert_eq!(
            file.map().get(file.offset..end),
            Some(&rkyv_bytes[..]),
            "brine stores the bytes of rkyv::to_bytes"
        );
        eprintln!(
            "model-{label}: archive {:.1} MiB at offset {}, generated in {generated:.2?}, written in {:.2?}",
            len as f64 / (1024.0 * 1024.0),
            file.offset,
            start.elapsed() - generated
        );
        file
    }

    /// A fresh read-only mapping of the whole file.
    fn map(&self) -> Mmap {
        let file = File::open(&self.path).unwrap();
        // SAFETY: the bench's own file, written before and never modified while mapped.
        unsafe { Mmap::map(&file) }.unwrap()
    }

    /// The archive's bytes in a mapping of the file.
    fn archive<'m>(&self, map: &'m Mmap) -> &'m [u8] {
        &map[self.offset..self.offset + self.len]
    }
}

fn rkyv_access(bytes: &[u8]) -> &ArchivedForest {
    rkyv::access::<ArchivedForest, rancor::Error>(bytes).unwrap()
}

/// First (validated) access: brine against plain `rkyv::access` on the same bytes.
fn first_access(c: &mut Criterion) {
    for nodes in forest::sizes() {
        let label = forest::label(nodes);
        let file = ModelFile::write(nodes);
        let hot = file.map();
        assert_eq!(
            forest::walk_archived(rkyv_access(file.archive(&hot))),
            file.expected
        );
        let r = Reader::open(&file.path).unwrap();
        assert_eq!(
            forest::walk_archived(r.model::<Forest>(ENTRY).unwrap()),
            file.expected
        );
        drop(r);

        let mut group = c.benchmark_group(format!("model-{label}/first-access"));
        group.sample_size(if nodes > forest::NODES { 10 } else { 30 });
        group.measurement_time(Duration::from_secs(5));
        group.throughput(Throughput::Bytes(file.len as u64));
        group.bench_function("rkyv-access/hot-mapping", |b| {
            b.iter(|| black_box(rkyv_access(file.archive(&hot))).trees.len())
        });
        // The same validation with the error type brine validates with (it keeps the path
        // inside the archive for messages): the cost of that choice, apart from the rest.
        group.bench_function("rkyv-access-brine-error/hot-mapping", |b| {
            b.iter(|| {
                let f = rkyv::access::<ArchivedForest, brine::ArchiveError>(file.archive(&hot));
                black_box(f.unwrap()).trees.len()
            })
        });
        group.bench_function("rkyv-access/fresh-mapping", |b| {
            b.iter_batched_ref(
                || file.map(),
                |map| black_box(rkyv_access(file.archive(map))).trees.len(),
                BatchSize::PerIteration,
            )
        });
        group.bench_function("brine/first-access", |b| {
            b.iter_batched_ref(
                || Reader::open(&file.path).unwrap(),
                |r| black_box(r.model::<Forest>(ENTRY).unwrap()).trees.len(),
                BatchSize::PerIteration,
            )
        });
        group.bench_function("rkyv-access/map+access", |b| {
            b.iter(|| {
                let map = file.map();
                black_box(rkyv_access(file.archive(&map))).trees.len()
            })
        });
        group.bench_function("brine/open+first-access", |b| {
            b.iter(|| {
                let r = Reader::open(&file.path).unwrap();
                black_box(r.model::<Forest>(ENTRY).unwrap()).trees.len()
            })
        });
        group.finish();
    }
}

/// Later accesses on a reader that validated the model already: O(1), whatever the size.
fn later_access(c: &mut Criterion) {
    let mut group = c.benchmark_group("model/later-access");
    group.measurement_time(Duration::from_secs(3));
    let mut sizes = vec![10_000];
    sizes.extend(forest::sizes());
    for nodes in sizes {
        let label = forest::label(nodes);
        let file = ModelFile::write(nodes);
        let r = Reader::open(&file.path).unwrap();
        r.model::<Forest>(ENTRY).unwrap();
        group.bench_function(BenchmarkId::new("brine/model", &label), |b| {
            b.iter(|| {
                black_box(r.model::<Forest>(black_box(ENTRY)).unwrap())
                    .trees
                    .len()
            })
        });
        // The floor: no lookup, no check at all.
        let hot = file.map();
        group.bench_function(BenchmarkId::new("rkyv-access-unchecked", &label), |b| {
            b.iter(|| {
                // SAFETY: the archive passed `rkyv::access` in `ModelFile::write`'s checks and
                // the file does not change while mapped.
                let f = unsafe { rkyv::access_unchecked::<ArchivedForest>(file.archive(&hot)) };
                black_box(f).trees.len()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, first_access, later_access);

// `criterion_main!`, plus the removal of the generated files (hundreds of MB).
fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    if let Some(dir) = DIR.get() {
        std::fs::remove_dir_all(dir.path()).ok();
    }
}
