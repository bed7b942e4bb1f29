//! What rendering produces: every host's config tree as plain data. It is the one interface
//! between the renderer and what consumes its output (the local writer, the engine writer,
//! the driver's config hashes), so it holds values only, no behaviour beyond small lookups.

use std::path::PathBuf;

use kollars_vars::Value;

use crate::hash;

/// Mode of every directory of a config tree that nothing gives a mode of its own: each
/// service's directory (`/etc/kolla/<service>`), the directory of a rendered file, and a
/// `directory:` entry without `mode`. kolla-ansible's `0770`. Anything that writes a rendered
/// tree uses this one value, so the trees written locally and through an engine agree.
pub const DEFAULT_DIR_MODE: u32 = 0o770;

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

impl RenderedService {
    /// Every directory of this service's tree, relative to `node_config_directory`, in the
    /// order they are made: the service directory ([`DEFAULT_DIR_MODE`]), its [`dirs`]
    /// with their modes, then each file's directory ([`DEFAULT_DIR_MODE`]). A path can come
    /// more than once; its first mention wins. [`write_host`] makes exactly these, and a
    /// writer that puts the tree elsewhere (through an engine) gets the same tree from them.
    ///
    /// [`dirs`]: RenderedService::dirs
    /// [`write_host`]: crate::write_host
    pub fn tree_dirs(&self) -> impl Iterator<Item = RenderedDir> + '_ {
        let under = |path: &str, mode| RenderedDir {
            path: format!("{}/{path}", self.name),
            mode,
        };
        let own = RenderedDir {
            path: self.name.clone(),
            mode: DEFAULT_DIR_MODE,
        };
        let declared = self.dirs.iter().map(move |d| under(&d.path, d.mode));
        let of_files = self.files.iter().filter_map(move |f| {
            let (parent, _) = f.path.rsplit_once('/')?;
            Some(under(parent, DEFAULT_DIR_MODE))
        });
        std::iter::once(own).chain(declared).chain(of_files)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_dirs_service_then_declared_then_files_directories() {
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
        let dirs: Vec<(String, u32)> = svc.tree_dirs().map(|d| (d.path, d.mode)).collect();
        assert_eq!(
            dirs,
            [
                ("haproxy".to_string(), DEFAULT_DIR_MODE),
                ("haproxy/services.d".to_string(), 0o750),
                ("haproxy/services.d".to_string(), DEFAULT_DIR_MODE),
                ("haproxy/extra/b".to_string(), DEFAULT_DIR_MODE),
            ]
        );
        assert_eq!(DEFAULT_DIR_MODE, 0o770);
    }
}
