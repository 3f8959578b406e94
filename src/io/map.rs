//! The bytes a reader reads: a read-only memory map of a file, or an aligned buffer in memory.
//!
//! # The memory-map contract
//!
//! Mapping a file is `unsafe` in Rust because the bytes behind a `&[u8]` can change, or vanish,
//! if another process modifies or truncates the file while it is mapped: the change shows
//! through the slice, and touching a page that a truncation removed kills the process with
//! SIGBUS. brine never modifies a published file in place: every write goes to a temporary
//! file that is renamed over the target, and a mapping keeps the old contents after a rename.
//! Users must do the same (never truncate or rewrite a `.brine` file in place while it may be
//! open); this is the one condition under which reading a mapped brine file is sound, and it is
//! stated once here and in the crate documentation.

use std::fs::File;
use std::path::Path;

use memmap2::{Advice, Mmap};

use crate::buffer::AlignedBuf;
use crate::error::{Error, Result};

/// How an entry's pages will be accessed, passed to `madvise`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AccessPattern {
    /// No special treatment.
    Normal,
    /// Read front to back: read ahead aggressively, drop pages behind.
    Sequential,
    /// Read at random: no read-ahead.
    Random,
    /// Will be read soon: start reading it in now.
    WillNeed,
}

/// The bytes behind a reader.
#[derive(Debug)]
pub enum Backing {
    /// A read-only map of a file.
    Mapped(Mmap),
    /// An aligned buffer in memory.
    Buffer(AlignedBuf),
}

impl Backing {
    /// Maps `path` read-only. The open file is returned too, for reading metadata with
    /// [`read_at`] without faulting pages of the map in.
    pub fn map(path: &Path) -> Result<(Backing, File)> {
        let io = |op, source| Error::Io {
            path: path.to_path_buf(),
            op,
            source,
        };
        let file = File::open(path).map_err(|e| io("open", e))?;
        // SAFETY: the memory-map contract in this module's documentation: brine never modifies
        // a published file in place, and users are told not to either. The map is read-only
        // and private to this `Backing`, which outlives every slice handed out from it.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| io("map", e))?;
        Ok((Backing::Mapped(map), file))
    }

    /// The whole file.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Backing::Mapped(m) => m,
            Backing::Buffer(b) => b.as_slice(),
        }
    }

    /// Advises the OS about `len` bytes at `offset`; a no-op for buffers and where the OS has
    /// no such call.
    pub fn advise(&self, offset: usize, len: usize, pattern: AccessPattern) -> std::io::Result<()> {
        match self {
            #[cfg(unix)]
            Backing::Mapped(m) if len > 0 => {
                let advice = match pattern {
                    AccessPattern::Normal => Advice::Normal,
                    AccessPattern::Sequential => Advice::Sequential,
                    AccessPattern::Random => Advice::Random,
                    AccessPattern::WillNeed => Advice::WillNeed,
                };
                m.advise_range(advice, offset, len)
            }
            _ => Ok(()),
        }
    }
}

/// Reads exactly `buf.len()` bytes at `offset` of `file` (`pread`), leaving the file position
/// alone.
pub fn read_at(file: &File, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        file.read_exact_at(buf, offset)
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::FileExt;
        let mut done = 0;
        while done < buf.len() {
            match file.seek_read(&mut buf[done..], offset + done as u64)? {
                0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                n => done += n,
            }
        }
        Ok(())
    }
}
