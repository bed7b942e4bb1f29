//! The filesystem work of `kolla_set_configs`: copying with owner and mode, deleting, exact
//! copies for the image-default backups, and the `permissions` walks.
//!
//! Two rules differ from kolla on purpose. Destinations are never followed through symlinks
//! (a symlink at a dest is replaced, not written through), and recursive walks never follow
//! symlinks (kolla chowns as root whatever a link planted by the service user points at).
//! Files are written to a temporary name next to the dest, given their owner and mode, and
//! then renamed into place, so a dest is never seen half-written or with the wrong mode.

use std::fs::{self, FileTimes, Metadata, Permissions};
use std::io;
use std::os::unix::fs::{chown, lchown, symlink, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::config::{Match, PermPlan, Props};
use crate::error::Error;
use crate::glob::glob;
use crate::log;
use crate::root::Root;

/// Whether `p` exists, without following a final symlink.
pub fn lexists(p: &Path) -> bool {
    fs::symlink_metadata(p).is_ok()
}

/// Removes whatever is at `p` (a directory tree, a file, or the symlink itself).
pub fn delete(root: &Root, p: &Path) -> Result<(), Error> {
    let res = match fs::symlink_metadata(p) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => Err(e),
        Ok(m) => {
            log::info(format!("Deleting {}", root.container(p)));
            if m.is_dir() {
                fs::remove_dir_all(p)
            } else {
                fs::remove_file(p)
            }
        }
    };
    res.map_err(|e| Error::io("Unable to delete", root.container(p), e))
}

/// Copies one matched source of a `config_files` entry to its dest.
pub fn copy_match(root: &Root, m: &Match, props: &Props, merge: bool) -> Result<(), Error> {
    let src = root.host(&m.src);
    let dest = root.host(&m.dest);
    if !merge {
        delete(root, &dest)?;
    }
    if let Some(parent) = dest.parent() {
        fs::create_dir_all(parent).map_err(|e| {
            Error::io(
                "Can't create destination directory",
                root.container(parent),
                e,
            )
        })?;
    }
    let mut stack = Vec::new();
    merge_tree(root, &src, &dest, props, merge, &mut stack).inspect_err(|_| {
        log::error(format!("Unable to merge {} with {}", m.src, m.dest));
    })
}

fn merge_tree(
    root: &Root,
    src: &Path,
    dest: &Path,
    props: &Props,
    merge: bool,
    stack: &mut Vec<(u64, u64)>,
) -> Result<(), Error> {
    let at = |e| Error::io("Unable to read", root.container(src), e);
    let lmeta = fs::symlink_metadata(src).map_err(at)?;
    if merge && *props == Props::Preserve && lmeta.file_type().is_symlink() {
        log::info(format!(
            "Copying {} to {}",
            root.container(src),
            root.container(dest)
        ));
        return copy_link(src, dest)
            .map_err(|e| Error::io("Unable to copy", root.container(dest), e));
    }
    // Sources are followed through symlinks (k8s ConfigMaps are `..data` links).
    let meta = fs::metadata(src).map_err(at)?;
    if meta.is_dir() {
        let key = (meta.dev(), meta.ino());
        if stack.contains(&key) {
            let loop_err = io::Error::other("symlink loop: a directory contains itself");
            return Err(Error::io("Unable to copy", root.container(src), loop_err));
        }
        stack.push(key);
        match fs::symlink_metadata(dest) {
            Ok(m) if m.is_dir() => {}
            found => {
                if found.is_ok() {
                    delete(root, dest)?;
                }
                log::info(format!("Creating directory {}", root.container(dest)));
                fs::create_dir(dest)
                    .map_err(|e| Error::io("Unable to create", root.container(dest), e))?;
            }
        }
        for name in sorted_names(src).map_err(at)? {
            merge_tree(
                root,
                &src.join(&name),
                &dest.join(&name),
                props,
                merge,
                stack,
            )?;
        }
        // Set after the children so preserved times stay (kolla sets them before).
        set_props(dest, props, &meta, true)
            .map_err(|e| Error::io("Unable to set permissions on", root.container(dest), e))?;
        stack.pop();
        Ok(())
    } else if meta.is_file() {
        log::info(format!(
            "Copying {} to {}",
            root.container(src),
            root.container(dest)
        ));
        copy_file(src, dest, props, &meta)
            .map_err(|e| Error::io("Unable to copy", root.container(dest), e))
    } else {
        let e = io::Error::other("not a regular file, directory or symlink");
        Err(Error::io("Unable to copy", root.container(src), e))
    }
}

/// The directory entries of `dir`, sorted.
pub fn sorted_names(dir: &Path) -> io::Result<Vec<std::ffi::OsString>> {
    let mut names = fs::read_dir(dir)?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<io::Result<Vec<_>>>()?;
    names.sort();
    Ok(names)
}

fn tmp_path(dest: &Path) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dest.with_file_name(format!(".{name}.kolla-new"))
}

/// Writes `src` to a temporary name, sets its properties, renames it over `dest`.
fn copy_file(src: &Path, dest: &Path, props: &Props, meta: &Metadata) -> io::Result<()> {
    let tmp = tmp_path(dest);
    let _ = fs::remove_file(&tmp);
    let res = fs::copy(src, &tmp)
        .and_then(|_| set_props(&tmp, props, meta, false))
        .and_then(|()| replace(&tmp, dest));
    if res.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    res
}

/// Renames `tmp` over `dest`, removing a directory at `dest` first.
fn replace(tmp: &Path, dest: &Path) -> io::Result<()> {
    if fs::symlink_metadata(dest).is_ok_and(|m| m.is_dir()) {
        fs::remove_dir_all(dest)?;
    }
    fs::rename(tmp, dest)
}

/// Recreates the symlink `src` at `dest`.
fn copy_link(src: &Path, dest: &Path) -> io::Result<()> {
    let tmp = tmp_path(dest);
    let _ = fs::remove_file(&tmp);
    symlink(fs::read_link(src)?, &tmp)?;
    replace(&tmp, dest)
}

fn set_props(p: &Path, props: &Props, src: &Metadata, is_dir: bool) -> io::Result<()> {
    match props {
        Props::Explicit { owner, perm } => {
            let mode = if is_dir {
                perm.dir_mode()
            } else {
                perm.file_mode()
            };
            ensure(p, owner.uid, owner.gid, Some(mode)).map(drop)
        }
        Props::Preserve => {
            ensure(p, src.uid(), src.gid(), Some(src.mode() & 0o7777))?;
            copy_times(p, src)
        }
    }
}

fn copy_times(p: &Path, src: &Metadata) -> io::Result<()> {
    let times = FileTimes::new()
        .set_accessed(src.accessed()?)
        .set_modified(src.modified()?);
    fs::File::open(p)?.set_times(times)
}

/// Sets owner and mode of `p` (following symlinks) where they differ; returns whether
/// anything changed. The owner goes first: chown clears setuid/setgid bits.
pub fn ensure(p: &Path, uid: u32, gid: u32, mode: Option<u32>) -> io::Result<bool> {
    let m = fs::metadata(p)?;
    let mut changed = false;
    if m.uid() != uid || m.gid() != gid {
        chown(p, Some(uid), Some(gid))?;
        changed = true;
    }
    if let Some(mode) = mode {
        let cur = if changed {
            fs::metadata(p)?.mode()
        } else {
            m.mode()
        };
        if cur & 0o7777 != mode {
            fs::set_permissions(p, Permissions::from_mode(mode))?;
            changed = true;
        }
    }
    Ok(changed)
}

/// An exact copy of the tree at `src` (symlinks stay symlinks; owner, mode and times kept),
/// for the backups of image defaults and their restore.
pub fn clone_tree(src: &Path, dest: &Path) -> io::Result<()> {
    let m = fs::symlink_metadata(src)?;
    if m.file_type().is_symlink() {
        symlink(fs::read_link(src)?, dest)?;
        lchown(dest, Some(m.uid()), Some(m.gid()))
    } else if m.is_dir() {
        if !fs::symlink_metadata(dest).is_ok_and(|d| d.is_dir()) {
            fs::create_dir(dest)?;
        }
        for name in sorted_names(src)? {
            clone_tree(&src.join(&name), &dest.join(&name))?;
        }
        ensure(dest, m.uid(), m.gid(), Some(m.mode() & 0o7777))?;
        copy_times(dest, &m)
    } else if m.is_file() {
        fs::copy(src, dest)?;
        ensure(dest, m.uid(), m.gid(), Some(m.mode() & 0o7777))?;
        copy_times(dest, &m)
    } else {
        log::warn(format!(
            "Not backing up {}: not a file, directory or symlink",
            src.display()
        ));
        Ok(())
    }
}

/// Applies a `directories`, `files` or `permissions` entry (after the path exists).
///
/// The top-level paths are globbed and followed through symlinks, as in kolla. With
/// `recurse`, the walk below never follows symlinks (a symlink itself gets the owner), and a
/// path is skipped if *any* `exclude` pattern matches it (`re.search` on the full path).
/// Failures to chown or chmod are logged and do not stop the run, as in kolla.
pub fn apply_perms(root: &Root, p: &PermPlan) {
    for path in glob(root, &p.path) {
        let host = root.host(&path);
        log::info(format!("Setting permission for {path}"));
        let Ok(meta) = fs::metadata(&host) else {
            log::warn(format!("{path} does not exist"));
            continue;
        };
        set_one(root, p, &host, &meta);
        if p.recurse && meta.is_dir() {
            walk(root, p, &host);
        }
    }
}

fn set_one(root: &Root, p: &PermPlan, host: &Path, meta: &Metadata) -> bool {
    let mode = p.perm.map(|pm| {
        if meta.is_dir() {
            pm.dir_mode()
        } else {
            pm.file_mode()
        }
    });
    match ensure(host, p.owner.uid, p.owner.gid, mode) {
        Ok(changed) => changed,
        Err(e) => {
            log::error(format!(
                "Failed to set ownership or permissions of {}: {e}",
                root.container(host)
            ));
            false
        }
    }
}

fn walk(root: &Root, p: &PermPlan, dir: &Path) {
    let Ok(names) = sorted_names(dir) else {
        return;
    };
    for name in names {
        let child = dir.join(name);
        let Ok(lm) = fs::symlink_metadata(&child) else {
            continue;
        };
        let cpath = root.container(&child);
        let excluded = p.exclude.iter().any(|re| re.is_match(&cpath));
        if !excluded {
            if lm.file_type().is_symlink() {
                if (lm.uid(), lm.gid()) != (p.owner.uid, p.owner.gid) {
                    if let Err(e) = lchown(&child, Some(p.owner.uid), Some(p.owner.gid)) {
                        log::error(format!("Failed to change ownership of {cpath}: {e}"));
                    }
                }
            } else if set_one(root, p, &child, &lm) {
                log::info(format!("Setting permission for {cpath}"));
            }
        }
        if lm.is_dir() {
            walk(root, p, &child);
        }
    }
}
