//! An [`ObjectStore`] that counts the calls and bytes that reach the store it wraps: what the
//! tests measure round trips with, and a tool for users who want to see them.

use std::fmt;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, Result,
};

/// Counts of the calls a [`CountingStore`] passed on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// `get_opts` calls with a body (`get`, `get_range` and ranged gets go through it).
    pub gets: u64,
    /// `get_opts` calls with `head` set (`head`).
    pub heads: u64,
    /// `get_ranges` calls (each one batch; the inner store may coalesce or split it).
    pub get_ranges: u64,
    /// Bytes asked for by ranged `get_opts` and `get_ranges` calls (a suffix or whole-object
    /// get counts the bytes it returned).
    pub bytes: u64,
    /// Round trips: the longest chain of calls each of which began after the one before it
    /// had ended. Calls issued together, before any of them answered, are one round trip,
    /// however many there are; a call that waited for another's answer adds one.
    pub rounds: u64,
}

impl Counts {
    /// Every request-making call: gets, heads and `get_ranges` batches.
    pub fn calls(&self) -> u64 {
        self.gets + self.heads + self.get_ranges
    }
}

/// An [`ObjectStore`] that delegates to another and counts what passes.
#[derive(Debug)]
pub struct CountingStore {
    inner: Arc<dyn ObjectStore>,
    gets: AtomicU64,
    heads: AtomicU64,
    get_ranges: AtomicU64,
    bytes: AtomicU64,
    rounds: Mutex<Rounds>,
}

/// What round trips are counted with: a call's depth is one more than the deepest call that
/// had ended when it began.
#[derive(Debug, Default)]
struct Rounds {
    /// The greatest depth of the calls that have ended.
    ended: u64,
    /// The greatest depth of any call begun.
    deepest: u64,
}

impl CountingStore {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn ObjectStore>) -> CountingStore {
        CountingStore {
            inner,
            gets: AtomicU64::new(0),
            heads: AtomicU64::new(0),
            get_ranges: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            rounds: Mutex::default(),
        }
    }

    fn rounds(&self) -> std::sync::MutexGuard<'_, Rounds> {
        // The counts stay meaningful if a panicking thread held the lock.
        self.rounds.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs one call, keeping its depth in the chain of round trips.
    async fn round<T>(&self, call: impl Future<Output = T>) -> T {
        let depth = {
            let mut r = self.rounds();
            let depth = r.ended + 1;
            r.deepest = r.deepest.max(depth);
            depth
        };
        // Calls issued together (by `join!`) begin in one poll; a store that answers within
        // the poll (in memory, local files) would otherwise end the first before the second
        // began, and they would count as two round trips.
        tokio::task::yield_now().await;
        let out = call.await;
        let mut r = self.rounds();
        r.ended = r.ended.max(depth);
        out
    }

    /// The counts so far.
    pub fn counts(&self) -> Counts {
        Counts {
            gets: self.gets.load(Ordering::SeqCst),
            heads: self.heads.load(Ordering::SeqCst),
            get_ranges: self.get_ranges.load(Ordering::SeqCst),
            bytes: self.bytes.load(Ordering::SeqCst),
            rounds: self.rounds().deepest,
        }
    }

    /// The counts so far, and sets them back to zero.
    pub fn take(&self) -> Counts {
        Counts {
            gets: self.gets.swap(0, Ordering::SeqCst),
            heads: self.heads.swap(0, Ordering::SeqCst),
            get_ranges: self.get_ranges.swap(0, Ordering::SeqCst),
            bytes: self.bytes.swap(0, Ordering::SeqCst),
            rounds: std::mem::take(&mut *self.rounds()).deepest,
        }
    }
}

impl fmt::Display for CountingStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Counting({})", self.inner)
    }
}

#[async_trait]
impl ObjectStore for CountingStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        if options.head {
            self.heads.fetch_add(1, Ordering::SeqCst);
        } else {
            self.gets.fetch_add(1, Ordering::SeqCst);
        }
        let head = options.head;
        let r = self.round(self.inner.get_opts(location, options)).await?;
        if !head {
            self.bytes
                .fetch_add(r.range.end - r.range.start, Ordering::SeqCst);
        }
        Ok(r)
    }

    async fn get_ranges(&self, location: &Path, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        self.get_ranges.fetch_add(1, Ordering::SeqCst);
        let asked: u64 = ranges.iter().map(|r| r.end - r.start).sum();
        self.bytes.fetch_add(asked, Ordering::SeqCst);
        self.round(self.inner.get_ranges(location, ranges)).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.inner.copy_opts(from, to, options).await
    }
}
