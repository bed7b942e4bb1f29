//! The filesystem root the tools work on.
//!
//! In a container this is `/`. Unit tests use a temporary directory instead, so every path in
//! the config (always an absolute path *in the container*) is mapped through [`Root::host`].
//! There is deliberately no environment variable to change the root or the config directory:
//! `kolla_set_configs` runs as root through `sudo -E` in kolla images, and an environment
//! override of where configs come from is exactly CVE-2022-38060.

use std::path::{Path, PathBuf};

/// Where the config lives in the container.
pub const CONFIG_DIR: &str = "/var/lib/kolla/config_files";
/// The command file read by `kolla_start`.
pub const RUN_COMMAND: &str = "/run_command";
/// The COPY_ONCE marker.
pub const CONFIGURED: &str = "/configured";
/// The backups of image defaults and their state file.
pub const DEFAULTS_DIR: &str = "/etc/kolla/defaults";

/// A filesystem root; see the module docs.
#[derive(Clone, Debug)]
pub struct Root {
    base: PathBuf,
}

impl Root {
    /// The real root, `/`.
    pub fn system() -> Self {
        Root {
            base: PathBuf::from("/"),
        }
    }

    /// A root at `base` (tests).
    pub fn at(base: impl Into<PathBuf>) -> Self {
        Root { base: base.into() }
    }

    /// The host path of the container path `p` (absolute).
    pub fn host(&self, p: &str) -> PathBuf {
        self.base.join(p.trim_start_matches('/'))
    }

    /// The container path of the host path `p`, for logs and `exclude` patterns.
    pub fn container(&self, p: &Path) -> String {
        match p.strip_prefix(&self.base) {
            Ok(rel) => format!("/{}", rel.display()),
            Err(_) => p.display().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_both_ways() {
        let r = Root::at("/tmp/x");
        assert_eq!(
            r.host("/etc/nova/nova.conf"),
            Path::new("/tmp/x/etc/nova/nova.conf")
        );
        assert_eq!(r.container(Path::new("/tmp/x/etc/nova")), "/etc/nova");
        let s = Root::system();
        assert_eq!(s.host("/etc/a"), Path::new("/etc/a"));
        assert_eq!(s.container(Path::new("/etc/a")), "/etc/a");
    }
}
