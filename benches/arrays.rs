//! Array benchmarks, each in one group with its baseline.
//!
//! `cargo bench --bench arrays` runs the default sizes (1 MiB and 64 MiB, minutes in all);
//! `BRINE_BENCH_LARGE=1` adds the 1 GiB cases. Data is generated, seeded, in a temporary folder.

use std::fs::File;
use std::hint::black_box;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use brine::{Codec, EntryOptions, Reader, Writer};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use memmap2::Mmap;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

const MIB: usize = 1024 * 1024;

fn sizes() -> Vec<(usize, &'static str)> {
    let mut sizes = vec![(MIB, "1MiB"), (64 * MIB, "64MiB")];
    if std::env::var_os("BRINE_BENCH_LARGE").is_some() {
        sizes.push((1024 * MIB, "1GiB"));
    }
    sizes
}

fn random_walk(n: usize) -> Vec<f32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(42);
    let mut level = 0.0f32;
    (0..n)
        .map(|_| {
            level += rng.gen_range(-0.5f32..0.5);
            level
        })
        .collect()
}

/// The folder of the generated files, removed at the end of `main` (a static is never
/// dropped).
static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();

fn dir() -> &'static Path {
    DIR.get_or_init(|| tempfile::tempdir().expect("temp dir"))
        .path()
}

fn write_brine(path: &Path, name: &str, data: &[f32], codec: Codec) {
    let mut w = Writer::create(path).unwrap();
    w.put_array_with(name, data, &[data.len()], &EntryOptions::new().codec(codec))
        .unwrap();
    w.finish().unwrap();
}

fn write_safetensors(path: &Path, tensors: &[(String, &[f32])]) {
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = tensors
        .iter()
        .map(|(name, data)| {
            let view = safetensors::tensor::TensorView::new(
                safetensors::Dtype::F32,
                vec![data.len()],
                bytemuck::cast_slice(data),
            )
            .unwrap();
            (name.clone(), view)
        })
        .collect();
    safetensors::serialize_to_file(views, None, path).unwrap();
}

/// Path to typed slice: open, validate, look up, view as `&[f32]`.
fn open(c: &mut Criterion) {
    let mut group = c.benchmark_group("open/validated");
    group.measurement_time(Duration::from_secs(3));
    for (bytes, label) in sizes() {
        let data = random_walk(bytes / 4);
        let raw = dir().join(format!("raw-{label}.bin"));
        File::create(&raw)
            .unwrap()
            .write_all(bytemuck::cast_slice(&data))
            .unwrap();
        let brine_path = dir().join(format!("open-{label}.brine"));
        write_brine(&brine_path, "x", &data, Codec::Raw);
        let st = dir().join(format!("open-{label}.safetensors"));
        write_safetensors(&st, &[("x".into(), &data)]);
        drop(data);

        group.throughput(Throughput::Bytes(bytes as u64));
        group.bench_function(BenchmarkId::new("raw-mmap", label), |b| {
            b.iter(|| {
                let file = File::open(&raw).unwrap();
                // SAFETY: the bench's own file, not modified while mapped.
                let map = unsafe { Mmap::map(&file) }.unwrap();
                let slice: &[f32] = bytemuck::cast_slice(&map);
                black_box(slice.as_ptr());
                black_box(slice.len());
            })
        });
        group.bench_function(BenchmarkId::new("brine", label), |b| {
            b.iter(|| {
                let r = Reader::open(&brine_path).unwrap();
                let v = r.array::<f32>("x").unwrap();
                black_box(v.as_slice().as_ptr());
                black_box(v.len());
            })
        });
        group.bench_function(BenchmarkId::new("safetensors", label), |b| {
            b.iter(|| {
                let file = File::open(&st).unwrap();
                // SAFETY: the bench's own file, not modified while mapped.
                let map = unsafe { Mmap::map(&file) }.unwrap();
                let t = safetensors::SafeTensors::deserialize(&map).unwrap();
                let x = t.tensor("x").unwrap();
                let slice: &[f32] = bytemuck::cast_slice(x.data());
                black_box(slice.as_ptr());
                black_box(slice.len());
            })
        });
    }
    group.finish();
}

/// Open plus one lookup in a file of 10,000 small arrays.
fn lookup(c: &mut Criterion) {
    let mut group = c.benchmark_group("lookup/10000-entries");
    let data: Vec<Vec<f32>> = (0..10_000)
        .map(|i| (0..16).map(|j| (i * 16 + j) as f32).collect())
        .collect();
    let names: Vec<String> = (0..10_000).map(|i| format!("layer{i:05}.weight")).collect();
    let brine_path = dir().join("many.brine");
    let mut w = Writer::create(&brine_path).unwrap();
    for (name, d) in names.iter().zip(&data) {
        w.put_array(name, d, &[16]).unwrap();
    }
    w.finish().unwrap();
    let st = dir().join("many.safetensors");
    let tensors: Vec<(String, &[f32])> = names
        .iter()
        .cloned()
        .zip(data.iter().map(|d| &d[..]))
        .collect();
    write_safetensors(&st, &tensors);
    let probe = "layer07777.weight";

    group.bench_function("brine", |b| {
        b.iter(|| {
            let r = Reader::open(&brine_path).unwrap();
            black_box(r.array::<f32>(probe).unwrap().as_slice()[3]);
        })
    });
    group.bench_function("safetensors", |b| {
        b.iter(|| {
            let file = File::open(&st).unwrap();
            // SAFETY: the bench's own file, not modified while mapped.
            let map = unsafe { Mmap::map(&file) }.unwrap();
            let t = safetensors::SafeTensors::deserialize(&map).unwrap();
            let x: &[f32] = bytemuck::cast_slice(t.tensor(probe).unwrap().data());
            black_box(x[3]);
        })
    });
    group.finish();
}

/// Writing 64 MiB durably (fsync included everywhere).
fn write(c: &mut Criterion) {
    let mut group = c.benchmark_group("write");
    group.sample_size(20);
    let data = random_walk(64 * MIB / 4);
    group.throughput(Throughput::Bytes((64 * MIB) as u64));
    let raw = dir().join("write.bin");
    group.bench_function(BenchmarkId::new("raw-write", "64MiB"), |b| {
        b.iter(|| {
            let mut f = File::create(&raw).unwrap();
            f.write_all(bytemuck::cast_slice(&data)).unwrap();
            f.sync_all().unwrap();
        })
    });
    // The same durability as brine's writer: temporary file, fsync, rename, fsync the folder.
    let atomic = dir().join("write-atomic.bin");
    group.bench_function(BenchmarkId::new("raw-atomic-replace", "64MiB"), |b| {
        b.iter(|| {
            let tmp = dir().join("write-atomic.tmp");
            let mut f = File::create(&tmp).unwrap();
            f.write_all(bytemuck::cast_slice(&data)).unwrap();
            f.sync_all().unwrap();
            std::fs::rename(&tmp, &atomic).unwrap();
            File::open(dir()).unwrap().sync_all().unwrap();
        })
    });
    let path = dir().join("write.brine");
    group.bench_function(BenchmarkId::new("brine", "64MiB"), |b| {
        b.iter(|| write_brine(&path, "x", &data, Codec::Raw))
    });
    group.finish();
}

/// zstd with and without shuffle on a float random walk, and one-element reads.
fn zstd(c: &mut Criterion) {
    let bytes = 64 * MIB;
    let data = random_walk(bytes / 4);
    let mut group = c.benchmark_group("zstd");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(bytes as u64));
    for (label, codec) in [
        ("zstd", Codec::zstd()),
        ("zstd-shuffle", Codec::zstd_shuffled()),
    ] {
        let path = dir().join(format!("{label}.brine"));
        // Written once outside the measurement too, so the file exists when a filter skips
        // the compression bench.
        write_brine(&path, "x", &data, codec);
        group.bench_function(
            BenchmarkId::new(format!("compress/{label}"), "64MiB"),
            |b| b.iter(|| write_brine(&path, "x", &data, codec)),
        );
        let r = Reader::open(&path).unwrap();
        let e = r.array_entry("x").unwrap();
        eprintln!(
            "zstd/{label}/64MiB: ratio {:.3} ({} -> {} bytes)",
            e.raw_len() as f64 / e.stored_len() as f64,
            e.raw_len(),
            e.stored_len()
        );
        group.bench_function(
            BenchmarkId::new(format!("decompress/{label}"), "64MiB"),
            |b| {
                b.iter(|| {
                    let r = Reader::open(&path).unwrap();
                    black_box(r.array::<f32>("x").unwrap().as_slice()[12345]);
                })
            },
        );
    }
    group.finish();

    let mut group = c.benchmark_group("read/zstd-shuffle/one-element");
    for (bytes, label) in sizes().into_iter().skip(1) {
        let data = random_walk(bytes / 4);
        let path = dir().join(format!("one-{label}.brine"));
        write_brine(&path, "x", &data, Codec::zstd_shuffled());
        drop(data);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        group.bench_function(label, |b| {
            b.iter(|| {
                // A fresh reader each time: open, then decompress the one chunk needed.
                let r = Reader::open(&path).unwrap();
                let i = rng.gen_range(0..bytes / 4);
                black_box(r.array_entry("x").unwrap().get::<f32>(i).unwrap());
            })
        });
    }
    group.finish();
}

criterion_group!(benches, open, lookup, write, zstd);

// `criterion_main!`, plus the removal of the generated files (up to several GB).
fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    if let Some(dir) = DIR.get() {
        std::fs::remove_dir_all(dir.path()).ok();
    }
}
