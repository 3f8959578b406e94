//! Validation tier 1: everything that can be checked from the header and the manifest alone,
//! without touching a data page (spec/FORMAT.md, "Reader validation", rules M, S, C, A, F and N).

use std::path::Path;

use crate::error::{ArchiveError, Error, Limit, Result};
use crate::raw::checksum;
use crate::raw::header::{FORMAT_VERSION, HEADER_LEN, Header};
use crate::raw::limits::{MAX_CHUNK_LEN, PAGE, SMALL_ALIGNMENT};
use crate::raw::manifest::{
    ArchivedChunk, ArchivedManifest, ArchivedManifest11, ArchivedMetaItem, ArchivedSection,
    CODEC_RAW, CODEC_ZSTD, KIND_ARRAY, KIND_FRAME, KIND_MODEL, ROOT_LEN,
};

/// Checks the manifest bytes (length limit, checksum, rkyv validity) and returns the archive:
/// its 1.0 tables, and the whole 1.1 root when the file has one.
pub fn access_manifest<'a>(
    file: &Path,
    header: &Header,
    bytes: &'a [u8],
    max_manifest_len: u64,
) -> Result<(&'a ArchivedManifest, Option<&'a ArchivedManifest11>)> {
    if header.manifest_len > max_manifest_len {
        return Err(Error::LimitExceeded {
            file: file.to_path_buf(),
            what: "manifest length".into(),
            value: header.manifest_len,
            limit: max_manifest_len,
            setting: Limit::MaxManifestLen,
        });
    }
    let computed = checksum::xxh3(bytes);
    if computed != header.manifest_checksum {
        return Err(Error::ChecksumMismatch {
            file: file.to_path_buf(),
            what: "manifest".into(),
            expected: header.manifest_checksum,
            got: computed,
        });
    }
    // The low-level validator: the manifest has no shared pointers (`Rc`/`Arc`), so it needs
    // no shared-pointer registry.
    // `Header::decode` checked that root_length is the root size of the file's version (or,
    // for a newer minor version, at least this version's) and within the manifest. A newer
    // minor version's root has this version's root as its prefix.
    let root = bytes.len() - header.root_length as usize;
    let corrupt = |e: ArchiveError| {
        // A newer minor version may add metadata value types, which fail validation here:
        // say so, rather than calling the manifest corrupt.
        if header.version > FORMAT_VERSION {
            Error::UnsupportedFeature {
                file: file.to_path_buf(),
                what: format!("manifest content ({e})"),
                value: u64::from(header.version.minor),
                found: header.version,
                supported: FORMAT_VERSION,
            }
        } else {
            Error::InvalidManifest {
                file: file.to_path_buf(),
                detail: e.to_string(),
            }
        }
    };
    if header.root_length == ROOT_LEN {
        let m = rkyv::api::low::access_pos::<ArchivedManifest, ArchiveError>(bytes, root)
            .map_err(corrupt)?;
        Ok((m, None))
    } else {
        let m = rkyv::api::low::access_pos::<ArchivedManifest11, ArchiveError>(bytes, root)
            .map_err(corrupt)?;
        Ok((&m.base, Some(m)))
    }
}

/// The rules of the manifest that need no data page, over one manifest: the container's own
/// here, each kind's in its own module (`array::rules`, `frame::rules`, `model::rules`), run in
/// the order of spec/FORMAT.md §14 by `crate::rules`.
pub(crate) struct Validator<'a> {
    pub file: &'a Path,
    pub header: &'a Header,
    pub m: &'a ArchivedManifest,
    pub ext: Option<&'a ArchivedManifest11>,
}

impl Validator<'_> {
    /// Rules M4 to M6 (entries, metadata) and S, C (sections, chunks).
    pub(crate) fn check_container(&self) -> Result<()> {
        self.check_sorted_keys(|| "file metadata".into(), &self.m.metadata)?;
        self.check_entries()?;
        self.check_sections()
    }

    pub(crate) fn field(&self, location: String, field: &'static str, reason: String) -> Error {
        Error::InvalidField {
            file: self.file.to_path_buf(),
            location,
            field,
            reason,
        }
    }

    /// The last run of a `*_end` column must end where its table ends: nothing unreferenced.
    pub(crate) fn check_last_end(
        &self,
        table: &str,
        field: &'static str,
        end: usize,
        len: usize,
    ) -> Result<()> {
        if end == len {
            return Ok(());
        }
        Err(self.field(
            format!("{table} table"),
            field,
            format!("the last {field} is {end}, but the table it delimits has {len} items"),
        ))
    }

    pub(crate) fn unsupported(&self, what: String, value: u64) -> Error {
        Error::UnsupportedFeature {
            file: self.file.to_path_buf(),
            what,
            value,
            found: self.header.version,
            supported: FORMAT_VERSION,
        }
    }

    /// Rules M4 to M6: names and per-entry metadata runs, sort order, kinds. One pass over
    /// the entry table; names are sliced from running offsets, without re-checking them.
    fn check_entries(&self) -> Result<()> {
        let m = self.m;
        let names = m.names.as_bytes();
        let entry = |i: usize| format!("entry {i}");
        let (mut name_start, mut meta_start) = (0usize, 0usize);
        let mut previous: &[u8] = &[];
        // Rows of each kind's table seen so far, by kind code.
        let mut rows = [0u32; 3];
        for (i, e) in m.entries.iter().enumerate() {
            let name_end = e.name_end.to_native() as usize;
            // Names are slices of one UTF-8 string; each must end on a character (and so start
            // on one: where the previous name ended).
            if name_end < name_start || !m.names.is_char_boundary(name_end) {
                return Err(self.field(
                    entry(i),
                    "name_end",
                    format!(
                        "{name_end} is below the previous end {name_start}, past the names' {} bytes, or splits a UTF-8 character",
                        names.len()
                    ),
                ));
            }
            let name = &names[name_start..name_end];
            let display = || String::from_utf8_lossy(name).into_owned();
            if i > 0 && previous >= name {
                return Err(if previous == name {
                    Error::Duplicate {
                        file: self.file.to_path_buf(),
                        what: "entry name",
                        name: display(),
                    }
                } else {
                    self.field(
                        format!("entry {:?}", display()),
                        "name_end",
                        format!(
                            "entries are not sorted: {:?} follows {:?}",
                            display(),
                            String::from_utf8_lossy(previous)
                        ),
                    )
                });
            }
            let meta_end = e.metadata_end.to_native() as usize;
            let Some(metadata) = m.entry_metadata.get(meta_start..meta_end) else {
                return Err(self.field(
                    format!("entry {:?}", display()),
                    "metadata_end",
                    format!(
                        "{meta_end} is below the previous end {meta_start} or past the {} items",
                        m.entry_metadata.len()
                    ),
                ));
            };
            self.check_sorted_keys(|| format!("entry {:?}", display()), metadata)?;
            if e.reserved != [0; 3] {
                return Err(self.field(
                    format!("entry {:?}", display()),
                    "reserved",
                    "must be zero".into(),
                ));
            }
            let Some(seen) = rows.get_mut(usize::from(e.kind)) else {
                return Err(
                    self.unsupported(format!("kind of entry {:?}", display()), u64::from(e.kind))
                );
            };
            if e.index != *seen {
                return Err(self.field(
                    format!("entry {:?}", display()),
                    "index",
                    format!(
                        "is {}, but this is {} number {seen} in entry order",
                        e.index,
                        kind_name(e.kind)
                    ),
                ));
            }
            *seen += 1;
            previous = name;
            (name_start, meta_start) = (name_end, meta_end);
        }
        self.check_last_end("entry", "name_end", name_start, names.len())?;
        self.check_last_end("entry", "metadata_end", meta_start, m.entry_metadata.len())?;
        let tables = [
            ("arrays", m.arrays.len()),
            ("frames", m.frames.len()),
            ("models", m.models.len()),
        ];
        let kinds = [KIND_ARRAY, KIND_FRAME, KIND_MODEL];
        for (kind, ((table, len), seen)) in kinds.into_iter().zip(tables.into_iter().zip(rows)) {
            if len != seen as usize {
                return Err(self.field(
                    format!("{} table", kind_name(kind)),
                    table,
                    format!("{len} rows, but {seen} entries are {table}"),
                ));
            }
        }
        Ok(())
    }

    pub(crate) fn check_sorted_keys(
        &self,
        location: impl Fn() -> String,
        items: &[ArchivedMetaItem],
    ) -> Result<()> {
        for pair in items.windows(2) {
            if pair[0].key.as_bytes() >= pair[1].key.as_bytes() {
                return Err(if pair[0].key == pair[1].key {
                    Error::Duplicate {
                        file: self.file.to_path_buf(),
                        what: "metadata key",
                        name: pair[1].key.to_string(),
                    }
                } else {
                    self.field(
                        location(),
                        "metadata",
                        format!(
                            "keys are not sorted: {:?} follows {:?}",
                            pair[1].key.as_str(),
                            pair[0].key.as_str()
                        ),
                    )
                });
            }
        }
        Ok(())
    }

    /// Rules S1 to S3 and C1 to C3: bounds, alignment, order, and the codec fields of each
    /// section on its own.
    fn check_sections(&self) -> Result<()> {
        let m = self.m;
        let data_end = self.header.manifest_offset;
        let mut previous_end = HEADER_LEN as u64;
        let mut chunks_start = 0;
        for (i, s) in m.sections.iter().enumerate() {
            let field = |field, reason| self.field(format!("section {i}"), field, reason);
            let (offset, length) = (s.offset.to_native(), s.length.to_native());
            if offset > data_end || length > data_end - offset || offset < HEADER_LEN as u64 {
                return Err(Error::SectionOutOfBounds {
                    file: self.file.to_path_buf(),
                    section: row_u32(i),
                    offset,
                    len: length,
                    limit: data_end,
                });
            }
            if offset < previous_end {
                return Err(Error::SectionsOverlap {
                    file: self.file.to_path_buf(),
                    first: row_u32(i - 1),
                    second: row_u32(i),
                });
            }
            previous_end = offset + length;
            // The rule follows the decoded length, which a writer knows before it writes the
            // first byte; aligning compressed bytes would gain nothing.
            let align = if s.raw_length >= PAGE {
                u64::from(self.header.alignment)
            } else {
                u64::from(SMALL_ALIGNMENT)
            };
            // `align` is a power of two (H8): a mask instead of a division.
            if offset & (align - 1) != 0 {
                return Err(field(
                    "offset",
                    format!("{offset} is not a multiple of {align}"),
                ));
            }
            if s.reserved != [0; 6] {
                return Err(field("reserved", "must be zero".into()));
            }
            let chunks_end = s.chunks_end.to_native() as usize;
            let Some(chunks) = m.chunks.get(chunks_start..chunks_end) else {
                return Err(field(
                    "chunks_end",
                    format!(
                        "{chunks_end} is below the previous end {chunks_start} or past the {} chunks",
                        m.chunks.len()
                    ),
                ));
            };
            chunks_start = chunks_end;
            match s.codec {
                CODEC_RAW => {
                    if s.raw_length != length
                        || s.chunk_length != 0
                        || s.shuffle != 0
                        || !chunks.is_empty()
                    {
                        return Err(field(
                            "codec",
                            "a raw section has raw_length == length, chunk_length 0, shuffle 0 and no chunks"
                                .into(),
                        ));
                    }
                }
                CODEC_ZSTD => self.check_chunks(i, s, chunks)?,
                other => {
                    return Err(self.unsupported(format!("codec of section {i}"), u64::from(other)));
                }
            }
        }
        self.check_last_end("section", "chunks_end", chunks_start, m.chunks.len())
    }

    /// Rules C2 and C3: the chunk index covers the section exactly and the declared sizes are
    /// bounded before anything is allocated from them.
    fn check_chunks(&self, i: usize, s: &ArchivedSection, chunks: &[ArchivedChunk]) -> Result<()> {
        let field = |field, reason| self.field(format!("section {i}"), field, reason);
        let chunk_length = u64::from(s.chunk_length.to_native());
        let raw_length = s.raw_length.to_native();
        if chunk_length == 0 {
            return Err(field("chunk_length", "must not be 0".into()));
        }
        if chunk_length > MAX_CHUNK_LEN {
            return Err(Error::LimitExceeded {
                file: self.file.to_path_buf(),
                what: format!("chunk_length of section {i}"),
                value: chunk_length,
                limit: MAX_CHUNK_LEN,
                setting: Limit::MaxChunkLen,
            });
        }
        let expected = raw_length.div_ceil(chunk_length);
        if chunks.len() as u64 != expected {
            return Err(field(
                "chunks_end",
                format!(
                    "{} chunks, but raw_length {raw_length} in chunks of {chunk_length} needs {expected}",
                    chunks.len()
                ),
            ));
        }
        let mut next = 0u64;
        for (c, chunk) in chunks.iter().enumerate() {
            if chunk.offset != next {
                return Err(field(
                    "chunks",
                    format!(
                        "chunk {c} starts at {} but the previous one ends at {next}",
                        chunk.offset
                    ),
                ));
            }
            next = next
                .checked_add(chunk.length.to_native())
                .ok_or_else(|| field("chunks", format!("chunk {c} length overflows")))?;
        }
        if next != s.length {
            return Err(field(
                "chunks",
                format!("chunks end at {next} but the section is {} long", s.length),
            ));
        }
        Ok(())
    }

    /// The name of the entry of row `row` of a kind's table (for messages: a linear search).
    pub(crate) fn entry_name(&self, kind: u8, row: usize) -> String {
        let m = self.m;
        m.entries
            .iter()
            .position(|e| e.kind == kind && u32::try_from(row).is_ok_and(|row| e.index == row))
            .map_or_else(
                || format!("of {} row {row}", kind_name(kind)),
                |i| m.name(i).to_owned(),
            )
    }

    /// Rules F7 and N3: a buffer's section is in range, of the expected decoded length, shuffled (if at
    /// all) by the element size, and chunked on element boundaries.
    pub(crate) fn check_buffer(
        &self,
        location: &dyn Fn() -> String,
        slot: &'static str,
        index: u32,
        raw_len: Option<u64>,
        size: usize,
    ) -> Result<()> {
        let field = |reason| self.field(location(), slot, reason);
        let s = self.m.sections.get(index as usize).ok_or_else(|| {
            field(format!(
                "section {index} is not below the section count {}",
                self.m.sections.len()
            ))
        })?;
        let len = s.raw_length.to_native();
        if let Some(expected) = raw_len.filter(|&e| e != len) {
            return Err(field(format!(
                "section {index} decodes to {len} bytes, but the row count needs {expected}"
            )));
        }
        if usize::try_from(len).is_err() {
            return Err(Error::LimitExceeded {
                file: self.file.to_path_buf(),
                what: format!("{slot} of {}", location()),
                value: len,
                limit: usize::MAX as u64,
                setting: Limit::AddressSpace,
            });
        }
        let shuffle = usize::from(s.shuffle);
        if shuffle != 0 && size < 2 {
            return Err(field(format!(
                "section {index} has shuffle {shuffle}, but a buffer of bytes is never shuffled (shuffle must be 0)"
            )));
        }
        if shuffle != 0 && shuffle != size {
            return Err(field(format!(
                "section {index} shuffles by {shuffle} bytes, but the buffer's elements are {size} bytes"
            )));
        }
        if s.codec == CODEC_ZSTD && s.chunk_length.to_native() as usize % size != 0 {
            return Err(field(format!(
                "section {index} chunk_length {} is not a multiple of the element size {size}",
                s.chunk_length
            )));
        }
        Ok(())
    }
}

/// `"array"`, `"frame"` or `"model"`, for messages.
fn kind_name(kind: u8) -> &'static str {
    match kind {
        KIND_ARRAY => "array",
        KIND_FRAME => "frame",
        _ => "model",
    }
}

/// A row index of a manifest table as the format numbers it. Tables hold fewer than 2^32 rows
/// (the manifest is bounded by `max_manifest_len`, far below 4 GiB), so it never saturates.
fn row_u32(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}
