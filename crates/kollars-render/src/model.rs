//! What rendering produces: every host's config tree as plain data. It is the one interface
//! between the renderer and what consumes its output (the writers, through
//! [`RenderedHost::tree`], and the driver's config hashes), so it holds values only, no
//! behaviour beyond small lookups and that conversion.

use std::path::PathBuf;

use kollars_tree::{Tree, TreeFile};
use kollars_vars::Value;

use crate::{hash, DEFAULT_DIR_MODE};

/// One rendered file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    /// Path inside the service directory.
    pub path: String,
    /// Mode (e.g. 0o660).
    pub mode: u32,
    /// Content, byte for byte: UTF-8 text for everything rendered, any bytes for a copy.
    pub content: Vec<u8>,
    /// sha256 of the content, hex.
    pub hash: String,
}

impl RenderedFile {
    /// A file with this content; its hash is the sha256 of the bytes.
    pub fn new(path: String, mode: u32, content: Vec<u8>) -> RenderedFile {
        let hash = hash::sha256_hex(&content);
        RenderedFile {
            path,
            mode,
            content,
            hash,
        }
    }

    /// The content as text, or `None` when it is not UTF-8 (a copied binary file).
    pub fn text(&self) -> Option<&str> {
        std::str::from_utf8(&self.content).ok()
    }
}

/// One service's rendered config directory.
#[derive(Debug, Clone)]
pub struct RenderedService {
    /// Service name (the directory name).
    pub name: String,
    /// Project.
    pub project: String,
    /// The evaluated container dict.
    pub container: Value,
    /// Files, sorted by path.
    pub files: Vec<RenderedFile>,
    /// Directories below the service directory, with their mode, sorted by path (parents
    /// first): every directory a file is in, and every `directory:` entry (which may be
    /// empty). The service directory itself is always [`DEFAULT_DIR_MODE`].
    pub dirs: Vec<RenderedDir>,
    /// Hash over every file's path, mode and content.
    pub hash: String,
}

/// A directory inside a service's config directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedDir {
    /// Path inside the service directory.
    pub path: String,
    /// Mode ([`DEFAULT_DIR_MODE`] unless the config entry says otherwise; 0o755 for what a
    /// recursive or glob `copy` creates, as Ansible's copy leaves them).
    pub mode: u32,
}

/// Everything rendered for one host.
#[derive(Debug, Clone)]
pub struct RenderedHost {
    /// Inventory host name.
    pub host: String,
    /// `node_config_directory` on that host.
    pub node_config_directory: PathBuf,
    /// Services in deploy order.
    pub services: Vec<RenderedService>,
}

/// Which hosts and services to render.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Only these hosts (all when empty).
    pub hosts: Vec<String>,
    /// Only these services or projects (all when empty).
    pub services: Vec<String>,
}

impl RenderedHost {
    /// The host's tree, relative to its `node_config_directory`, as every writer takes it:
    /// each service's directory ([`DEFAULT_DIR_MODE`]) and its [`dirs`] with their modes
    /// (empty ones included), and every file at `<service>/<path>`. The directory of a file
    /// that is not among them is the tree's rule ([`Tree::directories`]).
    ///
    /// [`dirs`]: RenderedService::dirs
    pub fn tree(&self) -> Tree {
        let mut tree = Tree::default();
        for svc in &self.services {
            tree.add_dir(svc.name.clone(), DEFAULT_DIR_MODE);
            for d in &svc.dirs {
                tree.add_dir(format!("{}/{}", svc.name, d.path), d.mode);
            }
            for f in &svc.files {
                let path = format!("{}/{}", svc.name, f.path);
                tree.add_file(TreeFile::new(path, f.mode, f.content.as_slice()));
            }
        }
        tree
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_has_service_directories_declared_directories_and_files() {
        let svc = RenderedService {
            name: "haproxy".into(),
            project: "loadbalancer".into(),
            container: Value::UNDEFINED,
            files: vec![
                RenderedFile::new("haproxy.cfg".into(), 0o660, b"x".to_vec()),
                RenderedFile::new("services.d/a.cfg".into(), 0o640, b"a".to_vec()),
                RenderedFile::new("extra/b/c.cfg".into(), 0o660, Vec::new()),
            ],
            dirs: vec![RenderedDir {
                path: "services.d".into(),
                mode: 0o750,
            }],
            hash: String::new(),
        };
        let host = RenderedHost {
            host: "ctl1".into(),
            node_config_directory: "/etc/kolla".into(),
            services: vec![svc],
        };
        let tree = host.tree();
        let files: Vec<(&str, u32, &[u8])> = tree
            .files
            .values()
            .map(|f| (f.path.as_str(), f.mode, f.content.as_slice()))
            .collect();
        assert_eq!(
            files,
            [
                ("haproxy/extra/b/c.cfg", 0o660, &b""[..]),
                ("haproxy/haproxy.cfg", 0o660, b"x"),
                ("haproxy/services.d/a.cfg", 0o640, b"a"),
            ]
        );
        // The service directory, then the declared ones (whose mode wins over the default of
        // a file's directory), then the undeclared directory of a file.
        assert_eq!(
            tree.directories(),
            [
                ("haproxy", DEFAULT_DIR_MODE),
                ("haproxy/services.d", 0o750),
                ("haproxy/extra/b", DEFAULT_DIR_MODE),
            ]
        );
        assert_eq!(DEFAULT_DIR_MODE, 0o770);
    }
}
