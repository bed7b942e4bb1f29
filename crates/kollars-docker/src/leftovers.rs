//! Helper and probe containers a killed run left behind, found by their labels and removed.
//!
//! Why: [`crate::transfer`]'s helpers are created and removed within one request or two, and
//! the fact probe within one command; a run killed in between leaves them, and each kill adds
//! one. Every helper carries [`LABEL_HELPER`] and [`LABEL_HELPER_OWNER`], the process that
//! made it (`<boot id>/<pid>/<start time>`: unique on this machine, even after the pid is
//! reused). [`Engine::remove_leftover_helpers`] removes those of processes that are gone
//! (same boot id, no such process now). A helper of another machine (another boot id), or
//! of a kollars from before the owner label, may belong to a run going on there: it is
//! removed only once older than [`FOREIGN_AGE`], far longer than any helper lives.

use std::collections::HashMap;

use bollard::query_parameters::ListContainersOptions;

use crate::engine::Engine;
use crate::error::Result;
pub use crate::transfer::LABEL_HELPER;

/// Label on helper and probe containers: the process that made them (see the module docs).
pub const LABEL_HELPER_OWNER: &str = "kollars.helper.owner";

/// How old a helper of another machine must be before it counts as left behind (seconds).
pub const FOREIGN_AGE: i64 = 3600;

/// This process as an owner: `<boot id>/<pid>/<start time>`; `None` without `/proc`.
pub(crate) fn this_owner() -> Option<String> {
    owner_of(std::process::id())
}

fn boot_id() -> Option<String> {
    let id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    Some(id.trim().to_owned())
}

/// `<boot id>/<pid>/<start time>` of process `pid` now, if it exists.
fn owner_of(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // after the command name (which may hold spaces and parentheses): state is field 3,
    // the start time field 22
    let rest = &stat[stat.rfind(')')? + 1..];
    let start = rest.split_whitespace().nth(19)?;
    Some(format!("{}/{pid}/{start}", boot_id()?))
}

/// Whether the helper of `owner` (its label), created at `created` (unix seconds), is left
/// behind at `now`.
fn is_leftover(owner: Option<&str>, created: i64, now: i64) -> bool {
    match owner.and_then(here) {
        Some(pid) => owner_of(pid).as_deref() != owner,
        None => now - created > FOREIGN_AGE,
    }
}

/// The pid of `owner` when it is a well-formed owner of this machine (this boot).
fn here(owner: &str) -> Option<u32> {
    let mut parts = owner.splitn(3, '/');
    let (boot, pid) = (parts.next()?, parts.next()?.parse::<u32>().ok()?);
    (boot_id().as_deref() == Some(boot)).then_some(pid)
}

/// Whether `owner` is a process of this machine (this boot) that no longer runs; `false` for
/// another machine's, which cannot be told from here.
pub(crate) fn is_gone_here(owner: &str) -> bool {
    here(owner).is_some_and(|pid| owner_of(pid).as_deref() != Some(owner))
}

impl Engine {
    /// Removes the helper and probe containers of runs that are gone (see the module docs);
    /// returns their names. One listing when there are none.
    pub async fn remove_leftover_helpers(&self) -> Result<Vec<String>> {
        let filters = HashMap::from([("label".to_owned(), vec![format!("{LABEL_HELPER}=true")])]);
        let listed = self
            .docker
            .list_containers(Some(ListContainersOptions {
                all: true,
                filters: Some(filters),
                ..ListContainersOptions::default()
            }))
            .await
            .map_err(self.list_err())?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let mut removed = Vec::new();
        for c in listed {
            let owner = c
                .labels
                .as_ref()
                .and_then(|l| l.get(LABEL_HELPER_OWNER))
                .map(String::as_str);
            if !is_leftover(owner, c.created.unwrap_or(now), now) {
                continue;
            }
            let Some(name) = c.names.and_then(|n| n.into_iter().next()) else {
                continue;
            };
            let name = name.trim_start_matches('/').to_owned();
            self.remove(&name).await?;
            removed.push(name);
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_helper_is_left_behind_when_its_process_is_gone_or_it_is_old_and_foreign() {
        let me = this_owner().expect("/proc");
        let boot = boot_id().unwrap();
        let now = 10_000_000;
        // this process: never
        assert!(!is_leftover(Some(&me), now, now));
        // a pid of this boot that no longer runs, or runs since another start time
        assert!(is_leftover(Some(&format!("{boot}/4194304/1")), now, now));
        let reused = format!("{boot}/{}/1", std::process::id());
        assert!(is_leftover(Some(&reused), now, now));
        // another machine's, or unlabelled: only when old
        for owner in [Some("other-boot/1/1"), None, Some("garbage")] {
            assert!(!is_leftover(owner, now - 60, now), "{owner:?}");
            assert!(is_leftover(owner, now - FOREIGN_AGE - 1, now), "{owner:?}");
        }
    }
}
