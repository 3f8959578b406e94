//! Concurrent replacement: a replacer process rewrites a file again and again while reader
//! threads of this process and reader processes open it, read everything and check it. Every
//! read sees one whole version (each value belongs to the version named in the metadata),
//! `verify` passes, a reader opened before a replacement keeps its version, and no process dies
//! of SIGBUS.
//!
//! The test binary runs itself again as the replacer and as the reader processes (selected by
//! environment variables). `BRINE_REPLACE_VERSIONS` sets the number of replacements
//! (default 100). Run with `--nocapture` to see the counts.
#![cfg(unix)]

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use brine::frame::{Column, Frame, FrameOptions};
use brine::model::{ModelOptions, numbers};
use brine::{Codec, EntryOptions, MetaRef, Reader, Writer};

const TEST_NAME: &str = "readers_see_whole_versions_while_a_process_replaces_the_file";
/// Set to the target's path: this process is the replacer.
const REPLACER_ENV: &str = "BRINE_TEST_REPLACER";
/// Set to the target's path: this process is a reader.
const READER_ENV: &str = "BRINE_TEST_READER";
/// The file whose existence tells reader processes to stop.
const STOP_ENV: &str = "BRINE_TEST_READER_STOP";
const VERSIONS_ENV: &str = "BRINE_REPLACE_VERSIONS";
const DEFAULT_VERSIONS: u64 = 100;
const READER_THREADS: usize = 3;
const READER_PROCESSES: usize = 2;

/// Elements of the raw f64 array (1 MiB).
const RAW_LEN: usize = 128 << 10;
/// Elements of the compressed u32 array (1 MiB before compression).
const ZSTD_LEN: usize = 256 << 10;
const ROWS: usize = 20_000;
const MODEL_LEN: usize = 10_000;

#[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema)]
struct Model {
    version: u64,
    values: Vec<u64>,
}

fn raw_value(v: u64, i: usize) -> f64 {
    v as f64 * 1e7 + i as f64
}

fn zstd_value(v: u64, i: usize) -> u32 {
    (i as u32).wrapping_mul(2_654_435_761) ^ (v as u32).wrapping_mul(0x0101_0101)
}

fn id_value(v: u64, i: usize) -> i64 {
    i as i64 + v as i64 * 1_000_000
}

fn name_value(v: u64, i: usize) -> String {
    format!("{v}:{i}")
}

fn model_value(v: u64, i: usize) -> u64 {
    v.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ i as u64
}

/// Writes version `v`: every value is a function of `v`, which the file, each entry and the
/// model also record.
fn write_version(path: &Path, v: u64) {
    let mut w = Writer::create(path).unwrap();
    w.set_metadata("version", v as i64);
    let raw: Vec<f64> = (0..RAW_LEN).map(|i| raw_value(v, i)).collect();
    let meta = EntryOptions::new().metadata("version", v as i64);
    w.put_array_with("a-raw", &raw, &[RAW_LEN / 256, 256], &meta)
        .unwrap();
    let zstd: Vec<u32> = (0..ZSTD_LEN).map(|i| zstd_value(v, i)).collect();
    let meta = meta
        .codec(Codec::zstd_shuffled())
        .zstd_level(1)
        .chunk_len(256 << 10);
    w.put_array_with("b-zstd", &zstd, &[ZSTD_LEN], &meta)
        .unwrap();
    let frame = Frame::builder()
        .column(
            "id",
            Column::new((0..ROWS).map(|i| id_value(v, i)).collect::<Vec<_>>()),
        )
        .column("name", Column::strings((0..ROWS).map(|i| name_value(v, i))))
        .build()
        .unwrap();
    let options = FrameOptions::new()
        .column_codec("name", Codec::zstd())
        .metadata("version", v as i64);
    w.put_frame_with("c-frame", &frame, &options).unwrap();
    let model = Model {
        version: v,
        values: (0..MODEL_LEN).map(|i| model_value(v, i)).collect(),
    };
    let options = ModelOptions::new()
        .codec(Codec::zstd())
        .zstd_level(1)
        .version(v);
    w.put_model_with("d-model", &model, &options).unwrap();
    w.finish().unwrap();
}

fn int(value: Option<MetaRef<'_>>, what: &str) -> u64 {
    match value {
        Some(MetaRef::Int(v)) => v as u64,
        other => panic!("{what}: metadata 'version' is {other:?}"),
    }
}

/// Reads everything in `r` and checks that it all belongs to the version its metadata names;
/// returns that version.
fn check(r: &Reader) -> u64 {
    r.verify().unwrap();
    let v = int(r.metadata().get("version"), "file");
    let mixed = |what: &str, i: usize| -> ! {
        panic!("version {v}: {what}[{i}] belongs to another version (a mix of two files)")
    };
    for name in ["a-raw", "b-zstd", "c-frame"] {
        assert_eq!(
            int(r.entry(name).unwrap().metadata().get("version"), name),
            v
        );
    }
    let raw = r.array::<f64>("a-raw").unwrap();
    for (i, x) in raw.as_slice().iter().enumerate() {
        if *x != raw_value(v, i) {
            mixed("a-raw", i);
        }
    }
    let zstd = r.array::<u32>("b-zstd").unwrap();
    for (i, x) in zstd.as_slice().iter().enumerate() {
        if *x != zstd_value(v, i) {
            mixed("b-zstd", i);
        }
    }
    let frame = r.frame("c-frame").unwrap();
    assert_eq!(frame.rows(), ROWS);
    let ids = frame.column("id").unwrap();
    for (i, x) in ids.values::<i64>().unwrap().iter().enumerate() {
        if *x != id_value(v, i) {
            mixed("id", i);
        }
    }
    let names = frame.column("name").unwrap();
    for (i, s) in names.strings().unwrap().values().enumerate() {
        if s != name_value(v, i) {
            mixed("name", i);
        }
    }
    let entry = r.model_entry("d-model").unwrap();
    assert_eq!(entry.version(), Some(v));
    let model = r.model::<Model>("d-model").unwrap();
    assert_eq!(model.version.to_native(), v);
    for (i, x) in numbers(&model.values).iter().enumerate() {
        if *x != model_value(v, i) {
            mixed("model values", i);
        }
    }
    v
}

/// What one reader did.
#[derive(Default, Debug)]
struct Reads {
    /// Whole-file reads checked (each opened file, and each re-check of a held one).
    reads: u64,
    /// Reads of a file held open while the path was replaced by a newer version.
    stale_reads: u64,
    /// Distinct versions seen.
    versions: std::collections::BTreeSet<u64>,
}

/// Opens, reads and checks `path` over and over, until `stop` says so (checked before each
/// open, so the last read comes after it). Before each new read, the reader opened at the
/// previous one is checked again: the path may name a newer file by then, and the old mapping
/// must still show the old version, whole.
fn read_until(path: &Path, stop: impl Fn() -> bool) -> Reads {
    let mut out = Reads::default();
    let mut held: Option<(Reader, u64)> = None;
    loop {
        let stopping = stop();
        let r = Reader::options().verify(true).open(path).unwrap();
        let v = check(&r);
        out.reads += 1;
        out.versions.insert(v);
        if let Some((old, old_v)) = held.take() {
            assert_eq!(check(&old), old_v, "a held reader changed version");
            out.reads += 1;
            if old_v != v {
                out.stale_reads += 1;
            }
        }
        held = Some((r, v));
        if stopping {
            return out;
        }
    }
}

fn env_u64(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value} is not a number")),
    )
}

fn spawn_self(envs: &[(&str, &Path)]) -> Child {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        c.env(k, v);
    }
    c.spawn().unwrap()
}

/// The number after `marker` in a child's output, once it has exited normally.
fn reported(out: &Output, who: &str, marker: &str) -> Vec<u64> {
    let describe = || {
        format!(
            "{}\nstdout:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };
    if let Some(signal) = out.status.signal() {
        panic!(
            "the {who} was killed by signal {signal}{}: {}",
            if signal == 7 { " (SIGBUS)" } else { "" },
            describe()
        );
    }
    assert!(out.status.success(), "the {who} failed: {}", describe());
    let stdout = String::from_utf8_lossy(&out.stdout);
    // libtest prints the test's name on the same line, before the child's output.
    let Some(rest) = stdout.split(marker).nth(1) else {
        panic!("the {who} did not report: {}", describe())
    };
    rest.split_whitespace()
        .map_while(|w| w.parse().ok())
        .collect()
}

#[test]
fn readers_see_whole_versions_while_a_process_replaces_the_file() {
    let versions = env_u64(VERSIONS_ENV).unwrap_or(DEFAULT_VERSIONS);
    if let Some(target) = std::env::var_os(REPLACER_ENV) {
        for v in 1..=versions {
            write_version(Path::new(&target), v);
        }
        println!("replaced: {versions}");
        return;
    }
    if let Some(target) = std::env::var_os(READER_ENV) {
        let stop = PathBuf::from(std::env::var_os(STOP_ENV).unwrap());
        let reads = read_until(Path::new(&target), || stop.exists());
        println!(
            "reads: {} {} {}",
            reads.reads,
            reads.stale_reads,
            reads.versions.len()
        );
        return;
    }

    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("data.brine");
    let stop_file = dir.path().join("stop");
    write_version(&target, 0);

    let readers: Vec<Child> = (0..READER_PROCESSES)
        .map(|_| spawn_self(&[(READER_ENV, &target), (STOP_ENV, &stop_file)]))
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..READER_THREADS)
        .map(|_| {
            let (target, stop) = (target.clone(), Arc::clone(&stop));
            std::thread::spawn(move || read_until(&target, || stop.load(Ordering::SeqCst)))
        })
        .collect();

    let replacer = spawn_self(&[(REPLACER_ENV, &target)]).wait_with_output();
    // Stop the readers whatever happened, so that a failure does not leave them running.
    stop.store(true, Ordering::SeqCst);
    std::fs::write(&stop_file, b"").unwrap();
    let replacer = replacer.unwrap();
    let outputs: Vec<Output> = readers
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let thread_reads: Vec<Reads> = threads.into_iter().map(|t| t.join().unwrap()).collect();

    assert_eq!(reported(&replacer, "replacer", "replaced:"), [versions]);
    let mut total = (0, 0);
    let mut most_versions = 0;
    for out in &outputs {
        let r = reported(out, "reader process", "reads:");
        assert_eq!(r.len(), 3, "reader process report {r:?}");
        total = (total.0 + r[0], total.1 + r[1]);
        most_versions = most_versions.max(r[2]);
    }
    for r in &thread_reads {
        total = (total.0 + r.reads, total.1 + r.stale_reads);
        most_versions = most_versions.max(r.versions.len() as u64);
        // Each reader's last read began after the replacer was done.
        assert_eq!(r.versions.last(), Some(&versions));
    }
    let last = Reader::options().verify(true).open(&target).unwrap();
    assert_eq!(check(&last), versions);
    eprintln!(
        "concurrent replacement: {versions} replacements, {} whole-file reads by \
         {READER_THREADS} threads and {READER_PROCESSES} processes ({} of a file held while \
         it was replaced), at most {most_versions} versions seen by one reader, in {:?}",
        total.0,
        total.1,
        started.elapsed()
    );
}
