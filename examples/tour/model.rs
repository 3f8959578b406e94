//! A model: a random forest fitted on the iris data set (read from a brine frame imported from
//! the shipped CSV), saved as an rkyv archive, then opened in a fresh process that predicts from
//! the archived trees in place, without deserializing them.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use brine::frame::ColumnType;
use brine::frame::FrameView;
use brine::frame::csv::{self, CsvOptions};
use brine::model::ModelOptions;
use brine::{Reader, Writer};

/// The model as it is saved: plain Rust types deriving rkyv's traits and brine's `Schema`.
#[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema, Debug)]
pub struct Forest {
    pub features: Vec<String>,
    pub classes: Vec<String>,
    pub trees: Vec<Tree>,
}

#[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema, Debug)]
pub struct Tree {
    /// Node 0 is the root.
    pub nodes: Vec<Node>,
}

#[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema, Debug)]
pub enum Node {
    Split {
        feature: u16,
        threshold: f32,
        left: u32,
        right: u32,
    },
    Leaf {
        class: u16,
    },
}

/// The same model after a change: thresholds became `f64`. A file written by the old type
/// must be refused, not misread.
mod changed {
    #[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema, Debug)]
    pub struct Forest {
        pub features: Vec<String>,
        pub classes: Vec<String>,
        pub trees: Vec<Tree>,
    }

    #[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema, Debug)]
    pub struct Tree {
        pub nodes: Vec<Node>,
    }

    #[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema, Debug)]
    pub enum Node {
        Split {
            feature: u16,
            threshold: f64,
            left: u32,
            right: u32,
        },
        Leaf {
            class: u16,
        },
    }
}

const FEATURES: [&str; 4] = ["sepalLength", "sepalWidth", "petalLength", "petalWidth"];

/// Rows of the frame as feature vectors and class indices; every fifth row is held out.
struct Data {
    x: Vec<[f32; 4]>,
    y: Vec<u16>,
    classes: Vec<String>,
}

fn load(frame: &FrameView<'_>) -> brine::Result<(Data, Data)> {
    let columns = FEATURES
        .iter()
        .map(|f| frame.column(f)?.values::<f64>())
        .collect::<brine::Result<Vec<_>>>()?;
    let species = frame.column("species")?.categorical()?;
    let classes = species
        .dictionary
        .iter()
        .map(|s| s.unwrap_or_default().to_owned())
        .collect();
    let (mut train, mut test) = (
        Data {
            x: vec![],
            y: vec![],
            classes: Vec::new(),
        },
        Data {
            x: vec![],
            y: vec![],
            classes,
        },
    );
    for (row, &code) in species.codes.iter().enumerate() {
        let x = std::array::from_fn(|f| columns[f][row] as f32);
        let part = if row % 5 == 0 { &mut test } else { &mut train };
        part.x.push(x);
        part.y.push(code as u16);
    }
    train.classes = test.classes.clone();
    Ok((train, test))
}

/// xorshift64: a seeded, dependency-free random source.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn gini(counts: &[usize], total: usize) -> f64 {
    let total = total as f64;
    1.0 - counts
        .iter()
        .map(|&c| (c as f64 / total).powi(2))
        .sum::<f64>()
}

/// Grows a CART tree (Gini impurity) on the rows `idx`, trying two random features per split.
fn grow(data: &Data, idx: &mut [usize], depth: usize, rng: &mut Rng, nodes: &mut Vec<Node>) -> u32 {
    let k = data.classes.len();
    let mut counts = vec![0; k];
    idx.iter().for_each(|&i| counts[data.y[i] as usize] += 1);
    let majority = (0..k).max_by_key(|&c| counts[c]).unwrap_or(0) as u16;
    let here = nodes.len() as u32;
    nodes.push(Node::Leaf { class: majority });
    if depth == 0 || counts.iter().filter(|&&c| c > 0).count() < 2 {
        return here;
    }
    let mut best: Option<(f64, usize, f32)> = None;
    for _ in 0..2 {
        let f = rng.below(4);
        idx.sort_by(|&a, &b| data.x[a][f].total_cmp(&data.x[b][f]));
        let mut left = vec![0; k];
        for split in 1..idx.len() {
            left[data.y[idx[split - 1]] as usize] += 1;
            let (a, b) = (data.x[idx[split - 1]][f], data.x[idx[split]][f]);
            if a == b {
                continue;
            }
            let right: Vec<usize> = counts.iter().zip(&left).map(|(c, l)| c - l).collect();
            let n = idx.len();
            let score = gini(&left, split) * split as f64 / n as f64
                + gini(&right, n - split) * (n - split) as f64 / n as f64;
            if best.is_none_or(|(s, _, _)| score < s) {
                best = Some((score, f, (a + b) / 2.0));
            }
        }
    }
    let Some((_, feature, threshold)) = best else {
        return here;
    };
    idx.sort_by(|&a, &b| data.x[a][feature].total_cmp(&data.x[b][feature]));
    let mid = idx.partition_point(|&i| data.x[i][feature] <= threshold);
    let (l, r) = idx.split_at_mut(mid);
    let left = grow(data, l, depth - 1, rng, nodes);
    let right = grow(data, r, depth - 1, rng, nodes);
    nodes[here as usize] = Node::Split {
        feature: feature as u16,
        threshold,
        left,
        right,
    };
    here
}

fn fit(data: &Data, trees: usize) -> Forest {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let trees = (0..trees)
        .map(|_| {
            // A bootstrap sample of the training rows.
            let mut idx: Vec<usize> = (0..data.y.len()).map(|_| rng.below(data.y.len())).collect();
            let mut nodes = Vec::new();
            grow(data, &mut idx, 6, &mut rng, &mut nodes);
            Tree { nodes }
        })
        .collect();
    Forest {
        features: FEATURES.iter().map(|s| s.to_string()).collect(),
        classes: data.classes.clone(),
        trees,
    }
}

/// Majority vote of the archived trees: reads the archive in place.
fn predict_archived(forest: &ArchivedForest, x: &[f32; 4]) -> usize {
    let mut votes = vec![0u32; forest.classes.len()];
    for tree in forest.trees.iter() {
        let mut i = 0usize;
        loop {
            match &tree.nodes[i] {
                ArchivedNode::Leaf { class } => {
                    votes[class.to_native() as usize] += 1;
                    break;
                }
                ArchivedNode::Split {
                    feature,
                    threshold,
                    left,
                    right,
                } => {
                    let go_left = x[feature.to_native() as usize] <= threshold.to_native();
                    i = if go_left { left } else { right }.to_native() as usize;
                }
            }
        }
    }
    (0..votes.len()).max_by_key(|&c| votes[c]).unwrap_or(0)
}

pub fn run(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let iris = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/iris.csv");
    // The data set goes into the file as a frame; the model is fitted from the frame's columns.
    let mut w = Writer::create(path)?;
    csv::import(
        &mut w,
        "iris",
        &iris,
        &CsvOptions::new().column_type("species", ColumnType::Categorical { ordered: false }),
        &Default::default(),
    )?;
    w.finish()?;
    let r = Reader::open(path)?;
    let (train, _) = load(&r.frame("iris")?)?;
    let t = Instant::now();
    let forest = fit(&train, 50);
    let nodes: usize = forest.trees.iter().map(|t| t.nodes.len()).sum();
    println!(
        "fitted a forest of {} trees ({nodes} nodes) on {} rows in {:.2?}",
        forest.trees.len(),
        train.y.len(),
        t.elapsed()
    );
    drop(r);

    // Save the model beside the data it was fitted on.
    let mut w = Writer::create(path)?;
    csv::import(
        &mut w,
        "iris",
        &iris,
        &CsvOptions::new().column_type("species", ColumnType::Categorical { ordered: false }),
        &Default::default(),
    )?;
    w.put_model_with("forest", &forest, &ModelOptions::new().version(1))?;
    w.finish()?;
    println!("saved to {}", path.display());

    // Predict in a fresh process, as a service would after a restart.
    let status = Command::new(std::env::current_exe()?)
        .arg("predict")
        .arg(path)
        .status()?;
    if !status.success() {
        return Err(format!("the predicting process failed: {status}").into());
    }
    Ok(())
}

/// The fresh process: open, access the archived forest in place, predict the held-out rows.
pub fn predict(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let t = Instant::now();
    let r = Reader::open(path)?;
    let open_time = t.elapsed();
    let t = Instant::now();
    let forest = r.model::<Forest>("forest")?;
    let access_time = t.elapsed();
    let t = Instant::now();
    let again = r.model::<Forest>("forest")?;
    let again_time = t.elapsed();
    assert!(std::ptr::eq(forest, again));
    let (_, test) = load(&r.frame("iris")?)?;
    let t = Instant::now();
    let predictions: Vec<usize> = test.x.iter().map(|x| predict_archived(forest, x)).collect();
    let predict_time = t.elapsed();
    let correct = predictions
        .iter()
        .zip(&test.y)
        .filter(|(p, y)| **p == **y as usize)
        .count();
    println!(
        "[fresh process] opened in {open_time:.2?}; first access of the model (fingerprint + validation of {} bytes) {access_time:.2?}; later access {again_time:.2?}",
        r.model_entry("forest")?.archive_len()
    );
    println!(
        "[fresh process] predicted {} held-out rows in {predict_time:.2?} ({:.2?} per row): {correct}/{} correct",
        test.y.len(),
        predict_time / test.y.len().max(1) as u32,
        test.y.len()
    );
    println!(
        "[fresh process] first held-out flower: {:?} -> {}",
        test.x[0],
        forest.classes[predictions[0]].as_str()
    );
    match r.model::<changed::Forest>("forest") {
        Ok(_) => return Err("a changed type was accepted".into()),
        Err(e) => {
            let message = e.to_string();
            let first = message.lines().next().unwrap_or_default();
            println!("[fresh process] reading it as the changed type is refused:\n  {first}");
        }
    }
    Ok(())
}
