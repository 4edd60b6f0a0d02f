//! The controller's files as planning sees them (`files.put` compares a local file's
//! checksum with the host's). A trait, so that fixtures can plan against a virtual
//! file system and planning stays free of direct I/O.

use std::io;
use std::path::{Path, PathBuf};

/// Read access to the controller's files.
pub trait LocalFiles: Send + Sync {
    /// The file's bytes.
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// Whether `path` is a regular file.
    fn is_file(&self, path: &Path) -> bool;
    /// Whether `path` is a directory.
    fn is_dir(&self, path: &Path) -> bool;
    /// The entries of a directory, recursively, files only.
    fn walk_files(&self, path: &Path) -> io::Result<Vec<PathBuf>>;
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

    fn walk_files(&self, path: &Path) -> io::Result<Vec<PathBuf>> {
        let mut files = Vec::new();
        let mut pending = vec![path.to_path_buf()];
        while let Some(directory) = pending.pop() {
            for entry in std::fs::read_dir(&directory)? {
                let entry_path = entry?.path();
                if entry_path.is_dir() {
                    pending.push(entry_path);
                } else {
                    files.push(entry_path);
                }
            }
        }
        files.sort();
        Ok(files)
    }
}
