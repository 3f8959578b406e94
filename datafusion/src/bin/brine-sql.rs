//! `brine-sql`: SQL over brine files and datasets through DataFusion, also run as `brine sql`
//! (the `brine` command hands subcommands it does not know to a `brine-NAME` program beside it
//! or on `PATH`, so the default command never builds DataFusion).
//!
//! A table is a quoted path after FROM or JOIN (`SELECT count(*) FROM 'flights.brine'`; a
//! dataset folder, an Arrow IPC or a Parquet file too), or a name given with
//! `--table name=path`. The result prints as a table, JSON lines (`--json`), one JSON array
//! (`--json-array`), or goes to an Arrow IPC file (`--arrow out.arrow`, written beside it and
//! renamed over it, so a failed query leaves no partial file).
//!
//! Exit codes as `brine`'s: 0 success, 1 a query or data error, 2 a usage error.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use brine_datafusion::BrineTable;
use clap::Parser;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::Schema;
use datafusion::common::TableReference;
use datafusion::datasource::file_format::options::ArrowReadOptions;
use datafusion::error::DataFusionError;
use datafusion::prelude::{ParquetReadOptions, SessionContext};

/// Run a SQL query over brine files and datasets (DataFusion's SQL dialect).
#[derive(Parser, Debug)]
#[command(name = "brine sql", version)]
struct Args {
    /// The query; a quoted path after FROM or JOIN is a table:
    /// `SELECT origin, avg(dep_delay) FROM 'flights.brine' GROUP BY 1`.
    query: String,
    /// A table named in the query: `name=path` (a brine file with one frame, a dataset folder,
    /// an `.arrow`/`.feather` or `.parquet` file).
    #[arg(long = "table", value_name = "NAME=PATH")]
    tables: Vec<String>,
    /// Print JSON lines (one object per row) instead of a table.
    #[arg(long, conflicts_with_all = ["json_array", "arrow"])]
    json: bool,
    /// Print one JSON array of row objects.
    #[arg(long = "json-array", conflicts_with = "arrow")]
    json_array: bool,
    /// Write the result to this Arrow IPC file instead of printing it.
    #[arg(long = "arrow", value_name = "OUT.arrow")]
    arrow: Option<PathBuf>,
}

enum Failure {
    Usage(String),
    Data(String),
    BrokenPipe,
}

impl From<DataFusionError> for Failure {
    fn from(e: DataFusionError) -> Failure {
        Failure::Data(e.to_string())
    }
}

impl From<datafusion::arrow::error::ArrowError> for Failure {
    fn from(e: datafusion::arrow::error::ArrowError) -> Failure {
        Failure::Data(e.to_string())
    }
}

fn main() -> ExitCode {
    // `brine sql ARGS` runs `brine-sql sql ARGS`: the dispatcher passes its subcommand's name
    // first, as git and cargo do, so it is dropped here when present.
    let mut argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if argv.get(1).is_some_and(|a| a == "sql") {
        argv.remove(1);
    }
    let args = Args::parse_from(argv);
    match run(&args) {
        Ok(()) | Err(Failure::BrokenPipe) => ExitCode::SUCCESS,
        Err(Failure::Usage(e)) => {
            let _ = writeln!(std::io::stderr(), "brine sql: {e}");
            ExitCode::from(2)
        }
        Err(Failure::Data(e)) => {
            let _ = writeln!(std::io::stderr(), "brine sql: {e}");
            ExitCode::from(1)
        }
    }
}

fn run(args: &Args) -> Result<(), Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Data(format!("tokio runtime: {e}")))?;
    let batches = runtime.block_on(query(args))?;
    if let Some(out) = &args.arrow {
        return write_ipc(out, &batches);
    }
    let mut text = Vec::new();
    if args.json {
        let mut w = datafusion::arrow::json::LineDelimitedWriter::new(&mut text);
        w.write_batches(&batches.iter().collect::<Vec<_>>())?;
        w.finish()?;
    } else if args.json_array {
        let mut w = datafusion::arrow::json::ArrayWriter::new(&mut text);
        w.write_batches(&batches.iter().collect::<Vec<_>>())?;
        w.finish()?;
        if text.is_empty() {
            text.extend_from_slice(b"[]");
        }
        text.push(b'\n');
    } else {
        let table = datafusion::arrow::util::pretty::pretty_format_batches(&batches)?;
        writeln!(text, "{table}").expect("writing to a Vec does not fail");
    }
    let mut out = std::io::stdout().lock();
    out.write_all(&text)
        .and_then(|()| out.flush())
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::BrokenPipe => Failure::BrokenPipe,
            _ => Failure::Data(format!("stdout: {e}")),
        })
}

async fn query(args: &Args) -> Result<Vec<RecordBatch>, Failure> {
    let ctx = SessionContext::new();
    let (sql, paths) = quoted_tables(&args.query);
    for path in &paths {
        register(&ctx, path, Path::new(path)).await?;
    }
    for table in &args.tables {
        let (name, path) = table
            .split_once('=')
            .filter(|(name, path)| !name.is_empty() && !path.is_empty())
            .ok_or_else(|| Failure::Usage(format!("--table {table:?}: expected NAME=PATH")))?;
        register(&ctx, name, Path::new(path)).await?;
    }
    Ok(ctx.sql(&sql).await?.collect().await?)
}

/// Registers `path` as table `name`: Arrow IPC and Parquet files by DataFusion's own readers
/// (to compare with), anything else as a brine file or dataset folder.
async fn register(ctx: &SessionContext, name: &str, path: &Path) -> Result<(), Failure> {
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let location = path
        .to_str()
        .ok_or_else(|| Failure::Usage(format!("{}: not a UTF-8 path", path.display())))?;
    let reference = TableReference::bare(name);
    match extension {
        "arrow" | "feather" | "ipc" => {
            // A single file is listed too: the extension filter must let it through.
            let dotted = format!(".{extension}");
            let options = ArrowReadOptions {
                file_extension: &dotted,
                ..ArrowReadOptions::default()
            };
            ctx.register_arrow(reference, location, options).await?;
        }
        "parquet" => {
            ctx.register_parquet(reference, location, ParquetReadOptions::default())
                .await?;
        }
        _ => {
            let table = BrineTable::open(path)
                .map_err(|e| Failure::Data(format!("{}: {e}", path.display())))?;
            ctx.register_table(reference, Arc::new(table))?;
        }
    }
    Ok(())
}

/// The query with each quoted path after FROM or JOIN turned into a quoted identifier, and
/// those paths; other string literals (`WHERE origin = 'JFK'`, `'it''s'`) stay as they are.
fn quoted_tables(query: &str) -> (String, Vec<String>) {
    let mut out = String::with_capacity(query.len() + 2);
    let mut paths = Vec::new();
    let mut rest = query;
    while let Some(start) = rest.find('\'') {
        let (before, after) = rest.split_at(start);
        out.push_str(before);
        let Some(end) = after[1..].find('\'') else {
            out.push_str(after);
            rest = "";
            break;
        };
        let literal = &after[1..=end];
        let keyword = out
            .trim_end()
            .rsplit(char::is_whitespace)
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        if (keyword == "FROM" || keyword == "JOIN") && !literal.contains('"') {
            out.push('"');
            out.push_str(literal);
            out.push('"');
            paths.push(literal.to_owned());
        } else {
            out.push_str(&after[..end + 2]);
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    (out, paths)
}

/// The result as an Arrow IPC file, written beside `out` and renamed over it.
fn write_ipc(out: &Path, batches: &[RecordBatch]) -> Result<(), Failure> {
    let io = |e: std::io::Error| Failure::Data(format!("{}: {e}", out.display()));
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    let schema = batches
        .first()
        .map_or_else(|| Arc::new(Schema::empty()), RecordBatch::schema);
    let mut writer = datafusion::arrow::ipc::writer::FileWriter::try_new(tmp.as_file(), &schema)?;
    for batch in batches {
        writer.write(batch)?;
    }
    writer.finish()?;
    drop(writer);
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(out).map_err(|e| io(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::quoted_tables;

    #[test]
    fn quoted_paths_after_from_and_join_become_tables() {
        let (q, p) = quoted_tables(
            "SELECT a FROM 'x/f.brine' JOIN 'ds' USING (a) WHERE b = 'JFK' AND c = 'it''s'",
        );
        assert_eq!(
            q,
            "SELECT a FROM \"x/f.brine\" JOIN \"ds\" USING (a) WHERE b = 'JFK' AND c = 'it''s'"
        );
        assert_eq!(p, ["x/f.brine", "ds"]);
    }

    #[test]
    fn an_unclosed_quote_is_left_to_the_parser() {
        let (q, p) = quoted_tables("SELECT 1 FROM 'open");
        assert_eq!(q, "SELECT 1 FROM 'open");
        assert!(p.is_empty());
    }
}
