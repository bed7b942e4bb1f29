//! Where a host's rendered config tree goes, and reading back what is there.
//!
//! A tree is written on this machine's filesystem (`--output`, or a host reached through a
//! local socket) or through the host's engine; `plan` reads it back the same way to diff it.
//! This is the one place that chooses between the two, for genconfig, plan and deploy alike.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use kollars_docker::{Engine, TreeDir, TreeFile};
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
        let host = &rendered.host;
        match self {
            Destination::Local(root) => {
                let changed = kollars_render::write_host(root, rendered)
                    .with_context(|| format!("host {host}: writing configs"))?;
                Ok(changed
                    .into_iter()
                    .filter_map(|p| p.strip_prefix(root).ok().map(Path::to_path_buf))
                    .collect())
            }
            Destination::Engine(engine, image) => {
                let (dirs, files) = tree(rendered);
                let written = engine
                    .write_tree(&rendered.node_config_directory, &dirs, &files, image)
                    .await?;
                Ok(written.files.into_iter().map(PathBuf::from).collect())
            }
        }
    }

    /// The current contents of the host's rendered files where they are written, by
    /// `<service>/<file>` (missing files are absent). Read-only.
    pub async fn read(&self, rendered: &RenderedHost) -> Result<BTreeMap<String, Vec<u8>>> {
        let mut out = BTreeMap::new();
        match self {
            Destination::Local(root) => {
                for svc in &rendered.services {
                    for f in &svc.files {
                        let rel = format!("{}/{}", svc.name, f.path);
                        if let Ok(bytes) = std::fs::read(root.join(&rel)) {
                            out.insert(rel, bytes);
                        }
                    }
                }
            }
            Destination::Engine(engine, image) => {
                let tree = engine
                    .read_tree(&rendered.node_config_directory, image)
                    .await?;
                for (path, file) in tree.files {
                    out.insert(path, file.content);
                }
            }
        }
        Ok(out)
    }
}

/// A rendered host as a tree relative to its `node_config_directory`: the directories
/// `kollars_render::write_host` makes (each service directory 0770, then the service's
/// `dirs` with their modes, empty ones included) and the files. A file's directory that is
/// not among them gets [`kollars_docker::DIR_MODE`] from `write_tree`, as locally.
pub fn tree(rendered: &RenderedHost) -> (Vec<TreeDir>, Vec<TreeFile>) {
    let mut dirs = Vec::new();
    let mut files = Vec::new();
    for svc in &rendered.services {
        dirs.push(TreeDir::new(svc.name.clone(), SERVICE_DIR_MODE));
        dirs.extend(
            svc.dirs
                .iter()
                .map(|d| TreeDir::new(format!("{}/{}", svc.name, d.path), d.mode)),
        );
        files.extend(svc.files.iter().map(|f| {
            TreeFile::new(
                format!("{}/{}", svc.name, f.path),
                f.mode,
                f.content.as_slice(),
            )
        }));
    }
    (dirs, files)
}

/// Mode of a service's directory (`/etc/kolla/<service>`), as `write_host` makes it.
const SERVICE_DIR_MODE: u32 = 0o770;
