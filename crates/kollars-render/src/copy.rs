//! `copy:` entries: a file byte for byte, a directory recursively, or every match of a glob
//! in the operator's config directory, as kolla-ansible's copy tasks and `with_fileglob` do.
//! Copies are not rendered, so they are the one place a file's content may be any bytes.

use std::path::{Path, PathBuf};

use crate::file::{Output, Source};
use crate::{RenderError, RenderedFile, DEFAULT_DIR_MODE};

/// What a `copy:` entry's `source` (a [`Source::Copy`] or [`Source::CopyGlob`]) gives at
/// `dest`, files with `mode`. A file's directories get `dir_mode` or [`DEFAULT_DIR_MODE`];
/// what a recursive or glob copy creates gets `dir_mode` or 0755, as Ansible's copy leaves
/// it. A missing source is nothing when the entry is `optional`, else an error.
pub(crate) fn copy_entry(
    source: &Source,
    dest: &str,
    mode: u32,
    dir_mode: Option<u32>,
    optional: bool,
) -> Result<Output, RenderError> {
    let mut out = Output::default();
    let tree_mode = dir_mode.unwrap_or(0o755);
    let copy_tree = |out: &mut Output, src: &Path, to: &str| -> Result<(), RenderError> {
        if let Some((parent, _)) = to.rsplit_once('/') {
            out.push_dirs(parent, tree_mode, dir_mode.is_some());
        }
        copy_dir(src, to, mode, tree_mode, dir_mode.is_some(), out)
    };
    match source {
        Source::Copy(src) => match std::fs::metadata(src) {
            Ok(m) if m.is_dir() => copy_tree(&mut out, src, dest)?,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound && optional => {}
            _ => {
                out.push_file(
                    dest,
                    mode,
                    read_bytes(src)?,
                    dir_mode.unwrap_or(DEFAULT_DIR_MODE),
                    dir_mode.is_some(),
                );
            }
        },
        Source::CopyGlob(pattern) => {
            for m in &glob(pattern)? {
                let name = m.file_name().expect("a match has a name").to_string_lossy();
                let to = format!("{dest}/{name}");
                if m.is_dir() {
                    copy_tree(&mut out, m, &to)?;
                } else {
                    out.push_file(&to, mode, read_bytes(m)?, tree_mode, dir_mode.is_some());
                }
            }
        }
        Source::Json | Source::Template { .. } => unreachable!("not a copy"),
    }
    Ok(out)
}

/// A copied file's bytes, whatever they are (kolla copies binary files too).
fn read_bytes(path: &Path) -> Result<Vec<u8>, RenderError> {
    std::fs::read(path).map_err(|source| RenderError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Copies directory `src` recursively to `to` (inside the service directory): its files with
/// `mode`, its directories (`to` included) with `dir_mode`.
fn copy_dir(
    src: &Path,
    to: &str,
    mode: u32,
    dir_mode: u32,
    explicit: bool,
    out: &mut Output,
) -> Result<(), RenderError> {
    out.dirs.push((to.to_string(), dir_mode, explicit));
    let mut entries: Vec<PathBuf> = std::fs::read_dir(src)
        .map_err(|source| RenderError::Io {
            path: src.to_path_buf(),
            source,
        })?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(|source| RenderError::Io {
            path: src.to_path_buf(),
            source,
        })?;
    entries.sort();
    for p in entries {
        let name = p
            .file_name()
            .expect("an entry has a name")
            .to_string_lossy();
        let rel = format!("{to}/{name}");
        if p.is_dir() {
            copy_dir(&p, &rel, mode, dir_mode, explicit, out)?;
        } else {
            out.files
                .push(RenderedFile::new(rel, mode, read_bytes(&p)?));
        }
    }
    Ok(())
}

/// The entries of a directory whose names match the pattern in `pattern`'s last component
/// (`*`, `?`, `[…]`, `[!…]`: [`kollars_glob::fnmatch`]), sorted; none when the directory does
/// not exist.
pub(crate) fn glob(pattern: &Path) -> Result<Vec<PathBuf>, RenderError> {
    let dir = pattern.parent().unwrap_or(Path::new("."));
    let pat = pattern
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(RenderError::Io {
                path: dir.to_path_buf(),
                source,
            })
        }
    };
    let mut out = Vec::new();
    for e in entries {
        let e = e.map_err(|source| RenderError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        // Python's glob, as Ansible's fileglob: a wildcard does not match a leading dot
        if kollars_glob::fnmatch(&pat, &e.file_name().to_string_lossy()) {
            out.push(e.path());
        }
    }
    out.sort();
    Ok(out)
}
