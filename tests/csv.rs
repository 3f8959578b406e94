//! CSV import: the shipped data set, every inferred type, nulls, quoting, delimiters, headers,
//! overrides, timestamps and zones, the error policy, each malformed-input error (with its
//! line and column), batching and streaming.

use std::io::Read;
use std::path::Path;

use brine::frame::csv::{self, CsvOptions, CsvReport, OnError};
use brine::frame::{ColumnType, Field, FrameOptions, TimeUnit};
use brine::{Dtype, Error, Reader, Writer};

const WEATHER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/data/seattle-weather.csv"
);

/// A written file and its import report; the folder lives as long as the file is read.
struct Imported {
    _dir: tempfile::TempDir,
    reader: Reader,
    report: CsvReport,
}

fn import_with(input: impl Read, options: &CsvOptions) -> brine::Result<Imported> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.brine");
    let mut w = Writer::create(&path)?;
    let report = csv::import_reader(&mut w, "t", "t.csv", input, options, &FrameOptions::new())?;
    w.finish()?;
    let reader = Reader::open(&path)?;
    Ok(Imported {
        _dir: dir,
        reader,
        report,
    })
}

fn import(text: &str, options: &CsvOptions) -> Imported {
    import_with(text.as_bytes(), options).unwrap()
}

fn import_err(text: &[u8], options: &CsvOptions) -> (u64, Option<String>, String) {
    match import_with(text, options) {
        Err(Error::Csv {
            line,
            column,
            reason,
            ..
        }) => (line, column, reason),
        Err(e) => panic!("expected Error::Csv, got {e}"),
        Ok(_) => panic!("expected Error::Csv, the import succeeded"),
    }
}

impl Imported {
    fn strings(&self, column: &str) -> Vec<Option<String>> {
        let f = self.reader.frame("t").unwrap();
        let c = f.column(column).unwrap().strings().unwrap();
        c.iter().map(|s| s.map(str::to_owned)).collect()
    }
    fn ints(&self, column: &str) -> Vec<Option<i64>> {
        let f = self.reader.frame("t").unwrap();
        let c = f.column(column).unwrap().primitive::<i64>().unwrap();
        c.iter().collect()
    }
    fn floats(&self, column: &str) -> Vec<Option<f64>> {
        let f = self.reader.frame("t").unwrap();
        let c = f.column(column).unwrap().primitive::<f64>().unwrap();
        c.iter().collect()
    }
    fn dates(&self, column: &str) -> Vec<Option<i32>> {
        let f = self.reader.frame("t").unwrap();
        let c = f.column(column).unwrap().dates().unwrap();
        c.iter().collect()
    }
    fn stamps(&self, column: &str) -> (Vec<Option<i64>>, TimeUnit, Option<String>) {
        let f = self.reader.frame("t").unwrap();
        let c = f.column(column).unwrap().timestamps().unwrap();
        (c.values.iter().collect(), c.unit, c.zone.map(str::to_owned))
    }
    fn ty(&self, column: &str) -> ColumnType {
        self.reader.frame("t").unwrap().column(column).unwrap().ty()
    }
    fn rows(&self) -> usize {
        self.reader.frame("t").unwrap().rows()
    }
}

fn s(v: &str) -> Option<String> {
    Some(v.to_owned())
}

fn ts(unit: TimeUnit, zone: Option<&str>) -> ColumnType {
    ColumnType::Timestamp {
        unit,
        zone: zone.map(str::to_owned),
    }
}

const I64: ColumnType = ColumnType::Primitive(Dtype::I64);
const F64: ColumnType = ColumnType::Primitive(Dtype::F64);
const US: TimeUnit = TimeUnit::Microsecond;

#[test]
fn seattle_weather_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weather.brine");
    let mut w = Writer::create(&path).unwrap();
    let options = CsvOptions::new();
    let report = csv::import(&mut w, "weather", WEATHER, &options, &FrameOptions::new()).unwrap();
    w.finish().unwrap();
    assert_eq!(report.rows, 1461);
    assert_eq!(report.skipped, 0);
    assert_eq!(report.bytes, std::fs::metadata(WEATHER).unwrap().len());
    let field = |name: &str, ty| Field {
        name: name.to_owned(),
        ty,
    };
    let expected = vec![
        field("date", ColumnType::Date),
        field("precipitation", F64),
        field("temp_max", F64),
        field("temp_min", F64),
        field("wind", F64),
        field("weather", ColumnType::Utf8),
    ];
    assert_eq!(report.fields, expected);

    let r = Reader::open(&path).unwrap();
    let f = r.frame("weather").unwrap();
    assert_eq!(f.rows(), 1461);
    assert_eq!(f.fields(), expected);
    // First row: 2012/01/01,0.0,12.8,5.0,4.7,drizzle; last: 2015/12/31,0.0,5.6,-2.1,3.5,sun.
    let date = f.column("date").unwrap().dates().unwrap();
    assert_eq!((date.get(0), date.get(1460)), (Some(15340), Some(16800)));
    let temp_max = f.column("temp_max").unwrap().values::<f64>().unwrap();
    assert_eq!((temp_max[0], temp_max[1460]), (12.8, 5.6));
    let temp_min = f.column("temp_min").unwrap().values::<f64>().unwrap();
    assert_eq!((temp_min[0], temp_min[1460]), (5.0, -2.1));
    assert_eq!(
        f.column("precipitation").unwrap().values::<f64>().unwrap()[1],
        10.9
    );
    let weather = f.column("weather").unwrap().strings().unwrap();
    assert_eq!(
        (weather.get(0), weather.get(1460)),
        (Some("drizzle"), Some("sun"))
    );
    let sunny = weather.iter().filter(|w| *w == Some("sun")).count();
    assert_eq!(sunny, 714);
    for c in f.iter() {
        assert_eq!(c.null_count(), 0, "{}", c.name());
    }

    // The in-memory reader gives the same columns.
    let frame = csv::read(WEATHER, &options).unwrap();
    assert_eq!(frame.rows(), 1461);
    let names: Vec<_> = frame
        .columns()
        .map(|(n, c)| (n.to_owned(), c.ty().clone()))
        .collect();
    let expected: Vec<_> = expected.into_iter().map(|f| (f.name, f.ty)).collect();
    assert_eq!(names, expected);
}

#[test]
fn iris_reads_as_four_floats_and_a_species() {
    let iris = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/iris.csv");
    let frame = csv::read(iris, &CsvOptions::new()).unwrap();
    assert_eq!(frame.rows(), 150);
    let types: Vec<_> = frame.columns().map(|(n, c)| (n, c.ty().clone())).collect();
    let expected = [
        ("sepalLength", F64),
        ("sepalWidth", F64),
        ("petalLength", F64),
        ("petalWidth", F64),
        ("species", ColumnType::Utf8),
    ];
    assert_eq!(types, expected);
}

#[test]
fn every_type_is_inferred() {
    let t = import(
        "b,i,f,d,ts,s\n\
         true,1,1.5,2024-02-29,2024-02-29 10:00:00,x\n\
         False,-2,,2024/03/01,2024-03-01T00:00:00.25,\n\
         TRUE,3,3,,,\"y z\"\n",
        &CsvOptions::new(),
    );
    assert_eq!(t.ty("b"), ColumnType::Bool);
    assert_eq!(t.ty("i"), I64);
    assert_eq!(t.ty("f"), F64);
    assert_eq!(t.ty("d"), ColumnType::Date);
    assert_eq!(t.ty("ts"), ts(US, None));
    assert_eq!(t.ty("s"), ColumnType::Utf8);
    let f = t.reader.frame("t").unwrap();
    let b = f.column("b").unwrap().bools().unwrap();
    assert_eq!(
        b.iter().collect::<Vec<_>>(),
        [Some(true), Some(false), Some(true)]
    );
    assert_eq!(t.ints("i"), [Some(1), Some(-2), Some(3)]);
    assert_eq!(t.floats("f"), [Some(1.5), None, Some(3.0)]);
    assert_eq!(t.dates("d"), [Some(19782), Some(19783), None]);
    let day = 19782 * 86_400_000_000i64;
    let (values, unit, zone) = t.stamps("ts");
    assert_eq!((unit, zone), (US, None));
    assert_eq!(
        values,
        [
            Some(day + 36_000_000_000),
            Some(day + 86_400_000_000 + 250_000),
            None
        ]
    );
    assert_eq!(t.strings("s"), [s("x"), None, s("y z")]);
}

#[test]
fn null_tokens_are_configurable() {
    let text = "a,b\n,1\nNA,2\nN/A,3\nNaN,4\nnull,5\nNULL,6\n-,7\nmissing,8\n";
    let t = import(text, &CsvOptions::new());
    let nulls = [None, None, None, None, None, None, s("-"), s("missing")];
    assert_eq!(t.strings("a"), nulls);

    let t = import(
        text,
        &CsvOptions::new().null_token("-").null_token("missing"),
    );
    assert_eq!(t.strings("a"), vec![None; 8]);

    let t = import(text, &CsvOptions::new().null_tokens(["-"]));
    let a = t.strings("a");
    assert_eq!(a[0], s(""));
    assert_eq!(a[1], s("NA"));
    assert_eq!(a[6], None);

    // A null token makes a numeric column's row null, and NaN is a null by default.
    let t = import("x\n1.5\nNaN\n\n2\n", &CsvOptions::new());
    assert_eq!(t.floats("x"), [Some(1.5), None, Some(2.0)]);
}

#[test]
fn quoted_fields_keep_delimiters_newlines_and_quotes() {
    let text = "id,text\n1,\"a, b\"\n2,\"two\nlines\"\n3,\"say \"\"hi\"\"\"\n4,plain\n5,oops\n";
    let t = import(text, &CsvOptions::new().column_type("id", ColumnType::Utf8));
    let expected = [
        s("a, b"),
        s("two\nlines"),
        s("say \"hi\""),
        s("plain"),
        s("oops"),
    ];
    assert_eq!(t.strings("text"), expected);
    // Lines count the newline inside the quoted field: `4,plain` starts on line 6.
    let bad = text.replace("4,plain", "4,plain,extra");
    let (line, column, _) = import_err(bad.as_bytes(), &CsvOptions::new());
    assert_eq!((line, column), (6, None));
}

#[test]
fn other_delimiters() {
    let t = import("a;b\n1,5;x\n2,5;y\n", &CsvOptions::new().delimiter(b';'));
    assert_eq!(t.strings("a"), [s("1,5"), s("2,5")]);
    assert_eq!(t.strings("b"), [s("x"), s("y")]);
    let t = import(
        "a\tb\n1\tx y\n2\t\"q\tq\"\n",
        &CsvOptions::new().delimiter(b'\t'),
    );
    assert_eq!(t.ints("a"), [Some(1), Some(2)]);
    assert_eq!(t.strings("b"), [s("x y"), s("q\tq")]);
    let t = import("a,b\n'x,y',1\n", &CsvOptions::new().quote(b'\''));
    assert_eq!(t.strings("a"), [s("x,y")]);
    let t = import(" a , b \n 1 , x \n", &CsvOptions::new().trim(true));
    assert_eq!((t.ints("a"), t.strings("b")), (vec![Some(1)], vec![s("x")]));
}

#[test]
fn without_a_header_columns_are_numbered() {
    let t = import("1,x\n2,y\n", &CsvOptions::new().has_header(false));
    assert_eq!(t.rows(), 2);
    assert_eq!(t.ints("column_1"), [Some(1), Some(2)]);
    assert_eq!(t.strings("column_2"), [s("x"), s("y")]);
    assert_eq!(t.report.rows, 2);
}

#[test]
fn column_types_can_be_set() {
    let text = b"id,zip,flag,kind,when,raw,wait,small\n\
                1,007,1,a,2024-07-01 12:00:00,\xff\xfe,1500,0.5\n\
                2,010,0,b,2024-07-01T12:00:00Z,ok,-3,\n\
                3,,255,a,,,,2\n";
    let paris = ts(TimeUnit::Millisecond, Some("Europe/Paris"));
    let options = CsvOptions::new()
        .column_type("id", ColumnType::Primitive(Dtype::I32))
        .column_type("zip", ColumnType::Utf8)
        .column_type("flag", ColumnType::Primitive(Dtype::U8))
        .column_type("kind", ColumnType::Categorical { ordered: false })
        .column_type("when", paris.clone())
        .column_type("raw", ColumnType::Binary)
        .column_type("wait", ColumnType::Duration(TimeUnit::Second))
        .column_type("small", ColumnType::Primitive(Dtype::F32));
    let t = import_with(&text[..], &options).unwrap();
    let f = t.reader.frame("t").unwrap();
    let id = f.column("id").unwrap().values::<i32>().unwrap();
    assert_eq!(id, &[1, 2, 3]);
    assert_eq!(t.strings("zip"), [s("007"), s("010"), None]);
    assert_eq!(
        f.column("flag").unwrap().values::<u8>().unwrap(),
        &[1, 0, 255]
    );
    let kind = f.column("kind").unwrap().categorical().unwrap();
    assert_eq!(
        kind.iter().collect::<Vec<_>>(),
        [Some("a"), Some("b"), Some("a")]
    );
    // Local noon in Paris in July is 10:00 UTC; the second value carries its own offset.
    assert_eq!(t.ty("when"), paris);
    let (when, _, _) = t.stamps("when");
    assert_eq!(
        when,
        [Some(1_719_828_000_000), Some(1_719_835_200_000), None]
    );
    let raw = f.column("raw").unwrap().binary().unwrap();
    assert_eq!(
        raw.iter().collect::<Vec<_>>(),
        [Some(&b"\xff\xfe"[..]), Some(b"ok"), None]
    );
    let wait = f.column("wait").unwrap().timestamps().unwrap();
    assert_eq!(
        wait.values.iter().collect::<Vec<_>>(),
        [Some(1500), Some(-3), None]
    );
    let small = f.column("small").unwrap().primitive::<f32>().unwrap();
    assert_eq!(
        small.iter().collect::<Vec<_>>(),
        [Some(0.5), None, Some(2.0)]
    );

    // Categoricals written in batches keep their strings.
    let options = CsvOptions::new()
        .column_type("k", ColumnType::Categorical { ordered: false })
        .batch_rows(2);
    let t = import("k\na\nb\na\n\nc\nb\n", &options);
    let f = t.reader.frame("t").unwrap();
    let k = f.column("k").unwrap().categorical().unwrap();
    let expected = [Some("a"), Some("b"), Some("a"), Some("c"), Some("b")];
    assert_eq!(k.iter().collect::<Vec<_>>(), expected);

    // A value out of the set type's range names the column and says the type was set.
    let options = CsvOptions::new().column_type("flag", ColumnType::Primitive(Dtype::U8));
    let (line, column, reason) = import_err(b"flag\n1\n256\n", &options);
    assert_eq!((line, column.as_deref()), (3, Some("flag")));
    assert!(
        reason.contains("type set with CsvOptions::column_type"),
        "{reason}"
    );

    // A type for a column the file does not have is refused.
    let options = CsvOptions::new().column_type("nope", ColumnType::Utf8);
    let (line, _, reason) = import_err(b"a\n1\n", &options);
    assert_eq!(line, 1);
    assert!(reason.contains("nope"), "{reason}");
}

#[test]
fn timestamps_keep_their_zone() {
    let base = 19_905 * 86_400_000_000i64; // 2024-07-01
    let hour = 3_600_000_000i64;
    let t = import(
        "z,plus2,naive,mixed\n\
         2024-07-01T10:00:00Z,2024-07-01T12:00:00+02:00,2024-07-01 10:00:00.123456,2024-07-01T10:00:00Z\n\
         2024-07-01T11:00:00.5Z,2024-07-01T13:30:00+02:00,2024-07-01T11:00:00,2024-07-01T13:00:00+02:00\n",
        &CsvOptions::new(),
    );
    assert_eq!(
        t.stamps("z"),
        (
            vec![Some(base + 10 * hour), Some(base + 11 * hour + 500_000)],
            US,
            s("UTC")
        )
    );
    let plus2 = vec![Some(base + 10 * hour), Some(base + 11 * hour + hour / 2)];
    assert_eq!(t.stamps("plus2"), (plus2, US, s("+02:00")));
    let naive = vec![Some(base + 10 * hour + 123_456), Some(base + 11 * hour)];
    assert_eq!(t.stamps("naive"), (naive, US, None));
    let mixed = vec![Some(base + 10 * hour), Some(base + 11 * hour)];
    assert_eq!(t.stamps("mixed"), (mixed, US, s("UTC")));

    // Another unit; a fraction finer than the unit is an error that says how to fix it.
    let ns = CsvOptions::new().time_unit(TimeUnit::Nanosecond);
    let t = import("t\n1970-01-01 00:00:00.000000001\n", &ns);
    assert_eq!(t.stamps("t"), (vec![Some(1)], TimeUnit::Nanosecond, None));
    let (line, column, reason) =
        import_err(b"t\n1970-01-01 00:00:00.000000001\n", &CsvOptions::new());
    assert_eq!((line, column.as_deref()), (2, Some("t")));
    assert!(reason.contains("time_unit"), "{reason}");

    // After the sample, a naive value in a zoned column does not fit, nor an offset in a naive one.
    let one = CsvOptions::new().sample_rows(1);
    let (line, column, _) = import_err(b"t\n2024-07-01T10:00:00Z\n2024-07-01T10:00:00\n", &one);
    assert_eq!((line, column.as_deref()), (3, Some("t")));
    let (line, _, _) = import_err(b"t\n2024-07-01T10:00:00\n2024-07-01T10:00:00Z\n", &one);
    assert_eq!(line, 3);
    // In the sample, mixing them makes a string column.
    let t = import(
        "t\n2024-07-01T10:00:00\n2024-07-01T10:00:00Z\n",
        &CsvOptions::new(),
    );
    assert_eq!(t.ty("t"), ColumnType::Utf8);
}

#[test]
fn dates_in_both_formats() {
    let t = import(
        "d\n1970-01-01\n1969/12/31\n2000-02-29\n",
        &CsvOptions::new(),
    );
    assert_eq!(t.ty("d"), ColumnType::Date);
    assert_eq!(t.dates("d"), [Some(0), Some(-1), Some(11_016)]);
    // Not a calendar date: a string column.
    let t = import("d\n2023-02-29\n", &CsvOptions::new());
    assert_eq!(t.ty("d"), ColumnType::Utf8);
}

#[test]
fn a_value_that_does_not_fit_after_the_sample() {
    let mut text = String::from("id,temp\n");
    for i in 0..10 {
        let temp = if i == 7 {
            "abc".to_owned()
        } else {
            format!("{i}.5")
        };
        text.push_str(&format!("{i},{temp}\n"));
    }
    let options = CsvOptions::new().sample_rows(5);
    let (line, column, reason) = import_err(text.as_bytes(), &options);
    assert_eq!((line, column.as_deref()), (9, Some("temp")));
    assert!(
        reason.contains("\"abc\"") && reason.contains("f64"),
        "{reason}"
    );
    assert!(
        reason.contains("first 5 rows") && reason.contains("column_type"),
        "{reason}"
    );

    let t = import(&text, &options.clone().on_error(OnError::Skip));
    assert_eq!((t.report.rows, t.report.skipped), (9, 1));
    assert_eq!(t.report.skipped_lines, [9]);
    assert!(matches!(
        &t.report.skipped_errors[0],
        Error::Csv { line: 9, .. }
    ));
    assert_eq!(t.rows(), 9);
    assert_eq!(
        t.ints("id"),
        (0..10).filter(|&i| i != 7).map(Some).collect::<Vec<_>>()
    );
}

#[test]
fn ragged_rows() {
    let text = b"a,b\n1,2\n3\n4,5,6\n7,8\n";
    let (line, column, reason) = import_err(text, &CsvOptions::new());
    assert_eq!((line, column), (3, None));
    assert!(reason.contains("ragged"), "{reason}");
    let t = import_with(&text[..], &CsvOptions::new().on_error(OnError::Skip)).unwrap();
    assert_eq!(
        (t.report.skipped, t.report.skipped_lines.clone()),
        (2, vec![3, 4])
    );
    assert_eq!(t.ints("a"), [Some(1), Some(7)]);
}

#[test]
fn bad_quotes() {
    let (line, column, reason) = import_err(b"a,b\n1,2\n3,\"x\"y\n", &CsvOptions::new());
    assert_eq!((line, column.as_deref()), (3, Some("b")));
    assert!(reason.contains("closing quote"), "{reason}");
    // An unmatched quote would swallow the rest of the file as one field.
    let (line, column, reason) = import_err(b"a,b\n1,\"2\n3,4\n5,6\n", &CsvOptions::new());
    assert_eq!((line, column.as_deref()), (2, Some("b")));
    assert!(reason.contains("never closed"), "{reason}");
    // A quote inside an unquoted field is taken literally.
    let t = import("h\n5'11\"\n", &CsvOptions::new());
    assert_eq!(t.strings("h"), [s("5'11\"")]);
}

#[test]
fn bytes_that_are_not_utf8() {
    let (line, column, reason) = import_err(b"a,b\n1,ok\n2,caf\xe9\n", &CsvOptions::new());
    assert_eq!((line, column.as_deref()), (3, Some("b")));
    assert!(reason.contains("UTF-8"), "{reason}");
    let options = CsvOptions::new().sample_rows(1);
    let (line, column, reason) = import_err(b"a,b\n1,ok\n2\xff,x\n", &options);
    assert_eq!((line, column.as_deref()), (3, Some("a")));
    assert!(reason.contains("UTF-8"), "{reason}");
    let (line, _, reason) = import_err(b"a,\xffb\n1,2\n", &CsvOptions::new());
    assert_eq!(line, 1);
    assert!(reason.contains("UTF-8"), "{reason}");
    let skip = CsvOptions::new().on_error(OnError::Skip);
    let t = import_with(&b"a,b\n1,ok\n2,caf\xe9\n3,x\n"[..], &skip).unwrap();
    assert_eq!(
        (t.report.rows, t.report.skipped_lines.clone()),
        (2, vec![3])
    );
}

#[test]
fn empty_input_and_header_only() {
    let (line, _, reason) = import_err(b"", &CsvOptions::new());
    assert_eq!(line, 1);
    assert!(reason.contains("empty"), "{reason}");
    let t = import("a,b\n", &CsvOptions::new());
    assert_eq!(t.rows(), 0);
    assert_eq!((t.ty("a"), t.ty("b")), (ColumnType::Utf8, ColumnType::Utf8));
    let t = import("a,b\n", &CsvOptions::new().column_type("b", F64));
    assert_eq!((t.rows(), t.ty("b")), (0, F64));
    assert_eq!(
        csv::read(Path::new(WEATHER), &CsvOptions::new().sample_rows(0))
            .unwrap()
            .rows(),
        1461
    );
}

#[test]
fn an_error_in_the_first_batch_leaves_the_writer_usable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.brine");
    let mut w = Writer::create(&path).unwrap();
    let (options, frame_options) = (CsvOptions::new(), FrameOptions::new());
    let bad = csv::import_reader(
        &mut w,
        "bad",
        "bad.csv",
        &b"a\n1\nx,y\n"[..],
        &options,
        &frame_options,
    );
    assert!(matches!(bad, Err(Error::Csv { line: 3, .. })));
    let good = csv::import_reader(
        &mut w,
        "good",
        "good.csv",
        &b"a\n1\n"[..],
        &options,
        &frame_options,
    );
    assert_eq!(good.unwrap().rows, 1);
    w.finish().unwrap();
    let r = Reader::open(&path).unwrap();
    assert_eq!(r.frame("good").unwrap().rows(), 1);
    assert!(r.frame("bad").is_err());
}

#[test]
fn duplicate_names_are_refused() {
    let (line, column, _) = import_err(b"a,b,a\n1,2,3\n", &CsvOptions::new());
    assert_eq!((line, column.as_deref()), (1, Some("a")));
}

#[test]
fn crlf_blank_lines_and_byte_order_mark() {
    let text = b"\xEF\xBB\xBFa,b\r\n1,2\r\n\r\n\r\n3,4\r\n5\r\n";
    let (line, _, _) = import_err(text, &CsvOptions::new());
    assert_eq!(line, 6);
    let t = import_with(&text[..], &CsvOptions::new().on_error(OnError::Skip)).unwrap();
    assert_eq!(t.ints("a"), [Some(1), Some(3)]);
    assert_eq!(t.report.skipped_lines, [6]);
}

/// 100 rows of every inferred type, with nulls.
fn hundred_rows() -> String {
    let mut text = String::from("i,f,b,d,t,s\n");
    for i in 0..100 {
        let null = i % 9 == 4;
        let v = |x: String| if null { String::new() } else { x };
        text.push_str(&format!(
            "{},{},{},{},{},\"{}\"\n",
            v(format!("{i}")),
            v(format!("{}.25", i * 3)),
            v(format!("{}", i % 2 == 0)),
            v(format!("2020-01-{:02}", i % 28 + 1)),
            v(format!("2020-01-01T00:00:{:02}.5Z", i % 60)),
            v(format!("row {i}, \"\"{i}\"\"")),
        ));
    }
    text
}

#[test]
fn batches_give_the_same_frame_as_one_batch() {
    let text = hundred_rows();
    let one = import(&text, &CsvOptions::new());
    let many = import(&text, &CsvOptions::new().batch_rows(7).sample_rows(10));
    assert_eq!((one.rows(), many.rows()), (100, 100));
    assert_eq!(one.report.fields, many.report.fields);
    assert_eq!(one.ints("i"), many.ints("i"));
    assert_eq!(one.floats("f"), many.floats("f"));
    assert_eq!(one.dates("d"), many.dates("d"));
    assert_eq!(one.stamps("t"), many.stamps("t"));
    assert_eq!(one.strings("s"), many.strings("s"));
    assert_eq!(many.strings("s")[1], s("row 1, \"1\""));
    let bools = |t: &Imported| -> Vec<Option<bool>> {
        let f = t.reader.frame("t").unwrap();
        f.column("b").unwrap().bools().unwrap().iter().collect()
    };
    assert_eq!(bools(&one), bools(&many));
    for c in ["i", "f", "b", "d", "t", "s"] {
        let nulls = one
            .reader
            .frame("t")
            .unwrap()
            .column(c)
            .unwrap()
            .null_count();
        assert_eq!(nulls, 11, "{c}");
    }
}

/// A reader that hands out at most 3 bytes per call, as a slow pipe would.
struct Trickle<'a>(&'a [u8]);

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(3).min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

#[test]
fn streams_from_any_reader() {
    let text = hundred_rows();
    let whole = import(&text, &CsvOptions::new());
    let options = CsvOptions::new().batch_rows(10);
    let trickled = import_with(Trickle(text.as_bytes()), &options).unwrap();
    assert_eq!(trickled.report.bytes, text.len() as u64);
    assert_eq!(whole.strings("s"), trickled.strings("s"));
    assert_eq!(whole.stamps("t"), trickled.stamps("t"));
    // Line numbers stay right across reads of a few bytes, with CRLF endings too.
    let bad = text.replace("row 50,", "row 50,\"x").replace('\n', "\r\n");
    match import_with(Trickle(bad.as_bytes()), &options) {
        Err(Error::Csv { line, column, .. }) => assert_eq!((line, column), (52, s("s"))),
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("the import succeeded"),
    }
}
