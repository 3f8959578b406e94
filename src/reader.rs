//! The front door for reading: open a file, validate it, look entries up, view them.

use std::fs::File;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use once_cell::sync::OnceCell;
use rayon::prelude::*;

use crate::array::{ArrayView, CastError, Dtype, Element};
use crate::buffer::{AlignedBuf, DecodedSection};
use crate::error::{Error, Result};
use crate::frame::FrameView;
use crate::io::map::{AccessPattern, Backing, read_at};
use crate::raw::Version;
use crate::raw::checksum;
use crate::raw::codec;
use crate::raw::header::{HEADER_LEN, Header};
use crate::raw::limits::{
    DEFAULT_MAX_DECOMPRESSED, DEFAULT_MAX_MANIFEST_LEN, DEFAULT_MAX_MODEL_DEPTH,
};
use crate::raw::manifest::{
    ArchivedEntry, ArchivedManifest, ArchivedManifest11, ArchivedMetaItem, ArchivedSection,
    KIND_FRAME, KIND_MODEL, MetaRef, ROOT_LEN, codec_name,
};
use crate::raw::validate;

/// Manifests up to this size are copied out of the file with `pread` at open; larger ones are
/// read through the map (copying them would cost more than the page faults it saves).
const OWNED_MANIFEST_MAX: u64 = 64 * 1024;

/// Options for opening a file. Start from [`Reader::options`].
#[derive(Clone, Debug)]
pub struct OpenOptions {
    verify: bool,
    require_zero_copy: bool,
    max_manifest_len: u64,
    max_decompressed_bytes: u64,
    pub(crate) max_model_depth: usize,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            verify: false,
            require_zero_copy: false,
            max_manifest_len: DEFAULT_MAX_MANIFEST_LEN,
            max_decompressed_bytes: DEFAULT_MAX_DECOMPRESSED,
            max_model_depth: DEFAULT_MAX_MODEL_DEPTH,
        }
    }
}

impl OpenOptions {
    /// Also run [`Reader::verify`] at open: every checksum, every chunk, every padding byte.
    /// O(file) instead of O(manifest).
    pub fn verify(mut self, yes: bool) -> Self {
        self.verify = yes;
        self
    }

    /// Refuse to read compressed entries ([`Error::CopyRequired`]) instead of decompressing
    /// them into memory: every successful read is then a view of the mapping.
    pub fn require_zero_copy(mut self, yes: bool) -> Self {
        self.require_zero_copy = yes;
        self
    }

    /// Largest manifest accepted (default 256 MiB). The manifest is validated in full at open.
    pub fn max_manifest_len(mut self, bytes: u64) -> Self {
        self.max_manifest_len = bytes;
        self
    }

    /// Largest total of decompressed bytes this reader may hold for compressed entries
    /// (default 8 GiB). Reading an entry that would pass it fails with
    /// [`Error::LimitExceeded`].
    pub fn max_decompressed_bytes(mut self, bytes: u64) -> Self {
        self.max_decompressed_bytes = bytes;
        self
    }

    /// Deepest nesting of pointers (boxes, vectors, strings inside each other) a model's
    /// archive may have (default 1024). Validation recurses once per level; the limit keeps a
    /// hostile or very deep archive from overflowing the stack. A deeper archive is refused
    /// with [`Error::LimitExceeded`].
    pub fn max_model_depth(mut self, levels: usize) -> Self {
        self.max_model_depth = levels;
        self
    }

    /// Maps and opens the file at `path`.
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be opened or mapped; any validation error of tier 1
    /// (and of [`Reader::verify`] when `verify` is set).
    pub fn open(self, path: impl AsRef<Path>) -> Result<Reader> {
        let path = path.as_ref();
        let (backing, file) = Backing::map(path)?;
        Reader::from_backing(path.to_path_buf(), backing, Some(&file), self)
    }

    /// Opens a file held in memory. `name` is used in error messages.
    ///
    /// # Errors
    /// As [`OpenOptions::open`], without the I/O errors.
    pub fn open_buffer(self, name: impl Into<PathBuf>, buffer: AlignedBuf) -> Result<Reader> {
        Reader::from_backing(name.into(), Backing::Buffer(buffer), None, self)
    }
}

/// An open brine file.
///
/// Opening costs O(manifest): the header and manifest are validated (tier 1 in the spec) and no
/// data page is touched. Views of raw entries borrow from the mapping and copy nothing.
/// Compressed entries are decompressed on demand, chunk by chunk, into buffers the reader keeps.
/// `Reader` is `Send + Sync`: share it between threads by reference or in an `Arc`.
///
/// # Examples
/// ```
/// # fn main() -> brine::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// # let path = dir.path().join("example.brine");
/// let mut w = brine::Writer::create(&path)?;
/// w.put_array("x", &[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
/// w.finish()?;
///
/// let r = brine::Reader::open(&path)?;
/// let x = r.array::<f32>("x")?;
/// assert_eq!(x.shape(), &[2, 2]);
/// assert_eq!(x.as_slice(), &[1.0, 2.0, 3.0, 4.0]);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Reader {
    path: PathBuf,
    backing: Backing,
    header: Header,
    /// A copy of the manifest read with `pread`, or `None` when it is read through the backing.
    owned_manifest: Option<AlignedBuf>,
    options: OpenOptions,
    /// What first accesses learned about each section, allocated on the first access that
    /// needs it (a compressed section, or a bool array).
    sections: OnceCell<Box<[SectionCache]>>,
    /// Set per column of the column table once its content passed tier 2.
    columns_checked: OnceCell<Box<[OnceCell<()>]>>,
    /// Per model: the type its archive was validated as.
    models_validated: OnceCell<Box<[OnceCell<std::any::TypeId>]>>,
    decoded_bytes: AtomicU64,
}

impl Reader {
    /// Options for opening a file.
    pub fn options() -> OpenOptions {
        OpenOptions::default()
    }

    /// Maps and opens the file at `path` with default options.
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be opened or mapped, and any tier-1 validation error:
    /// [`Error::NotBrine`], [`Error::UnsupportedVersion`], [`Error::ChecksumMismatch`],
    /// [`Error::SectionOutOfBounds`]...
    pub fn open(path: impl AsRef<Path>) -> Result<Reader> {
        OpenOptions::default().open(path)
    }

    /// Opens a file held in memory with default options (no mapping; useful for data from the
    /// network and for filesystems where mapping is unwise). `name` is used in messages.
    ///
    /// # Errors
    /// As [`Reader::open`], without the I/O errors.
    pub fn from_buffer(name: impl Into<PathBuf>, buffer: AlignedBuf) -> Result<Reader> {
        OpenOptions::default().open_buffer(name, buffer)
    }

    /// Validates header and manifest. With a mapped `file`, the header and a small manifest
    /// are read with `pread` instead of through the map: faulting in the first and last pages
    /// of the map, and unmapping them later, cost more than the two reads (measured: 15 us
    /// against 7 us for a raw map of a 1 MiB file).
    fn from_backing(
        path: PathBuf,
        backing: Backing,
        file: Option<&File>,
        options: OpenOptions,
    ) -> Result<Reader> {
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
        // `decode` checked manifest_offset + manifest_len == file length == bytes.len().
        let owned_manifest = match file {
            Some(f) if header.manifest_len <= OWNED_MANIFEST_MAX => {
                let mut buf = AlignedBuf::zeroed(header.manifest_len as usize)
                    .ok_or_else(|| io(std::io::ErrorKind::OutOfMemory.into()))?;
                read_at(f, header.manifest_offset, buf.as_mut_slice()).map_err(io)?;
                Some(buf)
            }
            _ => None,
        };
        let manifest_bytes = match &owned_manifest {
            Some(buf) => buf.as_slice(),
            None => &bytes[header.manifest_offset as usize..],
        };
        let (manifest, ext) =
            validate::access_manifest(&path, &header, manifest_bytes, options.max_manifest_len)?;
        validate::validate_manifest(&path, &header, manifest, ext, crate::frame::is_known_zone)?;
        let verify = options.verify;
        let reader = Reader {
            path,
            backing,
            header,
            owned_manifest,
            options,
            sections: OnceCell::new(),
            columns_checked: OnceCell::new(),
            models_validated: OnceCell::new(),
            decoded_bytes: AtomicU64::new(0),
        };
        if verify {
            reader.verify()?;
        }
        Ok(reader)
    }

    /// The manifest archive.
    pub(crate) fn manifest(&self) -> &ArchivedManifest {
        let bytes = match &self.owned_manifest {
            Some(buf) => buf.as_slice(),
            None => &self.backing.bytes()[self.header.manifest_offset as usize..],
        };
        let root = bytes.len() - self.header.root_length as usize;
        // SAFETY: these exact bytes, with the root at this position, passed `access_pos`
        // (bytecheck) in `from_backing`, and they cannot have changed since: they are an owned
        // buffer, or a read-only map under the contract in `io::map`.
        unsafe { rkyv::api::access_pos_unchecked::<ArchivedManifest>(bytes, root) }
    }

    /// The tables that format 1.1 appends to the root, when the file has them.
    pub(crate) fn manifest_ext(&self) -> Option<&ArchivedManifest11> {
        if self.header.root_length == ROOT_LEN {
            return None;
        }
        let bytes = match &self.owned_manifest {
            Some(buf) => buf.as_slice(),
            None => &self.backing.bytes()[self.header.manifest_offset as usize..],
        };
        let root = bytes.len() - self.header.root_length as usize;
        // SAFETY: a root longer than 1.0's passed `access_pos` (bytecheck) as an
        // `ArchivedManifest11` at this position in `from_backing` (`validate::access_manifest`),
        // and the bytes cannot have changed since, as in `manifest`.
        Some(unsafe { rkyv::api::access_pos_unchecked::<ArchivedManifest11>(bytes, root) })
    }

    /// The addresses of the file's bytes in memory (the mapping, or the buffer): a view whose
    /// pointer lies inside was not copied. For tests and zero-copy assertions.
    pub fn mapped_range(&self) -> Range<usize> {
        let bytes = self.backing.bytes();
        bytes.as_ptr() as usize..bytes.as_ptr() as usize + bytes.len()
    }

    /// The options the reader was opened with.
    pub(crate) fn open_options(&self) -> &OpenOptions {
        &self.options
    }

    /// The path (or the name given to [`OpenOptions::open_buffer`]).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The format version the file was written with.
    pub fn version(&self) -> Version {
        self.header.version
    }

    /// The alignment unit of large sections.
    pub fn alignment(&self) -> u32 {
        self.header.alignment
    }

    /// Total length of the file.
    pub fn file_len(&self) -> u64 {
        self.header.file_len
    }

    /// Length of the manifest.
    pub fn manifest_len(&self) -> u64 {
        self.header.manifest_len
    }

    /// The manifest's xxh3, checked at open. The manifest holds every section's checksum, so
    /// two readers with the same manifest checksum read the same contents: a tool that reopens
    /// a file compares it to notice that the file was replaced in between.
    pub fn manifest_checksum(&self) -> u64 {
        self.header.manifest_checksum
    }

    /// File-level metadata.
    pub fn metadata(&self) -> Metadata<'_> {
        Metadata {
            items: self.manifest().metadata.as_slice(),
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.manifest().entries.len()
    }

    /// Whether the file has no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every entry, sorted by name.
    pub fn entries(&self) -> impl ExactSizeIterator<Item = EntryRef<'_>> + '_ {
        (0..self.len()).map(move |index| EntryRef {
            reader: self,
            index,
        })
    }

    /// The entry named `name`, found by binary search without allocating.
    pub fn get(&self, name: &str) -> Option<EntryRef<'_>> {
        let m = self.manifest();
        let (mut lo, mut hi) = (0, m.entries.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match m.name(mid).as_bytes().cmp(name.as_bytes()) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => {
                    return Some(EntryRef {
                        reader: self,
                        index: mid,
                    });
                }
            }
        }
        None
    }

    /// The entry named `name`, or [`Error::NotFound`].
    pub fn entry(&self, name: &str) -> Result<EntryRef<'_>> {
        self.get(name).ok_or_else(|| Error::NotFound {
            file: self.path.clone(),
            entry: name.to_owned(),
        })
    }

    /// The array entry named `name`, untyped.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::WrongKind`].
    pub fn array_entry(&self, name: &str) -> Result<ArrayEntry<'_>> {
        self.entry(name)?.array()
    }

    /// A typed view of the array named `name`: zero-copy for raw entries; compressed entries are
    /// decompressed in full (in parallel) on first access and kept by the reader.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::WrongKind`], [`Error::WrongDtype`], and for compressed
    /// entries [`Error::CopyRequired`], [`Error::Decompress`], [`Error::ChecksumMismatch`],
    /// [`Error::LimitExceeded`].
    pub fn array<T: Element>(&self, name: &str) -> Result<ArrayView<'_, T>> {
        self.array_entry(name)?.view()
    }

    /// Checks everything tier 1 does not: every section's checksum, every compressed chunk
    /// (decompressed and checked against its checksum, in parallel, without keeping it), and
    /// that every byte between sections is zero. O(file).
    ///
    /// # Errors
    /// [`Error::ChecksumMismatch`], [`Error::Decompress`], [`Error::InvalidField`] for non-zero
    /// padding.
    pub fn verify(&self) -> Result<()> {
        let m = self.manifest();
        let owners = self.section_owners();
        let mut gap_start = HEADER_LEN as u64;
        for (i, s) in m.sections.iter().enumerate() {
            self.check_zero(gap_start, s.offset.to_native())?;
            gap_start = s.offset.to_native() + s.length.to_native();
            let stored = self.stored(s);
            let got = checksum::xxh3(stored);
            if got != s.checksum {
                return Err(self.section_checksum_error(i, owners[i], got));
            }
            if s.is_compressed() {
                (0..m.section_chunks(i).len())
                    .into_par_iter()
                    .try_for_each_init(Vec::new, |scratch, c| {
                        let len = self.chunk_raw_len(s, c);
                        let mut out = vec![0u8; len];
                        self.decode_chunk(owners[i].0, i, c, &mut out, scratch)
                    })?;
            }
        }
        self.check_zero(gap_start, self.header.manifest_offset)?;
        Ok(())
    }

    /// Rule V2's error for section `index`, owned by `owner`, whose stored bytes hash to `got`.
    #[cold]
    fn section_checksum_error(
        &self,
        index: usize,
        owner: (&str, Option<(usize, &'static str)>),
        got: u64,
    ) -> Error {
        Error::ChecksumMismatch {
            file: self.path.clone(),
            what: format!(
                "section {index} of entry {:?}{}",
                owner.0,
                validate::buffer_part(self.manifest(), owner.1)
            ),
            expected: self.manifest().sections[index].checksum.to_native(),
            got,
        }
    }

    /// A running check of rule V2 (the checksum of a section's stored bytes) for a reader of
    /// the section's data that wants [`Reader::verify`]'s guarantee for what it reads without
    /// a second pass over the file: feed it the stored bytes' progress with
    /// [`SectionCheck::advance_to`] as they are read, then [`SectionCheck::finish`]. It hashes
    /// the stored bytes from the mapping (for a raw section, the bytes the caller just read;
    /// for a compressed one, its compressed bytes, which decoding reads too).
    pub fn section_check(&self, section: &SectionInfo) -> SectionCheck<'_> {
        SectionCheck {
            reader: self,
            index: section.index,
            hasher: checksum::Hasher::new(),
            done: 0,
        }
    }

    fn check_zero(&self, start: u64, end: u64) -> Result<()> {
        let gap = &self.backing.bytes()[start as usize..end as usize];
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

    /// The name of the entry that owns each section, and the part of it the section holds
    /// (tier 1 checked there is exactly one owner).
    fn section_owners(&self) -> Vec<(&str, Option<(usize, &'static str)>)> {
        let m = self.manifest();
        // Entry index of row `row` of each kind's table.
        let mut by_kind: [Vec<usize>; 3] = Default::default();
        for (i, e) in m.entries.iter().enumerate() {
            if let Some(rows) = by_kind.get_mut(usize::from(e.kind)) {
                rows.push(i);
            }
        }
        let mut owners = vec![("", None); m.sections.len()];
        let _ = validate::for_each_owned_section::<()>(m, |kind, row, section, buffer| {
            owners[section as usize] = (m.name(by_kind[usize::from(kind)][row]), buffer);
            Ok(())
        });
        owners
    }

    /// `, column "name" slot` when section `index` is a column's buffer (for messages; cold).
    #[cold]
    fn section_part(&self, index: usize) -> String {
        let m = self.manifest();
        let mut part = None;
        let _ = validate::for_each_owned_section::<()>(m, |_, _, section, buffer| {
            if section as usize == index {
                part = buffer;
            }
            Ok(())
        });
        validate::buffer_part(m, part)
    }

    /// The frame named `name`.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::WrongKind`].
    pub fn frame(&self, name: &str) -> Result<FrameView<'_>> {
        self.entry(name)?.frame()
    }

    /// The frame entry `name`: the same view as [`Reader::frame`], named like
    /// [`Reader::array_entry`] and [`Reader::model_entry`] so that each kind has an entry
    /// accessor.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::WrongKind`].
    pub fn frame_entry(&self, name: &str) -> Result<FrameView<'_>> {
        self.entry(name)?.frame()
    }

    /// Where and how section `index` is stored (an index the manifest's tier-1 checks vouched
    /// for).
    pub(crate) fn section_info(&self, index: usize) -> SectionInfo {
        let s = &self.manifest().sections[index];
        SectionInfo {
            index,
            offset: s.offset.to_native(),
            stored_len: s.length.to_native(),
            raw_len: s.raw_length.to_native(),
            codec: codec_name(s.codec, s.shuffle),
            checksum: s.checksum.to_native(),
            chunks: self.manifest().section_chunks(index).len(),
        }
    }

    /// The whole decoded bytes of section `index` of entry `entry`: a view of the mapping when
    /// raw; decompressed (once, in parallel, kept by the reader) when compressed.
    pub(crate) fn section_bytes(&self, entry: &str, index: usize) -> Result<&[u8]> {
        let s = &self.manifest().sections[index];
        self.section_range(entry, index, 0, s.raw_length.to_native() as usize)
    }

    /// Decoded bytes `start..end` of section `index` (in bounds: callers check).
    pub(crate) fn section_range(
        &self,
        entry: &str,
        index: usize,
        start: usize,
        end: usize,
    ) -> Result<&[u8]> {
        let s = &self.manifest().sections[index];
        if !s.is_compressed() {
            return Ok(&self.stored(s)[start..end]);
        }
        if self.options.require_zero_copy {
            return Err(Error::CopyRequired {
                file: self.path.clone(),
                entry: entry.to_owned(),
                codec: codec_name(s.codec, s.shuffle),
            });
        }
        self.decoded_range(entry, index, start, end)
    }

    /// The validation cache of model row `row`.
    pub(crate) fn model_validated(&self, row: usize) -> &OnceCell<std::any::TypeId> {
        let count = self.manifest().models.len();
        &self
            .models_validated
            .get_or_init(|| (0..count).map(|_| OnceCell::new()).collect())[row]
    }

    /// Runs `check` once for column `index` of the column table; later calls return at once
    /// when it passed (a failure is not cached: it is reported again).
    pub(crate) fn column_checked(
        &self,
        index: usize,
        check: impl FnOnce() -> Result<()>,
    ) -> Result<()> {
        let count = self.manifest().columns.len();
        let cells = self
            .columns_checked
            .get_or_init(|| (0..count).map(|_| OnceCell::new()).collect());
        cells[index].get_or_try_init(check).map(drop)
    }

    /// The stored bytes of a section (bounds checked at open).
    fn stored(&self, s: &ArchivedSection) -> &[u8] {
        let start = s.offset.to_native() as usize;
        &self.backing.bytes()[start..start + s.length.to_native() as usize]
    }

    fn chunk_raw_len(&self, s: &ArchivedSection, chunk: usize) -> usize {
        let chunk_length = u64::from(s.chunk_length.to_native());
        let start = chunk as u64 * chunk_length;
        (s.raw_length.to_native() - start).min(chunk_length) as usize
    }

    /// Decompresses chunk `c` of section `index` into `out` (exactly its decoded length) and
    /// checks its checksum.
    fn decode_chunk(
        &self,
        entry: &str,
        index: usize,
        c: usize,
        out: &mut [u8],
        scratch: &mut Vec<u8>,
    ) -> Result<()> {
        let m = self.manifest();
        let s = &m.sections[index];
        let chunk = &m.section_chunks(index)[c];
        let start = chunk.offset.to_native() as usize;
        let frame = &self.stored(s)[start..start + chunk.length.to_native() as usize];
        codec::decompress_chunk(frame, out, usize::from(s.shuffle), scratch).map_err(|reason| {
            Error::Decompress {
                file: self.path.clone(),
                entry: entry.to_owned(),
                part: self.section_part(index),
                chunk: c,
                reason,
            }
        })?;
        let got = checksum::xxh3(out);
        if got != chunk.checksum {
            return Err(Error::ChecksumMismatch {
                file: self.path.clone(),
                what: format!(
                    "entry {entry:?}{} chunk {c} (decoded)",
                    self.section_part(index)
                ),
                expected: chunk.checksum.to_native(),
                got,
            });
        }
        Ok(())
    }

    /// The first-access cache of section `index`.
    fn section_cache(&self, index: usize) -> &SectionCache {
        let count = self.manifest().sections.len();
        &self
            .sections
            .get_or_init(|| (0..count).map(|_| SectionCache::default()).collect())[index]
    }

    /// The cache of decoded bytes of compressed section `index`, created on first use within
    /// the `max_decompressed_bytes` budget.
    fn decoded_section(&self, entry: &str, index: usize) -> Result<&DecodedSection> {
        let m = self.manifest();
        self.section_cache(index).decoded.get_or_try_init(|| {
            let s = &m.sections[index];
            let raw = s.raw_length.to_native();
            let limit = self.options.max_decompressed_bytes;
            let before = self.decoded_bytes.fetch_add(raw, Ordering::Relaxed);
            let over = |value| Error::LimitExceeded {
                file: self.path.clone(),
                what: format!("decompressed size of entry {entry:?}"),
                value,
                limit,
                setting: "OpenOptions::max_decompressed_bytes",
            };
            if before.saturating_add(raw) > limit {
                self.decoded_bytes.fetch_sub(raw, Ordering::Relaxed);
                return Err(over(raw));
            }
            // raw_length fits in usize: tier 1 checked dtype size x shape fits.
            DecodedSection::new(raw as usize, s.chunk_length.to_native() as usize).ok_or_else(
                || {
                    self.decoded_bytes.fetch_sub(raw, Ordering::Relaxed);
                    over(raw)
                },
            )
        })
    }

    /// Decoded bytes `start..end` of compressed section `index`, decompressing (in parallel) only
    /// the chunks they touch that are not decoded yet.
    fn decoded_range(&self, entry: &str, index: usize, start: usize, end: usize) -> Result<&[u8]> {
        let section = &self.manifest().sections[index];
        let decoded = self.decoded_section(entry, index)?;
        if start < end {
            let chunk_len = section.chunk_length.to_native() as usize;
            let chunks = start / chunk_len..(end - 1) / chunk_len + 1;
            let decode = |scratch: &mut Vec<u8>, c: usize| {
                decoded.ensure(c, |out| self.decode_chunk(entry, index, c, out, scratch))
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
}

/// What first accesses learned about one section (validation tier 2), kept for later ones.
#[derive(Debug, Default)]
struct SectionCache {
    /// The decoded bytes of a compressed section.
    decoded: OnceCell<DecodedSection>,
    /// Set once every element of the section's whole decoded data was checked to be valid
    /// for its dtype (only `bool` has invalid values).
    elements_valid: OnceCell<()>,
}

/// One entry of an open file.
#[derive(Clone, Copy)]
pub struct EntryRef<'r> {
    reader: &'r Reader,
    index: usize,
}

impl std::fmt::Debug for EntryRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntryRef")
            .field("name", &self.name())
            .field("kind", &self.kind())
            .finish()
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
    /// `"raw"`, `"zstd"` or `"zstd+shuffle"`.
    pub codec: &'static str,
    /// xxh3 of the stored bytes.
    pub checksum: u64,
    /// Number of compressed chunks (0 when raw).
    pub chunks: usize,
}

/// A running check of one section's checksum; see [`Reader::section_check`].
pub struct SectionCheck<'r> {
    reader: &'r Reader,
    index: usize,
    hasher: checksum::Hasher,
    /// Stored bytes hashed so far.
    done: u64,
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
    fn stored(reader: &Reader, index: usize) -> &[u8] {
        reader.stored(&reader.manifest().sections[index])
    }

    /// Hashes the stored bytes from where the last call stopped up to `end` (clamped to the
    /// section's length; an `end` below what was hashed does nothing).
    pub fn advance_to(&mut self, end: u64) {
        let stored = Self::stored(self.reader, self.index);
        let end = end.min(stored.len() as u64);
        if end > self.done {
            self.hasher
                .update(&stored[self.done as usize..end as usize]);
            self.done = end;
        }
    }

    /// Hashes the rest of the section and compares the checksum with the stored one.
    ///
    /// # Errors
    /// [`Error::ChecksumMismatch`], exactly as [`Reader::verify`] reports it.
    pub fn finish(mut self) -> Result<()> {
        self.advance_to(u64::MAX);
        let got = self.hasher.digest();
        if got
            == self.reader.manifest().sections[self.index]
                .checksum
                .to_native()
        {
            return Ok(());
        }
        let owners = self.reader.section_owners();
        Err(self
            .reader
            .section_checksum_error(self.index, owners[self.index], got))
    }
}

/// The kind of an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// An n-dimensional array.
    Array,
    /// A frame: a table of named columns.
    Frame,
    /// A model: an rkyv archive of a Rust type.
    Model,
}

impl Kind {
    /// `"array"`, `"frame"` or `"model"`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Array => "array",
            Kind::Frame => "frame",
            Kind::Model => "model",
        }
    }
}

impl<'r> EntryRef<'r> {
    fn row(&self) -> &'r ArchivedEntry {
        &self.reader.manifest().entries[self.index]
    }

    /// The entry's name.
    pub fn name(&self) -> &'r str {
        self.reader.manifest().name(self.index)
    }

    /// The entry's kind.
    pub fn kind(&self) -> Kind {
        // Tier 1 refused kinds this build does not know.
        match self.row().kind {
            KIND_FRAME => Kind::Frame,
            KIND_MODEL => Kind::Model,
            _ => Kind::Array,
        }
    }

    /// [`Error::WrongKind`] unless the entry is of kind `kind`.
    pub(crate) fn expect_kind(&self, kind: Kind) -> Result<usize> {
        if self.kind() != kind {
            return Err(Error::WrongKind {
                file: self.reader.path.clone(),
                entry: self.name().to_owned(),
                expected: kind.name(),
                found: self.kind().name(),
            });
        }
        Ok(self.row().index.to_native() as usize)
    }

    /// The entry as a model, or [`Error::WrongKind`].
    pub fn model(&self) -> Result<crate::model::ModelEntry<'r>> {
        let row = self.expect_kind(Kind::Model)?;
        Ok(crate::model::ModelEntry::new(self.reader, self.name(), row))
    }

    /// The entry as a frame, or [`Error::WrongKind`].
    pub fn frame(&self) -> Result<FrameView<'r>> {
        let row = self.expect_kind(Kind::Frame)?;
        let m = self.reader.manifest();
        let (first, columns) = m.frame_columns(row);
        Ok(FrameView {
            reader: self.reader,
            name: self.name(),
            rows: m.frames[row].rows.to_native(),
            first,
            columns,
        })
    }

    /// The entry's own metadata.
    pub fn metadata(&self) -> Metadata<'r> {
        Metadata {
            items: self.reader.manifest().entry_metadata(self.index),
        }
    }

    /// The entry as an array, or [`Error::WrongKind`].
    pub fn array(&self) -> Result<ArrayEntry<'r>> {
        let row = self.expect_kind(Kind::Array)?;
        let m = self.reader.manifest();
        let meta = &m.arrays[row];
        let section = meta.section.to_native() as usize;
        Ok(ArrayEntry {
            reader: self.reader,
            name: self.name(),
            dims: bytemuck::cast_slice(m.dims(row)),
            section_index: section,
            section: &m.sections[section],
            // Checked by tier 1.
            dtype: Dtype::from_code(meta.dtype).unwrap_or(Dtype::U8),
        })
    }
}

/// An array entry, before choosing its element type.
#[derive(Clone, Copy)]
pub struct ArrayEntry<'r> {
    reader: &'r Reader,
    name: &'r str,
    dims: &'r [u64],
    section_index: usize,
    section: &'r ArchivedSection,
    dtype: Dtype,
}

impl std::fmt::Debug for ArrayEntry<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArrayEntry")
            .field("name", &self.name)
            .field("dtype", &self.dtype)
            .field("shape", &self.shape())
            .field("codec", &self.codec())
            .finish()
    }
}

impl<'r> ArrayEntry<'r> {
    /// The entry's name.
    pub fn name(&self) -> &'r str {
        self.name
    }

    /// The element type.
    pub fn dtype(&self) -> Dtype {
        self.dtype
    }

    /// The shape, outermost first.
    pub fn shape(&self) -> &'r [u64] {
        self.dims
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        // Fits: tier 1 checked size x shape fits in usize.
        self.shape().iter().product::<u64>() as usize
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `"raw"`, `"zstd"` or `"zstd+shuffle"`.
    pub fn codec(&self) -> &'static str {
        codec_name(self.section.codec, self.section.shuffle)
    }

    /// Whether reading needs decompression.
    pub fn is_compressed(&self) -> bool {
        self.section.is_compressed()
    }

    /// Bytes stored in the file.
    pub fn stored_len(&self) -> u64 {
        self.section.length.to_native()
    }

    /// Bytes once decoded.
    pub fn raw_len(&self) -> u64 {
        self.section.raw_length.to_native()
    }

    /// Offset of the data section in the file.
    pub fn offset(&self) -> u64 {
        self.section.offset.to_native()
    }

    /// Checksum of the stored bytes.
    pub fn checksum(&self) -> u64 {
        self.section.checksum.to_native()
    }

    /// Where and how the entry's data section is stored.
    pub fn section(&self) -> SectionInfo {
        self.reader.section_info(self.section_index)
    }

    /// Number of compressed chunks (0 for raw entries).
    pub fn chunk_count(&self) -> usize {
        self.reader
            .manifest()
            .section_chunks(self.section_index)
            .len()
    }

    /// Tells the OS how the entry's pages will be read (`madvise`); a no-op for compressed
    /// entries and in-memory readers.
    ///
    /// # Errors
    /// [`Error::Io`] if the OS refuses.
    pub fn advise(&self, pattern: AccessPattern) -> Result<()> {
        if self.is_compressed() {
            return Ok(());
        }
        self.reader
            .backing
            .advise(self.offset() as usize, self.stored_len() as usize, pattern)
            .map_err(|source| Error::Io {
                path: self.reader.path.clone(),
                op: "madvise",
                source,
            })
    }

    fn check_dtype<T: Element>(&self) -> Result<()> {
        if T::DTYPE != self.dtype {
            return Err(Error::WrongDtype {
                file: self.reader.path.clone(),
                entry: self.name.to_owned(),
                expected: T::DTYPE,
                found: self.dtype,
            });
        }
        Ok(())
    }

    fn cast<T: Element>(&self, bytes: &'r [u8]) -> Result<&'r [T]> {
        T::cast_slice(bytes).map_err(|e| Error::InvalidData {
            file: self.reader.path.clone(),
            entry: self.name.to_owned(),
            reason: match e {
                CastError::InvalidBool => "a bool element is neither 0 nor 1".into(),
                // Tier 1 checked offsets and lengths; kept as an error rather than a panic.
                CastError::Misaligned | CastError::Length => {
                    format!(
                        "data is not a whole, aligned number of {} elements",
                        T::DTYPE
                    )
                }
            },
        })
    }

    /// Bytes `start..end` of the decoded data: a view of the mapping for raw entries, of the
    /// reader's decompression cache for compressed ones.
    fn bytes(&self, start: usize, end: usize) -> Result<&'r [u8]> {
        self.reader
            .section_range(self.name, self.section_index, start, end)
    }

    /// The whole array, typed. Zero-copy for raw entries.
    ///
    /// # Errors
    /// [`Error::WrongDtype`]; for compressed entries [`Error::CopyRequired`],
    /// [`Error::Decompress`], [`Error::ChecksumMismatch`], [`Error::LimitExceeded`]; for bool
    /// arrays [`Error::InvalidData`] if a byte is not 0 or 1.
    pub fn view<T: Element>(&self) -> Result<ArrayView<'r, T>> {
        self.check_dtype::<T>()?;
        let bytes = self.bytes(0, self.raw_len() as usize)?;
        if T::DTYPE != Dtype::Bool {
            return Ok(ArrayView::new(self.cast(bytes)?, self.shape()));
        }
        // A bool array's bytes are checked once (O(n)); later views cost O(1).
        let cache = self.reader.section_cache(self.section_index);
        cache
            .elements_valid
            .get_or_try_init(|| self.cast::<T>(bytes).map(drop))?;
        // SAFETY: `elements_valid` is set only after `cast` accepted these bytes: the whole
        // decoded data of this section, which never changes (a read-only map under the
        // contract of `io::map`, or a decoded buffer whose chunks are never written again).
        let data = unsafe { T::cast_slice_unchecked(bytes) };
        Ok(ArrayView::new(data, self.shape()))
    }

    /// Elements `range` of the flattened (C order) array. For compressed entries only the
    /// chunks the range touches are decompressed.
    ///
    /// # Errors
    /// As [`ArrayEntry::view`], and [`Error::RangeOutOfBounds`].
    pub fn range<T: Element>(&self, range: Range<usize>) -> Result<&'r [T]> {
        self.check_dtype::<T>()?;
        let len = self.len();
        if range.start > range.end || range.end > len {
            return Err(Error::RangeOutOfBounds {
                file: self.reader.path.clone(),
                entry: self.name.to_owned(),
                start: range.start,
                end: range.end,
                len,
            });
        }
        let size = T::DTYPE.size();
        self.cast(self.bytes(range.start * size, range.end * size)?)
    }

    /// Element `index` of the flattened (C order) array.
    ///
    /// # Errors
    /// As [`ArrayEntry::range`].
    pub fn get<T: Element>(&self, index: usize) -> Result<T> {
        Ok(self.range::<T>(index..index.saturating_add(1))?[0])
    }
}

/// Metadata key/value pairs, sorted by key.
#[derive(Clone, Copy)]
pub struct Metadata<'r> {
    items: &'r [ArchivedMetaItem],
}

impl<'r> Metadata<'r> {
    /// A run of metadata items that tier 1 checked (sorted, keys unique).
    pub(crate) fn new(items: &'r [ArchivedMetaItem]) -> Metadata<'r> {
        Metadata { items }
    }
}

impl std::fmt::Debug for Metadata<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<'r> Metadata<'r> {
    /// The value of `key`, found by binary search.
    pub fn get(&self, key: &str) -> Option<MetaRef<'r>> {
        let i = self
            .items
            .binary_search_by(|m| m.key.as_bytes().cmp(key.as_bytes()))
            .ok()?;
        Some(self.items[i].value.as_ref())
    }

    /// Every pair, sorted by key.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&'r str, MetaRef<'r>)> + 'r {
        self.items
            .iter()
            .map(|m| (m.key.as_str(), m.value.as_ref()))
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}
