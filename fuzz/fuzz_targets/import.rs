//! The CLI's .npy, .npz and .safetensors readers on arbitrary bytes. See `src/imports.rs`.
#![no_main]

use std::path::PathBuf;
use std::sync::LazyLock;

/// One folder per process, on tmpfs when there is one.
static DIR: LazyLock<PathBuf> = LazyLock::new(brine_fuzz::scratch_dir);

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    brine_fuzz::imports::run(data, &DIR);
});
