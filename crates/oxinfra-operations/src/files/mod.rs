//! Operations of `pyinfra/operations/files.py`, split into families: paths (files,
//! directories, links, uploads and downloads) and lines (line, replace and block edits),
//! with the helpers they share in `util`.

pub mod lines;
pub mod paths;
pub mod util;
