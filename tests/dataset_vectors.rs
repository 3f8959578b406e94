//! Golden datasets: `spec/vectors/datasets/<name>/` (a dataset folder) and `<name>.json`
//! (what a reader must find in it), and invalid datasets in `spec/vectors/datasets/invalid/`,
//! each breaking one rule of spec/DATASET.md (see spec/vectors/datasets/README.md).
//!
//! Shard names hold a random id, so a dataset is not rebuilt byte for byte: the committed
//! folders are read and compared with their JSON. `BRINE_BLESS_VECTORS=1 cargo test --test
//! dataset_vectors` rewrites them (a changed golden dataset is a format change).

use std::path::{Path, PathBuf};

use brine::dataset::{Dataset, DatasetOptions, DatasetWriter, IndexParts, write_index_unchecked};
use brine::frame::{Column, ColumnType, Frame, StatRange, TimeUnit};
use brine::{Dtype, Error};
use serde_json::{Value, json};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("spec/vectors/datasets")
}

fn blessing() -> bool {
    std::env::var("BRINE_BLESS_VECTORS").is_ok_and(|v| v == "1")
}

fn flights() -> Frame {
    let origin = [
        "JFK", "SFO", "JFK", "JFK", "SFO", "JFK", "SFO", "SFO", "JFK", "JFK", "SFO", "JFK",
    ];
    let delay = [
        Some(-3.5),
        None,
        Some(12.0),
        Some(f64::NAN),
        Some(0.0),
        Some(41.25),
        Some(-0.5),
        None,
        Some(7.0),
        Some(2.5),
        Some(f64::NAN),
        Some(-12.0),
    ];
    Frame::builder()
        .column("origin", Column::strings(origin))
        .column(
            "dest",
            Column::categorical((0..12).map(|i| Some(["BOS", "ORD", "SEA"][i % 3]))),
        )
        .column("dep_delay", Column::from_options(delay))
        .column(
            "distance",
            Column::new(vec![
                187i64, 2704, 187, 740, 2704, 1391, 679, 1846, 187, 740, 2704, 1391,
            ]),
        )
        .column(
            "at",
            Column::timestamps(
                (0..12).map(|i| 1_700_000_000_000 + i * 3_600_000).collect(),
                TimeUnit::Millisecond,
                Some("UTC"),
            ),
        )
        .build()
        .unwrap()
}

fn range_json(r: Option<StatRange>) -> Value {
    match r {
        None => Value::Null,
        Some(StatRange::Int(a, b)) => json!([a.to_string(), b.to_string()]),
        Some(StatRange::UInt(a, b)) => json!([a.to_string(), b.to_string()]),
        Some(StatRange::Float(a, b)) => json!([format!("{a:?}"), format!("{b:?}")]),
    }
}

/// What a reader finds in a dataset, as JSON.
fn describe(ds: &Dataset) -> Value {
    let schema: Vec<Value> = ds
        .schema()
        .iter()
        .map(|f| json!({"name": f.name, "type": f.ty.to_string()}))
        .collect();
    let shards: Vec<Value> = ds
        .shards()
        .iter()
        .map(|s| {
            let stats: serde_json::Map<String, Value> = ds
                .schema()
                .iter()
                .map(|f| {
                    let st = s.column_stats(&f.name).unwrap();
                    (f.name.clone(), json!({"null_count": st.null_count, "range": range_json(st.range)}))
                })
                .collect();
            json!({
                "path": s.path(),
                "rows": s.rows(),
                "bytes": s.bytes(),
                "partition": s.partition_values().iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
                "stats": stats,
            })
        })
        .collect();
    let mut columns = serde_json::Map::new();
    for f in ds.schema() {
        let mut values = Vec::new();
        for i in 0..ds.shards().len() {
            let r = ds.open_shard(i).unwrap();
            let c = r.frame("data").unwrap().column(&f.name).unwrap();
            match c.ty() {
                ColumnType::Utf8 => values.extend(c.strings().unwrap().iter().map(|v| json!(v))),
                ColumnType::Categorical { .. } => {
                    values.extend(c.categorical().unwrap().iter().map(|v| json!(v)))
                }
                ColumnType::Primitive(Dtype::F64) => values.extend(
                    c.primitive::<f64>()
                        .unwrap()
                        .iter()
                        .map(|v| json!(v.map(|x| format!("{x:?}")))),
                ),
                _ => values.extend(
                    c.primitive::<i64>()
                        .unwrap()
                        .iter()
                        .map(|v| json!(v.map(|x| x.to_string()))),
                ),
            }
        }
        columns.insert(f.name.clone(), Value::Array(values));
    }
    json!({
        "version": ds.version(),
        "kind": ds.kind().name(),
        "rows": ds.rows(),
        "schema": schema,
        "partition_by": ds.partition_by(),
        "shards": shards,
        "columns": columns,
    })
}

/// An invalid dataset: the valid one with its index (or a shard) changed.
struct Case {
    name: &'static str,
    rule: &'static str,
    description: &'static str,
    /// `open` (Dataset::open fails), `shard` (opening shard `shard` fails), `verify`.
    stage: &'static str,
    shard: Option<usize>,
    field: &'static str,
    edit: fn(&Path, &mut IndexParts),
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "X4-path-parent",
            rule: "X4",
            description: "shard 0's path starts with ../ (outside the dataset)",
            stage: "open",
            shard: None,
            field: "path",
            edit: |_, p| p.shards[0].path_mut().insert_str(0, "../"),
        },
        Case {
            name: "X4-path-absolute",
            rule: "X4",
            description: "shard 0's path starts with / (an absolute path)",
            stage: "open",
            shard: None,
            field: "path",
            edit: |_, p| p.shards[0].path_mut().insert(0, '/'),
        },
        Case {
            name: "X5-path-twice",
            rule: "X5",
            description: "shard 1 has shard 0's path",
            stage: "open",
            shard: None,
            field: "path",
            edit: |_, p| {
                let first = p.shards[0].path().to_owned();
                *p.shards[1].path_mut() = first;
            },
        },
        Case {
            name: "X6-partition-folder",
            rule: "X6",
            description: "shard 0's partition value is LGA, but its folder is origin=JFK",
            stage: "open",
            shard: None,
            field: "path",
            edit: |_, p| p.shards[0].partition_mut()[0].1 = "LGA".into(),
        },
        Case {
            name: "X7-min-above-max",
            rule: "X7",
            description: "shard 0's min of distance is above its max",
            stage: "open",
            shard: None,
            field: "stats",
            edit: |_, p| p.shards[0].stats_mut()[3].range = Some(StatRange::Int(5000, 187)),
        },
        Case {
            name: "Y4-rows",
            rule: "Y4",
            description: "the index gives shard 1 one row more than its file has",
            stage: "shard",
            shard: Some(1),
            field: "rows",
            edit: |_, p| *p.shards[1].rows_mut() += 1,
        },
        Case {
            name: "Y5-lying-min",
            rule: "Y5",
            description: "the index's min of distance for shard 0 is 1 below the shard's own (a pruner trusting it would read a shard it could skip; one lower than the truth would skip rows)",
            stage: "shard",
            shard: Some(0),
            field: "stats",
            edit: |_, p| {
                if let Some(StatRange::Int(lo, hi)) = p.shards[0].stats_mut()[3].range {
                    p.shards[0].stats_mut()[3].range = Some(StatRange::Int(lo - 1, hi));
                }
            },
        },
        Case {
            name: "Y7-partition-value",
            rule: "Y7",
            description: "shard 0 moved to origin=LGA/ and its index row says LGA, but its rows' origin is JFK",
            stage: "verify",
            shard: None,
            field: "partition",
            edit: |root, p| {
                let old = p.shards[0].path().to_owned();
                let new = old.replacen("origin=JFK", "origin=LGA", 1);
                std::fs::create_dir_all(root.join(&new).parent().unwrap()).unwrap();
                std::fs::rename(root.join(&old), root.join(&new)).unwrap();
                *p.shards[0].path_mut() = new;
                p.shards[0].partition_mut()[0].1 = "LGA".into();
            },
        },
    ]
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else if e.file_name() != "_brine_lock" {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

fn bless() {
    let valid = dir().join("flights-small");
    let _ = std::fs::remove_dir_all(&valid);
    let o = DatasetOptions::new().partition_by(["origin"]).max_rows(4);
    let mut w = DatasetWriter::create(&valid, o).unwrap();
    w.write_frame(&flights()).unwrap();
    w.finish().unwrap();
    std::fs::remove_file(valid.join("_brine_lock")).unwrap();
    let ds = Dataset::open(&valid).unwrap();
    let mut text = serde_json::to_string_pretty(&describe(&ds)).unwrap();
    text.push('\n');
    std::fs::write(dir().join("flights-small.json"), text).unwrap();
    let invalid = dir().join("invalid");
    let _ = std::fs::remove_dir_all(&invalid);
    for c in cases() {
        let root = invalid.join(c.name);
        copy_dir(&valid, &root);
        let mut parts = ds.index_parts();
        (c.edit)(&root, &mut parts);
        write_index_unchecked(&root, &parts).unwrap();
        let mut spec = json!({
            "vector": c.name, "rule": c.rule, "derived_from": "flights-small",
            "description": c.description, "stage": c.stage, "error": "InvalidDataset",
            "field": c.field,
        });
        if let Some(s) = c.shard {
            spec["shard"] = json!(s);
        }
        let mut text = serde_json::to_string_pretty(&spec).unwrap();
        text.push('\n');
        std::fs::write(invalid.join(format!("{}.json", c.name)), text).unwrap();
    }
}

#[test]
fn golden_datasets() {
    if blessing() {
        bless();
    }
    let ds = Dataset::open(dir().join("flights-small")).unwrap();
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(dir().join("flights-small.json")).unwrap())
            .unwrap();
    assert_eq!(
        describe(&ds),
        expected,
        "flights-small reads otherwise than its JSON says"
    );
    ds.verify().unwrap();
    // Its shards are what the writer makes of the same frame.
    assert_eq!(ds.rows(), 12);
    assert_eq!(ds.shards().len(), 4);

    let mut seen = Vec::new();
    for c in cases() {
        let root = dir().join("invalid").join(c.name);
        let spec: Value = serde_json::from_str(
            &std::fs::read_to_string(dir().join("invalid").join(format!("{}.json", c.name)))
                .unwrap(),
        )
        .unwrap();
        assert_eq!(spec["rule"], c.rule);
        assert_eq!(spec["stage"], c.stage);
        let result: brine::Result<()> = match c.stage {
            "open" => Dataset::open(&root).map(drop),
            "shard" => {
                let ds = Dataset::open(&root).unwrap_or_else(|e| panic!("{}: {e}", c.name));
                // The other shards open.
                for i in (0..ds.shards().len()).filter(|&i| Some(i) != c.shard) {
                    ds.open_shard(i)
                        .unwrap_or_else(|e| panic!("{}: shard {i}: {e}", c.name));
                }
                ds.open_shard(c.shard.unwrap()).map(drop)
            }
            _ => {
                let ds = Dataset::open(&root).unwrap();
                for i in 0..ds.shards().len() {
                    ds.open_shard(i).unwrap();
                }
                ds.verify()
            }
        };
        match result {
            Err(Error::InvalidDataset { field, .. }) => assert_eq!(field, c.field, "{}", c.name),
            other => panic!("{}: {other:?}", c.name),
        }
        seen.push(format!("{}.json", c.name));
        seen.push(c.name.to_owned());
    }
    // invalid/ holds nothing else.
    let mut listed: Vec<String> = std::fs::read_dir(dir().join("invalid"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    listed.sort();
    seen.sort();
    assert_eq!(listed, seen);
}
