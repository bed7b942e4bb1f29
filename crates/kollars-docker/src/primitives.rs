//! The engine primitives kolla's `kolla_container` actions are made of: inspect, image lookup
//! and pull, named volumes, create, start, stop, restart, signal, remove, wait, logs, list.
//!
//! Why a module of their own: every higher operation ([`crate::apply`], [`crate::oneshot`],
//! [`crate::transfer`], [`crate::check`]) is a sequence of these, and each one owns the mapping
//! from the engine's answers to kolla's semantics: a 404 on remove is "already gone", a 304 on
//! start or stop is "already in that state", a missing container for stop is an error unless
//! `ignore_missing`, and every failure names the host and the object. Nothing here decides
//! anything.

use std::collections::{BTreeMap, HashMap};

use bollard::auth::DockerCredentials;
use bollard::models::{ContainerInspectResponse, ContainerStateStatusEnum, VolumeCreateOptions};
use bollard::query_parameters::{
    CreateContainerOptions, CreateImageOptions, KillContainerOptions, ListContainersOptions,
    LogsOptions, RemoveContainerOptions, RestartContainerOptions, StartContainerOptions,
    StopContainerOptions, WaitContainerOptions,
};
use futures_util::{StreamExt, TryStreamExt};
use serde::Serialize;

use crate::compare::parse_repository_tag;
use crate::desired::{DesiredContainer, LABEL_KOLLA_MANAGED, LABEL_MANAGED};
use crate::engine::Engine;
use crate::error::{is_conflict, is_not_found, is_not_modified, DockerError, EngineError, Result};
use crate::reporter::{Phase, Step};
use crate::spec::ContainerSpec;

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
    pub labels: BTreeMap<String, String>,
}

impl Engine {
    pub(crate) fn container_err(
        &self,
        container: &str,
        action: &'static str,
    ) -> impl FnOnce(bollard::errors::Error) -> DockerError + '_ {
        let container = container.to_owned();
        move |source| {
            self.no_answer(&source, || format!("{action} container `{container}`"))
                .unwrap_or_else(|| DockerError::Container {
                    host: self.host.clone(),
                    endpoint: self.endpoint.clone(),
                    container,
                    action,
                    source: EngineError::from(source),
                })
        }
    }

    pub(crate) fn image_err(
        &self,
        image: &str,
        action: &'static str,
    ) -> impl FnOnce(bollard::errors::Error) -> DockerError + '_ {
        let image = image.to_owned();
        move |source| {
            self.no_answer(&source, || format!("{action} image `{image}`"))
                .unwrap_or_else(|| DockerError::Image {
                    host: self.host.clone(),
                    endpoint: self.endpoint.clone(),
                    image,
                    action,
                    source: EngineError::from(source),
                })
        }
    }

    pub(crate) fn volume_err(
        &self,
        volume: &str,
        action: &'static str,
    ) -> impl FnOnce(bollard::errors::Error) -> DockerError + '_ {
        let volume = volume.to_owned();
        move |source| {
            self.no_answer(&source, || format!("{action} volume `{volume}`"))
                .unwrap_or_else(|| DockerError::Volume {
                    host: self.host.clone(),
                    endpoint: self.endpoint.clone(),
                    volume,
                    action,
                    source: EngineError::from(source),
                })
        }
    }

    pub(crate) fn list_err(&self) -> impl FnOnce(bollard::errors::Error) -> DockerError + '_ {
        move |source| {
            self.no_answer(&source, || "listing containers".to_owned())
                .unwrap_or_else(|| DockerError::List {
                    host: self.host.clone(),
                    endpoint: self.endpoint.clone(),
                    source: EngineError::from(source),
                })
        }
    }

    fn no_such_container(&self, name: &str) -> DockerError {
        DockerError::NoSuchContainer {
            host: self.host.clone(),
            container: name.to_owned(),
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

    /// Inspects an image; `None` when it is not present locally.
    pub(crate) async fn inspect_image(
        &self,
        image: &str,
    ) -> Result<Option<bollard::models::ImageInspect>> {
        match self.docker.inspect_image(image).await {
            Ok(i) => Ok(Some(i)),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(self.image_err(image, "inspect")(e)),
        }
    }

    /// The local image ID for `image` (`repo:tag`); `None` when not present locally.
    pub async fn image_id(&self, image: &str) -> Result<Option<String>> {
        Ok(self.inspect_image(image).await?.and_then(|i| i.id))
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
            let pull = async {
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
                Ok(())
            };
            self.while_answering(&format!("the pull of `{image}`"), pull)
                .await?;
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
        match self.docker.inspect_volume(name).await {
            Ok(_) => return Ok(false),
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(self.volume_err(name, "inspect")(e)),
        }
        self.step(name, Step::CreateVolume, async {
            let labels = HashMap::from([
                (LABEL_KOLLA_MANAGED.to_owned(), "true".to_owned()),
                (LABEL_MANAGED.to_owned(), "true".to_owned()),
            ]);
            let created = self
                .docker
                .create_volume(VolumeCreateOptions {
                    name: Some(name.to_owned()),
                    driver: Some("local".to_owned()),
                    labels: Some(labels),
                    ..VolumeCreateOptions::default()
                })
                .await;
            match created {
                Ok(_) => Ok(true),
                // another container's create made it a moment before (containers of a host
                // are created side by side): dockerd answers that with success, podman with
                // "volume already exists"
                Err(_) if self.docker.inspect_volume(name).await.is_ok() => Ok(false),
                Err(e) => Err(self.volume_err(name, "create")(e)),
            }
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

    pub(crate) async fn create_from(
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
        let mut body = desired.create_body(config_hash);
        if self.podman {
            crate::podman::adapt_create(&mut body);
        }
        let created = self
            .docker
            .create_container(Some(options), body)
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
            Err(e) if is_not_found(&e) => Err(self.no_such_container(name)),
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
                Err(e) if is_not_found(&e) => Err(self.no_such_container(name)),
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
            Err(e) if is_not_found(&e) => Err(self.no_such_container(name)),
            Err(e) => Err(self.container_err(name, "restart")(e)),
        }
    }

    /// Sends `signal` (e.g. `HUP`) to a running container, as `docker kill --signal` (kolla's
    /// "Refresh cell cache in nova scheduler"). Returns whether it was running: a missing or
    /// stopped container reads its state afresh when it starts, so it needs no signal.
    pub async fn signal(&self, name: &str, signal: &str) -> Result<bool> {
        let options = KillContainerOptions {
            signal: signal.to_owned(),
        };
        match self.docker.kill_container(name, Some(options)).await {
            Ok(()) => Ok(true),
            // 409: not running
            Err(e) if is_not_found(&e) || is_conflict(&e) => Ok(false),
            Err(e) => Err(self.container_err(name, "signal")(e)),
        }
    }

    /// [`Engine::restart`] as a reported step ([`Step::Restart`]), for a restart asked for
    /// by name (`kollars restart`) rather than decided (`apply` reports its own).
    pub async fn restart_reported(&self, name: &str, timeout: Option<u64>) -> Result<()> {
        self.step(name, Step::Restart, self.restart(name, timeout))
            .await
    }

    /// kolla `remove_container`: force-removes; an absent container is fine. Its config
    /// records ([`crate::records`]) go with it. Returns whether it existed.
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

    /// Waits for a container to exit and returns its exit code.
    pub async fn wait_exit(&self, name: &str) -> Result<i64> {
        let wait = async {
            let mut stream = self
                .docker
                .wait_container(name, None::<WaitContainerOptions>);
            match stream.next().await {
                Some(Ok(r)) => Ok(r.status_code),
                Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => {
                    Ok(code)
                }
                Some(Err(e)) => Err(self.container_err(name, "wait for")(e)),
                None => Err(DockerError::Timeout {
                    host: self.host.clone(),
                    container: name.to_owned(),
                    waiting_for: "exited",
                }),
            }
        };
        self.while_answering(&format!("the wait for container `{name}`"), wait)
            .await
    }

    /// A container's stdout and stderr so far.
    pub async fn logs(&self, name: &str) -> Result<String> {
        let options = LogsOptions {
            stdout: true,
            stderr: true,
            ..LogsOptions::default()
        };
        let read = async {
            self.docker
                .logs(name, Some(options))
                .try_collect::<Vec<_>>()
                .await
                .map_err(self.container_err(name, "read logs of"))
        };
        let chunks = self
            .while_answering(&format!("reading the logs of `{name}`"), read)
            .await?;
        Ok(chunks.iter().map(|c| c.to_string()).collect())
    }

    /// A container's stdout and stderr as chunks while they come: the last `tail` lines (all
    /// when `None`), then, with `follow`, every new one until the container stops or the
    /// stream is dropped (`kollars logs`).
    pub fn log_stream<'a>(
        &'a self,
        name: &'a str,
        follow: bool,
        tail: Option<u64>,
    ) -> impl futures_util::Stream<Item = Result<String>> + 'a {
        let options = LogsOptions {
            stdout: true,
            stderr: true,
            follow,
            tail: tail.map_or_else(|| "all".to_owned(), |n| n.to_string()),
            ..LogsOptions::default()
        };
        self.docker.logs(name, Some(options)).map(move |chunk| {
            chunk
                .map(|c| c.to_string())
                .map_err(|e| self.container_err(name, "read logs of")(e))
        })
    }

    /// Every container labelled `kollars.managed=true` (running or not), for `destroy` and
    /// `check`, sorted by name.
    pub async fn list_managed(&self) -> Result<Vec<ManagedContainer>> {
        let mut out: Vec<ManagedContainer> = self
            .list_managed_summaries()
            .await?
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

    /// The engine's listing of every `kollars.managed=true` container, as it gives it.
    pub(crate) async fn list_managed_summaries(
        &self,
    ) -> Result<Vec<bollard::models::ContainerSummary>> {
        let filters = HashMap::from([("label".to_owned(), vec![format!("{LABEL_MANAGED}=true")])]);
        let options = ListContainersOptions {
            all: true,
            filters: Some(filters),
            ..ListContainersOptions::default()
        };
        self.docker
            .list_containers(Some(options))
            .await
            .map_err(self.list_err())
    }
}

/// A container's `State.Status` as text (`unknown` when the engine gives none).
pub(crate) fn state_status(c: &ContainerInspectResponse) -> String {
    c.state
        .as_ref()
        .and_then(|s| s.status)
        .map(|s| match s {
            ContainerStateStatusEnum::EMPTY => "unknown".to_owned(),
            s => s.to_string(),
        })
        .unwrap_or_else(|| "unknown".to_owned())
}
