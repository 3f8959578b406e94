//! Opening a brine file on S3 (issue 15): moto's S3 server on 127.0.0.1 (`pip install
//! 'moto[server]'`; the bench starts it and stops without it), against the cost of one request.
//!
//! `cargo bench -p brine-object-store --bench s3_open` times, side by side:
//! - `get-1-byte`: one ranged GET, the cost of one round trip to this server;
//! - `brine-open`: `brine_object_store::open` of a file whose manifest fits the speculative
//!   suffix: the header and the suffix are requested together, so the open costs one round
//!   trip (its requests are counted and printed);
//! - `brine-open-read`: the open and then the read of a 1.6 MB array (one more ranged GET);
//! - `two-gets-together`: two 1-byte GETs issued together, what the open asks of the server.
//!
//! moto answers a request with tens of microseconds of network and about two milliseconds of
//! Python, and its threads share one interpreter lock, so two requests issued together take
//! about twice one: on bare moto the open's time is the server's work, not round trips. The
//! `rtt-20ms` group puts a proxy in front of moto that holds every byte of the answers for
//! 20 ms, a network whose round trip is 20 ms (S3's first byte typically takes 10 to 30 ms):
//! there an open that waited for one answer before asking again would cost two round trips,
//! and brine's open costs one, against one 1-byte GET through the same proxy.

#[path = "../tests/moto/mod.rs"]
mod moto;

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use brine::{OpenOptions, Writer};
use brine_object_store::counting::CountingStore;
use brine_object_store::object_store::path::Path;
use brine_object_store::object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main};

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
        "brine open over moto S3: {} gets issued together, {} heads, {} get_ranges, {} round \
         trip(s); the read of a: {} get_ranges, {} bytes, {} round trip(s)",
        open.gets,
        open.heads,
        open.get_ranges,
        open.rounds,
        read.get_ranges,
        read.bytes,
        read.rounds
    );

    let mut group = c.benchmark_group("s3-open-moto");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    get_and_open(&mut group, &rt, &s3, &path);
    group.bench_function("brine-open-read", |b| {
        b.iter(|| {
            let r = brine_object_store::open(Arc::clone(&s3), path.clone(), OpenOptions::default())
                .unwrap();
            r.array::<f64>("a").unwrap().as_slice()[199_999]
        })
    });
    group.bench_function("two-gets-together", |b| {
        b.iter(|| {
            rt.block_on(async {
                let (x, y) = futures::join!(s3.get_range(&path, 0..1), s3.get_range(&path, 1..2));
                (x.unwrap(), y.unwrap())
            })
        })
    });
    group.finish();

    let slow = moto::s3_store(delay_proxy(port, Duration::from_millis(20)), "bench");
    let mut group = c.benchmark_group("s3-open-moto-rtt-20ms");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    get_and_open(&mut group, &rt, &slow, &path);
    group.finish();
}

/// `get-1-byte` (one round trip to `store`) and `brine-open` of `path` on it, side by side.
fn get_and_open(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rt: &tokio::runtime::Runtime,
    store: &Arc<dyn ObjectStore>,
    path: &Path,
) {
    group.bench_function("get-1-byte", |b| {
        b.iter(|| rt.block_on(store.get_range(path, 0..1)).unwrap())
    });
    group.bench_function("brine-open", |b| {
        b.iter(|| {
            brine_object_store::open(Arc::clone(store), path.clone(), OpenOptions::default())
                .unwrap()
        })
    });
}

/// A proxy on 127.0.0.1 in front of the server at `upstream` that holds every byte the server
/// sends for `delay` before passing it on (requests pass at once): each request then costs
/// `delay` more, as on a network whose round trip is `delay`. Returns its port.
fn delay_proxy(upstream: u16, delay: Duration) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let server = tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await?;
                    client.set_nodelay(true)?;
                    server.set_nodelay(true)?;
                    let (mut from_client, mut to_client) = client.into_split();
                    let (mut from_server, mut to_server) = server.into_split();
                    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
                    let up = tokio::io::copy(&mut from_client, &mut to_server);
                    let hold = async move {
                        let mut buf = vec![0u8; 64 * 1024];
                        loop {
                            let n = from_server.read(&mut buf).await?;
                            if n == 0 {
                                return Ok::<_, std::io::Error>(());
                            }
                            let due = tokio::time::Instant::now() + delay;
                            if tx.send((due, buf[..n].to_vec())).is_err() {
                                return Ok(());
                            }
                        }
                    };
                    let pass = async move {
                        while let Some((due, bytes)) = rx.recv().await {
                            tokio::time::sleep_until(due).await;
                            to_client.write_all(&bytes).await?;
                        }
                        to_client.shutdown().await
                    };
                    let (a, b, c) = futures::join!(up, hold, pass);
                    a.map(drop).and(b).and(c)
                });
            }
        });
    });
    port
}

criterion_group!(benches, bench);
criterion_main!(benches);
