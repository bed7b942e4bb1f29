//! How each inventory host is reached: its engine endpoint, how its config files get to its
//! `node_config_directory`, and, for remote hosts, its facts.
//!
//! - **Engine**: the host variable `kollars_engine` (`unix:///path`, `tcp://host:port` with
//!   `kollars_engine_tls_dir`, `ssh://user@host`); else the local socket for local hosts
//!   (`$DOCKER_HOST`, else `/var/run/docker.sock`) and `ssh://ansible_user@ansible_host` for
//!   the others.
//! - **Config files**: written on this machine's filesystem when the engine is a local
//!   `unix://` socket (the host *is* this machine, or a simulated host of it), else through the
//!   engine ([`kollars_docker::Engine::write_tree`]). `kollars_config_transfer: engine` (or
//!   `local`) forces either.
//! - **Facts** of a remote host without `--facts`: [`gather_facts`] runs the fact probe
//!   ([`kollars_inputs::facts_text`]) once, through the engine, for all such hosts at once.
//! - **Helper image** for both: `kollars_helper_image`, else the host's
//!   `kolla_toolbox_image_full` (kolla-ansible deploys kolla-toolbox on every host); pulled if
//!   missing.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use kollars_docker::{Endpoint, Engine, TreeDir, TreeFile};
use kollars_inputs::{facts_text, Facts, Inventory};
use kollars_render::RenderedHost;
use kollars_vars::Vars;

use crate::commands::BadInput;
use crate::workspace::is_local;

/// A defined, non-empty string host variable.
fn host_var(vars: &Vars, host: &str, name: &str) -> Result<Option<String>> {
    let scope = vars.host(host).map_err(BadInput::from_err)?;
    if !scope.is_defined(name) {
        return Ok(None);
    }
    Ok(scope
        .get(name)
        .ok()
        .filter(|v| !v.is_none() && !v.is_undefined())
        .map(|v| v.to_string())
        .filter(|s| !s.is_empty()))
}

/// A host's engine endpoint and TLS directory.
pub fn endpoint(
    vars: &Vars,
    inventory: &Inventory,
    host: &str,
) -> Result<(String, Option<PathBuf>)> {
    let tls = host_var(vars, host, "kollars_engine_tls_dir")?.map(PathBuf::from);
    if let Some(e) = host_var(vars, host, "kollars_engine")? {
        return Ok((e, tls));
    }
    if is_local(inventory, host) {
        let default = std::env::var("DOCKER_HOST")
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| kollars_docker::DEFAULT_SOCKET.to_string());
        return Ok((default, tls));
    }
    let user = host_var(vars, host, "ansible_user")?.unwrap_or_else(|| "root".into());
    let addr = host_var(vars, host, "ansible_host")?.unwrap_or_else(|| host.to_string());
    Ok((format!("ssh://{user}@{addr}"), tls))
}

/// Whether an endpoint is a socket on this machine (whose filesystem is then the host's).
pub fn is_local_socket(host: &str, endpoint: &str, tls: Option<&Path>) -> bool {
    matches!(Endpoint::parse(host, endpoint, tls), Ok(Endpoint::Unix(_)))
}

/// Whether the host's config files go through its engine: `kollars_config_transfer` (`engine`
/// or `local`), else through the engine exactly when it is not a local `unix://` socket.
pub fn through_engine(vars: &Vars, host: &str, endpoint: &str, tls: Option<&Path>) -> Result<bool> {
    match host_var(vars, host, "kollars_config_transfer")?.as_deref() {
        Some("engine") => Ok(true),
        Some("local") => Ok(false),
        None | Some("auto") => Ok(!is_local_socket(host, endpoint, tls)),
        Some(other) => Err(BadInput::new(format!(
            "host {host}: kollars_config_transfer must be `engine`, `local` or `auto`, \
             got {other:?}"
        ))
        .into()),
    }
}

/// The image of the helper containers (config transfer, fact probe) on a host:
/// `kollars_helper_image`, else `kolla_toolbox_image_full`.
pub fn helper_image(vars: &Vars, host: &str) -> Result<String> {
    if let Some(i) = host_var(vars, host, "kollars_helper_image")? {
        return Ok(i);
    }
    let scope = vars.host(host).map_err(BadInput::from_err)?;
    scope
        .get("kolla_toolbox_image_full")
        .map(|v| v.to_string())
        .map_err(|e| {
            BadInput::from_err(format!(
                "host {host}: cannot evaluate kolla_toolbox_image_full, the image kollars runs its \
                 helper containers from (set kollars_helper_image, or pass --facts): {e}"
            ))
        })
}

/// One host whose facts are gathered through its engine.
pub struct FactsTarget {
    /// Inventory host.
    pub host: String,
    /// Engine endpoint.
    pub endpoint: String,
    /// TLS directory for `tcp://`.
    pub tls: Option<PathBuf>,
    /// Probe image.
    pub image: String,
}

/// What the probe found on one host.
pub struct Gathered {
    /// Inventory host.
    pub host: String,
    /// Facts in fact-cache form.
    pub facts: Facts,
    /// The host's time zone, if it says.
    pub timezone: Option<String>,
}

/// Gathers the facts of every target at once: connect, pull the probe image if missing, run
/// the probe, parse. Fails naming every host that failed.
pub async fn gather_facts(targets: Vec<FactsTarget>) -> Result<Vec<Gathered>> {
    let results = futures_util::future::join_all(targets.into_iter().map(|t| async move {
        let engine = Engine::connect(&t.host, &t.endpoint, t.tls.as_deref()).await?;
        let text = engine
            .run_probe(
                &t.image,
                facts_text::GATHER_SCRIPT,
                facts_text::GATHER_BINDS,
            )
            .await?;
        let facts = facts_text::parse(&text).with_context(|| {
            format!(
                "host {} at {}: gathering facts with {}",
                t.host, t.endpoint, t.image
            )
        })?;
        Ok::<_, anyhow::Error>(Gathered {
            host: t.host,
            facts,
            timezone: facts_text::timezone(&text),
        })
    }))
    .await;
    let mut ok = Vec::new();
    let mut failed = Vec::new();
    for r in results {
        match r {
            Ok(g) => ok.push(g),
            Err(e) => failed.push(format!("{e:#}")),
        }
    }
    if !failed.is_empty() {
        anyhow::bail!(
            "gathering facts through the engine failed on {} host(s) (or pass --facts DIR):\n  {}",
            failed.len(),
            failed.join("\n  ")
        );
    }
    Ok(ok)
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

/// Writes a rendered host into its `node_config_directory` through its engine; returns the
/// paths (on the host) of the files that changed.
pub async fn write_through_engine(
    engine: &Engine,
    rendered: &RenderedHost,
    image: &str,
) -> Result<Vec<PathBuf>> {
    let root = &rendered.node_config_directory;
    let (dirs, files) = tree(rendered);
    let written = engine.write_tree(root, &dirs, &files, image).await?;
    Ok(written.files.into_iter().map(|p| root.join(p)).collect())
}
