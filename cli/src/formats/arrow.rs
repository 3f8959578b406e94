//! Arrow IPC (`.arrow`, `.feather`, `.ipc`, `.arrows`): one frame. Imported from a file
//! (Feather version 2) or a stream one record batch at a time, schema and field metadata
//! kept; exported as an uncompressed IPC file, in batches of [`BATCH_ROWS`] rows.

use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;

use brine::{Reader, Writer};

use super::frames::{BATCH_ROWS, Checks, frame_line};
use super::{Role, open, stem};
use crate::error::{Result, data, io};
use crate::export::{Args, Output};
use crate::import::Ctx;
use crate::progress::Progress;

/// Whether `ext` (lowercase, without the dot) names an Arrow IPC file (`.arrows`, a stream, is
/// only read).
pub fn detect(ext: &str, role: Role) -> bool {
    match ext {
        "arrow" | "feather" | "ipc" => true,
        "arrows" => role == Role::Input,
        _ => false,
    }
}

/// An Arrow IPC file (or stream) as one frame, a record batch at a time.
pub fn import(w: &mut Writer, ctx: &mut Ctx, path: &Path) -> Result<()> {
    use arrow_array::RecordBatch;
    use arrow_schema::ArrowError;

    let name = ctx.name(&stem(path), path)?;
    let (mut file, len) = open(path)?;
    let mut magic = Vec::with_capacity(6);
    (&mut file)
        .take(6)
        .read_to_end(&mut magic)
        .map_err(|e| io(path, "read", e))?;
    file.seek(SeekFrom::Start(0))
        .map_err(|e| io(path, "seek", e))?;
    let arrow_error =
        |e: ArrowError| data(path, format_args!("not a readable Arrow IPC file: {e}"));
    type Batches = Box<dyn Iterator<Item = std::result::Result<RecordBatch, ArrowError>>>;
    let (schema, batches): (_, Batches) = if magic == b"ARROW1" {
        let r = arrow_ipc::reader::FileReader::try_new(BufReader::new(file), None)
            .map_err(arrow_error)?;
        (r.schema(), Box::new(r))
    } else if magic.starts_with(b"FEA1") {
        return Err(data(
            path,
            "Feather version 1 is not supported (rewrite it with pyarrow.feather.write_feather, \
             which writes version 2)",
        ));
    } else {
        let r = arrow_ipc::reader::StreamReader::try_new(BufReader::new(file), None)
            .map_err(arrow_error)?;
        (r.schema(), Box::new(r))
    };
    // A file of no record batches still has columns: write them, empty.
    let mut batches = batches.peekable();
    // The schema's and the fields' metadata (pyarrow's `pandas` key among them) are kept as
    // the entry's and the columns' metadata, so that export gives them back.
    let options = brine::frame::arrow::frame_options(&schema, &ctx.frame_options);
    let empty = batches
        .peek()
        .is_none()
        .then(|| Ok(RecordBatch::new_empty(schema)));
    let mut fw = w.frame_writer(&name, &options)?;
    let mut rows = 0u64;
    for batch in batches.chain(empty) {
        let batch = batch.map_err(arrow_error)?;
        rows += batch.num_rows() as u64;
        let frame = brine::frame::arrow::frame(&batch).map_err(|e| match e {
            // The conversion knows the column, not the file.
            brine::Error::InvalidInput { reason, .. } => data(path, reason),
            e => e.into(),
        })?;
        fw.write_batch(&frame)?;
        // In-memory size stands in for the bytes read: compression makes them differ.
        ctx.progress
            .inc((batch.get_array_memory_size() as u64).min(len));
    }
    let fields = fw.fields().to_vec();
    fw.finish()?;
    ctx.written.push(frame_line(&name, rows, &fields, path));
    Ok(())
}

/// Exports frame entry `args.entry` of each of `shards` (one file, or a dataset's shards in
/// order) as one Arrow IPC file. An IPC file holds one dictionary per categorical column, so
/// shards whose categories differ have their codes mapped onto the union of the categories
/// (in order of first appearance), a copy of those codes only.
pub fn export(args: &Args, out: Output, shards: &[Arc<Reader>]) -> Result<()> {
    let arrow_error = |e: arrow_schema::ArrowError| data(&args.output, format_args!("{e}"));
    let batches = shards
        .iter()
        .map(|r| brine::frame::arrow::record_batch(r, &args.entry))
        .collect::<brine::Result<Vec<_>>>()?;
    let batches = unify_dictionaries(batches).map_err(arrow_error)?;
    let Some(first) = batches.first() else {
        return Err(data(&args.output, "no shard to export"));
    };
    let schema = first.schema();
    let mut w = arrow_ipc::writer::FileWriter::try_new(out, &schema).map_err(arrow_error)?;
    let total: usize = batches.iter().map(|b| b.num_rows()).sum();
    let mut progress = Progress::rows("export", total as u64);
    for (reader, batch) in shards.iter().zip(&batches) {
        let frame = reader.frame(&args.entry)?;
        let mut checks = Checks::new(reader, &frame, !args.no_verify)?;
        let mut offset = 0;
        // An empty frame still gets one (empty) batch, so that readers see its schema in use.
        loop {
            let len = BATCH_ROWS.min(batch.num_rows() - offset);
            let slice = batch.slice(offset, len);
            // The shards' schemas agree but for metadata: the first one's is the file's.
            let slice = arrow_array::RecordBatch::try_new(schema.clone(), slice.columns().to_vec())
                .map_err(arrow_error)?;
            w.write(&slice).map_err(arrow_error)?;
            progress.inc(len as u64);
            offset += len;
            checks.advance(offset);
            if offset == batch.num_rows() {
                break;
            }
        }
        checks.finish()?;
    }
    w.finish().map_err(arrow_error)?;
    w.into_inner().map_err(arrow_error)?.commit()?;
    drop(progress);
    crate::print(&format!(
        "wrote {} ({total} rows x {} columns)\n",
        args.output.display(),
        schema.fields().len()
    ))
}

/// `batches` with each dictionary column's dictionary the same in every batch: unchanged when
/// they already agree (one write of a dataset), else the union and remapped codes.
fn unify_dictionaries(
    mut batches: Vec<arrow_array::RecordBatch>,
) -> std::result::Result<Vec<arrow_array::RecordBatch>, arrow_schema::ArrowError> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::Int32Type;
    use arrow_array::{Array, ArrayRef, DictionaryArray, Int32Array};
    use std::collections::HashMap;

    let Some(first) = batches.first() else {
        return Ok(batches);
    };
    let width = first.num_columns();
    for c in 0..width {
        let dictionary = |b: &arrow_array::RecordBatch| {
            b.column(c)
                .as_dictionary_opt::<Int32Type>()
                .map(|d| d.values().clone())
        };
        let Some(base) = dictionary(&batches[0]) else {
            continue;
        };
        if batches
            .iter()
            .all(|b| dictionary(b).is_some_and(|v| v.to_data() == base.to_data()))
        {
            continue;
        }
        // The union of the categories, as text (brine's categories are strings).
        let mut union: Vec<String> = Vec::new();
        let mut code: HashMap<String, i32> = HashMap::new();
        let mut maps = Vec::with_capacity(batches.len());
        for b in &batches {
            let values = dictionary(b).ok_or_else(|| {
                arrow_schema::ArrowError::SchemaError(format!(
                    "column {c} is not categorical in every shard"
                ))
            })?;
            let values = values.as_string::<i64>();
            let mut map = Vec::with_capacity(values.len());
            for v in values.iter() {
                let v = v.unwrap_or_default().to_owned();
                let next = i32::try_from(union.len()).map_err(|_| {
                    arrow_schema::ArrowError::ComputeError("more than 2^31 categories".into())
                })?;
                let k = *code.entry(v.clone()).or_insert_with(|| {
                    union.push(v);
                    next
                });
                map.push(k);
            }
            maps.push(map);
        }
        let values: ArrayRef = Arc::new(arrow_array::LargeStringArray::from_iter_values(&union));
        for (b, map) in batches.iter_mut().zip(&maps) {
            let old = b.column(c).as_dictionary::<Int32Type>();
            // Codes were checked against their dictionary (rule D7) when the column was read.
            let keys: Int32Array = old
                .keys()
                .iter()
                .map(|k| {
                    k.and_then(|k| usize::try_from(k).ok())
                        .and_then(|k| map.get(k).copied())
                })
                .collect();
            let array: ArrayRef =
                Arc::new(DictionaryArray::<Int32Type>::try_new(keys, values.clone())?);
            let mut columns = b.columns().to_vec();
            columns[c] = array;
            *b = arrow_array::RecordBatch::try_new(b.schema(), columns)?;
        }
    }
    Ok(batches)
}
