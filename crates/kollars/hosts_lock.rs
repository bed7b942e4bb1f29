//! The hosts' lock, from the command's side: taken on every connected host's engine by every
//! command that changes hosts, after the workstation's own lock ([`crate::lock`]) and before
//! the first change, and released when the command ends (also when it fails: [`Drop`]).
//!
//! Why both: the workstation's lock makes a second run of the same configuration directory
//! *wait its turn*; the hosts' lock ([`kollars_docker::hostlock`]) *refuses* a run from another
//! workstation or another copy of the configuration directory while one acts on the same
//! hosts, naming who holds it and since when. A lock left by a killed run is reported as such
//! (this workstation can tell its own runs are gone) and removed only when the operator says
//! so (`--break-lock`): a run of another workstation may still be going on.

use std::path::Path;

use futures_util::future::join_all;
use kollars_docker::hostlock::{LockHolder, Taken};
use kollars_docker::Engine;

/// The hosts' lock held on some engines; released when dropped.
pub struct HostsLock {
    holder: LockHolder,
    engines: Vec<Engine>,
}

/// Why the hosts' lock could not be had: the hosts another run holds it on.
#[derive(Debug, thiserror::Error)]
#[error("{}", refusal(.held))]
pub struct HeldElsewhere {
    /// Each host with the lock's holder there.
    pub held: Vec<(String, LockHolder)>,
}

fn refusal(held: &[(String, LockHolder)]) -> String {
    let mut text = String::from("another kollars run holds the hosts' lock; nothing was changed");
    for (host, holder) in held {
        let advice = match holder.is_gone() {
            true => "stale: that run is gone (killed?); `--break-lock` removes the lock",
            false => "if that run is over (killed on its workstation), `--break-lock` removes it",
        };
        text.push_str(&format!("\n  host {host}: held by {holder}; {advice}"));
    }
    text
}

/// `user@workstation` of this process.
fn who() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "unknown-host".into());
    format!("{}@{host}", crate::env::user())
}

impl HostsLock {
    /// Takes the lock on every engine of `engines` for a `command` on `configdir`. With
    /// `break_lock`, a lock found held is removed (said on stderr) and taken. Fails with
    /// [`HeldElsewhere`] when any host's lock is another run's (the ones taken are released
    /// again); a host whose engine failed the request is returned with its error, to fail alone.
    pub async fn take(
        engines: Vec<(String, Engine)>,
        command: &str,
        configdir: &Path,
        break_lock: bool,
    ) -> Result<(HostsLock, Vec<(String, anyhow::Error)>), HeldElsewhere> {
        let since = crate::history::utc(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0),
        );
        let run = format!("{command} of {}", configdir.display());
        let holder = LockHolder::this_process(&who(), &since, &run);
        let tried = join_all(engines.into_iter().map(|(host, e)| {
            let holder = &holder;
            async move {
                let mut taken = e.take_hosts_lock(holder).await;
                if let (true, Ok(Taken::HeldBy(other))) = (break_lock, &taken) {
                    crate::errln!("host {host}: breaking the hosts' lock held by {other}");
                    taken = match e.break_hosts_lock().await {
                        Ok(_) => e.take_hosts_lock(holder).await,
                        Err(err) => Err(err),
                    };
                }
                (host, e, taken)
            }
        }))
        .await;
        let mut lock = HostsLock {
            holder,
            engines: Vec::new(),
        };
        let mut failed = Vec::new();
        let mut held = Vec::new();
        for (host, engine, taken) in tried {
            match taken {
                Ok(Taken::Taken) => lock.engines.push(engine),
                Ok(Taken::HeldBy(other)) => held.push((host, other)),
                Err(e) => failed.push((
                    host,
                    anyhow::Error::new(e).context("taking the hosts' lock"),
                )),
            }
        }
        if !held.is_empty() {
            lock.release().await;
            return Err(HeldElsewhere { held });
        }
        Ok((lock, failed))
    }

    /// Releases it everywhere it is held (a host whose engine fails the release keeps a lock
    /// this workstation will report as stale: said on stderr).
    async fn release(&mut self) {
        let engines = std::mem::take(&mut self.engines);
        let holder = &self.holder;
        let released = join_all(
            engines
                .iter()
                .map(|e| async move { (e.host().to_owned(), e.release_hosts_lock(holder).await) }),
        )
        .await;
        for (host, r) in released {
            if let Err(e) = r {
                crate::errln!(
                    "warning: host {host}: the hosts' lock was not released: {:#}",
                    anyhow::Error::new(e)
                );
            }
        }
    }
}

impl Drop for HostsLock {
    fn drop(&mut self) {
        if self.engines.is_empty() {
            return;
        }
        // the command's runtime is multi-threaded: wait for the release on this thread
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => tokio::task::block_in_place(|| handle.block_on(self.release())),
            Err(_) => {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    rt.block_on(self.release());
                }
            }
        }
    }
}
