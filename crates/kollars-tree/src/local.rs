//! Writing a [`Tree`] to a directory on this machine (genconfig, and deploy to a host reached
//! through a local socket), and reading one back (plan).
//!
//! Files are written only when their content or mode differs, and replaced atomically (temp
//! file in the same directory, then rename), so a container starting meanwhile never reads
//! half a file, a full disk leaves the old file whole, and an unchanged tree is not touched at
//! all. A file in a directory this write created cannot be read by anyone yet: it is written in
//! place.
//!
//! [`replace_file`] is that same replacement for one file, made durable too (the file and its
//! directory synced): every file kollars keeps on the operator's workstation (passwords files,
//! post-deploy's clouds.yaml and openrc files) goes through it, so a full disk or a crash
//! never costs an operator the file they had. Directories follow the
//! crate's rules ([`Tree::make_directories`]). The tree's top-level directories (one per
//! service) are independent, so they are written in parallel: creating files is most of the
//! cost, in the kernel.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::{make_directories, DirTarget, Made, Tree, TreeFile};

/// A file or directory that could not be read or written, with the path it happened on. Its
/// text is the path; the cause is its `source()` (printed once, by `{:#}` or a chain).
#[derive(Debug)]
pub struct WriteError {
    /// The path.
    pub path: PathBuf,
    /// Cause.
    pub source: std::io::Error,
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.path.display())
    }
}

impl std::error::Error for WriteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |source| WriteError {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `tree` under `root` (created if missing): its directories as
/// [`Tree::make_directories`] makes them (empty ones included) and its files with their
/// modes. A file that exists is replaced atomically (temp file, then rename) and only when
/// its content or mode differs; a file in a directory this call created is written in place.
/// Returns the paths (relative to `root`, sorted) of the files that changed.
pub fn write_local(root: &Path, tree: &Tree) -> Result<Vec<String>, WriteError> {
    std::fs::create_dir_all(root).map_err(io(root))?;
    // What is under one top-level name is independent of what is under another.
    let mut parts: BTreeMap<&str, Part> = BTreeMap::new();
    for (path, mode) in tree.directories() {
        parts.entry(top(path)).or_default().dirs.push((path, mode));
    }
    for f in tree.files.values() {
        parts.entry(top(&f.path)).or_default().files.push(f);
    }
    let parts: Vec<Part> = parts.into_values().collect();
    let done = parallel(parts.len(), |i| parts[i].write(root));
    let mut changed = Vec::new();
    for d in done {
        changed.extend(d?);
    }
    changed.sort();
    Ok(changed)
}

/// The files of `wanted` that exist under `root`, with their content and mode, and those of
/// its declared directories that exist, with their mode. Read-only; what cannot be read is
/// absent.
pub fn read_local(root: &Path, wanted: &Tree) -> Tree {
    let mut found = Tree::default();
    for path in wanted.dirs.keys() {
        if let Ok(meta) = std::fs::metadata(root.join(path)) {
            if meta.is_dir() {
                found.add_dir(path.clone(), meta.permissions().mode() & 0o7777);
            }
        }
    }
    for path in wanted.files.keys() {
        let p = root.join(path);
        let (Ok(meta), Ok(content)) = (std::fs::metadata(&p), std::fs::read(&p)) else {
            continue;
        };
        let mode = meta.permissions().mode() & 0o7777;
        found.add_file(TreeFile::new(path.clone(), mode, content));
    }
    found
}

fn top(path: &str) -> &str {
    path.split_once('/').map_or(path, |(top, _)| top)
}

/// What a tree holds under one top-level name.
#[derive(Default)]
struct Part<'a> {
    dirs: Vec<(&'a str, u32)>,
    files: Vec<&'a TreeFile>,
}

impl Part<'_> {
    fn write(&self, root: &Path) -> Result<Vec<String>, WriteError> {
        let mut fs = LocalDirs {
            root,
            fresh: HashSet::new(),
        };
        make_directories(&self.dirs, &mut fs)?;
        let mut changed = Vec::new();
        for f in &self.files {
            let parent = f.path.rsplit_once('/').map(|(p, _)| p);
            let fresh = parent.is_some_and(|p| fs.fresh.contains(p));
            if write_file(&root.join(&f.path), f, fresh)? {
                changed.push(f.path.clone());
            }
        }
        Ok(changed)
    }
}

/// The local filesystem under `root`, as a [`DirTarget`].
struct LocalDirs<'a> {
    root: &'a Path,
    /// Directories this writer created: whatever goes in them is new.
    fresh: HashSet<String>,
}

impl DirTarget for LocalDirs<'_> {
    type Error = WriteError;

    fn make(&mut self, path: &str, mode: u32) -> Result<Made, WriteError> {
        let dir = self.root.join(path);
        match std::fs::DirBuilder::new().mode(mode).create(&dir) {
            Ok(()) => {
                // the umask may have taken bits away
                std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode))
                    .map_err(io(&dir))?;
                self.fresh.insert(path.to_owned());
                Ok(Made::Created)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Made::ParentMissing),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let meta = std::fs::metadata(&dir).map_err(io(&dir))?;
                if !meta.is_dir() {
                    return Err(io(&dir)(e));
                }
                if meta.permissions().mode() & 0o7777 != mode {
                    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode))
                        .map_err(io(&dir))?;
                }
                Ok(Made::Existed)
            }
            Err(e) => Err(io(&dir)(e)),
        }
    }

    fn no_parent(&mut self, path: &str) -> WriteError {
        let dir = self.root.join(path);
        io(&dir)(std::io::ErrorKind::NotFound.into())
    }
}

/// Writes one file; `fresh` when its directory was just created. Returns whether it changed.
fn write_file(path: &Path, f: &TreeFile, fresh: bool) -> Result<bool, WriteError> {
    let perms = std::fs::Permissions::from_mode(f.mode);
    if fresh {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(f.mode)
            .open(path)
        {
            Ok(mut file) => {
                file.write_all(&f.content).map_err(io(path))?;
                file.set_permissions(perms).map_err(io(path))?;
                return Ok(true);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io(path)(e)),
        }
    }
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & 0o7777 == f.mode && meta.len() == f.content.len() as u64 {
            if let Ok(existing) = std::fs::read(path) {
                if existing == f.content {
                    return Ok(false);
                }
            }
        }
    }
    // a config tree is rewritten by every deploy: its files are not synced one by one
    replace(path, &f.content, f.mode, false).map(|()| true)
}

/// Replaces the file at `path` (a symlink there is replaced, not followed) with `content`
/// and mode `mode`, atomically and durably: the content goes to a new file in the same
/// directory, is synced, and is renamed over `path`, then the directory is synced. Whatever
/// fails (a full disk, a kill), `path` is the old file or the new one, whole; a failed
/// attempt leaves no temp file behind.
pub fn replace_file(path: &Path, content: &[u8], mode: u32) -> Result<(), WriteError> {
    replace(path, content, mode, true)
}

/// [`replace_file`] without the syncs: as atomic (`path` is the old file or the new one,
/// whole), but a power cut soon after may leave the old one. For what is cheap to lose and
/// written on every run (the run history's records): a sync costs more than the rest of a
/// no-op run's writes.
pub fn replace_file_unsynced(path: &Path, content: &[u8], mode: u32) -> Result<(), WriteError> {
    replace(path, content, mode, false)
}

/// [`replace_file`], synced or not.
fn replace(path: &Path, content: &[u8], mode: u32, durable: bool) -> Result<(), WriteError> {
    let parent = match path.parent() {
        Some(p) if p.as_os_str().is_empty() => Path::new("."),
        Some(p) => p,
        None => return Err(io(path)(std::io::ErrorKind::InvalidInput.into())),
    };
    let tmp = TempFile::new_in(parent)?;
    let r = (|| {
        let mut file = &tmp.file;
        file.write_all(content).map_err(io(path))?;
        // the temp file was made 0600; the umask cannot have narrowed an explicit chmod
        tmp.file
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(io(path))?;
        if durable {
            tmp.file.sync_all().map_err(io(path))?;
        }
        std::fs::rename(&tmp.path, path).map_err(io(path))
    })();
    if r.is_err() {
        let _ = std::fs::remove_file(&tmp.path);
    }
    r?;
    if durable {
        std::fs::File::open(parent)
            .and_then(|d| d.sync_all())
            .map_err(io(parent))?;
    }
    Ok(())
}

/// A new file with a unique name in a directory, to be renamed over the file it replaces.
struct TempFile {
    path: PathBuf,
    file: std::fs::File,
}

static TEMP_COUNTER: AtomicUsize = AtomicUsize::new(0);

impl TempFile {
    fn new_in(dir: &Path) -> Result<TempFile, WriteError> {
        loop {
            let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!(".tmp-kollars-{}-{n}", std::process::id()));
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
            {
                Ok(file) => return Ok(TempFile { path, file }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(io(dir)(e)),
            }
        }
    }
}

/// `f(0..n)` on up to `available_parallelism` threads (this one included); results in order.
/// The one small pool of the workspace: the writer's services and the renderer's hosts.
pub fn parallel<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .min(n);
    if workers <= 1 {
        return (0..n).map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= n {
                return done;
            }
            done.push((i, f(i)));
        }
    };
    let mut all: Vec<(usize, T)> = std::thread::scope(|s| {
        let handles: Vec<_> = (1..workers).map(|_| s.spawn(work)).collect();
        let mut all = work();
        for h in handles {
            all.extend(h.join().expect("writer thread panicked"));
        }
        all
    });
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, t)| t).collect()
}

#[cfg(test)]
mod tests;
