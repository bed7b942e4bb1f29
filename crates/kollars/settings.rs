//! What kollars needs to know to act on one host, worked out once per host and run.
//!
//! A host's settings come from its variables, but not all at the same moment: how the host is
//! reached ([`Reach`]: its engine endpoint and how its config files get there) must be known
//! before its facts are gathered through that engine, so it is resolved from the inputs alone;
//! the rest ([`HostSettings`]: kolla's `docker_common_options` with registry credentials, the
//! privileged switch, the time zone) from the final variables. Facts, genconfig, plan and
//! deploy all read these values; none works them out again.
//!
//! - **Engine**: the host variable `kollars_engine` (`unix:///path`, `tcp://host:port` with
//!   `kollars_engine_tls_dir`, `ssh://user@host`); else the local socket for local hosts
//!   (`$DOCKER_HOST`, else `/var/run/docker.sock`) and `ssh://ansible_user@ansible_host` for
//!   the others.
//! - **Config files**: written on this machine's filesystem when the engine is a local
//!   `unix://` socket (the host *is* this machine, or a simulated host of it), else through the
//!   engine ([`kollars_docker::Engine::write_tree`]). `kollars_config_transfer: engine` (or
//!   `local`) forces either.
//! - **Helper image** of the containers that carry files and probe facts:
//!   `kollars_helper_image`, else the host's `kolla_toolbox_image_full` (kolla-ansible deploys
//!   kolla-toolbox on every host); pulled if missing.

use std::path::PathBuf;

use anyhow::Result;
use kollars_docker::{CommonOptions, ContainerEngine, Endpoint, RegistryAuth, RestartPolicy};
use kollars_inputs::Inventory;
use kollars_vars::Vars;

use crate::error::BadInput;

/// Whether Ansible would run this host locally (no remote facts needed).
pub fn is_local(inventory: &Inventory, host: &str) -> bool {
    let vars = &inventory.hosts[host];
    matches!(
        vars.get("ansible_connection").and_then(|v| v.as_str()),
        Some("local")
    ) || matches!(host, "localhost" | "127.0.0.1")
}

/// How a host's config files reach its `node_config_directory`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transfer {
    /// Written on this machine's filesystem.
    Local,
    /// Through the engine, with helper containers of this image.
    Engine(String),
}

/// How a host is reached; resolved before its facts are known.
#[derive(Debug, Clone)]
pub struct Reach {
    /// Engine endpoint (`unix://`, `tcp://`, `ssh://`).
    pub endpoint: String,
    /// TLS directory for `tcp://`.
    pub tls: Option<PathBuf>,
    /// Where its config files go.
    pub transfer: Transfer,
    /// Seconds its engine may leave a request unanswered (`--engine-timeout`).
    pub timeout: u64,
}

impl Reach {
    /// Resolves how `host` is reached from its variables; bad input names the host and
    /// variable.
    pub fn resolve(vars: &Vars, inventory: &Inventory, host: &str, timeout: u64) -> Result<Reach> {
        let tls = host_var(vars, host, "kollars_engine_tls_dir")?.map(PathBuf::from);
        let endpoint = match host_var(vars, host, "kollars_engine")? {
            Some(e) => e,
            None if is_local(inventory, host) => crate::env::docker_host()
                .unwrap_or_else(|| kollars_docker::DEFAULT_SOCKET.to_string()),
            None => {
                let user = host_var(vars, host, "ansible_user")?.unwrap_or_else(|| "root".into());
                let addr = host_var(vars, host, "ansible_host")?.unwrap_or_else(|| host.into());
                format!("ssh://{user}@{addr}")
            }
        };
        let local_socket = matches!(
            Endpoint::parse(host, &endpoint, tls.as_deref()),
            Ok(Endpoint::Unix(_))
        );
        let through_engine = match host_var(vars, host, "kollars_config_transfer")?.as_deref() {
            Some("engine") => true,
            Some("local") => false,
            None | Some("auto") => !local_socket,
            Some(other) => {
                return Err(BadInput::new(format!(
                    "host {host}: kollars_config_transfer must be `engine`, `local` or `auto`, \
                     got {other:?}"
                ))
                .into())
            }
        };
        let transfer = match through_engine {
            true => Transfer::Engine(helper_image(vars, host)?),
            false => Transfer::Local,
        };
        Ok(Reach {
            endpoint,
            tls,
            transfer,
            timeout,
        })
    }

    /// Connects to the host's engine, with the engine timeout.
    pub async fn connect(&self, host: &str) -> kollars_docker::Result<kollars_docker::Engine> {
        kollars_docker::Engine::connect_within(
            host,
            &self.endpoint,
            self.tls.as_deref(),
            self.timeout,
        )
        .await
    }

    /// Whether the engine is a socket on this machine (whose filesystem and clock are then the
    /// host's).
    pub fn is_local_socket(&self, host: &str) -> bool {
        matches!(
            Endpoint::parse(host, &self.endpoint, self.tls.as_deref()),
            Ok(Endpoint::Unix(_))
        )
    }
}

/// Everything about one host a command that talks to its engine needs.
#[derive(Debug, Clone)]
pub struct HostSettings {
    /// How it is reached.
    pub reach: Reach,
    /// kolla's `docker_common_options`, registry credentials included.
    pub common: CommonOptions,
    /// Privileged services run unprivileged (`kollars_privileged_containers: false`, for
    /// sandboxes and CI machines where privileged containers cannot start).
    pub unprivileged: bool,
    /// The time zone injected into containers of a remote engine, from its gathered facts
    /// (a local socket's containers get this machine's).
    pub timezone: Option<String>,
}

impl HostSettings {
    /// Resolves the rest of `host`'s settings from its final variables.
    pub fn resolve(
        vars: &Vars,
        host: &str,
        reach: Reach,
        gathered_timezone: Option<String>,
    ) -> Result<HostSettings> {
        let scope = vars.host(host).map_err(BadInput::from_err)?;
        let s = |n: &str| {
            scope
                .get(n)
                .map(|v| v.to_string())
                .map_err(BadInput::from_err)
        };
        let n = |n: &str| -> Result<u64> {
            let v = s(n)?;
            v.trim().parse::<u64>().map_err(|_| {
                BadInput::from_err(format!("host {host}: {n} must be a number, got {v:?}"))
            })
        };
        let restart_policy = RestartPolicy::parse(&s("docker_restart_policy")?)
            .map_err(|e| BadInput::from_err(format!("host {host}: docker_restart_policy: {e}")))?;
        let engine = s("kolla_container_engine")?;
        let container_engine = ContainerEngine::parse(&engine).ok_or_else(|| {
            BadInput::from_err(format!(
                "host {host}: kolla_container_engine must be docker or podman, got {engine:?}"
            ))
        })?;
        let common = CommonOptions {
            container_engine,
            config_strategy: s("config_strategy")?,
            restart_policy,
            restart_retries: n("docker_restart_policy_retry")?,
            graceful_timeout: n("docker_graceful_timeout")?,
            // kolla's docker_client_timeout (120 s) is not the bound: a frozen engine would
            // hold its host that long per request; `--engine-timeout` is
            client_timeout: reach.timeout,
            registry_auth: registry_auth(vars, host)?,
        };
        let privileged = scope
            .get("kollars_privileged_containers")
            .map_err(BadInput::from_err)?;
        let timezone = (!reach.is_local_socket(host))
            .then_some(gathered_timezone)
            .flatten();
        Ok(HostSettings {
            reach,
            common,
            unprivileged: !kollars_vars::filters::ansible_bool(&privileged),
            timezone,
        })
    }
}

/// kolla's pull credentials: `docker_registry_username` with `docker_registry_password` (from
/// passwords.yml) for `docker_registry`; none when no user name is set.
fn registry_auth(vars: &Vars, host: &str) -> Result<Option<RegistryAuth>> {
    let Some(username) = host_var(vars, host, "docker_registry_username")? else {
        return Ok(None);
    };
    let password = host_var(vars, host, "docker_registry_password")?.ok_or_else(|| {
        BadInput::new(format!(
            "host {host}: docker_registry_username is set but docker_registry_password is empty \
             (set it in passwords.yml)"
        ))
    })?;
    Ok(Some(RegistryAuth {
        username,
        password,
        registry: host_var(vars, host, "docker_registry")?,
        email: host_var(vars, host, "docker_registry_email")?,
    }))
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
