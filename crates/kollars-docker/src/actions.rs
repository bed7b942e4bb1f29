//! kolla-ansible's `kolla_container` actions on one engine (research §5.2), and the
//! decide/apply split that `kollars plan` needs.
//!
//! [`Engine::decide`] only reads (inspect container, inspect images) and returns an
//! [`Action`] with its reasons; [`Engine::apply`] carries it out. Together they are kolla's
//! `compare_container` + `recreate_or_restart_container`:
//! - container missing → [`Action::Create`];
//! - any parameter differs → [`Action::Recreate`] (pull first if the image is missing, so a
//!   failed pull does not leave the service down; then stop, remove, create, start);
//! - only the config hash differs → [`Action::Restart`] (COPY_ALWAYS re-copies config at start),
//!   or [`Action::Recreate`] under `COPY_ONCE` (the config is copied only once per container);
//! - stopped but otherwise current → [`Action::Start`];
//! - else [`Action::Nothing`].
//!
//! ## Where the applied config hash lives
//! Labels cannot change after creation, so the `kollars.config-hash` label is the config the
//! container was *created* with. After a config-only restart (or a start), kollars records the
//! hash it applied in a *config record*: an empty named volume (never mounted) labelled
//! `kollars.config-record=<container id>`, `kollars.config-hash=<hash>` and a sequence number.
//! Volumes are the one cheap, label-carrying object Docker lets us create and delete at will;
//! reading the record is one `GET /volumes?filters=...` (no filesystem mount, no exec, no shell
//! in the image). The record is written *after* the restart succeeded, so a run that dies
//! between writing config and restarting still finds the old hash and restarts next time; a
//! new record is created before older ones are removed, so a crash in between leaves two and
//! the newest wins. Records die with their container ([`Engine::remove`]); a recreated
//! container has a new ID and starts from its label again.

use std::collections::HashMap;

use bollard::auth::DockerCredentials;
use bollard::models::{
    ContainerInspectResponse, ContainerStateStatusEnum, HealthStatusEnum, VolumeCreateOptions,
};
use bollard::query_parameters::{
    CreateContainerOptions, CreateImageOptions, ListContainersOptions, ListVolumesOptions,
    LogsOptions, RemoveContainerOptions, RestartContainerOptions, StartContainerOptions,
    StopContainerOptions, WaitContainerOptions,
};
use futures_util::{StreamExt, TryStreamExt};
use serde::Serialize;

use crate::compare::{compare, parse_repository_tag, Difference, ImageFacts};
use crate::desired::{
    DesiredContainer, COPY_ONCE, LABEL_CONFIG_HASH, LABEL_KOLLA_MANAGED, LABEL_MANAGED,
    LABEL_SPEC_HASH,
};
use crate::engine::Engine;
use crate::error::{is_not_found, is_not_modified, DockerError, Result};
use crate::reporter::{Phase, Step};
use crate::spec::{ContainerSpec, RestartPolicy};

/// Label on a config record volume: the ID of the container it belongs to.
pub const LABEL_CONFIG_RECORD: &str = "kollars.config-record";
/// Label on a config record volume: the name of the container it belongs to.
pub const LABEL_CONFIG_RECORD_NAME: &str = "kollars.config-record.container";
/// Label on a config record volume: its sequence number (nanoseconds since the epoch).
pub const LABEL_CONFIG_RECORD_SEQ: &str = "kollars.config-record.seq";

/// What [`Engine::apply`] would do to bring one container to its spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// The container does not exist: create and start it.
    Create,
    /// Parameters differ (or COPY_ONCE config changed): stop, remove, create, start.
    Recreate {
        /// What differs.
        reasons: Vec<Difference>,
    },
    /// Only the config changed: restart so `kolla_set_configs` copies it again.
    Restart {
        /// The config difference (`config`: applied hash → new hash).
        reason: Difference,
    },
    /// Current, but not running: start it.
    Start,
    /// Nothing to do.
    Nothing,
}

impl Action {
    /// Whether applying this changes anything.
    pub fn is_change(&self) -> bool {
        !matches!(self, Action::Nothing)
    }

    /// A short name: `create`, `recreate`, `restart`, `start`, `nothing`.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Recreate { .. } => "recreate",
            Action::Restart { .. } => "restart",
            Action::Start => "start",
            Action::Nothing => "nothing",
        }
    }
}

/// Output of a one-shot container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OneshotOutput {
    /// Exit code (0 here; non-zero is [`DockerError::OneshotFailed`]).
    pub exit_code: i64,
    /// stdout and stderr, interleaved as the engine logged them.
    pub logs: String,
}

/// A container carrying the `kollars.managed` label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManagedContainer {
    /// Name (without the leading `/`).
    pub name: String,
    /// Container ID.
    pub id: String,
    /// Image reference it was created from.
    pub image: String,
    /// Engine state (`running`, `exited`, ...).
    pub state: String,
    /// Human status (`Up 3 minutes (healthy)`).
    pub status: String,
    /// Its labels.
    pub labels: std::collections::BTreeMap<String, String>,
}

/// Result of `check` for one expected container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum CheckStatus {
    /// Not present on the engine.
    Missing,
    /// Present but not running.
    NotRunning {
        /// The engine state.
        state: String,
    },
    /// Running, healthcheck failing.
    Unhealthy,
    /// Running, healthcheck in its start period.
    Starting,
    /// Running, healthcheck passing.
    Healthy,
    /// Running, no healthcheck.
    Running,
}

impl CheckStatus {
    /// Present, running and not unhealthy.
    pub fn is_ok(&self) -> bool {
        matches!(
            self,
            CheckStatus::Healthy | CheckStatus::Running | CheckStatus::Starting
        )
    }
}

/// One row of `check`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    /// Container name.
    pub name: String,
    /// Its status.
    #[serde(flatten)]
    pub status: CheckStatus,
}

/// What [`Engine::compare_container`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comparison {
    /// Whether the container exists.
    pub exists: bool,
    /// Parameter differences (kolla's `check_container_differs`).
    pub parameters: Vec<Difference>,
    /// State difference (`state: exited -> running`).
    pub state: Option<Difference>,
    /// Config difference (applied config hash → desired), when a config hash was given.
    pub config: Option<Difference>,
}

impl Comparison {
    /// kolla's `compare_container` `changed`: missing, or anything differs.
    pub fn changed(&self) -> bool {
        !self.exists || !self.parameters.is_empty() || self.state.is_some() || self.config.is_some()
    }
}

impl Engine {
    fn container_err(
        &self,
        container: &str,
        action: &'static str,
    ) -> impl FnOnce(bollard::errors::Error) -> DockerError + '_ {
        let container = container.to_owned();
        move |source| DockerError::Container {
            host: self.host.clone(),
            container,
            action,
            source: Box::new(source),
        }
    }

    fn image_err(
        &self,
        image: &str,
        action: &'static str,
    ) -> impl FnOnce(bollard::errors::Error) -> DockerError + '_ {
        let image = image.to_owned();
        move |source| DockerError::Image {
            host: self.host.clone(),
            image,
            action,
            source: Box::new(source),
        }
    }

    /// A client whose request timeout covers a graceful stop of `secs` seconds.
    fn slow_client(&self, secs: u64) -> bollard::Docker {
        self.docker
            .clone()
            .with_timeout(std::time::Duration::from_secs(
                secs + self.common.client_timeout,
            ))
    }

    /// Inspects a container; `None` when it does not exist.
    pub async fn inspect(&self, name: &str) -> Result<Option<ContainerInspectResponse>> {
        match self
            .docker
            .inspect_container(
                name,
                None::<bollard::query_parameters::InspectContainerOptions>,
            )
            .await
        {
            Ok(c) => Ok(Some(c)),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(self.container_err(name, "inspect")(e)),
        }
    }

    /// The local image ID for `image` (`repo:tag`); `None` when not present locally.
    pub async fn image_id(&self, image: &str) -> Result<Option<String>> {
        match self.docker.inspect_image(image).await {
            Ok(i) => Ok(i.id),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(self.image_err(image, "inspect")(e)),
        }
    }

    /// kolla `pull_image`: pulls `image` (with the registry credentials of the common
    /// options); returns whether the local image ID changed.
    pub async fn pull_image(&self, image: &str) -> Result<bool> {
        self.step(image, Step::PullImage, async {
            let before = self.image_id(image).await?;
            let (repo, tag) = parse_repository_tag(image);
            let options = CreateImageOptions {
                from_image: Some(repo),
                tag: Some(tag),
                ..CreateImageOptions::default()
            };
            let creds = self
                .common
                .registry_auth
                .as_ref()
                .map(|a| DockerCredentials {
                    username: Some(a.username.clone()),
                    password: Some(a.password.clone()),
                    email: a.email.clone(),
                    serveraddress: a.registry.clone(),
                    ..DockerCredentials::default()
                });
            let mut stream = self.docker.create_image(Some(options), None, creds);
            while let Some(info) = stream.next().await {
                let info = info.map_err(self.image_err(image, "pull"))?;
                if let Some(status) = info.status {
                    let message = match info.progress {
                        Some(p) => format!("{status} {p}"),
                        None => status,
                    };
                    self.report(image, Step::PullImage, Phase::Progress { message });
                }
            }
            let after = self.image_id(image).await?;
            Ok(before != after)
        })
        .await
    }

    /// kolla `ensure_image`: pulls only when the image is not present locally; returns whether
    /// it pulled.
    pub async fn ensure_image(&self, image: &str) -> Result<bool> {
        if self.image_id(image).await?.is_some() {
            return Ok(false);
        }
        self.pull_image(image).await?;
        Ok(true)
    }

    /// kolla `create_volume`: a named volume with driver `local` and label
    /// `kolla_managed=true` (and `kollars.managed=true`), if missing; returns whether it
    /// created it.
    pub async fn create_volume(&self, name: &str) -> Result<bool> {
        let verr = |action: &'static str| {
            let name = name.to_owned();
            move |source| DockerError::Volume {
                host: self.host.clone(),
                volume: name,
                action,
                source: Box::new(source),
            }
        };
        match self.docker.inspect_volume(name).await {
            Ok(_) => return Ok(false),
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(verr("inspect")(e)),
        }
        self.step(name, Step::CreateVolume, async {
            let labels = HashMap::from([
                (LABEL_KOLLA_MANAGED.to_owned(), "true".to_owned()),
                (LABEL_MANAGED.to_owned(), "true".to_owned()),
            ]);
            self.docker
                .create_volume(VolumeCreateOptions {
                    name: Some(name.to_owned()),
                    driver: Some("local".to_owned()),
                    labels: Some(labels),
                    ..VolumeCreateOptions::default()
                })
                .await
                .map_err(verr("create"))?;
            Ok(true)
        })
        .await
    }

    /// Creates (does not start) the container for `spec`: pre-creates its named volumes and
    /// records the spec and config hashes as labels. The image must be present
    /// ([`Engine::ensure_image`]). Returns the container ID.
    pub async fn create_container(
        &self,
        spec: &ContainerSpec,
        config_hash: Option<&str>,
    ) -> Result<String> {
        let desired = self.resolve(spec)?;
        self.create_from(&desired, config_hash).await
    }

    async fn create_from(
        &self,
        desired: &DesiredContainer,
        config_hash: Option<&str>,
    ) -> Result<String> {
        for v in &desired.named_volumes {
            self.create_volume(v).await?;
        }
        let options = CreateContainerOptions {
            name: Some(desired.name.clone()),
            ..CreateContainerOptions::default()
        };
        let created = self
            .docker
            .create_container(Some(options), desired.create_body(config_hash))
            .await
            .map_err(self.container_err(&desired.name, "create"))?;
        Ok(created.id)
    }

    /// kolla `start_container` for an existing container: starts it (already running is fine).
    pub async fn start(&self, name: &str) -> Result<()> {
        match self
            .docker
            .start_container(name, None::<StartContainerOptions>)
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if is_not_modified(&e) => Ok(()),
            Err(e) if is_not_found(&e) => Err(DockerError::NoSuchContainer {
                host: self.host.clone(),
                container: name.to_owned(),
            }),
            Err(e) => Err(self.container_err(name, "start")(e)),
        }
    }

    /// kolla `stop_container`: stops with a graceful timeout (`None`: the common options'),
    /// after which the engine kills it. A missing container is an error unless
    /// `ignore_missing`. Returns whether the container existed.
    pub async fn stop(
        &self,
        name: &str,
        timeout: Option<u64>,
        ignore_missing: bool,
    ) -> Result<bool> {
        let t = timeout.unwrap_or(self.common.graceful_timeout);
        self.step(name, Step::Stop, async {
            let options = StopContainerOptions {
                t: Some(i32::try_from(t).unwrap_or(i32::MAX)),
                signal: None,
            };
            match self
                .slow_client(t)
                .stop_container(name, Some(options))
                .await
            {
                Ok(()) => Ok(true),
                Err(e) if is_not_modified(&e) => Ok(true),
                Err(e) if is_not_found(&e) && ignore_missing => Ok(false),
                Err(e) if is_not_found(&e) => Err(DockerError::NoSuchContainer {
                    host: self.host.clone(),
                    container: name.to_owned(),
                }),
                Err(e) => Err(self.container_err(name, "stop")(e)),
            }
        })
        .await
    }

    /// kolla `restart_container`: stop (graceful timeout) and start; fails if missing.
    pub async fn restart(&self, name: &str, timeout: Option<u64>) -> Result<()> {
        let t = timeout.unwrap_or(self.common.graceful_timeout);
        let options = RestartContainerOptions {
            t: Some(i32::try_from(t).unwrap_or(i32::MAX)),
            signal: None,
        };
        match self
            .slow_client(t)
            .restart_container(name, Some(options))
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if is_not_found(&e) => Err(DockerError::NoSuchContainer {
                host: self.host.clone(),
                container: name.to_owned(),
            }),
            Err(e) => Err(self.container_err(name, "restart")(e)),
        }
    }

    /// kolla `remove_container`: force-removes; an absent container is fine. Returns whether
    /// it existed.
    pub async fn remove(&self, name: &str) -> Result<bool> {
        self.step(name, Step::Remove, async {
            let options = RemoveContainerOptions {
                force: true,
                ..RemoveContainerOptions::default()
            };
            let existed = match self.docker.remove_container(name, Some(options)).await {
                Ok(()) => true,
                Err(e) if is_not_found(&e) => false,
                Err(e) => return Err(self.container_err(name, "remove")(e)),
            };
            self.remove_config_records(name).await?;
            Ok(existed)
        })
        .await
    }

    /// kolla `stop_and_remove_container`: graceful stop then remove, if it exists. Returns
    /// whether it existed.
    pub async fn stop_and_remove(&self, name: &str, timeout: Option<u64>) -> Result<bool> {
        if !self.stop(name, timeout, true).await? {
            return Ok(false);
        }
        self.remove(name).await
    }

    /// kolla `compare_container`: every parameter difference, plus state and config.
    pub async fn compare_container(
        &self,
        spec: &ContainerSpec,
        config_hash: Option<&str>,
    ) -> Result<Comparison> {
        let desired = self.resolve(spec)?;
        let Some(current) = self.inspect(&desired.name).await? else {
            return Ok(Comparison {
                exists: false,
                parameters: Vec::new(),
                state: None,
                config: None,
            });
        };
        let facts = self.image_facts(&desired, &current).await?;
        let parameters = compare(&desired, &current, &facts);
        let status = state_status(&current);
        let state = (status != "running").then(|| Difference::new("state", status, "running"));
        let config = match config_hash {
            Some(want) => {
                let applied = self.applied_config_hash(&current).await?;
                (applied.as_deref() != Some(want)).then(|| {
                    Difference::new(
                        "config",
                        applied.unwrap_or_else(|| "none".to_owned()),
                        want.to_owned(),
                    )
                })
            }
            None => None,
        };
        Ok(Comparison {
            exists: true,
            parameters,
            state,
            config,
        })
    }

    /// What [`Engine::apply`] would do for `spec` with config hash `config_hash` (the rendered
    /// `/etc/kolla/<service>/` tree; `None` skips the config check). Changes nothing.
    pub async fn decide(&self, spec: &ContainerSpec, config_hash: Option<&str>) -> Result<Action> {
        let cmp = self.compare_container(spec, config_hash).await?;
        if !cmp.exists {
            return Ok(Action::Create);
        }
        let copy_once = self.resolve(spec)?.config_strategy() == COPY_ONCE;
        let mut reasons = cmp.parameters;
        let recoverable_state = cmp
            .state
            .as_ref()
            .is_none_or(|s| s.current == "exited" || s.current == "created");
        if !recoverable_state {
            reasons.extend(cmp.state.clone());
        }
        if let Some(config) = &cmp.config {
            if copy_once {
                reasons.push(Difference::new(
                    "config",
                    config.current.clone(),
                    format!("{} (COPY_ONCE)", config.desired),
                ));
            }
        }
        if !reasons.is_empty() {
            return Ok(Action::Recreate { reasons });
        }
        if cmp.state.is_some() {
            return Ok(Action::Start);
        }
        if let Some(reason) = cmp.config {
            return Ok(Action::Restart { reason });
        }
        Ok(Action::Nothing)
    }

    /// `action` (from [`Engine::decide`]) for a container whose config files this run found
    /// different on the host and rewrote (`files`, for the reason): even with its recorded
    /// config hash current, it runs what was on disk at its last start (someone edited
    /// `/etc/kolla`, or a previous tool wrote there). As kolla's handlers do when a template
    /// task reports a change: [`Action::Nothing`] becomes a restart (a recreate under
    /// `COPY_ONCE`); every other action already copies the config again.
    pub fn after_rewrite(
        &self,
        spec: &ContainerSpec,
        action: Action,
        files: &[String],
    ) -> Result<Action> {
        if action != Action::Nothing || files.is_empty() {
            return Ok(action);
        }
        let reason = Difference {
            field: "config files".to_owned(),
            current: "differed on the host".to_owned(),
            desired: files.join(", "),
        };
        Ok(match self.resolve(spec)?.config_strategy() == COPY_ONCE {
            true => Action::Recreate {
                reasons: vec![reason],
            },
            false => Action::Restart { reason },
        })
    }

    /// [`Engine::decide`] for many containers of this host at once. One [`Engine::survey`]
    /// (two listings: containers, config records; taken earlier or now) answers for every
    /// container that is running the image its tag names, was created from the same desired
    /// state (`kollars.spec-hash`) and runs the wanted config: those are [`Action::Nothing`]
    /// without an inspect. Any other container gets the full field-by-field comparison. A
    /// container changed behind kollars' back with `docker update` keeps its spec hash and is
    /// not noticed by the shortcut.
    pub async fn decide_many(
        &self,
        items: &[(&ContainerSpec, Option<&str>)],
    ) -> Vec<Result<Action>> {
        let taken = self.survey.lock().expect("survey lock").take();
        // a failed listing only costs the shortcut
        let survey = match taken {
            Some(s) => Some(s),
            None => self.list_survey().await.ok(),
        };
        let survey = survey.as_ref();
        futures_util::future::join_all(items.iter().map(|&(spec, hash)| async move {
            if let (Some(q), Ok(desired)) = (survey, self.resolve(spec)) {
                if q.is_current(&desired, hash, self) {
                    return Ok(Action::Nothing);
                }
            }
            self.decide(spec, hash).await
        }))
        .await
    }

    /// Lists this engine's managed containers and config records now, for the next
    /// [`Engine::decide_many`] (which consumes it). Read-only; call it as early as the run
    /// allows (kollars does while it renders), so the engine answers while the CPU renders.
    /// Any change through this engine ([`Engine::apply`] and the actions it uses) drops it.
    pub async fn survey(&self) -> Result<()> {
        let survey = self.list_survey().await?;
        *self.survey.lock().expect("survey lock") = Some(survey);
        Ok(())
    }

    /// The two listings of a survey, made now.
    async fn list_survey(&self) -> Result<Survey> {
        let list = |e| DockerError::List {
            host: self.host.clone(),
            source: Box::new(e),
        };
        let filters = HashMap::from([("label".to_owned(), vec![format!("{LABEL_MANAGED}=true")])]);
        let (containers, records) = futures_util::future::join(
            self.docker.list_containers(Some(ListContainersOptions {
                all: true,
                filters: Some(filters),
                ..ListContainersOptions::default()
            })),
            self.snapshot_config_records(),
        )
        .await;
        records?;
        let mut by_name = HashMap::new();
        for c in containers.map_err(list)? {
            let Some(name) = c.names.and_then(|n| n.into_iter().next()) else {
                continue;
            };
            by_name.insert(
                name.trim_start_matches('/').to_owned(),
                Surveyed {
                    id: c.id.unwrap_or_default(),
                    image: c.image.unwrap_or_default(),
                    state: c.state.map(|s| s.to_string()).unwrap_or_default(),
                    labels: c.labels.unwrap_or_default(),
                },
            );
        }
        Ok(Survey { by_name })
    }

    /// Drops the survey and the config-record snapshot: they no longer tell the truth once
    /// this run changes something on the engine.
    pub(crate) fn forget_survey(&self) {
        *self.survey.lock().expect("survey lock") = None;
        *self.records.lock().expect("record cache lock") = None;
    }

    /// Carries out `action` (from [`Engine::decide`]) for `spec`.
    pub async fn apply(
        &self,
        spec: &ContainerSpec,
        config_hash: Option<&str>,
        action: &Action,
    ) -> Result<()> {
        let desired = self.resolve(spec)?;
        let name = desired.name.as_str();
        if action.is_change() {
            self.forget_survey();
        }
        match action {
            Action::Nothing => Ok(()),
            Action::Create => {
                self.step(name, Step::Create, async {
                    self.create_fresh(&desired, config_hash).await?;
                    self.start(name).await
                })
                .await
            }
            Action::Recreate { .. } => {
                self.step(name, Step::Recreate, async {
                    // Pull before stopping: a failed pull must not leave the service down.
                    self.ensure_image(&desired.image).await?;
                    self.stop(name, Some(desired.stop_timeout), true).await?;
                    self.remove(name).await?;
                    self.create_from(&desired, config_hash).await?;
                    self.start(name).await
                })
                .await
            }
            Action::Restart { .. } => {
                self.step(name, Step::Restart, async {
                    self.restart(name, Some(desired.stop_timeout)).await?;
                    if let Some(h) = config_hash {
                        self.write_config_record(name, h).await?;
                    }
                    Ok(())
                })
                .await
            }
            Action::Start => {
                self.step(name, Step::Start, async {
                    self.start(name).await?;
                    if let Some(h) = config_hash {
                        self.write_config_record(name, h).await?;
                    }
                    Ok(())
                })
                .await
            }
        }
    }

    /// The first half of [`Action::Create`]: pulls the image if missing and creates the
    /// container, not started. `kollars deploy` creates every new container of a host at once
    /// (creating is most of the engine's work) and starts each with [`Engine::start_created`]
    /// when its dependencies are up. A run that dies in between leaves created containers,
    /// which the next decision finds and starts ([`Action::Start`]).
    pub async fn create_stopped(
        &self,
        spec: &ContainerSpec,
        config_hash: Option<&str>,
    ) -> Result<()> {
        let desired = self.resolve(spec)?;
        self.forget_survey();
        self.step(
            &desired.name,
            Step::Create,
            self.create_fresh(&desired, config_hash),
        )
        .await
    }

    /// The second half of [`Action::Create`]: starts a container [`Engine::create_stopped`]
    /// created (its labels already carry the config hash; no record needed).
    pub async fn start_created(&self, spec: &ContainerSpec) -> Result<()> {
        let desired = self.resolve(spec)?;
        self.step(&desired.name, Step::Start, self.start(&desired.name))
            .await
    }

    /// Pulls if missing and creates. A container of that name that appeared after the decision
    /// (an interrupted run's create completing late; the engine reserves the name before
    /// inspect can see it) is waited for, then replaced.
    async fn create_fresh(
        &self,
        desired: &DesiredContainer,
        config_hash: Option<&str>,
    ) -> Result<()> {
        let name = desired.name.as_str();
        self.ensure_image(&desired.image).await?;
        if let Err(e) = self.create_from(desired, config_hash).await {
            let mut appeared = false;
            for _ in 0..50 {
                if self.inspect(name).await?.is_some() {
                    appeared = true;
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            if !appeared {
                return Err(e);
            }
            self.stop(name, Some(desired.stop_timeout), true).await?;
            self.remove(name).await?;
            self.create_from(desired, config_hash).await?;
        }
        Ok(())
    }

    /// kolla `recreate_or_restart_container`: [`Engine::decide`] then [`Engine::apply`];
    /// returns what was done.
    pub async fn converge(
        &self,
        spec: &ContainerSpec,
        config_hash: Option<&str>,
    ) -> Result<Action> {
        let action = self.decide(spec, config_hash).await?;
        self.apply(spec, config_hash, &action).await?;
        Ok(action)
    }

    /// kolla's one-shot `start_container` (`detach: false`, `remove_on_exit: true`): runs the
    /// container to completion, keeps its logs and exit code, removes it. A stale container of
    /// the same name (from a run that died) is removed first. Non-zero exit is
    /// [`DockerError::OneshotFailed`] carrying the last log lines.
    pub async fn run_oneshot(&self, spec: &ContainerSpec) -> Result<OneshotOutput> {
        let desired = self.oneshot_desired(spec)?;
        self.step(&desired.name, Step::Oneshot, async {
            self.oneshot_create(&desired).await?;
            self.oneshot_run(&desired).await
        })
        .await
    }

    /// The first half of [`Engine::run_oneshot`]: creates the one-shot container, not started,
    /// so that `kollars deploy` creates it with every other new container and only runs it
    /// ([`Engine::run_created_oneshot`]) when its project's dependencies are up.
    pub async fn create_oneshot(&self, spec: &ContainerSpec) -> Result<()> {
        let desired = self.oneshot_desired(spec)?;
        self.forget_survey();
        self.step(&desired.name, Step::Create, self.oneshot_create(&desired))
            .await
    }

    /// The second half of [`Engine::run_oneshot`], for a container [`Engine::create_oneshot`]
    /// created: runs it to completion, keeps logs and exit code, removes it.
    pub async fn run_created_oneshot(&self, spec: &ContainerSpec) -> Result<OneshotOutput> {
        let desired = self.oneshot_desired(spec)?;
        self.step(&desired.name, Step::Oneshot, self.oneshot_run(&desired))
            .await
    }

    fn oneshot_desired(&self, spec: &ContainerSpec) -> Result<DesiredContainer> {
        let mut spec = spec.clone();
        spec.restart_policy = Some(RestartPolicy::Oneshot);
        self.resolve(&spec)
    }

    async fn oneshot_create(&self, desired: &DesiredContainer) -> Result<()> {
        self.ensure_image(&desired.image).await?;
        self.remove(&desired.name).await?;
        self.create_from(desired, None).await?;
        Ok(())
    }

    async fn oneshot_run(&self, desired: &DesiredContainer) -> Result<OneshotOutput> {
        let name = &desired.name;
        let run = async {
            self.start(name).await?;
            let exit_code = self.wait_exit(name).await?;
            let logs = self.logs(name).await?;
            Ok::<_, DockerError>((exit_code, logs))
        }
        .await;
        let removed = self.remove(name).await;
        let (exit_code, logs) = run?;
        removed?;
        if exit_code != 0 {
            return Err(DockerError::OneshotFailed {
                host: self.host.clone(),
                container: name.clone(),
                exit_code,
                logs_tail: tail(&logs, 20),
            });
        }
        Ok(OneshotOutput { exit_code, logs })
    }

    /// Waits for a container to exit and returns its exit code.
    pub async fn wait_exit(&self, name: &str) -> Result<i64> {
        let mut stream = self
            .docker
            .wait_container(name, None::<WaitContainerOptions>);
        match stream.next().await {
            Some(Ok(r)) => Ok(r.status_code),
            Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => Ok(code),
            Some(Err(e)) => Err(self.container_err(name, "wait for")(e)),
            None => Err(DockerError::Timeout {
                host: self.host.clone(),
                container: name.to_owned(),
                waiting_for: "exited",
            }),
        }
    }

    /// A container's stdout and stderr so far.
    pub async fn logs(&self, name: &str) -> Result<String> {
        let options = LogsOptions {
            stdout: true,
            stderr: true,
            ..LogsOptions::default()
        };
        let chunks: Vec<_> = self
            .docker
            .logs(name, Some(options))
            .try_collect()
            .await
            .map_err(self.container_err(name, "read logs of"))?;
        Ok(chunks.iter().map(|c| c.to_string()).collect())
    }

    /// Every container labelled `kollars.managed=true` (running or not), for `destroy` and
    /// `check`.
    pub async fn list_managed(&self) -> Result<Vec<ManagedContainer>> {
        let filters = HashMap::from([("label".to_owned(), vec![format!("{LABEL_MANAGED}=true")])]);
        let options = ListContainersOptions {
            all: true,
            filters: Some(filters),
            ..ListContainersOptions::default()
        };
        let list = self
            .docker
            .list_containers(Some(options))
            .await
            .map_err(|source| DockerError::List {
                host: self.host.clone(),
                source: Box::new(source),
            })?;
        let mut out: Vec<ManagedContainer> = list
            .into_iter()
            .map(|c| ManagedContainer {
                name: c
                    .names
                    .and_then(|n| n.into_iter().next())
                    .map(|n| n.trim_start_matches('/').to_owned())
                    .unwrap_or_default(),
                id: c.id.unwrap_or_default(),
                image: c.image.unwrap_or_default(),
                state: c.state.map(|s| s.to_string()).unwrap_or_default(),
                status: c.status.unwrap_or_default(),
                labels: c.labels.unwrap_or_default().into_iter().collect(),
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// kolla `check`: each expected container present, running and not unhealthy.
    pub async fn check<S: AsRef<str>>(&self, names: &[S]) -> Result<Vec<CheckResult>> {
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            let name = name.as_ref();
            let status = match self.inspect(name).await? {
                None => CheckStatus::Missing,
                Some(c) => {
                    let st = state_status(&c);
                    if st != "running" {
                        CheckStatus::NotRunning { state: st }
                    } else {
                        match c.state.and_then(|s| s.health).and_then(|h| h.status) {
                            Some(HealthStatusEnum::UNHEALTHY) => CheckStatus::Unhealthy,
                            Some(HealthStatusEnum::STARTING) => CheckStatus::Starting,
                            Some(HealthStatusEnum::HEALTHY) => CheckStatus::Healthy,
                            _ => CheckStatus::Running,
                        }
                    }
                }
            };
            out.push(CheckResult {
                name: name.to_owned(),
                status,
            });
        }
        Ok(out)
    }

    async fn image_facts(
        &self,
        desired: &DesiredContainer,
        current: &ContainerInspectResponse,
    ) -> Result<ImageFacts> {
        let inspect = |image: String| async move {
            match self.docker.inspect_image(&image).await {
                Ok(i) => Ok(Some(i)),
                Err(e) if is_not_found(&e) => Ok(None),
                Err(e) => Err(self.image_err(&image, "inspect")(e)),
            }
        };
        let wanted = inspect(desired.image.clone()).await?;
        let desired_image_id = wanted.as_ref().and_then(|i| i.id.clone());
        let cur_id = current.image.clone().unwrap_or_default();
        // Usually the container runs the desired image: one inspect serves both.
        let image = if desired_image_id.as_deref() == Some(cur_id.as_str()) {
            wanted
        } else {
            inspect(cur_id).await?
        };
        let config = image.and_then(|i| i.config).unwrap_or_default();
        Ok(ImageFacts {
            desired_image_id,
            image_labels: config.labels.unwrap_or_default().into_iter().collect(),
            image_volumes: config.volumes.unwrap_or_default().into_keys().collect(),
            image_healthcheck: config.healthcheck,
        })
    }

    /// The config hash the container runs with: its newest config record, else its
    /// `kollars.config-hash` label.
    async fn applied_config_hash(&self, c: &ContainerInspectResponse) -> Result<Option<String>> {
        let label = c
            .config
            .as_ref()
            .and_then(|c| c.labels.as_ref())
            .and_then(|l| l.get(LABEL_CONFIG_HASH))
            .cloned();
        let id = c.id.clone().unwrap_or_default();
        let records = self.config_records(LABEL_CONFIG_RECORD, &id).await?;
        Ok(records
            .into_iter()
            .max_by_key(|(seq, _, _)| *seq)
            .map(|(_, _, hash)| hash)
            .or(label))
    }

    /// Lists every config record on the engine once, so that the decisions that follow (one per
    /// container) need no volume listing of their own. Records written afterwards
    /// ([`Engine::apply`]) drop the snapshot again.
    pub async fn snapshot_config_records(&self) -> Result<()> {
        let all = self.list_records(LABEL_CONFIG_RECORD.to_owned()).await?;
        let mut by_id: RecordCache = HashMap::new();
        for (id, rec) in all {
            by_id.entry(id).or_default().push(rec);
        }
        *self.records.lock().expect("record cache lock") = Some(by_id);
        Ok(())
    }

    /// Config records whose label `key` equals `value`: `(seq, volume name, hash)`.
    async fn config_records(&self, key: &str, value: &str) -> Result<Vec<(u128, String, String)>> {
        if key == LABEL_CONFIG_RECORD {
            if let Some(cache) = self.records.lock().expect("record cache lock").as_ref() {
                return Ok(cache.get(value).cloned().unwrap_or_default());
            }
        }
        Ok(self
            .list_records(format!("{key}={value}"))
            .await?
            .into_iter()
            .map(|(_, r)| r)
            .collect())
    }

    /// Volumes matching a label filter, as `(container id, (seq, volume name, hash))`.
    async fn list_records(
        &self,
        label_filter: String,
    ) -> Result<Vec<(String, (u128, String, String))>> {
        let value = label_filter.clone();
        let filters = HashMap::from([("label".to_owned(), vec![label_filter])]);
        let list = self
            .docker
            .list_volumes(Some(ListVolumesOptions {
                filters: Some(filters),
            }))
            .await
            .map_err(|source| DockerError::Volume {
                host: self.host.clone(),
                volume: format!("config records of {value}"),
                action: "list",
                source: Box::new(source),
            })?;
        Ok(list
            .volumes
            .unwrap_or_default()
            .into_iter()
            .map(|v| {
                let seq = v
                    .labels
                    .get(LABEL_CONFIG_RECORD_SEQ)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                let hash = v.labels.get(LABEL_CONFIG_HASH).cloned().unwrap_or_default();
                let id = v
                    .labels
                    .get(LABEL_CONFIG_RECORD)
                    .cloned()
                    .unwrap_or_default();
                (id, (seq, v.name, hash))
            })
            .collect())
    }

    /// Records that container `name` now runs config `hash`.
    async fn write_config_record(&self, name: &str, hash: &str) -> Result<()> {
        let c = self
            .inspect(name)
            .await?
            .ok_or_else(|| DockerError::NoSuchContainer {
                host: self.host.clone(),
                container: name.to_owned(),
            })?;
        let id = c.id.unwrap_or_default();
        // the snapshot no longer tells the truth once a record is written
        self.forget_survey();
        let old = self.config_records(LABEL_CONFIG_RECORD, &id).await?;
        let seq = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
            .max(old.iter().map(|(s, _, _)| s + 1).max().unwrap_or(0));
        let volume = format!("kollars-cfg-{}-{seq}", &id[..id.len().min(12)]);
        let labels = HashMap::from([
            (LABEL_CONFIG_RECORD.to_owned(), id.clone()),
            (LABEL_CONFIG_RECORD_NAME.to_owned(), name.to_owned()),
            (LABEL_CONFIG_RECORD_SEQ.to_owned(), seq.to_string()),
            (LABEL_CONFIG_HASH.to_owned(), hash.to_owned()),
        ]);
        let verr = |action: &'static str, volume: &str| {
            let volume = volume.to_owned();
            move |source| DockerError::Volume {
                host: self.host.clone(),
                volume,
                action,
                source: Box::new(source),
            }
        };
        self.docker
            .create_volume(VolumeCreateOptions {
                name: Some(volume.clone()),
                driver: Some("local".to_owned()),
                labels: Some(labels),
                ..VolumeCreateOptions::default()
            })
            .await
            .map_err(verr("create", &volume))?;
        for (_, old_volume, _) in old {
            self.remove_volume_if_present(&old_volume)
                .await
                .map_err(verr("remove", &old_volume))?;
        }
        Ok(())
    }

    /// Removes every config record of container `name`.
    async fn remove_config_records(&self, name: &str) -> Result<()> {
        for (_, volume, _) in self.config_records(LABEL_CONFIG_RECORD_NAME, name).await? {
            let v = volume.clone();
            self.remove_volume_if_present(&volume)
                .await
                .map_err(|source| DockerError::Volume {
                    host: self.host.clone(),
                    volume: v,
                    action: "remove",
                    source: Box::new(source),
                })?;
        }
        Ok(())
    }

    async fn remove_volume_if_present(
        &self,
        volume: &str,
    ) -> std::result::Result<(), bollard::errors::Error> {
        match self
            .docker
            .remove_volume(
                volume,
                None::<bollard::query_parameters::RemoveVolumeOptions>,
            )
            .await
        {
            Err(e) if is_not_found(&e) => Ok(()),
            r => r,
        }
    }
}

fn state_status(c: &ContainerInspectResponse) -> String {
    c.state
        .as_ref()
        .and_then(|s| s.status)
        .map(|s| match s {
            ContainerStateStatusEnum::EMPTY => "unknown".to_owned(),
            s => s.to_string(),
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Config records by container id: `(seq, volume name, hash)` each.
pub(crate) type RecordCache = HashMap<String, Vec<(u128, String, String)>>;

/// One container as the engine's container listing shows it.
struct Surveyed {
    id: String,
    /// The image reference the container was created with **if that reference still names the
    /// container's image**; otherwise the engine shows the image ID instead (moby's
    /// `refreshImage` in `daemon/list.go`, the same since API 1.2x). So the listing alone tells
    /// whether a tag moved (new build or pull), with no image inspect per container.
    image: String,
    state: String,
    labels: HashMap<String, String>,
}

/// What an engine held at one moment: its managed containers by name.
pub(crate) struct Survey {
    by_name: HashMap<String, Surveyed>,
}

impl Survey {
    fn is_current(
        &self,
        desired: &DesiredContainer,
        config_hash: Option<&str>,
        engine: &Engine,
    ) -> bool {
        let Some(c) = self.by_name.get(&desired.name) else {
            return false;
        };
        if c.state != "running"
            || c.labels.get(LABEL_SPEC_HASH) != Some(&desired.spec_hash())
            || c.image != desired.image
        {
            return false;
        }
        let Some(want) = config_hash else { return true };
        let records = engine.records.lock().expect("record cache lock");
        let applied = records
            .as_ref()
            .and_then(|r| r.get(&c.id))
            .and_then(|r| {
                r.iter()
                    .max_by_key(|(seq, _, _)| *seq)
                    .map(|(_, _, h)| h.clone())
            })
            .or_else(|| c.labels.get(LABEL_CONFIG_HASH).cloned());
        applied.as_deref() == Some(want)
    }
}
