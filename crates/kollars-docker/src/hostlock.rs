//! The hosts' lock: one changing run at a time on a host's engine, whichever workstation it
//! comes from.
//!
//! Why: the workstation's own lock (a `flock`, in the binary crate) keeps two runs of one
//! configuration directory apart, but two operators — two workstations, or two copies of the
//! configuration directory — deploying the same hosts would interleave their changes. The
//! lock has to live where both runs look: on each host's engine.
//!
//! It is a volume named [`LOCK_VOLUME`] whose labels say who holds it ([`LockHolder`]).
//! Creating a volume by name is atomic in the engine: of two creates at once, one makes it
//! with its labels, the other gets the existing volume back (dockerd) or a conflict (podman),
//! so a run holds the lock exactly when the volume's [`LABEL_LOCK_OWNER`] is its own. It
//! needs no image and holds no data. A killed run leaves the volume: its holder's process is
//! then gone, which this machine can tell for its own runs (same boot id, no such process:
//! [`LockHolder::is_gone`]); a lock of another machine cannot be judged from here. Either way
//! the lock is only removed by [`Engine::break_hosts_lock`], which the operator asks for.

use std::collections::HashMap;

use bollard::models::VolumeCreateOptions;

use crate::engine::Engine;
use crate::error::{is_not_found, Result};

/// The name of the lock's volume on every host.
pub const LOCK_VOLUME: &str = "kollars_run_lock";
/// Label: the holding process, `<boot id>/<pid>/<start time>` (see [`crate::leftovers`]).
pub const LABEL_LOCK_OWNER: &str = "kollars.lock.owner";
/// Label: who holds it, `user@workstation`.
pub const LABEL_LOCK_WHO: &str = "kollars.lock.who";
/// Label: the holder's pid on its workstation.
pub const LABEL_LOCK_PID: &str = "kollars.lock.pid";
/// Label: since when (UTC, `YYYY-MM-DD HH:MM:SS`).
pub const LABEL_LOCK_SINCE: &str = "kollars.lock.since";
/// Label: the holder's command and configuration directory.
pub const LABEL_LOCK_RUN: &str = "kollars.lock.run";

/// Who holds (or wants) the hosts' lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockHolder {
    /// The process, `<boot id>/<pid>/<start time>`; unique on its machine.
    pub owner: String,
    /// `user@workstation`.
    pub who: String,
    /// The process id on its workstation.
    pub pid: u32,
    /// Since when, UTC.
    pub since: String,
    /// What it runs: command and configuration directory.
    pub run: String,
}

impl LockHolder {
    /// This process as a holder: `who`, `since` and `run` as the caller says them.
    pub fn this_process(who: &str, since: &str, run: &str) -> LockHolder {
        let pid = std::process::id();
        let owner = crate::leftovers::this_owner().unwrap_or_else(|| format!("unknown/{pid}/0"));
        LockHolder {
            owner,
            who: who.to_owned(),
            pid,
            since: since.to_owned(),
            run: run.to_owned(),
        }
    }

    fn labels(&self) -> HashMap<String, String> {
        HashMap::from([
            (LABEL_LOCK_OWNER.to_owned(), self.owner.clone()),
            (LABEL_LOCK_WHO.to_owned(), self.who.clone()),
            (LABEL_LOCK_PID.to_owned(), self.pid.to_string()),
            (LABEL_LOCK_SINCE.to_owned(), self.since.clone()),
            (LABEL_LOCK_RUN.to_owned(), self.run.clone()),
        ])
    }

    fn from_labels(labels: &HashMap<String, String>) -> LockHolder {
        let get = |k: &str| labels.get(k).cloned().unwrap_or_else(|| "unknown".into());
        LockHolder {
            owner: get(LABEL_LOCK_OWNER),
            who: get(LABEL_LOCK_WHO),
            pid: labels
                .get(LABEL_LOCK_PID)
                .and_then(|p| p.parse().ok())
                .unwrap_or(0),
            since: get(LABEL_LOCK_SINCE),
            run: get(LABEL_LOCK_RUN),
        }
    }

    /// Whether the holder is a process of this machine (this boot) that no longer runs: the
    /// lock of a killed run.
    pub fn is_gone(&self) -> bool {
        crate::leftovers::is_gone_here(&self.owner)
    }
}

impl std::fmt::Display for LockHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (pid {}, {}) since {} UTC",
            self.who, self.pid, self.run, self.since
        )
    }
}

/// What [`Engine::take_hosts_lock`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// This run holds the lock now.
    Taken,
    /// Another run holds it.
    HeldBy(LockHolder),
}

impl Engine {
    /// Takes the hosts' lock on this engine for `me` (see the [module](self)), or says who
    /// holds it.
    pub async fn take_hosts_lock(&self, me: &LockHolder) -> Result<Taken> {
        let created = self
            .docker
            .create_volume(VolumeCreateOptions {
                name: Some(LOCK_VOLUME.to_owned()),
                driver: Some("local".to_owned()),
                labels: Some(me.labels()),
                ..VolumeCreateOptions::default()
            })
            .await;
        let labels = match created {
            Ok(v) => v.labels,
            // podman's answer when it exists: who made it says its labels
            Err(e) => match self.hosts_lock().await? {
                Some(holder) => return Ok(Taken::HeldBy(holder)),
                None => return Err(self.volume_err(LOCK_VOLUME, "create")(e)),
            },
        };
        if labels.get(LABEL_LOCK_OWNER) == Some(&me.owner) {
            Ok(Taken::Taken)
        } else {
            Ok(Taken::HeldBy(LockHolder::from_labels(&labels)))
        }
    }

    /// Who holds the hosts' lock on this engine, if anyone.
    pub async fn hosts_lock(&self) -> Result<Option<LockHolder>> {
        match self.docker.inspect_volume(LOCK_VOLUME).await {
            Ok(v) => Ok(Some(LockHolder::from_labels(&v.labels))),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(self.volume_err(LOCK_VOLUME, "inspect")(e)),
        }
    }

    /// Releases the hosts' lock when `me` holds it (a lock broken and taken by another run
    /// meanwhile is left to it).
    pub async fn release_hosts_lock(&self, me: &LockHolder) -> Result<()> {
        match self.hosts_lock().await? {
            Some(h) if h.owner == me.owner => self.remove_volume_if_present(LOCK_VOLUME).await,
            _ => Ok(()),
        }
    }

    /// Removes the hosts' lock whoever holds it (the operator's `--break-lock`); returns the
    /// holder it removed.
    pub async fn break_hosts_lock(&self) -> Result<Option<LockHolder>> {
        let holder = self.hosts_lock().await?;
        if holder.is_some() {
            self.remove_volume_if_present(LOCK_VOLUME).await?;
        }
        Ok(holder)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_holder_reads_back_from_its_labels_and_this_process_is_not_gone() {
        let me = LockHolder::this_process("op@ws1", "2026-12-04 01:02:03", "deploy of /c");
        assert_eq!(LockHolder::from_labels(&me.labels()), me);
        assert!(!me.is_gone());
        assert_eq!(
            me.to_string(),
            format!(
                "op@ws1 (pid {}, deploy of /c) since 2026-12-04 01:02:03 UTC",
                me.pid
            )
        );
        // a holder with no labels at all (someone made the volume by hand): unknown, not gone
        let other = LockHolder::from_labels(&HashMap::new());
        assert_eq!(other.who, "unknown");
        assert!(!other.is_gone());
    }
}
