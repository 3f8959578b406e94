//! `brine`: look inside brine files, check them, and convert arrays and frames from and to
//! the formats Python users already have (`.npy`, `.npz`, `.safetensors`, `.csv`, Arrow IPC).
//!
//! One file per subcommand; `formats` holds one module per outside format (`.npy`, `.npz`,
//! `.safetensors`, `.csv`, Arrow IPC), each with its detection, import and export; `pieces`
//! the bounded, checked reading of array data that export and verify share; `error` the
//! exit-code policy, `elements` the dtype dispatch, `cells` the text of frame values,
//! `progress` the progress bars.
//!
//! A crate of its own (`brine-cli`), so that the library's users never build its dependencies
//! (clap, indicatif, serde_json, zip, unicode-width, arrow-ipc).
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

mod cells;
mod dataset;
mod elements;
mod error;
mod export;
mod external;
mod formats;
mod head;
mod import;
mod inspect;
mod pieces;
mod progress;
mod schema;
mod verify;

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::CliError;

const LONG_ABOUT: &str = "\
Look inside brine files, check them, and convert arrays from and to .npy, .npz and .safetensors,
frames from and to .csv and Arrow IPC (.arrow, .feather).

`brine sql \"SELECT ... FROM 'flights.brine'\"` runs SQL through DataFusion when the brine-sql
program (of brine-datafusion) is beside brine or on PATH; any other unknown command NAME runs
brine-NAME the same way.

Exit codes: 0 success; 1 invalid, corrupt or unreadable data (including a missing input file or
output folder); 2 usage error (unknown option, bad value, unsupported file type, an entry name
that is not in the file). Errors go to stderr, one line that names the file and what is wrong.
Outputs are written to a temporary file beside the target and renamed over it at the end: a
failed command never leaves a partial output file.";

#[derive(Parser, Debug)]
#[command(name = "brine", version, about = "Inspect, verify, import and export brine files", long_about = LONG_ABOUT)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    Inspect(inspect::Args),
    Verify(verify::Args),
    Import(import::Args),
    Export(export::Args),
    Head(head::Args),
    Schema(schema::Args),
    /// Any other NAME runs the program brine-NAME (beside brine, or on PATH) with the same
    /// arguments: `brine sql` is brine-sql, from brine-datafusion.
    #[command(external_subcommand)]
    External(Vec<OsString>),
}

fn main() -> ExitCode {
    // clap prints its own errors and exits with 2 (0 for --help and --version).
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Inspect(args) => inspect::run(&args),
        Command::Verify(args) => verify::run(&args),
        Command::Import(args) => import::run(&args),
        Command::Export(args) => export::run(&args),
        Command::Head(args) => head::run(&args),
        Command::Schema(args) => schema::run(&args),
        Command::External(args) => match external::run(&args) {
            Ok(code) => return code,
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // `brine inspect f | head`: a closed stdout is not an error of ours.
        Err(CliError::BrokenPipe) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "brine: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// Writes `text` to stdout at once.
///
/// # Errors
/// [`CliError::BrokenPipe`] when stdout was closed, [`CliError::Data`] for other failures.
pub fn print(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::BrokenPipe => CliError::BrokenPipe,
            _ => CliError::Data(format!("stdout: {e}")),
        })
}
