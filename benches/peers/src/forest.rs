//! The model of the model benchmarks (issue 4): a forest of binary trees, about a million
//! nodes of numbers with a few strings (feature names, tree names, and a category name on one
//! node in eight), from a seeded generator.
//!
//! Shared by `benches/models.rs` (root crate, included by path) and the peers crate.

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// The model entry's name in the benchmark files.
pub const ENTRY: &str = "forest";

/// Trees per forest; nodes are spread evenly over them.
pub const TREES: usize = 1000;

/// A gradient-boosted forest, as a model file would hold it.
#[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema, Debug, PartialEq)]
pub struct Forest {
    /// The model's name.
    pub name: String,
    /// One name per input feature.
    pub features: Vec<String>,
    /// Added to the sum of the trees' outputs.
    pub base_score: f64,
    /// The trees.
    pub trees: Vec<Tree>,
}

/// One tree: its nodes in breadth-first order, the root first.
#[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema, Debug, PartialEq)]
pub struct Tree {
    /// Position in the forest.
    pub id: u32,
    /// `tree-0042`.
    pub name: String,
    /// Shrinkage applied to the tree's output.
    pub weight: f32,
    /// Breadth-first nodes.
    pub nodes: Vec<Node>,
}

/// A split (or, with `left == right == u32::MAX`, a leaf).
#[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema, Debug, PartialEq)]
pub struct Node {
    /// Index of the left child in the tree's nodes.
    pub left: u32,
    /// Index of the right child.
    pub right: u32,
    /// Index of the feature tested.
    pub feature: u32,
    /// Go left when the feature is below this.
    pub threshold: f32,
    /// The node's output (used at leaves).
    pub value: f64,
    /// Training rows that reached the node.
    pub cover: u64,
    /// For a categorical split, the category that goes left.
    pub category: Option<String>,
}

/// Node count of the default model; `BRINE_BENCH_LARGE` adds ten times more.
pub const NODES: usize = 1_000_000;

/// A label for a node count: `10k-nodes`, `1M-nodes`.
pub fn label(nodes: usize) -> String {
    match nodes {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M-nodes", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k-nodes", n / 1_000),
        n => format!("{n}-nodes"),
    }
}

/// The node counts to measure: 1M, and 10M with `BRINE_BENCH_LARGE=1`.
pub fn sizes() -> Vec<usize> {
    let mut sizes = vec![NODES];
    if std::env::var_os("BRINE_BENCH_LARGE").is_some() {
        sizes.push(10 * NODES);
    }
    sizes
}

fn word(rng: &mut Xoshiro256PlusPlus, min: usize, max: usize) -> String {
    let len = rng.gen_range(min..=max);
    (0..len)
        .map(|_| char::from(rng.gen_range(b'a'..=b'z')))
        .collect()
}

/// A forest of [`TREES`] trees and `nodes` nodes in all (rounded down to a multiple of the
/// tree count), the same for the same `nodes`.
pub fn forest(nodes: usize) -> Forest {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
    let features: Vec<String> = (0..256).map(|_| word(&mut rng, 4, 16)).collect();
    let per_tree = nodes / TREES;
    let trees = (0..TREES)
        .map(|t| Tree {
            id: t as u32,
            name: format!("tree-{t:04}"),
            weight: rng.gen_range(0.01..0.3),
            nodes: (0..per_tree)
                .map(|i| {
                    let (left, right) = if 2 * i + 2 < per_tree {
                        ((2 * i + 1) as u32, (2 * i + 2) as u32)
                    } else {
                        (u32::MAX, u32::MAX)
                    };
                    Node {
                        left,
                        right,
                        feature: rng.gen_range(0..features.len() as u32),
                        threshold: rng.gen_range(-10.0..10.0),
                        value: rng.gen_range(-1.0..1.0),
                        cover: rng.gen_range(1..1_000_000),
                        category: (rng.gen_range(0..8) == 0).then(|| word(&mut rng, 3, 14)),
                    }
                })
                .collect(),
        })
        .collect();
    Forest {
        name: "bench-forest".into(),
        features,
        base_score: 0.5,
        trees,
    }
}

/// A checksum-like reduction over every node, to make sure a benchmark reads what it claims
/// to: the sum of the node values and the number of categories, from the archived forest.
pub fn walk_archived(f: &ArchivedForest) -> (f64, usize) {
    f.trees.iter().fold((0.0, 0), |acc, t| {
        t.nodes.iter().fold(acc, |(sum, cats), n| {
            (
                sum + n.value.to_native(),
                cats + usize::from(n.category.is_some()),
            )
        })
    })
}

/// As [`walk_archived`], on the owned forest.
pub fn walk(f: &Forest) -> (f64, usize) {
    f.trees.iter().fold((0.0, 0), |acc, t| {
        t.nodes.iter().fold(acc, |(sum, cats), n| {
            (sum + n.value, cats + usize::from(n.category.is_some()))
        })
    })
}
