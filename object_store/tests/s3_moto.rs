//! A real S3 protocol round trip: moto's S3 server (`pip install 'moto[server]'`), started on
//! 127.0.0.1 by this test. Without `moto_server` on the PATH the test fails and says how to
//! install it: it is never skipped.

use std::sync::Arc;

use brine::{OpenOptions, Reader, Writer};
use brine_object_store::counting::CountingStore;
use brine_object_store::object_store::path::Path;
use brine_object_store::object_store::{ObjectStore, ObjectStoreExt, PutPayload};

mod moto;

use moto::{create_bucket, start_moto};

#[test]
fn s3_through_moto_open_url_and_counted_requests() {
    let (_server, port) = start_moto();
    create_bucket(port, "brine-test");
    let endpoint = format!("http://127.0.0.1:{port}");
    let options = [
        ("aws_endpoint", endpoint.clone()),
        ("aws_allow_http", "true".into()),
        ("aws_access_key_id", "test".into()),
        ("aws_secret_access_key", "test".into()),
        ("aws_region", "us-east-1".into()),
    ];
    let s3 = moto::s3_store(port, "brine-test");
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("f.brine");
    let a: Vec<f64> = (0..200_000).map(|i| i as f64 * 0.5).collect();
    let mut w = Writer::create(&local).unwrap();
    w.put_array("a", &a, &[a.len()]).unwrap();
    w.put_array("b", &[1u8, 2, 3], &[3]).unwrap();
    w.finish().unwrap();
    let path = Path::from("dir/f.brine");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(s3.put(&path, PutPayload::from(std::fs::read(&local).unwrap())))
        .unwrap();

    let r = brine_object_store::open_url(
        "s3://brine-test/dir/f.brine",
        options,
        OpenOptions::default(),
    )
    .unwrap();
    assert_eq!(r.array::<f64>("a").unwrap().as_slice(), &a[..]);
    assert_eq!(r.array::<u8>("b").unwrap().as_slice(), &[1, 2, 3]);
    r.verify().unwrap();

    let counting = Arc::new(CountingStore::new(s3.clone()));
    let store: Arc<dyn ObjectStore> = counting.clone();
    let r = brine_object_store::open(store, path, OpenOptions::default()).unwrap();
    let open = counting.take();
    // Two gets issued together, before either answered: one round trip.
    assert_eq!(
        (open.gets, open.heads, open.get_ranges, open.rounds),
        (2, 0, 0, 1),
        "{open:?}"
    );
    let v = r.array::<f64>("a").unwrap();
    let read = counting.take();
    assert_eq!((read.get_ranges, read.bytes), (1, 200_000 * 8), "{read:?}");
    let mapped = Reader::open(&local).unwrap();
    assert_eq!(v.as_slice(), mapped.array::<f64>("a").unwrap().as_slice());
    eprintln!("moto S3: open {open:?}; read of a (1.6 MB) {read:?}");

    // A dataset under a prefix: opened by URL, its index alone at open, shards on first use.
    use brine::dataset::{Dataset, DatasetOptions, DatasetWriter};
    let root = dir.path().join("ds");
    let frame = brine::Frame::builder()
        .column("k", brine::Column::new((0..5000i64).collect()))
        .build()
        .unwrap();
    let mut w = DatasetWriter::create(&root, DatasetOptions::new().max_rows(1000)).unwrap();
    w.write_frame(&frame).unwrap();
    w.finish().unwrap();
    let local = Dataset::open(&root).unwrap();
    for name in std::iter::once(brine::dataset::INDEX_FILE.to_owned())
        .chain(local.shards().iter().map(|s| s.path().to_owned()))
    {
        let key = Path::parse(format!("sets/ds/{name}")).unwrap();
        rt.block_on(s3.put(
            &key,
            PutPayload::from(std::fs::read(root.join(&name)).unwrap()),
        ))
        .unwrap();
    }
    let ds = brine_object_store::open_dataset_url(
        "s3://brine-test/sets/ds",
        [
            ("aws_endpoint", endpoint.clone()),
            ("aws_allow_http", "true".into()),
            ("aws_access_key_id", "test".into()),
            ("aws_secret_access_key", "test".into()),
            ("aws_region", "us-east-1".into()),
        ],
        OpenOptions::default(),
    )
    .unwrap();
    assert_eq!((ds.rows(), ds.shards().len()), (5000, 5));
    let mut keys = Vec::new();
    for i in 0..ds.shards().len() {
        let r = ds.open_shard(i).unwrap();
        let f = r.frame("data").unwrap();
        keys.extend_from_slice(f.column("k").unwrap().values::<i64>().unwrap());
    }
    assert_eq!(keys, (0..5000).collect::<Vec<i64>>());
    ds.verify().unwrap();
}
