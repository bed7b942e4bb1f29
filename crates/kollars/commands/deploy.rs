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
    // here changes nothing the run did, and the next run's sweep names it
    futures_util::future::join_all(
        prepared
            .targets
            .iter()
            .map(|t| t.engine.remove_leftover_helpers()),
    )
    .await;
    let mut summary: BTreeMap<&'static str, usize> = BTreeMap::new();
    for (_, r) in &results {
        if let Ok(actions) = r {
            for (_, a) in actions {
                *summary.entry(a.name()).or_default() += 1;
            }
        }
    }
    reporter.finish();
    if args.engine.output == OutputFormat::Text {
        reporter.line(&format!(
            "{} host(s): {}",
            results.len(),
            summary
                .iter()
                .map(|(k, v)| format!("{v} {k}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(finish(results, prepared.unreachable))
}
