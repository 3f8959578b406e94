//! `.csv`: one frame. Imported in batches by [`brine::frame::csv::import`], with the types
//! inferred from a sample or fixed on the command line; exported with a header row, each value
//! as text (see `brine export --help`).

use std::path::Path;
use std::sync::Arc;

use brine::{Reader, Writer};

use super::frames::{BATCH_ROWS, Checks, frame_line};
use super::{Role, stem};
use crate::cells::{Style, cells};
use crate::error::{Result, io};
use crate::export::{Args, Output};
use crate::import::Ctx;
use crate::progress::Progress;

/// Whether `ext` (lowercase, without the dot) names a `.csv` file.
pub fn detect(ext: &str, _role: Role) -> bool {
    ext == "csv"
}

/// Imports the `.csv` file `path` as one frame, named after the file's stem.
pub fn import(w: &mut Writer, ctx: &mut Ctx, path: &Path) -> Result<()> {
    let name = ctx.name(&stem(path), path)?;
    let report = brine::frame::csv::import(w, &name, path, &ctx.csv, &ctx.frame_options)?;
    ctx.progress.inc(report.bytes);
    let mut line = frame_line(&name, report.rows, &report.fields, path);
    if report.skipped > 0 {
        line.push_str(&format!(
            "; skipped {} malformed rows (first: {})",
            report.skipped,
            report
                .skipped_errors
                .first()
                .map(ToString::to_string)
                .unwrap_or_default()
        ));
    }
    ctx.written.push(line);
    Ok(())
}

/// Exports frame entry `args.entry` of each of `shards` (one file, or a dataset's shards in
/// order) as one `.csv` file, its header row once.
pub fn export(args: &Args, out: Output, shards: &[Arc<Reader>]) -> Result<()> {
    let mut csv = ::csv::Writer::from_writer(out);
    let csv_error = |e: ::csv::Error| io(&args.output, "write", e.into());
    let total = shards
        .iter()
        .map(|r| r.frame(&args.entry).map(|f| f.rows() as u64))
        .sum::<brine::Result<u64>>()?;
    let mut progress = Progress::rows("export", total);
    let mut text = String::new();
    let mut width = 0;
    for (i, reader) in shards.iter().enumerate() {
        let frame = reader.frame(&args.entry)?;
        let mut checks = Checks::new(reader, &frame, !args.no_verify)?;
        let columns: Vec<_> = frame.iter().collect();
        let cells = columns
            .iter()
            .map(|c| cells(c, Style::Csv))
            .collect::<Result<Vec<_>>>()?;
        if i == 0 {
            width = columns.len();
            csv.write_record(columns.iter().map(|c| c.name()))
                .map_err(csv_error)?;
        }
        for row in 0..frame.rows() {
            for cell in &cells {
                text.clear();
                cell(row, &mut text);
                csv.write_field(&text).map_err(csv_error)?;
            }
            csv.write_record(None::<&[u8]>).map_err(csv_error)?;
            if row % BATCH_ROWS == BATCH_ROWS - 1 {
                checks.advance(row + 1);
                progress.inc(BATCH_ROWS as u64);
            }
        }
        checks.finish()?;
    }
    let out = csv
        .into_inner()
        .map_err(|e| io(&args.output, "write", e.into_error()))?;
    out.commit()?;
    drop(progress);
    crate::print(&format!(
        "wrote {} ({total} rows x {width} columns)\n",
        args.output.display(),
    ))
}
