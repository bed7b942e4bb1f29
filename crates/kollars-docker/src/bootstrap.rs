//! Bootstrap records: which bootstrap one-shots ran to completion on a host, so a run killed
//! at any moment is finished by the next one with each bootstrap run exactly once.
//!
//! Why they exist: a service's bootstrap (keystone's `db_sync`, its fernet key setup, a new
//! MariaDB's datadir) must complete before the service first starts, and the container being
//! new is no proof that it has not: a run killed after creating the service's container and
//! before its bootstrap finished leaves a container that is not new and was never bootstrapped.
//! So completion is recorded on the host where the one-shot ran, as the config and task
//! records are ([`crate::records`]): an empty, never-mounted named volume
//! `kollars-boot-<one-shot>` labelled [`LABEL_BOOTSTRAP_RECORD`]`=<one-shot container name>`.
//! It is keyed by the one-shot's container name (`bootstrap_keystone`), so a service with
//! several one-shots records each.
//!
//! The rules that make a kill harmless:
//! - the record is written after the one-shot exited 0 and *before* the exited container is
//!   removed: a run killed in between leaves the exited container, whose exit code 0 the next
//!   run counts as the completion it is (it records it and removes the container, running
//!   nothing);
//! - a one-shot a killed run left running is waited for, and its exit code decides; one left
//!   created, failed or dead is removed before a new one is created;
//! - a create that a killed run sent and the engine carries out late (the name taken after
//!   the removal) is waited for and replaced, as for service containers, so no 409.
//!
//! [`Engine::bootstraps`] reads what a decision needs in two listings (volumes, containers):
//! the records, the one-shot containers left behind, and which service containers have never
//! run (`created`). Records belong to no container and survive
//! `destroy`, like task records.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bollard::query_parameters::ListVolumesOptions;

use crate::engine::Engine;
use crate::error::Result;
use crate::oneshot::OneshotOutput;
use crate::reporter::Step;
use crate::spec::ContainerSpec;

/// Label on a bootstrap record volume: the name of the one-shot container that completed.
pub const LABEL_BOOTSTRAP_RECORD: &str = "kollars.bootstrap-record";

/// A one-shot container of that name an earlier run left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leftover {
    /// Still running: a killed run started it; it is waited for.
    Running,
    /// Exited 0: it completed, and the run that started it died before recording it.
    Completed,
    /// Created and never started, exited non-zero, or dead: it is removed before a new one.
    Unfinished,
}

/// What the engine shows of its bootstraps at one moment (see [`Engine::bootstraps`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bootstraps {
    recorded: BTreeSet<String>,
    leftovers: BTreeMap<String, Leftover>,
    never_ran: BTreeSet<String>,
}

impl Bootstraps {
    /// Whether one-shot `oneshot` (`bootstrap_keystone`) completed here.
    pub fn is_recorded(&self, oneshot: &str) -> bool {
        self.recorded.contains(oneshot)
    }

    /// The one-shot container `oneshot` an earlier run left here, if any.
    pub fn leftover(&self, oneshot: &str) -> Option<Leftover> {
        self.leftovers.get(oneshot).copied()
    }

    /// Every one-shot container left here, by name.
    pub fn leftovers(&self) -> impl Iterator<Item = (&str, Leftover)> {
        self.leftovers.iter().map(|(n, l)| (n.as_str(), *l))
    }

    /// Whether container `name` exists and has never run (state `created`).
    pub fn never_ran(&self, name: &str) -> bool {
        self.never_ran.contains(name)
    }
}

/// How [`Engine::run_bootstrap`] ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bootstrapped {
    /// It ran to completion now (or a killed run's one-shot, still running, finished).
    Ran(OneshotOutput),
    /// A killed run's one-shot had completed: recorded now, nothing ran.
    Earlier,
}

impl Engine {
    /// The bootstraps of one-shots `oneshots` here: their records and the containers now
    /// (one volume and one container listing, side by side): the one-shots left behind, and
    /// which containers never ran. Call it after the decisions: a survey taken earlier can
    /// miss what a killed run's late creates added since. An exited leftover is inspected
    /// for its exit code.
    pub async fn bootstraps(&self, oneshots: &[&str]) -> Result<Bootstraps> {
        let (recorded, listed) =
            futures_util::future::join(self.bootstrap_records(), self.list_managed_summaries())
                .await;
        let recorded = recorded?;
        let states: HashMap<String, String> = listed?
            .into_iter()
            .filter_map(|c| {
                let name = c.names?.into_iter().next()?;
                let state = c.state.map(|s| s.to_string()).unwrap_or_default();
                Some((name.trim_start_matches('/').to_owned(), state))
            })
            .collect();
        let never_ran = states
            .iter()
            .filter(|(_, state)| *state == "created")
            .map(|(n, _)| n.clone())
            .collect();
        let mut leftovers = BTreeMap::new();
        for name in oneshots {
            let Some(state) = states.get(*name) else {
                continue;
            };
            let leftover = match state.as_str() {
                "running" | "restarting" | "paused" => Leftover::Running,
                "exited" => {
                    let code = self
                        .inspect(name)
                        .await?
                        .and_then(|c| c.state)
                        .and_then(|s| s.exit_code);
                    match code {
                        Some(0) => Leftover::Completed,
                        _ => Leftover::Unfinished,
                    }
                }
                _ => Leftover::Unfinished,
            };
            leftovers.insert((*name).to_owned(), leftover);
        }
        Ok(Bootstraps {
            recorded,
            leftovers,
            never_ran,
        })
    }

    /// Runs bootstrap one-shot `spec` to completion and records it (see the module docs).
    /// `created`: this run created it ([`Engine::create_oneshot`]); otherwise a container of
    /// that name an earlier run left is finished (running: waited for; exited 0: recorded) or
    /// removed first. A non-zero exit is [`crate::DockerError::OneshotFailed`], unrecorded.
    pub async fn run_bootstrap(&self, spec: &ContainerSpec, created: bool) -> Result<Bootstrapped> {
        let desired = self.oneshot_desired(spec)?;
        let name = desired.name.as_str();
        self.step(name, Step::Oneshot, async {
            if !created {
                let state = self.inspect(name).await?.and_then(|c| c.state);
                let running = state.as_ref().and_then(|s| s.running) == Some(true);
                let status = state.as_ref().and_then(|s| s.status).map(|s| s.to_string());
                if running {
                    return self
                        .oneshot_end(name, Ok(()), true)
                        .await
                        .map(Bootstrapped::Ran);
                }
                if status.as_deref() == Some("exited")
                    && state.as_ref().and_then(|s| s.exit_code) == Some(0)
                {
                    self.record_bootstrap(name).await?;
                    self.remove(name).await?;
                    return Ok(Bootstrapped::Earlier);
                }
                self.oneshot_create(&desired).await?;
            }
            let started = self.start(name).await;
            self.oneshot_end(name, started, true)
                .await
                .map(Bootstrapped::Ran)
        })
        .await
    }

    /// Records that one-shot `oneshot` completed here (idempotent: the volume's name is
    /// fixed, and the engine answers an existing one).
    pub async fn record_bootstrap(&self, oneshot: &str) -> Result<()> {
        let volume = format!("kollars-boot-{}", crate::records::volume_safe(oneshot));
        let labels = HashMap::from([(LABEL_BOOTSTRAP_RECORD.to_owned(), oneshot.to_owned())]);
        self.create_record_volume(&volume, labels).await
    }

    /// The one-shots recorded here, in one volume listing.
    async fn bootstrap_records(&self) -> Result<BTreeSet<String>> {
        let filters =
            HashMap::from([("label".to_owned(), vec![LABEL_BOOTSTRAP_RECORD.to_owned()])]);
        let list = self
            .docker
            .list_volumes(Some(ListVolumesOptions {
                filters: Some(filters),
            }))
            .await
            .map_err(self.volume_err("bootstrap records", "list"))?;
        Ok(list
            .volumes
            .unwrap_or_default()
            .into_iter()
            .filter_map(|v| v.labels.get(LABEL_BOOTSTRAP_RECORD).cloned())
            .collect())
    }
}
