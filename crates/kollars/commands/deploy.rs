//! `kollars deploy` and `kollars reconfigure`.
//!
//! Both touch only what changed and bootstrap what is new: in kolla-ansible 49 of 51 roles'
//! `reconfigure.yml` just imports `deploy.yml`, so a service enabled later is bootstrapped by
//! whichever of the two the operator runs. The order across hosts and projects is
//! `schedule`'s.

use std::collections::BTreeMap;

use anyhow::Result;

use crate::cli::{DeployArgs, OutputFormat, PlanArgs};
use crate::commands::prepare::{finish, prepare, Needs};
use crate::commands::schedule::{self, Graph};
use crate::error::ExitStatus;
use crate::reporter::CliReporter;

/// `kollars deploy` / `kollars reconfigure` (`--plan`: only `kollars plan`).
pub async fn deploy(args: &DeployArgs) -> Result<ExitStatus> {
    if args.plan {
        return super::plan::plan(&PlanArgs {
            engine: args.engine.clone(),
            no_diff: false,
        })
        .await;
    }
    let reporter = CliReporter::new(args.engine.output);
    let prepared = prepare(&args.engine, reporter.clone(), Needs::DECIDE_AND_CHANGE).await?;
    let graph = Graph::new(&prepared.ws.catalogue);
    let results = schedule::deploy_all(&prepared.targets, &graph, args.engine.forks).await;
    // once more at the end: a killed run's last requests may have landed after this run's
    // sweep at its start (the engine carries out a create whose client is gone); a failure
    // here changes nothing the run did, and the next run's sweep names it; a failed host's
    // engine may be the one that stopped answering: the next run sweeps it
    futures_util::future::join_all(
        prepared
            .targets
            .iter()
            .zip(&results)
            .filter(|(_, (_, r))| r.is_ok())
            .map(|(t, _)| t.engine.remove_leftover_helpers()),
    )
    .await;
    reporter.finish();
    if args.engine.output == OutputFormat::Text {
        reporter.line(&summary(&results, &prepared.unreachable));
    }
    Ok(finish(results, prepared.unreachable))
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
