//! What writing and reading share about how a section is stored: the [`Codec`] (one type for
//! what is written and what is read back) and the encoding settings every entry's options carry.

use std::fmt;
use std::str::FromStr;

use crate::raw::manifest::ArchivedSection;

/// How a section's bytes are stored: what a writer asks for and what a reader reports.
///
/// The zstd level is a setting of the writer only (it is not stored), so it lives in the
/// options ([`EntryOptions::zstd_level`](crate::EntryOptions::zstd_level) and its peers), not
/// here. `Display` and `FromStr` use `raw`, `zstd` and `zstd+shuffle`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Codec {
    /// Raw bytes, read zero-copy from the mapping (hot data).
    #[default]
    Raw,
    /// Independent zstd frames of about 1 MiB of raw data each (cold data), decompressed lazily
    /// and at random by readers.
    Zstd {
        /// Byte-shuffle elements before compressing: groups the bytes of equal significance
        /// together, which compresses numeric data much better. Ignored for 1-byte elements
        /// (a reader reports such a section as unshuffled).
        shuffle: bool,
    },
}

impl Codec {
    /// zstd, without shuffle.
    pub const fn zstd() -> Codec {
        Codec::Zstd { shuffle: false }
    }

    /// zstd, with byte-shuffle.
    pub const fn zstd_shuffled() -> Codec {
        Codec::Zstd { shuffle: true }
    }

    /// Whether reading the section decompresses it (a raw section is a view of the mapping).
    pub const fn is_compressed(self) -> bool {
        matches!(self, Codec::Zstd { .. })
    }

    /// `"raw"`, `"zstd"` or `"zstd+shuffle"`.
    pub const fn name(self) -> &'static str {
        match self {
            Codec::Raw => "raw",
            Codec::Zstd { shuffle: false } => "zstd",
            Codec::Zstd { shuffle: true } => "zstd+shuffle",
        }
    }

    /// The codec of a section of a validated manifest (tier 1, rule C1, refused every code
    /// but raw and zstd, so a compressed section is zstd).
    pub(crate) fn of_section(s: &ArchivedSection) -> Codec {
        if s.is_compressed() {
            Codec::Zstd {
                shuffle: s.shuffle != 0,
            }
        } else {
            Codec::Raw
        }
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// The error of parsing a [`Codec`] from text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseCodecError(String);

impl fmt::Display for ParseCodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown codec {:?} (expected raw, zstd or zstd+shuffle)",
            self.0
        )
    }
}

impl std::error::Error for ParseCodecError {}

impl FromStr for Codec {
    type Err = ParseCodecError;

    fn from_str(s: &str) -> Result<Codec, ParseCodecError> {
        match s {
            "raw" => Ok(Codec::Raw),
            "zstd" => Ok(Codec::zstd()),
            "zstd+shuffle" => Ok(Codec::zstd_shuffled()),
            _ => Err(ParseCodecError(s.to_owned())),
        }
    }
}

/// zstd's own default level.
pub const DEFAULT_ZSTD_LEVEL: i32 = 3;

/// How an entry's sections are encoded: the part of the options that arrays, frames and models
/// share, set through each one's `codec`, `zstd_level` and `chunk_len`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Encoding {
    pub(crate) codec: Codec,
    pub(crate) level: i32,
    pub(crate) chunk_len: Option<usize>,
}

impl Default for Encoding {
    fn default() -> Self {
        Encoding {
            codec: Codec::Raw,
            level: DEFAULT_ZSTD_LEVEL,
            chunk_len: None,
        }
    }
}

impl Encoding {
    /// The same settings with another codec (a frame column's own).
    pub(crate) fn with_codec(self, codec: Codec) -> Encoding {
        Encoding { codec, ..self }
    }
}

/// The builder methods every entry's options share: an `encoding: Encoding` field and a
/// `metadata: BTreeMap<String, MetaValue>` field give `codec`, `zstd_level`, `chunk_len` and
/// `metadata`, documented once here.
macro_rules! shared_entry_options {
    () => {
        /// How the entry's sections are stored ([`Codec::Raw`](crate::Codec::Raw) by default):
        /// hot data raw, cold data zstd.
        pub fn codec(mut self, codec: $crate::Codec) -> Self {
            self.encoding.codec = codec;
            self
        }

        /// The zstd level of compressed sections (default 3, zstd's own; zstd clamps it to
        /// its range, negative levels being its fast modes). Not stored in the file.
        pub fn zstd_level(mut self, level: i32) -> Self {
            self.encoding.level = level;
            self
        }

        /// Raw bytes per compressed chunk, the unit a reader decompresses (default 1 MiB;
        /// rounded down to whole elements; at most 64 MiB).
        pub fn chunk_len(mut self, bytes: usize) -> Self {
            self.encoding.chunk_len = Some(bytes);
            self
        }

        /// Adds a metadata pair to the entry (a later value for the same key replaces an
        /// earlier).
        pub fn metadata(
            mut self,
            key: impl Into<String>,
            value: impl Into<$crate::MetaValue>,
        ) -> Self {
            self.metadata.insert(key.into(), value.into());
            self
        }
    };
}
pub(crate) use shared_entry_options;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_from_str() {
        for c in [Codec::Raw, Codec::zstd(), Codec::zstd_shuffled()] {
            assert_eq!(c.to_string().parse::<Codec>(), Ok(c));
        }
        let e = "lz4".parse::<Codec>().unwrap_err();
        assert!(e.to_string().contains("\"lz4\""), "{e}");
    }
}
