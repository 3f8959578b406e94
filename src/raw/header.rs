//! The fixed 128-byte header at offset 0 (spec/FORMAT.md, "Header").
//!
//! Hand-specified little-endian fields, not rkyv, so that a reader in any language can identify
//! the file, refuse a newer major version and find the manifest with one read.

use std::fmt;
use std::path::Path;

use crate::error::{Error, Result};
use crate::raw::checksum;
use crate::raw::limits::{MAX_ALIGNMENT, MIN_ALIGNMENT, SMALL_ALIGNMENT};
use crate::raw::manifest::{ROOT_LEN, ROOT_LEN_1_1};

/// Size of the header in bytes.
pub const HEADER_LEN: usize = 128;

/// The magic bytes at offset 0. The non-ASCII first byte and the trailing CR LF detect
/// transfers that mangle binary data, as PNG's signature does.
pub const MAGIC: [u8; 8] = *b"\x89BRINE\r\n";

/// Offset of the header checksum; the checksum covers bytes `0..HEADER_CHECKSUM_OFFSET`.
const HEADER_CHECKSUM_OFFSET: usize = 120;

/// The format version this build writes and reads.
pub const FORMAT_VERSION: Version = Version { major: 1, minor: 1 };

/// Bits of `required_flags` this build understands. Version 1.0 defines none.
pub const KNOWN_REQUIRED_FLAGS: u32 = 0;

/// rkyv layout code: little-endian.
pub const RKYV_LITTLE_ENDIAN: u8 = 0;
/// rkyv layout code: aligned primitives.
pub const RKYV_ALIGNED: u8 = 1;
/// rkyv layout code: 32-bit relative pointers.
pub const RKYV_POINTER_WIDTH: u8 = 4;

/// A format version, `major.minor`. Separate from the crate's version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// Incompatible layout changes.
    pub major: u16,
    /// Additions a reader of the same major version can detect.
    pub minor: u16,
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// The decoded header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Format version the file was written with.
    pub version: Version,
    /// Features a reader must understand to read the file.
    pub required_flags: u32,
    /// Features a reader may ignore.
    pub optional_flags: u32,
    /// Alignment unit for sections of at least a page, in bytes.
    pub alignment: u32,
    /// Size of the manifest's root object, which ends the manifest. A later minor version may
    /// append tables to the root; a reader finds the root at `manifest_length - root_length`
    /// and reads the prefix it knows.
    pub root_length: u32,
    /// Offset of the manifest archive.
    pub manifest_offset: u64,
    /// Exact length of the manifest archive.
    pub manifest_len: u64,
    /// xxh3-64 of the manifest archive.
    pub manifest_checksum: u64,
    /// Total length of the file.
    pub file_len: u64,
}

fn u16_at(b: &[u8; HEADER_LEN], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8; HEADER_LEN], at: usize) -> u32 {
    let mut x = [0; 4];
    x.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(x)
}

fn u64_at(b: &[u8; HEADER_LEN], at: usize) -> u64 {
    let mut x = [0; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(x)
}

impl Header {
    /// Encodes the header, computing its checksum. Reserved bytes are zero.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0..8].copy_from_slice(&MAGIC);
        b[8..10].copy_from_slice(&self.version.major.to_le_bytes());
        b[10..12].copy_from_slice(&self.version.minor.to_le_bytes());
        b[12..16].copy_from_slice(&self.required_flags.to_le_bytes());
        b[16..20].copy_from_slice(&self.optional_flags.to_le_bytes());
        b[20] = RKYV_LITTLE_ENDIAN;
        b[21] = RKYV_ALIGNED;
        b[22] = RKYV_POINTER_WIDTH;
        b[24..28].copy_from_slice(&self.alignment.to_le_bytes());
        b[28..32].copy_from_slice(&self.root_length.to_le_bytes());
        b[32..40].copy_from_slice(&self.manifest_offset.to_le_bytes());
        b[40..48].copy_from_slice(&self.manifest_len.to_le_bytes());
        b[48..56].copy_from_slice(&self.manifest_checksum.to_le_bytes());
        b[56..64].copy_from_slice(&self.file_len.to_le_bytes());
        let sum = checksum::xxh3(&b[..HEADER_CHECKSUM_OFFSET]);
        b[HEADER_CHECKSUM_OFFSET..].copy_from_slice(&sum.to_le_bytes());
        b
    }

    /// Decodes and validates the header of a file of `actual_len` bytes whose first bytes are
    /// `bytes` (validation rules H1 to H11 of spec/FORMAT.md).
    pub fn decode(file: &Path, bytes: &[u8], actual_len: u64) -> Result<Header> {
        if bytes.len() < MAGIC.len() || bytes[..MAGIC.len()] != MAGIC {
            if MAGIC.starts_with(bytes) {
                return Err(Error::Truncated {
                    file: file.to_path_buf(),
                    what: "header",
                    needed: HEADER_LEN as u64,
                    len: actual_len,
                });
            }
            return Err(Error::NotBrine {
                file: file.to_path_buf(),
                found: bytes[..bytes.len().min(MAGIC.len())].to_vec(),
            });
        }
        let Some(b) = bytes.first_chunk::<HEADER_LEN>() else {
            return Err(Error::Truncated {
                file: file.to_path_buf(),
                what: "header",
                needed: HEADER_LEN as u64,
                len: actual_len,
            });
        };
        let version = Version {
            major: u16_at(b, 8),
            minor: u16_at(b, 10),
        };
        // The version is checked before the checksum so that a file from a future major
        // version whose header layout differs still gets the version message.
        if version.major != FORMAT_VERSION.major {
            return Err(Error::UnsupportedVersion {
                file: file.to_path_buf(),
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        let stored = u64_at(b, HEADER_CHECKSUM_OFFSET);
        let computed = checksum::xxh3(&b[..HEADER_CHECKSUM_OFFSET]);
        if stored != computed {
            return Err(Error::ChecksumMismatch {
                file: file.to_path_buf(),
                what: "header".into(),
                expected: stored,
                got: computed,
            });
        }
        let invalid = |field, value: u64, reason| Error::InvalidHeader {
            file: file.to_path_buf(),
            field,
            value,
            reason,
        };
        let required_flags = u32_at(b, 12);
        if required_flags & !KNOWN_REQUIRED_FLAGS != 0 {
            return Err(Error::UnsupportedFeature {
                file: file.to_path_buf(),
                what: "required flags".into(),
                value: u64::from(required_flags & !KNOWN_REQUIRED_FLAGS),
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        let layout = [
            ("rkyv endianness", b[20], RKYV_LITTLE_ENDIAN),
            ("rkyv alignment", b[21], RKYV_ALIGNED),
            ("rkyv pointer width", b[22], RKYV_POINTER_WIDTH),
        ];
        for (what, found, expected) in layout {
            if found != expected {
                return Err(Error::UnsupportedFeature {
                    file: file.to_path_buf(),
                    what: what.into(),
                    value: u64::from(found),
                    found: version,
                    supported: FORMAT_VERSION,
                });
            }
        }
        if b[23] != 0 || b[64..HEADER_CHECKSUM_OFFSET].iter().any(|&x| x != 0) {
            return Err(invalid("reserved", 0, "reserved header bytes must be zero"));
        }
        let alignment = u32_at(b, 24);
        if !alignment.is_power_of_two() || !(MIN_ALIGNMENT..=MAX_ALIGNMENT).contains(&alignment) {
            return Err(invalid(
                "alignment",
                u64::from(alignment),
                "must be a power of two from 64 to 2097152",
            ));
        }
        let header = Header {
            version,
            required_flags,
            optional_flags: u32_at(b, 16),
            alignment,
            root_length: u32_at(b, 28),
            manifest_offset: u64_at(b, 32),
            manifest_len: u64_at(b, 40),
            manifest_checksum: u64_at(b, 48),
            file_len: u64_at(b, 56),
        };
        if header.file_len > actual_len {
            return Err(Error::Truncated {
                file: file.to_path_buf(),
                what: "file (the header's file_length)",
                needed: header.file_len,
                len: actual_len,
            });
        }
        if header.file_len != actual_len {
            return Err(invalid(
                "file_length",
                header.file_len,
                "the file is longer than the header says (bytes were appended)",
            ));
        }
        if header.manifest_offset < HEADER_LEN as u64
            || header.manifest_offset % u64::from(SMALL_ALIGNMENT) != 0
        {
            return Err(invalid(
                "manifest_offset",
                header.manifest_offset,
                "must be at least 128 and a multiple of 64",
            ));
        }
        if header.manifest_offset.checked_add(header.manifest_len) != Some(header.file_len) {
            return Err(invalid(
                "manifest_length",
                header.manifest_len,
                "the manifest must end exactly at the end of the file",
            ));
        }
        // The root of a version this build knows has exactly its size; a newer minor version
        // may have appended tables to the root of this build's version.
        let root = u64::from(header.root_length);
        let size_ok = match root_len(header.version.minor) {
            Some(len) => header.root_length == len,
            None => header.root_length >= ROOT_LEN_1_1,
        };
        if !size_ok || root % 4 != 0 || root > header.manifest_len {
            return Err(invalid(
                "root_length",
                root,
                "must be the size of the manifest root of the file's version (104 for 1.0, 120 for 1.1 and later), a multiple of 4, within the manifest",
            ));
        }
        Ok(header)
    }
}

/// The size of the manifest root of minor version `minor` of this major version, for the
/// versions this build knows; `None` for newer ones (their root is at least this build's).
pub fn root_len(minor: u16) -> Option<u32> {
    match minor {
        0 => Some(ROOT_LEN),
        1 => Some(ROOT_LEN_1_1),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_round_trip() {
        let h = Header {
            version: FORMAT_VERSION,
            required_flags: 0,
            optional_flags: 0,
            alignment: 4096,
            root_length: ROOT_LEN_1_1,
            manifest_offset: 4096,
            manifest_len: 1000,
            manifest_checksum: 7,
            file_len: 5096,
        };
        let b = h.encode();
        assert_eq!(Header::decode(Path::new("x"), &b, 5096).unwrap(), h);
    }

    #[test]
    fn the_root_length_follows_the_minor_version() {
        let decode = |minor, root_length| {
            let h = Header {
                version: Version { major: 1, minor },
                required_flags: 0,
                optional_flags: 0,
                alignment: 4096,
                root_length,
                manifest_offset: 4096,
                manifest_len: 1000,
                manifest_checksum: 7,
                file_len: 5096,
            };
            Header::decode(Path::new("x"), &h.encode(), 5096)
        };
        assert!(decode(0, ROOT_LEN).is_ok());
        assert!(decode(1, ROOT_LEN_1_1).is_ok());
        assert!(decode(2, ROOT_LEN_1_1).is_ok());
        assert!(decode(2, ROOT_LEN_1_1 + 8).is_ok());
        for (minor, root) in [(0, ROOT_LEN_1_1), (1, ROOT_LEN), (2, ROOT_LEN), (1, 124)] {
            let e = decode(minor, root).unwrap_err();
            assert!(
                matches!(
                    e,
                    Error::InvalidHeader {
                        field: "root_length",
                        ..
                    }
                ),
                "{minor} {root}: {e}"
            );
        }
    }
}
