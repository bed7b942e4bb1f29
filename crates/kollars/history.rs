//! Run history: what every run that changed hosts did, kept on the workstation.
//!
//! Once a run is over its progress lines are gone; an operator who wants to know what the
//! last deploy did, which step was slow or why a host failed looks here (`kollars runs`,
//! `kollars runs show ID`, its HTML page). A record is one JSON file per run in
//! `$XDG_STATE_HOME/kollars/runs/` (default `~/.local/state/kollars/runs/`; a 0700 directory
//! of the user's own, files 0600), written atomically once the run is over
//! ([`kollars_tree::replace_file_unsynced`]: whole or not at all; not synced, which would
//! cost a no-op run a fifth of its time for a record that is cheap to lose), the oldest
//! pruned beyond [`KEEP`]. It holds the command (its arguments
//! masked), the inputs' digest, per host and step its start, end, outcome and reason, the
//! plan the run executed and the project graph it followed — never a secret: every text
//! taken from the run goes through the inputs' [`kollars_inputs::Masker`] before it is kept.
//!
//! The inputs' digest is a sha256 over every rendered service's config hash (per host), the
//! hashes the engines already carry as labels: two runs with the same digest rendered the
//! same configuration, and the digest reveals nothing the hosts do not already show.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// How many run records are kept; older ones are removed when a new one is written.
pub const KEEP: usize = 100;

/// One run, as recorded.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunRecord {
    /// Its ID: the start time (UTC) and the process ID, e.g. `20261203T174501Z-4242`; record
    /// IDs sort by start time.
    pub id: String,
    /// The verb (`deploy`, `reconfigure`, `restart`, `pull`, `stop`, `destroy`,
    /// `prune-images`, `rabbitmq-reset-state`, `nova-libvirt-cleanup`).
    pub command: String,
    /// The command line, secrets masked.
    pub args: Vec<String>,
    /// When it started, milliseconds since the Unix epoch.
    pub started_ms: u64,
    /// How long it took, milliseconds.
    pub duration_ms: u64,
    /// Its exit code (see `docs/json-events.md`).
    pub exit_code: u8,
    /// The inputs' digest (see the [module](self)).
    pub inputs_digest: String,
    /// Every selected host, with how it ended.
    pub hosts: Vec<HostRecord>,
    /// Every step the engines were asked for, in the order they began.
    pub steps: Vec<StepRecord>,
    /// What the run decided per host and service (deploy, reconfigure).
    #[serde(default)]
    pub plan: Vec<PlanItem>,
    /// Config file diffs it applied (`deploy --report`), secrets masked.
    #[serde(default)]
    pub diffs: Vec<DiffRecord>,
    /// The project graph it followed: each project with the projects it waited for.
    #[serde(default)]
    pub graph: Vec<(String, Vec<String>)>,
}

/// How one host ended.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct HostRecord {
    /// Inventory name.
    pub name: String,
    /// `ok`, `failed` or `unreachable`.
    pub outcome: String,
    /// Why it failed (masked).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
}

/// One step on one host.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StepRecord {
    /// Inventory host name.
    pub host: String,
    /// Container, image, volume or directory.
    pub subject: String,
    /// The project it belongs to, when it is one of a service's containers or images.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub project: Option<String>,
    /// The step (`create`, `start`, `restart`, `oneshot`, … as in the JSON events).
    pub step: String,
    /// Start, milliseconds after the run's start.
    pub start_ms: u64,
    /// End, milliseconds after the run's start.
    pub end_ms: u64,
    /// `ok`, `failed`, or `unfinished` (the run ended first).
    pub outcome: String,
    /// Why it failed, or what it made (masked).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
}

impl StepRecord {
    /// How long it took, milliseconds.
    pub fn duration_ms(&self) -> u64 {
        self.end_ms.saturating_sub(self.start_ms)
    }
}

/// What the run decided for one service on one host.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PlanItem {
    /// Inventory host name.
    pub host: String,
    /// Service.
    pub service: String,
    /// `create`, `recreate`, `restart`, `start` or `nothing`.
    pub action: String,
    /// Why (masked).
    pub reason: String,
}

/// One config file diff.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DiffRecord {
    /// Inventory host name.
    pub host: String,
    /// Service.
    pub service: String,
    /// A unified diff, secrets masked.
    pub diff: String,
}

/// What went wrong with the run history.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// No state directory.
    #[error("no state directory for the run history: set XDG_STATE_HOME or HOME")]
    NoDirectory,
    /// Reading or writing a record or the directory failed.
    #[error("run history {}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// A record is not one kollars wrote.
    #[error("run record {}: not a run record", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// Cause.
        source: serde_json::Error,
    },
    /// Writing a record failed.
    #[error("run history: writing {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Cause.
        source: kollars_tree::WriteError,
    },
    /// No record has this ID.
    #[error("no run {id} in {}; `kollars runs` lists the recorded runs", dir.display())]
    NotFound {
        /// The ID asked for.
        id: String,
        /// Where the records are.
        dir: PathBuf,
    },
}

/// The run history's directory: `$XDG_STATE_HOME/kollars/runs` (or `~/.local/state/…`).
pub fn dir() -> Result<PathBuf, HistoryError> {
    Ok(crate::env::state_dir()
        .ok_or(HistoryError::NoDirectory)?
        .join("kollars/runs"))
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> HistoryError + '_ {
    move |source| HistoryError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `record` into `dir` (made 0700 if missing), then removes the oldest records beyond
/// [`KEEP`]. Returns the record's path.
pub fn save(dir: &Path, record: &RunRecord) -> Result<PathBuf, HistoryError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io(dir))?;
    let path = dir.join(format!("{}.json", record.id));
    let json = serde_json::to_vec_pretty(record).expect("a run record serializes");
    kollars_tree::replace_file_unsynced(&path, &json, 0o600).map_err(|source| {
        HistoryError::Write {
            path: path.clone(),
            source,
        }
    })?;
    let ids = ids(dir)?;
    for old in ids.iter().take(ids.len().saturating_sub(KEEP)) {
        let p = dir.join(format!("{old}.json"));
        match std::fs::remove_file(&p) {
            // another run pruning at the same time
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&p)(e)),
            _ => {}
        }
    }
    Ok(path)
}

/// The IDs of the records in `dir`, oldest first (none when the directory is missing).
pub fn ids(dir: &Path) -> Result<Vec<String>, HistoryError> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(dir)(e)),
    };
    let mut out = Vec::new();
    for entry in rd {
        let name = entry.map_err(io(dir))?.file_name();
        let name = name.to_string_lossy();
        if let Some(id) = name.strip_suffix(".json") {
            if !id.starts_with('.') {
                out.push(id.to_owned());
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Reads the record `id` of `dir`; `last` (or `latest`) is the newest.
pub fn load(dir: &Path, id: &str) -> Result<RunRecord, HistoryError> {
    let id = match id {
        "last" | "latest" => ids(dir)?.pop().ok_or_else(|| HistoryError::NotFound {
            id: id.to_owned(),
            dir: dir.to_path_buf(),
        })?,
        _ if id.contains('/') || id.starts_with('.') => {
            return Err(HistoryError::NotFound {
                id: id.to_owned(),
                dir: dir.to_path_buf(),
            })
        }
        _ => id.to_owned(),
    };
    let path = dir.join(format!("{id}.json"));
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(HistoryError::NotFound {
                id,
                dir: dir.to_path_buf(),
            })
        }
        Err(e) => return Err(io(&path)(e)),
    };
    serde_json::from_slice(&bytes).map_err(|source| HistoryError::Parse { path, source })
}

/// `YYYY-MM-DD HH:MM:SS` (UTC) of milliseconds since the epoch.
pub fn utc(ms: u64) -> String {
    let secs = ms / 1000;
    let (y, m, d) = civil(secs / 86400);
    let t = secs % 86400;
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        t / 3600,
        t / 60 % 60,
        t % 60
    )
}

/// A run ID for a run that started at `ms` (see [`RunRecord::id`]).
pub fn new_id(ms: u64) -> String {
    let compact: String = utc(ms)
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == ' ')
        .map(|c| if c == ' ' { 'T' } else { c })
        .collect();
    format!("{compact}Z-{}", std::process::id())
}

/// Year, month, day of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil(days: u64) -> (i64, u32, u32) {
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The projects on the critical path of `record`: the project that finished last, then
/// each time the project it waited for that finished last, first project first. Projects
/// none of whose steps ran are left out.
pub fn critical_path(record: &RunRecord) -> Vec<String> {
    let end = |p: &str| {
        record
            .steps
            .iter()
            .filter(|s| s.project.as_deref() == Some(p))
            .map(|s| s.end_ms)
            .max()
    };
    let mut path = Vec::new();
    let mut current = record
        .graph
        .iter()
        .filter_map(|(p, _)| end(p).map(|e| (e, p)))
        .max_by_key(|(e, _)| *e)
        .map(|(_, p)| p.clone());
    while let Some(p) = current {
        if path.contains(&p) {
            break;
        }
        let deps = record
            .graph
            .iter()
            .find(|(q, _)| *q == p)
            .map(|(_, d)| d.as_slice())
            .unwrap_or_default();
        current = deps
            .iter()
            .filter_map(|d| end(d).map(|e| (e, d)))
            .max_by_key(|(e, _)| *e)
            .map(|(_, d)| d.clone());
        path.push(p);
    }
    path.reverse();
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(project: &str, start: u64, end: u64) -> StepRecord {
        StepRecord {
            host: "node1".into(),
            subject: project.into(),
            project: Some(project.into()),
            step: "start".into(),
            start_ms: start,
            end_ms: end,
            outcome: "ok".into(),
            reason: None,
        }
    }

    fn record(id: &str) -> RunRecord {
        RunRecord {
            id: id.into(),
            command: "deploy".into(),
            args: vec![],
            started_ms: 0,
            duration_ms: 0,
            exit_code: 0,
            inputs_digest: String::new(),
            hosts: vec![],
            steps: vec![],
            plan: vec![],
            diffs: vec![],
            graph: vec![],
        }
    }

    #[test]
    fn dates_are_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00:00");
        assert_eq!(utc(1_796_319_901_000), "2026-12-03 17:45:01");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00:00");
        assert!(new_id(1_796_319_901_000).starts_with("20261203T174501Z-"));
    }

    #[test]
    fn the_critical_path_follows_the_latest_dependency() {
        let mut r = record("a");
        r.graph = vec![
            ("mariadb".into(), vec![]),
            ("memcached".into(), vec![]),
            (
                "keystone".into(),
                vec!["mariadb".into(), "memcached".into()],
            ),
            ("cron".into(), vec![]),
        ];
        r.steps = vec![
            step("mariadb", 0, 50),
            step("memcached", 0, 10),
            step("keystone", 50, 90),
            step("cron", 0, 20),
        ];
        assert_eq!(critical_path(&r), ["mariadb", "keystone"]);
    }

    #[test]
    fn records_are_pruned_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..KEEP + 3 {
            save(dir.path(), &record(&format!("2026{i:04}"))).unwrap();
        }
        let ids = ids(dir.path()).unwrap();
        assert_eq!(ids.len(), KEEP);
        assert_eq!(ids[0], "20260003");
        assert_eq!(
            load(dir.path(), "last").unwrap().id,
            format!("2026{:04}", KEEP + 2)
        );
        assert!(matches!(
            load(dir.path(), "../x"),
            Err(HistoryError::NotFound { .. })
        ));
    }
}
