//! Writes the seed corpora of every fuzz target into `fuzz/corpus/<target>/` (run by
//! `fuzz/seed.sh`): the golden files of `spec/vectors/` with each control byte, files with a
//! model of every type the `open_walk` target reads, chunks compressed with every shuffle size,
//! CSV texts with several option bytes, and `.npy`, `.npz` and `.safetensors` files.
//!
//! Not a fuzz target: it is built as one only so that `cargo fuzz build` builds it with the
//! others (a plain binary in this package cannot link the fuzzers' instrumentation). It does its
//! work in the `init` block and exits before fuzzing starts. Usage:
//! `BRINE_SEED_ROOT=REPO_ROOT BRINE_SEED_CORPUS=CORPUS_DIR fuzz/target/<triple>/release/make_seeds`.
#![no_main]
#![allow(unreachable_code)] // `init` exits before the (empty) fuzz body can run.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use brine::model::{ModelOptions, TensorRef};
use brine::raw::codec::compress_chunk;
use brine::{Codec, Dtype, Writer};
use brine_fuzz::models::{self, Small};
use brine_fuzz::{npy, safetensors};

libfuzzer_sys::fuzz_target!(
    init: {
        let var = |name| std::env::var_os(name).map(PathBuf::from);
        let (Some(root), Some(corpus)) = (var("BRINE_SEED_ROOT"), var("BRINE_SEED_CORPUS")) else {
            eprintln!("usage: BRINE_SEED_ROOT=REPO_ROOT BRINE_SEED_CORPUS=CORPUS_DIR make_seeds");
            std::process::exit(2);
        };
        make(&root, &corpus);
        std::process::exit(0);
    },
    |_data: &[u8]| {}
);

fn make(root: &Path, corpus: &Path) {
    let dir = |t: &str| {
        let d = corpus.join(t);
        std::fs::create_dir_all(&d).expect("create corpus folder");
        d
    };
    let tmp = tempfile::tempdir().expect("temp dir");
    open_walk(root, &dir("open_walk"), tmp.path());
    decompress(&dir("decompress"));
    csv(root, &dir("csv"));
    import(&dir("import"));
}

fn write(path: PathBuf, bytes: &[u8]) {
    std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// Control bytes the file seeds get: plain, verify, repair, repair + verify,
/// repair + zero-copy.
const CONTROLS: [u8; 5] = [0, 1, 2, 3, 6];

fn with_controls(out: &Path, name: &str, file: &[u8]) {
    for c in CONTROLS {
        let mut seed = vec![c];
        seed.extend_from_slice(file);
        write(out.join(format!("{name}-{c}")), &seed);
    }
}

fn open_walk(root: &Path, out: &Path, tmp: &Path) {
    let vectors = root.join("spec/vectors");
    let mut names: Vec<_> = std::fs::read_dir(&vectors)
        .expect("spec/vectors")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "brine"))
        .collect();
    names.sort();
    for path in names {
        let bytes = std::fs::read(&path).expect("read vector");
        let stem = path
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .into_owned();
        with_controls(out, &stem, &bytes);
    }
    // The invalid vectors (one broken validation rule each, when the folder exists): plain, and
    // with checksums repaired (which makes the checksum cases valid again).
    if let Ok(dir) = std::fs::read_dir(vectors.join("invalid")) {
        let mut invalid: Vec<_> = dir
            .map(|e| e.expect("dir entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "brine"))
            .collect();
        invalid.sort();
        for path in invalid {
            let bytes = std::fs::read(&path).expect("read invalid vector");
            let stem = path.file_stem().expect("stem").to_string_lossy();
            for c in [0u8, 2] {
                let mut seed = vec![c];
                seed.extend_from_slice(&bytes);
                write(out.join(format!("invalid-{stem}-{c}")), &seed);
            }
        }
    }
    // One model of each type, raw and zstd, each in its own small file.
    let file = tmp.join("m.brine");
    let put = |name: &str, f: &dyn Fn(&mut Writer, ModelOptions)| {
        for (suffix, codec) in [("raw", Codec::Raw), ("zstd", Codec::zstd())] {
            let mut w = Writer::create(&file).expect("create");
            f(&mut w, ModelOptions::new().codec(codec).version(3));
            w.finish().expect("finish");
            let bytes = std::fs::read(&file).expect("read");
            with_controls(out, &format!("model-{name}-{suffix}"), &bytes);
        }
    };
    put("small", &|w, o| {
        w.put_model_with("m", &models::small(), &o).unwrap()
    });
    put("rich", &|w, o| {
        w.put_model_with("m", &models::rich(), &o).unwrap()
    });
    put("node", &|w, o| {
        w.put_model_with("m", &models::node(), &o).unwrap()
    });
    put("vec", &|w, o| {
        w.put_model_with("m", &vec![1.5f32, -2.0], &o).unwrap()
    });
    put("string", &|w, o| {
        w.put_model_with("m", &"text".to_owned(), &o).unwrap()
    });
    put("u64", &|w, o| w.put_model_with("m", &42u64, &o).unwrap());
    put("vec-small", &|w, o| {
        w.put_model_with("m", &vec![models::small(), models::small()], &o)
            .unwrap()
    });
    put("option", &|w, o| {
        w.put_model_with(
            "m",
            &Some(vec!["a".to_owned(), "bcdefghijk".to_owned()]),
            &o,
        )
        .unwrap()
    });
    put("map", &|w, o| {
        let map: BTreeMap<String, Vec<f64>> = [("k".to_owned(), vec![1.0, 2.0])].into();
        w.put_model_with("m", &map, &o).unwrap()
    });
    put("tensor", &|w, o| {
        w.put_model_with("m", &TensorRef::new("x"), &o).unwrap();
        w.put_array("x", &[1.0f32, 2.0], &[2]).unwrap();
    });
    // Compressed arrays of every dtype with small chunks (bool is checked after decoding).
    let mut w = Writer::create(&file).expect("create");
    let options = |shuffle| {
        brine::EntryOptions::new()
            .codec(if shuffle {
                Codec::zstd_shuffled()
            } else {
                Codec::zstd()
            })
            .chunk_len(64)
    };
    w.put_array_with(
        "bool",
        &[true, false, true].repeat(30),
        &[90],
        &options(false),
    )
    .unwrap();
    w.put_array_with(
        "f16",
        &[half::f16::from_f32(1.5); 50],
        &[5, 10],
        &options(true),
    )
    .unwrap();
    w.put_array_with(
        "i64",
        &(0..40i64).collect::<Vec<_>>(),
        &[40],
        &options(true),
    )
    .unwrap();
    w.put_array_with("u8", &[7u8; 200], &[200], &options(false))
        .unwrap();
    let small: Small = models::small();
    w.put_model("model", &small).unwrap();
    w.finish().expect("finish");
    with_controls(
        out,
        "arrays-compressed",
        &std::fs::read(&file).expect("read"),
    );
}

fn decompress(out: &Path) {
    let patterns: [(&str, Vec<u8>); 4] = [
        ("zeros", vec![0u8; 300]),
        ("ramp", (0..=255u8).collect()),
        (
            "floats",
            (0..64)
                .flat_map(|i| (i as f32 * 0.5).to_le_bytes())
                .collect(),
        ),
        ("odd", (0..37u8).map(|i| i.wrapping_mul(97)).collect()),
    ];
    for (name, raw) in &patterns {
        for shuffle in [0u8, 2, 4, 8] {
            let frame = compress_chunk(raw, 3, usize::from(shuffle)).expect("zstd");
            let len = (raw.len() as u32).to_le_bytes();
            let mut seed = vec![shuffle, len[0], len[1], len[2]];
            seed.extend_from_slice(&frame);
            write(out.join(format!("{name}-{shuffle}")), &seed);
        }
    }
}

fn csv(root: &Path, out: &Path) {
    let texts: Vec<(&str, Vec<u8>)> = vec![
        (
            "types",
            b"b,i,f,d,t,s\ntrue,1,1.5,2024-01-31,2024-01-31T12:00:00Z,x\nFalse,-2,NaN,2024/02/01,2024-01-31 12:00:00.123+01:00,\"a,b\"\n,,,,,NA\n".to_vec(),
        ),
        (
            "quotes",
            b"a,b\n\"x\"\"y\",\"multi\nline\"\n1,2\n\"unterminated\n".to_vec(),
        ),
        ("ragged", b"a,b,c\n1,2\n3,4,5,6\n7,8,9\n".to_vec()),
        (
            "semicolon",
            b"\xEF\xBB\xBFx;y\r\n1;-\r\n2;3\r\n".to_vec(),
        ),
        (
            "offsets",
            b"t\n2020-01-01T00:00:00+05:30\n2020-01-01T00:00:00-01:00\n".to_vec(),
        ),
    ];
    let examples = ["iris.csv", "seattle-weather.csv"];
    let mut all = texts;
    for e in examples {
        let text = std::fs::read(root.join("examples/data").join(e)).expect("example csv");
        // The first few lines: enough for inference and a second batch.
        let end = text
            .iter()
            .enumerate()
            .filter(|&(_, &b)| b == b'\n')
            .nth(12)
            .map_or(text.len(), |(i, _)| i + 1);
        all.push((e, text[..end].to_vec()));
    }
    // Option bytes: defaults with header; ';' + skip + '-' nulls; no header + column type
    // + zstd; tab + trim + 1-row batches + nanoseconds.
    let heads: [[u8; 3]; 4] = [
        [8, 0x03, 0],
        [8 | 1 | 32 | 128, 0x07, 0],
        [0, 0x40 | 0x03, 0x80 | 9],
        [8 | 2 | 16, 0x30 | 0x01, 7],
    ];
    for (name, text) in &all {
        for (i, head) in heads.iter().enumerate() {
            let mut seed = head.to_vec();
            seed.extend_from_slice(text);
            write(out.join(format!("{name}-{i}")), &seed);
        }
    }
}

fn import(out: &Path) {
    let npy_file = |descr: &str, shape: &[u64], data: &[u8]| {
        let mut f = npy::encode_header(descr, shape);
        f.extend_from_slice(data);
        f
    };
    let fortran = |descr: &str, shape: &str, data: &[u8]| {
        let dict = format!("{{'descr': '{descr}', 'fortran_order': True, 'shape': {shape}, }}");
        let mut f = b"\x93NUMPY\x01\x00".to_vec();
        f.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        f.extend_from_slice(dict.as_bytes());
        f.extend_from_slice(data);
        f
    };
    let f32s: Vec<u8> = (0..6).flat_map(|i| (i as f32).to_le_bytes()).collect();
    let npys: Vec<(&str, Vec<u8>)> = vec![
        ("f4", npy_file("<f4", &[2, 3], &f32s)),
        ("b1", npy_file("|b1", &[4], &[0, 1, 1, 0])),
        (
            "i8-be",
            npy_file(
                ">i8",
                &[2],
                &[0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 0, 0, 0, 0, 0],
            ),
        ),
        ("u2-scalar", npy_file("<u2", &[], &[1, 2])),
        ("empty", npy_file("<f8", &[0, 5], &[])),
        ("fortran", fortran("<f4", "(2, 3)", &f32s)),
        (
            "fortran-be-3d",
            fortran(">i2", "(2, 1, 3)", &[0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6]),
        ),
    ];
    for (name, file) in &npys {
        let mut seed = vec![0u8];
        seed.extend_from_slice(file);
        write(out.join(format!("npy-{name}")), &seed);
    }
    // .npz: stored and deflated members, as np.savez and np.savez_compressed write them.
    for (name, method) in [
        ("stored", zip::CompressionMethod::Stored),
        ("deflated", zip::CompressionMethod::Deflated),
    ] {
        let mut buf = std::io::Cursor::new(Vec::new());
        let mut z = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default().compression_method(method);
        for (member, file) in npys.iter().take(6) {
            z.start_file(format!("{member}.npy"), opts)
                .expect("zip member");
            z.write_all(file).expect("zip data");
        }
        z.finish().expect("zip finish");
        let mut seed = vec![1u8];
        seed.extend_from_slice(buf.get_ref());
        write(out.join(format!("npz-{name}")), &seed);
    }
    // .safetensors: one tensor with metadata, and two tensors with a zero-length one.
    let mut one = safetensors::encode_header(
        "w",
        Dtype::F32,
        &[2, 3],
        24,
        &[("format".to_owned(), "pt".to_owned())],
    );
    one.extend_from_slice(&f32s);
    let two_json = br#"{"a":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BOOL","shape":[0,3],"data_offsets":[4,4]},"c":{"dtype":"U8","shape":[3],"data_offsets":[4,7]}}"#;
    let mut two = (two_json.len() as u64).to_le_bytes().to_vec();
    two.extend_from_slice(two_json);
    two.extend_from_slice(&[0x80, 0x3f, 0, 0x40, 1, 2, 3]);
    for (name, file) in [("one", one), ("two", two)] {
        let mut seed = vec![2u8];
        seed.extend_from_slice(&file);
        write(out.join(format!("safetensors-{name}")), &seed);
    }
}
