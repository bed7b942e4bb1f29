//! The image-defaults state: `/etc/kolla/defaults/state` and the backups beside it.
//!
//! Aim (kolla bug LP#2060855): when a file leaves `config_files`, put back the file the image
//! shipped at that dest, or delete it if the image had none. The first time a dest is
//! configured, whatever the image has there is copied to `/etc/kolla/defaults<dest>` and the
//! dest is recorded. kolla's implementation swaps `source` and `dest` of every entry in place
//! on each start, so backup and restore alternate and the pristine default is overwritten on
//! the third start; and it never forgets an entry, so `--check` reports a mismatch forever.
//! Here the state is always written in one orientation, read in either, and an entry is
//! dropped once its dest has been restored or deleted.
//!
//! The format stays kolla's: a JSON object keyed by dest, values
//! `{"source": <dest>, "preserve_properties": true, "dest": <backup or null>}`, indented by
//! four spaces, no trailing newline; `kolla_copy_cacerts` greps it for `"source": "…"`.

use std::fs;
use std::io;

use serde_json::{Map, Value};

use crate::config::Plan;
use crate::error::Error;
use crate::fsops::{clone_tree, delete, lexists};
use crate::log;
use crate::root::{Root, DEFAULTS_DIR};

/// The state file.
pub fn state_file() -> String {
    format!("{DEFAULTS_DIR}/state")
}

/// Tracked dests, in order, each with its backup (`None`: the image had nothing there).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct State {
    /// `(dest, backup)`.
    pub entries: Vec<(String, Option<String>)>,
}

impl State {
    /// Reads the state file (no file: empty state).
    pub fn load(root: &Root) -> Result<State, Error> {
        let file = state_file();
        let text = match fs::read(root.host(&file)) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(State::default()),
            Err(e) => return Err(Error::io("Unable to read", file, e)),
        };
        let bad = |reason: String| Error::Parse {
            format: "json",
            path: file.clone().into(),
            reason,
        };
        let value: Value = serde_json::from_slice(&text).map_err(|e| bad(e.to_string()))?;
        let Value::Object(map) = value else {
            return Err(bad("the state must be an object".into()));
        };
        // The key is the live path in both orientations kolla writes; the backup of a key is
        // always DEFAULTS_DIR + key when its `dest` is not null.
        let entries = map
            .into_iter()
            .map(|(k, v)| {
                let backup = match v.get("dest") {
                    None | Some(Value::Null) => None,
                    Some(_) => Some(format!("{DEFAULTS_DIR}{k}")),
                };
                (k, backup)
            })
            .collect();
        Ok(State { entries })
    }

    /// Writes the state file atomically.
    pub fn save(&self, root: &Root) -> Result<(), Error> {
        let file = state_file();
        let mut map = Map::new();
        for (k, backup) in &self.entries {
            let mut v = Map::new();
            v.insert("source".into(), Value::String(k.clone()));
            v.insert("preserve_properties".into(), Value::Bool(true));
            v.insert(
                "dest".into(),
                backup.clone().map_or(Value::Null, Value::String),
            );
            map.insert(k.clone(), Value::Object(v));
        }
        let mut out = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
        serde::Serialize::serialize(&Value::Object(map), &mut ser)
            .map_err(|e| Error::io("Unable to write", file.clone(), io::Error::other(e)))?;
        let host = root.host(&file);
        let tmp = root.host(&format!("{file}.kolla-new"));
        fs::write(&tmp, out)
            .and_then(|()| fs::rename(&tmp, &host))
            .map_err(|e| Error::io("Unable to write", file, e))
    }

    /// Tracked dests that the plan no longer writes, sorted.
    pub fn stale(&self, plan: &Plan) -> Vec<String> {
        let dests = plan.dests();
        let mut stale: Vec<String> = self
            .entries
            .iter()
            .filter(|(k, _)| !dests.contains(&k.as_str()))
            .map(|(k, _)| k.clone())
            .collect();
        stale.sort();
        stale
    }
}

/// Restores or deletes the dests that left the config, then backs up the image's file at
/// every newly configured dest. Runs before the config files are copied.
pub fn handle_defaults(root: &Root, plan: &Plan) -> Result<(), Error> {
    fs::create_dir_all(root.host(DEFAULTS_DIR))
        .map_err(|e| Error::io("Can't create destination directory", DEFAULTS_DIR, e))?;
    let mut state = State::load(root)?;
    let before = state.entries.len();
    let stale = state.stale(plan);
    let mut changed = !stale.is_empty();
    for (dest, backup) in state.entries.iter().filter(|(k, _)| stale.contains(k)) {
        let live = root.host(dest);
        match backup {
            Some(b) if lexists(&root.host(b)) => {
                log::info(format!("Restoring the image default of {dest} from {b}"));
                delete(root, &live)?;
                if let Some(parent) = live.parent() {
                    fs::create_dir_all(parent).map_err(|e| {
                        Error::io("Can't create destination directory", dest.clone(), e)
                    })?;
                }
                clone_tree(&root.host(b), &live)
                    .map_err(|e| Error::io("Unable to restore", dest.clone(), e))?;
            }
            Some(b) => log::warn(format!(
                "Cannot restore {dest}: its backup {b} is missing; leaving it as is"
            )),
            None => delete(root, &live)?,
        }
    }
    state.entries.retain(|(k, _)| !stale.contains(k));
    for dest in plan.dests() {
        if state.entries.iter().any(|(k, _)| k == dest) {
            continue;
        }
        changed = true;
        let live = root.host(dest);
        if lexists(&live) {
            let b = format!("{DEFAULTS_DIR}{dest}");
            log::info(format!("Copying {dest} to {b}"));
            let host_b = root.host(&b);
            delete(root, &host_b)?;
            if let Some(parent) = host_b.parent() {
                fs::create_dir_all(parent)
                    .map_err(|e| Error::io("Can't create destination directory", b.clone(), e))?;
            }
            clone_tree(&live, &host_b).map_err(|e| Error::io("Unable to back up", dest, e))?;
            state.entries.push((dest.to_string(), Some(b)));
        } else {
            state.entries.push((dest.to_string(), None));
        }
    }
    if changed || before != state.entries.len() || !lexists(&root.host(&state_file())) {
        state.save(root)?;
    }
    Ok(())
}
