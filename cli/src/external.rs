//! Subcommands that are other programs: `brine NAME ARGS` runs `brine-NAME NAME ARGS`, found
//! beside the `brine` executable first and then on `PATH`, as cargo runs `cargo-NAME`. This is
//! how `brine sql` (the `brine-sql` program of brine-datafusion) reaches DataFusion while the
//! default command never builds it.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::process::{Command, ExitCode};

use crate::error::{CliError, Result};

/// Where each external subcommand comes from, for the error when it is not installed.
const KNOWN: &[(&str, &str)] = &[(
    "sql",
    "it is the brine-sql program of brine-datafusion: `cargo install --path datafusion --bin brine-sql` from brine's source, or put brine-sql beside brine",
)];

/// Runs `brine-NAME` with `args` (`args[0]` is NAME) and exits as it exits.
pub fn run(args: &[OsString]) -> Result<ExitCode> {
    let Some(name) = args.first() else {
        return Err(CliError::Usage(
            "no command given: see `brine --help`".into(),
        ));
    };
    let program = program(name).ok_or_else(|| not_installed(name))?;
    let mut command = Command::new(&program);
    command.args(args);
    exec(command, &program)
}

/// `brine-NAME` beside the running executable, else the first on `PATH`.
fn program(name: &OsStr) -> Option<PathBuf> {
    let mut file = OsString::from("brine-");
    file.push(name);
    file.push(std::env::consts::EXE_SUFFIX);
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(&file)));
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join(&file));
    beside.into_iter().chain(on_path).find(|p| p.is_file())
}

fn not_installed(name: &OsStr) -> CliError {
    let shown = name.to_string_lossy();
    let hint = KNOWN
        .iter()
        .find(|(known, _)| *known == shown)
        .map_or("see `brine --help` for the commands", |(_, hint)| hint);
    CliError::Usage(format!(
        "no command {shown:?}: no brine-{shown} beside brine or on PATH; {hint}"
    ))
}

#[cfg(unix)]
fn exec(mut command: Command, program: &std::path::Path) -> Result<ExitCode> {
    use std::os::unix::process::CommandExt;
    // exec returns only when it failed; on success the program replaces this process.
    let e = command.exec();
    Err(CliError::Data(format!("{}: {e}", program.display())))
}

#[cfg(not(unix))]
fn exec(mut command: Command, program: &std::path::Path) -> Result<ExitCode> {
    let status = command
        .status()
        .map_err(|e| CliError::Data(format!("{}: {e}", program.display())))?;
    let code = status.code().unwrap_or(1);
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}
