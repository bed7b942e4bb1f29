//! Progress events: the driver never prints.
//!
//! Every mutating step on an engine emits [`Phase::Started`] and then [`Phase::Finished`] or
//! [`Phase::Failed`] (pulls also emit [`Phase::Progress`]) through the [`Reporter`] given to
//! [`crate::Engine::with_reporter`]. The CLI turns them into indicatif bars on a terminal,
//! plain lines otherwise, or one JSON object per line (`Event` serializes).

use serde::Serialize;

/// What is being done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Pulling an image.
    PullImage,
    /// Creating a named volume.
    CreateVolume,
    /// Creating a missing container (and starting it, unless a `Start` step follows).
    Create,
    /// Stopping, removing, creating and starting a container whose parameters changed.
    Recreate,
    /// Restarting a container whose config changed.
    Restart,
    /// Starting an existing stopped container.
    Start,
    /// Stopping a container.
    Stop,
    /// Removing a container.
    Remove,
    /// Running a one-shot container to completion.
    Oneshot,
    /// Writing config files into the host's `node_config_directory` through the engine.
    WriteConfig,
    /// Running the fact probe on the host.
    GatherFacts,
    /// One of kolla's tasks around the containers, run through the engine (a database, a
    /// cluster member's readiness, keystone's bootstrap, the fernet key push).
    Task,
    /// Registering a service in keystone (kolla's `service-ks-register`, a task of
    /// `kollars-tasks` run through [`crate::Engine::exec`]); reported only when it made
    /// something, with what in [`Event::detail`].
    Register,
}

/// Where a step is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "phase")]
pub enum Phase {
    /// The step began.
    Started,
    /// Intermediate progress (pull layers).
    Progress {
        /// Engine's status line.
        message: String,
    },
    /// The step succeeded.
    Finished,
    /// The step failed.
    Failed {
        /// The error, rendered.
        error: String,
    },
}

/// One progress event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// Inventory host name of the engine.
    pub host: String,
    /// Container, image or volume name.
    pub subject: String,
    /// The step.
    pub step: Step,
    /// Its phase.
    #[serde(flatten)]
    pub phase: Phase,
    /// What a finished task made, e.g. `service placement, 2 endpoints, user placement`
    /// (never a secret); `None` for the driver's own steps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Receives progress events. Implementations must be cheap: they are called inline.
pub trait Reporter: Send + Sync {
    /// Called for every event.
    fn report(&self, event: &Event);
}

/// A reporter that drops everything (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopReporter;

impl Reporter for NoopReporter {
    fn report(&self, _event: &Event) {}
}

/// A reporter that keeps every event, for tests and for callers that summarise at the end.
#[derive(Debug, Default)]
pub struct CollectingReporter {
    events: std::sync::Mutex<Vec<Event>>,
}

impl CollectingReporter {
    /// The events so far.
    pub fn events(&self) -> Vec<Event> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }
}

impl Reporter for CollectingReporter {
    fn report(&self, event: &Event) {
        if let Ok(mut e) = self.events.lock() {
            e.push(event.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(phase: Phase, detail: Option<&str>) -> String {
        serde_json::to_string(&Event {
            host: "node1".into(),
            subject: "cron".into(),
            step: Step::PullImage,
            phase,
            detail: detail.map(str::to_owned),
        })
        .unwrap()
    }

    /// The progress event of docs/json-events.md, phase by phase, key for key.
    #[test]
    fn events_serialize_as_documented() {
        let head = r#"{"host":"node1","subject":"cron","step":"pull_image","phase":"#;
        assert_eq!(json(Phase::Started, None), format!(r#"{head}"started"}}"#));
        assert_eq!(
            json(
                Phase::Progress {
                    message: "Downloading".into()
                },
                None
            ),
            format!(r#"{head}"progress","message":"Downloading"}}"#)
        );
        assert_eq!(
            json(Phase::Finished, Some("service placement")),
            format!(r#"{head}"finished","detail":"service placement"}}"#)
        );
        assert_eq!(
            json(
                Phase::Failed {
                    error: "no such image".into()
                },
                None
            ),
            format!(r#"{head}"failed","error":"no such image"}}"#)
        );
    }
}
