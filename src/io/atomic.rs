//! Atomic file replacement: write a temporary file in the target's folder, fsync it, rename it
//! over the target, fsync the folder. A crash at any moment leaves the old file or the new one,
//! never a mix; readers that have the old file mapped keep the old contents. Every file brine
//! writes goes through here: brine files, and every output of the `brine` tool.
//!
//! # The target
//!
//! - **Checked first.** The target is examined before a byte is written: a target that is a
//!   folder, or whose folder is missing or not writable, is an error at once, not after the
//!   whole file was written.
//! - **Symbolic links are written through.** A target that is a symbolic link (or a chain of
//!   them, at most 40) is resolved, and the file it points to is replaced atomically, by a
//!   temporary file in *that* file's folder: the link stays a link. A dangling link creates
//!   the file it points to.
//! - **Permissions are kept.** A replaced file's permission bits (`rwx` for owner, group and
//!   others; not setuid, setgid or sticky, as `cp` does not carry them) and its owner and group
//!   are given to the new file, as far as the process may set them: the owner only by root,
//!   the group by its members. When the group cannot be carried over, the new file gets no
//!   group permissions at all, so that a replacement is never readable by more people than the
//!   file it replaces. A new file gets the mode any new file gets: 0666 less the umask.
//!
//! # Temporary files, and writers that die
//!
//! The temporary file is named `.<target file name>.<10 letters or digits>.brine-tmp`, in the
//! target's folder (the same file system, so the rename is atomic; the `*.brine-tmp` pattern is
//! easy to ignore in version control). A writer that returns an error or is dropped removes
//! it; a writer that is killed (SIGKILL, out of memory, power loss) cannot, and would leak a
//! file as large as what it had written. So, on Linux:
//!
//! - the writer holds an exclusive `flock` on its temporary file from the moment it is created
//!   until it is renamed over the target or removed (the lock belongs to the open file, so the
//!   kernel releases it when the process dies, however it dies);
//! - creating a writer first removes, from the target's folder, every regular file named like a
//!   temporary file whose lock it can take: no live writer holds it, so its writer is dead.
//!
//! Two live writers in one folder never remove each other's file: each holds its lock, and a
//! lock taken by another open file description (another process, or another writer in this
//! process) blocks the cleaner's `LOCK_NB` attempt. The one window, between creating the file
//! and locking it, is closed from the writer's side: after locking, it checks that its path still
//! names the file it locked, and starts over with a new name if a cleaner removed it. A cleaner
//! removes a file only while it holds the file's lock and after checking that the name still
//! names the file it locked. This process's own temporary files are never opened by its
//! cleaner (a registry of them is kept), which matters on NFS, where Linux emulates `flock`
//! with POSIX locks that are per process and dropped by any `close` of the file.
//!
//! Where `flock` is unsupported (some network or FUSE file systems) a writer works unlocked and
//! cleaners remove nothing there; on other platforms a killed writer's file stays until removed
//! by hand. Cleaning costs one `readdir` of the folder per writer created.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::{Error, Result};

/// The end of every temporary file's name.
const TMP_SUFFIX: &str = ".brine-tmp";

/// Random letters and digits in a temporary file's name (62^10 names: collisions are not a
/// concern, and the strict pattern keeps cleaners away from files that merely end the same).
const TMP_RANDOM_LEN: usize = 10;

/// At most this many bytes of the target's name go into the temporary file's name, so that it
/// stays under the 255-byte limit of common file systems.
const TMP_NAME_MAX: usize = 200;

/// Attempts at creating a temporary file that a cleaner removed before it was locked (each
/// loss needs a cleaner to act in a window of microseconds).
const CREATE_ATTEMPTS: usize = 16;

/// A file being written that becomes visible at `target` only on [`AtomicFile::commit`].
/// Dropped without commit, the temporary file is removed.
#[derive(Debug)]
pub struct AtomicFile {
    /// The path as the caller gave it (for messages).
    target: PathBuf,
    /// The file that is replaced: `target` with its symbolic links resolved.
    dest: PathBuf,
    tmp: NamedTempFile,
    /// Keeps the temporary file in this process's registry of live ones; declared after `tmp`
    /// so that the file is removed before it leaves the registry.
    _live: lock::Live,
    pos: u64,
}

impl AtomicFile {
    /// Creates the temporary file beside `target` (beside the file it links to, for a symbolic
    /// link), first removing abandoned temporary files from that folder (see the module docs).
    ///
    /// # Errors
    /// [`Error::Io`] naming `target` when it is a folder, a link chain that does not end, or
    /// when the temporary file cannot be created (a missing or read-only folder).
    pub fn create(target: &Path) -> Result<AtomicFile> {
        let io_error = |op, source| Error::Io {
            path: target.to_path_buf(),
            op,
            source,
        };
        let dest = resolve_links(target).map_err(|e| io_error("resolve symbolic link", e))?;
        // The file it replaces, if any: a folder is refused now, not at the rename.
        let existing = match std::fs::metadata(&dest) {
            Ok(meta) if meta.is_dir() => {
                let e = std::io::Error::new(
                    std::io::ErrorKind::IsADirectory,
                    "it is a folder: give the path of a file to write",
                );
                return Err(io_error("replace", e));
            }
            Ok(meta) => Some(meta),
            Err(_) => None,
        };
        let dir = parent_dir(&dest);
        if !dir.is_dir() {
            let e = std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("the folder {} does not exist", dir.display()),
            );
            return Err(io_error("create temporary file", e));
        }
        lock::remove_abandoned(dir);
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let prefix = format!(".{}.", truncate(&name, TMP_NAME_MAX));
        let mut builder = tempfile::Builder::new();
        builder
            .prefix(&prefix)
            .suffix(TMP_SUFFIX)
            .rand_bytes(TMP_RANDOM_LEN);
        // A finished file gets the mode any new file gets (0666 less the umask, which `open`
        // applies), not the 0600 of a temporary file.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        for _ in 0..CREATE_ATTEMPTS {
            let tmp = builder
                .tempfile_in(dir)
                .map_err(|e| io_error("create temporary file", e))?;
            // `None`: a cleaner removed the file before it was locked; try another name.
            if let Some(live) = lock::claim(&tmp).map_err(|e| io_error("lock temporary file", e))? {
                if let Some(meta) = &existing {
                    keep_permissions(tmp.as_file(), meta)
                        .map_err(|e| io_error("set permissions", e))?;
                }
                return Ok(AtomicFile {
                    target: target.to_path_buf(),
                    dest,
                    tmp,
                    _live: live,
                    pos: 0,
                });
            }
        }
        Err(io_error(
            "lock temporary file",
            std::io::Error::new(
                std::io::ErrorKind::WouldBlock,
                format!(
                    "{CREATE_ATTEMPTS} temporary files in a row were removed by other writers \
                     before they could be locked"
                ),
            ),
        ))
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
            let n = usize::try_from(offset - self.pos).map_or(ZEROS.len(), |n| n.min(ZEROS.len()));
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
        let AtomicFile {
            target, dest, tmp, ..
        } = self;
        tmp.persist(&dest).map_err(|e| Error::Io {
            path: target.clone(),
            op: "rename temporary file over target",
            source: e.error,
        })?;
        sync_dir(parent_dir(&dest)).map_err(|e| Error::Io {
            path: target.clone(),
            op: "fsync folder",
            source: e,
        })
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.tmp.as_file_mut().write(buf)?;
        self.pos += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Symbolic links followed at most, as Linux's `open` does.
const MAX_LINKS: usize = 40;

/// `path` with the symbolic links of its last component resolved (relative links against the
/// folder of the link), so that the file it names is replaced rather than the link.
fn resolve_links(path: &Path) -> std::io::Result<PathBuf> {
    let mut path = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = std::fs::read_link(&path)?;
                path = parent_dir(&path).join(link);
            }
            _ => return Ok(path),
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!("more than {MAX_LINKS} symbolic links in a row (a loop?)"),
    ))
}

/// Gives `file` the permission bits, owner and group of `replaced`, as far as the process may
/// (see the module docs); without the group, no group permissions.
fn keep_permissions(file: &File, replaced: &std::fs::Metadata) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt, fchown};
        let mut mode = replaced.mode() & 0o777;
        let now = file.metadata()?;
        if (now.uid(), now.gid()) != (replaced.uid(), replaced.gid()) {
            // The owner only as root; then the group alone, as a member of it.
            let group_kept = fchown(file, Some(replaced.uid()), Some(replaced.gid())).is_ok()
                || fchown(file, None, Some(replaced.gid())).is_ok();
            if !group_kept {
                mode &= !0o070;
            }
        }
        file.set_permissions(std::fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        file.set_permissions(replaced.permissions())
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
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

/// Whether `name` has the shape of a temporary file's name:
/// `.<anything>.<TMP_RANDOM_LEN letters or digits>.brine-tmp`.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn is_temp_name(name: &[u8]) -> bool {
    let Some(rest) = name.strip_suffix(TMP_SUFFIX.as_bytes()) else {
        return false;
    };
    let Some(split) = rest.len().checked_sub(TMP_RANDOM_LEN + 1) else {
        return false;
    };
    let (head, random) = rest.split_at(split);
    head.starts_with(b".") && random[0] == b'.' && random[1..].iter().all(u8::is_ascii_alphanumeric)
}

/// The locks that tell a live writer's temporary file from an abandoned one.
#[cfg(target_os = "linux")]
mod lock {
    use std::fs::File;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::MetadataExt;
    use std::path::Path;
    use std::sync::{Mutex, MutexGuard, PoisonError};

    use rustix::fs::{FlockOperation, Mode, OFlags};
    use rustix::io::Errno;
    use tempfile::NamedTempFile;

    /// Device and inode of each temporary file of this process's live writers.
    static LIVE: Mutex<Vec<(u64, u64)>> = Mutex::new(Vec::new());

    fn live() -> MutexGuard<'static, Vec<(u64, u64)>> {
        LIVE.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A temporary file's place in [`LIVE`], given up on drop.
    #[derive(Debug)]
    pub(super) struct Live((u64, u64));

    impl Drop for Live {
        fn drop(&mut self) {
            let mut live = live();
            if let Some(i) = live.iter().position(|k| *k == self.0) {
                live.swap_remove(i);
            }
        }
    }

    /// Locks a newly created temporary file for the writer's whole life. `None` if a cleaner
    /// removed it first (the caller then creates another).
    pub(super) fn claim(tmp: &NamedTempFile) -> std::io::Result<Option<Live>> {
        let file = tmp.as_file();
        let meta = file.metadata()?;
        let key = (meta.dev(), meta.ino());
        // Registered before locking: from now on this process's cleaners leave it alone.
        live().push(key);
        let live = Live(key);
        match rustix::fs::flock(file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {}
            // A cleaner in another process has it locked and is removing it.
            Err(Errno::WOULDBLOCK) => return Ok(None),
            // No locks on this file system: no cleaner removes anything here either.
            Err(_) => return Ok(Some(live)),
        }
        // Locked; did a cleaner remove the file between its creation and the lock?
        match std::fs::symlink_metadata(tmp.path()) {
            Ok(now) if (now.dev(), now.ino()) == key => Ok(Some(live)),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Removes the temporary files in `dir` whose writers are dead. Best effort: a file that
    /// cannot be examined, locked or removed is left alone, and a folder that cannot be read
    /// is not an error (creating the new temporary file reports what matters).
    pub(super) fn remove_abandoned(dir: &Path) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            if super::is_temp_name(entry.file_name().as_bytes()) {
                let _ = remove_if_abandoned(&entry.path());
            }
        }
    }

    /// Removes `path` if it is a regular file that no live writer has locked.
    fn remove_if_abandoned(path: &Path) -> std::io::Result<bool> {
        let before = std::fs::symlink_metadata(path)?;
        let key = (before.dev(), before.ino());
        if !before.file_type().is_file() || live().contains(&key) {
            return Ok(false);
        }
        // Read-write where allowed: NFS grants an exclusive lock only to a writable file.
        // Never through a symbolic link swapped in since the check above.
        let flags = OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
        let fd = rustix::fs::open(path, OFlags::RDWR | flags, Mode::empty())
            .or_else(|_| rustix::fs::open(path, OFlags::RDONLY | flags, Mode::empty()))?;
        let file = File::from(fd);
        let meta = file.metadata()?;
        if (meta.dev(), meta.ino()) != key {
            return Ok(false);
        }
        if rustix::fs::flock(&file, FlockOperation::NonBlockingLockExclusive).is_err() {
            // A live writer holds it (or this file system has no locks).
            return Ok(false);
        }
        let now = std::fs::symlink_metadata(path)?;
        if (now.dev(), now.ino()) != key {
            return Ok(false);
        }
        std::fs::remove_file(path)?;
        // `file` is closed, and the lock released, only now that the name is gone.
        Ok(true)
    }
}

/// Elsewhere, no locks: a killed writer's temporary file stays until removed by hand.
#[cfg(not(target_os = "linux"))]
mod lock {
    use std::path::Path;

    use tempfile::NamedTempFile;

    #[derive(Debug)]
    pub(super) struct Live;

    pub(super) fn claim(_tmp: &NamedTempFile) -> std::io::Result<Option<Live>> {
        Ok(Some(Live))
    }

    pub(super) fn remove_abandoned(_dir: &Path) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn temporary_names_have_the_documented_shape() {
        let dir = tempfile::tempdir().unwrap();
        let f = AtomicFile::create(&dir.path().join("data.brine")).unwrap();
        let name = f.tmp.path().file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with(".data.brine."), "{name}");
        assert!(name.ends_with(".brine-tmp"), "{name}");
        assert!(is_temp_name(name.as_bytes()), "{name}");
        for ok in [".x.abcdefghij.brine-tmp", "..0123456789.brine-tmp"] {
            assert!(is_temp_name(ok.as_bytes()), "{ok}");
        }
        for not in [
            "x.abcdefghij.brine-tmp",
            ".x.abcdefghi.brine-tmp",
            ".x.abcdefgh-j.brine-tmp",
            ".xabcdefghijk.brine-tmp",
            ".x.abcdefghij.brine-tmp.bak",
            ".brine-tmp",
            "data.brine",
        ] {
            assert!(!is_temp_name(not.as_bytes()), "{not}");
        }
    }

    #[test]
    fn a_long_target_name_still_gives_a_valid_temporary_name() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join(format!("{}.brine", "é".repeat(120)));
        let mut f = AtomicFile::create(&target).unwrap();
        f.write_all(b"x").unwrap();
        f.commit().unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"x");
        assert_eq!(
            names(dir.path()),
            [target.file_name().unwrap().to_str().unwrap()]
        );
    }

    #[cfg(target_os = "linux")]
    mod linux {
        use super::*;
        use rustix::fs::FlockOperation;

        #[test]
        fn an_abandoned_temporary_file_is_removed_by_the_next_writer() {
            let dir = tempfile::tempdir().unwrap();
            let stale = dir.path().join(".data.brine.AbCdE12345.brine-tmp");
            std::fs::write(&stale, vec![7u8; 1 << 16]).unwrap();
            let f = AtomicFile::create(&dir.path().join("other.brine")).unwrap();
            assert!(!stale.exists());
            drop(f);
            assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));
        }

        #[test]
        fn a_locked_temporary_file_is_left_alone() {
            // Another open file description holding the lock: what a live writer in another
            // process looks like.
            let dir = tempfile::tempdir().unwrap();
            let live = dir.path().join(".data.brine.AbCdE12345.brine-tmp");
            let file = File::create(&live).unwrap();
            rustix::fs::flock(&file, FlockOperation::LockExclusive).unwrap();
            drop(AtomicFile::create(&dir.path().join("other.brine")).unwrap());
            assert!(live.exists());
            drop(file);
            drop(AtomicFile::create(&dir.path().join("other.brine")).unwrap());
            assert!(!live.exists());
        }

        #[test]
        fn two_live_writers_in_one_folder_keep_their_files() {
            let dir = tempfile::tempdir().unwrap();
            let (a, b) = (dir.path().join("a.brine"), dir.path().join("b.brine"));
            let mut fa = AtomicFile::create(&a).unwrap();
            fa.write_all(b"a").unwrap();
            let mut fb = AtomicFile::create(&b).unwrap();
            fb.write_all(b"b").unwrap();
            let mut fa2 = AtomicFile::create(&a).unwrap();
            fa2.write_all(b"a2").unwrap();
            assert_eq!(names(dir.path()).len(), 3, "{:?}", names(dir.path()));
            fa.commit().unwrap();
            fb.commit().unwrap();
            fa2.commit().unwrap();
            assert_eq!(names(dir.path()), ["a.brine", "b.brine"]);
            assert_eq!(std::fs::read(&a).unwrap(), b"a2");
            assert_eq!(std::fs::read(&b).unwrap(), b"b");
        }

        #[test]
        fn other_files_and_links_are_left_alone() {
            let dir = tempfile::tempdir().unwrap();
            let outside = tempfile::tempdir().unwrap();
            let precious = outside.path().join("precious");
            std::fs::write(&precious, b"keep").unwrap();
            let link = dir.path().join(".x.AbCdE12345.brine-tmp");
            std::os::unix::fs::symlink(&precious, &link).unwrap();
            std::fs::create_dir(dir.path().join(".y.AbCdE12345.brine-tmp")).unwrap();
            for name in ["notes.brine-tmp", ".z.short.brine-tmp", "data.brine"] {
                std::fs::write(dir.path().join(name), b"keep").unwrap();
            }
            let before = names(dir.path());
            drop(AtomicFile::create(&dir.path().join("data.brine")).unwrap());
            assert_eq!(names(dir.path()), before);
            assert_eq!(std::fs::read(&precious).unwrap(), b"keep");
        }

        #[test]
        fn a_file_removed_before_it_is_locked_is_given_up() {
            let dir = tempfile::tempdir().unwrap();
            let tmp = tempfile::Builder::new()
                .prefix(".a.")
                .suffix(TMP_SUFFIX)
                .tempfile_in(dir.path())
                .unwrap();
            std::fs::remove_file(tmp.path()).unwrap();
            assert!(lock::claim(&tmp).unwrap().is_none());
            let tmp = tempfile::Builder::new().tempfile_in(dir.path()).unwrap();
            let other = File::open(tmp.path()).unwrap();
            rustix::fs::flock(&other, FlockOperation::LockExclusive).unwrap();
            assert!(lock::claim(&tmp).unwrap().is_none());
            drop(other);
            assert!(lock::claim(&tmp).unwrap().is_some());
        }
    }
}
