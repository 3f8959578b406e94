//! Datasets (spec/DATASET.md): round trips, parallel against serial writing, partitions,
//! append, a writer that dies before publishing, hostile indexes and shards that disagree
//! with their index.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use brine::dataset::{Dataset, DatasetKind, DatasetOptions, DatasetWriter, INDEX_FILE, Opener};
use brine::frame::{Column, ColumnType, Frame, StatRange, TimeUnit};
use brine::{AlignedBuf, Dtype, Error, Reader, Writer};

const ORIGINS: [&str; 3] = ["JFK", "LAX", "SFO"];

/// A small flights-like frame: `origin` (utf8), `dest` (categorical), `delay` (f64 with
/// nulls and a NaN), `distance` (i64), `at` (timestamp).
fn flights(rows: usize, seed: i64) -> Frame {
    let delay: Vec<Option<f64>> = (0..rows)
        .map(|i| match i % 11 {
            3 => None,
            7 => Some(f64::NAN),
            k => Some((k as f64 - 4.0) * 2.5 + seed as f64),
        })
        .collect();
    Frame::builder()
        .column("origin", Column::strings((0..rows).map(|i| ORIGINS[i % 3])))
        .column(
            "dest",
            Column::categorical((0..rows).map(|i| Some(["BOS", "ORD"][(i / 2) % 2]))),
        )
        .column("delay", Column::from_options(delay))
        .column(
            "distance",
            Column::new(
                (0..rows as i64)
                    .map(|i| 100 + i * 7 + seed)
                    .collect::<Vec<_>>(),
            ),
        )
        .column(
            "at",
            Column::timestamps(
                (0..rows as i64).map(|i| 1_700_000_000 + i).collect(),
                TimeUnit::Second,
                Some("UTC"),
            ),
        )
        .build()
        .unwrap()
}

/// Every value of column `name`, over every shard in order, as strings (for comparisons).
fn column_values(ds: &Dataset, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..ds.shards().len() {
        let r = ds.open_shard(i).unwrap();
        let f = r.frame("data").unwrap();
        let c = f.column(name).unwrap();
        match c.ty() {
            ColumnType::Utf8 => out.extend(c.strings().unwrap().iter().map(|s| format!("{s:?}"))),
            ColumnType::Categorical { .. } => {
                out.extend(c.categorical().unwrap().iter().map(|s| format!("{s:?}")))
            }
            ColumnType::Primitive(Dtype::F64) => out.extend(
                c.primitive::<f64>()
                    .unwrap()
                    .iter()
                    .map(|v| format!("{v:?}")),
            ),
            ColumnType::Primitive(Dtype::I64) | ColumnType::Timestamp { .. } => out.extend(
                c.primitive::<i64>()
                    .unwrap()
                    .iter()
                    .map(|v| format!("{v:?}")),
            ),
            other => panic!("{other}"),
        }
    }
    out
}

fn frame_values(frame: &Frame, name: &str) -> Vec<String> {
    // Written to a single file and read back, so that both sides go through the same views.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one.brine");
    let mut w = Writer::create(&path).unwrap();
    w.put_frame("data", frame).unwrap();
    w.finish().unwrap();
    let ds_dir = dir.path().join("ds");
    let mut w = DatasetWriter::create(&ds_dir, DatasetOptions::new()).unwrap();
    w.write_frame(frame).unwrap();
    w.finish().unwrap();
    column_values(&Dataset::open(&ds_dir).unwrap(), name)
}

fn shard_bytes(ds: &Dataset) -> Vec<Vec<u8>> {
    ds.shards()
        .iter()
        .map(|s| std::fs::read(ds.root().join(s.path())).unwrap())
        .collect()
}

#[test]
fn a_frame_cut_into_shards_reads_back_row_for_row() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("flights");
    let frame = flights(1000, 0);
    let mut w = DatasetWriter::create(&root, DatasetOptions::new().max_rows(300)).unwrap();
    w.write_frame(&frame).unwrap();
    assert_eq!(w.finish().unwrap(), 1);
    let ds = Dataset::open(&root).unwrap();
    assert_eq!(ds.version(), 1);
    assert_eq!(ds.kind(), DatasetKind::Frame);
    assert_eq!(ds.rows(), 1000);
    let rows: Vec<u64> = ds.shards().iter().map(|s| s.rows()).collect();
    assert_eq!(rows, [300, 300, 300, 100]);
    let names: Vec<&str> = ds.schema().iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["origin", "dest", "delay", "distance", "at"]);
    for name in names {
        assert_eq!(
            column_values(&ds, name),
            frame_values(&frame, name),
            "{name}"
        );
    }
    // Index statistics are the shards' own, checked ones.
    for (i, s) in ds.shards().iter().enumerate() {
        assert_eq!(
            s.bytes(),
            std::fs::metadata(root.join(s.path())).unwrap().len()
        );
        for f in ds.schema() {
            let stored = s.column_stats(&f.name).unwrap();
            assert_eq!(ds.checked_column_stats(i, &f.name).unwrap(), stored);
        }
    }
    let d = ds.shards()[0].column_stats("distance").unwrap();
    assert_eq!(d.range, Some(StatRange::Int(100, 100 + 299 * 7)));
    assert!(ds.shards()[0].column_stats("nope").is_none());
    ds.verify().unwrap();
    assert!(ds.is_verified());
}

#[test]
fn parallel_writing_gives_the_files_serial_writing_gives() {
    let dir = tempfile::tempdir().unwrap();
    let frame = flights(5000, 3);
    let mut all = Vec::new();
    for serial in [false, true] {
        let root = dir.path().join(format!("s{serial}"));
        let o = DatasetOptions::new().max_rows(700).serial(serial);
        let mut w = DatasetWriter::create(&root, o).unwrap();
        w.write_frame(&frame).unwrap();
        w.finish().unwrap();
        let ds = Dataset::open(&root).unwrap();
        let rows: Vec<u64> = ds.shards().iter().map(|s| s.rows()).collect();
        all.push((rows, shard_bytes(&ds)));
    }
    assert_eq!(all[0].0.len(), 8);
    assert_eq!(all[0], all[1]);
}

#[test]
fn max_bytes_bounds_the_shards() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ds");
    let frame = Frame::builder()
        .column("x", Column::new((0..10_000i64).collect::<Vec<_>>()))
        .build()
        .unwrap();
    let mut w = DatasetWriter::create(&root, DatasetOptions::new().max_bytes(8 * 1024)).unwrap();
    w.write_frame(&frame).unwrap();
    w.finish().unwrap();
    let ds = Dataset::open(&root).unwrap();
    assert!(
        ds.shards()
            .iter()
            .all(|s| s.rows() == 1024 || s.rows() == 10_000 % 1024)
    );
    assert_eq!(ds.rows(), 10_000);
}

#[test]
fn hive_partitions_hold_one_value_each() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ds");
    let frame = flights(900, 0);
    let o = DatasetOptions::new()
        .partition_by(["origin", "dest"])
        .max_rows(100);
    let mut w = DatasetWriter::create(&root, o).unwrap();
    w.write_frame(&frame).unwrap();
    w.finish().unwrap();
    let ds = Dataset::open(&root).unwrap();
    assert_eq!(ds.partition_by(), ["origin", "dest"]);
    let mut per_key: BTreeMap<Vec<(String, String)>, u64> = BTreeMap::new();
    for (i, s) in ds.shards().iter().enumerate() {
        let p = s.partition_values().to_vec();
        let folders: Vec<String> = p.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert!(
            s.path().starts_with(&(folders.join("/") + "/")),
            "{}",
            s.path()
        );
        let r = ds.open_shard(i).unwrap();
        let f = r.frame("data").unwrap();
        let origins = f.column("origin").unwrap().strings().unwrap();
        assert!(origins.iter().all(|o| o == Some(p[0].1.as_str())));
        *per_key.entry(p).or_default() += s.rows();
    }
    // 3 origins x 2 destinations, 150 rows each, in shards of at most 100.
    assert_eq!(per_key.len(), 6);
    assert!(per_key.values().all(|&n| n == 150));
    assert_eq!(ds.shards().len(), 12);
    ds.verify().unwrap();
}

#[test]
fn partition_values_are_escaped_into_one_path_component() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ds");
    let frame = Frame::builder()
        .column("k", Column::strings(["../up", "a/b", "é", ""]))
        .column("v", Column::new(vec![1i32, 2, 3, 4]))
        .build()
        .unwrap();
    let mut w = DatasetWriter::create(&root, DatasetOptions::new().partition_by(["k"])).unwrap();
    w.write_frame(&frame).unwrap();
    w.finish().unwrap();
    let ds = Dataset::open(&root).unwrap();
    let mut values: Vec<&str> = ds
        .shards()
        .iter()
        .map(|s| s.partition_values()[0].1.as_str())
        .collect();
    values.sort();
    assert_eq!(values, ["", "../up", "a/b", "é"]);
    for s in ds.shards() {
        assert_eq!(s.path().matches('/').count(), 1, "{}", s.path());
        assert!(root.join(s.path()).starts_with(&root));
    }
    ds.verify().unwrap();
}

#[test]
fn append_adds_shards_and_leaves_the_old_ones_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ds");
    let mut w = DatasetWriter::create(&root, DatasetOptions::new().max_rows(400)).unwrap();
    w.write_frame(&flights(1000, 0)).unwrap();
    w.finish().unwrap();
    let v1 = Dataset::open(&root).unwrap();
    let old: Vec<(String, Vec<u8>)> = v1
        .shards()
        .iter()
        .map(|s| s.path().to_owned())
        .zip(shard_bytes(&v1))
        .collect();
    let mut w = DatasetWriter::append(&root, DatasetOptions::new().max_rows(400)).unwrap();
    assert_eq!(w.version(), 2);
    w.write_frame(&flights(500, 9)).unwrap();
    // Another schema is refused.
    let other = Frame::builder()
        .column("x", Column::new(vec![1i64]))
        .build()
        .unwrap();
    assert!(matches!(
        w.write_frame(&other),
        Err(Error::InvalidInput { .. })
    ));
    assert_eq!(w.finish().unwrap(), 2);
    let v2 = Dataset::open(&root).unwrap();
    assert_eq!((v2.version(), v2.rows(), v2.shards().len()), (2, 1500, 5));
    for (k, (path, bytes)) in old.iter().enumerate() {
        assert_eq!(v2.shards()[k].path(), path);
        assert_eq!(&std::fs::read(root.join(path)).unwrap(), bytes, "{path}");
    }
    // The reader of version 1 still reads its shards.
    assert_eq!(column_values(&v1, "distance").len(), 1000);
    v2.verify().unwrap();
}

#[test]
fn a_writer_that_dies_before_publishing_changes_nothing_and_its_shards_are_removed_later() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ds");
    let mut w = DatasetWriter::create(&root, DatasetOptions::new()).unwrap();
    w.write_frame(&flights(100, 0)).unwrap();
    w.finish().unwrap();
    let index_before = std::fs::read(root.join(INDEX_FILE)).unwrap();
    let count = || {
        std::fs::read_dir(&root)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with("part-")
            })
            .count()
    };
    assert_eq!(count(), 1);
    {
        // Shards written, never published: a crash before the index is renamed.
        let mut w = DatasetWriter::append(&root, DatasetOptions::new().max_rows(10)).unwrap();
        w.write_frame(&flights(100, 1)).unwrap();
        drop(w);
    }
    assert_eq!(count(), 11);
    assert_eq!(std::fs::read(root.join(INDEX_FILE)).unwrap(), index_before);
    let ds = Dataset::open(&root).unwrap();
    assert_eq!((ds.version(), ds.rows()), (1, 100));
    ds.verify().unwrap();
    // A file that merely looks like a shard's neighbour is never removed.
    std::fs::write(root.join("notes.txt"), b"mine").unwrap();
    // The next writer publishes, then removes the orphans (not the published shards).
    let mut w = DatasetWriter::append(&root, DatasetOptions::new()).unwrap();
    w.write_frame(&flights(5, 2)).unwrap();
    w.finish().unwrap();
    assert_eq!(count(), 2);
    assert!(root.join("notes.txt").exists());
    let ds = Dataset::open(&root).unwrap();
    assert_eq!((ds.version(), ds.rows()), (2, 105));
    // Replacing the dataset removes every shard of the old version after publishing.
    let mut w = DatasetWriter::create(&root, DatasetOptions::new()).unwrap();
    w.write_frame(&flights(7, 3)).unwrap();
    assert_eq!(w.finish().unwrap(), 3);
    assert_eq!(count(), 1);
    assert_eq!(Dataset::open(&root).unwrap().rows(), 7);
}

#[cfg(target_os = "linux")]
#[test]
fn one_writer_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ds");
    let w = DatasetWriter::create(&root, DatasetOptions::new()).unwrap();
    assert!(matches!(
        DatasetWriter::create(&root, DatasetOptions::new()),
        Err(Error::InvalidInput { .. })
    ));
    drop(w);
    DatasetWriter::create(&root, DatasetOptions::new()).unwrap();
}

/// An opener serving files from memory, as a remote reader would.
fn memory_opener(files: BTreeMap<String, Vec<u8>>) -> Opener {
    let files = Arc::new(files);
    Arc::new(move |rel: &str| {
        let bytes = files.get(rel).ok_or_else(|| Error::NotFound {
            file: rel.into(),
            entry: String::new(),
        })?;
        Reader::from_buffer(rel, AlignedBuf::copy_from_slice(bytes))
    })
}

fn small_dataset(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let o = DatasetOptions::new().partition_by(["origin"]).max_rows(20);
    let mut w = DatasetWriter::create(root, o).unwrap();
    w.write_frame(&flights(60, 0)).unwrap();
    w.finish().unwrap();
    let ds = Dataset::open(root).unwrap();
    let mut files: BTreeMap<String, Vec<u8>> = ds
        .shards()
        .iter()
        .map(|s| {
            (
                s.path().to_owned(),
                std::fs::read(root.join(s.path())).unwrap(),
            )
        })
        .collect();
    files.insert(
        INDEX_FILE.into(),
        std::fs::read(root.join(INDEX_FILE)).unwrap(),
    );
    files
}

#[test]
fn a_remote_opener_reads_the_same_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let files = small_dataset(dir.path());
    let ds = Dataset::open_with("mem://ds", memory_opener(files)).unwrap();
    assert_eq!(ds.rows(), 60);
    assert_eq!(
        column_values(&ds, "distance"),
        column_values(&Dataset::open(dir.path()).unwrap(), "distance")
    );
    ds.verify().unwrap();
}

/// Every truncation and every flipped byte of the index gives an error or a dataset that
/// reads (a flip in padding, or in a value such as a row count that a shard then contradicts),
/// never a panic.
#[test]
fn a_hostile_index_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let files = small_dataset(dir.path());
    let index = files[INDEX_FILE].clone();
    let try_index = |bytes: Vec<u8>| {
        let mut f = files.clone();
        f.insert(INDEX_FILE.into(), bytes);
        let result = std::panic::catch_unwind(|| {
            if let Ok(ds) = Dataset::open_with("mem://ds", memory_opener(f)) {
                for i in 0..ds.shards().len() {
                    if let Ok(r) = ds.open_shard(i) {
                        let _ = r
                            .frame("data")
                            .map(|f| f.iter().filter(|c| c.checked_stats().is_ok()).count());
                    }
                }
                let _ = ds.verify();
            }
        });
        assert!(result.is_ok(), "panicked");
    };
    for len in 0..index.len() {
        let mut b = index.clone();
        b.truncate(len);
        let f = {
            let mut f = files.clone();
            f.insert(INDEX_FILE.into(), b.clone());
            f
        };
        assert!(
            Dataset::open_with("mem://ds", memory_opener(f)).is_err(),
            "truncated to {len}"
        );
        try_index(b);
    }
    let mut opened = 0;
    for at in 0..index.len() {
        let mut b = index.clone();
        b[at] ^= 0x5A;
        let mut f = files.clone();
        f.insert(INDEX_FILE.into(), b.clone());
        opened += usize::from(Dataset::open_with("mem://ds", memory_opener(f)).is_ok());
        try_index(b);
    }
    // Checksums catch flips in the manifest and in the sections that are read.
    assert!(
        opened < index.len() / 4,
        "{opened} of {} flips opened",
        index.len()
    );
}

#[test]
fn a_shard_that_disagrees_with_the_index_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ds");
    let mut w = DatasetWriter::create(&root, DatasetOptions::new().max_rows(50)).unwrap();
    w.write_frame(&flights(100, 0)).unwrap();
    w.finish().unwrap();
    let ds = Dataset::open(&root).unwrap();
    let victim = ds.shards()[1].path().to_owned();
    let expect = |ds: &Dataset, field: &str| match ds.open_shard(1) {
        Err(Error::InvalidDataset {
            shard, field: f, ..
        }) => {
            assert_eq!(shard.as_deref(), Some(victim.as_str()));
            assert_eq!(f, field);
        }
        other => panic!("{other:?}"),
    };
    let put = |frame: &Frame| {
        let mut w = Writer::create(root.join(&victim)).unwrap();
        w.put_frame("data", frame).unwrap();
        w.finish().unwrap();
    };
    // Fewer rows.
    put(&flights(49, 0));
    expect(&Dataset::open(&root).unwrap(), "rows");
    // Another schema.
    put(&Frame::builder()
        .column("x", Column::new(vec![1i64; 50]))
        .build()
        .unwrap());
    expect(&Dataset::open(&root).unwrap(), "schema");
    // The same rows and schema, other values: the statistics differ from the index's.
    put(&flights(50, 5));
    expect(&Dataset::open(&root).unwrap(), "stats");
    // The other shard still reads.
    Dataset::open(&root).unwrap().open_shard(0).unwrap();
    // A shard that is gone.
    std::fs::remove_file(root.join(&victim)).unwrap();
    assert!(matches!(
        Dataset::open(&root).unwrap().open_shard(1),
        Err(Error::Io { .. })
    ));
}

#[test]
fn an_arrays_dataset_lists_each_array_and_its_shard() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ckpt");
    let mut w = DatasetWriter::create(&root, DatasetOptions::new()).unwrap();
    w.write_array_shard(|w| {
        w.put_array("layer0.weight", &[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
        w.put_array("layer0.bias", &[0.5f32, 0.25], &[2])
    })
    .unwrap();
    w.write_array_shard(|w| w.put_array("head", &[7i64; 6], &[3, 2]))
        .unwrap();
    assert!(matches!(
        w.write_frame(&flights(1, 0)),
        Err(Error::InvalidInput { .. })
    ));
    w.finish().unwrap();
    let ds = Dataset::open(&root).unwrap();
    assert_eq!(ds.kind(), DatasetKind::Arrays);
    let names: Vec<&str> = ds.arrays().iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["head", "layer0.bias", "layer0.weight"]);
    let head = ds.array("head").unwrap();
    assert_eq!(
        (head.shard, head.dtype, head.shape.as_slice()),
        (1, Dtype::I64, &[3u64, 2][..])
    );
    let r = ds.open_shard(head.shard).unwrap();
    assert_eq!(r.array::<i64>("head").unwrap().as_slice(), &[7; 6]);
    ds.verify().unwrap();
    // A second shard with a name already used is refused at publish.
    let mut w = DatasetWriter::append(&root, DatasetOptions::new()).unwrap();
    w.write_array_shard(|w| w.put_array("head", &[1u8], &[1]))
        .unwrap();
    assert!(matches!(w.finish(), Err(Error::Duplicate { .. })));
    assert_eq!(Dataset::open(&root).unwrap().version(), 1);
}

#[test]
fn a_folder_without_an_index_is_not_a_dataset() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(Dataset::open(dir.path()), Err(Error::Io { .. })));
    // A brine file that is not an index.
    let mut w = Writer::create(dir.path().join(INDEX_FILE)).unwrap();
    w.put_array("x", &[1u8], &[1]).unwrap();
    w.finish().unwrap();
    assert!(matches!(
        Dataset::open(dir.path()),
        Err(Error::InvalidDataset {
            field: "brine.dataset",
            ..
        })
    ));
}
