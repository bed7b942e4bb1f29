//! A host's config tree (`node_config_directory`: directories and files with their modes) as
//! one value, [`Tree`], and the rules every writer of it follows.
//!
//! The renderer hands out a [`Tree`] (`kollars_render::RenderedHost::tree`); it is written on
//! this machine by [`write_local`] or through a host's engine by
//! `kollars_docker::Engine::write_tree`, and `Engine::read_tree` (or [`read_local`]) reads one
//! back for `plan`. A host must end up with the same tree whichever way it was written: same
//! paths, contents, file modes, directory modes and empty directories. So the directory rules
//! live here once, and both writers take them from here instead of each restating them:
//!
//! - [`DEFAULT_DIR_MODE`] (kolla-ansible's `0770`) is the mode of every directory nothing
//!   gives a mode of its own;
//! - [`Tree::directories`] lists the directories to make, in order: the declared ones
//!   ([`Tree::dirs`], parents first), then the directory of each file that is not declared,
//!   with [`DEFAULT_DIR_MODE`];
//! - [`make_directories`] makes them on a [`DirTarget`] (the local filesystem, or the picture
//!   of a host's directory the engine writer downloaded): a directory gets its mode whether it
//!   was missing or had another one, and a missing parent is made with the mode of the
//!   directory that needed it (as `mkdir` of the child failing and the parent being made with
//!   the child's mode). Directories nobody names (the root, an operator's own) and files
//!   nobody names are left alone.
//!
//! std only: the renderer and the Docker driver both depend on this crate, and the driver
//! must not depend on the template engine.

#![deny(missing_docs)]

use std::collections::{BTreeMap, BTreeSet, HashSet};

mod local;

pub use local::{
    parallel, read_local, replace_file, replace_file_unsynced, write_local, WriteError,
};

/// Mode of every directory of a config tree that nothing gives a mode of its own: each
/// service's directory (`/etc/kolla/<service>`), the directory of a rendered file, and a
/// `directory:` entry without `mode`. kolla-ansible's `0770`. Every writer of a [`Tree`] uses
/// this one value (through [`Tree::directories`]), so the trees written locally and through an
/// engine agree.
pub const DEFAULT_DIR_MODE: u32 = 0o770;

/// One file of a [`Tree`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeFile {
    /// Path relative to the tree's root (`keystone/keystone.conf`), `/`-separated, no `..`.
    pub path: String,
    /// Permission bits (`0o660`).
    pub mode: u32,
    /// Content, byte for byte.
    pub content: Vec<u8>,
}

impl TreeFile {
    /// A file with this relative path, mode and content.
    pub fn new(path: impl Into<String>, mode: u32, content: impl Into<Vec<u8>>) -> TreeFile {
        TreeFile {
            path: path.into(),
            mode,
            content: content.into(),
        }
    }
}

/// A directory of a [`Tree`], with the mode it must have (what [`Tree::new`] takes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeDir {
    /// Path relative to the tree's root (`haproxy/services.d`), `/`-separated, no `..`.
    pub path: String,
    /// Permission bits (`0o770`).
    pub mode: u32,
}

impl TreeDir {
    /// A directory with this relative path and mode.
    pub fn new(path: impl Into<String>, mode: u32) -> TreeDir {
        TreeDir {
            path: path.into(),
            mode,
        }
    }
}

/// Directories and files with their modes, by path relative to the tree's root: what is to be
/// written under a host's `node_config_directory`, or what was found there.
///
/// Both are sorted by path, so a directory comes before what it holds. In a tree to write,
/// [`dirs`](Tree::dirs) are the declared directories (empty ones included); the directory of a
/// file need not be among them (see [`Tree::directories`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tree {
    /// Regular files.
    pub files: BTreeMap<String, TreeFile>,
    /// Directories and their permission bits.
    pub dirs: BTreeMap<String, u32>,
}

impl Tree {
    /// A tree of these directories and files. A path given twice keeps its first mention.
    pub fn new(
        dirs: impl IntoIterator<Item = TreeDir>,
        files: impl IntoIterator<Item = TreeFile>,
    ) -> Tree {
        let mut tree = Tree::default();
        for d in dirs {
            tree.add_dir(d.path, d.mode);
        }
        for f in files {
            tree.add_file(f);
        }
        tree
    }

    /// Declares a directory with its mode, unless the path is declared already (the first
    /// mention wins).
    pub fn add_dir(&mut self, path: impl Into<String>, mode: u32) {
        self.dirs.entry(path.into()).or_insert(mode);
    }

    /// Adds a file, unless one with its path is there already (the first mention wins).
    pub fn add_file(&mut self, file: TreeFile) {
        self.files.entry(file.path.clone()).or_insert(file);
    }

    /// Every directory a writer must give a mode, in the order it does so, each once: the
    /// declared [`dirs`](Tree::dirs) with their modes (parents first), then the directory of
    /// each file that is not declared, with [`DEFAULT_DIR_MODE`]. Missing parents of either
    /// are not listed: [`make_directories`] makes them with the mode of the directory that
    /// needed them. The root is never listed (a file directly under it has none).
    pub fn directories(&self) -> Vec<(&str, u32)> {
        let mut out: Vec<(&str, u32)> = self.dirs.iter().map(|(p, &m)| (p.as_str(), m)).collect();
        let mut of_files = BTreeSet::new();
        for path in self.files.keys() {
            if let Some((parent, _)) = path.rsplit_once('/') {
                if !self.dirs.contains_key(parent) && of_files.insert(parent) {
                    out.push((parent, DEFAULT_DIR_MODE));
                }
            }
        }
        out
    }

    /// Makes [`Tree::directories`] on `target` (see [`make_directories`]).
    pub fn make_directories<T: DirTarget>(&self, target: &mut T) -> Result<(), T::Error> {
        make_directories(&self.directories(), target)
    }
}

/// What a [`DirTarget`] did when asked to make one directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Made {
    /// It was missing and now exists with the mode.
    Created,
    /// It existed; it now has the mode (it was set if it differed).
    Existed,
    /// Its parent is missing; nothing was done.
    ParentMissing,
}

/// Where a writer makes directories: the local filesystem, or a picture of a host's directory
/// from which the engine writer computes what to upload. [`make_directories`] drives it.
pub trait DirTarget {
    /// Why making a directory failed.
    type Error;

    /// Makes the directory at `path` (relative to the root) exist with `mode`: creates it when
    /// its parent exists ([`Made::Created`]), sets the mode of one that exists with another
    /// ([`Made::Existed`]), or reports that the parent is missing ([`Made::ParentMissing`]).
    /// Something else than a directory at `path` is an error.
    fn make(&mut self, path: &str, mode: u32) -> Result<Made, Self::Error>;

    /// The error for a directory whose parent is still missing after it was made (or that has
    /// no parent to make: the root itself is missing).
    fn no_parent(&mut self, path: &str) -> Self::Error;
}

/// Makes `dirs` (from [`Tree::directories`], or a part of them: directories under different
/// top-level names are independent) on `target`, in order, each once: a directory gets its
/// mode whether it was missing or had another, and a missing parent is made, first, with the
/// mode of the directory that needed it. A parent that exists is left alone unless it is
/// itself listed.
pub fn make_directories<T: DirTarget>(
    dirs: &[(&str, u32)],
    target: &mut T,
) -> Result<(), T::Error> {
    let mut known = HashSet::new();
    for &(path, mode) in dirs {
        ensure(path, mode, &mut known, target)?;
    }
    Ok(())
}

fn ensure<'a, T: DirTarget>(
    path: &'a str,
    mode: u32,
    known: &mut HashSet<&'a str>,
    target: &mut T,
) -> Result<(), T::Error> {
    if known.contains(path) {
        return Ok(());
    }
    if target.make(path, mode)? == Made::ParentMissing {
        let Some((parent, _)) = path.rsplit_once('/') else {
            return Err(target.no_parent(path));
        };
        ensure(parent, mode, known, target)?;
        if target.make(path, mode)? == Made::ParentMissing {
            return Err(target.no_parent(path));
        }
    }
    known.insert(path);
    Ok(())
}

#[cfg(test)]
mod tests;
