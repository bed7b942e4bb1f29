//! `kollars deploy` and `kollars reconfigure`.
//!
//! Both touch only what changed and bootstrap what is new: in kolla-ansible 49 of 51 roles'
//! `reconfigure.yml` just imports `deploy.yml`, so a service enabled later is bootstrapped by
//! whichever of the two the operator runs. The order across hosts and projects is
//! `schedule`'s. The run is recorded ([`crate::history`]) with what it decided and the graph
//! it followed; `--report FILE` also writes its HTML page ([`crate::html`]), with the config
//! diffs it applied (read before writing, as plan does: one more read per host).

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use futures_util::future::join_all;

use crate::cli::{DeployArgs, OutputFormat, PlanArgs};
use crate::commands::prepare::{prepare, Needs};
use crate::commands::record::Extra;
use crate::commands::schedule::{self, Graph};
use crate::error::ExitStatus;
use crate::history::{DiffRecord, PlanItem};
use crate::recorder::RunInfo;
use crate::reporter::CliReporter;

/// `kollars deploy` / `kollars reconfigure` (`--plan`: only `kollars plan`).
pub async fn deploy(args: &DeployArgs, run: RunInfo) -> Result<ExitStatus> {
    if args.plan {
        return super::plan::plan(&PlanArgs {
            engine: args.engine.clone(),
            no_diff: false,
            graph: None,
        })
        .await;
    }
    let reporter = CliReporter::recording(args.engine.output, run);
    let prepared = prepare(&args.engine, reporter.clone(), Needs::DECIDE_AND_CHANGE).await?;
    let graph = Graph::new(&prepared.ws.catalogue);
    // the diffs about to be applied, for the report (before anything is written)
    let mut diffs = Vec::new();
    if args.report.is_some() {
        let read = join_all(prepared.targets.iter().map(super::diffs::config_diffs)).await;
        for (t, r) in prepared.targets.iter().zip(read) {
            // a host that cannot be read fails in the deploy itself, with its reason
            let Ok((by_service, _)) = r else { continue };
            for (service, ds) in by_service {
                diffs.extend(ds.into_iter().map(|diff| DiffRecord {
                    host: t.host().to_owned(),
                    service: service.clone(),
                    diff,
                }));
            }
        }
    }
    let results = schedule::deploy_all(&prepared.targets, &graph, args.engine.forks).await;
    // once more at the end: a killed run's last requests may have landed after this run's
    // sweep at its start (the engine carries out a create whose client is gone); a failure
    // here changes nothing the run did, and the next run's sweep names it; a failed host's
    // engine may be the one that stopped answering: the next run sweeps it
    join_all(
        prepared
            .targets
            .iter()
            .zip(&results)
            .filter(|(_, (_, r))| r.is_ok())
            .map(|(t, _)| t.engine.remove_leftover_helpers()),
    )
    .await;
    let mut plan = Vec::new();
    for (host, r) in &results {
        if let Ok(actions) = r {
            for (service, a) in actions {
                plan.push(PlanItem {
                    host: host.clone(),
                    service: service.clone(),
                    action: a.name().to_owned(),
                    reason: super::plan::describe(a),
                });
            }
        }
    }
    reporter.finish();
    if args.engine.output == OutputFormat::Text {
        reporter.line(&summary(&results, &prepared.unreachable));
    }
    let graph = graph.of_targets(&prepared.targets);
    let (status, record) = prepared.finish_run(results, Extra { plan, diffs, graph });
    if let (Some(path), Some(record)) = (&args.report, record) {
        let page = crate::html::page(&record);
        kollars_tree::replace_file(path, page.as_bytes(), 0o644)
            .with_context(|| format!("writing the report {}", path.display()))?;
        if args.engine.output == OutputFormat::Text {
            reporter.line(&format!("report written to {}", path.display()));
        }
    }
    Ok(status)
}

/// One host's outcome: what was decided for each container, or why it failed.
type HostOutcome = (String, Result<Vec<(String, kollars_docker::Action)>>);

/// The last line of a deploy: what was done on the hosts that succeeded, and which failed —
/// `1 of 2 host(s) done: 16 create; failed: node2` (a failed host's actions are not counted:
/// they did not all happen).
fn summary<T>(results: &[HostOutcome], unreachable: &[(String, T)]) -> String {
    let mut actions: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut failed: Vec<&str> = Vec::new();
    for (host, r) in results {
        match r {
            Ok(done) => {
                for (_, a) in done {
                    *actions.entry(a.name()).or_default() += 1;
                }
            }
            Err(_) => failed.push(host),
        }
    }
    failed.extend(unreachable.iter().map(|(h, _)| h.as_str()));
    let total = results.len() + unreachable.len();
    let actions = match actions.is_empty() {
        true => "nothing changed".to_owned(),
        false => actions
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect::<Vec<_>>()
            .join(", "),
    };
    let mut line = format!(
        "{} of {total} host(s) done: {actions}",
        total - failed.len()
    );
    if !failed.is_empty() {
        line.push_str(&format!("; failed: {}", failed.join(", ")));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::summary;
    use kollars_docker::Action;

    #[test]
    fn failed_hosts_are_reported_as_failed() {
        let results = vec![
            (
                "node1".to_owned(),
                Ok(vec![("cron".to_owned(), Action::Create)]),
            ),
            ("node2".to_owned(), Err(anyhow::anyhow!("frozen"))),
        ];
        let unreachable = vec![("node3".to_owned(), ())];
        assert_eq!(
            summary(&results, &unreachable),
            "1 of 3 host(s) done: 1 create; failed: node2, node3"
        );
        assert_eq!(
            summary(&results[..1], &[] as &[(String, ())]),
            "1 of 1 host(s) done: 1 create"
        );
    }
}
