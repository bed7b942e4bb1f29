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
    // here changes nothing the run did, and the next run's sweep names it
    join_all(
        prepared
            .targets
            .iter()
            .map(|t| t.engine.remove_leftover_helpers()),
    )
    .await;
    let mut summary: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut plan = Vec::new();
    for (host, r) in &results {
        if let Ok(actions) = r {
            for (service, a) in actions {
                *summary.entry(a.name()).or_default() += 1;
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
