//! Writing a rendered host to a local directory (genconfig, and deploy to this machine).
//! Files are written only when their content or mode differs, and replaced atomically
//! (temp file, then rename), so a container starting meanwhile never reads half a file and an
//! unchanged tree is not touched at all.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::io;
use crate::{RenderError, RenderedFile, RenderedHost};

/// Writes a host's services under `root/<service>/`: the directories of
/// [`RenderedService::tree_dirs`](crate::RenderedService::tree_dirs) (empty ones included) and the files, with their modes.
/// A file that already exists is replaced atomically (temp file, then rename) and only when
/// its content or mode differs; a file in a directory this call created is written in place.
/// Returns the paths that changed.
pub fn write_host(root: &Path, rendered: &RenderedHost) -> Result<Vec<PathBuf>, RenderError> {
    std::fs::create_dir_all(root).map_err(io(root))?;
    // services are independent directories: write them in parallel (creating files is most
    // of the cost, in the kernel)
    let done = crate::render::parallel(rendered.services.len(), |i| {
        let svc = &rendered.services[i];
        let mut w = Writer::default();
        w.known.insert(root.to_path_buf());
        let mut changed = Vec::new();
        for d in svc.tree_dirs() {
            w.dir(&root.join(&d.path), d.mode)?;
        }
        let dir = root.join(&svc.name);
        for f in &svc.files {
            let path = dir.join(&f.path);
            let parent = path.parent().expect("file has a parent");
            if w.write(&path, f, w.fresh.contains(parent))? {
                changed.push(path);
            }
        }
        Ok(changed)
    });
    let mut changed = Vec::new();
    for d in done {
        changed.extend(d?);
    }
    Ok(changed)
}

/// Directories seen by one [`write_host`], so that each is created or checked once.
#[derive(Default)]
struct Writer {
    /// Directories that exist with their mode set.
    known: std::collections::HashSet<PathBuf>,
    /// Those this writer created: whatever goes in them is new.
    fresh: std::collections::HashSet<PathBuf>,
}

impl Writer {
    /// Makes `dir` (and missing parents) exist with `mode`.
    fn dir(&mut self, dir: &Path, mode: u32) -> Result<(), RenderError> {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        if self.known.contains(dir) {
            return Ok(());
        }
        match std::fs::DirBuilder::new().mode(mode).create(dir) {
            Ok(()) => {
                // the umask may have taken bits away
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode))
                    .map_err(io(dir))?;
                self.fresh.insert(dir.to_path_buf());
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let parent = dir.parent().ok_or_else(|| io(dir)(e))?;
                self.dir(parent, mode)?;
                return self.dir(dir, mode);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let meta = std::fs::metadata(dir).map_err(io(dir))?;
                if !meta.is_dir() {
                    return Err(io(dir)(e));
                }
                if meta.permissions().mode() & 0o7777 != mode {
                    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode))
                        .map_err(io(dir))?;
                }
            }
            Err(e) => return Err(io(dir)(e)),
        }
        self.known.insert(dir.to_path_buf());
        Ok(())
    }

    /// Writes one file; `fresh` when its directory was just created. Returns whether it
    /// changed.
    fn write(&self, path: &Path, f: &RenderedFile, fresh: bool) -> Result<bool, RenderError> {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
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
            if meta.permissions().mode() & 0o7777 == f.mode && meta.len() == f.content.len() as u64
            {
                if let Ok(existing) = std::fs::read(path) {
                    if existing == f.content {
                        return Ok(false);
                    }
                }
            }
        }
        let parent = path.parent().expect("file has a parent");
        let mut tmp = tempfile::NamedTempFile::new_in(parent).map_err(io(parent))?;
        tmp.write_all(&f.content).map_err(io(path))?;
        tmp.as_file().set_permissions(perms).map_err(io(path))?;
        tmp.persist(path).map_err(|e| RenderError::Io {
            path: path.to_path_buf(),
            source: e.error,
        })?;
        Ok(true)
    }
}
