//! The controller's files as planning sees them: what pyinfra's operations read with
//! `open`, `os.path`, `os.stat`, `os.readlink` and `os.walk` (`files.put` compares a
//! local file's checksum with the host's and may copy its mode and times, `files.sync`
//! walks a local tree with its links). A trait, so that fixtures can plan against a
//! virtual file system and planning stays free of direct I/O. Writing local files
//! (`files.get`'s download) is the engine's business, not this trait's.

use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// What `os.stat` tells about a local path (links followed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalMetadata {
    /// The permission bits, `0o644` for `rw-r--r--` (setuid, setgid and sticky bits
    /// included, the file type excluded).
    pub permissions: u32,
    /// Last access (`st_atime`).
    pub accessed: SystemTime,
    /// Last modification (`st_mtime`).
    pub modified: SystemTime,
}

/// Read access to the controller's files.
///
/// `is_file`, `is_dir` and `metadata` follow symbolic links, as Python's
/// `os.path.isfile`, `os.path.isdir` and `os.stat` do; `is_symlink` and `read_link`
/// look at the link itself.
pub trait LocalFiles: Send + Sync {
    /// The file's bytes.
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// Whether `path` is a regular file.
    fn is_file(&self, path: &Path) -> bool;
    /// Whether `path` is a directory.
    fn is_dir(&self, path: &Path) -> bool;
    /// Whether `path` is a symbolic link, whatever it points to.
    fn is_symlink(&self, path: &Path) -> bool;
    /// Where the symbolic link `path` points, as written in the link (relative or
    /// absolute, not resolved).
    fn read_link(&self, path: &Path) -> io::Result<PathBuf>;
    /// The mode and times of `path`.
    fn metadata(&self, path: &Path) -> io::Result<LocalMetadata>;
    /// The entries of the directory `path` (files, directories and links, not `.` and
    /// `..`), as full paths in the order the file system lists them, which is the
    /// order `os.walk` reports them in. One level only: callers walk down themselves,
    /// so that they can leave out folders before entering them, as `os.walk` allows.
    fn read_dir(&self, path: &Path) -> io::Result<Vec<PathBuf>>;
}

/// The real file system.
#[derive(Clone, Copy, Debug, Default)]
pub struct RealLocalFiles;

impl LocalFiles for RealLocalFiles {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        std::fs::read(path)
    }

    fn is_file(&self, path: &Path) -> bool {
        path.is_file()
    }

    fn is_dir(&self, path: &Path) -> bool {
        path.is_dir()
    }

    fn is_symlink(&self, path: &Path) -> bool {
        path.is_symlink()
    }

    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        std::fs::read_link(path)
    }

    fn metadata(&self, path: &Path) -> io::Result<LocalMetadata> {
        let metadata = std::fs::metadata(path)?;
        Ok(LocalMetadata {
            permissions: permission_bits(&metadata),
            accessed: metadata.accessed()?,
            modified: metadata.modified()?,
        })
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<PathBuf>> {
        std::fs::read_dir(path)?.map(|entry| entry.map(|entry| entry.path())).collect()
    }
}

#[cfg(unix)]
fn permission_bits(metadata: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    metadata.permissions().mode() & 0o7777
}

/// Without Unix modes, what Python's `os.stat` reports on Windows: read-only or not,
/// executable bits for folders.
#[cfg(not(unix))]
fn permission_bits(metadata: &std::fs::Metadata) -> u32 {
    let write = if metadata.permissions().readonly() { 0 } else { 0o222 };
    let execute = if metadata.is_dir() { 0o111 } else { 0 };
    0o444 | write | execute
}

#[cfg(all(test, unix))]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A fresh folder under the system's temporary directory, removed on drop.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> io::Result<Self> {
            let path = std::env::temp_dir().join(format!("oxinfra-local-files-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&path);
            std::fs::create_dir_all(&path)?;
            Ok(Self(path))
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn real_files_report_links_modes_and_times() -> io::Result<()> {
        use std::os::unix::fs::PermissionsExt as _;
        let scratch = Scratch::new("links")?;
        let file = scratch.0.join("file.txt");
        std::fs::write(&file, "x")?;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640))?;
        let modified = SystemTime::UNIX_EPOCH + Duration::from_secs(957_139_260);
        std::fs::File::options().write(true).open(&file)?.set_modified(modified)?;
        let link = scratch.0.join("link");
        std::os::unix::fs::symlink("file.txt", &link)?;

        let files = RealLocalFiles;
        let metadata = files.metadata(&file)?;
        assert_eq!((metadata.permissions, metadata.modified), (0o640, modified));
        assert!(files.is_symlink(&link) && files.is_file(&link) && !files.is_symlink(&file));
        assert_eq!(files.read_link(&link)?, PathBuf::from("file.txt"));
        assert_eq!(files.metadata(&link)?.permissions, 0o640);
        let mut listed = files.read_dir(&scratch.0)?;
        listed.sort();
        assert_eq!(listed, vec![file, link]);
        Ok(())
    }
}
