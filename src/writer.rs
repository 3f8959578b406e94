//! The front door for writing: entries are streamed to a temporary file as they are added;
//! `finish` writes the manifest and header and atomically replaces the target.

use std::collections::BTreeMap;
use std::path::Path;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::io::atomic::AtomicFile;
use crate::options::{Codec, Encoding, shared_entry_options};
use crate::raw::align_up;
use crate::raw::build::ManifestBuilder;
use crate::raw::checksum::{self, Hasher};
use crate::raw::codec;
use crate::raw::header::{FORMAT_VERSION, HEADER_LEN, Header, Version};
use crate::raw::limits::{
    DEFAULT_ALIGNMENT, DEFAULT_CHUNK_LEN, DEFAULT_MAX_MANIFEST_LEN, MAX_ALIGNMENT, MIN_ALIGNMENT,
    PAGE, SMALL_ALIGNMENT,
};
use crate::raw::manifest::{
    CODEC_RAW, CODEC_ZSTD, Chunk, MetaValue, ROOT_LEN, ROOT_LEN_1_1, Section,
};

/// Raw writes at least this large are checksummed on another thread while they are written.
const PARALLEL_HASH_MIN: usize = 1024 * 1024;

/// Bytes copied at a time from a spooled buffer into the file.
const COPY_BUFFER_LEN: usize = 4 * 1024 * 1024;

/// Per-entry options of an array.
#[derive(Clone, Debug, Default)]
pub struct EntryOptions {
    pub(crate) encoding: Encoding,
    pub(crate) metadata: BTreeMap<String, MetaValue>,
}

impl EntryOptions {
    /// Default options: raw, no metadata.
    pub fn new() -> Self {
        Self::default()
    }

    shared_entry_options!();
}

/// Options for creating a file. Start from [`Writer::options`].
#[derive(Clone, Debug)]
pub struct WriteOptions {
    alignment: u32,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            alignment: DEFAULT_ALIGNMENT,
        }
    }
}

impl WriteOptions {
    /// Alignment unit of sections of at least 4096 bytes: a power of two from 64 to 2 MiB
    /// (default 4096). 2 MiB lets the OS map large arrays with huge pages.
    pub fn alignment(mut self, bytes: u32) -> Self {
        self.alignment = bytes;
        self
    }

    /// Starts writing a file that will replace `path` on [`Writer::finish`].
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad alignment; [`Error::Io`] if the temporary file cannot
    /// be created beside `path`.
    pub fn create(self, path: impl AsRef<Path>) -> Result<Writer> {
        let path = path.as_ref();
        if !self.alignment.is_power_of_two()
            || !(MIN_ALIGNMENT..=MAX_ALIGNMENT).contains(&self.alignment)
        {
            return Err(Error::InvalidInput {
                file: path.to_path_buf(),
                entry: String::new(),
                reason: format!(
                    "alignment {} is not a power of two from 64 to 2097152",
                    self.alignment
                ),
            });
        }
        let mut file = AtomicFile::create(path)?;
        // The header is written last, once the manifest's place is known.
        file.pad_to(HEADER_LEN as u64)?;
        Ok(Writer {
            file,
            alignment: self.alignment,
            manifest: ManifestBuilder::default(),
            poisoned: false,
        })
    }
}

/// Writes a brine file.
///
/// Entries are streamed to a temporary file beside the target as they are added; memory holds
/// only the manifest and, for compressed entries, a few chunks. [`Writer::finish`] makes the
/// file visible atomically; a `Writer` dropped without `finish` leaves no file behind and the
/// previous file at the path, if any, untouched.
///
/// The target is checked when the writer is created (a folder, or a missing or read-only
/// folder, is an error then, before anything is written). A file it replaces keeps its
/// permission bits, owner and group, as far as the process may set them; a target that is a
/// symbolic link is written through to the file it points to (see [`crate::AtomicFile`]).
#[derive(Debug)]
pub struct Writer {
    file: AtomicFile,
    alignment: u32,
    /// The manifest's rows, collected as entries are written.
    pub(crate) manifest: ManifestBuilder,
    /// Set when an entry writer was dropped half-way: the file is then not finished.
    pub(crate) poisoned: bool,
}

impl Writer {
    /// Options for creating a file.
    pub fn options() -> WriteOptions {
        WriteOptions::default()
    }

    /// Starts writing a file that will replace `path` on [`Writer::finish`], with default
    /// options.
    ///
    /// # Errors
    /// [`Error::Io`] if the temporary file cannot be created beside `path`.
    pub fn create(path: impl AsRef<Path>) -> Result<Writer> {
        WriteOptions::default().create(path)
    }

    /// The path the file will have.
    pub fn path(&self) -> &Path {
        self.file.target()
    }

    pub(crate) fn invalid(&self, entry: &str, reason: impl Into<String>) -> Error {
        Error::InvalidInput {
            file: self.path().to_path_buf(),
            entry: entry.to_owned(),
            reason: reason.into(),
        }
    }

    /// Sets a file-level metadata value (a later value for the same key replaces an earlier).
    pub fn set_metadata(&mut self, key: impl Into<String>, value: impl Into<MetaValue>) {
        self.manifest.set_metadata(key.into(), value.into());
    }

    pub(crate) fn check_name(&self, name: &str) -> Result<()> {
        if self.poisoned {
            return Err(self.invalid(name, "an earlier entry was not finished"));
        }
        if self.manifest.contains(name) {
            return Err(Error::Duplicate {
                file: self.path().to_path_buf(),
                what: "entry name",
                name: name.to_owned(),
            });
        }
        Ok(())
    }

    /// Starts a section of `raw_len` decoded bytes, made of elements of `size` bytes (the unit
    /// of shuffling and of chunk boundaries).
    pub(crate) fn begin_section(
        &mut self,
        raw_len: u64,
        size: usize,
        encoding: &Encoding,
    ) -> Result<SectionWriter> {
        let align = if raw_len >= PAGE {
            u64::from(self.alignment)
        } else {
            u64::from(SMALL_ALIGNMENT)
        };
        let offset = align_up(self.file.position(), align)
            .ok_or_else(|| self.invalid("", "file offset overflows"))?;
        self.file.pad_to(offset)?;
        if encoding.codec == Codec::Raw && raw_len >= PARALLEL_HASH_MIN as u64 {
            self.file.preallocate(offset, raw_len);
        }
        let compression = match encoding.codec {
            Codec::Raw => None,
            Codec::Zstd { shuffle } => {
                let chunk_len = encoding
                    .chunk_len
                    .unwrap_or(native(DEFAULT_CHUNK_LEN))
                    .clamp(size, native(crate::raw::limits::MAX_CHUNK_LEN));
                Some(Compression {
                    level: encoding.level,
                    shuffle: if shuffle && size > 1 { size } else { 0 },
                    chunk_len: chunk_len - chunk_len % size,
                    pending: Vec::new(),
                    chunks: Vec::new(),
                })
            }
        };
        Ok(SectionWriter {
            offset,
            raw_len,
            raw_written: 0,
            stored: 0,
            hasher: Hasher::new(),
            compression,
        })
    }

    /// Appends decoded bytes to a section.
    pub(crate) fn write_section(&mut self, s: &mut SectionWriter, mut data: &[u8]) -> Result<()> {
        if s.raw_written + data.len() as u64 > s.raw_len {
            return Err(self.invalid(
                "",
                format!("more data than the shape holds ({} bytes)", s.raw_len),
            ));
        }
        s.raw_written += data.len() as u64;
        let Some(c) = &mut s.compression else {
            s.stored += data.len() as u64;
            // Checksum and write at once, on two threads, for large writes: hashing after
            // writing made writing 64 MiB 12% slower than a plain `write` (measured).
            if data.len() < PARALLEL_HASH_MIN {
                s.hasher.update(data);
                return self.file.write_all(data);
            }
            let (hasher, file) = (&mut s.hasher, &mut self.file);
            let (written, ()) = rayon::join(|| file.write_all(data), || hasher.update(data));
            return written;
        };
        // Top up a partial chunk first, then compress whole chunks straight from `data`
        // in parallel batches, and keep the tail for later.
        let (chunk_len, level, shuffle) = (c.chunk_len, c.level, c.shuffle);
        if !c.pending.is_empty() {
            let take = (chunk_len - c.pending.len()).min(data.len());
            c.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
            if c.pending.len() == chunk_len {
                self.flush_pending(s)?;
            }
        }
        let batch = rayon::current_num_threads().max(1) * 2;
        // One frame buffer per chunk of a batch, reused from batch to batch.
        let mut frames: Vec<(Vec<u8>, u64)> = Vec::new();
        while data.len() >= chunk_len {
            let n = (data.len() / chunk_len).min(batch);
            let (now, rest) = data.split_at(n * chunk_len);
            frames.resize_with(n, Default::default);
            now.par_chunks(chunk_len)
                .zip(frames.par_iter_mut())
                .try_for_each(|(raw, (frame, raw_checksum))| {
                    *raw_checksum = checksum::xxh3(raw);
                    codec::compress_chunk_into(raw, level, shuffle, frame)
                })
                .map_err(|e| self.compress_error(e))?;
            Self::emit(&mut self.file, s, &frames[..n])?;
            data = rest;
        }
        if let Some(c) = &mut s.compression {
            c.pending.extend_from_slice(data);
        }
        Ok(())
    }

    /// Compresses and writes the pending partial chunk of a compressed section, if any.
    fn flush_pending(&mut self, s: &mut SectionWriter) -> Result<()> {
        let Some(c) = &mut s.compression else {
            return Ok(());
        };
        if c.pending.is_empty() {
            return Ok(());
        }
        let frame = codec::compress_chunk(&c.pending, c.level, c.shuffle)
            .map_err(|e| self.compress_error(e))?;
        let raw_checksum = checksum::xxh3(&c.pending);
        c.pending.clear();
        Self::emit(&mut self.file, s, &[(frame, raw_checksum)])
    }

    fn compress_error(&self, e: std::io::Error) -> Error {
        Error::Io {
            path: self.path().to_path_buf(),
            op: "zstd compress",
            source: e,
        }
    }

    fn emit(file: &mut AtomicFile, s: &mut SectionWriter, frames: &[(Vec<u8>, u64)]) -> Result<()> {
        for (frame, raw_checksum) in frames {
            file.write_all(frame)?;
            s.hasher.update(frame);
            if let Some(c) = &mut s.compression {
                c.chunks.push(Chunk {
                    offset: s.stored,
                    length: frame.len() as u64,
                    checksum: *raw_checksum,
                });
            }
            s.stored += frame.len() as u64;
        }
        Ok(())
    }

    /// Completes a section; returns its index in the section table.
    pub(crate) fn end_section(&mut self, mut s: SectionWriter, entry: &str) -> Result<u32> {
        if s.raw_written != s.raw_len {
            return Err(self.invalid(
                entry,
                format!(
                    "{} bytes written, the shape needs {}",
                    s.raw_written, s.raw_len
                ),
            ));
        }
        self.flush_pending(&mut s)?;
        // chunk_len <= MAX_CHUNK_LEN (64 MiB) fits in u32: clamped in `begin_section`.
        let (codec, shuffle, chunk_length, chunks) = match s.compression {
            None => (CODEC_RAW, 0, 0, Vec::new()),
            Some(c) => (
                CODEC_ZSTD,
                u8::try_from(c.shuffle).expect("shuffle is an element size, at most 8"),
                u32::try_from(c.chunk_len).expect("chunk_len is clamped to MAX_CHUNK_LEN"),
                c.chunks,
            ),
        };
        let index = u32::try_from(self.manifest.section_count())
            .map_err(|_| self.invalid(entry, "more than 2^32 sections"))?;
        let section = Section {
            offset: s.offset,
            length: s.stored,
            checksum: s.hasher.digest(),
            raw_length: s.raw_len,
            chunks_end: 0, // set when the tables are laid out
            chunk_length,
            codec,
            shuffle,
            reserved: [0; 6],
        };
        self.manifest.add_section(section, chunks);
        Ok(index)
    }

    /// Writes one whole buffer as a section; returns its index.
    pub(crate) fn write_buffer(
        &mut self,
        entry: &str,
        bytes: &[u8],
        size: usize,
        encoding: &Encoding,
    ) -> Result<u32> {
        let mut s = self.begin_section(bytes.len() as u64, size, encoding)?;
        self.write_section(&mut s, bytes)?;
        self.end_section(s, entry)
    }

    /// Writes `len` bytes read from `source` as a section; returns its index.
    pub(crate) fn copy_buffer(
        &mut self,
        entry: &str,
        source: &mut dyn std::io::Read,
        len: u64,
        size: usize,
        encoding: &Encoding,
    ) -> Result<u32> {
        let mut s = self.begin_section(len, size, encoding)?;
        // Small buffers are the common case (one per column of a batch): a buffer as long as
        // the data, not a zeroed 4 MiB one each time.
        let mut buf =
            vec![0u8; usize::try_from(len).map_or(COPY_BUFFER_LEN, |l| l.min(COPY_BUFFER_LEN))];
        let mut left = len;
        while left > 0 {
            let n = usize::try_from(left).map_or(buf.len(), |l| l.min(buf.len()));
            source
                .read_exact(&mut buf[..n])
                .map_err(|source| Error::Io {
                    path: self.path().to_path_buf(),
                    op: "read spooled column",
                    source,
                })?;
            self.write_section(&mut s, &buf[..n])?;
            left -= n as u64;
        }
        self.end_section(s, entry)
    }

    /// Checks an entry name before writing an entry of any kind and marks the writer busy
    /// until [`Writer::add_entry`].
    pub(crate) fn start_entry(&mut self, name: &str) -> Result<()> {
        self.check_name(name)?;
        self.poisoned = true;
        Ok(())
    }

    /// Records a completed entry with one of the manifest builder's per-kind methods, and
    /// marks the writer ready for the next.
    pub(crate) fn add_entry(&mut self, add: impl FnOnce(&mut ManifestBuilder)) {
        add(&mut self.manifest);
        self.poisoned = false;
    }

    /// Writes the manifest and header, flushes everything to disk and renames the file over the
    /// target. Readers that have the old file open keep reading the old contents.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if an entry writer was dropped unfinished; [`Error::Io`].
    pub fn finish(mut self) -> Result<()> {
        if self.poisoned {
            return Err(self.invalid("", "an entry writer was dropped before finish"));
        }
        // rkyv's serializer panics when relative pointers pass 2 GiB, and readers refuse
        // manifests over their limit: refuse before laying the tables out (their offsets are
        // u32), from a generous upper bound of the archive's size, and after, from its exact
        // size.
        let path = self.path().to_path_buf();
        let too_big = |len: u64| Error::InvalidInput {
            file: path.clone(),
            entry: String::new(),
            reason: format!(
                "the manifest would be about {len} bytes, over the {DEFAULT_MAX_MANIFEST_LEN}-byte limit readers apply by default (large values belong in entries, not metadata)"
            ),
        };
        let estimate = self.manifest.size_bound();
        if estimate > DEFAULT_MAX_MANIFEST_LEN {
            return Err(too_big(estimate));
        }
        let manifest = std::mem::take(&mut self.manifest).build();
        // W1: the lowest minor version whose features the file uses.
        let (bytes, minor, root_length) = if manifest.column_extras.is_empty() {
            let bytes = rkyv::to_bytes::<rancor::Error>(&manifest.base);
            (bytes, 0, ROOT_LEN)
        } else {
            (rkyv::to_bytes::<rancor::Error>(&manifest), 1, ROOT_LEN_1_1)
        };
        let bytes = bytes.map_err(|e| self.invalid("", format!("manifest: {e}")))?;
        if bytes.len() as u64 > DEFAULT_MAX_MANIFEST_LEN {
            return Err(too_big(bytes.len() as u64));
        }
        let manifest_offset = align_up(self.file.position(), u64::from(SMALL_ALIGNMENT))
            .ok_or_else(|| self.invalid("", "file offset overflows"))?;
        self.file.pad_to(manifest_offset)?;
        self.file.write_all(&bytes)?;
        let header = Header {
            version: Version {
                major: FORMAT_VERSION.major,
                minor,
            },
            required_flags: 0,
            optional_flags: 0,
            alignment: self.alignment,
            root_length,
            manifest_offset,
            manifest_len: bytes.len() as u64,
            manifest_checksum: checksum::xxh3(&bytes),
            file_len: self.file.position(),
        };
        self.file.write_at(0, &header.encode())?;
        self.file.commit()
    }
}

/// A section being written.
pub(crate) struct SectionWriter {
    offset: u64,
    raw_len: u64,
    raw_written: u64,
    stored: u64,
    hasher: Hasher,
    compression: Option<Compression>,
}

impl std::fmt::Debug for SectionWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SectionWriter")
            .field("offset", &self.offset)
            .field("raw_len", &self.raw_len)
            .field("raw_written", &self.raw_written)
            .field("stored", &self.stored)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct Compression {
    level: i32,
    shuffle: usize,
    chunk_len: usize,
    pending: Vec<u8>,
    chunks: Vec<Chunk>,
}

/// A size limit as a `usize` (saturating: on a target narrower than the limit, the address
/// space is the tighter bound).
fn native(limit: u64) -> usize {
    usize::try_from(limit).unwrap_or(usize::MAX)
}
