//! Disk full and file size limits: a write that fails with ENOSPC (a full file system) or
//! EFBIG (over `RLIMIT_FSIZE`) returns `Error::Io` naming the target, leaves the old target
//! untouched and removes its temporary file, whichever step of writing hits the limit.
//!
//! Both run in a child process (this test binary again, selected by an environment variable):
//! the size limit and the ignored SIGXFSZ apply to a whole process, and the full file system
//! is a 1 MiB tmpfs mounted in a private mount namespace (`unshare`), which only the child sees.
#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use brine::frame::{Column, Frame, FrameOptions};
use brine::model::ModelOptions;
use brine::{Codec, EntryOptions, Error, Reader, Writer};

const FSIZE_TEST: &str = "a_write_over_the_file_size_limit_fails_cleanly";
const FSIZE_CHILD: &str = "BRINE_TEST_FSIZE_CHILD";
const ENOSPC_TEST: &str = "a_write_to_a_full_file_system_fails_cleanly";
const ENOSPC_CHILD: &str = "BRINE_TEST_ENOSPC_CHILD";
/// Printed by a child that ran every case, with their number.
const DONE: &str = "disk limit cases checked:";

/// The file size limit of the first test, and the size of the tmpfs of the second.
const LIMIT: u64 = 1 << 20;

#[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema)]
struct Model {
    weights: Vec<f32>,
}

/// `n` pseudo-random (incompressible) bytes.
fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect()
}

/// The file every case tries to replace.
fn write_old(target: &Path) -> Vec<u8> {
    let mut w = Writer::create(target).unwrap();
    w.put_array("old", &noise(64 << 10, 1), &[64 << 10])
        .unwrap();
    w.set_metadata("version", 1i64);
    w.finish().unwrap();
    std::fs::read(target).unwrap()
}

fn folder_listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The ways of writing more than `LIMIT` bytes, each hitting the limit in another step.
type Case = (&'static str, fn(&Path) -> brine::Result<()>);

const CASES: &[Case] = &[
    ("raw array", |target| {
        let mut w = Writer::create(target)?;
        w.put_array("big", &noise(4 << 20, 2), &[4 << 20])?;
        w.finish()
    }),
    ("compressed array", |target| {
        let mut w = Writer::create(target)?;
        let zstd = EntryOptions::new().codec(Codec::zstd()).zstd_level(1);
        w.put_array_with("big", &noise(4 << 20, 3), &[4 << 20], &zstd)?;
        w.finish()
    }),
    ("array written in pieces", |target| {
        let mut w = Writer::create(target)?;
        let mut a = w.array_writer::<u8>("big", &[4 << 20], &EntryOptions::new())?;
        for i in 0..64 {
            a.write(&noise(64 << 10, 10 + i))?;
        }
        a.finish()?;
        w.finish()
    }),
    ("frame", |target| {
        let frame = Frame::builder()
            .column(
                "x",
                Column::new(
                    (0..100_000u64)
                        .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
                        .collect(),
                ),
            )
            .column(
                "s",
                Column::strings((0..100_000).map(|i| format!("row {i} of the frame"))),
            )
            .build()
            .unwrap();
        let mut w = Writer::create(target)?;
        w.put_frame("big", &frame)?;
        w.finish()
    }),
    ("frame written in batches", |target| {
        let mut w = Writer::create(target)?;
        let mut f = w.frame_writer(
            "big",
            &FrameOptions::new().codec(Codec::zstd()).zstd_level(1),
        )?;
        for i in 0..8 {
            let batch = Frame::builder()
                .column("x", Column::new(noise(256 << 10, 20 + i)))
                .build()
                .unwrap();
            f.write_batch(&batch)?;
        }
        f.finish()?;
        w.finish()
    }),
    ("model", |target| {
        let model = Model {
            weights: (0..1 << 20).map(|i| i as f32).collect(),
        };
        let mut w = Writer::create(target)?;
        w.put_model_with("big", &model, &ModelOptions::new().version(1))?;
        w.finish()
    }),
    ("manifest in finish", |target| {
        // The data fits; the manifest, written by `finish`, does not.
        let mut w = Writer::create(target)?;
        w.put_array("fits", &noise(256 << 10, 5), &[256 << 10])
            .expect("256 KiB fit");
        w.set_metadata("blob", noise(LIMIT as usize * 2, 7));
        w.finish()
    }),
];

/// Runs every case against `target` (beside nothing else in its folder), where writing more
/// than `LIMIT` bytes fails with `errno`; returns the number of cases.
fn check_cases(target: &Path, errno: i32) -> usize {
    let dir = target.parent().unwrap();
    let old = write_old(target);
    let listing = folder_listing(dir);
    for (name, case) in CASES {
        let err = match case(target) {
            Ok(()) => panic!("case {name}: writing more than {LIMIT} bytes succeeded"),
            Err(e) => e,
        };
        eprintln!("case {name}: {err}");
        let Error::Io { path, source, .. } = &err else {
            panic!("case {name}: not an I/O error: {err:?}")
        };
        assert_eq!(path, target, "case {name}: the error names another file");
        assert_eq!(
            source.raw_os_error(),
            Some(errno),
            "case {name}: {source} is not errno {errno}"
        );
        assert!(
            err.to_string().contains(&*target.to_string_lossy()),
            "case {name}: the message does not name the file: {err}"
        );
        // The writer is dropped by now (the case returned): its temporary file must be gone,
        // and the old file untouched.
        assert_eq!(
            folder_listing(dir),
            listing,
            "case {name}: files left behind"
        );
        assert!(
            std::fs::read(target).unwrap() == old,
            "case {name}: the old file was changed"
        );
        let r = Reader::options().verify(true).open(target).unwrap();
        assert_eq!(
            r.array::<u8>("old").unwrap().as_slice(),
            &noise(64 << 10, 1)[..]
        );
    }
    // The space and size the failed writes took were given back: a file of 3/4 of the limit
    // can still be written (with ENOSPC, only if the temporary files' blocks were freed).
    let mut w = Writer::create(target).unwrap();
    let fits = noise(LIMIT as usize * 3 / 4, 6);
    w.put_array("new", &fits, &[fits.len()]).unwrap();
    w.finish().unwrap();
    let r = Reader::options().verify(true).open(target).unwrap();
    assert_eq!(r.array::<u8>("new").unwrap().as_slice(), &fits[..]);
    assert_eq!(folder_listing(dir), listing);
    CASES.len()
}

/// Runs this test binary's test `name` in a child, under `wrapper` (a command and its
/// arguments, run before the binary), with `env` set.
fn run_child(wrapper: &[&str], name: &str, env: (&str, &Path)) -> std::io::Result<Output> {
    let exe = std::env::current_exe().unwrap();
    let mut command = match wrapper.split_first() {
        Some((program, args)) => {
            let mut c = Command::new(program);
            c.args(args).arg(&exe);
            c
        }
        None => Command::new(&exe),
    };
    command
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(env.0, env.1)
        .output()
}

/// The number of cases a child reported checking, if it ran them all and passed.
fn cases_checked(out: &Output) -> Option<usize> {
    let stdout = String::from_utf8_lossy(&out.stdout);
    // libtest prints the test's name on the same line, before the child's output.
    let n = stdout.split(DONE).nth(1)?.split_whitespace().next()?;
    out.status.success().then(|| n.parse().unwrap())
}

fn describe(out: &Output) -> String {
    format!(
        "{}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn a_write_over_the_file_size_limit_fails_cleanly() {
    if let Some(dir) = std::env::var_os(FSIZE_CHILD) {
        let target = PathBuf::from(dir).join("data.brine");
        // Old file first, then the limit.
        write_old(&target);
        // SAFETY: SIG_IGN installs no handler (nothing runs in signal context), and this child
        // process exists only to run this test: ignoring SIGXFSZ makes a write past the limit
        // fail with EFBIG instead of killing the process.
        let previous = unsafe { libc::signal(libc::SIGXFSZ, libc::SIG_IGN) };
        assert_ne!(previous, libc::SIG_ERR);
        let limit = libc::rlimit {
            rlim_cur: LIMIT,
            rlim_max: libc::RLIM_INFINITY,
        };
        // SAFETY: `limit` is a valid, initialized rlimit that outlives the call.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_FSIZE, &limit) }, 0);
        let n = check_cases(&target, libc::EFBIG);
        println!("{DONE} {n}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = run_child(&[], FSIZE_TEST, (FSIZE_CHILD, dir.path())).unwrap();
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        cases_checked(&out),
        Some(CASES.len()),
        "the child failed:\n{}",
        describe(&out)
    );
}

#[test]
fn a_write_to_a_full_file_system_fails_cleanly() {
    if let Some(dir) = std::env::var_os(ENOSPC_CHILD) {
        let n = check_cases(&PathBuf::from(dir).join("data.brine"), libc::ENOSPC);
        println!("{DONE} {n}");
        return;
    }
    // A 1 MiB tmpfs over an empty folder, in a mount namespace of the child's own: as an
    // unprivileged user (a user namespace), or else as root.
    let mount = tempfile::tempdir().unwrap();
    let size = format!("size={LIMIT}");
    let script = format!(r#"mount -t tmpfs -o {size} brine-enospc "$0" || exit 97; exec "$@""#);
    let namespaces: [&[&str]; 2] = [&["--user", "--map-root-user", "--mount"], &["--mount"]];
    let mut attempts = String::new();
    for flags in namespaces {
        let mut wrapper = vec!["unshare"];
        wrapper.extend(flags);
        wrapper.extend(["sh", "-c", &script, mount.path().to_str().unwrap()]);
        let out = match run_child(&wrapper, ENOSPC_TEST, (ENOSPC_CHILD, mount.path())) {
            Ok(out) => out,
            Err(e) => {
                attempts.push_str(&format!("\n{wrapper:?}: {e}"));
                continue;
            }
        };
        // 101: the test ran in the namespace and failed.
        assert_ne!(out.status.code(), Some(101), "{}", describe(&out));
        if let Some(n) = cases_checked(&out) {
            eprint!("{}", String::from_utf8_lossy(&out.stderr));
            assert_eq!(n, CASES.len());
            // The tmpfs was the child's alone: nothing is mounted on the folder here.
            assert!(folder_listing(mount.path()).is_empty());
            return;
        }
        attempts.push_str(&format!("\n{wrapper:?}: {}", describe(&out)));
    }
    panic!(
        "could not fill a file system: mounting a small tmpfs in a private mount namespace \
         needs `unshare` with user namespaces enabled, or root. Attempts:{attempts}"
    );
}
