//! Atomic file replacement: write a temporary file in the target's folder, fsync it, rename it
//! over the target, fsync the folder. A crash at any moment leaves the old file or the new one,
//! never a mix; readers that have the old file mapped keep the old contents.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::{Error, Result};

/// A file being written that becomes visible at `target` only on [`AtomicFile::commit`].
/// Dropped without commit, the temporary file is removed.
#[derive(Debug)]
pub struct AtomicFile {
    target: PathBuf,
    tmp: NamedTempFile,
    pos: u64,
}

impl AtomicFile {
    /// Creates the temporary file beside `target`.
    pub fn create(target: &Path) -> Result<AtomicFile> {
        let dir = parent_dir(target);
        let stem = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut builder = tempfile::Builder::new();
        let prefix = format!(".{stem}.");
        builder.prefix(&prefix).suffix(".brine-tmp");
        // A finished file gets the mode any new file gets (0666 less the umask, which `open`
        // applies), not the 0600 of a temporary file.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        let tmp = builder.tempfile_in(dir).map_err(|e| Error::Io {
            path: target.to_path_buf(),
            op: "create temporary file",
            source: e,
        })?;
        Ok(AtomicFile {
            target: target.to_path_buf(),
            tmp,
            pos: 0,
        })
    }

    /// The path the file will have once committed.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Bytes written so far (the offset of the next byte).
    pub fn position(&self) -> u64 {
        self.pos
    }

    fn io_error(&self, op: &'static str, source: std::io::Error) -> Error {
        Error::Io {
            path: self.target.clone(),
            op,
            source,
        }
    }

    /// Appends `bytes`.
    pub fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        self.tmp
            .as_file_mut()
            .write_all(bytes)
            .map_err(|e| self.io_error("write", e))?;
        self.pos += bytes.len() as u64;
        Ok(())
    }

    /// Appends zero bytes up to `offset`.
    pub fn pad_to(&mut self, offset: u64) -> Result<()> {
        const ZEROS: [u8; 4096] = [0; 4096];
        while self.pos < offset {
            let n = (offset - self.pos).min(ZEROS.len() as u64) as usize;
            self.write_all(&ZEROS[..n])?;
        }
        Ok(())
    }

    /// Reserves disk blocks for `len` bytes at `offset` before they are written, where the OS
    /// supports it: large writes into preallocated blocks are faster, and a full disk is found
    /// before the data is written rather than half-way. A hint: failure is not an error.
    pub fn preallocate(&mut self, offset: u64, len: u64) {
        #[cfg(target_os = "linux")]
        {
            let flags = rustix::fs::FallocateFlags::empty();
            let _ = rustix::fs::fallocate(self.tmp.as_file(), flags, offset, len);
        }
        #[cfg(not(target_os = "linux"))]
        let _ = (offset, len);
    }

    /// Overwrites bytes at `offset` (used once, for the header).
    pub fn write_at(&mut self, offset: u64, bytes: &[u8]) -> Result<()> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileExt;
            self.tmp
                .as_file()
                .write_all_at(bytes, offset)
                .map_err(|e| self.io_error("write", e))
        }
        #[cfg(not(unix))]
        {
            use std::io::{Seek, SeekFrom};
            let pos = self.pos;
            let file = self.tmp.as_file_mut();
            file.seek(SeekFrom::Start(offset))
                .and_then(|_| file.write_all(bytes))
                .and_then(|_| file.seek(SeekFrom::Start(pos)).map(drop))
                .map_err(|e| self.io_error("write", e))
        }
    }

    /// Flushes the data to disk, renames the file over the target and flushes the folder.
    pub fn commit(self) -> Result<()> {
        self.tmp
            .as_file()
            .sync_all()
            .map_err(|e| self.io_error("fsync", e))?;
        let target = self.target;
        self.tmp.persist(&target).map_err(|e| Error::Io {
            path: target.clone(),
            op: "rename temporary file over target",
            source: e.error,
        })?;
        sync_dir(parent_dir(&target)).map_err(|e| Error::Io {
            path: target.clone(),
            op: "fsync folder",
            source: e,
        })
    }
}

fn parent_dir(target: &Path) -> &Path {
    match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}
