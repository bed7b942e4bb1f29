//! `kollars check`: kolla's post-deploy check that every expected container is present,
//! running and not unhealthy.
//!
//! Why a module of its own: it is the one read that answers about health rather than
//! configuration (the healthcheck state, not the compared fields), and its result is a report
//! row per container, not an [`crate::Action`].
//!
//! Podman runs no healthcheck by itself without systemd (its timers are systemd units): a
//! container's health stays `starting` forever. On podman, `check` runs the container's own
//! healthcheck test once, now, through exec, bounded by the healthcheck's timeout, and reports
//! healthy or unhealthy from its exit code.

use bollard::models::HealthStatusEnum;
use serde::Serialize;

use bollard::models::ContainerInspectResponse;

use crate::engine::Engine;
use crate::error::Result;
use crate::exec::ExecRequest;
use crate::primitives::state_status;

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

impl Engine {
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
                        let health = c.state.as_ref().and_then(|s| s.health.clone());
                        match health.and_then(|h| h.status) {
                            Some(HealthStatusEnum::STARTING) if self.podman => {
                                self.run_healthcheck(name, &c).await?
                            }
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
}

impl Engine {
    /// Runs `c`'s healthcheck test once in it (podman, see the module docs).
    async fn run_healthcheck(
        &self,
        name: &str,
        c: &ContainerInspectResponse,
    ) -> Result<CheckStatus> {
        let hc = c.config.as_ref().and_then(|c| c.healthcheck.clone());
        let test = hc.as_ref().and_then(|h| h.test.clone()).unwrap_or_default();
        let cmd = match test.split_first() {
            Some((kind, rest)) if kind == "CMD-SHELL" => {
                vec!["/bin/sh".to_owned(), "-c".to_owned(), rest.join(" ")]
            }
            Some((kind, rest)) if kind == "CMD" && !rest.is_empty() => rest.to_vec(),
            _ => return Ok(CheckStatus::Running),
        };
        let timeout = hc
            .and_then(|h| h.timeout)
            .filter(|t| *t > 0)
            .map_or(30, |ns| (ns / 1_000_000_000).max(1) as u64);
        let req = ExecRequest::new(cmd);
        let run = self.exec(name, &req);
        // a test that does not finish within the healthcheck's timeout failed, as in the engine
        let Ok(out) = tokio::time::timeout(std::time::Duration::from_secs(timeout), run).await
        else {
            return Ok(CheckStatus::Unhealthy);
        };
        Ok(match out?.exit_code {
            0 => CheckStatus::Healthy,
            _ => CheckStatus::Unhealthy,
        })
    }
}
