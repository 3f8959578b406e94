//! brine models against serde + bincode 2 (issue 4), in the same group and the same run.
//!
//! `cargo bench -p brine-bench-peers --bench models_vs_serde` measures a forest of about 1M
//! nodes (numbers and a few strings); `BRINE_BENCH_LARGE=1` adds one of 10M nodes. The serde
//! side is a mirror of the same types deriving `serde`, filled from the same generated forest
//! and encoded with `bincode::config::standard()`.
//!
//! Both are measured from a warm page cache to a usable model: brine validates the archive in
//! place (its first access) or deserializes it into owned types (`load_model`); bincode
//! decodes the file's bytes into owned types, from a mapping already faulted in (its most
//! favourable case: no read, no page faults).

use std::fs::File;
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use brine::Reader;
use brine_bench_peers::forest::{self, ENTRY, Forest, Node, Tree};
use criterion::{BatchSize, Criterion, Throughput, criterion_group};
use memmap2::Mmap;
use serde::{Deserialize, Serialize};

/// [`Forest`] for serde.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct SerdeForest {
    name: String,
    features: Vec<String>,
    base_score: f64,
    trees: Vec<SerdeTree>,
}

/// [`Tree`] for serde.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct SerdeTree {
    id: u32,
    name: String,
    weight: f32,
    nodes: Vec<SerdeNode>,
}

/// [`Node`] for serde.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct SerdeNode {
    left: u32,
    right: u32,
    feature: u32,
    threshold: f32,
    value: f64,
    cover: u64,
    category: Option<String>,
}

impl From<&Forest> for SerdeForest {
    fn from(f: &Forest) -> Self {
        let tree = |t: &Tree| SerdeTree {
            id: t.id,
            name: t.name.clone(),
            weight: t.weight,
            nodes: t
                .nodes
                .iter()
                .map(|n: &Node| SerdeNode {
                    left: n.left,
                    right: n.right,
                    feature: n.feature,
                    threshold: n.threshold,
                    value: n.value,
                    cover: n.cover,
                    category: n.category.clone(),
                })
                .collect(),
        };
        SerdeForest {
            name: f.name.clone(),
            features: f.features.clone(),
            base_score: f.base_score,
            trees: f.trees.iter().map(tree).collect(),
        }
    }
}

fn walk_serde(f: &SerdeForest) -> (f64, usize) {
    f.trees.iter().fold((0.0, 0), |acc, t| {
        t.nodes.iter().fold(acc, |(sum, cats), n| {
            (sum + n.value, cats + usize::from(n.category.is_some()))
        })
    })
}

/// The folder of the generated files. A static is never dropped, so `main` removes it.
static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();

fn dir() -> &'static Path {
    DIR.get_or_init(|| tempfile::tempdir().expect("temp dir"))
        .path()
}

fn map(path: &Path) -> Mmap {
    let file = File::open(path).unwrap();
    // SAFETY: the bench's own file, written before and never modified while mapped.
    unsafe { Mmap::map(&file) }.unwrap()
}

fn bincode_decode(bytes: &[u8]) -> SerdeForest {
    bincode::serde::decode_from_slice(bytes, bincode::config::standard())
        .unwrap()
        .0
}

fn to_usable(c: &mut Criterion) {
    for nodes in forest::sizes() {
        let label = forest::label(nodes);
        let value = forest::forest(nodes);
        let expected = forest::walk(&value);
        let brine_path = dir().join(format!("model-{label}.brine"));
        let mut w = brine::Writer::create(&brine_path).unwrap();
        w.put_model(ENTRY, &value).unwrap();
        w.finish().unwrap();
        let serde_value = SerdeForest::from(&value);
        drop(value);
        let bincode_path = dir().join(format!("model-{label}.bincode"));
        let encoded = bincode::serde::encode_to_vec(&serde_value, bincode::config::standard())
            .expect("bincode encodes the forest");
        std::fs::write(&bincode_path, &encoded).unwrap();
        drop(encoded);

        let r = Reader::open(&brine_path).unwrap();
        let archive_len = r.model_entry(ENTRY).unwrap().archive_len();
        assert_eq!(
            forest::walk_archived(r.model::<Forest>(ENTRY).unwrap()),
            expected
        );
        drop(r);
        let bincode_map = map(&bincode_path);
        let decoded = bincode_decode(&bincode_map);
        assert_eq!(walk_serde(&decoded), expected);
        assert!(decoded == serde_value, "bincode round trip");
        drop((decoded, serde_value));
        eprintln!(
            "model-{label}: rkyv archive {:.1} MiB, bincode {:.1} MiB",
            archive_len as f64 / (1024.0 * 1024.0),
            bincode_map.len() as f64 / (1024.0 * 1024.0)
        );

        let mut group = c.benchmark_group(format!("model-{label}/to-usable"));
        group.sample_size(10);
        group.measurement_time(Duration::from_secs(5));
        group.throughput(Throughput::Elements(nodes as u64));
        group.bench_function("brine/first-access", |b| {
            b.iter_batched_ref(
                || Reader::open(&brine_path).unwrap(),
                |r| black_box(r.model::<Forest>(ENTRY).unwrap()).trees.len(),
                BatchSize::PerIteration,
            )
        });
        group.bench_function("brine/open+first-access", |b| {
            b.iter(|| {
                let r = Reader::open(&brine_path).unwrap();
                black_box(r.model::<Forest>(ENTRY).unwrap()).trees.len()
            })
        });
        group.bench_function("brine/open+load_model", |b| {
            // The owned forest is dropped outside the measurement, as bincode's is.
            b.iter_with_large_drop(|| {
                let r = Reader::open(&brine_path).unwrap();
                r.load_model::<Forest>(ENTRY).unwrap()
            })
        });
        group.bench_function("bincode-serde/decode", |b| {
            b.iter_with_large_drop(|| bincode_decode(&bincode_map))
        });
        group.finish();
    }
}

criterion_group!(benches, to_usable);

// `criterion_main!`, plus the removal of the generated files (hundreds of MB).
fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    if let Some(dir) = DIR.get() {
        std::fs::remove_dir_all(dir.path()).ok();
    }
}
