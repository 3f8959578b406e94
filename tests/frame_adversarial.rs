//! Frames against hostile bytes: one test per rule of frames, each asserting the error variant
//! and that the message names the file, the entry, the column and the field. Tests match on
//! variants and their structured fields; the message is only checked to name what is wrong.
//!
//! Files are crafted from a file written by brine: its manifest is deserialized into the
//! writer's flat tables ([`Manifest`]), edited, serialized again with rkyv and put behind a
//! header from `Header::encode`, with correct checksums for whatever the tables say
//! ([`Crafted`]). Tier-1 tests lie in the tables; tier-2 tests change the decoded bytes of one
//! section (re-encoding compressed ones and recomputing every checksum, so that `verify`
//! passes and only the content check on first access can notice). Every negative test starts
//! from the baseline file, which opens, verifies and reads cleanly (`crafted_baseline_is_valid`),
//! and changes one thing.

use brine::frame::{Column, ColumnView, Frame, FrameOptions, TimeUnit};
use brine::raw::Dtype;
use brine::raw::manifest::{
    CODEC_RAW, CODEC_ZSTD, COLUMN_BINARY, COLUMN_BOOL, COLUMN_CATEGORICAL, COLUMN_DATE,
    COLUMN_DURATION, COLUMN_PRIMITIVE, COLUMN_TIMESTAMP, COLUMN_UTF8, FrameMeta, KIND_ARRAY,
    KIND_FRAME, Manifest, NO_SECTION,
};
use brine::{AlignedBuf, Codec, Error, Kind, Limit, OpenOptions, Reader, Result, Writer};

/// The name crafted files are opened under; every message must name it.
const FILE: &str = "crafted.brine";

// ---------------------------------------------------------------------------------------------
// Crafting files (tests/common/crafted.rs)
// ---------------------------------------------------------------------------------------------

#[path = "common/crafted.rs"]
mod crafted;
use crafted::Crafted;

/// Every column's name and zone, in column-table order.
fn column_texts(m: &Manifest) -> Vec<(String, String)> {
    let mut start = 0;
    m.columns
        .iter()
        .map(|c| {
            let (name_end, zone_end) = (c.name_end as usize, c.zone_end as usize);
            let text = (
                m.column_text[start..name_end].to_owned(),
                m.column_text[name_end..zone_end].to_owned(),
            );
            start = zone_end;
            text
        })
        .collect()
}

/// The row of the column named `name` in the column table (names are unique across the
/// baseline's frames).
fn col(m: &Manifest, name: &str) -> usize {
    column_texts(m)
        .iter()
        .position(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no column {name:?}"))
}

/// Rewrites `column_text` with the name and zone of column row `i` replaced, moving every
/// later offset, as a writer would have laid them out.
fn set_text(m: &mut Manifest, i: usize, name: &str, zone: &str) {
    let mut texts = column_texts(m);
    texts[i] = (name.to_owned(), zone.to_owned());
    m.column_text.clear();
    for (c, (name, zone)) in m.columns.iter_mut().zip(texts) {
        m.column_text.push_str(&name);
        c.name_end = m.column_text.len() as u32;
        m.column_text.push_str(&zone);
        c.zone_end = m.column_text.len() as u32;
    }
}

/// An edit of column row `usize` of the manifest.
type ColumnEdit = fn(&mut Manifest, usize);
/// An edit setting a buffer slot of column row `usize` to section `u32`.
type SlotEdit = fn(&mut Manifest, usize, u32);

fn set_zone(m: &mut Manifest, column: &str, zone: &str) {
    let i = col(m, column);
    set_text(m, i, column, zone);
}

// ---------------------------------------------------------------------------------------------
// The baseline
// ---------------------------------------------------------------------------------------------

const ROWS: usize = 10;

fn i64s() -> Vec<Option<i64>> {
    (0..ROWS as i64)
        .map(|i| (i % 5 != 1).then_some(i * i - 20))
        .collect()
}
fn f32s() -> Vec<f32> {
    (0..ROWS).map(|i| i as f32 * 0.5 - 1.0).collect()
}
fn flags() -> Vec<Option<bool>> {
    (0..ROWS).map(|i| (i != 4).then_some(i % 3 == 0)).collect()
}
/// Offsets `[0, 3, 6, 6, 6, 11, 12, 12, 14, 18, 19]`: row 0 is `h` and the two bytes of `é`.
fn strs() -> Vec<Option<&'static str>> {
    vec![
        Some("hé"),
        Some("llo"),
        None,
        Some(""),
        Some("ü€"),
        Some("a"),
        None,
        Some("bc"),
        Some("déf"),
        Some("x"),
    ]
}
fn bins() -> Vec<Option<Vec<u8>>> {
    (0..ROWS)
        .map(|i| (i != 7).then(|| vec![0xFF; i % 4]))
        .collect()
}
fn stamps() -> Vec<Option<i64>> {
    (0..ROWS as i64)
        .map(|i| (i != 0).then_some(1_700_000_000_000 + i * 1000))
        .collect()
}
fn days() -> Vec<Option<i32>> {
    (0..ROWS as i32)
        .map(|i| (i != 9).then_some(19_000 - i))
        .collect()
}
fn durations() -> Vec<i64> {
    (0..ROWS as i64).map(|i| i * 7 - 3).collect()
}
/// Dictionary `["x", "ÿes", "z"]` (offsets `[0, 1, 5, 6]`), codes
/// `[0, 0, 1, 0, 2, 1, 0, 0, 2, 0]`, rows 1 and 6 null.
fn cats() -> Vec<Option<&'static str>> {
    vec![
        Some("x"),
        None,
        Some("ÿes"),
        Some("x"),
        Some("z"),
        Some("ÿes"),
        None,
        Some("x"),
        Some("z"),
        Some("x"),
    ]
}

/// Frame "f": one column of every type (raw), and three compressed ones ("zi" i64 with nulls,
/// shuffled; "zs" strings; "zc" categorical) in 16-byte chunks, so that their buffers have
/// several chunks. One name ("día") is not ASCII.
fn frame_f() -> Frame {
    Frame::builder()
        .column("i64", Column::from_options(i64s()))
        .column("f32", Column::new(f32s()))
        .column("flag", Column::bools_opt(flags()))
        .column("s", Column::strings_opt(strs()))
        .column("bin", Column::binary_opt(bins()))
        .column(
            "ts",
            Column::timestamps_opt(stamps(), TimeUnit::Millisecond, Some("Europe/Paris")),
        )
        .column("día", Column::dates_opt(days()))
        .column("dur", Column::durations(durations(), TimeUnit::Microsecond))
        .column("cat", Column::categorical(cats()))
        .column("zi", Column::from_options(i64s()))
        .column("zs", Column::strings_opt(strs()))
        .column("zc", Column::categorical(cats()))
        .build()
        .unwrap()
}

fn frame_options() -> FrameOptions {
    FrameOptions::new()
        .column_codec("zi", Codec::zstd_shuffled())
        .column_codec("zs", Codec::zstd())
        .column_codec("zc", Codec::zstd())
        .chunk_len(16)
}

/// The baseline file as the writer writes it: array "arr" (i64 x 10: as long as an i64
/// column of "f"), frame "f" ([`frame_f`]) and frame "g" (one i32 column "x" of 3 rows).
fn written() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.brine");
    let mut w = Writer::create(&path).unwrap();
    w.put_array("arr", &[5i64; ROWS], &[ROWS]).unwrap();
    w.put_frame_with("f", &frame_f(), &frame_options()).unwrap();
    let g = Frame::builder()
        .column("x", Column::new(vec![1i32, 2, 3]))
        .build()
        .unwrap();
    w.put_frame("g", &g).unwrap();
    w.finish().unwrap();
    std::fs::read(&path).unwrap()
}

fn baseline() -> Crafted {
    Crafted::from_written(&written())
}

fn open(bytes: &[u8]) -> Result<Reader> {
    open_with(Reader::options(), bytes)
}

fn open_with(options: OpenOptions, bytes: &[u8]) -> Result<Reader> {
    options.open_buffer(FILE, AlignedBuf::copy_from_slice(bytes))
}

/// Reads every column of "f" with its typed accessor and compares it with what was written.
fn read_f(r: &Reader) -> Result<()> {
    let f = r.frame("f")?;
    assert_eq!(f.rows(), ROWS);
    assert_eq!(f.width(), 12);
    let col = |name| f.column(name);
    assert_eq!(
        col("i64")?.primitive::<i64>()?.iter().collect::<Vec<_>>(),
        i64s()
    );
    assert_eq!(col("f32")?.values::<f32>()?, &f32s()[..]);
    assert_eq!(col("flag")?.bools()?.iter().collect::<Vec<_>>(), flags());
    for name in ["s", "zs"] {
        assert_eq!(col(name)?.strings()?.iter().collect::<Vec<_>>(), strs());
    }
    let bins_read: Vec<Option<Vec<u8>>> = col("bin")?
        .binary()?
        .iter()
        .map(|b| b.map(<[u8]>::to_vec))
        .collect();
    assert_eq!(bins_read, bins());
    let ts = col("ts")?.timestamps()?;
    assert_eq!(ts.values.iter().collect::<Vec<_>>(), stamps());
    assert_eq!(
        (ts.unit, ts.zone),
        (TimeUnit::Millisecond, Some("Europe/Paris"))
    );
    assert_eq!(col("día")?.dates()?.iter().collect::<Vec<_>>(), days());
    let dur = col("dur")?.timestamps()?;
    assert_eq!(dur.values.values, &durations()[..]);
    assert_eq!(dur.unit, TimeUnit::Microsecond);
    for name in ["cat", "zc"] {
        assert_eq!(col(name)?.categorical()?.iter().collect::<Vec<_>>(), cats());
    }
    assert_eq!(
        col("zi")?.primitive::<i64>()?.iter().collect::<Vec<_>>(),
        i64s()
    );
    Ok(())
}

/// Reads every entry of the baseline and compares it with what was written.
fn read_all(r: &Reader) -> Result<()> {
    read_f(r)?;
    assert_eq!(r.frame("g")?.column("x")?.values::<i32>()?, &[1, 2, 3]);
    assert_eq!(r.array::<i64>("arr")?.as_slice(), &[5; ROWS]);
    Ok(())
}

/// Reads one column through the accessor of its type and walks every row.
fn read_column(c: ColumnView<'_>) -> Result<()> {
    use brine::frame::ColumnType as T;
    c.validity()?;
    c.buffers()?;
    let rows = match c.ty() {
        T::Bool => c.bools()?.iter().count(),
        T::Utf8 => c.strings()?.iter().count(),
        T::Binary => c.binary()?.iter().count(),
        T::Timestamp { .. } | T::Duration(_) => c.timestamps()?.values.iter().count(),
        T::Date => c.dates()?.iter().count(),
        T::Categorical { .. } => c.categorical()?.iter().count(),
        T::Primitive(Dtype::I64) => c.primitive::<i64>()?.iter().count(),
        T::Primitive(Dtype::I32) => c.primitive::<i32>()?.iter().count(),
        T::Primitive(Dtype::F32) => c.primitive::<f32>()?.iter().count(),
        other => panic!("the baseline has no column of type {other}"),
    };
    assert_eq!(rows, c.len());
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Assertions
// ---------------------------------------------------------------------------------------------

/// Asserts that the message of `e` names every one of `parts`.
fn assert_names(e: &Error, parts: &[&str]) {
    let message = e.to_string();
    for part in parts {
        assert!(
            message.contains(part),
            "the message {message:?} does not name {part:?}"
        );
    }
}

/// The error of opening `bytes`.
fn open_err(bytes: &[u8]) -> Error {
    match open(bytes) {
        Ok(_) => panic!("expected an error, the file opened"),
        Err(e) => e,
    }
}

/// Asserts that `bytes` are refused at open with [`Error::InvalidField`] of `field` at
/// column `column` of frame `entry`, and that the message names the file, entry, column and
/// field.
fn assert_column_field(bytes: &[u8], entry: &str, column: &str, field: &str) {
    let e = open_err(bytes);
    let location = format!("entry {entry:?}, column {column:?}");
    assert!(
        matches!(&e, Error::InvalidField { location: l, field: f, .. } if *l == location && *f == field),
        "expected InvalidField {{ location: {location:?}, field: {field:?} }}, got {e:?}"
    );
    assert_names(
        &e,
        &[FILE, &format!("{entry:?}"), &format!("{column:?}"), field],
    );
}

/// As [`assert_column_field`] for a column of frame "f".
fn assert_f_field(bytes: &[u8], column: &str, field: &str) {
    assert_column_field(bytes, "f", column, field);
}

/// Asserts that `bytes` are refused at open with [`Error::InvalidField`] of `field` at
/// `location`, naming `parts` too.
fn assert_field_at(bytes: &[u8], location: &str, field: &str, parts: &[&str]) -> Error {
    let e = open_err(bytes);
    assert!(
        matches!(&e, Error::InvalidField { location: l, field: f, .. } if l == location && *f == field),
        "expected InvalidField {{ location: {location:?}, field: {field:?} }}, got {e:?}"
    );
    assert_names(&e, &[FILE, location, field]);
    assert_names(&e, parts);
    e
}

/// Asserts that `bytes` are refused at open with [`Error::UnsupportedFeature`] of `value` in
/// the field `what_field` of column `column` of "f".
fn assert_f_unsupported(bytes: &[u8], column: &str, what_field: &str, value: u64) {
    let e = open_err(bytes);
    let what = format!("{what_field} of entry \"f\", column {column:?}");
    assert!(
        matches!(&e, Error::UnsupportedFeature { what: w, value: v, .. } if *w == what && *v == value),
        "expected UnsupportedFeature {{ what: {what:?}, value: {value} }}, got {e:?}"
    );
    assert_names(&e, &[FILE, "\"f\"", &format!("{column:?}"), what_field]);
}

/// Asserts that `result` is [`Error::InvalidColumn`] of `field` at column `column` of "f",
/// that the message names file, entry, column and field, and returns the reason.
#[track_caller]
fn assert_invalid_column<T: std::fmt::Debug>(
    result: Result<T>,
    column: &str,
    field: &str,
) -> String {
    let e = result.expect_err("expected InvalidColumn");
    let Error::InvalidColumn {
        entry,
        column: c,
        field: f,
        reason,
        ..
    } = &e
    else {
        panic!("expected InvalidColumn {{ column: {column:?}, field: {field:?} }}, got {e:?}");
    };
    assert_eq!(
        (entry.as_str(), c.as_str(), *f),
        ("f", column, field),
        "{e:?}"
    );
    assert_names(&e, &[FILE, "\"f\"", &format!("{column:?}"), field]);
    reason.clone()
}

/// Asserts that every accessor of column `column` of "f" in `bytes` fails with
/// [`Error::InvalidColumn`] of `field`, while `verify` passes (tier 2 alone notices), and
/// returns the reason. A corrupted validity bitmap or values buffer can also make the
/// column's statistics wrong, which verify notices (rule D11): then verify must fail on that
/// column's `min`, `max` or `stats`, and nothing else.
#[track_caller]
fn assert_tier2(bytes: &[u8], column: &str, field: &str) -> String {
    let r = open_with(Reader::options(), bytes).expect("opens");
    match r.verify() {
        Ok(()) => {}
        Err(Error::InvalidColumn {
            column: c,
            field: f,
            ..
        }) if c == column && matches!(f, "min" | "max" | "stats") => {}
        Err(e) => panic!("verify fails otherwise than on the statistics of {column}: {e}"),
    }
    let c = r.frame("f").unwrap().column(column).unwrap();
    let reason = assert_invalid_column(read_column(c), column, field);
    assert_invalid_column(c.validity(), column, field);
    assert_invalid_column(c.buffers(), column, field);
    reason
}

fn set_i64(bytes: &mut [u8], index: usize, v: i64) {
    bytes[index * 8..index * 8 + 8].copy_from_slice(&v.to_le_bytes());
}
fn get_i64(bytes: &[u8], index: usize) -> i64 {
    i64::from_le_bytes(bytes[index * 8..index * 8 + 8].try_into().unwrap())
}
fn set_i32(bytes: &mut [u8], index: usize, v: i32) {
    bytes[index * 4..index * 4 + 4].copy_from_slice(&v.to_le_bytes());
}

/// Section indices of a column's buffers.
fn validity(m: &Manifest, column: &str) -> usize {
    m.columns[col(m, column)].validity as usize
}
fn values(m: &Manifest, column: &str) -> usize {
    m.columns[col(m, column)].values as usize
}
fn offsets(m: &Manifest, column: &str) -> usize {
    m.columns[col(m, column)].offsets as usize
}
fn dictionary_offsets(m: &Manifest, column: &str) -> usize {
    m.columns[col(m, column)].dictionary_offsets as usize
}
fn dictionary_values(m: &Manifest, column: &str) -> usize {
    m.columns[col(m, column)].dictionary_values as usize
}

// ---------------------------------------------------------------------------------------------
// The baseline is valid
// ---------------------------------------------------------------------------------------------

#[test]
fn crafted_baseline_is_valid() {
    let w = written();
    let c = Crafted::from_written(&w);
    // Taking the file apart and putting it together again changes nothing: what a negative
    // test changes is the only difference from a file the writer wrote.
    assert_eq!(c.bytes(), w);
    let r = open_with(Reader::options().verify(true), &w).unwrap();
    read_all(&r).unwrap();
    for col in r.frame("f").unwrap().iter() {
        read_column(col).unwrap();
    }

    // The tables the tests edit.
    let m = &c.m;
    assert_eq!(m.names, "arrfg");
    let kinds: Vec<(u8, u32)> = m.entries.iter().map(|e| (e.kind, e.index)).collect();
    assert_eq!(kinds, [(KIND_ARRAY, 0), (KIND_FRAME, 0), (KIND_FRAME, 1)]);
    let frames: Vec<(u64, u32)> = m.frames.iter().map(|f| (f.rows, f.columns_end)).collect();
    assert_eq!(frames, [(ROWS as u64, 12), (3, 13)]);
    let names: Vec<String> = column_texts(m).into_iter().map(|(n, _)| n).collect();
    let expected = [
        "i64", "f32", "flag", "s", "bin", "ts", "día", "dur", "cat", "zi", "zs", "zc", "x",
    ];
    assert_eq!(names, expected);
    assert_eq!(column_texts(m)[col(m, "ts")].1, "Europe/Paris");
    let kinds: Vec<u8> = m.columns.iter().map(|c| c.kind).collect();
    assert_eq!(
        kinds,
        [
            COLUMN_PRIMITIVE,
            COLUMN_PRIMITIVE,
            COLUMN_BOOL,
            COLUMN_UTF8,
            COLUMN_BINARY,
            COLUMN_TIMESTAMP,
            COLUMN_DATE,
            COLUMN_DURATION,
            COLUMN_CATEGORICAL,
            COLUMN_PRIMITIVE,
            COLUMN_UTF8,
            COLUMN_CATEGORICAL,
            COLUMN_PRIMITIVE,
        ]
    );
    // The buffers tier-2 tests patch hold what the comments above say.
    let offsets_of = |s: usize| -> Vec<i64> {
        c.decoded(s)
            .chunks(8)
            .map(|b| i64::from_le_bytes(b.try_into().unwrap()))
            .collect()
    };
    for name in ["s", "zs"] {
        assert_eq!(
            offsets_of(offsets(m, name)),
            [0, 3, 6, 6, 6, 11, 12, 12, 14, 18, 19]
        );
    }
    for name in ["cat", "zc"] {
        assert_eq!(offsets_of(dictionary_offsets(m, name)), [0, 1, 5, 6]);
        assert_eq!(c.decoded(dictionary_values(m, name)), "xÿesz".as_bytes());
        let codes: Vec<i32> = c
            .decoded(values(m, name))
            .chunks(4)
            .map(|b| i32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        assert_eq!(codes, [0, 0, 1, 0, 2, 1, 0, 0, 2, 0]);
    }
    assert_eq!(c.decoded(validity(m, "i64")), [0b1011_1101, 0b11]);
    // The compressed columns have several chunks per buffer; the others are raw.
    for name in ["zi", "zs", "zc"] {
        let s = values(m, name);
        assert_eq!(m.sections[s].codec, CODEC_ZSTD, "{name}");
        assert!(c.chunk_range(s).len() >= 2, "{name}");
    }
    assert_eq!(m.sections[values(m, "zi")].shuffle, 8);
    assert_eq!(m.sections[values(m, "i64")].codec, CODEC_RAW);
    // A compressed buffer re-encoded as it was still verifies.
    let s = offsets(m, "zs");
    let again = c.patched(s, |_| {});
    open_with(Reader::options().verify(true), &again.bytes()).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Tier 1: column kinds, dtypes, units and zones
// ---------------------------------------------------------------------------------------------

#[test]
fn unknown_column_kind_is_unsupported_feature() {
    let c = baseline();
    for kind in [8u8, 9, 200, 255] {
        for column in ["i64", "s", "cat"] {
            let bytes = c.bytes_edited(|m| {
                let i = col(m, column);
                m.columns[i].kind = kind;
            });
            assert_f_unsupported(&bytes, column, "kind", u64::from(kind));
        }
    }
}

#[test]
fn unknown_column_dtype_is_unsupported_feature() {
    let c = baseline();
    for code in [13u8, 200, 255] {
        let bytes = c.bytes_edited(|m| {
            let i = col(m, "f32");
            m.columns[i].dtype = code;
        });
        assert_f_unsupported(&bytes, "f32", "dtype", u64::from(code));
    }
}

#[test]
fn dtype_not_allowed_for_the_kind() {
    let c = baseline();
    let cases = [
        ("flag", Dtype::U8),
        ("s", Dtype::I8),
        ("bin", Dtype::U16),
        ("ts", Dtype::I32),
        ("ts", Dtype::U64),
        ("día", Dtype::I64),
        ("dur", Dtype::F64),
        ("cat", Dtype::U32),
        ("cat", Dtype::I64),
    ];
    for (column, dtype) in cases {
        let bytes = c.bytes_edited(|m| {
            let i = col(m, column);
            m.columns[i].dtype = dtype.code();
        });
        assert_f_field(&bytes, column, "dtype");
    }
}

#[test]
fn bf16_and_bool_primitive_columns() {
    let c = baseline();
    for dtype in [Dtype::BF16, Dtype::Bool] {
        for column in ["i64", "f32", "x"] {
            let bytes = c.bytes_edited(|m| {
                let i = col(m, column);
                m.columns[i].dtype = dtype.code();
            });
            let entry = if column == "x" { "g" } else { "f" };
            assert_column_field(&bytes, entry, column, "dtype");
        }
    }
}

#[test]
fn unknown_time_unit_is_unsupported_feature() {
    let c = baseline();
    for unit in [4u8, 9, 255] {
        for column in ["ts", "dur"] {
            let bytes = c.bytes_edited(|m| {
                let i = col(m, column);
                m.columns[i].unit = unit;
            });
            assert_f_unsupported(&bytes, column, "time unit", u64::from(unit));
        }
    }
}

#[test]
fn time_unit_on_a_non_temporal_column() {
    let c = baseline();
    for column in ["i64", "flag", "s", "bin", "día", "cat"] {
        for unit in [1u8, 3, 255] {
            let bytes = c.bytes_edited(|m| {
                let i = col(m, column);
                m.columns[i].unit = unit;
            });
            assert_f_field(&bytes, column, "unit");
        }
    }
}

#[test]
fn zone_on_a_non_timestamp() {
    let c = baseline();
    for column in ["dur", "día", "i64", "s", "cat"] {
        let bytes = c.bytes_edited(|m| set_zone(m, column, "UTC"));
        assert_f_field(&bytes, column, "zone_end");
    }
}

#[test]
fn unknown_zone() {
    let c = baseline();
    // Baseline: known zones open and read (an IANA name, UTC, fixed offsets).
    for zone in ["UTC", "America/New_York", "+05:30", "-00:00"] {
        let r = open(&c.bytes_edited(|m| set_zone(m, "ts", zone))).unwrap();
        r.frame("f")
            .unwrap()
            .column("ts")
            .unwrap()
            .buffers()
            .unwrap();
    }
    // Not of the form of a zone: the file is refused at open (F4).
    for zone in ["+24:00", "+05:60", "05:30", "Europe/Paris ", "\u{1F600}"] {
        let bytes = c.bytes_edited(|m| set_zone(m, "ts", zone));
        let e = open_err(&bytes);
        assert!(
            matches!(&e, Error::InvalidField { field: "zone_end", location, reason, .. }
                if location == "entry \"f\", column \"ts\"" && reason.contains(&format!("{zone:?}"))),
            "{zone:?}: {e:?}"
        );
        assert_names(&e, &[FILE, "\"f\"", "\"ts\"", "zone_end", "time zone"]);
    }
    // Of the form of a zone, but unknown to this build's database: the file opens, the other
    // columns read, and that column is refused on first access, every time (D10).
    for zone in ["Mars/Olympus", "europe/paris"] {
        let r = open(&c.bytes_edited(|m| set_zone(m, "ts", zone))).unwrap();
        let f = r.frame("f").unwrap();
        for other in f.iter().filter(|c| c.name() != "ts") {
            other.buffers().unwrap();
        }
        let ts = f.column("ts").unwrap();
        assert_eq!(ts.zone(), Some(zone), "the schema still shows the zone");
        for _ in 0..2 {
            let e = ts.buffers().unwrap_err();
            assert!(
                matches!(&e, Error::InvalidColumn { field: "zone", entry, column, reason, .. }
                    if entry == "f" && column == "ts" && reason.contains(&format!("{zone:?}"))),
                "{zone:?}: {e:?}"
            );
            assert_names(&e, &[FILE, "\"f\"", "\"ts\"", "zone", "tz database"]);
        }
    }
}

#[test]
fn name_end_or_zone_end_out_of_range_or_splitting_a_character() {
    let c = baseline();
    let m = &c.m;
    let text_len = m.column_text.len() as u32;
    // "f" starts at row 0 of the column table: rows are positions in "f".
    let (ts, dia, x) = (col(m, "ts"), col(m, "día"), col(m, "x"));
    // "día" starts right after ts's zone; its "í" is bytes 1..3 of the name.
    let dia_start = m.columns[ts].zone_end;
    assert_eq!(
        &m.column_text.as_bytes()[dia_start as usize..][..4],
        "día".as_bytes()
    );
    // (the column's place: entry and position in the frame, the edit)
    type Edit = Box<dyn Fn(&mut Manifest)>;
    let cases: Vec<((&str, usize), Edit)> = vec![
        // Past the text.
        (
            ("g", 0),
            Box::new(move |m| m.columns[x].name_end = text_len + 1),
        ),
        (
            ("g", 0),
            Box::new(move |m| m.columns[x].zone_end = text_len + 1),
        ),
        (
            ("g", 0),
            Box::new(move |m| m.columns[x].zone_end = u32::MAX),
        ),
        (
            ("f", dia),
            Box::new(move |m| m.columns[dia].name_end = u32::MAX),
        ),
        // Below the previous end.
        (
            ("f", dia),
            Box::new(move |m| m.columns[dia].name_end = dia_start - 1),
        ),
        (("f", dia), Box::new(move |m| m.columns[dia].name_end = 0)),
        // A zone ending before its name.
        (
            ("f", ts),
            Box::new(move |m| m.columns[ts].zone_end = m.columns[ts].name_end - 1),
        ),
        // Splitting the "í" of "día", as the end of a name and as the end of a zone.
        (
            ("f", dia),
            Box::new(move |m| m.columns[dia].name_end = dia_start + 2),
        ),
        (
            ("f", ts),
            Box::new(move |m| m.columns[ts].zone_end = dia_start + 2),
        ),
    ];
    for ((entry, position), edit) in cases {
        let bytes = c.bytes_edited(|m| edit(m));
        // The name is not trusted yet: the column is named by its position in the frame.
        let location = format!("entry {entry:?}, column {position}");
        let e = open_err(&bytes);
        assert!(
            matches!(&e, Error::InvalidField { location: l, field: "name_end" | "zone_end", .. } if *l == location),
            "{location}: {e:?}"
        );
        assert_names(&e, &[FILE, &location]);
    }
}

#[test]
fn zone_end_out_of_range_names_zone_end() {
    let c = baseline();
    let x = col(&c.m, "x");
    let bytes = c.bytes_edited(|m| m.columns[x].zone_end = u32::MAX);
    assert_field_at(&bytes, "entry \"g\", column 0", "zone_end", &[]);
}

#[test]
fn column_text_not_fully_referenced() {
    let bytes = baseline().bytes_edited(|m| m.column_text.push('x'));
    assert_field_at(&bytes, "column table", "zone_end", &[]);
}

#[test]
fn duplicate_column_names() {
    let c = baseline();
    for (a, b) in [("f32", "i64"), ("zc", "i64"), ("día", "dur"), ("s", "zs")] {
        let bytes = c.bytes_edited(|m| {
            let i = col(m, a);
            set_text(m, i, b, "");
        });
        let e = open_err(&bytes);
        assert!(
            matches!(&e, Error::Duplicate { what: "column name", name, .. }
                if name.contains(&format!("{b} ")) && name.contains("\"f\"")),
            "{e:?}"
        );
        assert_names(&e, &[FILE, "column name", b, "frame"]);
    }
    // Names repeat freely across frames.
    let bytes = c.bytes_edited(|m| {
        let i = col(m, "x");
        set_text(m, i, "i64", "");
    });
    let r = open(&bytes).unwrap();
    assert_eq!(
        r.frame("g")
            .unwrap()
            .column("i64")
            .unwrap()
            .values::<i32>()
            .unwrap(),
        &[1, 2, 3]
    );
}

// ---------------------------------------------------------------------------------------------
// Tier 1: null counts, buffers and their sections
// ---------------------------------------------------------------------------------------------

#[test]
fn null_count_above_rows() {
    let c = baseline();
    for null_count in [ROWS as u64 + 1, 1 << 40, u64::MAX] {
        for column in ["i64", "s", "cat", "zi"] {
            let bytes = c.bytes_edited(|m| {
                let i = col(m, column);
                m.columns[i].null_count = null_count;
            });
            assert_f_field(&bytes, column, "null_count");
        }
    }
}

#[test]
fn nulls_without_a_validity_bitmap() {
    let c = baseline();
    for column in ["f32", "dur"] {
        let bytes = c.bytes_edited(|m| {
            let i = col(m, column);
            assert_eq!(m.columns[i].validity, NO_SECTION);
            m.columns[i].null_count = 1;
        });
        assert_f_field(&bytes, column, "validity");
    }
}

#[test]
fn validity_bitmap_of_the_wrong_length() {
    // ceil(10 / 8) = 2 bytes.
    let c = baseline();
    for column in ["i64", "flag", "s", "cat"] {
        for len in [0, 1, 3, 64] {
            let mut c = c.clone();
            let s = validity(&c.m, column);
            c.set_decoded(s, &vec![0xFF; len]);
            assert_f_field(&c.bytes(), column, "validity");
        }
    }
}

#[test]
fn values_of_the_wrong_length() {
    let c = baseline();
    // (column, a length the rows do not need): 80 bytes of i64, 40 of f32, 2 of bits, ...
    let cases = [
        ("i64", 72),
        ("i64", 88),
        ("i64", 0),
        ("f32", 44),
        ("flag", 1),
        ("flag", 3),
        ("ts", 79),
        ("día", 80),
        ("dur", 8),
        ("cat", 36),
    ];
    for (column, len) in cases {
        let mut c = c.clone();
        let s = values(&c.m, column);
        c.set_decoded(s, &vec![0; len]);
        assert_f_field(&c.bytes(), column, "values");
    }
    // Compressed: the declared decoded length is wrong (the chunk count follows it).
    let bytes = c.bytes_edited(|m| {
        let s = values(m, "zi");
        m.sections[s].raw_length = 72;
    });
    assert_f_field(&bytes, "zi", "values");
}

#[test]
fn offsets_of_the_wrong_length() {
    // rows + 1 = 11 offsets: 88 bytes.
    let c = baseline();
    for column in ["s", "bin"] {
        for len in [0, 8, 80, 87, 96] {
            let mut c = c.clone();
            let s = offsets(&c.m, column);
            c.set_decoded(s, &vec![0; len]);
            assert_f_field(&c.bytes(), column, "offsets");
        }
    }
    // A dictionary's offsets: at least one, a whole number of i64.
    for len in [0, 4, 12, 25] {
        let mut c = c.clone();
        let s = dictionary_offsets(&c.m, "cat");
        c.set_decoded(s, &vec![0; len]);
        assert_f_field(&c.bytes(), "cat", "dictionary_offsets");
    }
}

#[test]
fn missing_required_buffer() {
    let c = baseline();
    let cases: [(&str, &str, ColumnEdit); 8] = [
        ("i64", "values", |m, i| m.columns[i].values = NO_SECTION),
        ("flag", "values", |m, i| m.columns[i].values = NO_SECTION),
        ("s", "values", |m, i| m.columns[i].values = NO_SECTION),
        ("s", "offsets", |m, i| m.columns[i].offsets = NO_SECTION),
        ("bin", "offsets", |m, i| m.columns[i].offsets = NO_SECTION),
        ("cat", "values", |m, i| m.columns[i].values = NO_SECTION),
        ("cat", "dictionary_offsets", |m, i| {
            m.columns[i].dictionary_offsets = NO_SECTION
        }),
        ("zc", "dictionary_values", |m, i| {
            m.columns[i].dictionary_values = NO_SECTION
        }),
    ];
    for (column, field, edit) in cases {
        let bytes = c.bytes_edited(|m| edit(m, col(m, column)));
        assert_f_field(&bytes, column, field);
    }
}

#[test]
fn buffer_the_kind_forbids() {
    let c = baseline();
    let m = &c.m;
    // Each slot points at a section of the right length for the slot, owned by another
    // column: the kind's rule is what refuses it.
    let (s_offsets, cat_offsets, cat_values) = (
        offsets(m, "s") as u32,
        dictionary_offsets(m, "cat") as u32,
        dictionary_values(m, "cat") as u32,
    );
    let set_offsets: SlotEdit = |m, i, s| m.columns[i].offsets = s;
    let set_dictionary_offsets: SlotEdit = |m, i, s| m.columns[i].dictionary_offsets = s;
    let set_dictionary_values: SlotEdit = |m, i, s| m.columns[i].dictionary_values = s;
    let cases = [
        ("i64", "offsets", s_offsets, set_offsets),
        ("flag", "offsets", s_offsets, set_offsets),
        ("cat", "offsets", s_offsets, set_offsets),
        (
            "s",
            "dictionary_offsets",
            cat_offsets,
            set_dictionary_offsets,
        ),
        ("ts", "dictionary_values", cat_values, set_dictionary_values),
        (
            "bin",
            "dictionary_values",
            cat_values,
            set_dictionary_values,
        ),
    ];
    for (column, field, section, edit) in cases {
        let bytes = c.bytes_edited(|m| edit(m, col(m, column), section));
        assert_f_field(&bytes, column, field);
    }
}

#[test]
fn section_index_out_of_range() {
    let c = baseline();
    let count = c.m.sections.len() as u32;
    for index in [count, count + 1, u32::MAX - 1] {
        let cases: [(&str, &str, SlotEdit); 5] = [
            ("i64", "validity", |m, i, s| m.columns[i].validity = s),
            ("i64", "values", |m, i, s| m.columns[i].values = s),
            ("s", "offsets", |m, i, s| m.columns[i].offsets = s),
            ("cat", "dictionary_offsets", |m, i, s| {
                m.columns[i].dictionary_offsets = s
            }),
            ("cat", "dictionary_values", |m, i, s| {
                m.columns[i].dictionary_values = s
            }),
        ];
        for (column, field, edit) in cases {
            let bytes = c.bytes_edited(|m| edit(m, col(m, column), index));
            assert_f_field(&bytes, column, field);
        }
    }
}

/// The error of a section claimed twice: [`Error::InvalidField`] at the second claimant's
/// entry (and column, with the buffer slot as the field, when it is a column's buffer).
fn assert_shared(bytes: &[u8], entry: &str, section: usize) -> Error {
    let e = open_err(bytes);
    assert!(
        matches!(&e, Error::InvalidField { location, reason, .. }
            if location.starts_with(&format!("entry {entry:?}")) && reason.contains(&format!("section {section} "))),
        "{e:?}"
    );
    assert_names(&e, &[FILE, &format!("{entry:?}")]);
    e
}

#[test]
fn section_shared_by_two_columns() {
    let c = baseline();
    // Same kind and length: "dur" takes the values of "ts"; "zs" takes the validity of "s".
    let ts = values(&c.m, "ts");
    assert_shared(
        &c.bytes_edited(|m| {
            let i = col(m, "dur");
            m.columns[i].values = ts as u32;
        }),
        "f",
        ts,
    );
    let v = validity(&c.m, "s");
    assert_shared(
        &c.bytes_edited(|m| {
            let i = col(m, "zs");
            m.columns[i].validity = v as u32;
        }),
        "f",
        v,
    );
    // Within one column: the validity bitmap doubles as the values of a bool column.
    let v = validity(&c.m, "flag");
    assert_shared(
        &c.bytes_edited(|m| {
            let i = col(m, "flag");
            m.columns[i].values = v as u32;
        }),
        "f",
        v,
    );
}

#[test]
fn section_shared_by_a_column_and_an_array() {
    let c = baseline();
    // "arr" is 10 i64, as long as the values of "i64".
    let arr = c.m.arrays[0].section as usize;
    assert_eq!(
        c.m.sections[arr].raw_length,
        c.m.sections[values(&c.m, "i64")].raw_length
    );
    let bytes = c.bytes_edited(|m| {
        let i = col(m, "i64");
        m.columns[i].values = arr as u32;
    });
    assert_shared(&bytes, "f", arr);
    // And the other way round: the array takes a column's section.
    let v = values(&c.m, "dur");
    let bytes = c.bytes_edited(|m| m.arrays[0].section = v as u32);
    let e = open_err(&bytes);
    // Arrays are checked first, so the column is the second claimant.
    assert!(
        matches!(
            &e,
            Error::InvalidField { location, field: "values", reason, .. }
                if location.contains("\"dur\"") && reason.contains("already belongs")
        ),
        "{e:?}"
    );
}

#[test]

fn section_shared_by_two_columns_names_the_column() {
    let c = baseline();
    let ts = values(&c.m, "ts");
    let bytes = c.bytes_edited(|m| {
        let i = col(m, "dur");
        m.columns[i].values = ts as u32;
    });
    let e = assert_shared(&bytes, "f", ts);
    assert_names(&e, &["\"dur\"", "values"]);
}

#[test]
fn orphan_section() {
    let c = baseline();
    // A column drops its validity bitmap (and so its nulls): the bitmap belongs to no one.
    let v = validity(&c.m, "i64");
    let bytes = c.bytes_edited(|m| {
        let i = col(m, "i64");
        m.columns[i].validity = NO_SECTION;
        m.columns[i].null_count = 0;
    });
    assert_field_at(&bytes, &format!("section {v}"), "sections", &[]);
    // A section appended to the table that nothing references.
    let mut c = c.clone();
    c.push_raw_section(&[1, 2, 3]);
    let last = c.m.sections.len() - 1;
    assert_field_at(&c.bytes(), &format!("section {last}"), "sections", &[]);
}

#[test]
fn shuffle_not_the_element_size() {
    let c = baseline();
    // (column, slot, section, a shuffle that is not the slot's element size)
    let m = &c.m;
    let cases = [
        ("zi", "values", values(m, "zi"), 4u8),
        ("zi", "values", values(m, "zi"), 1),
        ("zi", "values", values(m, "zi"), 16),
        ("zi", "validity", validity(m, "zi"), 8),
        ("zs", "offsets", offsets(m, "zs"), 4),
        ("zs", "values", values(m, "zs"), 2),
        ("zc", "values", values(m, "zc"), 8),
        ("zc", "dictionary_offsets", dictionary_offsets(m, "zc"), 2),
        ("zc", "dictionary_values", dictionary_values(m, "zc"), 4),
    ];
    for (column, field, s, shuffle) in cases {
        assert_eq!(m.sections[s].codec, CODEC_ZSTD);
        let bytes = c.bytes_edited(|m| m.sections[s].shuffle = shuffle);
        assert_f_field(&bytes, column, field);
    }
}

#[test]
fn chunk_length_not_a_multiple_of_the_element_size() {
    let c = baseline();
    let m = &c.m;
    // Each new chunk_length keeps the chunk count (raw_length / chunk_length rounded up), so
    // the section's own rules hold: 80 bytes in 5 chunks of 17, 88 in 6 of 15, 40 in 3 of 14.
    let cases = [
        ("zi", "values", values(m, "zi"), 17u32),
        ("zs", "offsets", offsets(m, "zs"), 15),
        ("zc", "values", values(m, "zc"), 14),
    ];
    for (column, field, s, chunk_length) in cases {
        let section = &m.sections[s];
        assert_eq!(
            section.raw_length.div_ceil(u64::from(chunk_length)),
            c.chunk_range(s).len() as u64
        );
        let bytes = c.bytes_edited(|m| m.sections[s].chunk_length = chunk_length);
        assert_f_field(&bytes, column, field);
    }
}

// ---------------------------------------------------------------------------------------------
// Tier 1: statistics, row counts, the frame table
// ---------------------------------------------------------------------------------------------

#[test]
fn stats_not_0_or_1() {
    let c = baseline();
    for column in ["i64", "flag", "ts", "s"] {
        for stats in [2u8, 255] {
            let bytes = c.bytes_edited(|m| {
                let i = col(m, column);
                m.columns[i].stats = stats;
            });
            assert_f_field(&bytes, column, "stats");
        }
    }
}

#[test]
fn stats_on_a_string_column() {
    let c = baseline();
    for column in ["s", "bin", "cat", "zs"] {
        let bytes = c.bytes_edited(|m| {
            let i = col(m, column);
            m.columns[i].stats = 1;
        });
        assert_f_field(&bytes, column, "stats");
    }
}

#[test]
fn rows_overflowing_the_buffer_sizes() {
    let c = baseline();
    // (rows + 1) x 8 overflows u64 from 2^61 - 1 rows on; u64::MAX also overflows rows + 1.
    for rows in [u64::MAX, u64::MAX - 1, 1 << 63, (1 << 61) - 1] {
        for (frame, column) in [(0, "i64"), (1, "x")] {
            let bytes = c.bytes_edited(|m| m.frames[frame].rows = rows);
            let entry = if frame == 0 { "f" } else { "g" };
            assert_column_field(&bytes, entry, column, "rows");
        }
    }
    // Large, but no overflow: the buffers do not have the length the rows need.
    for rows in [1 << 60, 1 << 40, u64::from(u32::MAX) + 1] {
        let bytes = c.bytes_edited(|m| m.frames[1].rows = rows);
        assert_column_field(&bytes, "g", "x", "values");
    }
}

#[test]
fn columns_end_decreasing_or_past_the_table() {
    let c = baseline();
    let count = c.m.columns.len() as u32;
    // Decreasing: "f" ends at 12, "g" at 11.
    let bytes = c.bytes_edited(|m| m.frames[1].columns_end = 11);
    assert_field_at(&bytes, "entry \"g\"", "columns_end", &[]);
    // Past the table.
    for end in [count + 1, u32::MAX] {
        let bytes = c.bytes_edited(|m| m.frames[1].columns_end = end);
        assert_field_at(&bytes, "entry \"g\"", "columns_end", &[]);
        let bytes = c.bytes_edited(|m| m.frames[0].columns_end = end);
        assert_field_at(&bytes, "entry \"f\"", "columns_end", &[]);
    }
    // Short of the table: the last column belongs to no frame.
    let bytes = c.bytes_edited(|m| m.frames[1].columns_end = count - 1);
    assert_field_at(&bytes, "frame table", "columns_end", &[]);
}

#[test]
fn frame_without_columns_is_valid() {
    // "g" loses its column (and its section): a frame of 3 rows and no columns.
    let c = baseline();
    let x = values(&c.m, "x");
    assert_eq!(x, c.m.sections.len() - 1);
    let mut c = c.clone();
    c.m.columns.pop();
    c.m.sections.pop();
    c.stored.pop();
    c.m.column_text.pop();
    c.m.frames[1].columns_end = c.m.columns.len() as u32;
    let r = open_with(Reader::options().verify(true), &c.bytes()).unwrap();
    let g = r.frame("g").unwrap();
    assert_eq!((g.rows(), g.width()), (3, 0));
    assert!(g.fields().is_empty());
    assert!(matches!(g.column("x"), Err(Error::NoSuchColumn { .. })));
    read_f(&r).unwrap();
    // Without columns no buffer size depends on the row count: any count opens.
    for rows in [0, u64::from(u32::MAX) + 1, u64::MAX] {
        let r = open(&c.bytes_edited(|m| m.frames[1].rows = rows)).unwrap();
        let g = r.frame("g").unwrap();
        assert_eq!((g.rows() as u64, g.width()), (rows, 0));
        let _ = format!("{g:?}");
    }
}

#[test]
fn frame_reserved_nonzero() {
    let c = baseline();
    for byte in 0..4 {
        let bytes = c.bytes_edited(|m| m.frames[0].reserved[byte] = 1);
        assert_field_at(&bytes, "entry \"f\"", "reserved", &[]);
    }
}

#[test]
fn column_reserved_nonzero() {
    let c = baseline();
    for column in ["i64", "s", "zc"] {
        let bytes = c.bytes_edited(|m| {
            let i = col(m, column);
            m.columns[i].reserved = 1;
        });
        assert_f_field(&bytes, column, "reserved");
        for byte in 0..4 {
            let bytes = c.bytes_edited(|m| {
                let i = col(m, column);
                m.columns[i].reserved2[byte] = 0x80;
            });
            assert_f_field(&bytes, column, "reserved");
        }
    }
}

#[test]
fn frame_rows_more_or_fewer_than_frame_entries() {
    let c = baseline();
    // One frame row more than frame entries.
    let bytes = c.bytes_edited(|m| {
        m.frames.push(FrameMeta {
            rows: 0,
            columns_end: m.columns.len() as u32,
            reserved: [0; 4],
        })
    });
    assert_field_at(&bytes, "frame table", "frames", &[]);
    // One fewer: "g" claims to be an array (and "f"'s row would be its).
    let bytes = c.bytes_edited(|m| {
        m.entries[2].kind = KIND_ARRAY;
        m.entries[2].index = 1;
    });
    let e = open_err(&bytes);
    assert!(
        matches!(
            &e,
            Error::InvalidField {
                field: "arrays" | "frames",
                ..
            }
        ),
        "{e:?}"
    );
    // A frame entry whose index skips a row.
    let bytes = c.bytes_edited(|m| m.entries[2].index = 0);
    assert_field_at(&bytes, "entry \"g\"", "index", &[]);
}

// ---------------------------------------------------------------------------------------------
// Looking frames and columns up
// ---------------------------------------------------------------------------------------------

#[test]
fn wrong_kind() {
    let r = open(&baseline().bytes()).unwrap();
    let e = r.frame("arr").unwrap_err();
    assert!(
        matches!(&e, Error::WrongKind { entry, expected: Kind::Frame, found: Kind::Array, .. } if entry == "arr"),
        "{e:?}"
    );
    assert_names(&e, &[FILE, "\"arr\"", "frame", "array"]);
    for name in ["f", "g"] {
        let e = r.array::<f32>(name).unwrap_err();
        assert!(
            matches!(&e, Error::WrongKind { entry, expected: Kind::Array, found: Kind::Frame, .. } if entry == name),
            "{e:?}"
        );
        assert_names(&e, &[FILE, &format!("{name:?}"), "frame", "array"]);
        assert!(matches!(r.array_entry(name), Err(Error::WrongKind { .. })));
        assert!(matches!(
            r.entry(name).unwrap().array(),
            Err(Error::WrongKind { .. })
        ));
        assert_eq!(r.entry(name).unwrap().kind(), brine::Kind::Frame);
    }
    assert!(matches!(r.frame("h"), Err(Error::NotFound { .. })));
}

#[test]
fn wrong_column_type() {
    let r = open(&baseline().bytes()).unwrap();
    let f = r.frame("f").unwrap();
    let col = |name| f.column(name).unwrap();
    let check = |result: Result<()>, column: &str, expected: &str, found: &str| {
        let e = result.unwrap_err();
        assert!(
            matches!(&e, Error::WrongColumnType { entry, column: c, expected: x, found: y, .. }
                if entry == "f" && c == column && x == expected && y == found),
            "{column}: {e:?}"
        );
        assert_names(
            &e,
            &[FILE, "\"f\"", &format!("{column:?}"), expected, found],
        );
    };
    check(col("i64").values::<f32>().map(drop), "i64", "f32", "i64");
    check(col("i64").values::<u64>().map(drop), "i64", "u64", "i64");
    check(col("f32").primitive::<f64>().map(drop), "f32", "f64", "f32");
    check(col("cat").strings().map(drop), "cat", "utf8", "categorical");
    check(
        col("cat").values::<i32>().map(drop),
        "cat",
        "i32",
        "categorical",
    );
    check(col("s").values::<u8>().map(drop), "s", "u8", "utf8");
    check(col("s").categorical().map(drop), "s", "categorical", "utf8");
    check(col("s").binary().map(drop), "s", "binary", "utf8");
    check(col("bin").strings().map(drop), "bin", "utf8", "binary");
    // A bool column's values are bits, not a slice of `bool`: `bools()` reads them.
    let e = col("flag").values::<bool>().unwrap_err();
    assert!(
        matches!(&e, Error::WrongColumnType { column, .. } if column == "flag"),
        "{e:?}"
    );
    check(col("i64").bools().map(drop), "i64", "bool", "i64");
    check(
        col("día").timestamps().map(drop),
        "día",
        "timestamp or duration",
        "date",
    );
    check(
        col("ts").dates().map(drop),
        "ts",
        "date",
        "timestamp[ms, Europe/Paris]",
    );
    check(
        col("ts").values::<i32>().map(drop),
        "ts",
        "i32",
        "timestamp[ms, Europe/Paris]",
    );
    // The physical type of temporal columns is readable as such.
    col("ts").values::<i64>().unwrap();
    col("día").values::<i32>().unwrap();
    col("dur").values::<i64>().unwrap();
}

#[test]
fn values_of_a_bool_column_names_the_accessor_to_use() {
    let r = open(&baseline().bytes()).unwrap();
    let e = r
        .frame("f")
        .unwrap()
        .column("flag")
        .unwrap()
        .values::<bool>()
        .unwrap_err();
    let Error::WrongColumnType {
        expected, found, ..
    } = &e
    else {
        panic!("{e:?}");
    };
    assert_ne!(expected, found, "{e}");
}

#[test]
fn no_such_column() {
    let r = open(&baseline().bytes()).unwrap();
    let f = r.frame("f").unwrap();
    for name in ["nope", "", "I64", "i64 ", "x", "dia"] {
        let e = f.column(name).unwrap_err();
        assert!(
            matches!(&e, Error::NoSuchColumn { entry, column, .. } if entry == "f" && column == name),
            "{e:?}"
        );
        assert_names(&e, &[FILE, "\"f\"", &format!("{name:?}")]);
    }
}

// ---------------------------------------------------------------------------------------------
// Tier 2: offsets, UTF-8, dictionary codes, validity
// ---------------------------------------------------------------------------------------------

#[test]
fn first_offset_not_zero() {
    let c = baseline();
    for column in ["s", "bin", "zs"] {
        for first in [1, -1, i64::MAX] {
            let s = offsets(&c.m, column);
            let bytes = c.patched(s, |o| set_i64(o, 0, first)).bytes();
            assert_tier2(&bytes, column, "offsets");
        }
    }
    for column in ["cat", "zc"] {
        let s = dictionary_offsets(&c.m, column);
        let bytes = c.patched(s, |o| set_i64(o, 0, 1)).bytes();
        assert_tier2(&bytes, column, "dictionary_offsets");
    }
}

#[test]
fn decreasing_offsets() {
    let c = baseline();
    for column in ["s", "bin", "zs"] {
        let s = offsets(&c.m, column);
        // Offset 5 above offset 6.
        let bytes = c
            .patched(s, |o| {
                let next = get_i64(o, 6);
                set_i64(o, 5, next + 1);
            })
            .bytes();
        let reason = assert_tier2(&bytes, column, "offsets");
        assert!(reason.contains("offset 6"), "{reason}");
    }
    for column in ["cat", "zc"] {
        let s = dictionary_offsets(&c.m, column);
        let bytes = c.patched(s, |o| set_i64(o, 1, 6)).bytes();
        assert_tier2(&bytes, column, "dictionary_offsets");
    }
}

#[test]
fn last_offset_not_the_data_length() {
    let c = baseline();
    for column in ["s", "bin", "zs"] {
        for delta in [-1, 1, 1000] {
            let s = offsets(&c.m, column);
            let bytes = c
                .patched(s, |o| {
                    let last = get_i64(o, ROWS);
                    set_i64(o, ROWS, last + delta);
                })
                .bytes();
            assert_tier2(&bytes, column, "offsets");
        }
    }
    for column in ["cat", "zc"] {
        let s = dictionary_offsets(&c.m, column);
        let bytes = c.patched(s, |o| set_i64(o, 3, 5)).bytes();
        assert_tier2(&bytes, column, "dictionary_offsets");
    }
}

#[test]
fn huge_and_negative_offsets() {
    let c = baseline();
    let cases: [(usize, i64); 8] = [
        (1, i64::MAX),
        (ROWS, i64::MAX),
        (ROWS - 1, i64::MAX),
        (1, -1),
        (ROWS, -1),
        (ROWS, i64::MIN),
        (0, i64::MIN),
        (5, 1 << 40),
    ];
    for column in ["s", "bin", "zs"] {
        for (at, v) in cases {
            let s = offsets(&c.m, column);
            let bytes = c.patched(s, |o| set_i64(o, at, v)).bytes();
            assert_tier2(&bytes, column, "offsets");
        }
    }
    for column in ["cat", "zc"] {
        for (at, v) in [(1, i64::MAX), (3, i64::MAX), (2, -1), (3, i64::MIN)] {
            let s = dictionary_offsets(&c.m, column);
            let bytes = c.patched(s, |o| set_i64(o, at, v)).bytes();
            assert_tier2(&bytes, column, "dictionary_offsets");
        }
    }
}

#[test]
fn invalid_utf8_names_the_row() {
    let c = baseline();
    // (byte of the data, what it becomes, the row whose string holds the first bad byte):
    // "hé" is bytes 0..3, "llo" 3..6, "ü€" 6..11, "déf" 14..18, "x" 18..19. 0xFF and 0xFE are
    // never UTF-8; 0x80 where a character starts is a stray continuation byte; 0xC3 before
    // a character start is a lead byte without its continuation.
    let cases = [
        (0, 0xFF, 0),
        (2, 0xFE, 0),
        (0, 0x80, 0),
        (7, 0xFF, 4),
        (10, 0xFF, 4),
        (11, 0x80, 5),
        (5, 0xC3, 1),
        (15, 0xFF, 8),
        (18, 0xFE, 9),
        (18, 0xC3, 9),
    ];
    for column in ["s", "zs"] {
        for (byte, bad, row) in cases {
            let s = values(&c.m, column);
            let bytes = c.patched(s, |d| d[byte] = bad).bytes();
            let reason = assert_tier2(&bytes, column, "values");
            assert!(
                reason.contains(&format!("string {row} "))
                    || reason.contains(&format!("row {row} ")),
                "byte {byte} = {bad:#x}: {reason}"
            );
        }
    }
    // In a dictionary: "ÿes" is string 1, bytes 1..5.
    for column in ["cat", "zc"] {
        let s = dictionary_values(&c.m, column);
        let bytes = c.patched(s, |d| d[1] = 0xFF).bytes();
        let reason = assert_tier2(&bytes, column, "dictionary_values");
        assert!(reason.contains("string 1 "), "{reason}");
    }
    // Binary columns hold any bytes.
    let s = values(&c.m, "bin");
    let bytes = c.patched(s, |d| d.fill(0xC3)).bytes();
    let r = open(&bytes).unwrap();
    read_column(r.frame("f").unwrap().column("bin").unwrap()).unwrap();
}

#[test]
fn offset_splitting_a_utf8_character() {
    let c = baseline();
    // Offset 1 (end of "hé", start of "llo") inside "é"; offset 5 inside "ü".
    for column in ["s", "zs"] {
        for (at, v) in [(1, 2), (5, 7), (9, 16)] {
            let s = offsets(&c.m, column);
            let bytes = c.patched(s, |o| set_i64(o, at, v)).bytes();
            let reason = assert_tier2(&bytes, column, "values");
            assert!(reason.contains(&format!("offset {at} ")), "{reason}");
        }
    }
    // A dictionary offset inside "ÿ".
    for column in ["cat", "zc"] {
        let s = dictionary_offsets(&c.m, column);
        let bytes = c.patched(s, |o| set_i64(o, 1, 2)).bytes();
        assert_tier2(&bytes, column, "dictionary_values");
    }
}

#[test]
fn dictionary_code_out_of_range_names_the_row() {
    let c = baseline();
    // The dictionary has 3 strings; rows 1 and 6 are null.
    for column in ["cat", "zc"] {
        for row in [0, 5, 9] {
            for code in [-1, 3, 4, i32::MAX, i32::MIN] {
                let s = values(&c.m, column);
                let bytes = c.patched(s, |d| set_i32(d, row, code)).bytes();
                let reason = assert_tier2(&bytes, column, "codes");
                assert!(reason.contains(&format!("row {row} ")), "{reason}");
                assert!(reason.contains(&code.to_string()), "{reason}");
            }
        }
    }
}

#[test]
fn null_row_with_an_out_of_range_code_is_fine() {
    let c = baseline();
    for column in ["cat", "zc"] {
        for code in [-1, 3, i32::MAX, i32::MIN] {
            let s = values(&c.m, column);
            let bytes = c
                .patched(s, |d| {
                    set_i32(d, 1, code);
                    set_i32(d, 6, code);
                })
                .bytes();
            let r = open(&bytes).unwrap();
            let cat = r
                .frame("f")
                .unwrap()
                .column(column)
                .unwrap()
                .categorical()
                .unwrap();
            assert_eq!(cat.iter().collect::<Vec<_>>(), cats());
            assert_eq!((cat.get(1), cat.codes[1]), (None, code));
        }
    }
}

#[test]
fn validity_disagreeing_with_null_count() {
    let c = baseline();
    // Each column has between 1 and 9 nulls: row 0 or row 9 changing, all valid, all null.
    let patches: [fn(&mut Vec<u8>); 4] = [
        |b| b[0] ^= 1,
        |b| b[1] ^= 0b10,
        |b| b.fill(0xFF),
        |b| b.fill(0),
    ];
    for column in ["i64", "zi", "s", "cat", "zc", "flag", "ts"] {
        for patch in patches {
            let s = validity(&c.m, column);
            let bytes = c.patched(s, patch).bytes();
            let reason = assert_tier2(&bytes, column, "validity");
            assert!(reason.contains("nulls"), "{reason}");
        }
    }
    // The manifest's null count is what lies.
    for null_count in [0, 1, 3, 10] {
        let bytes = c.bytes_edited(|m| {
            let i = col(m, "i64");
            m.columns[i].null_count = null_count;
        });
        assert_tier2(&bytes, "i64", "validity");
    }
}

// ---------------------------------------------------------------------------------------------
// Tier 2: compressed columns
// ---------------------------------------------------------------------------------------------

/// Asserts that reading column `column` of "f" fails to decode ([`Error::Decompress`] or
/// [`Error::ChecksumMismatch`]), on every access, naming the file and the entry.
fn assert_decode_error(bytes: &[u8], column: &str) -> Error {
    let r = open(bytes).unwrap();
    let c = r.frame("f").unwrap().column(column).unwrap();
    let mut last = None;
    for _ in 0..2 {
        let e = read_column(c).unwrap_err();
        assert!(
            matches!(&e, Error::Decompress { entry, .. } if entry == "f")
                || matches!(&e, Error::ChecksumMismatch { what, .. } if what.contains("\"f\"")),
            "{column}: {e:?}"
        );
        assert_names(&e, &[FILE, "\"f\""]);
        last = Some(e);
    }
    // Every buffer at once: the corrupt one among them.
    assert!(c.buffers().is_err());
    last.unwrap()
}

#[test]
fn zstd_column_with_a_garbage_chunk_is_decompress_error() {
    let c = baseline();
    let m = &c.m;
    let cases = [
        ("zi", validity(m, "zi")),
        ("zi", values(m, "zi")),
        ("zs", offsets(m, "zs")),
        ("zs", values(m, "zs")),
        ("zc", values(m, "zc")),
        ("zc", dictionary_offsets(m, "zc")),
        ("zc", dictionary_values(m, "zc")),
    ];
    for (column, s) in cases {
        for chunk in [0, c.chunk_range(s).len() - 1] {
            for byte in [0x00, 0xFF] {
                let bytes = c.with_garbage_chunk(s, chunk, byte).bytes();
                let e = assert_decode_error(&bytes, column);
                assert!(
                    matches!(&e, Error::Decompress { chunk: k, .. } if *k == chunk),
                    "{column}: {e:?}"
                );
                // verify finds it too.
                assert!(open_with(Reader::options().verify(true), &bytes).is_err());
            }
        }
    }
}

#[test]
fn zstd_column_decoding_to_other_bytes_is_checksum_mismatch() {
    let c = baseline();
    let m = &c.m;
    let cases = [
        ("zi", values(m, "zi")),
        ("zs", values(m, "zs")),
        ("zs", offsets(m, "zs")),
        ("zc", values(m, "zc")),
        ("zc", dictionary_values(m, "zc")),
    ];
    for (column, s) in cases {
        // The chunk checksum notices before any content check runs.
        let bytes = c
            .with_stale_chunk_checksums(s, |d| {
                let last = d.len() - 1;
                d[last] = b'q';
            })
            .bytes();
        let e = assert_decode_error(&bytes, column);
        assert!(
            matches!(&e, Error::ChecksumMismatch { .. }),
            "{column}: {e:?}"
        );
    }
}

#[test]

fn zstd_decode_errors_name_the_column() {
    let c = baseline();
    let s = offsets(&c.m, "zs");
    let bytes = c.with_garbage_chunk(s, 0, 0xFF).bytes();
    let e = assert_decode_error(&bytes, "zs");
    assert_names(&e, &["\"zs\"", "offsets"]);
}

#[test]
fn compressed_columns_are_checked_after_decoding() {
    // The tier-2 rules hold for compressed columns: checksums are recomputed, so only the
    // content check on first access notices.
    let c = baseline();
    let m = &c.m;
    let zs_offsets = offsets(m, "zs");
    let bytes = c.patched(zs_offsets, |o| set_i64(o, 0, 1)).bytes();
    assert_tier2(&bytes, "zs", "offsets");
    let bytes = c.patched(values(m, "zs"), |d| d[7] = 0xFF).bytes();
    let reason = assert_tier2(&bytes, "zs", "values");
    assert!(reason.contains("string 4 "), "{reason}");
    let bytes = c.patched(values(m, "zc"), |d| set_i32(d, 9, 3)).bytes();
    let reason = assert_tier2(&bytes, "zc", "codes");
    assert!(reason.contains("row 9 "), "{reason}");
    let bytes = c.patched(validity(m, "zi"), |b| b[1] = 0).bytes();
    assert_tier2(&bytes, "zi", "validity");
}

// ---------------------------------------------------------------------------------------------
// Tier 2: caching and isolation
// ---------------------------------------------------------------------------------------------

#[test]
fn tier_2_failure_is_reported_on_every_access() {
    let c = baseline();
    let bytes = c.patched(offsets(&c.m, "s"), |o| set_i64(o, 0, 1)).bytes();
    let r = open(&bytes).unwrap();
    let f = r.frame("f").unwrap();
    for _ in 0..3 {
        let s = f.column("s").unwrap();
        assert_invalid_column(s.strings(), "s", "offsets");
        assert_invalid_column(s.validity(), "s", "offsets");
        assert_invalid_column(s.buffers(), "s", "offsets");
        // Through a new view of the frame too.
        let s = r.frame("f").unwrap().column_at(3);
        assert_eq!(s.name(), "s");
        assert_invalid_column(s.strings(), "s", "offsets");
    }
    // Same for a compressed column that fails to decode.
    let s = offsets(&c.m, "zs");
    let bytes = c.with_garbage_chunk(s, 1, 0xFF).bytes();
    assert_decode_error(&bytes, "zs");
}

#[test]
fn a_corrupt_column_leaves_the_others_readable() {
    // Column B's data is garbage in every way at once; every other column reads, in full,
    // before and after B is tried: selecting columns never touches the others' pages.
    let c = baseline();
    let m = &c.m;
    let mut bad = c.clone();
    bad.patch(offsets(m, "s"), |o| o.fill(0xFF));
    bad.patch(values(m, "s"), |d| d.fill(0xFF));
    bad.patch(values(m, "cat"), |d| d.fill(0x7F));
    bad.patch(validity(m, "i64"), |b| b.fill(0));
    let zs = offsets(m, "zs");
    let bad = bad.with_garbage_chunk(zs, 0, 0xFF);
    let zc = dictionary_values(m, "zc");
    let bad = bad.with_garbage_chunk(zc, 0, 0x00);
    let r = open(&bad.bytes()).unwrap();
    let f = r.frame("f").unwrap();
    let corrupt = ["s", "cat", "i64", "zs", "zc"];
    let read_others = || {
        for column in f.iter().filter(|c| !corrupt.contains(&c.name())) {
            read_column(column).unwrap();
        }
        assert_eq!(
            f.column("f32").unwrap().values::<f32>().unwrap(),
            &f32s()[..]
        );
        assert_eq!(
            f.column("zi")
                .unwrap()
                .primitive::<i64>()
                .unwrap()
                .iter()
                .collect::<Vec<_>>(),
            i64s()
        );
        assert_eq!(
            f.column("bin").unwrap().binary().unwrap().iter().count(),
            ROWS
        );
        assert_eq!(r.array::<i64>("arr").unwrap().as_slice(), &[5; ROWS]);
        assert_eq!(
            r.frame("g")
                .unwrap()
                .column("x")
                .unwrap()
                .values::<i32>()
                .unwrap(),
            &[1, 2, 3]
        );
    };
    read_others();
    for column in corrupt {
        assert!(read_column(f.column(column).unwrap()).is_err(), "{column}");
        // What needs no data still works.
        let v = f.column(column).unwrap();
        let _ = (v.ty(), v.stats(), v.null_count(), v.is_compressed());
    }
    read_others();
}

#[test]
fn compressed_columns_need_a_copy() {
    let bytes = baseline().bytes();
    let r = open_with(Reader::options().require_zero_copy(true), &bytes).unwrap();
    let f = r.frame("f").unwrap();
    for column in ["zi", "zs", "zc"] {
        let e = read_column(f.column(column).unwrap()).unwrap_err();
        assert!(
            matches!(&e, Error::CopyRequired { entry, .. } if entry == "f"),
            "{e:?}"
        );
        assert!(f.column(column).unwrap().is_compressed());
    }
    read_column(f.column("s").unwrap()).unwrap();
}

#[test]
fn decompressed_bytes_limit_applies_to_columns() {
    let bytes = baseline().bytes();
    let r = open_with(Reader::options().max_decompressed_bytes(40), &bytes).unwrap();
    let f = r.frame("f").unwrap();
    // "zi" needs 2 + 80 bytes.
    let e = read_column(f.column("zi").unwrap()).unwrap_err();
    assert!(
        matches!(
            &e,
            Error::LimitExceeded {
                setting: Limit::MaxDecompressedBytes,
                ..
            }
        ),
        "{e:?}"
    );
    assert_names(&e, &[FILE, "\"f\""]);
    read_column(f.column("i64").unwrap()).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Tier 2: statistics (rule D11)
// ---------------------------------------------------------------------------------------------

/// A lying `min`, `max` or `stats` in the manifest is refused on first access of the column
/// (every accessor, and `checked_stats`) and by verify, naming the column and the field; the
/// unchecked `stats()` still returns the lie without touching data.
#[test]
fn statistics_that_lie_about_the_data() {
    let c = baseline();
    let i = col(&c.m, "i64");
    let f = col(&c.m, "f32");
    let cases: Vec<(&str, &str, Vec<u8>)> = vec![
        // i64: non-null values -20..=61 (rows 1 and 6 null).
        (
            "i64",
            "min",
            c.bytes_edited(|m| m.columns[i].min = (-19i64) as u64),
        ),
        (
            "i64",
            "min",
            c.bytes_edited(|m| m.columns[i].min = (-21i64) as u64),
        ),
        ("i64", "max", c.bytes_edited(|m| m.columns[i].max = 60)),
        (
            "i64",
            "stats",
            c.bytes_edited(|m| {
                m.columns[i].stats = 0;
                m.columns[i].min = 0;
                m.columns[i].max = 0;
            }),
        ),
        // f32: -1.0..=3.5, no nulls.
        (
            "f32",
            "max",
            c.bytes_edited(|m| m.columns[f].max = 3.0f64.to_bits()),
        ),
        (
            "f32",
            "min",
            c.bytes_edited(|m| m.columns[f].min = f64::NAN.to_bits()),
        ),
    ];
    for (column, field, bytes) in cases {
        let r = open(&bytes).expect("a statistics lie is not a tier-1 error");
        let view = r.frame("f").unwrap().column(column).unwrap();
        assert_invalid_column(view.checked_stats(), column, field);
        assert_invalid_column(read_column(view), column, field);
        assert_invalid_column(r.verify(), column, field);
        let fresh = open(&bytes).unwrap();
        assert_invalid_column(fresh.verify(), column, field);
        // The other columns still read.
        for other in fresh
            .frame("f")
            .unwrap()
            .iter()
            .filter(|v| v.name() != column)
        {
            other.checked_stats().expect("another column");
        }
    }
}

/// What D11 allows: a null row's stored value outside the range, and -0.0 for 0.0.
#[test]
fn statistics_ignore_null_rows_and_the_sign_of_zero() {
    let c = baseline();
    let m = &c.m;
    // Row 1 of i64 is null: whatever it holds does not count.
    let bytes = c
        .patched(values(m, "i64"), |v| set_i64(v, 1, i64::MIN))
        .bytes();
    let r = open_with(Reader::options().verify(true), &bytes).expect("verifies");
    let stats = r
        .frame("f")
        .unwrap()
        .column("i64")
        .unwrap()
        .checked_stats()
        .unwrap();
    assert_eq!(stats.range, Some(brine::frame::StatRange::Int(-20, 61)));
    // f32 holds 0.0 at row 2; a writer may store either zero as the range's bound.
    let f = col(m, "f32");
    let bytes = c.bytes_edited(|m| m.columns[f].min = (-1.0f64).to_bits());
    open_with(Reader::options().verify(true), &bytes).expect("unchanged");
    let only_zero = Frame::builder()
        .column("z", Column::new(vec![0.0f64, -0.0]))
        .build()
        .unwrap();
    let mut w =
        Writer::create(std::env::temp_dir().join(format!("d11-zero-{}.brine", std::process::id())))
            .unwrap();
    let path = w.path().to_path_buf();
    w.put_frame("f", &only_zero).unwrap();
    w.finish().unwrap();
    let cz = Crafted::from_written(&std::fs::read(&path).unwrap());
    std::fs::remove_file(&path).unwrap();
    let z = col(&cz.m, "z");
    for (lo, hi) in [(0.0f64, -0.0f64), (-0.0, 0.0), (-0.0, -0.0)] {
        let bytes = cz.bytes_edited(|m| {
            m.columns[z].min = lo.to_bits();
            m.columns[z].max = hi.to_bits();
        });
        let r = open_with(Reader::options().verify(true), &bytes).expect("either zero");
        r.frame("f")
            .unwrap()
            .column("z")
            .unwrap()
            .checked_stats()
            .unwrap();
    }
}
