//! Every environment variable kollars reads, in one place.
//!
//! An operator should find in one list everything outside the command line that changes what
//! kollars does. Options that have a flag take the variable through clap (`env = …` naming a
//! constant here); the rest are read only through the functions below.

use std::path::PathBuf;

/// The configuration directory (`--configdir`), as kolla-ansible's `KOLLA_CONFIG_PATH`.
pub const KOLLA_CONFIG_PATH: &str = "KOLLA_CONFIG_PATH";

/// Where `services/` and `templates/` are (`--data-dir`).
pub const KOLLARS_DATA_DIR: &str = "KOLLARS_DATA_DIR";

/// The engine of local hosts (`localhost`, `ansible_connection: local`) that set no
/// `kollars_engine`, as the docker CLI reads it.
pub const DOCKER_HOST: &str = "DOCKER_HOST";

/// The run lock's file, instead of one derived from the configuration directory.
pub const KOLLARS_LOCK_FILE: &str = "KOLLARS_LOCK_FILE";

/// `$DOCKER_HOST`, when set and not empty.
pub fn docker_host() -> Option<String> {
    std::env::var(DOCKER_HOST).ok().filter(|s| !s.is_empty())
}

/// `$KOLLARS_LOCK_FILE`, when set and not empty.
pub fn lock_file() -> Option<PathBuf> {
    std::env::var_os(KOLLARS_LOCK_FILE)
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
}
