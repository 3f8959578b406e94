//! Validation tier 1: everything that can be checked from the header and the manifest alone,
//! without touching a data page (spec/FORMAT.md, "Reader validation", rules M and S and A).

use std::path::Path;

use crate::error::{ArchiveError, Error, Result};
use crate::format::checksum;
use crate::format::dtype::Dtype;
use crate::format::header::{FORMAT_VERSION, HEADER_LEN, Header};
use crate::format::limits::{MAX_CHUNK_LEN, MAX_NDIM, PAGE, SMALL_ALIGNMENT};
use crate::format::manifest::{
    ArchivedArrayMeta, ArchivedEntryKind, ArchivedManifest, ArchivedMetaItem, ArchivedSection,
    CODEC_RAW, CODEC_ZSTD,
};

/// Checks the manifest bytes (length limit, checksum, rkyv validity) and returns the archive.
pub fn access_manifest<'a>(
    file: &Path,
    header: &Header,
    bytes: &'a [u8],
    max_manifest_len: u64,
) -> Result<&'a ArchivedManifest> {
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
    rkyv::api::low::access::<ArchivedManifest, ArchiveError>(bytes).map_err(|e| {
        // A newer minor version may add entry kinds or metadata types, whose enum tags fail
        // validation here: say so, rather than calling the manifest corrupt.
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
    })
}

/// Checks every rule of the manifest that needs no data page.
pub fn validate_manifest(file: &Path, header: &Header, m: &ArchivedManifest) -> Result<()> {
    let field = |location: String, field: &'static str, reason: String| Error::InvalidField {
        file: file.to_path_buf(),
        location,
        field,
        reason,
    };

    check_sorted_keys(file, || "file metadata".into(), &m.metadata)?;

    // M4: entries strictly sorted by name, so lookups can binary-search and names are unique.
    for pair in m.entries.windows(2) {
        if pair[0].name.as_bytes() >= pair[1].name.as_bytes() {
            return Err(if pair[0].name == pair[1].name {
                Error::Duplicate {
                    file: file.to_path_buf(),
                    what: "entry name",
                    name: pair[1].name.to_string(),
                }
            } else {
                field(
                    format!("entry {:?}", pair[1].name.as_str()),
                    "name",
                    format!(
                        "entries are not sorted: it follows {:?}",
                        pair[0].name.as_str()
                    ),
                )
            });
        }
    }

    validate_sections(file, header, &m.sections)?;

    // S4: each section belongs to exactly one entry. One bit per section: bounded by the
    // manifest's size, which is bounded by `max_manifest_len`.
    let mut owned = vec![0u64; m.sections.len().div_ceil(64)];
    for entry in m.entries.iter() {
        let location = || format!("entry {:?}", entry.name.as_str());
        check_sorted_keys(file, location, &entry.metadata)?;
        let sections: &[u32] = match &entry.kind {
            ArchivedEntryKind::Array(a) => {
                validate_array(file, header, entry.name.as_str(), a, &m.sections)?;
                &[a.section.to_native()]
            }
        };
        for &s in sections {
            let (word, bit) = ((s / 64) as usize, s % 64);
            if owned[word] & (1 << bit) != 0 {
                return Err(field(
                    location(),
                    "section",
                    format!("section {s} already belongs to another entry"),
                ));
            }
            owned[word] |= 1 << bit;
        }
    }
    if let Some(orphan) = (0..m.sections.len()).find(|&s| owned[s / 64] & (1 << (s % 64)) == 0) {
        return Err(field(
            format!("section {orphan}"),
            "sections",
            "belongs to no entry".into(),
        ));
    }
    Ok(())
}

fn check_sorted_keys(
    file: &Path,
    location: impl Fn() -> String,
    items: &[ArchivedMetaItem],
) -> Result<()> {
    for pair in items.windows(2) {
        if pair[0].key.as_bytes() >= pair[1].key.as_bytes() {
            return Err(if pair[0].key == pair[1].key {
                Error::Duplicate {
                    file: file.to_path_buf(),
                    what: "metadata key",
                    name: pair[1].key.to_string(),
                }
            } else {
                Error::InvalidField {
                    file: file.to_path_buf(),
                    location: location(),
                    field: "metadata",
                    reason: format!(
                        "keys are not sorted: {:?} follows {:?}",
                        pair[1].key.as_str(),
                        pair[0].key.as_str()
                    ),
                }
            });
        }
    }
    Ok(())
}

/// Rules S1 to S3 and C1 to C3: bounds, alignment, order, and the codec fields of each
/// section on its own.
fn validate_sections(file: &Path, header: &Header, sections: &[ArchivedSection]) -> Result<()> {
    let field = |index: usize, field: &'static str, reason: String| Error::InvalidField {
        file: file.to_path_buf(),
        location: format!("section {index}"),
        field,
        reason,
    };
    let data_end = header.manifest_offset;
    let mut previous_end = HEADER_LEN as u64;
    for (i, s) in sections.iter().enumerate() {
        let (offset, length) = (s.offset.to_native(), s.length.to_native());
        if offset > data_end || length > data_end - offset || offset < HEADER_LEN as u64 {
            return Err(Error::SectionOutOfBounds {
                file: file.to_path_buf(),
                section: i as u32,
                offset,
                len: length,
                limit: data_end,
            });
        }
        if offset < previous_end {
            return Err(Error::SectionsOverlap {
                file: file.to_path_buf(),
                first: i as u32 - 1,
                second: i as u32,
            });
        }
        previous_end = offset + length;
        // The rule follows the decoded length, which a writer knows before it writes the first
        // byte; aligning compressed bytes would gain nothing.
        let align = if s.raw_length >= PAGE {
            u64::from(header.alignment)
        } else {
            u64::from(SMALL_ALIGNMENT)
        };
        if offset % align != 0 {
            return Err(field(
                i,
                "offset",
                format!("{offset} is not a multiple of {align}"),
            ));
        }
        match s.codec {
            CODEC_RAW => {
                if s.raw_length != length
                    || s.chunk_length != 0
                    || s.shuffle != 0
                    || !s.chunks.is_empty()
                {
                    return Err(field(
                        i,
                        "codec",
                        "a raw section has raw_length == length, chunk_length 0, shuffle 0 and no chunks"
                            .into(),
                    ));
                }
            }
            CODEC_ZSTD => validate_chunks(file, i, s)?,
            other => {
                return Err(Error::UnsupportedFeature {
                    file: file.to_path_buf(),
                    what: format!("codec of section {i}"),
                    value: u64::from(other),
                    found: header.version,
                    supported: FORMAT_VERSION,
                });
            }
        }
    }
    Ok(())
}

/// Rules C2 and C3: the chunk index covers the section exactly and the declared sizes are
/// bounded before anything is allocated from them.
fn validate_chunks(file: &Path, i: usize, s: &ArchivedSection) -> Result<()> {
    let field = |field: &'static str, reason: String| Error::InvalidField {
        file: file.to_path_buf(),
        location: format!("section {i}"),
        field,
        reason,
    };
    let chunk_length = s.chunk_length.to_native();
    let raw_length = s.raw_length.to_native();
    if chunk_length == 0 {
        return Err(field("chunk_length", "must not be 0".into()));
    }
    if chunk_length > MAX_CHUNK_LEN {
        return Err(Error::LimitExceeded {
            file: file.to_path_buf(),
            what: format!("chunk_length of section {i}"),
            value: chunk_length,
            limit: MAX_CHUNK_LEN,
            setting: "format limit MAX_CHUNK_LEN",
        });
    }
    let expected = raw_length.div_ceil(chunk_length);
    if s.chunks.len() as u64 != expected {
        return Err(field(
            "chunks",
            format!(
                "{} chunks, but raw_length {raw_length} in chunks of {chunk_length} needs {expected}",
                s.chunks.len()
            ),
        ));
    }
    let mut next = 0u64;
    for (c, chunk) in s.chunks.iter().enumerate() {
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

/// Rules A1 to A4.
fn validate_array(
    file: &Path,
    header: &Header,
    name: &str,
    a: &ArchivedArrayMeta,
    sections: &[ArchivedSection],
) -> Result<()> {
    let field = |field: &'static str, reason: String| Error::InvalidField {
        file: file.to_path_buf(),
        location: format!("entry {name:?}"),
        field,
        reason,
    };
    let dtype = Dtype::from_code(a.dtype).ok_or_else(|| Error::UnsupportedFeature {
        file: file.to_path_buf(),
        what: format!("dtype of entry {name:?}"),
        value: u64::from(a.dtype),
        found: header.version,
        supported: FORMAT_VERSION,
    })?;
    if a.shape.len() > MAX_NDIM {
        return Err(field(
            "shape",
            format!("{} dimensions, more than {MAX_NDIM}", a.shape.len()),
        ));
    }
    let bytes = a
        .shape
        .iter()
        .try_fold(dtype.size() as u64, |acc, d| acc.checked_mul(d.to_native()))
        .ok_or_else(|| {
            field(
                "shape",
                "element count times element size overflows u64".into(),
            )
        })?;
    if usize::try_from(bytes).is_err() {
        return Err(Error::LimitExceeded {
            file: file.to_path_buf(),
            what: format!("size of entry {name:?}"),
            value: bytes,
            limit: usize::MAX as u64,
            setting: "this platform's address space",
        });
    }
    let index = a.section.to_native();
    let section = sections.get(index as usize).ok_or_else(|| {
        field(
            "section",
            format!("{index} is not below the section count {}", sections.len()),
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
    if section.codec == CODEC_ZSTD && section.chunk_length % dtype.size() as u64 != 0 {
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
