//! Opening a brine file on S3 (issue 15): moto's S3 server on 127.0.0.1 (`pip install
//! 'moto[server]'`; the bench starts it and stops without it), against the cost of one request.
//!
//! `cargo bench -p brine-object-store --bench s3_open` times, side by side:
//! - `get-1-byte`: one ranged GET, the cost of one round trip to this server;
//! - `brine-open`: `brine_object_store::open` of a file whose manifest fits the speculative
//!   suffix: the header and the suffix are requested together, so the open costs one round
//!   trip (its requests are counted and printed);
//! - `brine-open-read`: the open and then the read of a 1.6 MB array (one more ranged GET).

#[path = "../tests/moto/mod.rs"]
mod moto;

use std::sync::Arc;
use std::time::Duration;

use brine::{OpenOptions, Writer};
use brine_object_store::counting::CountingStore;
use brine_object_store::object_store::path::Path;
use brine_object_store::object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use criterion::{Criterion, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let (_server, port) = moto::start_moto();
    moto::create_bucket(port, "bench");
    let s3 = moto::s3_store(port, "bench");
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("f.brine");
    let a: Vec<f64> = (0..200_000).map(|i| i as f64 * 0.5).collect();
    let mut w = Writer::create(&local).unwrap();
    w.put_array("a", &a, &[a.len()]).unwrap();
    for i in 0..20 {
        w.put_array(&format!("small-{i}"), &[i as u32; 64], &[64])
            .unwrap();
    }
    w.finish().unwrap();
    let path = Path::from("f.brine");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(s3.put(&path, PutPayload::from(std::fs::read(&local).unwrap())))
        .unwrap();

    let counting = Arc::new(CountingStore::new(Arc::clone(&s3)));
    let store: Arc<dyn ObjectStore> = counting.clone();
    let r =
        brine_object_store::open(Arc::clone(&store), path.clone(), OpenOptions::default()).unwrap();
    let open = counting.take();
    assert_eq!(r.array::<f64>("a").unwrap().as_slice(), &a[..]);
    let read = counting.take();
    eprintln!(
        "brine open over moto S3: {} gets issued together, {} heads, {} get_ranges; the read \
         of a: {} get_ranges, {} bytes",
        open.gets, open.heads, open.get_ranges, read.get_ranges, read.bytes
    );

    let mut group = c.benchmark_group("s3-open-moto");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    group.bench_function("get-1-byte", |b| {
        b.iter(|| rt.block_on(s3.get_range(&path, 0..1)).unwrap())
    });
    group.bench_function("brine-open", |b| {
        b.iter(|| {
            brine_object_store::open(Arc::clone(&s3), path.clone(), OpenOptions::default()).unwrap()
        })
    });
    group.bench_function("brine-open-read", |b| {
        b.iter(|| {
            let r = brine_object_store::open(Arc::clone(&s3), path.clone(), OpenOptions::default())
                .unwrap();
            r.array::<f64>("a").unwrap().as_slice()[199_999]
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
