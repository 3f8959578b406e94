//! Reading arrays: the untyped entry, and its typed zero-copy views.

use std::ops::Range;

use crate::array::{ArrayView, CastError, Dtype, Element};
use crate::error::{Error, Result};
use crate::io::map::AccessPattern;
use crate::options::Codec;
use crate::raw::manifest::ArchivedSection;
use crate::reader::{EntryRef, Kind, Reader, SectionInfo};

impl Reader {
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
}

impl<'r> EntryRef<'r> {
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
        self.reader.store().raw_len(self.section_index) / self.dtype.size()
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How the array's section is stored.
    pub fn codec(&self) -> Codec {
        Codec::of_section(self.section)
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
        self.reader.store().info(self.section_index)
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
        self.reader.store().advise(self.section_index, pattern)
    }

    fn check_dtype<T: Element>(&self) -> Result<()> {
        if T::DTYPE != self.dtype {
            return Err(Error::WrongDtype {
                file: self.reader.path().to_path_buf(),
                entry: self.name.to_owned(),
                expected: T::DTYPE,
                found: self.dtype,
            });
        }
        Ok(())
    }

    fn cast<T: Element>(&self, bytes: &'r [u8]) -> Result<&'r [T]> {
        T::cast_slice(bytes).map_err(|e| Error::InvalidData {
            file: self.reader.path().to_path_buf(),
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
        self.reader.store().range(self.section_index, start, end)
    }

    /// The whole array, typed. Zero-copy for raw entries.
    ///
    /// # Errors
    /// [`Error::WrongDtype`]; for compressed entries [`Error::CopyRequired`],
    /// [`Error::Decompress`], [`Error::ChecksumMismatch`], [`Error::LimitExceeded`]; for bool
    /// arrays [`Error::InvalidData`] if a byte is not 0 or 1.
    pub fn view<T: Element>(&self) -> Result<ArrayView<'r, T>> {
        self.check_dtype::<T>()?;
        let bytes = self.reader.store().bytes(self.section_index)?;
        if T::DTYPE != Dtype::Bool {
            return Ok(ArrayView::new(self.cast(bytes)?, self.shape()));
        }
        // A bool array's bytes are checked once (O(n)); later views cost O(1).
        let cache = self.reader.store().cache(self.section_index);
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
                file: self.reader.path().to_path_buf(),
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
