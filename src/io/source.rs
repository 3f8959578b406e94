//! Random-access byte sources for files that are not on a local disk (object storage, HTTP):
//! the one trait a remote backend implements, so that the core stays synchronous and free of
//! any network or runtime dependency.
//!
//! A reader opened from a source ([`Reader::open_source`](crate::Reader::open_source)) never
//! maps anything: it fetches the header and the end of the file together at open, and then the
//! stored bytes of exactly the sections (or zstd chunks) that reads touch, into aligned buffers
//! it keeps. Every call of [`RangeSource::read_ranges`] is one batch that an implementation
//! should serve with one round trip (concurrent requests, or coalesced ranges).

use std::fmt;
use std::io;
use std::ops::Range;

use crate::buffer::AlignedBuf;

/// A byte source that can be read at any offset, several ranges at a time.
///
/// Implementations are trusted to report errors honestly, not to return the right bytes: the
/// reader checks what it fetched (the header's and the manifest's checksums at open, each raw
/// section's checksum and each zstd chunk's decoded checksum before it keeps them), so a
/// corrupt transfer is an [`Error`](crate::Error), never wrong data.
// `len` is fallible and may cost a request: an `is_empty` beside it would only invite a second.
#[allow(clippy::len_without_is_empty)]
pub trait RangeSource: Send + Sync + fmt::Debug {
    /// The length of the source in bytes. May cost a round trip the first time (a `HEAD`
    /// request); [`RangeSource::read_ends`] should make it free afterwards.
    ///
    /// # Errors
    /// Any error of the underlying storage.
    fn len(&self) -> io::Result<u64>;

    /// Fills `out[i]` with the bytes of `ranges[i]`, for every `i` (`out[i].len()` equals the
    /// length of `ranges[i]`; ranges are sorted by start and do not overlap). One call is one
    /// batch: an implementation should issue the ranges concurrently or coalesce close ones.
    ///
    /// # Errors
    /// Any error of the underlying storage. An implementation MUST fail, with
    /// [`io::ErrorKind::UnexpectedEof`], rather than leave part of a buffer unwritten when the
    /// storage returns fewer bytes than asked.
    fn read_ranges(&self, ranges: &[Range<u64>], out: &mut [&mut [u8]]) -> io::Result<()>;

    /// The source's length, its first `head` bytes and its last `tail` bytes (fewer when the
    /// source is shorter), fetched together: what opening a file needs, in one round trip. The
    /// default asks [`RangeSource::len`] and then reads both ends in one batch; an
    /// implementation that can learn the length from a suffix read should override it.
    ///
    /// # Errors
    /// Any error of the underlying storage.
    fn read_ends(&self, head: u64, tail: u64) -> io::Result<Ends> {
        let len = self.len()?;
        let head = head.min(len);
        let tail_start = len - tail.min(len);
        let mut h = alloc(head)?;
        let mut t = alloc(len - tail_start)?;
        self.read_ranges(
            &[0..head, tail_start..len],
            &mut [h.as_mut_slice(), t.as_mut_slice()],
        )?;
        Ok(Ends {
            len,
            head: h,
            tail: t,
        })
    }
}

/// Both ends of a source, as [`RangeSource::read_ends`] returns them.
#[derive(Debug)]
pub struct Ends {
    /// Length of the whole source.
    pub len: u64,
    /// Its first bytes: `min(head, len)` of them.
    pub head: AlignedBuf,
    /// Its last bytes: `min(tail, len)` of them, ending at `len`.
    pub tail: AlignedBuf,
}

/// An aligned buffer of `len` bytes, or an `OutOfMemory` error.
pub(crate) fn alloc(len: u64) -> io::Result<AlignedBuf> {
    usize::try_from(len)
        .ok()
        .and_then(AlignedBuf::zeroed)
        .ok_or_else(|| io::ErrorKind::OutOfMemory.into())
}
