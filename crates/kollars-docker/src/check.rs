//! `kollars check`: kolla's post-deploy check that every expected container is present,
//! running and not unhealthy.
//!
//! Why a module of its own: it is the one read that answers about health rather than
//! configuration (the healthcheck state, not the compared fields), and its result is a report
//! row per container, not an [`crate::Action`].

use bollard::models::HealthStatusEnum;
use serde::Serialize;

use crate::engine::Engine;
use crate::error::Result;
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
}
