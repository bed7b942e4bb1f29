//! Config records: where the config hash a container runs is kept after a restart.
//!
//! Why they exist: labels cannot change after creation, so the `kollars.config-hash` label is
//! the config the container was *created* with. After a config-only restart (or a start),
//! kollars records the hash it applied in a *config record*: an empty named volume (never
//! mounted) labelled `kollars.config-record=<container id>`,
//! `kollars.config-record.container=<name>`, `kollars.config-hash=<hash>` and a sequence
//! number. Volumes are the one cheap, label-carrying object Docker lets us create and delete
//! at will; reading the records is one `GET /volumes?filters=...` (no filesystem mount, no
//! exec, no shell in the image).
//!
//! The rules that make them safe:
//! - a record is written *after* the restart succeeded, so a run that dies between writing
//!   config and restarting still finds the old hash and restarts next time;
//! - a new record is created before older ones are removed, so a crash in between leaves two
//!   and the newest (highest sequence number) wins;
//! - records die with their container ([`Engine::remove`]); a recreated container has a new ID
//!   and starts from its label again.
//!
//! *Task records* are the same idea for a task around the containers that must not run (not
//! even its read-only check, an exec) when nothing it depends on changed — keystone's
//! registration of a service: a volume labelled `kollars.task-record=<task>` and
//! `kollars.task-record.digest=<digest of the task's inputs>`, written after the task
//! succeeded, read with one listing. The caller makes the digest (a hash: inputs hold
//! passwords). They belong to no container and outlive every one.

use std::collections::HashMap;

use bollard::models::{ContainerInspectResponse, VolumeCreateOptions};
use bollard::query_parameters::ListVolumesOptions;

use crate::desired::LABEL_CONFIG_HASH;
use crate::engine::Engine;
use crate::error::{is_not_found, DockerError, Result};

/// Label on a config record volume: the ID of the container it belongs to.
pub const LABEL_CONFIG_RECORD: &str = "kollars.config-record";
/// Label on a config record volume: the name of the container it belongs to.
pub const LABEL_CONFIG_RECORD_NAME: &str = "kollars.config-record.container";
/// Label on a config record volume: its sequence number (nanoseconds since the epoch).
pub const LABEL_CONFIG_RECORD_SEQ: &str = "kollars.config-record.seq";

/// Label on a task record volume: the task's name (e.g. `ks-register placement-api`).
pub const LABEL_TASK_RECORD: &str = "kollars.task-record";
/// Label on a task record volume: the digest of the inputs the task last succeeded with.
pub const LABEL_TASK_DIGEST: &str = "kollars.task-record.digest";
/// Label on a task record volume: its sequence number (nanoseconds since the epoch).
pub const LABEL_TASK_SEQ: &str = "kollars.task-record.seq";

/// One config record volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    /// Sequence number; the highest wins.
    pub(crate) seq: u128,
    /// The volume's name.
    pub(crate) volume: String,
    /// The config hash it records.
    pub(crate) hash: String,
}

/// Every config record of an engine at one moment, by container ID (one volume listing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ConfigRecords {
    by_id: HashMap<String, Vec<Record>>,
}

impl ConfigRecords {
    /// Records from `(container id, record)` pairs.
    pub(crate) fn from_pairs(pairs: impl IntoIterator<Item = (String, Record)>) -> Self {
        let mut by_id: HashMap<String, Vec<Record>> = HashMap::new();
        for (id, rec) in pairs {
            by_id.entry(id).or_default().push(rec);
        }
        ConfigRecords { by_id }
    }

    /// The config hash container `id` runs: its newest record, else `label` (the
    /// `kollars.config-hash` it was created with).
    pub(crate) fn applied(&self, id: &str, label: Option<&str>) -> Option<String> {
        applied_config_hash(
            self.by_id.get(id).map(Vec::as_slice).unwrap_or_default(),
            label,
        )
    }
}

/// The config hash a container runs: the newest of its `records`, else its `label`.
pub(crate) fn applied_config_hash(records: &[Record], label: Option<&str>) -> Option<String> {
    records
        .iter()
        .max_by_key(|r| r.seq)
        .map(|r| r.hash.clone())
        .or_else(|| label.map(str::to_owned))
}

/// A container's `kollars.config-hash` label.
pub(crate) fn config_label(c: &ContainerInspectResponse) -> Option<&str> {
    c.config
        .as_ref()
        .and_then(|c| c.labels.as_ref())
        .and_then(|l| l.get(LABEL_CONFIG_HASH))
        .map(String::as_str)
}

impl Engine {
    /// Every config record on the engine, in one listing (for a [`crate::Survey`]).
    pub(crate) async fn list_config_records(&self) -> Result<ConfigRecords> {
        let all = self.list_records(LABEL_CONFIG_RECORD.to_owned()).await?;
        Ok(ConfigRecords::from_pairs(all))
    }

    /// The config hash container `c` runs with: its newest config record, else its
    /// `kollars.config-hash` label. `known`: the records of a survey; `None` lists this
    /// container's now.
    pub(crate) async fn applied_config_hash(
        &self,
        c: &ContainerInspectResponse,
        known: Option<&ConfigRecords>,
    ) -> Result<Option<String>> {
        let id = c.id.clone().unwrap_or_default();
        if let Some(records) = known {
            return Ok(records.applied(&id, config_label(c)));
        }
        let records = self.records_where(LABEL_CONFIG_RECORD, &id).await?;
        Ok(applied_config_hash(&records, config_label(c)))
    }

    /// Config records whose label `key` equals `value`, listed now.
    async fn records_where(&self, key: &str, value: &str) -> Result<Vec<Record>> {
        Ok(self
            .list_records(format!("{key}={value}"))
            .await?
            .into_iter()
            .map(|(_, r)| r)
            .collect())
    }

    /// Volumes matching a label filter, as `(container id, record)`.
    async fn list_records(&self, label_filter: String) -> Result<Vec<(String, Record)>> {
        let what = format!("config records of {label_filter}");
        let filters = HashMap::from([("label".to_owned(), vec![label_filter])]);
        let list = self
            .docker
            .list_volumes(Some(ListVolumesOptions {
                filters: Some(filters),
            }))
            .await
            .map_err(self.volume_err(&what, "list"))?;
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
                (
                    id,
                    Record {
                        seq,
                        volume: v.name,
                        hash,
                    },
                )
            })
            .collect())
    }

    /// Records that container `name` now runs config `hash`.
    pub(crate) async fn write_config_record(&self, name: &str, hash: &str) -> Result<()> {
        let c = self
            .inspect(name)
            .await?
            .ok_or_else(|| DockerError::NoSuchContainer {
                host: self.host.clone(),
                container: name.to_owned(),
            })?;
        let id = c.id.unwrap_or_default();
        let old = self.records_where(LABEL_CONFIG_RECORD, &id).await?;
        let seq = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
            .max(old.iter().map(|r| r.seq + 1).max().unwrap_or(0));
        let volume = format!("kollars-cfg-{}-{seq}", &id[..id.len().min(12)]);
        let labels = HashMap::from([
            (LABEL_CONFIG_RECORD.to_owned(), id.clone()),
            (LABEL_CONFIG_RECORD_NAME.to_owned(), name.to_owned()),
            (LABEL_CONFIG_RECORD_SEQ.to_owned(), seq.to_string()),
            (LABEL_CONFIG_HASH.to_owned(), hash.to_owned()),
        ]);
        self.create_record_volume(&volume, labels).await?;
        for r in old {
            self.remove_volume_if_present(&r.volume).await?;
        }
        Ok(())
    }

    /// Creates the record volume `volume` (driver `local`) with `labels`: every record kollars
    /// keeps on a host (config, task and bootstrap records) is one.
    pub(crate) async fn create_record_volume(
        &self,
        volume: &str,
        labels: HashMap<String, String>,
    ) -> Result<()> {
        self.docker
            .create_volume(VolumeCreateOptions {
                name: Some(volume.to_owned()),
                driver: Some("local".to_owned()),
                labels: Some(labels),
                ..VolumeCreateOptions::default()
            })
            .await
            .map_err(self.volume_err(volume, "create"))?;
        Ok(())
    }

    /// Removes every config record of container `name`.
    pub(crate) async fn remove_config_records(&self, name: &str) -> Result<()> {
        for r in self.records_where(LABEL_CONFIG_RECORD_NAME, name).await? {
            self.remove_volume_if_present(&r.volume).await?;
        }
        Ok(())
    }

    /// The digest task `task` last succeeded with on this engine (its newest task record),
    /// `None` when it never did. One volume listing.
    pub async fn task_digest(&self, task: &str) -> Result<Option<String>> {
        Ok(self
            .task_records(task)
            .await?
            .into_iter()
            .max_by_key(|r| r.seq)
            .map(|r| r.hash))
    }

    /// Records that task `task` succeeded with inputs of digest `digest` (the newest record
    /// wins; older ones are removed after the new one exists).
    pub async fn record_task(&self, task: &str, digest: &str) -> Result<()> {
        let old = self.task_records(task).await?;
        let seq = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
            .max(old.iter().map(|r| r.seq + 1).max().unwrap_or(0));
        let volume = format!("kollars-task-{}-{seq}", volume_safe(task));
        let labels = HashMap::from([
            (LABEL_TASK_RECORD.to_owned(), task.to_owned()),
            (LABEL_TASK_DIGEST.to_owned(), digest.to_owned()),
            (LABEL_TASK_SEQ.to_owned(), seq.to_string()),
        ]);
        self.create_record_volume(&volume, labels).await?;
        for r in old {
            self.remove_volume_if_present(&r.volume).await?;
        }
        Ok(())
    }

    /// Task `task`'s records (their `hash` is the digest).
    async fn task_records(&self, task: &str) -> Result<Vec<Record>> {
        let what = format!("task records of {task}");
        let filters = HashMap::from([(
            "label".to_owned(),
            vec![format!("{LABEL_TASK_RECORD}={task}")],
        )]);
        let list = self
            .docker
            .list_volumes(Some(ListVolumesOptions {
                filters: Some(filters),
            }))
            .await
            .map_err(self.volume_err(&what, "list"))?;
        Ok(list
            .volumes
            .unwrap_or_default()
            .into_iter()
            // the engine's filter matches the label; a name that differs only past what it
            // compares is not ours
            .filter(|v| v.labels.get(LABEL_TASK_RECORD).map(String::as_str) == Some(task))
            .map(|v| Record {
                seq: v
                    .labels
                    .get(LABEL_TASK_SEQ)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0),
                hash: v.labels.get(LABEL_TASK_DIGEST).cloned().unwrap_or_default(),
                volume: v.name,
            })
            .collect())
    }

    /// Removes volume `volume`; one already gone is fine.
    pub(crate) async fn remove_volume_if_present(&self, volume: &str) -> Result<()> {
        match self
            .docker
            .remove_volume(
                volume,
                None::<bollard::query_parameters::RemoveVolumeOptions>,
            )
            .await
        {
            Err(e) if is_not_found(&e) => Ok(()),
            r => r.map_err(self.volume_err(volume, "remove")),
        }
    }
}

/// A task name as a volume name's part: Docker allows `[a-zA-Z0-9_.-]` after the first
/// character.
pub(crate) fn volume_safe(task: &str) -> String {
    task.chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '_' | '.' | '-' => c,
            _ => '_',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_names_make_valid_volume_names() {
        assert_eq!(
            volume_safe("ks-register placement-api"),
            "ks-register_placement-api"
        );
        assert_eq!(volume_safe("a/b:c"), "a_b_c");
    }

    fn rec(seq: u128, hash: &str) -> Record {
        Record {
            seq,
            volume: format!("kollars-cfg-x-{seq}"),
            hash: hash.to_owned(),
        }
    }

    #[test]
    fn the_newest_record_wins_over_older_ones_and_the_label() {
        let table: [(&[Record], Option<&str>, Option<&str>); 5] = [
            (&[], None, None),
            (&[], Some("label"), Some("label")),
            (&[rec(1, "a")], Some("label"), Some("a")),
            (
                &[rec(1, "a"), rec(3, "c"), rec(2, "b")],
                Some("label"),
                Some("c"),
            ),
            (&[rec(5, "a"), rec(3, "c")], None, Some("a")),
        ];
        for (records, label, want) in table {
            assert_eq!(
                applied_config_hash(records, label).as_deref(),
                want,
                "{records:?} {label:?}"
            );
        }
        let all = ConfigRecords::from_pairs([
            ("c1".to_owned(), rec(1, "old")),
            ("c1".to_owned(), rec(2, "new")),
            ("c2".to_owned(), rec(9, "other")),
        ]);
        assert_eq!(all.applied("c1", Some("label")).as_deref(), Some("new"));
        assert_eq!(all.applied("c3", Some("label")).as_deref(), Some("label"));
        assert_eq!(all.applied("c3", None), None);
    }
}
