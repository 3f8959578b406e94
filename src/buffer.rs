//! Aligned heap buffers: the in-memory backing of a reader, and the lazily filled buffers that
//! hold decompressed sections.
//!
//! This module and `io::map` hold the crate's `unsafe` code about memory.

use std::alloc::Layout;
use std::fmt;
use std::ptr::NonNull;

use once_cell::sync::OnceCell;

/// Alignment of every buffer: enough for any element type and for the manifest's archive, and
/// one cache line, so decoded sections start where SIMD loads like them to.
pub const BUFFER_ALIGN: usize = 64;

/// Buffers at least this large are anonymous memory maps: page-aligned and zeroed lazily by
/// the OS. (The allocator's `alloc_zeroed` with an alignment above 16 writes every zero
/// itself: 17 ms for 32 MB, measured here.)
const ANON_MAP_MIN: usize = 256 * 1024;

/// An owned, zero-initialized heap buffer aligned to 64 bytes (a page for large buffers).
pub struct AlignedBuf {
    ptr: NonNull<u8>,
    len: usize,
    /// Keeps an anonymous map alive; `None` for allocator memory.
    anon: Option<memmap2::MmapMut>,
}

// SAFETY: `AlignedBuf` owns its allocation exclusively, like `Box<[u8]>`; it hands out `&[u8]`
// only through `&self` and `&mut [u8]` only through `&mut self` or the `unsafe` region API
// whose callers guarantee exclusivity.
unsafe impl Send for AlignedBuf {}
// SAFETY: as for `Send`: shared access only reads, like `&Box<[u8]>`.
unsafe impl Sync for AlignedBuf {}

impl AlignedBuf {
    fn layout(len: usize) -> Option<Layout> {
        Layout::from_size_align(len.max(1), BUFFER_ALIGN).ok()
    }

    /// A zeroed buffer of `len` bytes, or `None` if the allocator refuses. The zeroed pages of
    /// a large buffer are typically not committed until they are written.
    pub fn zeroed(len: usize) -> Option<AlignedBuf> {
        if len >= ANON_MAP_MIN {
            let mut map = memmap2::MmapMut::map_anon(len).ok()?;
            // Huge pages where the OS offers them: one fault per 2 MiB instead of per 4 KiB.
            // Measured: decompressing 64 MiB went from 41 to 28 ms, and reading one element of
            // a compressed array from 1.12 to 0.78 ms. A hint: failure changes nothing.
            #[cfg(target_os = "linux")]
            let _ = map.advise(memmap2::Advice::HugePage);
            let ptr = NonNull::new(map.as_mut_ptr())?;
            return Some(AlignedBuf {
                ptr,
                len,
                anon: Some(map),
            });
        }
        let layout = Self::layout(len)?;
        // SAFETY: the layout has a non-zero size (`len.max(1)`).
        let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
        NonNull::new(ptr).map(|ptr| AlignedBuf {
            ptr,
            len,
            anon: None,
        })
    }

    /// A buffer holding a copy of `bytes`.
    ///
    /// # Panics
    /// If the allocator cannot provide `bytes.len()` bytes, as `Vec` does.
    pub fn copy_from_slice(bytes: &[u8]) -> AlignedBuf {
        let mut buf = Self::zeroed(bytes.len()).unwrap_or_else(|| {
            std::alloc::handle_alloc_error(Self::layout(bytes.len()).unwrap_or(Layout::new::<u8>()))
        });
        buf.as_mut_slice().copy_from_slice(bytes);
        buf
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the buffer is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: `ptr` points to an allocation of at least `len` initialized (zeroed or
        // written) bytes owned by `self`, alive while `self` is borrowed.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// The bytes, mutably.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`, and `&mut self` guarantees no other reference exists.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }

    /// A shared view of `range`.
    ///
    /// # Safety
    /// No `&mut` to any byte of `range` may be alive (see [`AlignedBuf::region_mut`]).
    unsafe fn region(&self, start: usize, end: usize) -> &[u8] {
        debug_assert!(start <= end && end <= self.len);
        // SAFETY: in bounds (checked by callers, asserted above); the caller guarantees that no
        // mutable reference to these bytes is alive.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().add(start), end - start) }
    }

    /// A mutable view of `range` through a shared reference.
    ///
    /// # Safety
    /// The caller guarantees that no other reference, shared or mutable, to any byte of the
    /// range is alive while the returned one is.
    #[allow(clippy::mut_from_ref)]
    unsafe fn region_mut(&self, start: usize, end: usize) -> &mut [u8] {
        debug_assert!(start <= end && end <= self.len);
        // SAFETY: in bounds (checked by callers); the bytes live in a heap allocation that is
        // not behind any `&` reference the compiler knows of, and the caller guarantees
        // exclusive access to the range.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr().add(start), end - start) }
    }
}

impl Drop for AlignedBuf {
    fn drop(&mut self) {
        if self.anon.is_some() {
            return; // the map unmaps itself
        }
        if let Some(layout) = Self::layout(self.len) {
            // SAFETY: allocated in `zeroed` with this same layout.
            unsafe { std::alloc::dealloc(self.ptr.as_ptr(), layout) };
        }
    }
}

impl fmt::Debug for AlignedBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AlignedBuf")
            .field("len", &self.len)
            .finish()
    }
}

/// The decoded bytes of one compressed section, filled chunk by chunk on demand by any number
/// of threads.
///
/// Invariant: chunk `i` covers bytes `i * chunk_len .. min((i + 1) * chunk_len, len)` of the
/// buffer. Those bytes are written only inside the initializer of `done[i]`, which
/// `OnceCell` runs at most once at a time and never again after it succeeds; they are read
/// only after `done[i]` is set, which happens-after the write. So no byte is ever read and
/// written at once, and no two writers touch one byte.
pub struct DecodedSection {
    buf: AlignedBuf,
    chunk_len: usize,
    done: Box<[OnceCell<()>]>,
}

impl DecodedSection {
    /// An empty cache for `len` decoded bytes in chunks of `chunk_len` (non-zero), or `None` if
    /// the allocator refuses.
    pub fn new(len: usize, chunk_len: usize) -> Option<DecodedSection> {
        let chunks = len.div_ceil(chunk_len);
        Some(DecodedSection {
            buf: AlignedBuf::zeroed(len)?,
            chunk_len,
            done: (0..chunks).map(|_| OnceCell::new()).collect(),
        })
    }

    fn chunk_bounds(&self, chunk: usize) -> (usize, usize) {
        let start = chunk * self.chunk_len;
        (start, (start + self.chunk_len).min(self.buf.len()))
    }

    /// Makes sure chunk `chunk` is decoded, running `decode` on its (zeroed or partially
    /// written) bytes if it is not yet. `decode` runs at most once at a time per chunk; after
    /// one success it never runs again. Panics if `chunk` is out of range.
    pub fn ensure<E>(
        &self,
        chunk: usize,
        decode: impl FnOnce(&mut [u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        let (start, end) = self.chunk_bounds(chunk);
        self.done[chunk].get_or_try_init(|| {
            // SAFETY: the type invariant: this initializer is the only code that writes these
            // bytes, `OnceCell` runs one initializer at a time, and nothing reads them until the
            // cell is set after this closure returns Ok.
            let out = unsafe { self.buf.region_mut(start, end) };
            decode(out)
        })?;
        Ok(())
    }

    /// Whether chunk `chunk` is decoded. Panics if `chunk` is out of range.
    pub fn is_done(&self, chunk: usize) -> bool {
        self.done[chunk].get().is_some()
    }

    /// The decoded bytes `start..end`, if every chunk they touch is decoded.
    pub fn get(&self, start: usize, end: usize) -> Option<&[u8]> {
        if start > end || end > self.buf.len() {
            return None;
        }
        if start < end {
            let first = start / self.chunk_len;
            let last = (end - 1) / self.chunk_len;
            if !(first..=last).all(|c| self.done[c].get().is_some()) {
                return None;
            }
        }
        // SAFETY: the type invariant: every chunk overlapping `start..end` is set, so its bytes
        // are never written again.
        Some(unsafe { self.buf.region(start, end) })
    }
}

impl fmt::Debug for DecodedSection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecodedSection")
            .field("len", &self.buf.len())
            .field("chunk_len", &self.chunk_len)
            .finish()
    }
}
