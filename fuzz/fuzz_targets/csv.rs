//! CSV import and read on arbitrary bytes. See `src/csv_import.rs`.
#![no_main]

use std::path::PathBuf;
use std::sync::LazyLock;

/// One folder per process, on tmpfs when there is one: each execution writes two small files.
static DIR: LazyLock<PathBuf> = LazyLock::new(brine_fuzz::scratch_dir);

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    brine_fuzz::csv_import::run(data, &DIR);
});
