//! Datasets (spec/DATASET.md) in the commands: `inspect` and `verify` of a dataset folder,
//! `export` of an array of an arrays dataset or of the frame of a frame dataset, and `import`
//! of a HuggingFace sharded safetensors checkpoint (`model.safetensors.index.json`) as an
//! arrays dataset.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use std::sync::Arc;

use brine::Reader;
use brine::dataset::{
    Dataset, DatasetKind, DatasetOptions, DatasetWriter, INDEX_FILE, SHARD_ENTRY,
};
use brine::frame::StatRange;
use serde_json::{Value, json};

use crate::error::{CliError, Result, data, io, usage};
use crate::import::Ctx;

/// Whether `path` is a dataset folder (a folder holding an index).
pub fn is_dataset(path: &Path) -> bool {
    path.is_dir() && path.join(INDEX_FILE).is_file()
}

/// Whether `path` names a HuggingFace sharded safetensors index.
pub fn is_safetensors_index(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with(".safetensors.index.json"))
}

fn range_json(r: Option<StatRange>) -> Value {
    match r {
        None => Value::Null,
        Some(StatRange::Int(a, b)) => json!([a, b]),
        Some(StatRange::UInt(a, b)) => json!([a, b]),
        Some(StatRange::Float(a, b)) => json!([a, b]),
    }
}

/// `brine inspect DATASET`: the index alone (no shard is opened).
pub fn inspect(path: &Path, as_json: bool) -> Result<()> {
    let ds = Dataset::open(path)?;
    if as_json {
        let shards: Vec<Value> = ds
            .shards()
            .iter()
            .map(|s| {
                let stats: serde_json::Map<String, Value> = ds
                    .schema()
                    .iter()
                    .filter_map(|f| {
                        let st = s.column_stats(&f.name)?;
                        Some((
                            f.name.clone(),
                            json!({"null_count": st.null_count, "range": range_json(st.range)}),
                        ))
                    })
                    .collect();
                json!({"path": s.path(), "rows": s.rows(), "bytes": s.bytes(),
                       "partition": s.partition_values(), "stats": stats})
            })
            .collect();
        let doc = json!({
            "brine_json": 1,
            "dataset": path.display().to_string(),
            "version": ds.version(),
            "kind": ds.kind().name(),
            "rows": ds.rows(),
            "schema": ds.schema().iter().map(|f| json!({"name": f.name, "type": f.ty.to_string()})).collect::<Vec<_>>(),
            "partition_by": ds.partition_by(),
            "shards": shards,
            "arrays": ds.arrays().iter().map(|a| json!({"name": a.name, "shard": a.shard, "dtype": a.dtype.name(), "shape": a.shape})).collect::<Vec<_>>(),
        });
        let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
        s.push('\n');
        return crate::print(&s);
    }
    let mut out = String::new();
    let bytes: u64 = ds.shards().iter().map(|s| s.bytes()).sum();
    let _ = writeln!(
        out,
        "{}: dataset of {}, version {}, {} shards, {} bytes",
        path.display(),
        ds.kind().name(),
        ds.version(),
        ds.shards().len(),
        bytes
    );
    match ds.kind() {
        DatasetKind::Frame => {
            let _ = writeln!(out, "rows: {}", ds.rows());
            let cols: Vec<String> = ds
                .schema()
                .iter()
                .map(|f| format!("{}: {}", f.name, f.ty))
                .collect();
            let _ = writeln!(out, "schema: {}", cols.join(", "));
            if !ds.partition_by().is_empty() {
                let _ = writeln!(out, "partitioned by: {}", ds.partition_by().join(", "));
            }
            for s in ds.shards() {
                let _ = writeln!(
                    out,
                    "  {}  {} rows  {} bytes",
                    s.path(),
                    s.rows(),
                    s.bytes()
                );
            }
        }
        DatasetKind::Arrays => {
            let _ = writeln!(out, "arrays: {}", ds.arrays().len());
            for a in ds.arrays() {
                let _ = writeln!(
                    out,
                    "  {}  {} {:?}  in {}",
                    a.name,
                    a.dtype,
                    a.shape,
                    ds.shards()[a.shard].path()
                );
            }
        }
    }
    crate::print(&out)
}

/// `brine verify DATASET`: every shard opened against the index, verified (FORMAT.md tier 3,
/// statistics included), and its partition values checked (DATASET.md §9).
pub fn verify(path: &Path) -> Result<()> {
    let ds = Dataset::open(path)?;
    let mut report = format!(
        "index: version {}, {} shards: ok\n",
        ds.version(),
        ds.shards().len()
    );
    ds.verify()?;
    let _ = writeln!(
        report,
        "every shard: opened and checked against the index, every checksum, statistics and partition values: ok"
    );
    let _ = writeln!(report, "{}: sound", path.display());
    crate::print(&report)
}

/// What `brine export DATASET ENTRY` reads.
pub enum ExportSource {
    /// The shard file that holds the array, exported as a file.
    Array(PathBuf),
    /// Every shard of the frame dataset, opened, in order.
    Frame(Vec<Arc<Reader>>),
}

/// The source of `brine export DATASET ENTRY -o OUT`.
pub fn export_source(path: &Path, entry: &str) -> Result<ExportSource> {
    let ds = Dataset::open(path)?;
    if ds.kind() == DatasetKind::Frame {
        if entry != SHARD_ENTRY {
            return Err(usage(
                path,
                format_args!(
                    "a frame dataset has one frame, {SHARD_ENTRY:?}, cut into shards; not {entry:?}"
                ),
            ));
        }
        // Each checked against the index (Y1-Y6) before its data is read.
        let shards = (0..ds.shards().len())
            .map(|i| ds.open_shard(i))
            .collect::<brine::Result<Vec<_>>>()?;
        return Ok(ExportSource::Frame(shards));
    }
    let a = ds
        .array(entry)
        .ok_or_else(|| usage(path, format_args!("no array {entry:?} in the dataset")))?;
    // Checked against the index (Y1-Y6) before its data is read.
    ds.open_shard(a.shard)?;
    Ok(ExportSource::Array(path.join(ds.shards()[a.shard].path())))
}

/// `brine import model.safetensors.index.json -o DIR`: each shard file of the index's
/// `weight_map` becomes a shard of an arrays dataset, its tensors the shard's arrays.
pub fn import_safetensors_index(index: &Path, output: &Path, ctx: &mut Ctx) -> Result<()> {
    const MAX_INDEX: u64 = 64 << 20;
    let len = std::fs::metadata(index)
        .map_err(|e| io(index, "open", e))?
        .len();
    if len > MAX_INDEX {
        return Err(data(
            index,
            format_args!("{len} bytes; an index of at most {MAX_INDEX}"),
        ));
    }
    let text = std::fs::read_to_string(index).map_err(|e| io(index, "read", e))?;
    let doc: Value =
        serde_json::from_str(&text).map_err(|e| data(index, format_args!("not JSON: {e}")))?;
    let map = doc
        .get("weight_map")
        .and_then(Value::as_object)
        .ok_or_else(|| data(index, "no object \"weight_map\""))?;
    // Shard file -> the tensors the index puts there.
    let mut shards: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (tensor, file) in map {
        let file = file.as_str().ok_or_else(|| {
            data(
                index,
                format_args!("tensor {tensor:?}: its file is not a string"),
            )
        })?;
        // Only files beside the index: no folders, no `..`.
        let plain = !file.is_empty()
            && !file.contains(['/', '\\', '\0'])
            && file != "."
            && file != ".."
            && file.ends_with(".safetensors");
        if !plain {
            return Err(data(
                index,
                format_args!(
                    "tensor {tensor:?}: {file:?} is not a .safetensors file beside the index"
                ),
            ));
        }
        shards.entry(file).or_default().push(tensor);
    }
    let folder = index.parent().unwrap_or(Path::new("."));
    let mut w = DatasetWriter::create(output, DatasetOptions::new())?;
    for (file, mut tensors) in shards {
        let shard = folder.join(file);
        let mut failure: Option<CliError> = None;
        let result = w.write_array_shard(|bw| {
            crate::formats::safetensors::import(bw, ctx, &shard).map_err(|e| {
                let message = e.to_string();
                failure = Some(e);
                brine::Error::InvalidInput {
                    file: shard.clone(),
                    entry: String::new(),
                    reason: message,
                }
            })
        });
        if let Some(e) = failure {
            return Err(e);
        }
        result?;
        // The shard holds exactly what the index says it holds.
        let ds_names = {
            let r = brine::Reader::open(&shard_written(output, &w)?)?;
            let mut names: Vec<String> = r.entries().map(|e| e.name().to_owned()).collect();
            names.sort();
            names
        };
        tensors.sort_unstable();
        if ds_names != tensors {
            return Err(data(
                &shard,
                format_args!("holds the tensors {ds_names:?}, the index maps {tensors:?} to it"),
            ));
        }
    }
    let version = w.finish()?;
    ctx.written
        .push(format!("dataset {} version {version}", output.display()));
    Ok(())
}

/// The path of the shard a writer wrote last.
fn shard_written(output: &Path, w: &DatasetWriter) -> Result<PathBuf> {
    w.last_shard()
        .map(|p| output.join(p))
        .ok_or_else(|| CliError::Data("no shard was written".into()))
}
