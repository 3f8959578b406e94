//! Frames: round trips of every column type, with and without nulls, raw and compressed;
//! batches; statistics; alignment of every view; lookups and kind errors.

use brine::frame::{Column, ColumnType, Frame, FrameOptions, StatRange, TimeUnit};
use brine::{Codec, Reader, Writer};

fn sample_frame() -> Frame {
    Frame::builder()
        .column("i8", Column::from_options([Some(-1i8), None, Some(7)]))
        .column("u64", Column::new(vec![1u64, u64::MAX, 3]))
        .column(
            "f64",
            Column::from_options([Some(1.5f64), Some(f64::NAN), None]),
        )
        .column("b", Column::bools_opt([Some(true), None, Some(false)]))
        .column("s", Column::strings_opt([Some("héllo"), None, Some("")]))
        .column(
            "bin",
            Column::binary_opt([Some(&b"\x00\xff"[..]), Some(b""), None]),
        )
        .column(
            "ts",
            Column::timestamps_opt(
                [Some(0), Some(-5), None],
                TimeUnit::Nanosecond,
                Some("Europe/Paris"),
            ),
        )
        .column("d", Column::dates_opt([Some(19000), None, Some(-1)]))
        .column("dur", Column::durations(vec![1, 2, 3], TimeUnit::Second))
        .column(
            "cat",
            Column::categorical([Some("a"), Some("b"), Some("a")]),
        )
        .build()
        .unwrap()
}

fn check(r: &Reader, name: &str) {
    let f = r.frame(name).unwrap();
    assert_eq!(f.rows(), 3);
    assert_eq!(f.width(), 10);
    let c = f.column("i8").unwrap();
    assert_eq!(
        c.primitive::<i8>().unwrap().iter().collect::<Vec<_>>(),
        [Some(-1), None, Some(7)]
    );
    assert_eq!(c.stats().null_count, 1);
    assert_eq!(c.stats().range, Some(StatRange::Int(-1, 7)));
    assert_eq!(
        f.column("u64").unwrap().values::<u64>().unwrap(),
        &[1, u64::MAX, 3]
    );
    assert_eq!(
        f.column("u64").unwrap().stats().range,
        Some(StatRange::UInt(1, u64::MAX))
    );
    let x = f.column("f64").unwrap().primitive::<f64>().unwrap();
    assert_eq!(x.get(0), Some(1.5));
    assert!(x.get(1).unwrap().is_nan());
    assert_eq!(x.get(2), None);
    assert_eq!(
        f.column("f64").unwrap().stats().range,
        Some(StatRange::Float(1.5, 1.5))
    );
    let b = f.column("b").unwrap().bools().unwrap();
    assert_eq!(
        b.iter().collect::<Vec<_>>(),
        [Some(true), None, Some(false)]
    );
    let s = f.column("s").unwrap().strings().unwrap();
    assert_eq!(
        s.iter().collect::<Vec<_>>(),
        [Some("héllo"), None, Some("")]
    );
    let bin = f.column("bin").unwrap().binary().unwrap();
    assert_eq!(
        bin.iter().collect::<Vec<_>>(),
        [Some(&b"\x00\xff"[..]), Some(b""), None]
    );
    let ts = f.column("ts").unwrap();
    assert_eq!(
        ts.ty(),
        ColumnType::Timestamp {
            unit: TimeUnit::Nanosecond,
            zone: Some("Europe/Paris".into())
        }
    );
    let t = ts.timestamps().unwrap();
    assert_eq!(
        t.values.iter().collect::<Vec<_>>(),
        [Some(0), Some(-5), None]
    );
    assert_eq!(t.zone, Some("Europe/Paris"));
    let d = f.column("d").unwrap().dates().unwrap();
    assert_eq!(d.iter().collect::<Vec<_>>(), [Some(19000), None, Some(-1)]);
    assert_eq!(
        f.column("dur").unwrap().ty(),
        ColumnType::Duration(TimeUnit::Second)
    );
    let cat = f.column("cat").unwrap().categorical().unwrap();
    assert_eq!(
        cat.iter().collect::<Vec<_>>(),
        [Some("a"), Some("b"), Some("a")]
    );
    assert_eq!(cat.dictionary.len(), 2);
    assert!(f.column("nope").is_err());
}

#[test]
fn every_type_round_trips_raw_and_compressed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.brine");
    let mut w = Writer::create(&path).unwrap();
    w.put_frame("raw", &sample_frame()).unwrap();
    w.put_frame_with(
        "zstd",
        &sample_frame(),
        &FrameOptions::new().codec(Codec::zstd_shuffled()),
    )
    .unwrap();
    let mut fw = w.frame_writer("batched", &FrameOptions::new()).unwrap();
    fw.write_batch(&sample_frame()).unwrap();
    fw.finish().unwrap();
    w.finish().unwrap();
    let r = Reader::options().verify(true).open(&path).unwrap();
    check(&r, "raw");
    check(&r, "zstd");
    check(&r, "batched");
}

#[cfg(feature = "arrow")]
mod arrow {
    use std::sync::Arc;

    use brine::frame::FrameOptions;
    use brine::frame::arrow::arrow_array::Array;
    use brine::frame::arrow::arrow_data;
    use brine::{Codec, Reader, Writer};

    /// Whether every buffer of `a` (and of its children) lies inside `range`.
    fn buffers_inside(data: &arrow_data::ArrayData, range: &std::ops::Range<usize>) -> bool {
        data.buffers().iter().all(|b| {
            let p = b.as_ptr() as usize;
            b.is_empty() || (range.contains(&p) && p + b.len() <= range.end)
        }) && data.nulls().is_none_or(|n| {
            let p = n.buffer().as_ptr() as usize;
            range.contains(&p)
        }) && data.child_data().iter().all(|c| buffers_inside(c, range))
    }

    #[test]
    fn record_batch_points_into_the_mapping_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.brine");
        let mut w = Writer::create(&path).unwrap();
        w.put_frame("t", &super::sample_frame()).unwrap();
        w.put_frame_with(
            "z",
            &super::sample_frame(),
            &FrameOptions::new().codec(Codec::zstd()).zstd_level(1),
        )
        .unwrap();
        w.finish().unwrap();
        let r = Arc::new(Reader::open(&path).unwrap());
        let batch = brine::frame::arrow::record_batch(&r, "t").unwrap();
        assert_eq!(batch.num_rows(), 3);
        assert_eq!(batch.num_columns(), 10);
        // Every buffer is a view of the file's mapping: nothing was copied.
        let mapping = r.mapped_range();
        for c in batch.columns() {
            let data = c.to_data();
            data.validate_full().unwrap();
            assert!(
                buffers_inside(&data, &mapping),
                "{:?} was copied",
                c.data_type()
            );
        }
        // Written back through Arrow, the frame reads the same.
        let batch_z = brine::frame::arrow::record_batch(&r, "z").unwrap();
        assert_eq!(batch, batch_z);
        let path2 = dir.path().join("b.brine");
        let mut w = Writer::create(&path2).unwrap();
        brine::frame::arrow::put_record_batches(
            &mut w,
            "again",
            [batch.clone(), batch.clone()],
            &FrameOptions::new(),
        )
        .unwrap();
        w.finish().unwrap();
        let r2 = Arc::new(Reader::open(&path2).unwrap());
        let again = brine::frame::arrow::record_batch(&r2, "again").unwrap();
        assert_eq!(again.num_rows(), 6);
        assert_eq!(again.slice(3, 3), batch);
        drop(r);
        // The batch outlives the reader handle it came from.
        assert_eq!(batch.column(1).len(), 3);
    }

    /// Schema metadata, field metadata and the ordered flag survive Arrow -> brine -> Arrow.
    #[test]
    fn arrow_schema_metadata_and_ordered_dictionaries_round_trip() {
        use arrow_array::{ArrayRef, DictionaryArray, Float64Array, RecordBatch, types::Int32Type};
        use arrow_schema::{Field, Schema};
        use std::collections::HashMap;

        let dict: DictionaryArray<Int32Type> = ["lo", "hi", "lo"].into_iter().collect();
        let plain: DictionaryArray<Int32Type> = ["x", "y", "x"].into_iter().collect();
        let weights = Float64Array::from(vec![1.0, 2.0, 3.0]);
        let meta = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let schema = Schema::new(vec![
            Field::new("size", dict.data_type().clone(), false).with_dict_is_ordered(true),
            Field::new("tag", plain.data_type().clone(), false),
            Field::new("w", weights.data_type().clone(), false)
                .with_metadata(meta(&[("unit", "kg"), ("", "empty key")])),
        ])
        .with_metadata(meta(&[
            ("pandas", "{\"index_columns\": []}"),
            ("owner", "me"),
        ]));
        let columns: Vec<ArrayRef> = vec![Arc::new(dict), Arc::new(plain), Arc::new(weights)];
        let batch = RecordBatch::try_new(Arc::new(schema.clone()), columns).unwrap();

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.brine");
        let mut w = Writer::create(&path).unwrap();
        brine::frame::arrow::put_record_batches(&mut w, "t", [batch.clone()], &FrameOptions::new())
            .unwrap();
        w.finish().unwrap();
        let r = Arc::new(Reader::open(&path).unwrap());
        let back = brine::frame::arrow::record_batch(&r, "t").unwrap();
        let got = back.schema();
        assert_eq!(got.metadata(), schema.metadata());
        for (g, want) in got.fields().iter().zip(schema.fields()) {
            assert_eq!(g.metadata(), want.metadata(), "{}", want.name());
            assert_eq!(
                g.dict_is_ordered(),
                want.dict_is_ordered(),
                "{}",
                want.name()
            );
        }
        // The values are those written (brine stores strings as LargeUtf8).
        assert_eq!(back.num_rows(), 3);
        assert_eq!(arrow_cast_strings(back.column(0)), ["lo", "hi", "lo"],);
    }

    fn arrow_cast_strings(a: &arrow_array::ArrayRef) -> Vec<String> {
        use arrow_array::cast::AsArray;
        let d = a.as_any_dictionary();
        let values = d.values().as_string::<i64>();
        let keys = d.normalized_keys();
        keys.into_iter()
            .map(|k| values.value(k).to_owned())
            .collect()
    }
}

#[test]
fn every_view_is_aligned_for_its_type() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.brine");
    let mut w = Writer::create(&path).unwrap();
    w.put_frame("raw", &sample_frame()).unwrap();
    w.put_frame_with(
        "zstd",
        &sample_frame(),
        &FrameOptions::new().codec(Codec::zstd()).zstd_level(1),
    )
    .unwrap();
    w.finish().unwrap();
    let r = Reader::open(&path).unwrap();
    for name in ["raw", "zstd"] {
        for c in r.frame(name).unwrap().iter() {
            // Every buffer starts on 64 bytes (Arrow's recommended alignment), which covers
            // every element type.
            for buffer in c.buffers().unwrap() {
                if !buffer.is_empty() {
                    assert_eq!(buffer.as_ptr() as usize % 64, 0, "{name}/{}", c.name());
                }
            }
        }
        let f = r.frame(name).unwrap();
        assert_eq!(
            f.column("u64").unwrap().values::<u64>().unwrap().as_ptr() as usize % 8,
            0
        );
        let s = f.column("s").unwrap().strings().unwrap();
        assert_eq!(s.offsets().as_ptr() as usize % 8, 0);
        let cat = f.column("cat").unwrap().categorical().unwrap();
        assert_eq!(cat.codes.as_ptr() as usize % 4, 0);
    }
}

mod properties {
    use brine::frame::{Column, Frame, FrameOptions, TimeUnit};
    use brine::{Codec, Reader, Writer};
    use proptest::prelude::*;

    /// One column's values, as the test keeps them to compare.
    #[derive(Clone, Debug)]
    enum Values {
        I32(Vec<Option<i32>>),
        F64(Vec<Option<f64>>),
        Bool(Vec<Option<bool>>),
        Str(Vec<Option<String>>),
        Ts(Vec<Option<i64>>),
        Cat(Vec<Option<String>>),
    }

    impl Values {
        fn column(&self) -> Column {
            match self {
                Values::I32(v) => Column::from_options(v.iter().copied()),
                Values::F64(v) => Column::from_options(v.iter().copied()),
                Values::Bool(v) => Column::bools_opt(v.iter().copied()),
                Values::Str(v) => Column::strings_opt(v.iter().map(|s| s.as_deref())),
                Values::Ts(v) => {
                    Column::timestamps_opt(v.iter().copied(), TimeUnit::Microsecond, None)
                }
                Values::Cat(v) => Column::categorical(v.iter().map(|s| s.as_deref())),
            }
        }

        fn slice(&self, r: std::ops::Range<usize>) -> Values {
            match self {
                Values::I32(v) => Values::I32(v[r].to_vec()),
                Values::F64(v) => Values::F64(v[r].to_vec()),
                Values::Bool(v) => Values::Bool(v[r].to_vec()),
                Values::Str(v) => Values::Str(v[r].to_vec()),
                Values::Ts(v) => Values::Ts(v[r].to_vec()),
                Values::Cat(v) => Values::Cat(v[r].to_vec()),
            }
        }

        fn check(&self, c: brine::frame::ColumnView<'_>) {
            let nulls = |n: usize| assert_eq!(c.null_count(), n, "{}", c.name());
            match self {
                Values::I32(v) => {
                    assert_eq!(c.primitive::<i32>().unwrap().iter().collect::<Vec<_>>(), *v);
                    nulls(v.iter().filter(|x| x.is_none()).count());
                }
                Values::F64(v) => {
                    let got: Vec<_> = c
                        .primitive::<f64>()
                        .unwrap()
                        .iter()
                        .map(|x| x.map(f64::to_bits))
                        .collect();
                    let want: Vec<_> = v.iter().map(|x| x.map(f64::to_bits)).collect();
                    assert_eq!(got, want);
                }
                Values::Bool(v) => assert_eq!(c.bools().unwrap().iter().collect::<Vec<_>>(), *v),
                Values::Str(v) => {
                    let got: Vec<_> = c
                        .strings()
                        .unwrap()
                        .iter()
                        .map(|s| s.map(str::to_owned))
                        .collect();
                    assert_eq!(got, *v);
                }
                Values::Ts(v) => assert_eq!(
                    c.timestamps().unwrap().values.iter().collect::<Vec<_>>(),
                    *v
                ),
                Values::Cat(v) => {
                    let got: Vec<_> = c
                        .categorical()
                        .unwrap()
                        .iter()
                        .map(|s| s.map(str::to_owned))
                        .collect();
                    assert_eq!(got, *v);
                }
            }
        }
    }

    fn values(rows: usize) -> impl Strategy<Value = Values> {
        let n = rows..=rows;
        prop_oneof![
            prop::collection::vec(any::<Option<i32>>(), n.clone()).prop_map(Values::I32),
            prop::collection::vec(any::<Option<f64>>(), n.clone()).prop_map(Values::F64),
            prop::collection::vec(any::<Option<bool>>(), n.clone()).prop_map(Values::Bool),
            prop::collection::vec(prop::option::of(".{0,12}"), n.clone()).prop_map(Values::Str),
            prop::collection::vec(any::<Option<i64>>(), n.clone()).prop_map(Values::Ts),
            prop::collection::vec(prop::option::of("[a-d]{1,2}"), n).prop_map(Values::Cat),
        ]
    }

    fn frame(columns: &[Values], r: std::ops::Range<usize>) -> Frame {
        let mut b = Frame::builder();
        for (i, c) in columns.iter().enumerate() {
            b.push(format!("c{i}"), c.slice(r.clone()).column());
        }
        b.build().unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Any columns, with any nulls, written whole or in batches cut anywhere, raw or
        /// compressed in small chunks, read back exactly.
        #[test]
        fn frames_round_trip(
            (rows, columns, cuts) in (0usize..70).prop_flat_map(|rows| (
                Just(rows),
                prop::collection::vec(values(rows), 1..5),
                prop::collection::vec(0..=rows, 0..4),
            )),
            compressed in any::<bool>(),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("p.brine");
            let options = if compressed {
                FrameOptions::new().codec(Codec::zstd_shuffled()).zstd_level(1).chunk_len(64)
            } else {
                FrameOptions::new()
            };
            let mut w = Writer::create(&path).unwrap();
            w.put_frame_with("whole", &frame(&columns, 0..rows), &options).unwrap();
            let mut bounds = cuts.clone();
            bounds.push(0);
            bounds.push(rows);
            bounds.sort_unstable();
            let mut fw = w.frame_writer("batched", &options).unwrap();
            for pair in bounds.windows(2) {
                fw.write_batch(&frame(&columns, pair[0]..pair[1])).unwrap();
            }
            fw.finish().unwrap();
            w.finish().unwrap();
            let r = Reader::options().verify(true).open(&path).unwrap();
            for name in ["whole", "batched"] {
                let f = r.frame(name).unwrap();
                prop_assert_eq!(f.rows(), rows);
                for (i, c) in columns.iter().enumerate() {
                    c.check(f.column(&format!("c{i}")).unwrap());
                }
            }
        }
    }
}

/// Columns long enough to be checked in parallel pieces read back whole (no false alarm at the
/// pieces' edges), and their strings are the ones written.
#[test]
fn long_string_columns_are_checked_in_pieces() {
    let rows = 1_500_000;
    let names: Vec<String> = (0..rows).map(|i| format!("é{i}😀")).collect();
    let frame = Frame::builder()
        .column("s", Column::strings(&names))
        .column(
            "c",
            Column::categorical((0..rows).map(|i| Some(["x", "ÿ", "z"][i % 3]))),
        )
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.brine");
    let mut w = Writer::create(&path).unwrap();
    w.put_frame("t", &frame).unwrap();
    w.finish().unwrap();
    let r = Reader::open(&path).unwrap();
    let f = r.frame("t").unwrap();
    let s = f.column("s").unwrap().strings().unwrap();
    assert_eq!(s.len(), rows);
    assert!(s.values().zip(&names).all(|(a, b)| a == b));
    assert_eq!(s.get(1_234_567), Some("é1234567😀"));
    let c = f.column("c").unwrap().categorical().unwrap();
    assert_eq!(c.get(rows - 1), Some(["x", "ÿ", "z"][(rows - 1) % 3]));
}

/// Format 1.1: column metadata and the ordered flag, whole and batched, and the 1.0 file a
/// frame without them still is.
#[test]
fn column_metadata_and_ordered_categories_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let frame = |rows: std::ops::Range<usize>| {
        let sizes = ["s", "m", "l", "m"];
        Frame::builder()
            .column(
                "size",
                Column::categorical(sizes[rows.clone()].iter().map(|s| Some(*s))).ordered(true),
            )
            .column(
                "w",
                Column::new(rows.clone().map(|i| i as f64).collect::<Vec<_>>()),
            )
            .column(
                "tag",
                Column::categorical(rows.map(|i| Some(if i % 2 == 0 { "a" } else { "b" }))),
            )
            .build()
            .unwrap()
    };
    let options = FrameOptions::new()
        .metadata("origin", "test")
        .column_metadata("w", "unit", "kg")
        .column_metadata("w", "digits", 2i64)
        .column_metadata("size", "", true);
    let path = dir.path().join("m.brine");
    let mut w = Writer::create(&path).unwrap();
    w.put_frame_with("whole", &frame(0..4), &options).unwrap();
    let mut fw = w
        .frame_writer("batched", &options.clone().codec(Codec::zstd()))
        .unwrap();
    fw.write_batch(&frame(0..1)).unwrap();
    fw.write_batch(&frame(1..4)).unwrap();
    fw.finish().unwrap();
    w.finish().unwrap();

    let r = Reader::options().verify(true).open(&path).unwrap();
    assert_eq!(r.version().to_string(), "1.1");
    for name in ["whole", "batched"] {
        let f = r.frame(name).unwrap();
        assert_eq!(
            f.metadata().get("origin"),
            Some(brine::MetaRef::Str("test"))
        );
        let size = f.column("size").unwrap();
        assert_eq!(size.ty(), ColumnType::Categorical { ordered: true });
        assert_eq!(size.ty().to_string(), "categorical[ordered]");
        assert_eq!(size.metadata().get(""), Some(brine::MetaRef::Bool(true)));
        let tag = f.column("tag").unwrap();
        assert_eq!(tag.ty(), ColumnType::Categorical { ordered: false });
        assert!(tag.metadata().is_empty());
        let weight = f.column("w").unwrap().metadata();
        let items: Vec<_> = weight.iter().collect();
        assert_eq!(
            items,
            [
                ("digits", brine::MetaRef::Int(2)),
                ("unit", brine::MetaRef::Str("kg"))
            ]
        );
        let codes = size.categorical().unwrap();
        let dictionary: Vec<_> = codes.dictionary.iter().flatten().collect();
        assert_eq!(dictionary, ["s", "m", "l"]);
    }

    // A batch whose categories are not ordered does not match the frame's first batch.
    let mut w = Writer::create(dir.path().join("mix.brine")).unwrap();
    let mut fw = w.frame_writer("f", &FrameOptions::new()).unwrap();
    fw.write_batch(&frame(0..2)).unwrap();
    let unordered = Frame::builder()
        .column("size", Column::categorical([Some("s")]))
        .column("w", Column::new(vec![0.0f64]))
        .column("tag", Column::categorical([Some("a")]))
        .build()
        .unwrap();
    let e = fw.write_batch(&unordered).unwrap_err();
    assert!(matches!(e, brine::Error::InvalidInput { .. }), "{e}");

    // Metadata for a column the frame does not have is refused, naming it.
    let mut w = Writer::create(dir.path().join("bad.brine")).unwrap();
    let e = w
        .put_frame_with(
            "f",
            &frame(0..1),
            &FrameOptions::new().column_metadata("nope", "k", 1i64),
        )
        .unwrap_err();
    assert!(
        matches!(&e, brine::Error::InvalidInput { reason, .. } if reason.contains("\"nope\"")),
        "{e}"
    );

    // Without column metadata or flags, the file is a 1.0 file.
    let plain = dir.path().join("plain.brine");
    let mut w = Writer::create(&plain).unwrap();
    let frame = Frame::builder()
        .column("tag", Column::categorical([Some("a")]))
        .build()
        .unwrap();
    w.put_frame_with("f", &frame, &FrameOptions::new().metadata("k", "v"))
        .unwrap();
    w.finish().unwrap();
    let r = Reader::open(&plain).unwrap();
    assert_eq!(r.version().to_string(), "1.0");
    let tag = r.frame("f").unwrap().column("tag").unwrap();
    assert_eq!(tag.ty(), ColumnType::Categorical { ordered: false });
    assert!(tag.metadata().is_empty());
}
