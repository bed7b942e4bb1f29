//! `kollars plan`: per host and container, the action deploy would take and why, plus the
//! config files it would rewrite, as unified diffs, and the tasks around the containers deploy
//! would run (databases, registrations in keystone) with what they would make. Changes nothing.
//! Everything it prints goes through the inputs' [`kollars_inputs::Masker`]: secrets are
//! masked where they are known and where they sit (the old value on a diff's `-` line too).

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use futures_util::future::join_all;
use kollars_docker::Action;

use crate::cli::{GraphFormat, OutputFormat, PlanArgs};
use crate::commands::converge::{
    bootstrap_unfinished, bootstraps, check_database, check_registration, database_tasks,
    decide_host, never_ran, registration_due, registration_tasks,
};
use crate::commands::prepare::{for_hosts, prepare, Needs};
use crate::commands::schedule::Graph;
use crate::containers::{AfterStart, Rolling};
use crate::error::ExitStatus;
use crate::reporter::CliReporter;

/// `kollars plan`.
pub async fn plan(args: &PlanArgs) -> Result<ExitStatus> {
    if let Some(format) = args.graph {
        return graph(args, format).await;
    }
    let reporter = CliReporter::new(args.engine.output);
    let prepared = prepare(&args.engine, reporter, Needs::DECIDE).await?;
    let masker = prepared.ws.config.masker();
    let mask = |text: &str| masker.mask(text);
    let results = for_hosts(&prepared.targets, args.engine.forks, |target| async move {
        let (mut diffs, rewritten) = super::diffs::config_diffs(target).await?;
        let mut decisions = decide_host(target, &rewritten).await?;
        let boots = bootstraps(target).await?;
        let mut out = Vec::new();
        for svc in &target.rendered.services {
            let decision = decisions.remove(&svc.name);
            let rolling = decision.as_ref().and_then(|d| rolling_note(d.containers));
            // (its bootstrap one-shot, never completed here; the container never ran)
            let boot = decision.as_ref().map(|d| {
                let unfinished: Vec<String> = d
                    .containers
                    .bootstrap
                    .iter()
                    .filter(|b| bootstrap_unfinished(&boots, d, &b.name))
                    .map(|b| b.name.clone())
                    .collect();
                Boot {
                    unfinished,
                    galera: matches!(d.containers.rolling, Some(Rolling::Galera { .. })),
                    new: never_ran(&boots, d),
                    after_start: d.containers.after_start.iter().map(describe_task).collect(),
                    signals: d
                        .containers
                        .signals
                        .iter()
                        .map(|s| (s.signal.clone(), s.container.clone()))
                        .collect(),
                }
            });
            let action = decision.map(|d| d.action).unwrap_or(Action::Nothing);
            let diffs = diffs.remove(&svc.name).unwrap_or_default();
            out.push((svc.name.clone(), action, diffs, rolling, boot));
        }
        Ok(out)
    })
    .await;
    let mut changes = 0;
    for (host, r) in &results {
        let Ok(items) = r else { continue };
        for (svc, action, diffs, rolling, _) in items {
            if action.is_change() || !diffs.is_empty() {
                changes += 1;
            }
            if args.engine.output == OutputFormat::Json {
                let j = serde_json::json!({
                    "host": host, "service": svc, "action": action.name(),
                    "detail": mask(&format!("{action:?}")),
                    "diffs": diffs.iter().map(|d| masker.mask_diff(d)).collect::<Vec<_>>(),
                });
                crate::outln!("{j}");
                continue;
            }
            if !action.is_change() && diffs.is_empty() {
                continue;
            }
            let rolling = match (action.is_change(), rolling) {
                (true, Some(note)) => format!(" — {note}"),
                _ => String::new(),
            };
            crate::outln!("{host}: {svc}: {}{rolling}", mask(&describe(action)));
            if !args.no_diff {
                for d in diffs {
                    crate::out!("{}", masker.mask_diff(d));
                }
            }
        }
    }
    // bootstraps that never completed (a killed run's), on the first host that runs the
    // service, as deploy runs them (see schedule): not for a Galera member joining others
    let mut seen = BTreeSet::new();
    let mut fresh: BTreeMap<&str, bool> = BTreeMap::new();
    for (_, r) in &results {
        for (svc, _, _, _, boot) in r.iter().flatten() {
            let all = fresh.entry(svc.as_str()).or_insert(true);
            *all &= boot.as_ref().is_some_and(|b| b.new);
        }
    }
    for (host, r) in &results {
        let Ok(items) = r else { continue };
        for (svc, action, _, _, boot) in items {
            let Some(boot) = boot else {
                continue;
            };
            if !seen.insert(svc.as_str()) {
                continue;
            }
            let created = matches!(action, Action::Create);
            // kolla's tasks once the new container runs (see schedule's after_start)
            let after: &[String] = match created || boot.new {
                true => &boot.after_start,
                false => &[],
            };
            if boot.galera && !fresh[svc.as_str()] {
                continue;
            }
            let why = match created {
                true => "new container",
                false => "bootstrap never completed",
            };
            let then_signals: &[(String, String)] = match boot.unfinished.is_empty() {
                true => &[],
                false => &boot.signals,
            };
            // (kind, text, action, the JSON row's own fields)
            let tasks = boot
                .unfinished
                .iter()
                .map(|o| {
                    (
                        "bootstrap",
                        format!("bootstrap {o}"),
                        format!("run ({why})"),
                        serde_json::json!({"container": o}),
                    )
                })
                .chain(then_signals.iter().map(|(signal, container)| {
                    let (what, how) = match signal.as_str() {
                        "restart" => (format!("restart {container} where it runs"), "restart"),
                        _ => (
                            format!("signal {signal} to {container} where it runs"),
                            "send",
                        ),
                    };
                    (
                        "signal",
                        what,
                        format!("{how} (after its bootstrap)"),
                        serde_json::json!({"container": container, "signal": signal}),
                    )
                }))
                .chain(after.iter().map(|t| {
                    let why = match created {
                        true => "new container",
                        false => "its container never ran",
                    };
                    let what = mask(t);
                    (
                        "after_start",
                        what.clone(),
                        format!("run ({why})"),
                        serde_json::json!({ "what": what }),
                    )
                }));
            for (kind, text, action, mut row) in tasks {
                changes += 1;
                match args.engine.output {
                    OutputFormat::Json => {
                        row["host"] = host.as_str().into();
                        row["service"] = svc.as_str().into();
                        row["task"] = kind.into();
                        row["action"] = action.into();
                        crate::outln!("{row}")
                    }
                    OutputFormat::Text => crate::outln!("{host}: {svc}: {text}: {action}"),
                }
            }
        }
    }
    // kolla's tasks around the containers: each service's database, on the host that makes it
    let tasks = database_tasks(prepared.targets.iter().enumerate(), None);
    let checked = join_all(
        tasks
            .iter()
            .map(|(i, _, task)| check_database(&prepared.targets[*i], task)),
    )
    .await;
    for ((i, svc, task), missing) in tasks.iter().zip(checked) {
        let host = prepared.targets[*i].host();
        let what = match &missing {
            Ok(m) if m.is_empty() => continue,
            Ok(m) => format!("create {}", m.join(", ")),
            // e.g. kolla_toolbox or the database not deployed yet: deploy makes them first
            Err(e) => format!("create (cannot check yet: {e:#})"),
        };
        changes += 1;
        match args.engine.output {
            OutputFormat::Json => crate::outln!(
                "{}",
                serde_json::json!({"host": host, "service": svc, "task": "database",
                    "database": task.db.name, "action": mask(&what)})
            ),
            OutputFormat::Text => {
                crate::outln!("{host}: {svc}: database {}: {}", task.db.name, mask(&what))
            }
        }
    }
    // each service's registration in keystone, when deploy would run it (see
    // converge::registration_due), with what keystone lacks
    let created: BTreeSet<&str> = results
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok())
        .flatten()
        .filter(|(_, action, _, _, _)| matches!(action, Action::Create))
        .map(|(svc, _, _, _, _)| svc.as_str())
        .collect();
    let tasks = registration_tasks(prepared.targets.iter().enumerate(), None);
    let checked = join_all(tasks.iter().map(|(i, svc, reg)| {
        let target = &prepared.targets[*i];
        let created = created.contains(svc);
        async move {
            match registration_due(target, svc, reg, created).await? {
                true => check_registration(target, reg).await.map(Some),
                false => Ok(None),
            }
        }
    }))
    .await;
    for ((i, svc, _), lacks) in tasks.iter().zip(checked) {
        let host = prepared.targets[*i].host();
        let what = match &lacks {
            Ok(None) => continue,
            Ok(Some(m)) if m.is_empty() => "nothing missing (records its inputs)".to_owned(),
            Ok(Some(m)) => m.summary(),
            // e.g. keystone or kolla_toolbox not deployed yet: deploy makes them first
            Err(e) => format!("register (cannot check yet: {e:#})"),
        };
        changes += 1;
        let what = mask(&what);
        match args.engine.output {
            OutputFormat::Json => crate::outln!(
                "{}",
                serde_json::json!({"host": host, "service": svc, "task": "ks_register",
                    "action": what})
            ),
            OutputFormat::Text => crate::outln!("{host}: {svc}: register in keystone: {what}"),
        }
    }
    if args.engine.output == OutputFormat::Text {
        crate::outln!("{changes} change(s) planned on {} host(s)", results.len());
    }
    Ok(prepared.finish(results))
}

/// `kollars plan --graph dot|svg`: the projects the selected hosts run, each with the ones
/// it waits for, as deploy would follow them ([`crate::graph`]).
async fn graph(args: &PlanArgs, format: GraphFormat) -> Result<ExitStatus> {
    let reporter = CliReporter::new(args.engine.output);
    let prepared = prepare(&args.engine, reporter, Needs::READ).await?;
    let edges = Graph::new(&prepared.ws.catalogue).of_targets(&prepared.targets);
    match format {
        GraphFormat::Dot => crate::out!("{}", crate::graph::dot(&edges, &[])),
        GraphFormat::Svg => crate::out!("{}", crate::graph::svg(&edges, &[])),
    }
    let results: Vec<(String, Result<()>)> = prepared
        .targets
        .iter()
        .map(|t| (t.host().to_owned(), Ok(())))
        .collect();
    Ok(prepared.finish(results))
}

/// What the plan shows of one service's tasks around its container on one host.
struct Boot {
    /// Its bootstrap one-shots due (never completed here).
    unfinished: Vec<String>,
    /// A Galera member (bootstraps only in a new cluster).
    galera: bool,
    /// Its container never ran (new, or a killed run's).
    new: bool,
    /// kolla's tasks once its new container runs, described.
    after_start: Vec<String>,
    /// The signals sent once its bootstrap ran: (signal, container).
    signals: Vec<(String, String)>,
}

/// One of kolla's tasks once a new container runs, for the plan (never a password).
fn describe_task(t: &AfterStart) -> String {
    match t {
        AfterStart::Accounts { accounts, .. } => format!(
            "accounts: wait until it answers, then {}",
            accounts
                .iter()
                .map(|a| format!("user {}", a.user))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        AfterStart::IdentityBootstrap(b) => format!(
            "identity bootstrap: user {}, project {}, role {}, region {}",
            b.username, b.project, b.role, b.region
        ),
        AfterStart::RunOnce {
            command, service, ..
        } => match service {
            Some(s) => format!("run once in {s}: {}", command.join(" ")),
            None => format!("run once: {}", command.join(" ")),
        },
    }
}

/// How a clustered service's changes roll across hosts (see `schedule`), for the plan.
fn rolling_note(c: &crate::containers::Containers) -> Option<&'static str> {
    match c.rolling.as_ref()? {
        Rolling::Galera { .. } => Some("one host at a time, each Synced (Galera)"),
        Rolling::Ready { .. } => Some("one host at a time, each ready (a new cluster's together)"),
    }
}

/// An action with its reasons, as plan prints it.
pub(crate) fn describe(a: &Action) -> String {
    match a {
        Action::Recreate { reasons } => format!(
            "recreate ({})",
            reasons
                .iter()
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        ),
        Action::Restart { reason } => format!("restart ({reason})"),
        other => other.name().to_string(),
    }
}
