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

/// How long a run waits for the run lock (`--lock-timeout`).
pub const KOLLARS_LOCK_TIMEOUT: &str = "KOLLARS_LOCK_TIMEOUT";

/// The user's runtime directory (where the run lock goes when it is the user's).
pub const XDG_RUNTIME_DIR: &str = "XDG_RUNTIME_DIR";

/// The user's state directory (default `~/.local/state`): the run history, and the run lock
/// when the runtime directory is not the user's.
pub const XDG_STATE_HOME: &str = "XDG_STATE_HOME";

/// The user's home, for the default of [`XDG_STATE_HOME`].
pub const HOME: &str = "HOME";

/// Who runs kollars, as the hosts' lock names its holder (else `LOGNAME`, else the uid).
pub const USER: &str = "USER";

/// `$USER`, else `$LOGNAME`, else `uid N`.
pub fn user() -> String {
    [USER, "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| {
            use std::os::unix::fs::MetadataExt;
            let uid = std::fs::metadata("/proc/self")
                .map(|m| m.uid())
                .unwrap_or(0);
            format!("uid {uid}")
        })
}

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

/// `$XDG_RUNTIME_DIR`, when set to an absolute path.
pub fn runtime_dir() -> Option<PathBuf> {
    absolute(XDG_RUNTIME_DIR)
}

/// `$XDG_STATE_HOME`, else `$HOME/.local/state`, when absolute (the XDG rule: a relative
/// value is ignored).
pub fn state_dir() -> Option<PathBuf> {
    absolute(XDG_STATE_HOME).or_else(|| absolute(HOME).map(|h| h.join(".local/state")))
}

fn absolute(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
}
