//! The store: a file's bytes, its manifest once validated, and its data sections, below the
//! kinds. Kinds reach a section's bytes only through [`Store::bytes`] and [`Store::range`],
//! which hand out views of the mapping for raw sections and decode compressed ones lazily, a
//! chunk at a time, within the reader's budget. The store knows sections, not what they hold:
//! its messages say which entry and part a section belongs to through the `describe` function
//! the reader gives it.

use std::fs::File;
use std::ops::Range;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use once_cell::sync::OnceCell;
use rayon::prelude::*;

use crate::buffer::{AlignedBuf, DecodedSection};
use crate::error::{Error, Limit, Result};
use crate::io::map::{AccessPattern, Backing, read_at};
use crate::io::source::{self, RangeSource};
use crate::options::Codec;
use crate::raw::checksum;
use crate::raw::codec;
use crate::raw::header::{HEADER_LEN, Header};
use crate::raw::manifest::{ArchivedManifest, ArchivedManifest11, ROOT_LEN};
use crate::raw::validate;

/// Manifests up to this size are copied out of the file with `pread` at open; larger ones are
/// read through the map (copying them would cost more than the page faults it saves).
const OWNED_MANIFEST_MAX: u64 = 64 * 1024;

/// Who owns a section, for messages: the entry's name, and the part of it the section holds
/// (`, column "name" values`; empty for an array's or a model's only section).
#[derive(Debug, Default)]
pub(crate) struct Owner {
    pub entry: String,
    pub part: String,
}

/// What the store checks before handing out decoded bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StoreLimits {
    /// Refuse to decode: every read must be a view of the file.
    pub require_zero_copy: bool,
    /// The total of decoded bytes the store may keep.
    pub max_decompressed_bytes: u64,
    /// The largest manifest to accept.
    pub max_manifest_len: u64,
    /// The total of stored bytes fetched from a remote source the store may keep.
    pub max_fetched_bytes: u64,
}

/// A section's place in the file and its decoded shape, as native sizes: computed once at
/// open from the section table tier 1 validated, so that reads do no arithmetic on archived
/// integers.
#[derive(Clone, Copy, Debug)]
struct Layout {
    /// The stored bytes: `start..start + stored_len` of the file.
    start: usize,
    stored_len: usize,
    /// Decoded length.
    raw_len: usize,
    /// Decoded length of each chunk but the last (0 when raw).
    chunk_len: usize,
    /// Element size shuffled by the codec (0: none).
    shuffle: usize,
    compressed: bool,
}

/// What first accesses learned about one section (validation tier 2), kept for later ones.
#[derive(Debug, Default)]
pub(crate) struct SectionCache {
    /// The decoded bytes of a compressed section.
    decoded: OnceCell<DecodedSection>,
    /// The stored bytes of a raw section of a remote file, fetched and checked against the
    /// section's checksum (rule V2).
    fetched: OnceCell<AlignedBuf>,
    /// Set once every element of the section's whole decoded data was checked to be valid
    /// for its dtype (only `bool` has invalid values).
    pub elements_valid: OnceCell<()>,
}

/// Where a file's bytes are: in memory (mapped or a buffer), or behind a remote source.
#[derive(Debug)]
enum Bytes {
    Local(Backing),
    /// Unwind-safe because the store keeps fetched bytes only once a fetch succeeded and
    /// checked them (`OnceCell`s set last), so a panic inside a source leaves nothing
    /// half-done behind; Arrow's buffers need their owner to be `RefUnwindSafe`.
    Remote(AssertUnwindSafe<Arc<dyn RangeSource>>),
}

/// The bytes of an open file and its sections.
#[derive(Debug)]
pub(crate) struct Store {
    path: PathBuf,
    bytes: Bytes,
    header: Header,
    /// A copy of the manifest read with `pread`, or `None` when it is read through the backing.
    owned_manifest: Option<AlignedBuf>,
    layouts: Box<[Layout]>,
    /// Allocated on the first access that needs it (a compressed section, or a bool array).
    caches: OnceCell<Box<[SectionCache]>>,
    decoded_bytes: AtomicU64,
    /// Stored bytes fetched from a remote source and kept (raw sections).
    fetched_bytes: AtomicU64,
    limits: StoreLimits,
    describe: fn(&ArchivedManifest, usize) -> Owner,
}

/// A contiguous run of stored bytes to fetch from a remote source, and what it is for.
struct Fetch {
    range: Range<u64>,
    kind: FetchKind,
}

enum FetchKind {
    /// The whole stored bytes of raw section `index`, kept once checked.
    Raw(usize),
    /// Chunk `chunk` of compressed section `index`: decoded, checked, then dropped.
    Chunk(usize, usize),
}

/// The format-level check of a header and its manifest that [`Store::open`] and
/// [`Store::open_remote`] run before anything else reads them (the reader's tier 1).
pub(crate) trait ValidateManifest:
    FnOnce(&Path, &Header, &ArchivedManifest, Option<&ArchivedManifest11>) -> Result<()>
{
}

impl<F> ValidateManifest for F where
    F: FnOnce(&Path, &Header, &ArchivedManifest, Option<&ArchivedManifest11>) -> Result<()>
{
}

impl Store {
    /// Reads and checks the header and the manifest's bytes, runs `validate` (the rules of
    /// every kind) on the manifest, and lays the sections out. With a mapped `file`, the
    /// header and a small manifest are read with `pread` instead of through the map: faulting
    /// in the first and last pages of the map, and unmapping them later, cost more than the
    /// two reads (measured: 15 us against 7 us for a raw map of a 1 MiB file).
    pub fn open(
        path: PathBuf,
        backing: Backing,
        file: Option<&File>,
        limits: StoreLimits,
        validate: impl ValidateManifest,
        describe: fn(&ArchivedManifest, usize) -> Owner,
    ) -> Result<Store> {
        let bytes = backing.bytes();
        let len = bytes.len() as u64;
        let io = |source| Error::Io {
            path: path.clone(),
            op: "read",
            source,
        };
        let mut header_copy = [0u8; HEADER_LEN];
        let header_bytes = match file {
            Some(f) if bytes.len() >= HEADER_LEN => {
                read_at(f, 0, &mut header_copy).map_err(io)?;
                &header_copy[..]
            }
            _ => &bytes[..bytes.len().min(HEADER_LEN)],
        };
        let header = Header::decode(&path, header_bytes, len)?;
        // `decode` checked manifest_offset + manifest_len == file length == bytes.len(), so
        // both fit in usize.
        let manifest_start = usize::try_from(header.manifest_offset).unwrap_or(usize::MAX);
        let owned_manifest = match file {
            Some(f) if header.manifest_len <= OWNED_MANIFEST_MAX => {
                let mut buf = AlignedBuf::zeroed(bytes.len() - manifest_start)
                    .ok_or_else(|| io(std::io::ErrorKind::OutOfMemory.into()))?;
                read_at(f, header.manifest_offset, buf.as_mut_slice()).map_err(io)?;
                Some(buf)
            }
            _ => None,
        };
        let manifest_bytes = match &owned_manifest {
            Some(buf) => buf.as_slice(),
            None => &bytes[manifest_start..],
        };
        let (manifest, ext) =
            validate::access_manifest(&path, &header, manifest_bytes, limits.max_manifest_len)?;
        validate(&path, &header, manifest, ext)?;
        let layouts = manifest.sections.iter().map(Layout::of).collect();
        Ok(Store {
            path,
            bytes: Bytes::Local(backing),
            header,
            owned_manifest,
            layouts,
            caches: OnceCell::new(),
            decoded_bytes: AtomicU64::new(0),
            fetched_bytes: AtomicU64::new(0),
            limits,
            describe,
        })
    }

    /// Opens a file behind a remote `source`: its header and its last `suffix` bytes are
    /// fetched together (one round trip), and the manifest's exact range in a second one only
    /// when it is longer than the suffix. The header and the manifest then pass exactly the
    /// checks of [`Store::open`] (`Header::decode`, `validate::access_manifest`, `validate`).
    /// When the two ranges are the whole file, it is opened as a buffer (see [`Store::open`]).
    pub fn open_remote(
        path: PathBuf,
        source: Arc<dyn RangeSource>,
        suffix: u64,
        limits: StoreLimits,
        validate: impl ValidateManifest,
        describe: fn(&ArchivedManifest, usize) -> Owner,
    ) -> Result<Store> {
        let remote = |op, range: Range<u64>, source| Error::Remote {
            path: path.clone(),
            op,
            range,
            source,
        };
        let ends = source
            .read_ends(HEADER_LEN as u64, suffix)
            .map_err(|e| remote("read the header and the end", 0..suffix, e))?;
        let len = ends.len;
        let expect = |what: &str, got: usize, wanted: u64| {
            if got as u64 == wanted {
                return Ok(());
            }
            Err(remote(
                "read the header and the end",
                0..len,
                std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("the source returned {got} bytes of the {what}, not {wanted}"),
                ),
            ))
        };
        expect("header", ends.head.len(), (HEADER_LEN as u64).min(len))?;
        expect("end", ends.tail.len(), suffix.min(len))?;
        // Exact: checked just above.
        let tail_start = len - ends.tail.len() as u64;
        if tail_start <= ends.head.len() as u64 {
            // The two ranges cover the whole file (an index, a small model): it is kept as a
            // buffer, opened and validated as any buffer is, and no read fetches again.
            let whole = if tail_start == 0 {
                ends.tail
            } else {
                let mut whole =
                    source::alloc(len).map_err(|e| remote("keep the file", 0..len, e))?;
                // In bounds: tail_start <= head length, and tail_start + tail length == len.
                let (head, tail) = whole.as_mut_slice().split_at_mut(tail_start as usize);
                head.copy_from_slice(&ends.head.as_slice()[..tail_start as usize]);
                tail.copy_from_slice(ends.tail.as_slice());
                whole
            };
            return Store::open(
                path,
                Backing::Buffer(whole),
                None,
                limits,
                validate,
                describe,
            );
        }
        let header = Header::decode(&path, ends.head.as_slice(), len)?;
        // The same limit `access_manifest` checks, before the buffer exists: `Header::decode`
        // only bounded the manifest by the object's length, which may be anything.
        if header.manifest_len > limits.max_manifest_len {
            return Err(Error::LimitExceeded {
                file: path.clone(),
                what: "manifest length".into(),
                value: header.manifest_len,
                limit: limits.max_manifest_len,
                setting: Limit::MaxManifestLen,
            });
        }
        // `decode` checked manifest_offset + manifest_len == file length == len.
        let manifest = if header.manifest_offset >= tail_start {
            let at = usize::try_from(header.manifest_offset - tail_start).unwrap_or(usize::MAX);
            // A copy, so that the archive starts on the buffer's alignment.
            AlignedBuf::copy_from_slice(&ends.tail.as_slice()[at..])
        } else {
            let range = header.manifest_offset..len;
            let mut buf = source::alloc(header.manifest_len)
                .map_err(|e| remote("read the manifest", range.clone(), e))?;
            source
                .read_ranges(std::slice::from_ref(&range), &mut [buf.as_mut_slice()])
                .map_err(|e| remote("read the manifest", range.clone(), e))?;
            buf
        };
        drop(ends);
        let (m, ext) = validate::access_manifest(
            &path,
            &header,
            manifest.as_slice(),
            limits.max_manifest_len,
        )?;
        validate(&path, &header, m, ext)?;
        let layouts = m.sections.iter().map(Layout::of).collect();
        Ok(Store {
            path,
            bytes: Bytes::Remote(AssertUnwindSafe(source)),
            header,
            owned_manifest: Some(manifest),
            layouts,
            caches: OnceCell::new(),
            decoded_bytes: AtomicU64::new(0),
            fetched_bytes: AtomicU64::new(0),
            limits,
            describe,
        })
    }

    /// Whether the file's bytes are behind a remote source (reads fetch and copy).
    pub fn is_remote(&self) -> bool {
        matches!(self.bytes, Bytes::Remote(_))
    }

    /// The local bytes of the whole file; `None` for a remote file.
    fn local(&self) -> Option<&[u8]> {
        match &self.bytes {
            Bytes::Local(b) => Some(b.bytes()),
            Bytes::Remote(_) => None,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The addresses of the file's bytes in memory (the mapping, or the buffer); empty for a
    /// remote file, none of whose views is of a mapping.
    pub fn mapped_range(&self) -> Range<usize> {
        let bytes = self.local().unwrap_or_default();
        bytes.as_ptr() as usize..bytes.as_ptr() as usize + bytes.len()
    }

    fn manifest_bytes(&self) -> &[u8] {
        match (&self.owned_manifest, self.local()) {
            (Some(buf), _) => buf.as_slice(),
            (None, Some(bytes)) => &bytes[bytes.len() - self.manifest_len()..],
            // A remote store always owns its manifest.
            (None, None) => &[],
        }
    }

    fn manifest_len(&self) -> usize {
        // Fits: the manifest is part of the mapped or owned bytes (`Header::decode`).
        usize::try_from(self.header.manifest_len).unwrap_or(usize::MAX)
    }

    fn root_pos(&self) -> usize {
        // `Header::decode` checked the root length is one of the known roots' lengths.
        self.manifest_len() - usize::try_from(self.header.root_length).unwrap_or(usize::MAX)
    }

    /// The manifest archive.
    pub fn manifest(&self) -> &ArchivedManifest {
        // SAFETY: these exact bytes, with the root at this position, passed `access_pos`
        // (bytecheck) in `open` (`validate::access_manifest`), and they cannot have changed
        // since: they are an owned buffer, or a read-only map under the contract in `io::map`.
        unsafe {
            rkyv::api::access_pos_unchecked::<ArchivedManifest>(
                self.manifest_bytes(),
                self.root_pos(),
            )
        }
    }

    /// The tables that format 1.1 appends to the root, when the file has them.
    pub fn manifest_ext(&self) -> Option<&ArchivedManifest11> {
        if self.header.root_length == ROOT_LEN {
            return None;
        }
        // SAFETY: a root longer than 1.0's passed `access_pos` (bytecheck) as an
        // `ArchivedManifest11` at this position in `open` (`validate::access_manifest`), and
        // the bytes cannot have changed since, as in `manifest`.
        Some(unsafe {
            rkyv::api::access_pos_unchecked::<ArchivedManifest11>(
                self.manifest_bytes(),
                self.root_pos(),
            )
        })
    }

    fn owner(&self, index: usize) -> Owner {
        (self.describe)(self.manifest(), index)
    }

    /// The stored bytes of section `index` (in the file's bounds: tier 1) of a local file.
    fn stored_local<'a>(&self, bytes: &'a [u8], index: usize) -> &'a [u8] {
        let l = &self.layouts[index];
        &bytes[l.start..l.start + l.stored_len]
    }

    /// The stored bytes of raw section `index`: a view of the mapping, or of the buffer it was
    /// fetched into from a remote source (fetched now if it was not).
    fn stored_raw(&self, index: usize) -> Result<&[u8]> {
        match self.local() {
            Some(bytes) => Ok(self.stored_local(bytes, index)),
            None => {
                let cache = self.cache(index);
                if cache.fetched.get().is_none() {
                    self.fetch(&[(index, 0, self.layouts[index].raw_len)])?;
                }
                Ok(cache
                    .fetched
                    .get()
                    .map(AlignedBuf::as_slice)
                    .unwrap_or_default())
            }
        }
    }

    /// Decoded length of chunk `chunk` of section `index`.
    fn chunk_raw_len(&self, index: usize, chunk: usize) -> usize {
        let l = &self.layouts[index];
        (l.raw_len - chunk * l.chunk_len).min(l.chunk_len)
    }

    /// Where and how section `index` is stored.
    pub fn info(&self, index: usize) -> SectionInfo {
        let m = self.manifest();
        let s = &m.sections[index];
        SectionInfo {
            index,
            offset: s.offset.to_native(),
            stored_len: s.length.to_native(),
            raw_len: s.raw_length.to_native(),
            codec: Codec::of_section(s),
            checksum: s.checksum.to_native(),
            chunks: m.section_chunks(index).len(),
        }
    }

    /// Decoded length of section `index`.
    pub fn raw_len(&self, index: usize) -> usize {
        self.layouts[index].raw_len
    }

    /// The whole decoded bytes of section `index`: a view of the mapping when raw; decoded
    /// (once, in parallel, kept by the store) when compressed.
    pub fn bytes(&self, index: usize) -> Result<&[u8]> {
        self.range(index, 0, self.layouts[index].raw_len)
    }

    /// Decoded bytes `start..end` of section `index` (in bounds: callers check). For a
    /// compressed section only the chunks the range touches are decoded.
    pub fn range(&self, index: usize, start: usize, end: usize) -> Result<&[u8]> {
        if !self.layouts[index].compressed {
            if let Some(bytes) = self.local() {
                return Ok(&self.stored_local(bytes, index)[start..end]);
            }
            return Ok(&self.stored_raw(index)?[start..end]);
        }
        if self.limits.require_zero_copy {
            let s = &self.manifest().sections[index];
            return Err(Error::CopyRequired {
                file: self.path.clone(),
                entry: self.owner(index).entry,
                codec: Codec::of_section(s),
            });
        }
        self.decoded_range(index, start, end)
    }

    /// Tells the OS how the stored bytes of section `index` will be read (`madvise`).
    pub fn advise(&self, index: usize, pattern: AccessPattern) -> Result<()> {
        let l = &self.layouts[index];
        let Bytes::Local(backing) = &self.bytes else {
            return Ok(());
        };
        backing
            .advise(l.start, l.stored_len, pattern)
            .map_err(|source| Error::Io {
                path: self.path.clone(),
                op: "madvise",
                source,
            })
    }

    /// The first-access cache of section `index`.
    pub fn cache(&self, index: usize) -> &SectionCache {
        &self.caches.get_or_init(|| {
            self.layouts
                .iter()
                .map(|_| SectionCache::default())
                .collect()
        })[index]
    }

    /// The stored range of chunk `c` of section `index`, relative to the section (in its
    /// bounds: tier 1, rule C2).
    fn chunk_range(&self, index: usize, c: usize) -> Range<usize> {
        let chunk = &self.manifest().section_chunks(index)[c];
        let start = usize::try_from(chunk.offset.to_native()).unwrap_or(usize::MAX);
        let len = usize::try_from(chunk.length.to_native()).unwrap_or(usize::MAX);
        start..start + len
    }

    /// Decodes chunk `c` of a local section `index` into `out` (exactly its decoded length)
    /// and checks its checksum.
    fn decode_chunk(
        &self,
        index: usize,
        c: usize,
        out: &mut [u8],
        scratch: &mut Vec<u8>,
    ) -> Result<()> {
        let bytes = self.local().unwrap_or_default();
        let frame = &self.stored_local(bytes, index)[self.chunk_range(index, c)];
        self.decode_frame(index, c, frame, out, scratch)
    }

    /// Decodes `frame`, the stored bytes of chunk `c` of section `index`, into `out` and checks
    /// its checksum (rules D1 and D2).
    fn decode_frame(
        &self,
        index: usize,
        c: usize,
        frame: &[u8],
        out: &mut [u8],
        scratch: &mut Vec<u8>,
    ) -> Result<()> {
        let chunk = &self.manifest().section_chunks(index)[c];
        codec::decompress_chunk(frame, out, self.layouts[index].shuffle, scratch).map_err(
            |reason| {
                let owner = self.owner(index);
                Error::Decompress {
                    file: self.path.clone(),
                    entry: owner.entry,
                    part: owner.part,
                    chunk: c,
                    reason,
                }
            },
        )?;
        let got = checksum::xxh3(out);
        if got != chunk.checksum {
            let owner = self.owner(index);
            return Err(Error::ChecksumMismatch {
                file: self.path.clone(),
                what: format!("entry {:?}{} chunk {c} (decoded)", owner.entry, owner.part),
                expected: chunk.checksum.to_native(),
                got,
            });
        }
        Ok(())
    }

    /// The cache of decoded bytes of compressed section `index`, created on first use within
    /// the `max_decompressed_bytes` budget.
    fn decoded_section(&self, index: usize) -> Result<&DecodedSection> {
        self.cache(index).decoded.get_or_try_init(|| {
            let l = &self.layouts[index];
            let raw = l.raw_len as u64;
            let limit = self.limits.max_decompressed_bytes;
            let over = |value| Error::LimitExceeded {
                file: self.path.clone(),
                what: format!("decompressed size of entry {:?}", self.owner(index).entry),
                value,
                limit,
                setting: Limit::MaxDecompressedBytes,
            };
            let before = self.decoded_bytes.fetch_add(raw, Ordering::Relaxed);
            if before.saturating_add(raw) > limit {
                self.decoded_bytes.fetch_sub(raw, Ordering::Relaxed);
                return Err(over(raw));
            }
            DecodedSection::new(l.raw_len, l.chunk_len).ok_or_else(|| {
                self.decoded_bytes.fetch_sub(raw, Ordering::Relaxed);
                over(raw)
            })
        })
    }

    /// Decoded bytes `start..end` of compressed section `index`, decoding (in parallel) only the
    /// chunks they touch that are not decoded yet.
    fn decoded_range(&self, index: usize, start: usize, end: usize) -> Result<&[u8]> {
        let decoded = self.decoded_section(index)?;
        if self.is_remote() {
            if decoded.get(start, end).is_none() {
                self.fetch(&[(index, start, end)])?;
            }
        } else if start < end {
            let chunk_len = self.layouts[index].chunk_len;
            let chunks = start / chunk_len..(end - 1) / chunk_len + 1;
            let decode = |scratch: &mut Vec<u8>, c: usize| {
                decoded.ensure(c, |out| self.decode_chunk(index, c, out, scratch))
            };
            if chunks.len() == 1 {
                decode(&mut Vec::new(), chunks.start)?;
            } else {
                chunks.into_par_iter().try_for_each_init(Vec::new, decode)?;
            }
        }
        // Every chunk of the range was just ensured.
        Ok(decoded.get(start, end).unwrap_or_default())
    }

    /// Tier 3: every section's checksum, every compressed chunk (decoded and checked against
    /// its checksum, in parallel, without keeping it), and that every byte between sections
    /// is zero. O(file).
    pub fn verify(&self) -> Result<()> {
        let Some(bytes) = self.local() else {
            return self.verify_remote();
        };
        let mut gap_start = HEADER_LEN;
        for (i, l) in self.layouts.iter().enumerate() {
            self.check_zero(bytes, gap_start, l.start)?;
            gap_start = l.start + l.stored_len;
            let got = checksum::xxh3(self.stored_local(bytes, i));
            if got != self.manifest().sections[i].checksum {
                return Err(self.checksum_error(i, got));
            }
            if l.compressed {
                (0..self.manifest().section_chunks(i).len())
                    .into_par_iter()
                    .try_for_each_init(Vec::new, |scratch, c| {
                        let mut out = vec![0u8; self.chunk_raw_len(i, c)];
                        self.decode_chunk(i, c, &mut out, scratch)
                    })?;
            }
        }
        self.check_zero(bytes, gap_start, bytes.len() - self.manifest_len())
    }

    fn check_zero(&self, bytes: &[u8], start: usize, end: usize) -> Result<()> {
        self.check_zero_at(&bytes[start..end], start as u64)
    }

    /// Rule V1 for `gap`, the bytes at file offset `start`.
    fn check_zero_at(&self, gap: &[u8], start: u64) -> Result<()> {
        match gap.iter().position(|&b| b != 0) {
            None => Ok(()),
            Some(p) => Err(Error::InvalidField {
                file: self.path.clone(),
                location: format!("padding at offset {}", start + p as u64),
                field: "padding",
                reason: "bytes between sections must be zero".into(),
            }),
        }
    }

    /// Rule V2's error for section `index`, whose stored bytes hash to `got`.
    #[cold]
    fn checksum_error(&self, index: usize, got: u64) -> Error {
        let owner = self.owner(index);
        Error::ChecksumMismatch {
            file: self.path.clone(),
            what: format!("section {index} of entry {:?}{}", owner.entry, owner.part),
            expected: self.manifest().sections[index].checksum.to_native(),
            got,
        }
    }

    /// A running check of rule V2 for section `index`; see [`SectionCheck`].
    pub fn check(&self, index: usize) -> SectionCheck<'_> {
        SectionCheck {
            store: self,
            index,
            hasher: checksum::Hasher::new(),
            done: 0,
        }
    }
}

/// Largest piece of a remote file that `verify` fetches at once: verifying streams the file
/// instead of holding it.
const VERIFY_PIECE: u64 = 8 * 1024 * 1024;

impl Store {
    /// Fetches from the remote source, in one batch, what reads of decoded bytes `start..end`
    /// of each listed `(section, start, end)` need and the store does not hold yet: the whole
    /// stored bytes of a raw section, kept once they match the section's checksum (rule V2);
    /// the stored bytes of the chunks a range of a compressed section touches, decoded and
    /// checked (rules D1, D2) into the section's decoded bytes, then dropped. Nothing is kept
    /// from a batch that failed. A no-op for a local file.
    pub fn fetch(&self, wants: &[(usize, usize, usize)]) -> Result<()> {
        let Bytes::Remote(source) = &self.bytes else {
            return Ok(());
        };
        let mut plan = Vec::new();
        for &(index, start, end) in wants {
            let l = &self.layouts[index];
            let at = |r: Range<usize>| (l.start + r.start) as u64..(l.start + r.end) as u64;
            if !l.compressed {
                if self.cache(index).fetched.get().is_none() {
                    plan.push(Fetch {
                        range: at(0..l.stored_len),
                        kind: FetchKind::Raw(index),
                    });
                }
            } else if !self.limits.require_zero_copy && start < end {
                let decoded = self.decoded_section(index)?;
                let chunk_len = l.chunk_len;
                for c in start / chunk_len..(end - 1) / chunk_len + 1 {
                    if !decoded.is_done(c) {
                        plan.push(Fetch {
                            range: at(self.chunk_range(index, c)),
                            kind: FetchKind::Chunk(index, c),
                        });
                    }
                }
            }
        }
        // The same section may be asked for twice; sections and chunks never overlap.
        plan.sort_by_key(|f| f.range.start);
        plan.dedup_by_key(|f| f.range.start);
        plan.retain(|f| f.range.start < f.range.end);
        if plan.is_empty() {
            return Ok(());
        }
        let raw_total: u64 = plan
            .iter()
            .filter(|f| matches!(f.kind, FetchKind::Raw(_)))
            .map(|f| f.range.end - f.range.start)
            .sum();
        self.charge_fetched(raw_total, &plan)?;
        let mut kept = 0;
        let result = self.fetch_planned(source.as_ref(), &plan, &mut kept);
        self.fetched_bytes
            .fetch_sub(raw_total - kept, Ordering::Relaxed);
        result
    }

    /// Takes `len` bytes from the `max_fetched_bytes` budget, or fails naming the first
    /// section of `plan`.
    fn charge_fetched(&self, len: u64, plan: &[Fetch]) -> Result<()> {
        let limit = self.limits.max_fetched_bytes;
        let before = self.fetched_bytes.fetch_add(len, Ordering::Relaxed);
        if before.saturating_add(len) <= limit {
            return Ok(());
        }
        self.fetched_bytes.fetch_sub(len, Ordering::Relaxed);
        let index = match plan.first().map(|f| &f.kind) {
            Some(FetchKind::Raw(i) | FetchKind::Chunk(i, _)) => *i,
            None => 0,
        };
        Err(Error::LimitExceeded {
            file: self.path.clone(),
            what: format!(
                "bytes fetched from remote storage, with entry {:?}",
                self.owner(index).entry
            ),
            value: before.saturating_add(len),
            limit,
            setting: Limit::MaxFetchedBytes,
        })
    }

    /// The body of [`Store::fetch`]: `kept` counts the raw bytes it stored.
    fn fetch_planned(
        &self,
        source: &dyn RangeSource,
        plan: &[Fetch],
        kept: &mut u64,
    ) -> Result<()> {
        let ranges: Vec<Range<u64>> = plan.iter().map(|f| f.range.clone()).collect();
        let span = ranges[0].start..ranges[ranges.len() - 1].end;
        let remote = |source| Error::Remote {
            path: self.path.clone(),
            op: "read sections",
            range: span.clone(),
            source,
        };
        let mut bufs = ranges
            .iter()
            .map(|r| source::alloc(r.end - r.start))
            .collect::<std::io::Result<Vec<_>>>()
            .map_err(remote)?;
        let mut outs: Vec<&mut [u8]> = bufs.iter_mut().map(AlignedBuf::as_mut_slice).collect();
        source.read_ranges(&ranges, &mut outs).map_err(remote)?;
        // Raw sections: checked, then kept (a section another thread stored meanwhile keeps
        // that thread's bytes).
        let mut chunks = Vec::new();
        for (f, buf) in plan.iter().zip(bufs) {
            match f.kind {
                FetchKind::Raw(index) => {
                    let got = checksum::xxh3(buf.as_slice());
                    if got != self.manifest().sections[index].checksum {
                        return Err(self.checksum_error(index, got));
                    }
                    let len = buf.len() as u64;
                    if self.cache(index).fetched.set(buf).is_ok() {
                        *kept += len;
                    }
                }
                FetchKind::Chunk(index, c) => chunks.push((index, c, buf)),
            }
        }
        let decode = |scratch: &mut Vec<u8>, (index, c, frame): &(usize, usize, AlignedBuf)| {
            let decoded = self.decoded_section(*index)?;
            decoded.ensure(*c, |out| {
                self.decode_frame(*index, *c, frame.as_slice(), out, scratch)
            })
        };
        if chunks.len() == 1 {
            decode(&mut Vec::new(), &chunks[0])
        } else {
            chunks.par_iter().try_for_each_init(Vec::new, decode)
        }
    }

    /// Reads `range` of the remote file in pieces of at most [`VERIFY_PIECE`] bytes, one
    /// batch each, handing each piece and its offset to `each`. Nothing is kept.
    fn stream_remote(
        &self,
        range: Range<u64>,
        mut each: impl FnMut(&[u8], u64) -> Result<()>,
    ) -> Result<()> {
        let Bytes::Remote(source) = &self.bytes else {
            return Ok(());
        };
        let mut at = range.start;
        while at < range.end {
            let piece = at..range.end.min(at + VERIFY_PIECE);
            let remote = |source| Error::Remote {
                path: self.path.clone(),
                op: "verify",
                range: piece.clone(),
                source,
            };
            let mut buf = source::alloc(piece.end - piece.start).map_err(remote)?;
            source
                .read_ranges(std::slice::from_ref(&piece), &mut [buf.as_mut_slice()])
                .map_err(remote)?;
            each(buf.as_slice(), piece.start)?;
            at = piece.end;
        }
        Ok(())
    }

    /// Rule V2 for section `index` of a remote file, streamed; with `decode`, rule V3 too
    /// (each chunk is fetched, hashed into the section's checksum, decoded and checked, and
    /// dropped). A raw section already fetched was checked when it was.
    fn check_remote_section(&self, index: usize, decode: bool) -> Result<()> {
        let l = self.layouts[index];
        let start = l.start as u64;
        let mut hasher = checksum::Hasher::new();
        if !l.compressed {
            if self.cache(index).fetched.get().is_some() {
                return Ok(());
            }
            self.stream_remote(start..start + l.stored_len as u64, |piece, _| {
                hasher.update(piece);
                Ok(())
            })?;
        } else {
            let mut scratch = Vec::new();
            for c in 0..self.manifest().section_chunks(index).len() {
                let r = self.chunk_range(index, c);
                let range = start + r.start as u64..start + r.end as u64;
                if !decode {
                    self.stream_remote(range, |piece, _| {
                        hasher.update(piece);
                        Ok(())
                    })?;
                    continue;
                }
                // One chunk's frame at a time, within the fetch budget while it is held.
                let plan = [Fetch {
                    range: range.clone(),
                    kind: FetchKind::Chunk(index, c),
                }];
                let len = range.end - range.start;
                self.charge_fetched(len, &plan)?;
                let mut frame = Vec::new();
                let fetched = self.stream_remote(range, |piece, _| {
                    frame.extend_from_slice(piece);
                    Ok(())
                });
                let result = fetched.and_then(|()| {
                    hasher.update(&frame);
                    let mut out = vec![0u8; self.chunk_raw_len(index, c)];
                    self.decode_frame(index, c, &frame, &mut out, &mut scratch)
                });
                drop(frame);
                self.fetched_bytes.fetch_sub(len, Ordering::Relaxed);
                result?;
            }
        }
        let got = hasher.digest();
        if got == self.manifest().sections[index].checksum {
            return Ok(());
        }
        Err(self.checksum_error(index, got))
    }

    /// Tier 3 over a remote file: the data area is streamed, section by section and gap by
    /// gap, never held whole.
    fn verify_remote(&self) -> Result<()> {
        let mut gap_start = HEADER_LEN as u64;
        let zero = |piece: &[u8], at: u64| self.check_zero_at(piece, at);
        for (i, l) in self.layouts.iter().enumerate() {
            self.stream_remote(gap_start..l.start as u64, zero)?;
            gap_start = (l.start + l.stored_len) as u64;
            self.check_remote_section(i, true)?;
        }
        self.stream_remote(gap_start..self.header.manifest_offset, zero)
    }
}

impl Layout {
    fn of(s: &crate::raw::manifest::ArchivedSection) -> Layout {
        // Every value fits in usize: tier 1 checked that the stored bytes lie inside the file,
        // which is mapped or in memory, and that the decoded length of every section fits
        // (rules S and C); saturating keeps a broken invariant a bounds-checked panic at worst,
        // never a wrong slice.
        let native = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        let compressed = s.is_compressed();
        Layout {
            start: native(s.offset.to_native()),
            stored_len: native(s.length.to_native()),
            raw_len: native(s.raw_length.to_native()),
            chunk_len: if compressed {
                native(u64::from(s.chunk_length.to_native()))
            } else {
                0
            },
            shuffle: usize::from(s.shuffle),
            compressed,
        }
    }
}

/// Where and how one data section (an array's data, one buffer of a column, a model's archive)
/// is stored: what `brine inspect` shows. Reading it touches only the manifest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SectionInfo {
    /// The section's row of the section table.
    pub index: usize,
    /// Offset of the stored bytes in the file.
    pub offset: u64,
    /// Bytes stored in the file.
    pub stored_len: u64,
    /// Bytes once decoded.
    pub raw_len: u64,
    /// How the section is stored.
    pub codec: Codec,
    /// xxh3 of the stored bytes.
    pub checksum: u64,
    /// Number of compressed chunks (0 when raw).
    pub chunks: usize,
}

/// A running check of one section's checksum; see [`Reader::section_check`](crate::Reader::section_check).
pub struct SectionCheck<'r> {
    store: &'r Store,
    index: usize,
    hasher: checksum::Hasher,
    /// Stored bytes hashed so far.
    done: usize,
}

impl std::fmt::Debug for SectionCheck<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SectionCheck")
            .field("index", &self.index)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl SectionCheck<'_> {
    /// Hashes the stored bytes from where the last call stopped up to `end` (clamped to the
    /// section's length; an `end` below what was hashed does nothing).
    pub fn advance_to(&mut self, end: u64) {
        // A remote section is checked as a whole by `finish`.
        let Some(bytes) = self.store.local() else {
            return;
        };
        let stored = self.store.stored_local(bytes, self.index);
        let end = usize::try_from(end).map_or(stored.len(), |end| end.min(stored.len()));
        if end > self.done {
            self.hasher.update(&stored[self.done..end]);
            self.done = end;
        }
    }

    /// Hashes the rest of the section and compares the checksum with the stored one.
    ///
    /// # Errors
    /// [`Error::ChecksumMismatch`], exactly as [`Reader::verify`](crate::Reader::verify)
    /// reports it.
    pub fn finish(mut self) -> Result<()> {
        if self.store.is_remote() {
            return self.store.check_remote_section(self.index, false);
        }
        self.advance_to(u64::MAX);
        let got = self.hasher.digest();
        if got == self.store.manifest().sections[self.index].checksum {
            return Ok(());
        }
        Err(self.store.checksum_error(self.index, got))
    }
}
