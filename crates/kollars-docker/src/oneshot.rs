//! One-shot containers: kolla's `start_container` with `detach: false` and
//! `remove_on_exit: true`, for bootstrap and `db_sync` runs.
//!
//! Why a module of its own: a one-shot is not converged but run to completion — its own
//! restart policy (`oneshot`, Docker `no`), a stale container of the same name from a run
//! that died is removed first, the logs and exit code are kept, the container is removed in
//! every case, and a non-zero exit is an error carrying the end of the logs. Like
//! [`crate::apply`], it comes in two halves so `kollars deploy` can create it with every other
//! new container and run it when its project's dependencies are up.

use serde::Serialize;

use crate::desired::DesiredContainer;
use crate::engine::Engine;
use crate::error::{DockerError, Result};
use crate::reporter::Step;
use crate::spec::{ContainerSpec, RestartPolicy};

/// Output of a one-shot container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OneshotOutput {
    /// Exit code (0 here; non-zero is [`DockerError::OneshotFailed`]).
    pub exit_code: i64,
    /// stdout and stderr, interleaved as the engine logged them.
    pub logs: String,
}

impl Engine {
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

    pub(crate) fn oneshot_desired(&self, spec: &ContainerSpec) -> Result<DesiredContainer> {
        let mut spec = spec.clone();
        spec.restart_policy = Some(RestartPolicy::Oneshot);
        self.resolve(&spec)
    }

    /// Removes a stale container of the one-shot's name and creates it. A create a killed
    /// run sent that the engine carries out after the removal is waited for and replaced
    /// ([`Engine::create_fresh`]), not a 409.
    pub(crate) async fn oneshot_create(&self, desired: &DesiredContainer) -> Result<()> {
        self.remove(&desired.name).await?;
        self.create_fresh(desired, None).await
    }

    async fn oneshot_run(&self, desired: &DesiredContainer) -> Result<OneshotOutput> {
        let started = self.start(&desired.name).await;
        self.oneshot_end(&desired.name, started, false).await
    }

    /// Waits for one-shot `name` to exit (unless `started` failed), keeps its logs and exit
    /// code and removes it (in every case).
    /// `record`: a bootstrap, recorded ([`Engine::record_bootstrap`]) after it exited 0 and
    /// before it is removed; when recording fails the exited container stays, for the next
    /// run to count.
    pub(crate) async fn oneshot_end(
        &self,
        name: &str,
        started: Result<()>,
        record: bool,
    ) -> Result<OneshotOutput> {
        let run = async {
            started?;
            let exit_code = self.wait_exit(name).await?;
            let logs = self.logs(name).await?;
            Ok::<_, DockerError>((exit_code, logs))
        }
        .await;
        if record && matches!(run, Ok((0, _))) {
            self.record_bootstrap(name).await?;
        }
        let removed = self.remove(name).await;
        let (exit_code, logs) = run?;
        removed?;
        if exit_code != 0 {
            return Err(DockerError::OneshotFailed {
                host: self.host.clone(),
                container: name.to_owned(),
                exit_code,
                logs_tail: tail(&logs, 20),
            });
        }
        Ok(OneshotOutput { exit_code, logs })
    }
}

/// The last `n` lines of `s`.
fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
