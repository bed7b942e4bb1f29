//! `kolla_set_configs`: validate the config, then apply it in kolla's order.
//!
//! Order (as kolla): `directories`, `files`, the image-defaults state, `config_files` (each
//! entry in list order), `/run_command`, `permissions`, and for COPY_ONCE the `/configured`
//! marker last (so a failed first start is retried). Everything is validated first.

use std::fs::{self, Permissions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};

use crate::check;
use crate::config::{self, Plan};
use crate::error::Error;
use crate::fsops::{apply_perms, copy_match, lexists};
use crate::log;
use crate::root::{Root, CONFIGURED, RUN_COMMAND};
use crate::state;

/// `KOLLA_CONFIG_STRATEGY`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// Apply the config on every start.
    CopyAlways,
    /// Apply it on the first start only (marker `/configured`).
    CopyOnce,
}

impl Strategy {
    /// Parses the environment value.
    pub fn parse(value: Option<&str>) -> Result<Strategy, Error> {
        match value {
            Some("COPY_ALWAYS") => Ok(Strategy::CopyAlways),
            Some("COPY_ONCE") => Ok(Strategy::CopyOnce),
            other => Err(Error::Strategy(other.map(str::to_string))),
        }
    }
}

/// What a run did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The config was applied.
    Applied,
    /// COPY_ONCE and already configured: nothing was changed.
    Immutable,
}

/// Runs `kolla_set_configs` (no `--check`) on `root` with the given strategy value.
pub fn set_configs(root: &Root, strategy: Option<&str>) -> Result<Outcome, Error> {
    let plan = config::plan(root)?;
    log::info(format!(
        "Kolla config strategy set to: {}",
        strategy.unwrap_or("None")
    ));
    let strategy = Strategy::parse(strategy)?;
    if strategy == Strategy::CopyOnce && lexists(&root.host(CONFIGURED)) {
        log::error("ImmutableConfig: The config strategy prevents copying new configs");
        return Ok(Outcome::Immutable);
    }
    apply(root, &plan)?;
    if strategy == Strategy::CopyOnce {
        fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(root.host(CONFIGURED))
            .map_err(|e| Error::io("Unable to create", CONFIGURED, e))?;
    }
    Ok(Outcome::Applied)
}

/// Applies a validated plan.
pub fn apply(root: &Root, plan: &Plan) -> Result<(), Error> {
    if !plan.directories.is_empty() {
        log::info("Creating directories");
    }
    for d in &plan.directories {
        fs::create_dir_all(root.host(&d.path))
            .map_err(|e| Error::io("Can't create destination directory", d.path.clone(), e))?;
        apply_perms(root, d);
    }
    if !plan.files.is_empty() {
        log::info("Creating files");
    }
    for f in &plan.files {
        let host = root.host(&f.path);
        if !lexists(&host) {
            fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(&host)
                .map_err(|e| Error::io("Can't create file", f.path.clone(), e))?;
        }
        apply_perms(root, f);
    }
    state::handle_defaults(root, plan)?;
    if !plan.copies.is_empty() {
        log::info("Copying service configuration files");
    }
    for c in &plan.copies {
        for m in &c.matches {
            copy_match(root, m, &c.props, c.merge)?;
        }
    }
    log::info("Writing out command to execute");
    write_run_command(root, &plan.command)?;
    for p in &plan.permissions {
        apply_perms(root, p);
    }
    Ok(())
}

/// Writes `/run_command` (no trailing newline, mode 0644 so the service user can read it)
/// through a temporary file, so it is never seen empty.
fn write_run_command(root: &Root, command: &str) -> Result<(), Error> {
    let host = root.host(RUN_COMMAND);
    let tmp = root.host("/.run_command.kolla-new");
    let res = fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(command.as_bytes()))
        .and_then(|()| fs::set_permissions(&tmp, Permissions::from_mode(0o644)))
        .and_then(|()| fs::rename(&tmp, &host));
    res.map_err(|e| Error::io("Unable to write", RUN_COMMAND, e))
}

/// `--check`: `Ok(true)` when the container differs from the config (each difference is
/// logged at ERROR).
pub fn check(root: &Root) -> Result<bool, Error> {
    let plan = config::plan(root)?;
    let diffs = check::differences(root, &plan)?;
    for d in &diffs {
        log::error(d);
    }
    Ok(!diffs.is_empty())
}

#[cfg(test)]
mod tests;
