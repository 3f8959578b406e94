//! The store: a file's bytes, its manifest once validated, and its data sections, below the
//! kinds. Kinds reach a section's bytes only through [`Store::bytes`] and [`Store::range`],
//! which hand out views of the mapping for raw sections and decode compressed ones lazily, a
//! chunk at a time, within the reader's budget. The store knows sections, not what they hold:
//! its messages say which entry and part a section belongs to through the `describe` function
//! the reader gives it.

use std::fs::File;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use once_cell::sync::OnceCell;
use rayon::prelude::*;

use crate::buffer::{AlignedBuf, DecodedSection};
use crate::error::{Error, Limit, Result};
use crate::io::map::{AccessPattern, Backing, read_at};
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
    /// Set once every element of the section's whole decoded data was checked to be valid
    /// for its dtype (only `bool` has invalid values).
    pub elements_valid: OnceCell<()>,
}

/// The bytes of an open file and its sections.
#[derive(Debug)]
pub(crate) struct Store {
    path: PathBuf,
    backing: Backing,
    header: Header,
    /// A copy of the manifest read with `pread`, or `None` when it is read through the backing.
    owned_manifest: Option<AlignedBuf>,
    layouts: Box<[Layout]>,
    /// Allocated on the first access that needs it (a compressed section, or a bool array).
    caches: OnceCell<Box<[SectionCache]>>,
    decoded_bytes: AtomicU64,
    limits: StoreLimits,
    describe: fn(&ArchivedManifest, usize) -> Owner,
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
        validate: impl FnOnce(
            &Path,
            &Header,
            &ArchivedManifest,
            Option<&ArchivedManifest11>,
        ) -> Result<()>,
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
            backing,
            header,
            owned_manifest,
            layouts,
            caches: OnceCell::new(),
            decoded_bytes: AtomicU64::new(0),
            limits,
            describe,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The addresses of the file's bytes in memory (the mapping, or the buffer).
    pub fn mapped_range(&self) -> Range<usize> {
        let bytes = self.backing.bytes();
        bytes.as_ptr() as usize..bytes.as_ptr() as usize + bytes.len()
    }

    fn manifest_bytes(&self) -> &[u8] {
        match &self.owned_manifest {
            Some(buf) => buf.as_slice(),
            None => {
                let bytes = self.backing.bytes();
                &bytes[bytes.len() - self.manifest_len()..]
            }
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

    /// The stored bytes of section `index` (in the file's bounds: tier 1).
    fn stored(&self, index: usize) -> &[u8] {
        let l = &self.layouts[index];
        &self.backing.bytes()[l.start..l.start + l.stored_len]
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
            return Ok(&self.stored(index)[start..end]);
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
        self.backing
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

    /// Decodes chunk `c` of section `index` into `out` (exactly its decoded length) and checks
    /// its checksum.
    fn decode_chunk(
        &self,
        index: usize,
        c: usize,
        out: &mut [u8],
        scratch: &mut Vec<u8>,
    ) -> Result<()> {
        let chunk = &self.manifest().section_chunks(index)[c];
        // In the section's bounds: tier 1 (rule C2).
        let start = usize::try_from(chunk.offset.to_native()).unwrap_or(usize::MAX);
        let len = usize::try_from(chunk.length.to_native()).unwrap_or(usize::MAX);
        let frame = &self.stored(index)[start..start + len];
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
        if start < end {
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
        let mut gap_start = HEADER_LEN;
        for (i, l) in self.layouts.iter().enumerate() {
            self.check_zero(gap_start, l.start)?;
            gap_start = l.start + l.stored_len;
            let got = checksum::xxh3(self.stored(i));
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
        self.check_zero(gap_start, self.backing.bytes().len() - self.manifest_len())
    }

    fn check_zero(&self, start: usize, end: usize) -> Result<()> {
        let gap = &self.backing.bytes()[start..end];
        match gap.iter().position(|&b| b != 0) {
            None => Ok(()),
            Some(p) => Err(Error::InvalidField {
                file: self.path.clone(),
                location: format!("padding at offset {}", start + p),
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
        let stored = self.store.stored(self.index);
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
        self.advance_to(u64::MAX);
        let got = self.hasher.digest();
        if got == self.store.manifest().sections[self.index].checksum {
            return Ok(());
        }
        Err(self.store.checksum_error(self.index, got))
    }
}
