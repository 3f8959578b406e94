//! brine files on object storage (S3, GCS, Azure, HTTP, or any [`ObjectStore`]), read with the
//! fewest round trips.
//!
//! [`ObjectStoreSource`] implements brine's [`RangeSource`] over an `Arc<dyn ObjectStore>` and
//! a path; [`open`], [`open_meta`] and [`open_url`] open a [`Reader`] on it, and
//! [`open_dataset`] and [`open_dataset_url`] a [`Dataset`] of such files. Opening fetches
//! the header and the last 64 KiB of the object in one round trip (plus one exact read of the
//! manifest when it is longer, see [`OpenOptions::suffix_len`]); reads then fetch exactly the
//! sections, or zstd chunks, that they touch, **copied** into buffers the reader keeps.
//! [`brine::FrameView::fetch`] gets several columns in one batch, which `object_store`'s
//! `get_ranges` coalesces (ranges less than 1 MiB apart become one request) and issues
//! concurrently.
//!
//! # Runtime
//!
//! brine's reader is synchronous. Every request runs on a small tokio runtime this crate owns
//! (two worker threads, started on first use), and the calling thread waits for it on a
//! channel. This works from any thread, inside an async context too (where `block_on` or
//! `block_in_place` would panic or need a multi-threaded runtime); in an async context,
//! prefer [`open_async`] and move reads of large entries to `spawn_blocking`, since a waiting
//! read blocks its thread.

use std::io;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

use brine::dataset::{Dataset, Opener};
use brine::{Ends, OpenOptions, RangeSource, Reader};
use bytes::Bytes;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectMeta, ObjectStore, ObjectStoreExt};

pub mod counting;

pub use object_store;

/// The runtime every request of this crate runs on.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("brine-object-store")
            .enable_all()
            .build()
            .expect("brine-object-store: cannot start its tokio runtime")
    })
}

/// Runs `fut` on this crate's runtime and waits for its output, from any thread.
fn run<T: Send + 'static>(
    fut: impl Future<Output = object_store::Result<T>> + Send + 'static,
) -> io::Result<T> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    runtime().spawn(async move {
        let _ = tx.send(fut.await);
    });
    rx.recv()
        .map_err(|_| io::Error::other("the object store request was dropped"))?
        .map_err(to_io)
}

fn to_io(e: object_store::Error) -> io::Error {
    let kind = match e {
        object_store::Error::NotFound { .. } => io::ErrorKind::NotFound,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, e)
}

fn short(what: &str, got: usize, wanted: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("the object store returned {got} bytes of {what}, not {wanted}"),
    )
}

/// One object of an [`ObjectStore`], as a brine [`RangeSource`].
#[derive(Debug)]
pub struct ObjectStoreSource {
    store: Arc<dyn ObjectStore>,
    path: Path,
    /// The object's size: given, or learnt from the first suffix read or `HEAD`.
    size: OnceLock<u64>,
}

impl ObjectStoreSource {
    /// The object at `path`; its size is learnt at open from the suffix read (no `HEAD`).
    pub fn new(store: Arc<dyn ObjectStore>, path: Path) -> ObjectStoreSource {
        ObjectStoreSource {
            store,
            path,
            size: OnceLock::new(),
        }
    }

    /// The object `meta` describes (from a listing, as DataFusion has it): its size is known,
    /// so opening a small file is a single ranged request.
    pub fn with_meta(store: Arc<dyn ObjectStore>, meta: &ObjectMeta) -> ObjectStoreSource {
        let source = ObjectStoreSource::new(store, meta.location.clone());
        let _ = source.size.set(meta.size);
        source
    }

    fn get_ranges(&self, ranges: Vec<Range<u64>>) -> io::Result<Vec<Bytes>> {
        let (store, path) = (Arc::clone(&self.store), self.path.clone());
        run(async move { store.get_ranges(&path, &ranges).await })
    }
}

impl RangeSource for ObjectStoreSource {
    fn len(&self) -> io::Result<u64> {
        if let Some(&size) = self.size.get() {
            return Ok(size);
        }
        let (store, path) = (Arc::clone(&self.store), self.path.clone());
        let size = run(async move { store.head(&path).await })?.size;
        Ok(*self.size.get_or_init(|| size))
    }

    fn read_ranges(&self, ranges: &[Range<u64>], out: &mut [&mut [u8]]) -> io::Result<()> {
        if ranges.is_empty() {
            return Ok(());
        }
        let got = self.get_ranges(ranges.to_vec())?;
        if got.len() != ranges.len() {
            return Err(short("ranges", got.len(), ranges.len() as u64));
        }
        for ((r, bytes), out) in ranges.iter().zip(&got).zip(out.iter_mut()) {
            if bytes.len() != out.len() {
                return Err(short(
                    &format!("range {}..{}", r.start, r.end),
                    bytes.len(),
                    out.len() as u64,
                ));
            }
            out.copy_from_slice(bytes);
        }
        Ok(())
    }

    /// With the size known: one `get_ranges` call (one request for a small file, whose ends
    /// it coalesces). Otherwise two concurrent requests, one round trip: the head, and a
    /// suffix request (`bytes=-tail`) whose answer gives the object's size.
    fn read_ends(&self, head: u64, tail: u64) -> io::Result<Ends> {
        if self.size.get().is_none() {
            let (store, path) = (Arc::clone(&self.store), self.path.clone());
            let (h, t) = run(async move {
                let suffix = GetOptions {
                    range: Some(GetRange::Suffix(tail)),
                    ..GetOptions::default()
                };
                let (h, t) = futures::join!(store.get_range(&path, 0..head), async {
                    let r = store.get_opts(&path, suffix).await?;
                    let size = r.meta.size;
                    let range = r.range.clone();
                    Ok::<_, object_store::Error>((size, range, r.bytes().await?))
                });
                Ok((h, t?))
            })?;
            let (size, range, tail_bytes) = t;
            let _ = self.size.set(size);
            if range.end != size || tail_bytes.len() as u64 != range.end - range.start {
                return Err(short("the end", tail_bytes.len(), tail.min(size)));
            }
            // A file shorter than `head` has its head in the suffix (and the head request
            // failed on its range).
            let head_bytes = if range.start == 0 {
                tail_bytes.slice(..(head.min(size) as usize).min(tail_bytes.len()))
            } else {
                h.map_err(to_io)?
            };
            return Ok(Ends {
                len: size,
                head: brine::AlignedBuf::copy_from_slice(&head_bytes),
                tail: brine::AlignedBuf::copy_from_slice(&tail_bytes),
            });
        }
        let len = self.len()?;
        let head = head.min(len);
        let tail_start = len - tail.min(len);
        let got = self.get_ranges(vec![0..head, tail_start..len])?;
        match &got[..] {
            [h, t] => Ok(Ends {
                len,
                head: brine::AlignedBuf::copy_from_slice(h),
                tail: brine::AlignedBuf::copy_from_slice(t),
            }),
            _ => Err(short("ranges", got.len(), 2)),
        }
    }
}

/// Opens the brine file at `path` of `store`. The name in messages is `store/path`.
///
/// # Errors
/// As [`OpenOptions::open_source`]: [`brine::Error::Remote`] when a request fails.
pub fn open(
    store: Arc<dyn ObjectStore>,
    path: Path,
    options: OpenOptions,
) -> brine::Result<Reader> {
    let name = format!("{store}/{path}");
    options.open_source(name, Arc::new(ObjectStoreSource::new(store, path)))
}

/// Opens the brine file `meta` describes (its size known: one request fewer for small files).
///
/// # Errors
/// As [`open`].
pub fn open_meta(
    store: Arc<dyn ObjectStore>,
    meta: &ObjectMeta,
    options: OpenOptions,
) -> brine::Result<Reader> {
    let name = format!("{store}/{}", meta.location);
    options.open_source(name, Arc::new(ObjectStoreSource::with_meta(store, meta)))
}

/// Opens the brine file at `url` (`s3://bucket/key`, `gs://`, `az://`, `abfs://`,
/// `http(s)://`, `file://`, `memory://`), with `store_options` for the store
/// (`object_store::parse_url_opts`: `aws_endpoint`, `aws_allow_http`, `aws_region`, ...,
/// credentials from the environment otherwise).
///
/// # Errors
/// [`brine::Error::Remote`] (op `parse url`) for a URL `object_store` cannot serve; as
/// [`open`] otherwise.
pub fn open_url<I, K, V>(url: &str, store_options: I, options: OpenOptions) -> brine::Result<Reader>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: Into<String>,
{
    let (store, path) = parse_url(url, store_options)?;
    options.open_source(url, Arc::new(ObjectStoreSource::new(store, path)))
}

/// The store and path `url` names (`object_store::parse_url_opts`).
fn parse_url<I, K, V>(url: &str, store_options: I) -> brine::Result<(Arc<dyn ObjectStore>, Path)>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: Into<String>,
{
    let bad = |e: String| brine::Error::Remote {
        path: url.into(),
        op: "parse url",
        range: 0..0,
        source: io::Error::new(io::ErrorKind::InvalidInput, e),
    };
    let parsed = url::Url::parse(url).map_err(|e| bad(e.to_string()))?;
    let (store, path) =
        object_store::parse_url_opts(&parsed, store_options).map_err(|e| bad(e.to_string()))?;
    Ok((Arc::from(store), path))
}

/// Opens the brine dataset (spec/DATASET.md) under `prefix` of `store`: its index
/// `prefix/_brine_index.brine` is read and validated now (one round trip when its manifest
/// fits the suffix), each shard `prefix/<shard path>` is opened on its first use, with
/// `options`, and checked against the index as a local shard is. The dataset is named
/// `store/prefix` in messages.
///
/// # Errors
/// As [`open`] for the index, and [`brine::Error::InvalidDataset`] when it breaks a rule.
pub fn open_dataset(
    store: Arc<dyn ObjectStore>,
    prefix: Path,
    options: OpenOptions,
) -> brine::Result<Dataset> {
    let name = format!("{store}/{prefix}");
    let root = prefix.clone();
    let opener: Opener = Arc::new(move |rel: &str| {
        // Shard paths are the index's, already validated (X rules: relative, no `..`); they
        // are the object keys as written, percent escapes of hive values included.
        let key = if root.as_ref().is_empty() {
            rel.to_owned()
        } else {
            format!("{root}/{rel}")
        };
        let path = Path::parse(&key).map_err(|e| brine::Error::Remote {
            path: key.clone().into(),
            op: "parse path",
            range: 0..0,
            source: io::Error::new(io::ErrorKind::InvalidInput, e),
        })?;
        open(Arc::clone(&store), path, options.clone())
    });
    Dataset::open_with(name, opener)
}

/// [`open_dataset`] at `url` (`s3://bucket/prefix`, ...), with `store_options` as in
/// [`open_url`].
///
/// # Errors
/// As [`open_url`] and [`open_dataset`].
pub fn open_dataset_url<I, K, V>(
    url: &str,
    store_options: I,
    options: OpenOptions,
) -> brine::Result<Dataset>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: Into<String>,
{
    let (store, prefix) = parse_url(url, store_options)?;
    open_dataset(store, prefix, options)
}

/// [`open`] from async code: the open runs on tokio's blocking pool of the current runtime,
/// so no worker thread waits.
///
/// # Errors
/// As [`open`].
///
/// # Panics
/// Outside a tokio runtime.
pub async fn open_async(
    store: Arc<dyn ObjectStore>,
    path: Path,
    options: OpenOptions,
) -> brine::Result<Reader> {
    tokio::task::spawn_blocking(move || open(store, path, options))
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}
