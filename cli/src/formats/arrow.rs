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

/// Exports frame entry `args.entry` as an Arrow IPC file.
pub fn export(args: &Args, out: Output, reader: Reader) -> Result<()> {
    let reader = Arc::new(reader);
    let frame = reader.frame(&args.entry)?;
    let mut checks = Checks::new(&reader, &frame, !args.no_verify)?;
    let batch = brine::frame::arrow::record_batch(&reader, &args.entry)?;
    let arrow_error = |e: arrow_schema::ArrowError| data(&args.output, format_args!("{e}"));
    let mut w =
        arrow_ipc::writer::FileWriter::try_new(out, &batch.schema()).map_err(arrow_error)?;
    let mut progress = Progress::rows("export", batch.num_rows() as u64);
    let mut offset = 0;
    // An empty frame still gets one (empty) batch, so that readers see its schema in use.
    loop {
        let len = BATCH_ROWS.min(batch.num_rows() - offset);
        w.write(&batch.slice(offset, len)).map_err(arrow_error)?;
        progress.inc(len as u64);
        offset += len;
        checks.advance(offset);
        if offset == batch.num_rows() {
            break;
        }
    }
    checks.finish()?;
    w.finish().map_err(arrow_error)?;
    w.into_inner().map_err(arrow_error)?.commit()?;
    drop(progress);
    crate::print(&format!(
        "wrote {} ({} rows x {} columns)\n",
        args.output.display(),
        batch.num_rows(),
        batch.num_columns()
    ))
}
