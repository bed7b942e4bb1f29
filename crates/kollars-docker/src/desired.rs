//! A [`ContainerSpec`] resolved against the engine's common options: the exact state kollars
//! wants on the engine.
//!
//! kolla-ansible's module merges `common_options` (`docker_common_options`: config strategy,
//! restart policy, graceful timeout, registry auth) under each task's parameters and injects
//! `KOLLA_SERVICE_NAME` and `TZ` into the environment before it either compares or creates.
//! [`DesiredContainer`] is that merged, normalised form. Both [`DesiredContainer::create_body`]
//! and [`crate::compare::compare`] read only this type, and its [`DesiredContainer::spec_hash`]
//! is what the `kollars.spec-hash` label records.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bollard::models::{
    ContainerCreateBody, HealthConfig, HostConfig, HostConfigCgroupnsModeEnum, ResourcesUlimits,
    RestartPolicy as DockerRestartPolicy, RestartPolicyNameEnum,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{DockerError, Result};
use crate::spec::{ContainerSpec, Dimensions, HealthTest, Healthcheck, RestartPolicy};

/// Label marking a container (or volume) as managed by kollars; `destroy` and `check` list by it.
pub const LABEL_MANAGED: &str = "kollars.managed";
/// Label holding [`DesiredContainer::spec_hash`] at creation.
pub const LABEL_SPEC_HASH: &str = "kollars.spec-hash";
/// Label holding the caller's config hash (the rendered `/etc/kolla/<service>/` tree) at creation.
pub const LABEL_CONFIG_HASH: &str = "kollars.config-hash";
/// Label kolla-ansible puts on the named volumes it creates.
pub const LABEL_KOLLA_MANAGED: &str = "kolla_managed";

/// kolla's `config_strategy` that makes a config change a recreate instead of a restart.
pub const COPY_ONCE: &str = "COPY_ONCE";

/// Registry credentials for pulls (kolla's `auth_username`/`auth_password`/`auth_registry`).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RegistryAuth {
    /// Registry user.
    pub username: String,
    /// Registry password.
    pub password: String,
    /// Registry address (`docker_registry`).
    pub registry: Option<String>,
    /// Optional e-mail.
    pub email: Option<String>,
}

impl std::fmt::Debug for RegistryAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryAuth")
            .field("username", &self.username)
            .field("password", &"********")
            .field("registry", &self.registry)
            .finish()
    }
}

/// kolla-ansible's `docker_common_options`: defaults every container action inherits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommonOptions {
    /// `KOLLA_CONFIG_STRATEGY` put in every container's environment (`config_strategy`,
    /// default `COPY_ALWAYS`); a spec's own `environment` value wins.
    pub config_strategy: String,
    /// Restart policy when a spec has none (`docker_restart_policy`, default `unless-stopped`).
    pub restart_policy: RestartPolicy,
    /// Retries for `on-failure` (`docker_restart_policy_retry`, default 10).
    pub restart_retries: u64,
    /// Seconds `stop` waits before killing (`docker_graceful_timeout`, default 60).
    pub graceful_timeout: u64,
    /// Seconds any single API request may go unanswered ([`DEFAULT_ENGINE_TIMEOUT`]; the CLI's
    /// `--engine-timeout`): an engine that stops answering fails its host within this bound,
    /// and a long wait (a one-shot's exit, a pull, a command's output) checks this often that
    /// the engine still answers.
    pub client_timeout: u64,
    /// Registry credentials for pulls.
    pub registry_auth: Option<RegistryAuth>,
    /// `kolla_container_engine`: podman gets kolla's podman rules (see [`ContainerEngine`]).
    pub container_engine: ContainerEngine,
}

/// kolla's `kolla_container_engine`.
///
/// Podman's rules here, as kolla's podman worker has them: the `RLIMIT_NOFILE` and
/// `RLIMIT_NPROC` ulimits of kolla's podman default dimensions are dropped (podman applies its
/// own defaults from `containers.conf`; passed on, they break containers where the hard limit
/// is lower), and `devpts:/dev/pts` is no named volume (podman mounts a devpts instance there
/// for every container).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ContainerEngine {
    /// dockerd (the default).
    #[default]
    Docker,
    /// podman's Docker-compatible service.
    Podman,
}

impl ContainerEngine {
    /// `docker` or `podman`; anything else is `None`.
    pub fn parse(s: &str) -> Option<ContainerEngine> {
        match s.trim() {
            "docker" => Some(ContainerEngine::Docker),
            "podman" => Some(ContainerEngine::Podman),
            _ => None,
        }
    }

    /// kolla's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            ContainerEngine::Docker => "docker",
            ContainerEngine::Podman => "podman",
        }
    }
}

/// Seconds an engine may leave a request unanswered, unless told otherwise (kolla's
/// `docker_client_timeout` of 120 s would hold a frozen host for two minutes per request).
pub const DEFAULT_ENGINE_TIMEOUT: u64 = 30;

impl Default for CommonOptions {
    fn default() -> Self {
        Self {
            config_strategy: "COPY_ALWAYS".to_owned(),
            restart_policy: RestartPolicy::UnlessStopped,
            restart_retries: 10,
            graceful_timeout: 60,
            client_timeout: DEFAULT_ENGINE_TIMEOUT,
            registry_auth: None,
            container_engine: ContainerEngine::Docker,
        }
    }
}

/// The resolved, normalised desired state of one container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DesiredContainer {
    /// Container name.
    pub name: String,
    /// Image reference as given.
    pub image: String,
    /// Command as shell words (`None`: the image's `CMD`).
    pub cmd: Option<Vec<String>>,
    /// Full environment: spec env over `KOLLA_CONFIG_STRATEGY`, plus `KOLLA_SERVICE_NAME` and
    /// `TZ` (when not set).
    pub env: BTreeMap<String, String>,
    /// The spec's own labels (the `kollars.*` labels are added at create time).
    pub labels: BTreeMap<String, String>,
    /// Container paths of all volumes (Docker's `Config.Volumes`).
    pub container_paths: BTreeSet<String>,
    /// `src:dst:mode` strings (Docker's `HostConfig.Binds`).
    pub binds: BTreeSet<String>,
    /// Named volumes to pre-create.
    pub named_volumes: BTreeSet<String>,
    /// `volumes_from`.
    pub volumes_from: BTreeSet<String>,
    /// Privileged.
    pub privileged: bool,
    /// Added capabilities.
    pub cap_add: BTreeSet<String>,
    /// Security options.
    pub security_opt: BTreeSet<String>,
    /// IPC mode.
    pub ipc_mode: Option<String>,
    /// PID mode.
    pub pid_mode: Option<String>,
    /// Cgroup namespace mode.
    pub cgroupns_mode: Option<String>,
    /// tmpfs paths.
    pub tmpfs: BTreeSet<String>,
    /// Resource limits.
    pub dimensions: Dimensions,
    /// Healthcheck (`None`: inherit the image's; `Some` with [`HealthTest::None`]: disabled).
    pub healthcheck: Option<Healthcheck>,
    /// Effective restart policy.
    pub restart_policy: RestartPolicy,
    /// Retries for `on-failure`.
    pub restart_retries: u64,
    /// Graceful stop timeout in seconds (also Docker's `StopTimeout`).
    pub stop_timeout: u64,
    /// Allocate a TTY.
    pub tty: bool,
    /// Always `host`: kolla containers use the host network.
    pub network_mode: &'static str,
}

impl DesiredContainer {
    /// Resolves `spec` against the engine's common options and the host's time zone.
    pub fn resolve(
        spec: &ContainerSpec,
        common: &CommonOptions,
        timezone: &str,
    ) -> Result<DesiredContainer> {
        let invalid = |reason: String| DockerError::InvalidSpec {
            container: spec.name.clone(),
            reason,
        };
        if spec.name.trim().is_empty() {
            return Err(invalid("container name is empty".to_owned()));
        }
        if spec.image.trim().is_empty() {
            return Err(invalid("image is empty".to_owned()));
        }
        let mut volumes = spec.parsed_volumes().map_err(invalid)?;
        if common.container_engine == ContainerEngine::Podman {
            // kolla's `devpts:/dev/pts` (nova-libvirt, nova-compute on podman) is a devpts
            // mount for kolla's podman worker, not a named volume: podman already gives every
            // container its own devpts instance there, so it is left out
            volumes.retain(|v| !(v.named() == Some("devpts") && v.dst() == "/dev/pts"));
        }
        let cmd = match &spec.command {
            Some(c) => Some(
                shlex::split(c)
                    .ok_or_else(|| invalid(format!("command `{c}` has unbalanced quotes")))?,
            ),
            None => None,
        };

        // kolla: common env, then task env on top, then KOLLA_SERVICE_NAME, then TZ if unset.
        let mut env = BTreeMap::new();
        env.insert(
            "KOLLA_CONFIG_STRATEGY".to_owned(),
            common.config_strategy.clone(),
        );
        env.extend(spec.environment.clone());
        env.insert("KOLLA_SERVICE_NAME".to_owned(), spec.name.replace('_', "-"));
        env.entry("TZ".to_owned())
            .or_insert_with(|| timezone.to_owned());

        let restart_policy = spec.restart_policy.unwrap_or(common.restart_policy);
        Ok(DesiredContainer {
            name: spec.name.clone(),
            image: spec.image.clone(),
            cmd,
            env,
            labels: spec.labels.clone(),
            container_paths: volumes.iter().map(|v| v.dst().to_owned()).collect(),
            binds: volumes.iter().filter_map(|v| v.bind()).collect(),
            named_volumes: volumes
                .iter()
                .filter_map(|v| v.named().map(str::to_owned))
                .collect(),
            volumes_from: spec.volumes_from.iter().cloned().collect(),
            privileged: spec.privileged,
            cap_add: spec.cap_add.iter().cloned().collect(),
            security_opt: spec.security_opt.iter().cloned().collect(),
            ipc_mode: spec.ipc_mode.clone(),
            pid_mode: spec.pid_mode.clone(),
            cgroupns_mode: spec.cgroupns_mode.clone(),
            tmpfs: spec.tmpfs.iter().cloned().collect(),
            dimensions: match common.container_engine {
                ContainerEngine::Docker => spec.dimensions.clone(),
                ContainerEngine::Podman => {
                    let mut d = spec.dimensions.clone();
                    d.ulimits
                        .retain(|name, _| name != "RLIMIT_NOFILE" && name != "RLIMIT_NPROC");
                    d
                }
            },
            healthcheck: spec.healthcheck.clone(),
            restart_policy,
            restart_retries: common.restart_retries,
            stop_timeout: spec.graceful_timeout.unwrap_or(common.graceful_timeout),
            tty: spec.tty,
            network_mode: "host",
        })
    }

    /// SHA-256 (hex) of the canonical JSON of this desired state: what `kollars.spec-hash`
    /// records. All maps and sets are ordered, so the hash is stable across runs.
    pub fn spec_hash(&self) -> String {
        let json = serde_json::to_vec(self).expect("DesiredContainer serializes");
        hex(&Sha256::digest(&json))
    }

    /// The `KOLLA_CONFIG_STRATEGY` in effect.
    pub fn config_strategy(&self) -> &str {
        self.env
            .get("KOLLA_CONFIG_STRATEGY")
            .map(String::as_str)
            .unwrap_or("")
    }

    /// The labels put on the container at creation: the spec's plus `kollars.managed`,
    /// `kollars.spec-hash` and, when given, `kollars.config-hash`.
    pub fn create_labels(&self, config_hash: Option<&str>) -> BTreeMap<String, String> {
        let mut labels = self.labels.clone();
        labels.insert(LABEL_MANAGED.to_owned(), "true".to_owned());
        labels.insert(LABEL_SPEC_HASH.to_owned(), self.spec_hash());
        if let Some(h) = config_hash {
            labels.insert(LABEL_CONFIG_HASH.to_owned(), h.to_owned());
        }
        labels
    }

    /// Docker's healthcheck config for this spec (`None`: inherit the image's).
    pub fn health_config(&self) -> Option<HealthConfig> {
        const NS: i64 = 1_000_000_000;
        self.healthcheck.as_ref().map(|h| match &h.test {
            HealthTest::None => HealthConfig {
                test: Some(vec!["NONE".to_owned()]),
                ..HealthConfig::default()
            },
            HealthTest::Command(test) => HealthConfig {
                test: Some(test.clone()),
                interval: Some(h.interval as i64 * NS),
                timeout: Some(h.timeout as i64 * NS),
                start_period: Some(h.start_period as i64 * NS),
                retries: Some(h.retries as i64),
                start_interval: None,
            },
        })
    }

    /// Docker ulimits for this spec.
    pub fn docker_ulimits(&self) -> Vec<ResourcesUlimits> {
        self.dimensions
            .ulimits
            .iter()
            .map(|(name, u)| ResourcesUlimits {
                name: Some(name.clone()),
                soft: Some(u.soft),
                hard: Some(u.hard),
            })
            .collect()
    }

    /// The create request: `Config` and `HostConfig` as kolla's `create_container` builds them
    /// (host network, binds, named volumes, caps, modes, tmpfs, dimensions, healthcheck), plus
    /// the restart policy kollars hands to the engine instead of a systemd unit.
    pub fn create_body(&self, config_hash: Option<&str>) -> ContainerCreateBody {
        let d = &self.dimensions;
        let host_config = HostConfig {
            network_mode: Some(self.network_mode.to_owned()),
            binds: some_vec(self.binds.iter().cloned().collect()),
            volumes_from: some_vec(self.volumes_from.iter().cloned().collect()),
            privileged: Some(self.privileged),
            cap_add: some_vec(self.cap_add.iter().cloned().collect()),
            security_opt: some_vec(self.security_opt.iter().cloned().collect()),
            ipc_mode: self.ipc_mode.clone(),
            pid_mode: self.pid_mode.clone(),
            cgroupns_mode: self.cgroupns_mode.as_deref().map(|m| match m {
                "host" => HostConfigCgroupnsModeEnum::HOST,
                "private" => HostConfigCgroupnsModeEnum::PRIVATE,
                _ => HostConfigCgroupnsModeEnum::EMPTY,
            }),
            tmpfs: if self.tmpfs.is_empty() {
                None
            } else {
                Some(
                    self.tmpfs
                        .iter()
                        .map(|p| (p.clone(), String::new()))
                        .collect::<HashMap<_, _>>(),
                )
            },
            memory: d.mem_limit,
            memory_reservation: d.mem_reservation,
            memory_swap: d.memswap_limit,
            cpu_period: d.cpu_period,
            cpu_quota: d.cpu_quota,
            cpu_shares: d.cpu_shares,
            cpuset_cpus: d.cpuset_cpus.clone(),
            cpuset_mems: d.cpuset_mems.clone(),
            blkio_weight: d.blkio_weight,
            ulimits: some_vec(self.docker_ulimits()),
            restart_policy: Some(DockerRestartPolicy {
                name: Some(match self.restart_policy {
                    RestartPolicy::No | RestartPolicy::Oneshot => RestartPolicyNameEnum::NO,
                    RestartPolicy::OnFailure => RestartPolicyNameEnum::ON_FAILURE,
                    RestartPolicy::Always => RestartPolicyNameEnum::ALWAYS,
                    RestartPolicy::UnlessStopped => RestartPolicyNameEnum::UNLESS_STOPPED,
                }),
                maximum_retry_count: (self.restart_policy == RestartPolicy::OnFailure)
                    .then_some(self.restart_retries as i64),
            }),
            ..HostConfig::default()
        };
        ContainerCreateBody {
            image: Some(self.image.clone()),
            cmd: self.cmd.clone(),
            env: Some(self.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
            labels: Some(self.create_labels(config_hash).into_iter().collect()),
            volumes: if self.container_paths.is_empty() {
                None
            } else {
                Some(
                    self.container_paths
                        .iter()
                        .map(|p| (p.clone(), HashMap::new()))
                        .collect(),
                )
            },
            healthcheck: self.health_config(),
            tty: Some(self.tty),
            stop_timeout: Some(self.stop_timeout as i64),
            host_config: Some(host_config),
            ..ContainerCreateBody::default()
        }
    }
}

fn some_vec<T>(v: Vec<T>) -> Option<Vec<T>> {
    if v.is_empty() {
        None
    } else {
        Some(v)
    }
}

/// Lower-case hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The host's time zone as kolla derives it: `/etc/timezone`, else the `/etc/localtime` link
/// target below `zoneinfo/`, else `UTC`. Only meaningful for the machine kollars runs on; for a
/// remote engine the caller passes the time zone from the host's facts.
pub fn local_timezone() -> String {
    if let Ok(tz) = std::fs::read_to_string("/etc/timezone") {
        let tz = tz.trim();
        if !tz.is_empty() {
            return tz.to_owned();
        }
    }
    if let Ok(target) = std::fs::read_link("/etc/localtime") {
        let t = target.to_string_lossy();
        if let Some((_, zone)) = t.split_once("zoneinfo/") {
            if !zone.is_empty() {
                return zone.to_owned();
            }
        }
    }
    "UTC".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_injection_like_kolla() {
        let mut spec = ContainerSpec::new("nova_api", "img:1");
        spec.environment.insert("TZ".into(), "Europe/Paris".into());
        spec.environment
            .insert("KOLLA_SERVICE_NAME".into(), "ignored".into());
        let d = DesiredContainer::resolve(&spec, &CommonOptions::default(), "UTC").unwrap();
        assert_eq!(d.env["KOLLA_SERVICE_NAME"], "nova-api");
        assert_eq!(d.env["TZ"], "Europe/Paris");
        assert_eq!(d.env["KOLLA_CONFIG_STRATEGY"], "COPY_ALWAYS");
        let spec = ContainerSpec::new("x", "img:1");
        let d = DesiredContainer::resolve(&spec, &CommonOptions::default(), "Asia/Tokyo").unwrap();
        assert_eq!(d.env["TZ"], "Asia/Tokyo");
    }

    #[test]
    fn spec_hash_is_stable_and_sensitive() {
        let mut spec = ContainerSpec::new("a", "img:1");
        spec.volumes = vec!["/x:/x".into(), "v:/v".into()];
        let c = CommonOptions::default();
        let h1 = DesiredContainer::resolve(&spec, &c, "UTC")
            .unwrap()
            .spec_hash();
        spec.volumes.reverse();
        let h2 = DesiredContainer::resolve(&spec, &c, "UTC")
            .unwrap()
            .spec_hash();
        assert_eq!(h1, h2, "volume order does not matter");
        spec.privileged = true;
        let h3 = DesiredContainer::resolve(&spec, &c, "UTC")
            .unwrap()
            .spec_hash();
        assert_ne!(h1, h3);
        assert_eq!(h1.len(), 64);
    }

    #[test]
    fn create_body_has_binds_and_volumes() {
        let mut spec = ContainerSpec::new("a", "img:1");
        spec.volumes = vec!["kolla_logs:/var/log/kolla/".into(), "".into()];
        let d = DesiredContainer::resolve(&spec, &CommonOptions::default(), "UTC").unwrap();
        let body = d.create_body(Some("cfg"));
        let hc = body.host_config.unwrap();
        assert_eq!(hc.binds.unwrap(), vec!["kolla_logs:/var/log/kolla/:rw"]);
        assert_eq!(hc.network_mode.as_deref(), Some("host"));
        assert!(body.volumes.unwrap().contains_key("/var/log/kolla/"));
        assert_eq!(body.labels.unwrap()[LABEL_CONFIG_HASH], "cfg");
        assert_eq!(d.named_volumes.iter().next().unwrap(), "kolla_logs");
    }
}
