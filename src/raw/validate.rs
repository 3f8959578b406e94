//! Validation tier 1: everything that can be checked from the header and the manifest alone,
//! without touching a data page (spec/FORMAT.md, "Reader validation", rules M, S, C, A, F and N).

use std::path::Path;

use crate::error::{ArchiveError, Error, Result};
use crate::raw::checksum;
use crate::raw::dtype::Dtype;
use crate::raw::header::{FORMAT_VERSION, HEADER_LEN, Header};
use crate::raw::limits::{MAX_CHUNK_LEN, MAX_NDIM, PAGE, SMALL_ALIGNMENT};
use crate::raw::manifest::{
    ArchivedArrayMeta, ArchivedChunk, ArchivedColumnMeta, ArchivedManifest, ArchivedManifest11,
    ArchivedMetaItem, ArchivedSection, CODEC_RAW, CODEC_ZSTD, COLUMN_BINARY, COLUMN_BOOL,
    COLUMN_CATEGORICAL, COLUMN_DATE, COLUMN_DURATION, COLUMN_FLAG_ORDERED, COLUMN_PRIMITIVE,
    COLUMN_TIMESTAMP, COLUMN_UTF8, KIND_ARRAY, KIND_FRAME, KIND_MODEL, NO_SECTION, ROOT_LEN,
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
            setting: "OpenOptions::max_manifest_len",
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

/// Checks every rule of the manifest that needs no data page. `known_zone` tells the time
/// zone names the reader knows (the frame kind's tz database: the format knows no zones).
pub fn validate_manifest(
    file: &Path,
    header: &Header,
    m: &ArchivedManifest,
    ext: Option<&ArchivedManifest11>,
    known_zone: fn(&str) -> bool,
) -> Result<()> {
    let v = Validator {
        file,
        header,
        m,
        ext,
        known_zone,
    };
    v.check_sorted_keys(|| "file metadata".into(), &m.metadata)?;
    v.check_entries()?;
    v.check_sections()?;
    v.check_arrays()?;
    v.check_frames()?;
    v.check_models()?;
    v.check_ownership()
}

struct Validator<'a> {
    file: &'a Path,
    header: &'a Header,
    m: &'a ArchivedManifest,
    ext: Option<&'a ArchivedManifest11>,
    known_zone: fn(&str) -> bool,
}

impl Validator<'_> {
    fn field(&self, location: String, field: &'static str, reason: String) -> Error {
        Error::InvalidField {
            file: self.file.to_path_buf(),
            location,
            field,
            reason,
        }
    }

    /// The last run of a `*_end` column must end where its table ends: nothing unreferenced.
    fn check_last_end(
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

    fn unsupported(&self, what: String, value: u64) -> Error {
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
        for (kind, ((table, len), seen)) in tables.into_iter().zip(rows).enumerate() {
            if len != seen as usize {
                return Err(self.field(
                    format!("{} table", kind_name(kind as u8)),
                    table,
                    format!("{len} rows, but {seen} entries are {table}"),
                ));
            }
        }
        Ok(())
    }

    fn check_sorted_keys(
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
                    section: i as u32,
                    offset,
                    len: length,
                    limit: data_end,
                });
            }
            if offset < previous_end {
                return Err(Error::SectionsOverlap {
                    file: self.file.to_path_buf(),
                    first: i as u32 - 1,
                    second: i as u32,
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
                setting: "format limit MAX_CHUNK_LEN",
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

    /// Rules A1 to A5, for every row of the array table.
    fn check_arrays(&self) -> Result<()> {
        let m = self.m;
        let mut dims_start = 0;
        for (row, a) in m.arrays.iter().enumerate() {
            let dims_end = a.dims_end.to_native() as usize;
            let Some(dims) = m.dims.get(dims_start..dims_end) else {
                return Err(self.field(
                    format!("entry {:?}", self.array_name(row)),
                    "dims_end",
                    format!(
                        "{dims_end} is below the previous end {dims_start} or past the {} dimensions",
                        m.dims.len()
                    ),
                ));
            };
            self.check_array(row, a, dims)?;
            dims_start = dims_end;
        }
        self.check_last_end("array", "dims_end", dims_start, m.dims.len())
    }

    /// The name of the entry of array row `row` (for messages: a linear search).
    fn array_name(&self, row: usize) -> String {
        self.entry_name(KIND_ARRAY, row)
    }

    /// The name of the entry of row `row` of a kind's table (for messages: a linear search).
    fn entry_name(&self, kind: u8, row: usize) -> String {
        let m = self.m;
        m.entries
            .iter()
            .position(|e| e.kind == kind && e.index == row as u32)
            .map_or_else(
                || format!("of {} row {row}", kind_name(kind)),
                |i| m.name(i).to_owned(),
            )
    }

    fn check_array(
        &self,
        row: usize,
        a: &ArchivedArrayMeta,
        dims: &[rkyv::rend::u64_le],
    ) -> Result<()> {
        let m = self.m;
        let field =
            |field, reason| self.field(format!("entry {:?}", self.array_name(row)), field, reason);
        let dtype = Dtype::from_code(a.dtype).ok_or_else(|| {
            self.unsupported(
                format!("dtype of entry {:?}", self.array_name(row)),
                u64::from(a.dtype),
            )
        })?;
        if a.reserved != [0; 3] {
            return Err(field("reserved", "must be zero".into()));
        }
        if dims.len() > MAX_NDIM {
            return Err(field(
                "dims_end",
                format!("{} dimensions, more than {MAX_NDIM}", dims.len()),
            ));
        }
        let bytes = dims
            .iter()
            .try_fold(dtype.size() as u64, |acc, d| acc.checked_mul(d.to_native()))
            .ok_or_else(|| {
                field(
                    "dims",
                    "element count times element size overflows u64".into(),
                )
            })?;
        if usize::try_from(bytes).is_err() {
            return Err(Error::LimitExceeded {
                file: self.file.to_path_buf(),
                what: format!("size of entry {:?}", self.array_name(row)),
                value: bytes,
                limit: usize::MAX as u64,
                setting: "this platform's address space",
            });
        }
        let index = a.section.to_native();
        let section = m.sections.get(index as usize).ok_or_else(|| {
            field(
                "section",
                format!(
                    "{index} is not below the section count {}",
                    m.sections.len()
                ),
            )
        })?;
        if section.raw_length != bytes {
            return Err(field(
                "section",
                format!(
                    "section {index} decodes to {} bytes, but {dtype} x shape needs {bytes}",
                    section.raw_length
                ),
            ));
        }
        let shuffle = u64::from(section.shuffle);
        if shuffle != 0 && (shuffle != dtype.size() as u64 || shuffle < 2) {
            return Err(field(
                "section",
                format!(
                    "section {index} shuffles by {shuffle} bytes, but {dtype} elements are {} bytes",
                    dtype.size()
                ),
            ));
        }
        if section.codec == CODEC_ZSTD && section.chunk_length % dtype.size() as u32 != 0 {
            return Err(field(
                "section",
                format!(
                    "section {index} chunk_length {} is not a multiple of the {dtype} element size",
                    section.chunk_length
                ),
            ));
        }
        Ok(())
    }

    /// Rule S4: each section has exactly one owner: an array, a column's buffer slot or a model. One bit per section: bounded by the
    /// manifest's size, which is bounded by `max_manifest_len`. Section indices were checked
    /// to be in range by the kinds' checks.
    fn check_ownership(&self) -> Result<()> {
        let m = self.m;
        let mut owned = vec![0u64; m.sections.len().div_ceil(64)];
        for_each_owned_section(m, |kind, row, s, buffer| {
            let (word, bit) = ((s / 64) as usize, s % 64);
            if owned[word] & (1 << bit) != 0 {
                return Err(self.field(
                    format!(
                        "entry {:?}{}",
                        self.entry_name(kind, row),
                        buffer_part(m, buffer)
                    ),
                    buffer.map_or("section", |(_, slot)| slot),
                    format!("section {s} already belongs to another entry or buffer"),
                ));
            }
            owned[word] |= 1 << bit;
            Ok(())
        })?;
        if let Some(orphan) = (0..m.sections.len()).find(|&s| owned[s / 64] & (1 << (s % 64)) == 0)
        {
            return Err(self.field(
                format!("section {orphan}"),
                "sections",
                "belongs to no entry".into(),
            ));
        }
        Ok(())
    }

    /// Rules F1 to F8, for every frame and column.
    fn check_frames(&self) -> Result<()> {
        let m = self.m;
        let mut columns_start = 0usize;
        let mut text_start = 0usize;
        let mut names: Vec<&str> = Vec::new();
        let mut metadata_start = 0usize;
        if let Some(ext) = self.ext
            && ext.column_extras.len() != m.columns.len()
        {
            return Err(self.field(
                "column table".into(),
                "column_extras",
                format!(
                    "{} rows, but the column table has {}",
                    ext.column_extras.len(),
                    m.columns.len()
                ),
            ));
        }
        for (row, f) in m.frames.iter().enumerate() {
            let entry = || self.entry_name(KIND_FRAME, row);
            if f.reserved != [0; 4] {
                return Err(self.field(
                    format!("entry {:?}", entry()),
                    "reserved",
                    "must be zero".into(),
                ));
            }
            let columns_end = f.columns_end.to_native() as usize;
            if columns_end < columns_start || columns_end > m.columns.len() {
                return Err(self.field(
                    format!("entry {:?}", entry()),
                    "columns_end",
                    format!(
                        "{columns_end} is below the previous end {columns_start} or past the {} columns",
                        m.columns.len()
                    ),
                ));
            }
            let rows = f.rows.to_native();
            if usize::try_from(rows).is_err() {
                return Err(Error::LimitExceeded {
                    file: self.file.to_path_buf(),
                    what: format!("row count of entry {:?}", entry()),
                    value: rows,
                    limit: usize::MAX as u64,
                    setting: "this platform's address space",
                });
            }
            names.clear();
            for i in columns_start..columns_end {
                let c = &m.columns[i];
                let (name_end, zone_end) = (
                    c.name_end.to_native() as usize,
                    c.zone_end.to_native() as usize,
                );
                let bad_name = name_end < text_start || !m.column_text.is_char_boundary(name_end);
                if bad_name || zone_end < name_end || !m.column_text.is_char_boundary(zone_end) {
                    let (field, value, start) = if bad_name {
                        ("name_end", name_end, text_start)
                    } else {
                        ("zone_end", zone_end, name_end)
                    };
                    return Err(self.field(
                        format!("entry {:?}, column {}", entry(), i - columns_start),
                        field,
                        format!(
                            "{value} is below the previous end {start}, past the {} bytes of column_text, or splits a UTF-8 character",
                            m.column_text.len()
                        ),
                    ));
                }
                let name = &m.column_text[text_start..name_end];
                let zone = &m.column_text[name_end..zone_end];
                text_start = zone_end;
                names.push(name);
                self.check_column(&entry(), name, zone, rows, c)?;
                if let Some(ext) = self.ext {
                    metadata_start =
                        self.check_column_extra(ext, i, metadata_start, &entry(), name, c)?;
                }
            }
            names.sort_unstable();
            if let Some(pair) = names.windows(2).find(|p| p[0] == p[1]) {
                return Err(Error::Duplicate {
                    file: self.file.to_path_buf(),
                    what: "column name",
                    name: format!("{} (frame {:?})", pair[0], entry()),
                });
            }
            columns_start = columns_end;
        }
        self.check_last_end("frame", "columns_end", columns_start, m.columns.len())?;
        self.check_last_end("column", "zone_end", text_start, m.column_text.len())?;
        let metadata_len = self.ext.map_or(0, |e| e.column_metadata.len());
        self.check_last_end("column", "metadata_end", metadata_start, metadata_len)
    }

    /// Rules F9 and F10 for column `i` (format 1.1): its metadata run and its flags. Returns
    /// the end of its metadata run.
    fn check_column_extra(
        &self,
        ext: &ArchivedManifest11,
        i: usize,
        metadata_start: usize,
        entry: &str,
        name: &str,
        c: &ArchivedColumnMeta,
    ) -> Result<usize> {
        let location = || format!("entry {entry:?}, column {name:?}");
        let extra = &ext.column_extras[i];
        let end = extra.metadata_end.to_native() as usize;
        let Some(metadata) = ext.column_metadata.get(metadata_start..end) else {
            return Err(self.field(
                location(),
                "metadata_end",
                format!(
                    "{end} is below the previous end {metadata_start} or past the {} items",
                    ext.column_metadata.len()
                ),
            ));
        };
        self.check_sorted_keys(location, metadata)?;
        let flags = extra.flags.to_native();
        if flags & !COLUMN_FLAG_ORDERED != 0 {
            return Err(self.unsupported(
                format!("flags of {}", location()),
                u64::from(flags & !COLUMN_FLAG_ORDERED),
            ));
        }
        if flags & COLUMN_FLAG_ORDERED != 0 && c.kind != COLUMN_CATEGORICAL {
            return Err(self.field(
                location(),
                "flags",
                "only categorical columns can be ordered".into(),
            ));
        }
        Ok(end)
    }

    /// Rules F3 to F7 for one column.
    fn check_column(
        &self,
        entry: &str,
        name: &str,
        zone: &str,
        rows: u64,
        c: &ArchivedColumnMeta,
    ) -> Result<()> {
        let location = || format!("entry {entry:?}, column {name:?}");
        let field = |field, reason| self.field(location(), field, reason);
        let dtype = Dtype::from_code(c.dtype).ok_or_else(|| {
            self.unsupported(format!("dtype of {}", location()), u64::from(c.dtype))
        })?;
        let expected_dtype = match c.kind {
            COLUMN_BOOL => Some(Dtype::Bool),
            COLUMN_PRIMITIVE => {
                if matches!(dtype, Dtype::Bool | Dtype::BF16) {
                    return Err(field(
                        "dtype",
                        format!("{dtype} is not a dtype of primitive columns"),
                    ));
                }
                None
            }
            COLUMN_UTF8 | COLUMN_BINARY => Some(Dtype::U8),
            COLUMN_TIMESTAMP | COLUMN_DURATION => Some(Dtype::I64),
            COLUMN_DATE | COLUMN_CATEGORICAL => Some(Dtype::I32),
            other => {
                return Err(self.unsupported(format!("kind of {}", location()), u64::from(other)));
            }
        };
        if let Some(expected) = expected_dtype.filter(|&d| d != dtype) {
            return Err(field(
                "dtype",
                format!("is {dtype}, but this kind of column holds {expected}"),
            ));
        }
        let temporal = matches!(c.kind, COLUMN_TIMESTAMP | COLUMN_DURATION);
        if temporal && c.unit > 3 {
            return Err(self.unsupported(format!("time unit of {}", location()), u64::from(c.unit)));
        }
        if !temporal && c.unit != 0 {
            return Err(field(
                "unit",
                "must be 0 for columns without a time unit".into(),
            ));
        }
        if !zone.is_empty() {
            if c.kind != COLUMN_TIMESTAMP {
                return Err(field("zone_end", "only timestamps have a time zone".into()));
            }
            if !(self.known_zone)(zone) {
                return Err(field(
                    "zone_end",
                    format!("time zone {zone:?} is unknown to this reader's tz database"),
                ));
            }
        }
        if c.reserved != 0 || c.reserved2 != [0; 4] {
            return Err(field("reserved", "must be zero".into()));
        }
        let null_count = c.null_count.to_native();
        if null_count > rows {
            return Err(field(
                "null_count",
                format!("{null_count} nulls in {rows} rows"),
            ));
        }
        let stats_allowed = !matches!(c.kind, COLUMN_UTF8 | COLUMN_BINARY | COLUMN_CATEGORICAL);
        if c.stats > 1 || (c.stats == 1 && !stats_allowed) {
            return Err(field(
                "stats",
                "must be 0, or 1 for bool, numeric and temporal columns".into(),
            ));
        }
        let overflow = || field("rows", format!("{rows} rows overflow the buffer sizes"));
        let bits = rows.div_ceil(8);
        let offsets_len = rows
            .checked_add(1)
            .and_then(|n| n.checked_mul(8))
            .ok_or_else(overflow)?;
        let values_len = match c.kind {
            COLUMN_BOOL => Some(bits),
            COLUMN_UTF8 | COLUMN_BINARY => None,
            _ => Some(rows.checked_mul(dtype.size() as u64).ok_or_else(overflow)?),
        };
        let has_offsets = matches!(c.kind, COLUMN_UTF8 | COLUMN_BINARY);
        let has_dictionary = c.kind == COLUMN_CATEGORICAL;
        let value_size = match c.kind {
            COLUMN_BOOL | COLUMN_UTF8 | COLUMN_BINARY => 1,
            _ => dtype.size(),
        };
        if c.validity == NO_SECTION && null_count != 0 {
            return Err(field(
                "validity",
                format!("{null_count} nulls but no validity bitmap"),
            ));
        }
        let slots = [
            (
                "validity",
                c.validity.to_native(),
                Some(true),
                Some(bits),
                1,
            ),
            (
                "values",
                c.values.to_native(),
                Some(true),
                values_len,
                value_size,
            ),
            (
                "offsets",
                c.offsets.to_native(),
                Some(has_offsets),
                Some(offsets_len),
                8,
            ),
            (
                "dictionary_offsets",
                c.dictionary_offsets.to_native(),
                Some(has_dictionary),
                None,
                8,
            ),
            (
                "dictionary_values",
                c.dictionary_values.to_native(),
                Some(has_dictionary),
                None,
                1,
            ),
        ];
        for (slot, index, allowed, raw_len, size) in slots {
            // The validity slot is optional; the others are required exactly when allowed.
            let required = slot != "validity" && allowed == Some(true);
            if index == NO_SECTION {
                if required {
                    return Err(field(slot, "this kind of column needs this buffer".into()));
                }
                continue;
            }
            if allowed == Some(false) {
                return Err(field(slot, "this kind of column has no such buffer".into()));
            }
            self.check_buffer(&location, slot, index, raw_len, size)?;
        }
        if has_dictionary {
            let s = &self.m.sections[c.dictionary_offsets.to_native() as usize];
            let len = s.raw_length.to_native();
            if len < 8 || len % 8 != 0 || len / 8 - 1 > i32::MAX as u64 + 1 {
                return Err(field(
                    "dictionary_offsets",
                    format!(
                        "{len} bytes is not 8 x (dictionary size + 1) for a dictionary of at most 2^31 strings"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Rules F7 and N3: a buffer's section is in range, of the expected decoded length, shuffled (if at
    /// all) by the element size, and chunked on element boundaries.
    fn check_buffer(
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
                setting: "this platform's address space",
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

    /// Rules N1 to N3, for every model.
    fn check_models(&self) -> Result<()> {
        let m = self.m;
        let mut text_start = 0usize;
        for (row, model) in m.models.iter().enumerate() {
            let location = || format!("entry {:?}", self.entry_name(KIND_MODEL, row));
            let field = |field, reason| self.field(location(), field, reason);
            let (name_end, schema_end) = (
                model.type_name_end.to_native() as usize,
                model.schema_end.to_native() as usize,
            );
            if name_end < text_start
                || schema_end < name_end
                || !m.model_text.is_char_boundary(name_end)
                || !m.model_text.is_char_boundary(schema_end)
            {
                return Err(field(
                    "type_name_end",
                    format!(
                        "type_name_end {name_end} and schema_end {schema_end} must not decrease, must stay within the {} bytes of model_text and must not split a UTF-8 character",
                        m.model_text.len()
                    ),
                ));
            }
            text_start = schema_end;
            let flags = model.flags.to_native();
            if flags & !1 != 0 {
                return Err(self.unsupported(format!("flags of {}", location()), u64::from(flags)));
            }
            if flags == 0 && model.version != 0 {
                return Err(field(
                    "version",
                    "must be 0 when flag bit 0 (has version) is clear".into(),
                ));
            }
            self.check_buffer(&location, "section", model.section.to_native(), None, 1)?;
        }
        self.check_last_end("model", "schema_end", text_start, m.model_text.len())
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

/// Calls `f(kind, row, section, buffer)` for every section an entry's row references: the
/// section of each array and model, and every buffer of every column (`buffer` is then the
/// column's index in the column table and the buffer's slot). Rows whose references are out of
/// range were refused by the kinds' checks.
pub(crate) fn for_each_owned_section<E>(
    m: &ArchivedManifest,
    mut f: impl FnMut(u8, usize, u32, Option<(usize, &'static str)>) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    for (row, a) in m.arrays.iter().enumerate() {
        f(KIND_ARRAY, row, a.section.to_native(), None)?;
    }
    for row in 0..m.frames.len() {
        let (first, columns) = m.frame_columns(row);
        for (i, c) in columns.iter().enumerate() {
            let slots = [
                ("validity", c.validity),
                ("values", c.values),
                ("offsets", c.offsets),
                ("dictionary_offsets", c.dictionary_offsets),
                ("dictionary_values", c.dictionary_values),
            ];
            for (slot, s) in slots {
                if s != NO_SECTION {
                    f(KIND_FRAME, row, s.to_native(), Some((first + i, slot)))?;
                }
            }
        }
    }
    for (row, model) in m.models.iter().enumerate() {
        f(KIND_MODEL, row, model.section.to_native(), None)?;
    }
    Ok(())
}

/// `, column "name" slot` for a column's buffer, empty otherwise: the part of an entry a
/// section holds, for messages.
pub(crate) fn buffer_part(m: &ArchivedManifest, buffer: Option<(usize, &'static str)>) -> String {
    match buffer {
        Some((column, slot)) => format!(", column {:?} {slot}", m.column_text(column).0),
        None => String::new(),
    }
}
