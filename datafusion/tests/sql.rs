//! The `brine-sql` program (`brine sql`): quoted paths and `--table`, over a file, a dataset and
//! the same rows in Parquet and Arrow IPC, printed as a table, JSON lines, a JSON array, or
//! written as an Arrow IPC file; errors name the file and exit 1, usage errors exit 2.

mod common;

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_brine-sql");

fn sql(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn sql_over_files_datasets_parquet_and_arrow() {
    let dir = tempfile::tempdir().unwrap();
    let files = common::write_all(dir.path(), 2, 500);
    let file = files[0].to_str().unwrap();
    let ds = dir.path().join("ds");
    let mut w = brine::dataset::DatasetWriter::create(
        &ds,
        brine::dataset::DatasetOptions::new().max_rows(300),
    )
    .unwrap();
    w.write_frame(&common::flights(0, 1000)).unwrap();
    w.finish().unwrap();

    // The same group-by over the brine file, its Parquet copy and its Arrow copy ("sql" first,
    // as `brine sql` passes it, and without).
    let group_by = "SELECT origin, count(*) AS n, min(distance) AS lo FROM '{}' \
                    WHERE origin <> 'JFK' GROUP BY origin ORDER BY origin";
    let (code, brine_rows, err) = sql(&["sql", &group_by.replace("{}", file), "--json"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(brine_rows.lines().count(), 4, "{brine_rows}");
    assert!(
        brine_rows.starts_with("{\"origin\":\"ATL\",\"n\":"),
        "{brine_rows}"
    );
    assert!(!brine_rows.contains("JFK"), "{brine_rows}");
    for copy in ["parquet/00.parquet", "arrow/00.arrow"] {
        let path = dir.path().join(copy);
        let query = group_by.replace("{}", path.to_str().unwrap());
        let (code, rows, err) = sql(&[&query, "--json"]);
        assert_eq!(code, Some(0), "{copy}: {err}");
        assert_eq!(rows, brine_rows, "{copy}");
    }

    // A dataset by --table, as one JSON array.
    let (code, out, err) = sql(&[
        "SELECT count(*) AS n, max(distance) AS m FROM d",
        "--table",
        &format!("d={}", ds.display()),
        "--json-array",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, format!("[{{\"n\":1000,\"m\":{}}}]\n", 999 * 3 + 100));

    // A join of a file with the dataset, printed as a table.
    let query = format!(
        "SELECT count(*) AS matched FROM '{file}' a JOIN '{}' b ON a.distance = b.distance",
        ds.display()
    );
    let (code, out, err) = sql(&[&query]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("| matched |") && out.contains("| 500     |"),
        "{out}"
    );

    // --arrow: an Arrow IPC file with every row, nothing else left in the folder.
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let arrow = out_dir.join("result.arrow");
    let query = format!("SELECT distance FROM '{}' ORDER BY distance", ds.display());
    let (code, stdout, err) = sql(&[&query, "--arrow", arrow.to_str().unwrap()]);
    assert_eq!((code, stdout.as_str()), (Some(0), ""), "{err}");
    let reader = datafusion::arrow::ipc::reader::FileReader::try_new(
        std::fs::File::open(&arrow).unwrap(),
        None,
    )
    .unwrap();
    let rows: usize = reader.map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(rows, 1000);
    assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 1);

    // Errors: a missing file (exit 1, named), a bad query (exit 1), a bad --table (exit 2).
    let missing = dir.path().join("missing.brine");
    let (code, _, err) = sql(&[&format!("SELECT 1 FROM '{}'", missing.display())]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("missing.brine"), "{err}");
    let (code, _, err) = sql(&[&format!("SELECT no_such_column FROM '{file}'")]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("no_such_column"), "{err}");
    let (code, _, err) = sql(&["SELECT 1", "--table", "nameonly"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("NAME=PATH"), "{err}");
    let failed = out_dir.join("failed.arrow");
    let (code, _, _) = sql(&[
        &format!("SELECT nope FROM '{file}'"),
        "--arrow",
        failed.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(1));
    assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 1);
}
