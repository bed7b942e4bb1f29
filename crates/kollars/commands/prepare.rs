//! What every command that talks to engines does before it acts, and how it ends.
//!
//! [`prepare`] loads and renders everything in memory (bad input stops here, before any host
//! is touched), takes the run lock ([`crate::lock`]) when the command changes hosts (and,
//! once connected, the hosts' lock on their engines: [`crate::hosts_lock`]), and
//! connects to every selected host's engine (a command that changes hosts then removes the
//! helper containers killed runs left there) — once: engines connected to gather facts are
//! reused. Connecting
//! (and surveying, for commands that decide) only reads from the engines, so it runs while
//! the CPU renders: an SSH engine's handshake or a busy engine's container listing costs no
//! wall time of its own. A render or validation error still wins over anything an engine
//! said. [`for_hosts`] then acts on every host (`--forks` at a time) and [`finish`] reports
//! the hosts that failed and turns the outcome into an exit status.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{Context, Result};
use futures_util::future::join_all;
use kollars_docker::{Engine, Survey};
use kollars_render::RenderedHost;

use crate::cli::EngineArgs;
use crate::configs::Destination;
use crate::containers::{self, Containers};
use crate::error::{BadInput, ExitStatus};
use crate::reporter::CliReporter;
use crate::settings::{HostSettings, Transfer};
use crate::workspace::Workspace;

/// One host ready to act on: its rendered services, their containers, its engine.
pub struct HostTarget {
    /// What was rendered for it.
    pub rendered: RenderedHost,
    /// The containers of each service that runs one, by service name, as validated before
    /// anything happened (`kollars_privileged_containers` applied).
    pub containers: BTreeMap<String, Containers>,
    /// Its engine, connected, with its common options, time zone and the reporter.
    pub engine: Engine,
    /// The engine's survey, taken while rendering, for decisions (`None`: not taken, or the
    /// listing failed: decisions then list on the spot).
    pub survey: Option<Survey>,
    /// Its settings.
    pub settings: HostSettings,
}

impl HostTarget {
    /// The inventory host name.
    pub fn host(&self) -> &str {
        &self.rendered.host
    }

    /// Where its config tree is written (and read back).
    pub fn destination(&self) -> Destination<'_> {
        match &self.settings.reach.transfer {
            Transfer::Engine(image) => Destination::Engine(&self.engine, image),
            Transfer::Local => Destination::Local(self.rendered.node_config_directory.clone()),
        }
    }

    /// Container names of the services that run one, in service order.
    pub fn container_names(&self) -> Vec<&str> {
        self.rendered
            .services
            .iter()
            .filter_map(|s| self.containers.get(&s.name))
            .map(|c| c.main.name.as_str())
            .collect()
    }
}

/// What a command needs from [`prepare`] besides rendered hosts and connected engines.
#[derive(Debug, Clone, Copy)]
pub struct Needs {
    /// It changes hosts: hold the run lock (taken before anything is read from an engine,
    /// so what is read is not stale by the time it acts).
    pub lock: bool,
    /// It decides per container: survey each engine while rendering.
    pub survey: bool,
}

impl Needs {
    /// deploy, reconfigure: decides, then changes.
    pub const DECIDE_AND_CHANGE: Needs = Needs {
        lock: true,
        survey: true,
    };
    /// plan: decides, changes nothing.
    pub const DECIDE: Needs = Needs {
        lock: false,
        survey: true,
    };
    /// restart, pull, stop, destroy: changes without deciding.
    pub const CHANGE: Needs = Needs {
        lock: true,
        survey: false,
    };
    /// check: reads.
    pub const READ: Needs = Needs {
        lock: false,
        survey: false,
    };
}

/// Everything a command acts on, ready; nothing on any host has changed.
pub struct Prepared {
    /// The loaded inputs.
    pub ws: Workspace,
    /// The hosts whose engine answered, in inventory order.
    pub targets: Vec<HostTarget>,
    /// Hosts whose engine did not answer: they fail, the others go on (kolla's
    /// `max_fail_percentage: 100`); see [`finish`].
    pub unreachable: Vec<(String, anyhow::Error)>,
    /// The hosts' lock ([`crate::hosts_lock`]), released before the run lock (fields drop in
    /// order).
    _hosts_lock: Option<crate::hosts_lock::HostsLock>,
    /// The run lock ([`crate::lock`]), held until the command is done (dropped with this
    /// value: bind the value to a name, do not destructure it with `..`, which drops the
    /// lock at once).
    _lock: Option<crate::lock::RunLock>,
    /// The run's reporter: its events make the run's record ([`Prepared::finish_run`]).
    pub reporter: Arc<CliReporter>,
}

impl Prepared {
    /// [`finish`], then the run's record written when the run is recorded.
    pub fn finish<T>(self, results: Vec<(String, Result<T>)>) -> ExitStatus {
        self.finish_run(results, super::record::Extra::default()).0
    }

    /// [`finish`], then the run's record (with `extra`: what deploy decided, its diffs, its
    /// graph) written when the run is recorded (a reporter made by
    /// [`CliReporter::recording`]), and returned. A record that cannot be written is
    /// said, and changes nothing about how the run ended.
    pub fn finish_run<T>(
        self,
        results: Vec<(String, Result<T>)>,
        extra: super::record::Extra,
    ) -> (ExitStatus, Option<crate::history::RunRecord>) {
        let outcomes: Vec<(String, Option<String>)> = results
            .iter()
            .map(|(h, r)| (h.clone(), r.as_ref().err().map(|e| format!("{e:#}"))))
            .collect();
        let unreachable: Vec<(String, String)> = self
            .unreachable
            .iter()
            .map(|(h, e)| (h.clone(), format!("{e:#}")))
            .collect();
        let reporter = self.reporter.clone();
        let Prepared {
            ws,
            targets,
            unreachable: unreached,
            _hosts_lock,
            _lock,
            ..
        } = self;
        let status = finish(results, unreached);
        // what to do next about a host that did not answer
        for (host, _) in &unreachable {
            if let Some(s) = ws.settings.get(host) {
                crate::errln!(
                    "hint: `DOCKER_HOST={} docker info` shows whether host {host}'s engine \
                     answers (its endpoint is the inventory's kollars_engine, or DOCKER_HOST)",
                    s.reach.endpoint
                );
            }
        }
        let record = reporter.run().map(|run| {
            super::record::build(
                run,
                &reporter,
                &ws,
                &targets,
                status,
                super::record::Outcomes {
                    hosts: outcomes,
                    unreachable,
                },
                extra,
            )
        });
        if let Some(r) = &record {
            match crate::history::dir().and_then(|d| crate::history::save(&d, r)) {
                Ok(path) if reporter.format() == crate::cli::OutputFormat::Text => {
                    reporter.line(&format!(
                        "run {} recorded ({}; `kollars runs show {}`)",
                        r.id,
                        path.display(),
                        r.id
                    ))
                }
                Ok(_) => {}
                Err(e) => crate::errln!("warning: the run was not recorded: {e:#}"),
            }
        }
        drop(_hosts_lock);
        drop(_lock);
        (status, record)
    }
}

/// Loads, renders, validates and connects; nothing on any host has changed when this returns.
pub async fn prepare(
    args: &EngineArgs,
    reporter: Arc<CliReporter>,
    needs: Needs,
) -> Result<Prepared> {
    let ws = Workspace::load_with_engines(&args.input).await?;
    prepare_loaded(ws, args, reporter, needs).await
}

/// [`prepare`] on inputs already loaded (prechecks looks at them before rendering).
pub async fn prepare_loaded(
    mut ws: Workspace,
    args: &EngineArgs,
    reporter: Arc<CliReporter>,
    needs: Needs,
) -> Result<Prepared> {
    let lock = match needs.lock {
        true => {
            let path = crate::lock::path(&ws.config.path)?;
            let timeout = std::time::Duration::from_secs(args.lock_timeout);
            Some(crate::lock::acquire(&path, timeout).await?)
        }
        false => None,
    };
    let connecting: Vec<_> = ws
        .hosts
        .iter()
        .map(|host| {
            let settings = ws.settings[host].clone();
            let connected = ws.connected.remove(host);
            let host = host.clone();
            let reporter = reporter.clone();
            tokio::spawn(async move {
                let e = match connected {
                    Some(e) => e,
                    None => {
                        let r = &settings.reach;
                        match r.connect(&host).await {
                            Ok(e) => e,
                            Err(err) => return (host, Err(err)),
                        }
                    }
                };
                if let Err(err) = e.check_kind(settings.common.container_engine) {
                    return (host, Err(err));
                }
                let e = match &settings.timezone {
                    Some(tz) => e.with_timezone(tz.clone()),
                    None => e,
                };
                let e = e
                    .with_common_options(settings.common.clone())
                    .with_reporter(reporter);
                // a failed survey only costs the shortcut: decisions list again
                let survey = match needs.survey {
                    true => e.survey().await.ok(),
                    false => None,
                };
                (host, Ok((e, survey)))
            })
        })
        .collect();
    let rendered = match tokio::task::block_in_place(|| render_and_validate(&ws)) {
        Ok(r) => r,
        Err(e) => {
            connecting.iter().for_each(|c| c.abort());
            return Err(e);
        }
    };
    let mut engines = BTreeMap::new();
    let mut unreachable = Vec::new();
    for joined in join_all(connecting).await {
        match joined.context("engine connection task failed")? {
            (host, Ok(connected)) => {
                engines.insert(host, connected);
            }
            // a host that does not answer fails alone; a wrong endpoint is the operator's
            (host, Err(e)) if e.is_unreachable() => {
                unreachable.push((host, anyhow::Error::new(e)));
            }
            (_, Err(e)) => return Err(BadInput::from_err(e)),
        }
    }
    let mut hosts_lock = None;
    if needs.lock {
        // everything validated: the hosts' lock, then the helpers of killed runs go (one
        // listing when none)
        let connected = engines
            .iter()
            .map(|(host, (e, _))| (host.clone(), e.clone()))
            .collect();
        let command = reporter.run().map_or("a run", |r| r.command);
        let (lock, failed) = crate::hosts_lock::HostsLock::take(
            connected,
            command,
            &ws.config.path,
            args.break_lock,
        )
        .await?;
        hosts_lock = Some(lock);
        for (host, e) in failed {
            engines.remove(&host);
            unreachable.push((host, e));
        }
        let swept = join_all(engines.iter().map(|(host, (e, _))| async move {
            (host.clone(), e.remove_leftover_helpers().await)
        }))
        .await;
        for (host, r) in swept {
            if let Err(e) = r {
                engines.remove(&host);
                let e = anyhow::Error::new(e).context("removing leftover helper containers");
                unreachable.push((host, e));
            }
        }
    }
    let mut targets = Vec::new();
    for (rendered, containers) in rendered {
        let Some((engine, survey)) = engines.remove(&rendered.host) else {
            continue;
        };
        let settings = ws.settings[&rendered.host].clone();
        targets.push(HostTarget {
            rendered,
            containers,
            engine,
            survey,
            settings,
        });
    }
    Ok(Prepared {
        ws,
        targets,
        unreachable,
        _hosts_lock: hosts_lock,
        _lock: lock,
        reporter,
    })
}

/// Renders every selected host and types every container (kept for the run, by service
/// name); bad input stops here.
fn render_and_validate(
    ws: &Workspace,
) -> Result<Vec<(RenderedHost, BTreeMap<String, Containers>)>> {
    let rendered = kollars_render::render_all(&ws.vars, &ws.catalogue, &ws.selection())
        .map_err(BadInput::from_err)?;
    rendered
        .into_iter()
        .map(|h| {
            let unprivileged = ws.settings[&h.host].unprivileged;
            let c = containers::of_host(&h, unprivileged)?;
            Ok((h, c))
        })
        .collect()
}

/// Runs `f` on every host, at most `forks` at a time; each host's result by host name.
pub async fn for_hosts<'a, F, Fut, T>(
    targets: &'a [HostTarget],
    forks: usize,
    f: F,
) -> Vec<(String, Result<T>)>
where
    F: Fn(&'a HostTarget) -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let sem = Arc::new(tokio::sync::Semaphore::new(forks.max(1)));
    join_all(targets.iter().map(|t| {
        let sem = sem.clone();
        let fut = f(t);
        async move {
            let _permit = sem.acquire().await.expect("semaphore open");
            (t.host().to_owned(), fut.await)
        }
    }))
    .await
}

/// Reports failed hosts (those that failed acting, then those whose engine did not answer)
/// and says how the run ended: success, some hosts failed (3), or every host failed.
pub fn finish<T>(
    mut results: Vec<(String, Result<T>)>,
    unreachable: Vec<(String, anyhow::Error)>,
) -> ExitStatus {
    results.extend(unreachable.into_iter().map(|(h, e)| (h, Err(e))));
    let mut failed = 0;
    for (host, r) in &results {
        if let Err(e) = r {
            failed += 1;
            crate::errln!("host {host} FAILED: {e:#}");
        }
    }
    ExitStatus::of_hosts(failed, results.len())
}
