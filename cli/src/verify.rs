//! `brine verify`: every validation tier the file can be put through without its Rust types.

use std::path::PathBuf;

use brine::{Element, Kind, Reader};

use crate::elements::with_element;
use crate::error::{CliError, Result};
use crate::pieces::{for_each_piece, open};
use crate::progress::Progress;

const AFTER_HELP: &str = "\
Tiers:
  1 open: header, format version, checksums of header and manifest, the manifest's structure,
    and that every section is in bounds, aligned, non-overlapping and as long as its entry says
  2 first access: every array viewed (compressed ones decoded chunk by chunk, bool bytes checked
    to be 0 or 1), every frame column's buffers checked (offsets, UTF-8, dictionary codes,
    validity). A model's archive is validated by the program that reads it, against its Rust
    type: this tool reports the type and fingerprint stored, but cannot validate the archive
  3 verify: every section's checksum, every compressed chunk decoded and checked, every byte
    between sections zero
Exit code 0 when the file is sound, 1 when it is not (the first problem is named on stderr).";

/// Check a brine file: every validation tier and every checksum.
#[derive(clap::Args, Debug)]
#[command(after_long_help = AFTER_HELP)]
pub struct Args {
    /// The brine file, or a dataset folder (every shard is verified against the index).
    file: PathBuf,
}

pub fn run(args: &Args) -> Result<()> {
    let path = &args.file;
    if crate::dataset::is_dataset(path) {
        return crate::dataset::verify(path);
    }
    let mut reader = open(path)?;
    let mut report = String::new();
    let out = |report: &mut String, line: String| {
        report.push_str(&line);
        report.push('\n');
    };
    out(
        &mut report,
        format!(
            "tier 1 (open): header, manifest and {} entries: ok (format {}, {} bytes)",
            reader.len(),
            reader.version(),
            reader.file_len()
        ),
    );
    let mut progress = Progress::new("verify", 2 * reader.file_len());
    let entries: Vec<(String, Kind)> = reader
        .entries()
        .map(|e| (e.name().to_owned(), e.kind()))
        .collect();
    let (mut arrays, mut columns, mut models) = (0, 0, Vec::new());
    let result = (|| -> Result<()> {
        for (name, kind) in &entries {
            progress.message(name.clone());
            match kind {
                Kind::Array => {
                    let entry = reader.array_entry(name)?;
                    if entry.is_compressed() {
                        for_each_piece(path, &mut reader, name, false, |piece| {
                            progress.inc(piece.len() as u64);
                            Ok(())
                        })?;
                    } else {
                        // A raw view is O(1) (O(n) for bool, whose bytes must be 0 or 1).
                        let len = entry.stored_len();
                        with_element!(entry.dtype(), T => view::<T>(&reader, name))?;
                        progress.inc(len);
                    }
                    arrays += 1;
                }
                Kind::Frame => {
                    let width = reader.frame(name)?.width();
                    for i in 0..width {
                        let compressed = {
                            let frame = reader.frame(name)?;
                            let c = frame.column_at(i);
                            let bytes: usize = c.buffers()?.iter().map(|b| b.len()).sum();
                            progress.inc(bytes as u64);
                            c.is_compressed()
                        };
                        columns += 1;
                        // The reader keeps a decoded column until it is dropped: a new one
                        // holds one column at a time.
                        if compressed {
                            let before = reader.manifest_checksum();
                            reader = open(path)?;
                            if reader.manifest_checksum() != before {
                                return Err(CliError::Data(format!(
                                    "{}: the file was replaced while it was verified",
                                    path.display()
                                )));
                            }
                        }
                    }
                }
                Kind::Model => {
                    let m = reader.entry(name)?.model()?;
                    let version = m
                        .version()
                        .map(|v| format!(" version {v}"))
                        .unwrap_or_default();
                    models.push(format!(
                        "  model {name:?}: {}{version}, fingerprint {:#018x}, {} bytes: archive not validated (typed validation needs the Rust type; the program that reads it validates it on first access)",
                        m.type_name(),
                        m.fingerprint(),
                        m.archive_len()
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    })();
    let fail = |report: &str, e: CliError| -> Result<()> {
        crate::print(report)?;
        Err(e)
    };
    if let Err(e) = result {
        return fail(&report, e);
    }
    out(
        &mut report,
        format!(
            "tier 2 (first access): {arrays} arrays viewed, {columns} frame columns checked: ok"
        ),
    );
    for m in models {
        out(&mut report, m);
    }
    progress.message("checksums");
    progress.show_for_long_step(reader.file_len());
    if let Err(e) = reader.verify() {
        return fail(&report, e.into());
    }
    drop(progress);
    out(
        &mut report,
        "tier 3 (verify): every section checksum, every compressed chunk, zero padding: ok".into(),
    );
    out(&mut report, format!("{}: sound", path.display()));
    crate::print(&report)
}

fn view<T: Element>(reader: &Reader, name: &str) -> Result<()> {
    reader.array::<T>(name)?;
    Ok(())
}
