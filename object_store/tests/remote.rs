//! Request counts and results of brine files read through object_store's InMemory and
//! LocalFileSystem stores, and a store that fails or truncates responses.

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use brine::{Codec, Column, EntryOptions, Frame, OpenOptions, Reader, Writer};
use brine_object_store::counting::{CountingStore, Counts};
use brine_object_store::object_store::memory::InMemory;
use brine_object_store::object_store::path::Path;
use brine_object_store::object_store::{
    self, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    ObjectStoreExt, PutMultipartOptions, PutOptions, PutPayload, PutResult,
};
use bytes::Bytes;
use futures::stream::BoxStream;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Writes a file with `build` and returns its bytes.
fn file(build: impl FnOnce(&mut Writer)) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.brine");
    let mut w = Writer::create(&path).unwrap();
    build(&mut w);
    w.finish().unwrap();
    std::fs::read(&path).unwrap()
}

fn upload(store: &Arc<dyn ObjectStore>, key: &str, bytes: Vec<u8>) -> Path {
    let path = Path::from(key);
    rt().block_on(store.put(&path, PutPayload::from(bytes)))
        .unwrap();
    path
}

fn counting(inner: Arc<dyn ObjectStore>) -> (Arc<CountingStore>, Arc<dyn ObjectStore>) {
    let c = Arc::new(CountingStore::new(inner));
    let dynamic: Arc<dyn ObjectStore> = c.clone();
    (c, dynamic)
}

fn arrays_file() -> Vec<u8> {
    file(|w| {
        let a: Vec<f32> = (0..100_000).map(|i| i as f32).collect();
        let b: Vec<i64> = (0..50_000).collect();
        w.put_array("a", &a, &[a.len()]).unwrap();
        w.put_array("b", &b, &[b.len()]).unwrap();
    })
}

#[test]
fn open_is_one_round_trip_and_a_read_fetches_exactly_its_section() {
    for local in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let inner: Arc<dyn ObjectStore> = if local {
            Arc::new(object_store::local::LocalFileSystem::new_with_prefix(dir.path()).unwrap())
        } else {
            Arc::new(InMemory::new())
        };
        let bytes = arrays_file();
        let path = upload(&inner, "x/f.brine", bytes.clone());
        let (c, store) = counting(inner);
        let mmap = Reader::from_buffer("mem", brine::AlignedBuf::copy_from_slice(&bytes)).unwrap();

        // Size unknown: the head and a suffix, concurrently (one round trip, two gets).
        let r =
            brine_object_store::open(store.clone(), path.clone(), OpenOptions::default()).unwrap();
        let open = c.take();
        assert_eq!(
            open,
            Counts {
                gets: 2,
                heads: 0,
                get_ranges: 0,
                bytes: open.bytes,
                rounds: 1,
            }
        );
        assert!(r.is_remote());
        let a = r.array::<f32>("a").unwrap();
        let got = c.take();
        assert_eq!((got.get_ranges, got.gets, got.heads), (1, 0, 0), "{got:?}");
        assert_eq!(got.bytes, r.array_entry("a").unwrap().stored_len());
        assert_eq!(got.rounds, 1);
        assert_eq!(a.as_slice(), mmap.array::<f32>("a").unwrap().as_slice());
        // Cached: no second fetch.
        let _ = r.array::<f32>("a").unwrap();
        assert_eq!(c.take().calls(), 0);

        // Size known from a listing: one get_ranges call, which the store may coalesce.
        let meta = rt().block_on(store.head(&path)).unwrap();
        c.take();
        let r =
            brine_object_store::open_meta(store.clone(), &meta, OpenOptions::default()).unwrap();
        let open = c.take();
        assert_eq!(
            (open.get_ranges, open.gets, open.heads, open.rounds),
            (1, 0, 0, 1),
            "{open:?}"
        );
        assert_eq!(
            r.array::<i64>("b").unwrap().as_slice(),
            mmap.array::<i64>("b").unwrap().as_slice()
        );
        r.verify().unwrap();
    }
}

#[test]
fn a_manifest_longer_than_the_suffix_costs_one_more_round_trip() {
    let bytes = file(|w| {
        for i in 0..3000 {
            w.put_array(&format!("entry-with-a-long-name-{i:05}"), &[i as u32], &[1])
                .unwrap();
        }
    });
    let inner: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let path = upload(&inner, "big.brine", bytes);
    let (c, store) = counting(inner);
    let r = brine_object_store::open(store.clone(), path.clone(), OpenOptions::default()).unwrap();
    assert!(
        r.manifest_len() > brine::DEFAULT_SUFFIX_LEN,
        "{}",
        r.manifest_len()
    );
    let open = c.take();
    // Round trip 1: two concurrent gets; round trip 2: the manifest.
    assert_eq!(
        (open.gets, open.get_ranges, open.rounds),
        (2, 1, 2),
        "{open:?}"
    );
    assert_eq!(
        r.array::<u32>("entry-with-a-long-name-02999")
            .unwrap()
            .as_slice(),
        &[2999]
    );
    // A suffix as long as the manifest makes it one round trip again.
    let options = OpenOptions::default().suffix_len(r.manifest_len());
    c.take();
    brine_object_store::open(store, path, options).unwrap();
    let open = c.take();
    assert_eq!(
        (open.gets, open.get_ranges, open.rounds),
        (2, 0, 1),
        "{open:?}"
    );
}

#[test]
fn a_projection_of_two_columns_of_ten_is_one_batch_of_their_sections() {
    let rows = 20_000usize;
    let mut b = Frame::builder();
    for k in 0..10 {
        b = b.column(
            format!("c{k}"),
            Column::new((0..rows as i64).map(|i| i * k).collect()),
        );
    }
    let frame = b.build().unwrap();
    let bytes = file(|w| w.put_frame("f", &frame).unwrap());
    let inner: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let path = upload(&inner, "frame.brine", bytes.clone());
    let (c, store) = counting(inner);
    let r = brine_object_store::open(store, path, OpenOptions::default()).unwrap();
    c.take();
    let f = r.frame("f").unwrap();
    f.fetch(&["c3", "c7"]).unwrap();
    let got = c.take();
    let expected: u64 = ["c3", "c7"]
        .iter()
        .flat_map(|n| {
            f.column(n)
                .unwrap()
                .sections()
                .map(|(_, s)| s.stored_len)
                .collect::<Vec<_>>()
        })
        .sum();
    assert_eq!(
        (got.get_ranges, got.gets, got.bytes),
        (1, 0, expected),
        "{got:?}"
    );
    let mmap = Reader::from_buffer("mem", brine::AlignedBuf::copy_from_slice(&bytes)).unwrap();
    for n in ["c3", "c7"] {
        assert_eq!(
            f.column(n).unwrap().values::<i64>().unwrap(),
            mmap.frame("f")
                .unwrap()
                .column(n)
                .unwrap()
                .values::<i64>()
                .unwrap()
        );
    }
    assert_eq!(c.take().calls(), 0, "the columns were fetched already");
}

#[test]
fn random_access_into_a_zstd_array_fetches_only_its_chunk() {
    let data: Vec<f32> = (0..1_000_000).map(|i| (i as f32).sin()).collect();
    let bytes = file(|w| {
        w.put_array_with(
            "z",
            &data,
            &[data.len()],
            &EntryOptions::new()
                .codec(Codec::zstd_shuffled())
                .chunk_len(64 * 1024),
        )
        .unwrap()
    });
    let inner: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let path = upload(&inner, "z.brine", bytes);
    let (c, store) = counting(inner);
    let r = brine_object_store::open(store, path, OpenOptions::default()).unwrap();
    let e = r.array_entry("z").unwrap();
    assert!(e.chunk_count() > 10);
    c.take();
    let i = 500_000;
    assert_eq!(e.get::<f32>(i).unwrap(), data[i]);
    let got = c.take();
    assert_eq!(got.get_ranges, 1, "{got:?}");
    assert!(
        got.bytes * 5 < e.stored_len(),
        "{got:?} of {}",
        e.stored_len()
    );
    // Neighbours in the same chunk: no request.
    assert_eq!(e.get::<f32>(i + 1).unwrap(), data[i + 1]);
    assert_eq!(c.take().calls(), 0);
    assert_eq!(e.range::<f32>(0..data.len()).unwrap(), &data[..]);
}

/// A store that truncates every `get_ranges` answer, or fails it, while `armed` is non-zero.
#[derive(Debug)]
struct Faulty {
    inner: Arc<dyn ObjectStore>,
    /// 1: truncate; 2: fail.
    mode: AtomicU64,
}

impl std::fmt::Display for Faulty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Faulty")
    }
}

#[async_trait]
impl ObjectStore for Faulty {
    async fn put_opts(
        &self,
        l: &Path,
        p: PutPayload,
        o: PutOptions,
    ) -> object_store::Result<PutResult> {
        self.inner.put_opts(l, p, o).await
    }
    async fn put_multipart_opts(
        &self,
        l: &Path,
        o: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(l, o).await
    }
    async fn get_opts(&self, l: &Path, o: GetOptions) -> object_store::Result<GetResult> {
        self.inner.get_opts(l, o).await
    }
    async fn get_ranges(
        &self,
        l: &Path,
        ranges: &[Range<u64>],
    ) -> object_store::Result<Vec<Bytes>> {
        let got = self.inner.get_ranges(l, ranges).await?;
        match self.mode.load(Ordering::SeqCst) {
            1 => Ok(got.into_iter().map(|b| b.slice(..b.len() / 2)).collect()),
            2 => Err(object_store::Error::Generic {
                store: "Faulty",
                source: "connection reset".into(),
            }),
            _ => Ok(got),
        }
    }
    fn delete_stream(
        &self,
        s: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        self.inner.delete_stream(s)
    }
    fn list(&self, p: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list(p)
    }
    async fn list_with_delimiter(&self, p: Option<&Path>) -> object_store::Result<ListResult> {
        self.inner.list_with_delimiter(p).await
    }
    async fn copy_opts(
        &self,
        f: &Path,
        t: &Path,
        o: object_store::CopyOptions,
    ) -> object_store::Result<()> {
        self.inner.copy_opts(f, t, o).await
    }
}

#[test]
fn a_short_or_failed_read_is_an_error_that_keeps_nothing_and_a_retry_reads() {
    let inner: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let bytes = file(|w| {
        let a: Vec<f32> = (0..100_000).map(|i| i as f32).collect();
        w.put_array("a", &a, &[a.len()]).unwrap();
        w.put_array_with(
            "z",
            &a,
            &[a.len()],
            &EntryOptions::new().codec(Codec::zstd()),
        )
        .unwrap();
    });
    let path = upload(&inner, "f.brine", bytes);
    let faulty = Arc::new(Faulty {
        inner,
        mode: AtomicU64::new(0),
    });
    let store: Arc<dyn ObjectStore> = faulty.clone();
    let r = brine_object_store::open(store, path, OpenOptions::default()).unwrap();
    for mode in [1, 2] {
        faulty.mode.store(mode, Ordering::SeqCst);
        for name in ["a", "z"] {
            let e = r.array::<f32>(name).unwrap_err();
            assert!(matches!(e, brine::Error::Remote { .. }), "{e}");
            if mode == 1 {
                let io = match &e {
                    brine::Error::Remote { source, .. } => source.kind(),
                    _ => unreachable!(),
                };
                assert_eq!(io, std::io::ErrorKind::UnexpectedEof, "{e}");
            }
        }
    }
    faulty.mode.store(0, Ordering::SeqCst);
    for name in ["a", "z"] {
        let v = r.array::<f32>(name).unwrap();
        assert_eq!(v.as_slice()[99_999], 99_999.0);
    }
}

/// Every file under `dir`, uploaded under `prefix` with the same relative keys.
fn upload_dir(store: &Arc<dyn ObjectStore>, dir: &std::path::Path, prefix: &str) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let rel = p.strip_prefix(dir).unwrap().to_str().unwrap().to_owned();
            let key = Path::parse(format!("{prefix}/{rel}")).unwrap();
            rt().block_on(store.put(&key, PutPayload::from(std::fs::read(&p).unwrap())))
                .unwrap();
        }
    }
}

#[test]
fn a_partitioned_dataset_opens_by_its_index_alone_and_each_shard_on_first_use() {
    use brine::dataset::{Dataset, DatasetOptions, DatasetWriter};
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("flights");
    let rows = 3000usize;
    // A hive value with characters that are escaped in folder names ("a/b c" becomes %-escapes).
    let origins = ["SFO", "a/b c", "JFK"];
    let frame = Frame::builder()
        .column("origin", Column::strings((0..rows).map(|i| origins[i % 3])))
        .column("delay", Column::new((0..rows as i64).collect()))
        .build()
        .unwrap();
    let mut w = DatasetWriter::create(
        &root,
        DatasetOptions::new().max_rows(400).partition_by(["origin"]),
    )
    .unwrap();
    w.write_frame(&frame).unwrap();
    w.finish().unwrap();
    let local = Dataset::open(&root).unwrap();
    assert!(local.shards().len() >= 6, "{}", local.shards().len());
    assert!(local.shards().iter().any(|s| s.path().contains('%')));

    let inner: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    upload_dir(&inner, &root, "data/flights");
    let (c, store) = counting(inner);
    let ds =
        brine_object_store::open_dataset(store, Path::from("data/flights"), OpenOptions::default())
            .unwrap();
    // The index only: a single file's open (head and suffix together), no shard touched.
    let open = c.take();
    assert_eq!(
        (open.gets, open.heads, open.get_ranges),
        (2, 0, 0),
        "{open:?}"
    );
    assert_eq!(ds.rows(), rows as u64);
    assert_eq!(ds.shards().len(), local.shards().len());
    assert_eq!(
        ds.root().to_str().unwrap(),
        "Counting(InMemory)/data/flights"
    );

    // One shard: its open, nothing of any other shard. A shard this small comes whole with the
    // open's two ranges, so the column's read fetches nothing more.
    let last = ds.shards().len() - 1;
    let r = ds.open_shard(last).unwrap();
    let delay = r.frame("data").unwrap().column("delay").unwrap();
    let want = local.open_shard(last).unwrap();
    let want_delay = want.frame("data").unwrap().column("delay").unwrap();
    assert_eq!(
        delay.values::<i64>().unwrap(),
        want_delay.values::<i64>().unwrap()
    );
    let shard = c.take();
    assert_eq!(
        (shard.gets, shard.get_ranges),
        (2, 0),
        "one open: {shard:?}"
    );
    assert!(
        shard.bytes < ds.shards()[last].bytes() + 8192,
        "{shard:?} for a shard of {} bytes",
        ds.shards()[last].bytes()
    );
    assert_eq!(
        ds.checked_column_stats(last, "delay").unwrap(),
        local.checked_column_stats(last, "delay").unwrap()
    );
    ds.verify().unwrap();
    assert!(ds.is_verified());

    // A shard missing from the store: an error naming it, when it is first needed.
    let inner: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    upload_dir(&inner, &root, "p");
    let gone = Path::parse(format!("p/{}", local.shards()[0].path())).unwrap();
    rt().block_on(inner.delete(&gone)).unwrap();
    let ds =
        brine_object_store::open_dataset(inner, Path::from("p"), OpenOptions::default()).unwrap();
    let e = ds.open_shard(0).unwrap_err().to_string();
    assert!(
        e.contains(local.shards()[0].path()) || e.contains("not found"),
        "{e}"
    );
    ds.open_shard(1).unwrap();
}
