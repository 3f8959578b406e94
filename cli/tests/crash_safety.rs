//! Crash safety of `brine export`: killed with SIGKILL at a random moment, it leaves the
//! output either the old file or the complete new one, and the temporary file it leaves behind
//! is gone after the next brine write in that folder (the library's own writer is tested the
//! same way in the root crate's tests/crash_safety.rs).
//!
//! `BRINE_CRASH_EXPORT_KILLS` sets the number of kills per output format (default 4),
//! `BRINE_CRASH_SEED` the random moments (printed, so a failure can be replayed). Run with
//! `--nocapture` to see the tally.
//!
//! Linux only: the removal of abandoned temporary files relies on `flock`.
#![cfg(target_os = "linux")]

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use brine::frame::{Column, Frame, FrameOptions};
use brine::{Codec, EntryOptions, Writer};
use rand::{Rng, SeedableRng};

const SEED_ENV: &str = "BRINE_CRASH_SEED";

/// f32 elements of the raw array (16 MiB).
const RAW_LEN: usize = 4 << 20;
/// f64 elements of the compressed array (16 MiB before compression).
const ZSTD_LEN: usize = 2 << 20;
/// Rows of the frame (an i64, an f64 and a string column).
const ROWS: usize = 300_000;

/// Writes the file the exports read: a raw array `a-raw`, a zstd-shuffled array `b-zstd` and a
/// frame `c-frame` whose string column is compressed (the entries, sizes and codecs of the
/// root crate's crash-safety file).
fn write_source(path: &Path) {
    let raw: Vec<f32> = (0..RAW_LEN).map(|i| (i % 65_536) as f32 + 2.0).collect();
    // A random walk: compresses, but not to nothing.
    let mut x = 2.0;
    let zstd: Vec<f64> = (0..ZSTD_LEN)
        .map(|i| {
            x += ((i.wrapping_mul(2_654_435_761) >> 7) % 17) as f64 - 8.0;
            x
        })
        .collect();
    let frame = Frame::builder()
        .column(
            "id",
            Column::new((0..ROWS as i64).map(|i| i * 3 + 2).collect()),
        )
        .column(
            "score",
            Column::new((0..ROWS).map(|i| i as f64 / 7.0 + 2.0).collect::<Vec<_>>()),
        )
        .column(
            "label",
            Column::strings((0..ROWS).map(|i| format!("v2-row{i}"))),
        )
        .build()
        .unwrap();
    let mut w = Writer::create(path).unwrap();
    w.put_array("a-raw", &raw, &[RAW_LEN / 1024, 1024]).unwrap();
    let shuffled = EntryOptions::new()
        .codec(Codec::zstd_shuffled())
        .zstd_level(1);
    w.put_array_with("b-zstd", &zstd, &[ZSTD_LEN], &shuffled)
        .unwrap();
    let columns = FrameOptions::new().column_codec("label", Codec::zstd());
    w.put_frame_with("c-frame", &frame, &columns).unwrap();
    w.finish().unwrap();
}

fn env_u64(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value} is not a number")),
    )
}

/// Files in `dir` other than those named in `keep`.
fn strays(dir: &Path, keep: &[&str]) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !keep.iter().any(|k| p.file_name().unwrap() == *k))
        .collect()
}

/// Kills of `brine export` (default 4 per output format; `BRINE_CRASH_EXPORT_KILLS` sets it)
/// at random moments: the output is the old file or the complete new one, and the temporary
/// file a kill leaves is removed by the next brine write in the folder. Before exports used
/// brine's own temporary files, every killed export leaked its `.brine-export-*` file.
#[test]
fn sigkill_of_brine_export_leaves_the_old_or_the_new_output_and_no_leak() {
    let kills = env_u64("BRINE_CRASH_EXPORT_KILLS").unwrap_or(4);
    let seed = env_u64(SEED_ENV).unwrap_or_else(|| rand::thread_rng().r#gen());
    eprintln!("export kills: {kills} per format, {SEED_ENV}={seed}");
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    let bin = env!("CARGO_BIN_EXE_brine");
    let src_dir = tempfile::tempdir().unwrap();
    let source = src_dir.path().join("source.brine");
    write_source(&source);

    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other.brine");
    let (mut killed, mut left_by_kill) = (0, 0);
    for (entry, output) in [
        ("a-raw", "out.npy"),
        ("b-zstd", "out.safetensors"),
        ("c-frame", "out.arrow"),
        ("c-frame", "out.csv"),
    ] {
        let target = dir.path().join(output);
        let keep = [output, "other.brine"];
        let export = || {
            let mut cmd = Command::new(bin);
            cmd.arg("export")
                .arg(&source)
                .arg(entry)
                .arg("-o")
                .arg(&target);
            cmd.stdout(Stdio::null()).stderr(Stdio::null());
            cmd
        };
        // The reference: one export unkilled, timed.
        let t = Instant::now();
        let status = export().status().unwrap();
        let time = t.elapsed();
        assert!(status.success(), "export of {entry} to {output}");
        let new = std::fs::read(&target).unwrap();
        let window = time.as_micros() as u64 * 11 / 10;
        for k in 0..kills {
            std::fs::write(&target, b"the old output").unwrap();
            let mut child = export().spawn().unwrap();
            std::thread::sleep(Duration::from_micros(rng.gen_range(0..=window)));
            if child.try_wait().unwrap().is_none() {
                child.kill().unwrap();
            }
            let status = child.wait().unwrap();
            if status.signal() == Some(libc::SIGKILL) {
                killed += 1;
            } else {
                assert!(status.success(), "{output} run {k}: {status}");
            }
            let bytes = std::fs::read(&target).unwrap();
            assert!(
                bytes == b"the old output" || bytes == new,
                "{output} run {k} ({SEED_ENV}={seed}): the output is neither the old file nor \
                 the complete new one ({} bytes)",
                bytes.len()
            );
            if !strays(dir.path(), &keep).is_empty() {
                left_by_kill += 1;
            }
            // Any brine write in the folder removes what the dead export left.
            Writer::create(&other).unwrap().finish().unwrap();
            let left = strays(dir.path(), &keep);
            assert!(left.is_empty(), "{output} run {k}: leaked {left:?}");
        }
        std::fs::remove_file(&target).unwrap();
    }
    eprintln!(
        "export kills: {killed} of {} runs killed mid-export, {left_by_kill} left a temporary \
         file, none after the next write",
        kills * 4
    );
}
