//! Replays inputs kept from fuzzing (`fuzz/`, see fuzz/README.md) through exactly the code the
//! fuzz targets run: the target modules are included from `fuzz/src/` with `#[path]`. Each
//! input lives in `tests/fuzz_regressions/<target>/` and is listed in the table of its target
//! below with the outcome it must have: an error where brine must refuse it, a full read where
//! it must accept it; never a panic. Every crash the fuzzers find is added here with the fix.

use std::path::{Path, PathBuf};

#[allow(dead_code)]
#[path = "../fuzz/src/models.rs"]
mod models;

#[allow(dead_code)]
#[path = "../fuzz/src/open_walk.rs"]
mod open_walk;

#[allow(dead_code)]
#[path = "../fuzz/src/decompress.rs"]
mod decompress;

#[allow(dead_code)]
#[path = "../fuzz/src/csv_import.rs"]
mod csv_import;

#[allow(dead_code)]
#[path = "../fuzz/src/imports.rs"]
mod imports;

#[allow(dead_code)]
#[path = "../cli/src/formats/npy/header.rs"]
mod npy;

#[allow(dead_code)]
#[path = "../cli/src/formats/safetensors/header.rs"]
mod safetensors;

fn dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_regressions")
        .join(target)
}

fn input(target: &str, name: &str) -> Vec<u8> {
    let path = dir(target).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every file of `target`'s folder is one of `listed`: none is kept without being replayed.
fn assert_all_listed(target: &str, listed: &[&str]) {
    let mut found: Vec<String> = std::fs::read_dir(dir(target))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    let mut listed: Vec<String> = listed.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(found, listed, "tests/fuzz_regressions/{target}/");
}

/// `(file, entries read in full)`. The first byte of each input is the target's control byte
/// (1 = verify at open, 2 = repair checksums, 4 = require zero-copy).
const OPEN_WALK: &[(&str, usize)] = &[
    // spec/vectors/model-small, verified: both models read as the vectors' `Small` type.
    ("model-small-repair-verify", 2),
    ("one-entry-plain", 1),
    // A data byte of the only array changed: a plain open reads it (data is checked by
    // `verify`, tier 3), an open with verify refuses the file.
    ("one-entry-data-flipped-plain", 1),
    ("one-entry-data-flipped-verify", 0),
    // The checksums repaired around a corrupt model archive: the file opens (with verify),
    // the corrupt model `small` is refused by rkyv validation (an invalid enum tag; a vector
    // reaching past the archive), the other model `identity` reads.
    ("model-small-bad-enum-tag-repair-verify", 1),
    ("model-small-vec-past-end-repair", 1),
    // Every array of zstd-shuffle is compressed: with require_zero_copy none can be read.
    ("zstd-shuffle-zero-copy", 0),
];

#[test]
fn open_walk_inputs_read_as_recorded() {
    for &(name, clean) in OPEN_WALK {
        assert_eq!(open_walk::run(&input("open_walk", name)), clean, "{name}");
    }
    assert_all_listed(
        "open_walk",
        &OPEN_WALK.iter().map(|c| c.0).collect::<Vec<_>>(),
    );
}

/// `(file, whether the stored bytes decode)`. Input: shuffle size, 3-byte decoded length,
/// stored chunk.
const DECOMPRESS: &[(&str, bool)] = &[
    ("floats-shuffle4", true),
    // The chunk index declares one byte more than the frame holds.
    ("floats-length-off-by-one", false),
    // A byte after the zstd frame.
    ("floats-trailing-byte", false),
];

#[test]
fn decompress_inputs_decode_as_recorded() {
    for &(name, decodes) in DECOMPRESS {
        assert_eq!(
            decompress::run(&input("decompress", name)),
            decodes,
            "{name}"
        );
    }
    assert_all_listed(
        "decompress",
        &DECOMPRESS.iter().map(|c| c.0).collect::<Vec<_>>(),
    );
}

/// `(file, outcome)`. Input: three option bytes (see fuzz/src/csv_import.rs), then the text.
const CSV: &[(&str, csv_import::Outcome)] = &[
    // Every inferred type, one row per batch, timestamps in microseconds.
    ("types-us", csv_import::Outcome::Imported(3)),
    // The same in seconds: `12:00:00.123` does not fit.
    ("types-0", csv_import::Outcome::Refused),
    // Without the fraction it does.
    ("types-seconds-nofrac", csv_import::Outcome::Imported(3)),
    // A row with too few fields, without skip-bad-rows.
    ("ragged-0", csv_import::Outcome::Refused),
    // An unterminated quote.
    ("quotes-0", csv_import::Outcome::Refused),
    // Tab-delimited timestamps with two offsets, in nanoseconds.
    ("offsets-3", csv_import::Outcome::Imported(2)),
];

#[test]
fn csv_inputs_import_as_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, outcome) in CSV {
        assert_eq!(
            csv_import::run_import(&input("csv", name), tmp.path()),
            *outcome,
            "{name}"
        );
        // The fuzzer's parse-only path finds the same rows.
        if let csv_import::Outcome::Imported(rows) = outcome {
            assert_eq!(
                csv_import::run_parse(&input("csv", name)),
                csv_import::Outcome::Parsed(*rows),
                "{name}"
            );
        }
    }
    assert_all_listed("csv", &CSV.iter().map(|c| c.0).collect::<Vec<_>>());
}

/// `(file, outcome)`. Input: format byte (0 npy, 1 npz, 2 safetensors), then the file.
const IMPORT: &[(&str, imports::Outcome)] = &[
    // A Fortran-order 2-d f32 array, gathered into C order.
    ("npy-fortran", imports::Outcome::Arrays(1)),
    // The data ends before the shape is filled.
    ("npy-truncated", imports::Outcome::Refused),
    // Six deflated members of every kind above.
    ("npz-deflated", imports::Outcome::Arrays(6)),
    // BF16, an empty BOOL tensor sharing its offset, U8.
    ("safetensors-two", imports::Outcome::Arrays(3)),
];

#[test]
fn import_inputs_parse_as_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, outcome) in IMPORT {
        assert_eq!(
            imports::run(&input("import", name), tmp.path()),
            *outcome,
            "{name}"
        );
    }
    assert_all_listed("import", &IMPORT.iter().map(|c| c.0).collect::<Vec<_>>());
}
