//! What rendering produces: every host's config tree as plain data. It is the one interface
//! between the renderer and what consumes its output (the local writer, the engine writer,
//! the driver's config hashes), so it holds values only, no behaviour beyond small lookups.

use std::path::PathBuf;

use kollars_vars::Value;

use crate::hash;

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
    /// empty). The service directory itself is always 0770.
    pub dirs: Vec<RenderedDir>,
    /// Hash over every file's path, mode and content.
    pub hash: String,
}

/// A directory inside a service's config directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedDir {
    /// Path inside the service directory.
    pub path: String,
    /// Mode (0o770 unless the config entry says otherwise; 0o755 for what a recursive or
    /// glob `copy` creates, as Ansible's copy leaves them).
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
