//! The renderer: every host's `/etc/kolla/<service>/` tree, in memory first.
//!
//! For each host and each service enabled and mapped to it, every
//! [`ConfigFile`](kollars_services::ConfigFile) of the service is rendered: our template, then
//! the operator's overrides merged the way kolla-ansible merges them (INI per key, YAML
//! deeply, or a whole-file replacement), all rendered as Jinja in the host's context. Nothing
//! is written until every host has rendered without error, so bad input changes nothing; then
//! each file is written atomically.
//!
//! Each file and each service directory gets a content hash, which the deploy step records on
//! containers to know what changed.
//!
//! A file's content is bytes ([`RenderedFile::content`]): templates, merges and `json` produce
//! text, but a `copy` entry copies whatever it finds byte for byte, as kolla-ansible's copy
//! does (a PNG logo in a horizon theme, a binary keyring). Hashes are over those bytes, so a
//! text file hashes exactly as it did when contents were strings.
//!
//! Modules, in the order data flows: [`render_all`] (`render`) runs every host's services and
//! their entries; `file` renders one entry (with [`ini`] and [`yaml`] for merges), `copy` its
//! copies and globs; `hash` gives the content hashes. What they exchange is `model`
//! ([`RenderedHost`] and below); failures are [`RenderError`].
//!
//! Writing is not here: [`RenderedHost::tree`] gives the host's tree as a
//! [`kollars_tree::Tree`], which the local writer (`kollars_tree::write_local`, or
//! [`write_host`] for a rendered host) and the engine writer (`kollars_docker`) both consume,
//! with the directory rules of that crate (its [`DEFAULT_DIR_MODE`] is re-exported here).

#![deny(missing_docs)]

mod copy;
mod error;
mod file;
mod hash;
pub mod ini;
mod model;
mod render;
pub mod yaml;

pub use error::RenderError;
pub use kollars_tree::DEFAULT_DIR_MODE;
pub use model::{RenderedDir, RenderedFile, RenderedHost, RenderedService, Selection};
pub use render::{render_all, render_host};

/// Writes a rendered host's tree ([`RenderedHost::tree`]) under `root` with
/// [`kollars_tree::write_local`]: directories with their modes (empty ones included), files
/// with theirs, only what differs, each file replaced atomically. Returns the paths (under
/// `root`) of the files that changed.
pub fn write_host(
    root: &std::path::Path,
    rendered: &RenderedHost,
) -> Result<Vec<std::path::PathBuf>, RenderError> {
    let changed =
        kollars_tree::write_local(root, &rendered.tree()).map_err(|e| RenderError::Io {
            path: e.path,
            source: e.source,
        })?;
    Ok(changed.into_iter().map(|p| root.join(p)).collect())
}
