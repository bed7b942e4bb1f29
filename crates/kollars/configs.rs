//! Where a host's rendered config tree goes, and reading back what is there.
//!
//! A host's tree is one value ([`RenderedHost::tree`], a [`Tree`]), written on this machine's
//! filesystem (`--output`, or a host reached through a local socket) by
//! [`kollars_tree::write_local`] or through the host's engine by [`Engine::write_tree`]; `plan`
//! reads it back the same way to diff it. Both writers follow that crate's directory rules, so
//! the tree is the same either way. This is the one place that chooses between the two, for
//! genconfig, plan and deploy alike.

use std::path::PathBuf;

use anyhow::{Context, Result};
use kollars_docker::{Engine, Tree};
use kollars_render::RenderedHost;

/// Where one host's tree is written.
pub enum Destination<'a> {
    /// This machine's filesystem, under this root.
    Local(PathBuf),
    /// Through the engine, with helper containers of this image, into the host's
    /// `node_config_directory`.
    Engine(&'a Engine, &'a str),
}

impl Destination<'_> {
    /// Writes the host's tree; returns the paths of the files that changed, relative to the
    /// root (`<service>/<file>`).
    pub async fn write(&self, rendered: &RenderedHost) -> Result<Vec<PathBuf>> {
        let tree = rendered.tree();
        let changed = match self {
            Destination::Local(root) => kollars_tree::write_local(root, &tree)
                .with_context(|| format!("host {}: writing configs", rendered.host))?,
            Destination::Engine(engine, image) => {
                engine
                    .write_tree(&rendered.node_config_directory, &tree, image)
                    .await?
                    .files
            }
        };
        Ok(changed.into_iter().map(PathBuf::from).collect())
    }

    /// What is there of the host's tree where it is written: files by `<service>/<file>`
    /// with their content and mode (missing files are absent). Read-only.
    pub async fn read(&self, rendered: &RenderedHost) -> Result<Tree> {
        Ok(match self {
            Destination::Local(root) => kollars_tree::read_local(root, &rendered.tree()),
            Destination::Engine(engine, image) => {
                engine
                    .read_tree(&rendered.node_config_directory, image)
                    .await?
            }
        })
    }
}
