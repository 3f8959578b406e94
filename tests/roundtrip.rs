use brine::{Codec, EntryOptions, Reader, Writer};

#[test]
fn smoke() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.brine");
    let mut w = Writer::create(&path).unwrap();
    let data: Vec<f32> = (0..3_000_000).map(|i| (i as f32).sin()).collect();
    w.put_array("raw", &data, &[1000, 3000]).unwrap();
    w.put_array_with("z", &data, &[3_000_000], &EntryOptions::new().codec(Codec::zstd_shuffled(3))).unwrap();
    w.put_array("b", &[true, false], &[2]).unwrap();
    w.put_array::<f64>("scalar", &[1.5], &[]).unwrap();
    w.set_metadata("k", "v");
    w.finish().unwrap();
    let r = Reader::options().verify(true).open(&path).unwrap();
    assert_eq!(r.array::<f32>("raw").unwrap().as_slice(), &data[..]);
    assert_eq!(r.array_entry("z").unwrap().get::<f32>(2_500_000).unwrap(), data[2_500_000]);
    assert_eq!(r.array::<f32>("z").unwrap().as_slice(), &data[..]);
    assert_eq!(r.array::<bool>("b").unwrap().as_slice(), &[true, false]);
    assert_eq!(r.array::<f64>("scalar").unwrap().shape(), &[] as &[u64]);
    println!("{:?}", r.entries().collect::<Vec<_>>());
    println!("{}", std::fs::metadata(&path).unwrap().len());
}
