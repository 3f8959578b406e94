//! The `brine` command-line tool, run as a user runs it: the built binary, on files brine
//! writes and on files written by the real tools (numpy, safetensors, pandas and pyarrow,
//! through the Python scripts in `tests/interop/`), including inputs it must refuse.
//!
//! The interop tests need `python3` with numpy, safetensors, pandas and pyarrow; without them
//! they fail (never skip) and say how to install them. `BRINE_PYTHON` names another
//! interpreter.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use brine::frame::{Column, Frame};
use brine::{Codec, EntryOptions, Writer};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_brine");

fn brine(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    Command::new(BIN)
        .args(args.iter().map(|a| a.as_ref()))
        .output()
        .expect("run the brine binary")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts success and returns stdout.
#[track_caller]
fn ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "brine failed ({:?}): {}{}",
        o.status.code(),
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

/// Asserts exit code `code`, a one-line error on stderr that contains every one of `words`,
/// and returns it.
#[track_caller]
fn fails(o: Output, code: i32, words: &[&str]) -> String {
    let err = stderr(&o);
    assert_eq!(
        o.status.code(),
        Some(code),
        "expected exit {code}; stdout: {} stderr: {err}",
        stdout(&o)
    );
    if code == 1 {
        // clap's own usage messages (exit 2) span several lines; ours are one line.
        assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
        assert!(err.starts_with("brine: "), "{err}");
    }
    for w in words {
        assert!(err.contains(w), "{err:?} does not contain {w:?}");
    }
    err
}

/// Every file in `dir` (to check no partial or temporary output is left behind).
fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema)]
struct Linear {
    weights: Vec<f32>,
    bias: f32,
}

/// A file with every kind of entry: raw and compressed arrays, a frame, a model, metadata.
fn sample_file(dir: &Path) -> PathBuf {
    let path = dir.join("sample.brine");
    let mut w = Writer::create(&path).unwrap();
    w.set_metadata("epoch", 12i64);
    w.set_metadata("source", "tests/cli.rs");
    let weights: Vec<f32> = (0..1024).map(|i| i as f32 * 0.5).collect();
    w.put_array("weights", &weights, &[32, 32]).unwrap();
    let history: Vec<f64> = (0..300_000).map(|i| (i as f64).sqrt()).collect();
    w.put_array_with(
        "history",
        &history,
        &[history.len()],
        &EntryOptions::new()
            .codec(Codec::zstd_shuffled())
            .metadata("unit", "s"),
    )
    .unwrap();
    let mask: Vec<bool> = (0..100).map(|i| i % 3 == 0).collect();
    w.put_array("mask", &mask, &[10, 10]).unwrap();
    let frame = Frame::builder()
        .column("id", Column::new(vec![1i64, 2, 3]))
        .column(
            "price",
            Column::from_options([Some(9.5f64), None, Some(3.25)]),
        )
        .column("name", Column::strings(["apple", "avocado", "pear"]))
        .build()
        .unwrap();
    w.put_frame("sales", &frame).unwrap();
    w.put_model(
        "classifier",
        &Linear {
            weights: vec![0.5, -1.0],
            bias: 0.1,
        },
    )
    .unwrap();
    w.finish().unwrap();
    path
}

#[test]
fn inspect_shows_every_kind_as_a_table() {
    let dir = tempfile::tempdir().unwrap();
    let path = sample_file(dir.path());
    let text = ok(brine(&[&"inspect", &path]));
    for needle in [
        "format     1.",
        "alignment  4096 bytes",
        "epoch = 12",
        "source = \"tests/cli.rs\"",
        "NAME",
        "CHECKSUM",
        "zstd+shuffle",
        "[32, 32]",
        "3 rows x 3 columns",
        "sales: id i64, price f64 (1 nulls), name utf8",
        "Linear",
        "fingerprint 0x",
    ] {
        assert!(text.contains(needle), "{needle:?} not in\n{text}");
    }
    // One row per entry, columns aligned: every row of the table is as wide as the header
    // up to the checksum column.
    let rows: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("NAME"))
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(rows.len(), 6, "{text}");
    let at = rows[0].find("CHECKSUM").unwrap();
    for r in &rows[1..] {
        assert!(r.len() > at && r.is_char_boundary(at), "{r}");
    }
}

#[test]
fn inspect_json_is_a_documented_stable_document() {
    let dir = tempfile::tempdir().unwrap();
    let path = sample_file(dir.path());
    let doc: Value = serde_json::from_str(&ok(brine(&[&"inspect", &path, &"--json"]))).unwrap();
    assert_eq!(doc["brine_json"], 1);
    assert_eq!(doc["alignment"], 4096);
    assert_eq!(doc["metadata"]["epoch"]["type"], "int");
    assert_eq!(doc["metadata"]["epoch"]["value"], 12);
    let entries = doc["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 5);
    for e in entries {
        assert!(e["name"].is_string() && e["kind"].is_string(), "{e}");
    }
    let by_name = |n: &str| entries.iter().find(|e| e["name"] == n).unwrap();
    let history = by_name("history");
    assert_eq!(history["kind"], "array");
    assert_eq!(history["dtype"], "f64");
    assert_eq!(history["shape"], serde_json::json!([300_000]));
    assert_eq!(history["codec"], "zstd");
    assert_eq!(history["shuffle"], true);
    assert_eq!(history["raw_len"], 2_400_000);
    assert!(history["stored_len"].as_u64().unwrap() < 2_400_000);
    assert!(history["ratio"].as_f64().unwrap() > 1.0);
    assert!(history["checksum"].as_str().unwrap().starts_with("0x"));
    assert_eq!(history["metadata"]["unit"]["value"], "s");
    let sales = by_name("sales");
    assert_eq!(sales["kind"], "frame");
    assert_eq!(sales["rows"], 3);
    let columns = sales["columns"].as_array().unwrap();
    assert_eq!(columns[1]["name"], "price");
    assert_eq!(columns[1]["type"], "f64");
    assert_eq!(columns[1]["null_count"], 1);
    assert_eq!(columns[1]["min"], 3.25);
    assert_eq!(columns[1]["max"], 9.5);
    // price: a validity bitmap of 1 byte and 3 f64 values, both raw.
    let slots: Vec<&str> = columns[1]["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["slot"].as_str().unwrap())
        .collect();
    assert_eq!(slots, ["validity", "values"]);
    assert_eq!(columns[1]["raw_len"], 1 + 24);
    assert_eq!(columns[1]["stored_len"], 1 + 24);
    let column_total: u64 = columns.iter().map(|c| c["raw_len"].as_u64().unwrap()).sum();
    assert_eq!(sales["raw_len"], column_total);
    assert_eq!(sales["codec"], "raw");
    let model = by_name("classifier");
    assert_eq!(model["kind"], "model");
    assert_eq!(model["type_name"], "Linear");
    assert!(model["fingerprint"].as_str().unwrap().starts_with("0x"));
    assert_eq!(model["codec"], "raw");
    assert_eq!(model["raw_len"], model["archive_len"]);
    assert!(model["checksum"].as_str().unwrap().starts_with("0x"));
}

#[test]
fn verify_a_sound_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = sample_file(dir.path());
    let text = ok(brine(&[&"verify", &path]));
    for needle in [
        "tier 1",
        "tier 2",
        "3 arrays viewed",
        "3 frame columns checked",
        "archive not validated",
        "tier 3",
        "sound",
    ] {
        assert!(text.contains(needle), "{needle:?} not in\n{text}");
    }
}

/// Flips one byte in the data of entry `name` (found with `inspect --json`).
fn corrupt(path: &Path, name: &str, at: u64) {
    let doc: Value = serde_json::from_str(&ok(brine(&[&"inspect", &path, &"--json"]))).unwrap();
    let e = doc["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap();
    let offset = e["offset"].as_u64().unwrap() + at;
    let mut bytes = std::fs::read(path).unwrap();
    bytes[offset as usize] ^= 0x40;
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn verify_names_the_first_problem_of_a_corrupt_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = sample_file(dir.path());
    corrupt(&path, "weights", 100);
    let o = brine(&[&"verify", &path]);
    assert!(stdout(&o).contains("tier 1"), "{}", stdout(&o));
    assert!(!stdout(&o).contains("sound"));
    fails(o, 1, &["checksum mismatch", "weights", "sample.brine"]);

    // A compressed entry's damage shows when it is decoded (tier 2).
    let path = sample_file(dir.path());
    corrupt(&path, "history", 50);
    fails(brine(&[&"verify", &path]), 1, &["history"]);

    // A bool byte that is not 0 or 1 fails tier 2.
    let path = sample_file(dir.path());
    corrupt(&path, "mask", 7);
    fails(brine(&[&"verify", &path]), 1, &["mask", "bool"]);
}

#[test]
fn verify_and_inspect_refuse_what_is_not_a_brine_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junk.brine");
    std::fs::write(
        &path,
        b"this is not a brine file at all, just some text bytes",
    )
    .unwrap();
    fails(brine(&[&"verify", &path]), 1, &["junk.brine"]);
    fails(brine(&[&"inspect", &path]), 1, &["junk.brine"]);
    let missing = dir.path().join("missing.brine");
    fails(brine(&[&"verify", &missing]), 1, &["missing.brine"]);
}

#[test]
fn export_checks_the_data_and_leaves_no_partial_output() {
    let dir = tempfile::tempdir().unwrap();
    let path = sample_file(dir.path());
    let out = tempfile::tempdir().unwrap();
    corrupt(&path, "weights", 100);
    let target = out.path().join("weights.npy");
    fails(
        brine(&[&"export", &path, &"weights", &"-o", &target]),
        1,
        &["checksum mismatch", "weights"],
    );
    assert!(
        files_in(out.path()).is_empty(),
        "{:?}",
        files_in(out.path())
    );

    // A file that exists is left untouched by a failed export.
    std::fs::write(&target, b"previous").unwrap();
    fails(
        brine(&[&"export", &path, &"weights", &"-o", &target]),
        1,
        &[],
    );
    assert_eq!(std::fs::read(&target).unwrap(), b"previous");
    assert_eq!(files_in(out.path()), ["weights.npy"]);
}

#[test]
fn export_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = sample_file(dir.path());
    let out = dir.path().join("out.npy");
    fails(
        brine(&[&"export", &path, &"nope", &"-o", &out]),
        2,
        &["nope"],
    );
    fails(
        brine(&[&"export", &path, &"sales", &"-o", &out]),
        2,
        &["sales", "frame"],
    );
    let csv = dir.path().join("weights.csv");
    fails(
        brine(&[&"export", &path, &"weights", &"-o", &csv]),
        2,
        &["weights", "an array", ".npy"],
    );
    fails(
        brine(&[&"export", &path, &"classifier", &"-o", &out]),
        2,
        &["classifier", "a model", "brine schema"],
    );
    let txt = dir.path().join("w.txt");
    fails(
        brine(&[&"export", &path, &"weights", &"-o", &txt]),
        2,
        &["w.txt"],
    );
    let nowhere = dir.path().join("no/such/folder/w.npy");
    fails(
        brine(&[&"export", &path, &"weights", &"-o", &nowhere]),
        1,
        &["no/such/folder"],
    );
    assert!(!out.exists());
}

#[test]
fn export_bf16_to_npy_is_refused_and_to_safetensors_works() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.brine");
    let mut w = Writer::create(&path).unwrap();
    let v: Vec<half::bf16> = (0..6).map(|i| half::bf16::from_f32(i as f32)).collect();
    w.put_array("b", &v, &[2, 3]).unwrap();
    w.finish().unwrap();
    let npy = dir.path().join("b.npy");
    fails(
        brine(&[&"export", &path, &"b", &"-o", &npy]),
        2,
        &["bf16", ".safetensors"],
    );
    assert!(!npy.exists());
    let st = dir.path().join("b.safetensors");
    ok(brine(&[&"export", &path, &"b", &"-o", &st]));
    let bytes = std::fs::read(&st).unwrap();
    let tensors = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let t = tensors.tensor("b").unwrap();
    assert_eq!(t.dtype(), safetensors::Dtype::BF16);
    assert_eq!(t.shape(), [2, 3]);
    assert_eq!(t.data(), bytemuck::cast_slice::<half::bf16, u8>(&v));
}

/// A minimal `.npy` file: little-endian f64 of `shape`, `data` bytes after the header.
fn npy_bytes(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + dict.len() + 1) % 64 != 0 {
        dict.push(' ');
    }
    dict.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out.extend_from_slice(data);
    out
}

fn safetensors_bytes(header: &str, data: &[u8]) -> Vec<u8> {
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

/// Runs `brine import input -o out.brine` and checks it fails with `code` and `words`, leaving
/// nothing in the output folder.
#[track_caller]
fn import_fails(input: &Path, code: i32, words: &[&str]) {
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("out.brine");
    fails(brine(&[&"import", &input, &"-o", &target]), code, words);
    assert!(
        files_in(out.path()).is_empty(),
        "{:?}",
        files_in(out.path())
    );
}

#[test]
fn import_refuses_bad_inputs_written_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let put = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let truncated = put("truncated.npy", &npy_bytes("<f8", "(10,)", &[0; 79]));
    import_fails(&truncated, 1, &["truncated.npy", "truncated", "80 bytes"]);
    let trailing = put("trailing.npy", &npy_bytes("<f8", "(10,)", &[0; 81]));
    import_fails(&trailing, 1, &["trailing.npy", "trailing"]);
    let object = put(
        "object.npy",
        &npy_bytes("|O", "(2,)", b"\x80\x04garbage pickle"),
    );
    import_fails(&object, 1, &["object.npy", "pickled"]);
    let not_npy = put("text.npy", b"hello, world: not an npy file");
    import_fails(&not_npy, 1, &["text.npy", "not a .npy file"]);
    let huge = put(
        "huge.npy",
        &npy_bytes("<f8", "(4611686018427387904, 8)", &[]),
    );
    import_fails(&huge, 1, &["huge.npy"]);
    let bad_bool = put("bool.npy", &npy_bytes("|b1", "(3,)", &[0, 1, 2]));
    import_fails(&bad_bool, 1, &["bool.npy", "bool"]);

    let overlap = put(
        "overlap.safetensors",
        &safetensors_bytes(
            r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
            &[0; 12],
        ),
    );
    import_fails(&overlap, 1, &["overlap.safetensors", "overlap"]);
    let complex = put(
        "c.safetensors",
        &safetensors_bytes(
            r#"{"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}"#,
            &[0; 8],
        ),
    );
    import_fails(&complex, 1, &["c.safetensors", "C64", "not supported"]);
    let short = put("short.safetensors", &[1, 2, 3]);
    import_fails(&short, 1, &["short.safetensors"]);
    let hostile = put("hostile.safetensors", &u64::MAX.to_le_bytes());
    import_fails(&hostile, 1, &["hostile.safetensors", "limit"]);
}

#[test]
fn import_usage_and_io_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.npy");
    std::fs::write(&good, npy_bytes("<f8", "(1,)", &[0; 8])).unwrap();
    let out = dir.path().join("out.brine");
    let missing = dir.path().join("missing.npy");
    fails(
        brine(&[&"import", &missing, &"-o", &out]),
        1,
        &["missing.npy"],
    );
    let feather = dir.path().join("t.feather");
    std::fs::write(&feather, b"ARROW1").unwrap();
    fails(
        brine(&[&"import", &feather, &"-o", &out]),
        1,
        &["t.feather", "not a readable Arrow IPC file"],
    );
    let txt = dir.path().join("t.txt");
    std::fs::write(&txt, b"x").unwrap();
    fails(brine(&[&"import", &txt, &"-o", &out]), 2, &["t.txt"]);
    fails(
        brine(&[&"import", &good, &good, &"--name", &"x", &"-o", &out]),
        2,
        &["--name"],
    );
    fails(
        brine(&[&"import", &good, &"--compress", &"lz4", &"-o", &out]),
        2,
        &["lz4"],
    );
    fails(
        brine(&[&"import", &good, &"--compress", &"zstd:99", &"-o", &out]),
        2,
        &["99"],
    );
    fails(
        brine(&[&"import", &good, &"--shuffle", &"-o", &out]),
        2,
        &["--compress"],
    );
    fails(
        brine(&[&"import", &good, &"--align", &"1000", &"-o", &out]),
        2,
        &["1000"],
    );
    fails(brine(&[&"import", &good]), 2, &["--output"]);
    let nowhere = dir.path().join("no/such/folder/out.brine");
    fails(
        brine(&[&"import", &good, &"-o", &nowhere]),
        1,
        &["no/such/folder"],
    );
    // The same entry name twice.
    fails(brine(&[&"import", &good, &good, &"-o", &out]), 1, &["good"]);
    assert!(!out.exists());
}

#[test]
fn import_csv_and_name_and_align() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("weather.csv");
    std::fs::write(
        &csv,
        "day,temp,city\n2024-01-01,3.5,Paris\n2024-01-02,,Lyon\n",
    )
    .unwrap();
    let npy = dir.path().join("v.npy");
    std::fs::write(&npy, npy_bytes("<i4", "(2,)", &[1, 0, 0, 0, 2, 0, 0, 0])).unwrap();
    let out = dir.path().join("out.brine");
    let text = ok(brine(&[
        &"import",
        &csv,
        &npy,
        &"-o",
        &out,
        &"--align",
        &"65536",
        &"--compress",
        &"zstd",
    ]));
    assert!(
        text.contains("weather: frame, 2 rows x 3 columns"),
        "{text}"
    );
    let r = brine::Reader::open(&out).unwrap();
    assert_eq!(r.alignment(), 65536);
    assert_eq!(r.frame("weather").unwrap().rows(), 2);
    assert_eq!(r.array::<i32>("v").unwrap().as_slice(), [1, 2]);
    assert_eq!(r.array_entry("v").unwrap().codec().name(), "zstd");

    ok(brine(&[
        &"import", &npy, &"--name", &"renamed", &"-o", &out,
    ]));
    let r = brine::Reader::open(&out).unwrap();
    assert_eq!(r.array::<i32>("renamed").unwrap().as_slice(), [1, 2]);
    assert_eq!(r.len(), 1);
}

/// The Python interpreter, checked to have numpy, safetensors, pandas and pyarrow.
fn python() -> String {
    let python = std::env::var("BRINE_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let probe = Command::new(&python)
        .args(["-c", "import numpy, safetensors, pandas, pyarrow"])
        .output();
    match probe {
        Ok(o) if o.status.success() => python,
        Ok(o) => panic!(
            "the CLI interop tests need numpy, safetensors, pandas and pyarrow for {python}: \
             install them with `{python} -m pip install -r tests/requirements.txt` ({})",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => panic!(
            "the CLI interop tests need {python} with numpy, safetensors, pandas and pyarrow: \
             install Python 3, then `python3 -m pip install -r tests/requirements.txt` \
             (or set BRINE_PYTHON) ({e})"
        ),
    }
}

fn interop_script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/interop")
        .join(name)
}

/// Runs the interop script `script` (make_inputs.py, make_frames.py) into a temporary folder;
/// returns it and the cases file `cases` the script wrote there.
fn make(python: &str, script: &str, cases: &str) -> (tempfile::TempDir, Value) {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(python)
        .arg(interop_script(script))
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{script}: {}", stderr(&o));
    let cases = std::fs::read_to_string(dir.path().join(cases)).unwrap();
    (dir, serde_json::from_str(&cases).unwrap())
}

/// Runs make_inputs.py: arrays written by numpy and safetensors.
fn make_inputs(python: &str) -> (tempfile::TempDir, Value) {
    make(python, "make_inputs.py", "cases.json")
}

#[test]
fn interop_round_trip_of_files_written_by_numpy_and_safetensors() {
    let python = python();
    let (dir, cases) = make_inputs(&python);
    let root = dir.path();
    let cases = cases["cases"].as_array().unwrap();
    let mut exported = 0;
    for (variant, extra) in [
        ("raw", &[][..]),
        ("zstd", &["--compress", "zstd:3", "--shuffle"][..]),
    ] {
        let brine_dir = root.join(format!("brine-{variant}"));
        let export_dir = root.join(format!("export-{variant}"));
        std::fs::create_dir_all(&brine_dir).unwrap();
        std::fs::create_dir_all(&export_dir).unwrap();
        for (i, case) in cases.iter().enumerate() {
            let input = root.join(case["input"].as_str().unwrap());
            let file = brine_dir.join(format!("{i}.brine"));
            let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"import", &input, &"-o", &file];
            for a in extra {
                args.push(a);
            }
            ok(brine(&args));
            let text = ok(brine(&[&"verify", &file]));
            assert!(text.contains("sound"), "{text}");
            let doc: Value =
                serde_json::from_str(&ok(brine(&[&"inspect", &file, &"--json"]))).unwrap();
            let entries = case["entries"].as_array().unwrap();
            assert_eq!(
                doc["entries"].as_array().unwrap().len(),
                entries.len(),
                "{input:?}"
            );
            for e in entries {
                let name = e["name"].as_str().unwrap();
                let out = export_dir.join(e["output"].as_str().unwrap());
                ok(brine(&[&"export", &file, &name, &"-o", &out]));
                exported += 1;
            }
        }
    }
    let o = Command::new(&python)
        .arg(interop_script("check_outputs.py"))
        .arg(root)
        .arg(root.join("export-raw"))
        .arg(root.join("export-zstd"))
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "check_outputs.py:\n{}{}",
        stdout(&o),
        stderr(&o)
    );
    assert!(
        stdout(&o).contains(&format!("{exported} passed, 0 failed")),
        "{}",
        stdout(&o)
    );
}

#[test]
fn interop_several_inputs_into_one_file() {
    let python = python();
    let (dir, _) = make_inputs(&python);
    let root = dir.path();
    let inputs = [
        "be_f8.npy",
        "f_order_2d.npy",
        "deflated.npz",
        "model.safetensors",
    ];
    let out = root.join("all.brine");
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"import"];
    let paths: Vec<PathBuf> = inputs.iter().map(|i| root.join("inputs").join(i)).collect();
    for p in &paths {
        args.push(p);
    }
    args.push(&"-o");
    args.push(&out);
    ok(brine(&args));
    let r = brine::Reader::open(&out).unwrap();
    assert_eq!(r.len(), 1 + 1 + 6 + 14);
    assert_eq!(r.array_entry("fortran").unwrap().shape(), [5, 3]);
    assert_eq!(r.array_entry("t.scalar").unwrap().shape(), [] as [u64; 0]);
    assert!(matches!(
        r.metadata().get("format"),
        Some(brine::MetaRef::Str("np"))
    ));
}

#[test]
fn interop_bad_inputs_written_by_numpy() {
    let python = python();
    let (dir, cases) = make_inputs(&python);
    for bad in cases["bad"].as_array().unwrap() {
        let input = dir.path().join(bad["input"].as_str().unwrap());
        let file_name = input.file_name().unwrap().to_str().unwrap().to_owned();
        import_fails(&input, 1, &[&file_name, bad["message"].as_str().unwrap()]);
    }
}

/// Runs make_frames.py: frames written by pandas and pyarrow.
fn make_frames(python: &str) -> (tempfile::TempDir, Value) {
    make(python, "make_frames.py", "frames.json")
}

#[test]
fn interop_frames_written_by_pandas_and_pyarrow() {
    let python = python();
    let (dir, cases) = make_frames(&python);
    let root = dir.path();
    let cases = cases["cases"].as_array().unwrap();
    assert!(cases.len() >= 6);
    let mut exported = 0;
    for (variant, extra) in [("raw", &[][..]), ("zstd", &["--compress", "zstd:1"][..])] {
        let export_dir = root.join(format!("export-{variant}"));
        std::fs::create_dir_all(&export_dir).unwrap();
        for case in cases {
            let input = root.join(case["input"].as_str().unwrap());
            let entry = case["entry"].as_str().unwrap();
            let file = root.join(format!("{entry}-{variant}.brine"));
            let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> =
                vec![&"import", &input, &"-o", &file, &"--name", &entry];
            for a in extra {
                args.push(a);
            }
            let text = ok(brine(&args));
            assert!(text.contains(&format!("{entry}: frame")), "{text}");
            let text = ok(brine(&[&"verify", &file]));
            assert!(text.contains("sound"), "{text}");
            for ext in ["arrow", "csv"] {
                let out = export_dir.join(format!("{entry}.{ext}"));
                ok(brine(&[&"export", &file, &entry, &"-o", &out]));
                exported += 1;
            }
        }
    }
    let o = Command::new(&python)
        .arg(interop_script("check_frames.py"))
        .arg(root)
        .arg(root.join("export-raw"))
        .arg(root.join("export-zstd"))
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "check_frames.py:\n{}{}",
        stdout(&o),
        stderr(&o)
    );
    assert!(
        stdout(&o).contains(&format!("{exported} passed, 0 failed")),
        "{}",
        stdout(&o)
    );
}

#[test]
fn interop_bad_frames_written_by_pandas_and_pyarrow() {
    let python = python();
    let (dir, cases) = make_frames(&python);
    for bad in cases["bad"].as_array().unwrap() {
        let input = dir.path().join(bad["input"].as_str().unwrap());
        let file_name = input.file_name().unwrap().to_str().unwrap().to_owned();
        import_fails(&input, 1, &[&file_name, bad["message"].as_str().unwrap()]);
    }
}

#[test]
fn head_shows_the_first_rows_aligned() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.brine");
    let mut w = Writer::create(&path).unwrap();
    let frame = Frame::builder()
        .column("id", Column::new((0..100i64).collect::<Vec<_>>()))
        .column(
            "price",
            Column::from_options((0..100).map(|i| (i % 3 != 1).then_some(i as f64 / 4.0))),
        )
        .column(
            "name",
            Column::strings((0..100).map(|i| {
                if i == 2 {
                    "a long name that goes on and on and on, longer than any cell".to_owned()
                } else {
                    format!("東京{i}")
                }
            })),
        )
        .build()
        .unwrap();
    w.put_frame("sales", &frame).unwrap();
    w.put_array("weights", &[1.0f32, 2.0], &[2]).unwrap();
    w.finish().unwrap();

    let text = ok(brine(&[&"head", &path, &"sales", &"-n", &"3"]));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "\"sales\": 100 rows x 3 columns",
            "id   price  name",
            "i64  f64    utf8",
            "  0    0.0  東京0",
            "  1   null  東京1",
            "  2    0.5  a long name that goes on and on and on,…",
            "(3 of 100 rows)",
        ],
        "{text}"
    );
    // More rows than the frame has: all of them, and no "of" line.
    let text = ok(brine(&[&"head", &path, &"sales", &"-n", &"1000"]));
    assert_eq!(text.lines().count(), 3 + 100, "{text}");
    fails(brine(&[&"head", &path, &"weights"]), 2, &["weights"]);
    fails(brine(&[&"head", &path, &"nope"]), 2, &["nope"]);
}

#[test]
fn schema_prints_a_model_s_stored_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = sample_file(dir.path());
    let text = ok(brine(&[&"schema", &path, &"classifier"]));
    let entry = brine::Reader::open(&path)
        .unwrap()
        .model_entry("classifier")
        .unwrap()
        .schema()
        .to_owned();
    assert!(
        text.starts_with("model \"classifier\": type Linear, version none, fingerprint 0x"),
        "{text}"
    );
    assert_eq!(
        text.lines().skip(1).collect::<Vec<_>>(),
        entry.lines().collect::<Vec<_>>()
    );
    assert!(
        entry.contains("weights") && entry.contains("bias"),
        "{entry}"
    );
    fails(brine(&[&"schema", &path, &"sales"]), 2, &["sales"]);
}

#[test]
fn import_csv_with_options() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("data.csv");
    std::fs::write(
        &csv,
        "1;2.5;x\n2;-;y\n3;oops;z;extra\n4;8;2024-01-02T03:04:05+01:00\n",
    )
    .unwrap();
    let out = dir.path().join("o.brine");
    let text = ok(brine(&[
        &"import",
        &csv,
        &"-o",
        &out,
        &"--no-header",
        &"--delimiter",
        &";",
        &"--null",
        &"-",
        &"--type",
        &"column_2=f32",
        &"--type",
        &"column_3=categorical",
        &"--skip-bad-rows",
    ]));
    assert!(text.contains("skipped 1 malformed rows"), "{text}");
    let r = brine::Reader::open(&out).unwrap();
    let f = r.frame("data").unwrap();
    assert_eq!(f.rows(), 3);
    let c2 = f.column("column_2").unwrap().primitive::<f32>().unwrap();
    assert_eq!(c2.iter().collect::<Vec<_>>(), [Some(2.5), None, Some(8.0)]);
    let c3 = f.column("column_3").unwrap().categorical().unwrap();
    assert_eq!(c3.get(2), Some("2024-01-02T03:04:05+01:00"));

    // Without --skip-bad-rows the ragged row fails the import, naming its line.
    fails(
        brine(&[
            &"import",
            &csv,
            &"-o",
            &out,
            &"--no-header",
            &"--delimiter",
            &";",
        ]),
        1,
        &["data.csv:3"],
    );
    fails(
        brine(&[&"import", &csv, &"-o", &out, &"--type", &"a=float"]),
        2,
        &["float"],
    );
    let npy = dir.path().join("a.npy");
    std::fs::write(&npy, npy_bytes("<f4", "(1,)", &[0; 4])).unwrap();
    fails(
        brine(&[&"import", &npy, &"-o", &out, &"--no-header"]),
        2,
        &["CSV options"],
    );
}

/// pandas DataFrames written to Feather by pyarrow come back from `brine import` and `brine
/// export` equal (`assert_frame_equal`): the index (named, multi, range), nullable dtypes,
/// ordered and unordered categoricals, zoned timestamps, timedeltas, non-string column names,
/// and the schema's and fields' metadata, raw and compressed.
#[test]
fn pandas_frames_survive_feather_and_brine() {
    let python = python();
    let (dir, cases) = make(&python, "pandas_frames.py", "cases.json");
    let root = dir.path();
    for compress in [&[][..], &["--compress", "zstd"][..]] {
        for case in cases["cases"].as_array().unwrap() {
            let case = case.as_str().unwrap();
            let input = root.join(format!("{case}.feather"));
            let file = root.join(format!("{case}.brine"));
            let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"import", &input, &"-o", &file];
            args.extend(compress.iter().map(|a| a as &dyn AsRef<std::ffi::OsStr>));
            let o = brine(&args);
            assert!(o.status.success(), "{case}: {}", stderr(&o));
            let out = root.join(format!("{case}.out.feather"));
            let o = brine(&[&"export", &file, &case, &"-o", &out]);
            assert!(o.status.success(), "{case}: {}", stderr(&o));
        }
        let o = Command::new(&python)
            .arg(interop_script("pandas_frames.py"))
            .args([std::ffi::OsStr::new("check"), root.as_os_str()])
            .output()
            .unwrap();
        let report = format!("{compress:?}: {}{}", stdout(&o), stderr(&o));
        assert!(o.status.success(), "{report}");
        assert!(stdout(&o).contains("8 passed, 0 failed"), "{report}");
    }
}

/// A file whose entry has any byte of its data flipped is never exported: `brine export`
/// checks every section checksum as it copies, fails with the message `brine verify` gives,
/// and writes nothing. Before it did, 752 of 1,928 such exports (of a file made by the tools)
/// exited 0 and wrote the flipped values. `--no-verify` skips the checksums.
#[test]
fn export_refuses_corrupt_data_with_the_message_of_verify() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.brine");
    let frame = || {
        Frame::builder()
            .column(
                "i",
                Column::from_options((0..40).map(|i| (i % 7 != 3).then_some(i as i64))),
            )
            .column("x", Column::new((0..40).map(|i| i as f64 / 3.0).collect()))
            .column(
                "s",
                Column::strings_opt((0..40).map(|i| (i % 5 != 1).then(|| format!("s{i}é")))),
            )
            .column(
                "c",
                Column::categorical((0..40).map(|i| Some(["a", "b", "c"][i % 3]))),
            )
            .column(
                "b",
                Column::bools_opt((0..40).map(|i| (i % 4 != 0).then_some(i % 3 == 0))),
            )
            .build()
            .unwrap()
    };
    let mut w = Writer::create(&path).unwrap();
    w.put_array("raw", &(0..64).map(|i| i as f32).collect::<Vec<_>>(), &[64])
        .unwrap();
    let zstd = EntryOptions::new().codec(Codec::zstd()).zstd_level(1);
    w.put_array_with("zstd", &(0..200i64).collect::<Vec<_>>(), &[200], &zstd)
        .unwrap();
    w.put_frame("t", &frame()).unwrap();
    let options = brine::frame::FrameOptions::new()
        .codec(Codec::zstd())
        .zstd_level(1);
    w.put_frame_with("tz", &frame(), &options).unwrap();
    w.finish().unwrap();
    let bytes = std::fs::read(&path).unwrap();

    // Every section of each entry, and the outputs it can be exported to.
    let r = brine::Reader::open(&path).unwrap();
    let mut targets: Vec<(&str, &[&str], Vec<brine::SectionInfo>)> = Vec::new();
    for (entry, outputs) in [
        ("raw", &["npy", "safetensors"][..]),
        ("zstd", &["npy", "safetensors"][..]),
        ("t", &["arrow", "csv"][..]),
        ("tz", &["arrow", "csv"][..]),
    ] {
        let sections = match r.entry(entry).unwrap().kind() {
            brine::Kind::Array => vec![r.array_entry(entry).unwrap().section()],
            _ => r
                .frame(entry)
                .unwrap()
                .iter()
                .flat_map(|c| c.sections().map(|(_, s)| s).collect::<Vec<_>>())
                .collect(),
        };
        targets.push((entry, outputs, sections));
    }
    drop(r);
    let corrupt = dir.path().join("corrupt.brine");
    let mut exports = 0;
    for (entry, outputs, sections) in &targets {
        for (k, s) in sections.iter().enumerate() {
            // A few bytes of every section: first, middle, last.
            let len = s.stored_len;
            let picks: Vec<u64> = if len == 0 {
                vec![]
            } else {
                vec![0, len / 2, len - 1]
            };
            for (j, at) in picks.into_iter().enumerate() {
                let mut b = bytes.clone();
                b[(s.offset + at) as usize] ^= 0x04;
                std::fs::write(&corrupt, &b).unwrap();
                let verify = brine(&[&"verify", &corrupt]);
                assert_eq!(
                    verify.status.code(),
                    Some(1),
                    "{entry} section {k} byte {at}"
                );
                let ext = outputs[(k + j) % outputs.len()];
                let out = dir.path().join(format!("out.{ext}"));
                let export = brine(&[&"export", &corrupt, entry, &"-o", &out]);
                exports += 1;
                assert_eq!(
                    export.status.code(),
                    Some(1),
                    "{entry} section {k} byte {at} to .{ext}: {}",
                    stdout(&export)
                );
                assert_eq!(
                    stderr(&export),
                    stderr(&verify),
                    "{entry} section {k} byte {at}"
                );
                assert!(!out.exists(), "{entry}: a corrupt export left {out:?}");
            }
        }
    }
    assert!(exports > 40, "{exports}");
    // No temporary file is left beside the outputs either.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(names.iter().all(|n| n.ends_with(".brine")), "{names:?}");

    // A flipped f32 of a raw array: refused, then exported as asked with --no-verify.
    let raw = &targets[0].2[0];
    let mut b = bytes.clone();
    b[(raw.offset + 5) as usize] ^= 0x01;
    std::fs::write(&corrupt, &b).unwrap();
    let out = dir.path().join("raw.npy");
    assert_eq!(
        brine(&[&"export", &corrupt, &"raw", &"-o", &out])
            .status
            .code(),
        Some(1)
    );
    let o = brine(&[&"export", &corrupt, &"raw", &"-o", &out, &"--no-verify"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out.exists());
}

/// Outputs are checked before anything is read: a folder, a missing folder and a read-only
/// folder are refused at once (here: before the corrupt entry would be found), and no file is
/// left. A symbolic link is written through, and stays a link.
#[test]
fn export_and_import_check_their_output_first_and_write_through_links() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.brine");
    let mut w = Writer::create(&path).unwrap();
    w.put_array("a", &[1.0f32, 2.0, 3.0], &[3]).unwrap();
    w.finish().unwrap();
    // The entry's data flipped: an export that read it would fail on its checksum.
    let mut bytes = std::fs::read(&path).unwrap();
    let offset = brine::Reader::open(&path)
        .unwrap()
        .array_entry("a")
        .unwrap()
        .offset();
    bytes[offset as usize] ^= 1;
    let corrupt = dir.path().join("corrupt.brine");
    std::fs::write(&corrupt, &bytes).unwrap();

    let folder = dir.path().join("folder.npy");
    std::fs::create_dir(&folder).unwrap();
    let o = brine(&[&"export", &corrupt, &"a", &"-o", &folder]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("it is a folder"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("checksum"), "{}", stderr(&o));
    assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 0);

    let missing = dir.path().join("no/such/folder/a.npy");
    let o = brine(&[&"export", &corrupt, &"a", &"-o", &missing]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("does not exist"), "{}", stderr(&o));
    let o = brine(&[&"import", &folder, &"-o", &folder]);
    assert_ne!(o.status.code(), Some(0), "{}", stderr(&o));

    // A link, relative, to a file with restricted permissions: replaced through the link.
    use std::os::unix::fs::PermissionsExt;
    let real = dir.path().join("real.npy");
    std::fs::write(&real, b"old").unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o600)).unwrap();
    let link = dir.path().join("link.npy");
    std::os::unix::fs::symlink("real.npy", &link).unwrap();
    let o = brine(&[&"export", &path, &"a", &"-o", &link]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let written = std::fs::read(&real).unwrap();
    assert!(written.starts_with(b"\x93NUMPY"), "{written:?}");
    let mode = std::fs::metadata(&real).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // A dangling link creates its target.
    let dangling = dir.path().join("dangling.brine");
    std::os::unix::fs::symlink("created.brine", &dangling).unwrap();
    let o = brine(&[&"import", &real, &"-o", &dangling]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        std::fs::symlink_metadata(&dangling)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    brine::Reader::open(dir.path().join("created.brine")).unwrap();
}

/// A read-only folder (a read-only tmpfs in a private mount namespace: root ignores
/// permission bits) is refused before anything is read.
#[test]
fn an_output_in_a_read_only_folder_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.brine");
    let mut w = Writer::create(&path).unwrap();
    w.put_array("a", &[1u8, 2, 3], &[3]).unwrap();
    w.finish().unwrap();
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    let script = format!(
        "mount -t tmpfs -o ro tmpfs '{ro}' && '{BIN}' export '{src}' a -o '{ro}/a.npy'; \
         echo \"exit $?\"",
        ro = ro.display(),
        src = path.display()
    );
    let mut attempts = String::new();
    for flags in [
        &["--user", "--map-root-user", "--mount"][..],
        &["--mount"][..],
    ] {
        let o = Command::new("unshare")
            .args(flags)
            .args(["sh", "-c", &script])
            .output();
        match o {
            Ok(o) if stdout(&o).contains("exit ") => {
                assert!(
                    stdout(&o).contains("exit 1"),
                    "{}{}",
                    stdout(&o),
                    stderr(&o)
                );
                assert!(
                    stderr(&o).contains("Read-only file system"),
                    "{}",
                    stderr(&o)
                );
                return;
            }
            Ok(o) => attempts.push_str(&format!("\n{flags:?}: {}", stderr(&o))),
            Err(e) => attempts.push_str(&format!("\n{flags:?}: {e}")),
        }
    }
    panic!(
        "could not mount a read-only tmpfs (needs `unshare` with user namespaces, or root):{attempts}"
    );
}

/// Replacing a file keeps its permissions and group (numpy.save and cp do); a new file gets
/// 0666 less the umask.
#[test]
fn replacing_an_output_keeps_its_permissions_and_group() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.brine");
    let mut w = Writer::create(&src).unwrap();
    w.put_array("a", &[1.0f64, 2.0], &[2]).unwrap();
    w.finish().unwrap();
    let npy = dir.path().join("a.npy");
    assert!(
        brine(&[&"export", &src, &"a", &"-o", &npy])
            .status
            .success()
    );
    // The sequence of the report, under umask 022.
    let m = dir.path().join("m.brine");
    let script = format!(
        "umask 022 && '{BIN}' import -o '{m}' '{npy}' && chmod 640 '{m}' && \
         '{BIN}' import -o '{m}' '{npy}' && umask 027 && '{BIN}' import -o '{m}.new' '{npy}'",
        m = m.display(),
        npy = npy.display()
    );
    let o = Command::new("sh").args(["-c", &script]).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(&m), 0o640);
    assert_eq!(mode(&dir.path().join("m.brine.new")), 0o640);

    // The group: carried when the process may set it (root may); otherwise the replacement
    // gets no group permissions.
    let other_gid = 1;
    let can_chown = std::os::unix::fs::chown(&m, None, Some(other_gid)).is_ok();
    std::fs::set_permissions(&m, std::fs::Permissions::from_mode(0o660)).unwrap();
    let o = brine(&[&"import", &"-o", &m, &npy]);
    assert!(o.status.success(), "{}", stderr(&o));
    let meta = std::fs::metadata(&m).unwrap();
    if can_chown {
        assert_eq!((meta.gid(), mode(&m)), (other_gid, 0o660));
    } else {
        assert_eq!(mode(&m) & 0o070, 0, "{:o}", mode(&m));
    }

    // Through the library too.
    std::fs::set_permissions(&m, std::fs::Permissions::from_mode(0o604)).unwrap();
    Writer::create(&m).unwrap().finish().unwrap();
    assert_eq!(mode(&m) & 0o707, 0o604);
}

/// A HuggingFace sharded checkpoint written by the real `safetensors` package (two shard
/// files and `model.safetensors.index.json`) becomes an arrays dataset: inspect lists every
/// tensor and its shard, verify passes, export gives back each tensor, which numpy compares
/// with what it wrote. Indexes that point outside their folder, or at a shard that does not
/// hold the tensor, are refused.
#[test]
fn interop_sharded_safetensors_checkpoint_becomes_an_arrays_dataset() {
    let python = python();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let script = r#"
import json, sys, numpy as np
from safetensors.numpy import save_file
root = sys.argv[1]
rng = np.random.default_rng(7)
shards = {
    "model-00001-of-00002.safetensors": {
        "embed.weight": rng.standard_normal((16, 8)).astype(np.float32),
        "layer.0.bias": np.arange(8, dtype=np.float16),
    },
    "model-00002-of-00002.safetensors": {
        "layer.0.weight": rng.standard_normal((8, 8)).astype(np.float32),
        "head.index": np.arange(5, dtype=np.int64) - 2,
    },
}
weight_map = {}
for file, tensors in shards.items():
    save_file(tensors, f"{root}/{file}", metadata={"format": "np"})
    for name, t in tensors.items():
        weight_map[name] = file
        np.save(f"{root}/expected-{name}.npy", t)
json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map},
          open(f"{root}/model.safetensors.index.json", "w"))
json.dump({"metadata": {}, "weight_map": {"x": "../model-00001-of-00002.safetensors"}},
          open(f"{root}/outside.safetensors.index.json", "w"))
json.dump({"metadata": {}, "weight_map": {"embed.weight": "model-00002-of-00002.safetensors"}},
          open(f"{root}/wrong.safetensors.index.json", "w"))
"#;
    let o = Command::new(&python)
        .arg("-c")
        .arg(script)
        .arg(root)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let index = root.join("model.safetensors.index.json");
    let ds = root.join("model-brine");
    let text = ok(brine(&[&"import", &index, &"-o", &ds]));
    assert!(text.contains("version 1"), "{text}");
    let doc: Value = serde_json::from_str(&ok(brine(&[&"inspect", &ds, &"--json"]))).unwrap();
    assert_eq!(doc["kind"], "arrays");
    let arrays = doc["arrays"].as_array().unwrap();
    let names: Vec<&str> = arrays.iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "embed.weight",
            "head.index",
            "layer.0.bias",
            "layer.0.weight"
        ]
    );
    assert_eq!(arrays[0]["shape"], json!([16, 8]));
    assert_eq!(arrays[2]["dtype"], "f16");
    assert_ne!(arrays[0]["shard"], arrays[1]["shard"]);
    let text = ok(brine(&[&"verify", &ds]));
    assert!(text.contains("sound"), "{text}");
    let table = ok(brine(&[&"inspect", &ds]));
    assert!(table.contains("dataset of arrays"), "{table}");
    for name in &names {
        let out = root.join(format!("got-{name}.npy"));
        ok(brine(&[&"export", &ds, name, &"-o", &out]));
    }
    let compare = r#"
import sys, numpy as np
root = sys.argv[1]
for name in sys.argv[2:]:
    a, b = np.load(f"{root}/expected-{name}.npy"), np.load(f"{root}/got-{name}.npy")
    assert a.dtype == b.dtype and a.shape == b.shape and (a == b).all(), name
"#;
    let o = Command::new(&python)
        .arg("-c")
        .arg(compare)
        .arg(root)
        .args(&names)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    fails(
        brine(&[&"export", &ds, &"nope", &"-o", &root.join("x.npy")]),
        2,
        &["nope"],
    );
    fails(
        brine(&[
            &"import",
            &root.join("outside.safetensors.index.json"),
            &"-o",
            &root.join("o"),
        ]),
        1,
        &["beside the index"],
    );
    fails(
        brine(&[
            &"import",
            &root.join("wrong.safetensors.index.json"),
            &"-o",
            &root.join("w"),
        ]),
        1,
        &["maps"],
    );
}

/// The frame of a frame dataset exported as one file: its shards in order, partitioned or
/// not, appended ones included, whose categories differ (the Arrow file gets one dictionary,
/// their union); the same CSV as the whole frame exported from a single file.
#[test]
fn a_frame_dataset_exports_as_one_csv_or_arrow_file() {
    use brine::dataset::{DatasetOptions, DatasetWriter};
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let part = |from: usize, to: usize, kinds: &[&'static str]| {
        let n = to - from;
        Frame::builder()
            .column("id", Column::new((from as i64..to as i64).collect()))
            .column(
                "kind",
                Column::categorical((0..n).map(|i| (i % 5 != 4).then(|| kinds[i % kinds.len()]))),
            )
            .column("note", Column::strings((from..to).map(|i| format!("n{i}"))))
            .build()
            .unwrap()
    };
    let first = part(0, 700, &["a", "b"]);
    let second = part(700, 1000, &["c", "a"]);
    let ds = root.join("ds");
    let mut w = DatasetWriter::create(&ds, DatasetOptions::new().max_rows(250)).unwrap();
    w.write_frame(&first).unwrap();
    w.finish().unwrap();
    let mut w = DatasetWriter::append(&ds, DatasetOptions::new().max_rows(250)).unwrap();
    w.write_frame(&second).unwrap();
    w.finish().unwrap();
    // The same rows in one file.
    let whole = root.join("whole.brine");
    let mut w = Writer::create(&whole).unwrap();
    let mut fw = w.frame_writer("data", &Default::default()).unwrap();
    fw.write_batch(&first).unwrap();
    fw.write_batch(&second).unwrap();
    fw.finish().unwrap();
    w.finish().unwrap();

    let (got, want) = (root.join("ds.csv"), root.join("whole.csv"));
    let text = ok(brine(&[&"export", &ds, &"data", &"-o", &got]));
    assert!(text.contains("1000 rows x 3 columns"), "{text}");
    ok(brine(&[&"export", &whole, &"data", &"-o", &want]));
    assert_eq!(
        std::fs::read_to_string(&got).unwrap(),
        std::fs::read_to_string(&want).unwrap()
    );

    let arrow = root.join("ds.arrow");
    ok(brine(&[&"export", &ds, &"data", &"-o", &arrow]));
    let file = std::fs::File::open(&arrow).unwrap();
    let r = arrow_ipc::reader::FileReader::try_new(file, None).unwrap();
    let mut ids = Vec::new();
    let mut kinds = Vec::new();
    for batch in r {
        let batch = batch.unwrap();
        let id = batch
            .column(0)
            .as_any()
            .downcast_ref::<arrow_array::Int64Array>()
            .unwrap();
        ids.extend(id.values().iter().copied());
        use arrow_array::Array;
        use arrow_array::cast::AsArray;
        let kind = batch
            .column(1)
            .as_dictionary::<arrow_array::types::Int32Type>();
        let values = kind.values().as_string::<i64>();
        kinds.extend(
            kind.keys()
                .iter()
                .map(|k| k.map(|k| values.value(k as usize).to_owned())),
        );
    }
    assert_eq!(ids, (0..1000).collect::<Vec<i64>>());
    let expected: Vec<Option<String>> = (0..1000)
        .map(|i| {
            let (j, kinds) = if i < 700 {
                (i, ["a", "b"])
            } else {
                (i - 700, ["c", "a"])
            };
            (j % 5 != 4).then(|| kinds[j % 2].to_owned())
        })
        .collect();
    assert_eq!(kinds, expected);

    fails(
        brine(&[&"export", &ds, &"other", &"-o", &root.join("x.csv")]),
        2,
        &["one frame", "\"data\""],
    );
    fails(
        brine(&[&"export", &ds, &"data", &"-o", &root.join("x.npy")]),
        2,
        &["a frame"],
    );
}

/// `brine NAME ARGS` runs `brine-NAME NAME ARGS` from PATH and exits as it exits; an unknown
/// NAME with no such program is a usage error that says where `brine sql` comes from.
#[cfg(unix)]
#[test]
fn other_subcommands_are_programs_on_path() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let program = dir.path().join("brine-echo");
    std::fs::write(&program, "#!/bin/sh\necho \"$@\"\nexit 3\n").unwrap();
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = std::env::join_paths(std::iter::once(dir.path().to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let run = |args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .env("PATH", &path)
            .output()
            .unwrap()
    };
    let out = run(&["echo", "a b", "--json"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(stdout(&out), "echo a b --json\n");

    let err = fails(
        run(&["no-such-command", "x"]),
        2,
        &["brine-no-such-command"],
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}
