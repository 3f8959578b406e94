//! The code behind brine's fuzz targets, one module per target, each with a `run(data)` that
//! feeds arbitrary bytes to one of brine's parsers and walks whatever it accepts.
//!
//! The modules depend only on brine, std, rkyv, serde_json and zip, so that
//! `tests/fuzz_regressions.rs` in the main crate includes the same files with `#[path]` and
//! replays every committed crash input through exactly the code the fuzzer ran.
//!
//! A `run` returns normally on any input: errors are expected results. A panic, an abort, a
//! sanitizer report, an out-of-memory or a timeout is a bug in brine (or in the harness).

pub mod csv_import;
pub mod decompress;
pub mod imports;
pub mod models;
pub mod open_walk;

/// The CLI's `.npy` parser, included from the `brine` command's source (cli/, not part of the library).
#[allow(dead_code)]
#[path = "../../cli/src/formats/npy/header.rs"]
pub mod npy;

/// The CLI's `.safetensors` parser, included from the binary's source.
#[allow(dead_code)]
#[path = "../../cli/src/formats/safetensors/header.rs"]
pub mod safetensors;

/// A fresh folder for the files a target writes: `$BRINE_FUZZ_DIR`, else under `/dev/shm`
/// (tmpfs: no disk I/O per execution) when it exists, else under the system's temp folder.
/// Named after the process, so parallel fuzzing jobs do not share it.
pub fn scratch_dir() -> std::path::PathBuf {
    let base = std::env::var_os("BRINE_FUZZ_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            let shm = std::path::Path::new("/dev/shm");
            if shm.is_dir() {
                shm.to_path_buf()
            } else {
                std::env::temp_dir()
            }
        });
    let dir = base.join(format!("brine-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create the fuzz scratch folder");
    dir
}
