//! The front door for reading: open a file, validate it, look entries up, view them.

use std::fs::File;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use once_cell::sync::OnceCell;

use crate::buffer::AlignedBuf;
use crate::error::{Error, Result};
use crate::io::map::Backing;
use crate::io::source::RangeSource;
use crate::raw::Version;
use crate::raw::limits::{
    DEFAULT_MAX_DECOMPRESSED, DEFAULT_MAX_MANIFEST_LEN, DEFAULT_MAX_MODEL_DEPTH,
};
use crate::raw::manifest::{
    ArchivedEntry, ArchivedManifest, ArchivedManifest11, ArchivedMetaItem, KIND_FRAME, KIND_MODEL,
    MetaRef,
};
pub use crate::store::{SectionCheck, SectionInfo};
use crate::store::{Store, StoreLimits};

/// Options for opening a file. Start from [`Reader::options`].
#[derive(Clone, Debug)]
pub struct OpenOptions {
    verify: bool,
    require_zero_copy: bool,
    max_manifest_len: u64,
    max_decompressed_bytes: u64,
    max_fetched_bytes: u64,
    suffix_len: u64,
    pub(crate) max_model_depth: usize,
}

/// Bytes at the end of a remote file fetched with its header at open: a manifest this long or
/// shorter costs no second round trip (a frame of a hundred columns, or a few hundred arrays,
/// has a manifest of a few KiB to some tens of KiB).
pub const DEFAULT_SUFFIX_LEN: u64 = 64 * 1024;

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            verify: false,
            require_zero_copy: false,
            max_manifest_len: DEFAULT_MAX_MANIFEST_LEN,
            max_decompressed_bytes: DEFAULT_MAX_DECOMPRESSED,
            max_fetched_bytes: DEFAULT_MAX_DECOMPRESSED,
            suffix_len: DEFAULT_SUFFIX_LEN,
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

    /// Largest total of stored bytes a reader opened with [`OpenOptions::open_source`] may
    /// hold in memory for raw sections it fetched (default 8 GiB); zstd chunks count against
    /// [`OpenOptions::max_decompressed_bytes`] instead, once decoded. A read that would pass it
    /// fails with [`Error::LimitExceeded`]. Ignored for local files, which are mapped.
    pub fn max_fetched_bytes(mut self, bytes: u64) -> Self {
        self.max_fetched_bytes = bytes;
        self
    }

    /// Bytes at the end of a remote file that [`OpenOptions::open_source`] fetches together
    /// with the header (default [`DEFAULT_SUFFIX_LEN`], 64 KiB). If the manifest fits in them,
    /// opening costs one round trip; otherwise a second one fetches the manifest exactly.
    pub fn suffix_len(mut self, bytes: u64) -> Self {
        self.suffix_len = bytes;
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

    /// Opens a file behind a remote byte source (object storage, HTTP: the
    /// `brine-object-store` crate implements [`RangeSource`] for every `object_store`
    /// backend). `name` is used in error messages (a URL, typically).
    ///
    /// Nothing is mapped and **reads copy**: opening fetches the header together with the
    /// last [`OpenOptions::suffix_len`] bytes in one batch (one round trip), plus one exact
    /// read of the manifest if it is longer, and runs the same tier-1 validation as
    /// [`OpenOptions::open`]. After that, the first read of a raw section fetches its stored
    /// bytes into an aligned buffer the reader keeps (once they match the section's checksum),
    /// and a read of a compressed section fetches only the zstd chunks it touches, decoded into
    /// the reader's decoded buffers; views borrow from those buffers. [`FrameView::fetch`](crate::FrameView::fetch)
    /// gets several columns in one batch. A failed or short fetch is
    /// an [`Error::Remote`] and keeps nothing, so a later read retries.
    ///
    /// # Errors
    /// [`Error::Remote`] if the source fails; any tier-1 validation error (and of
    /// [`Reader::verify`] when `verify` is set, which streams the whole file).
    pub fn open_source(
        self,
        name: impl Into<PathBuf>,
        source: Arc<dyn RangeSource>,
    ) -> Result<Reader> {
        let store = Store::open_remote(
            name.into(),
            source,
            self.suffix_len,
            self.limits(),
            crate::rules::check_manifest,
            crate::rules::section_owner,
        )?;
        Reader::from_store(store, self)
    }

    fn limits(&self) -> StoreLimits {
        StoreLimits {
            require_zero_copy: self.require_zero_copy,
            max_decompressed_bytes: self.max_decompressed_bytes,
            max_manifest_len: self.max_manifest_len,
            max_fetched_bytes: self.max_fetched_bytes,
        }
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
    store: Store,
    options: OpenOptions,
    /// Set per column of the column table once its content passed tier 2.
    columns_checked: OnceCell<Box<[OnceCell<()>]>>,
    /// Per model: the type its archive was validated as.
    models_validated: OnceCell<Box<[OnceCell<std::any::TypeId>]>>,
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

    /// Opens a file behind a remote byte source with default options; see
    /// [`OpenOptions::open_source`]: reads fetch sections into memory and copy.
    ///
    /// # Errors
    /// As [`OpenOptions::open_source`].
    pub fn open_source(name: impl Into<PathBuf>, source: Arc<dyn RangeSource>) -> Result<Reader> {
        OpenOptions::default().open_source(name, source)
    }

    /// Whether the reader reads from a remote source ([`Reader::open_source`]): its views are
    /// of buffers it fetched, not of a mapping.
    pub fn is_remote(&self) -> bool {
        self.store.is_remote()
    }

    /// Opens a file held in memory with default options (no mapping; useful for data from the
    /// network and for filesystems where mapping is unwise). `name` is used in messages.
    ///
    /// # Errors
    /// As [`Reader::open`], without the I/O errors.
    pub fn from_buffer(name: impl Into<PathBuf>, buffer: AlignedBuf) -> Result<Reader> {
        OpenOptions::default().open_buffer(name, buffer)
    }

    /// Opens the store, with the rules of every kind as its validator, then runs tier 3 when
    /// asked.
    fn from_backing(
        path: PathBuf,
        backing: Backing,
        file: Option<&File>,
        options: OpenOptions,
    ) -> Result<Reader> {
        let store = Store::open(
            path,
            backing,
            file,
            options.limits(),
            crate::rules::check_manifest,
            crate::rules::section_owner,
        )?;
        Reader::from_store(store, options)
    }

    /// The reader of an open store; runs tier 3 when asked.
    fn from_store(store: Store, options: OpenOptions) -> Result<Reader> {
        let reader = Reader {
            store,
            options,
            columns_checked: OnceCell::new(),
            models_validated: OnceCell::new(),
        };
        if reader.options.verify {
            reader.verify()?;
        }
        Ok(reader)
    }

    /// The store: the file's bytes and sections.
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// The manifest archive.
    pub(crate) fn manifest(&self) -> &ArchivedManifest {
        self.store.manifest()
    }

    /// The tables that format 1.1 appends to the root, when the file has them.
    pub(crate) fn manifest_ext(&self) -> Option<&ArchivedManifest11> {
        self.store.manifest_ext()
    }

    /// The addresses of the file's bytes in memory (the mapping, or the buffer): a view whose
    /// pointer lies inside was not copied. For tests and zero-copy assertions.
    pub fn mapped_range(&self) -> Range<usize> {
        self.store.mapped_range()
    }

    /// The options the reader was opened with.
    pub(crate) fn open_options(&self) -> &OpenOptions {
        &self.options
    }

    /// The path (or the name given to [`OpenOptions::open_buffer`]).
    pub fn path(&self) -> &Path {
        self.store.path()
    }

    /// The format version the file was written with.
    pub fn version(&self) -> Version {
        self.store.header().version
    }

    /// The alignment unit of large sections.
    pub fn alignment(&self) -> u32 {
        self.store.header().alignment
    }

    /// Total length of the file.
    pub fn file_len(&self) -> u64 {
        self.store.header().file_len
    }

    /// Length of the manifest.
    pub fn manifest_len(&self) -> u64 {
        self.store.header().manifest_len
    }

    /// The manifest's xxh3, checked at open. The manifest holds every section's checksum, so
    /// two readers with the same manifest checksum read the same contents: a tool that reopens
    /// a file compares it to notice that the file was replaced in between.
    pub fn manifest_checksum(&self) -> u64 {
        self.store.header().manifest_checksum
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
            file: self.store.path().to_path_buf(),
            entry: name.to_owned(),
        })
    }

    /// Checks everything tier 1 does not: every section's checksum, every compressed chunk
    /// (decompressed and checked against its checksum, in parallel, without keeping it), that
    /// every byte between sections is zero, and every frame column's statistics against its
    /// values (rule D11, spec/FORMAT.md §14.8). O(file).
    ///
    /// The statistics check reads the values (and validity) of bool, numeric and temporal
    /// columns as a first access does: a compressed one is decoded into the reader's cache,
    /// within [`OpenOptions::max_decompressed_bytes`].
    ///
    /// # Errors
    /// [`Error::ChecksumMismatch`], [`Error::Decompress`], [`Error::InvalidField`] for non-zero
    /// padding, [`Error::InvalidColumn`] (field `min`, `max` or `stats`) for statistics that
    /// are not the range of the data.
    pub fn verify(&self) -> Result<()> {
        self.store.verify()?;
        for entry in self.entries() {
            if entry.kind() == Kind::Frame {
                for column in entry.frame()?.iter() {
                    column.check_stats()?;
                }
            }
        }
        Ok(())
    }

    /// A running check of rule V2 (the checksum of a section's stored bytes) for a reader of
    /// the section's data that wants [`Reader::verify`]'s guarantee for what it reads without
    /// a second pass over the file: feed it the stored bytes' progress with
    /// [`SectionCheck::advance_to`] as they are read, then [`SectionCheck::finish`]. It hashes
    /// the stored bytes from the mapping (for a raw section, the bytes the caller just read;
    /// for a compressed one, its compressed bytes, which decoding reads too).
    pub fn section_check(&self, section: &SectionInfo) -> SectionCheck<'_> {
        self.store.check(section.index)
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
}

/// One entry of an open file.
#[derive(Clone, Copy)]
pub struct EntryRef<'r> {
    pub(crate) reader: &'r Reader,
    pub(crate) index: usize,
}

impl std::fmt::Debug for EntryRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntryRef")
            .field("name", &self.name())
            .field("kind", &self.kind())
            .finish()
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

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
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
                file: self.reader.path().to_path_buf(),
                entry: self.name().to_owned(),
                expected: kind,
                found: self.kind(),
            });
        }
        Ok(self.row().index.to_native() as usize)
    }

    /// The entry's own metadata.
    pub fn metadata(&self) -> Metadata<'r> {
        Metadata {
            items: self.reader.manifest().entry_metadata(self.index),
        }
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
