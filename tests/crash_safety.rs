//! Crash safety: a writer killed with SIGKILL at a random moment while it replaces a file
//! leaves the target either the complete old file or the complete new one (byte for byte, and
//! passing `verify`), and the temporary file it leaves behind is gone after the next write in
//! that folder.
//!
//! The test binary runs itself again as the writer (environment variable `BRINE_CRASH_WRITER`
//! set to the target's path). `BRINE_CRASH_ITERATIONS` sets the number of runs (default 60;
//! run thousands by hand), `BRINE_CRASH_SEED` the random moments (printed, so a failure can be
//! replayed). Run with `--nocapture` to see the tally.
//!
//! Linux only: the removal of abandoned temporary files relies on `flock` (src/io/atomic.rs).
#![cfg(target_os = "linux")]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{ChildStderr, Command, Stdio};
use std::time::{Duration, Instant};

use brine::frame::{Column, Frame, FrameOptions};
use brine::model::ModelOptions;
use brine::{Codec, EntryOptions, MetaRef, Reader, Writer};
use rand::{Rng, SeedableRng};

const TEST_NAME: &str = "sigkill_at_random_moments_leaves_the_old_or_the_new_file";
const WRITER_ENV: &str = "BRINE_CRASH_WRITER";
const ITERATIONS_ENV: &str = "BRINE_CRASH_ITERATIONS";
const SEED_ENV: &str = "BRINE_CRASH_SEED";
const DEFAULT_ITERATIONS: u64 = 60;

/// The line the writer prints once its data is ready and it starts writing.
const READY: &str = "phase ready";

const OLD: u64 = 1;
const NEW: u64 = 2;

/// f32 elements of the raw array (16 MiB).
const RAW_LEN: usize = 4 << 20;
/// f64 elements of the compressed array (16 MiB before compression).
const ZSTD_LEN: usize = 2 << 20;
/// Rows of the frame (an i64, an f64 and a string column).
const ROWS: usize = 300_000;
/// Weights of each model (4 MiB).
const WEIGHTS: usize = 1 << 20;

#[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema)]
struct Model {
    version: u64,
    weights: Vec<f32>,
    labels: Vec<String>,
}

/// Everything one version of the file holds; each value depends on the version.
struct Data {
    raw: Vec<f32>,
    zstd: Vec<f64>,
    frame: Frame,
    model: Model,
}

fn data(version: u64) -> Data {
    let v = version as f64;
    let raw = (0..RAW_LEN)
        .map(|i| (i % 65_536) as f32 + v as f32)
        .collect();
    // A random walk: compresses, but not to nothing.
    let mut x = v;
    let zstd = (0..ZSTD_LEN)
        .map(|i| {
            x += ((i.wrapping_mul(2_654_435_761) >> 7) % 17) as f64 - 8.0;
            x
        })
        .collect();
    let frame = Frame::builder()
        .column(
            "id",
            Column::new((0..ROWS as i64).map(|i| i * 3 + version as i64).collect()),
        )
        .column(
            "score",
            Column::new((0..ROWS).map(|i| i as f64 / 7.0 + v).collect::<Vec<_>>()),
        )
        .column(
            "label",
            Column::strings((0..ROWS).map(|i| format!("v{version}-row{i}"))),
        )
        .build()
        .unwrap();
    let model = Model {
        version,
        weights: (0..WEIGHTS).map(|i| i as f32 * 0.001 - v as f32).collect(),
        labels: (0..1000)
            .map(|i| format!("label {i} of {version}"))
            .collect(),
    };
    Data {
        raw,
        zstd,
        frame,
        model,
    }
}

/// Writes one version, calling `phase` before each step.
fn write(path: &Path, d: &Data, version: u64, phase: impl Fn(&str)) -> brine::Result<()> {
    phase("create");
    let mut w = Writer::create(path)?;
    w.set_metadata("version", version as i64);
    phase("array raw");
    w.put_array("a-raw", &d.raw, &[RAW_LEN / 1024, 1024])?;
    phase("array zstd");
    let shuffled = EntryOptions::new()
        .codec(Codec::zstd_shuffled())
        .zstd_level(1);
    w.put_array_with("b-zstd", &d.zstd, &[ZSTD_LEN], &shuffled)?;
    phase("frame");
    let columns = FrameOptions::new().column_codec("label", Codec::zstd());
    w.put_frame_with("c-frame", &d.frame, &columns)?;
    phase("model raw");
    w.put_model("d-model", &d.model)?;
    phase("model zstd");
    let model = ModelOptions::new()
        .codec(Codec::zstd())
        .zstd_level(1)
        .version(version);
    w.put_model_with("e-model", &d.model, &model)?;
    phase("finish");
    w.finish()?;
    phase("done");
    Ok(())
}

/// The writer child: writes the new version over `target`, announcing each step on stderr.
fn writer_child(target: &Path) {
    let d = data(NEW);
    eprintln!("{READY}");
    write(target, &d, NEW, |p| eprintln!("phase {p}")).unwrap();
}

fn env_u64(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value} is not a number")),
    )
}

/// Starts the writer child on `target` and waits until it has its data and starts writing.
fn spawn_writer(target: &Path) -> (std::process::Child, BufReader<ChildStderr>) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
        .env(WRITER_ENV, target)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().expect("piped"));
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        match stderr.read_line(&mut line) {
            Ok(n) if n > 0 && line.trim_end() == READY => return (child, stderr),
            Ok(n) if n > 0 => seen.push_str(&line),
            end => {
                let _ = child.kill();
                let status = child.wait();
                panic!("the writer ended ({status:?}, {end:?}) before it was ready:\n{seen}");
            }
        }
    }
}

/// Files in `dir` other than those named in `keep`.
fn strays(dir: &Path, keep: &[&str]) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !keep.iter().any(|k| p.file_name().unwrap() == *k))
        .collect()
}

fn version_of(path: &Path) -> i64 {
    let r = Reader::options()
        .verify(true)
        .open(path)
        .unwrap_or_else(|e| panic!("the target does not pass verify: {e}"));
    match r.metadata().get("version") {
        Some(MetaRef::Int(v)) => v,
        other => panic!("metadata 'version' is {other:?}"),
    }
}

#[derive(Default, Debug)]
struct Tally {
    /// Kills that found the writer still running.
    killed: u64,
    /// Killed writers that left the old file (the kill landed before the rename).
    killed_old: u64,
    /// Killed writers that left the new file (the kill landed after the rename).
    killed_new: u64,
    /// Writers that finished before the kill was sent.
    completed: u64,
    /// Kills after which a temporary file was left in the folder (to be removed by the next
    /// write).
    temp_left_by_kill: u64,
    /// Runs after which a temporary file was still there after the next write: leaks.
    leaked: u64,
    /// The last step each killed writer had announced, and how many kills landed in it.
    phases: BTreeMap<String, u64>,
}

#[test]
fn sigkill_at_random_moments_leaves_the_old_or_the_new_file() {
    if let Some(target) = std::env::var_os(WRITER_ENV) {
        writer_child(Path::new(&target));
        return;
    }
    let iterations = env_u64(ITERATIONS_ENV).unwrap_or(DEFAULT_ITERATIONS);
    let seed = env_u64(SEED_ENV).unwrap_or_else(|| rand::thread_rng().r#gen());
    eprintln!("crash safety: {iterations} runs, {SEED_ENV}={seed}");
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    let started = Instant::now();

    // The two complete files, written in a folder of their own: brine writes the same bytes
    // for the same entries, so the child's new file must equal `new` byte for byte.
    let refs = tempfile::tempdir().unwrap();
    let (old_path, new_path) = (refs.path().join("old.brine"), refs.path().join("new.brine"));
    write(&old_path, &data(OLD), OLD, |_| ()).unwrap();
    write(&new_path, &data(NEW), NEW, |_| ()).unwrap();
    let old = std::fs::read(&old_path).unwrap();
    let new = std::fs::read(&new_path).unwrap();
    assert_ne!(old, new);

    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("data.brine");
    let other = dir.path().join("other.brine");
    let keep = ["data.brine", "other.brine"];
    std::fs::copy(&old_path, &target).unwrap();

    // How long the writer takes once ready, unkilled (the shortest of three runs): the kills
    // are spread over this time and a bit more.
    let mut write_time = Duration::MAX;
    for _ in 0..3 {
        let (mut child, mut stderr) = spawn_writer(&target);
        let t = Instant::now();
        let status = child.wait().unwrap();
        write_time = write_time.min(t.elapsed());
        let mut rest = String::new();
        stderr.read_to_string(&mut rest).unwrap();
        assert!(status.success(), "the writer failed ({status}):\n{rest}");
        assert!(
            std::fs::read(&target).unwrap() == new,
            "a finished write differs from `new`"
        );
        std::fs::copy(&old_path, &target).unwrap();
    }
    let window = write_time.as_micros() as u64 * 11 / 10;
    eprintln!("an unkilled write takes {write_time:?}; kills land in 0..{window} µs");

    let mut tally = Tally::default();
    let mut target_is_new = false;
    for run in 0..iterations {
        if target_is_new {
            std::fs::copy(&old_path, &target).unwrap();
        }
        let (mut child, mut stderr) = spawn_writer(&target);
        std::thread::sleep(Duration::from_micros(rng.gen_range(0..=window)));
        if child.try_wait().unwrap().is_none() {
            // SIGKILL on unix.
            child.kill().unwrap();
        }
        let status = child.wait().unwrap();
        let mut announced = String::new();
        stderr.read_to_string(&mut announced).unwrap();
        let phase = announced
            .lines()
            .filter_map(|l| l.strip_prefix("phase "))
            .next_back()
            .unwrap_or("ready")
            .to_owned();

        let bytes = std::fs::read(&target).unwrap();
        let version = version_of(&target);
        target_is_new = if bytes == old {
            assert_eq!(version, OLD as i64);
            false
        } else if bytes == new {
            assert_eq!(version, NEW as i64);
            true
        } else {
            panic!(
                "run {run} ({SEED_ENV}={seed}): the target is neither the old file nor the new \
                 one ({} bytes; killed after phase {phase:?})",
                bytes.len()
            );
        };
        match status.signal() {
            Some(libc::SIGKILL) => {
                tally.killed += 1;
                *tally.phases.entry(phase.clone()).or_default() += 1;
                if target_is_new {
                    tally.killed_new += 1;
                } else {
                    tally.killed_old += 1;
                }
            }
            _ => {
                assert!(
                    status.success(),
                    "the writer failed ({status}):\n{announced}"
                );
                assert!(target_is_new, "the writer succeeded but the target is old");
                tally.completed += 1;
            }
        }
        if !strays(dir.path(), &keep).is_empty() {
            tally.temp_left_by_kill += 1;
        }

        // The next write in the folder (another file) removes what the dead writer left.
        let mut w = Writer::create(&other).unwrap();
        w.set_metadata("run", run as i64);
        w.finish().unwrap();
        let left = strays(dir.path(), &keep);
        if !left.is_empty() {
            tally.leaked += 1;
            eprintln!("run {run}: leaked {left:?} (killed after phase {phase:?})");
            // Counted; removed so that a broken build does not fill the disk.
            for path in left {
                std::fs::remove_file(path).unwrap();
            }
        }
    }
    eprintln!(
        "crash safety: {iterations} runs in {:?}: {} killed ({} before the rename: old file, \
         {} after: new file), {} finished before the kill; {} kills left a temporary file, \
         {} still there after the next write; kills by the last step announced: {:?}",
        started.elapsed(),
        tally.killed,
        tally.killed_old,
        tally.killed_new,
        tally.completed,
        tally.temp_left_by_kill,
        tally.leaked,
        tally.phases
    );
    assert_eq!(tally.leaked, 0, "temporary files leaked: {tally:?}");
    assert!(
        iterations == 0 || tally.killed > 0,
        "no run was killed while writing: the test tested nothing ({tally:?})"
    );
}
