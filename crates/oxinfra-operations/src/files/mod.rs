//! Operations of `pyinfra/operations/files.py`, split into families: paths (files,
//! directories, links, uploads and downloads), lines (line, replace and block edits),
//! archive (`unarchive`) and rsync, with the helpers they share in `util`.

pub mod archive;
pub mod lines;
pub mod paths;
pub mod rsync;
pub mod util;
