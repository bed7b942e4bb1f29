//! A finished run made into its record ([`crate::history::RunRecord`]): the reporter's
//! events paired into steps, each step given its project (from the hosts' containers), every
//! host's outcome, the command line, the inputs' digest; every text masked with the inputs'
//! masker, since the record outlives the run on the workstation.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::prepare::HostTarget;
use crate::error::ExitStatus;
use crate::history::{DiffRecord, HostRecord, PlanItem, RunRecord};
use crate::recorder::RunInfo;
use crate::reporter::CliReporter;
use crate::workspace::Workspace;

/// What a command adds to its record beyond the steps (deploy: its decisions, its diffs with
/// `--report`, the project graph).
#[derive(Debug, Default)]
pub struct Extra {
    /// Decisions (reasons unmasked: masked here).
    pub plan: Vec<PlanItem>,
    /// Config diffs (unmasked: masked here).
    pub diffs: Vec<DiffRecord>,
    /// Projects with the projects they wait for.
    pub graph: Vec<(String, Vec<String>)>,
}

/// How each host ended: (host, error) of the hosts acted on, and of those unreachable.
pub struct Outcomes {
    /// The hosts acted on, with their error when they failed.
    pub hosts: Vec<(String, Option<String>)>,
    /// Hosts whose engine did not answer, with the error.
    pub unreachable: Vec<(String, String)>,
}

/// The record of a finished run.
pub fn build(
    run: &RunInfo,
    reporter: &CliReporter,
    ws: &Workspace,
    targets: &[HostTarget],
    status: ExitStatus,
    outcomes: Outcomes,
    extra: Extra,
) -> RunRecord {
    let masker = ws.config.masker();
    let mut projects: HashMap<(&str, &str), &str> = HashMap::new();
    let mut digest = Sha256::new();
    for t in targets {
        for svc in &t.rendered.services {
            digest.update(format!("{}\0{}\0{}\n", t.host(), svc.name, svc.hash));
            let Some(c) = t.containers.get(&svc.name) else {
                continue;
            };
            projects.insert((t.host(), c.main.name.as_str()), svc.project.as_str());
            projects.insert((t.host(), c.main.image.as_str()), svc.project.as_str());
            for b in &c.bootstrap {
                projects.insert((t.host(), b.name.as_str()), svc.project.as_str());
            }
        }
    }
    let steps = reporter.recorder().steps(&masker, |host, subject| {
        projects.get(&(host, subject)).map(|p| (*p).to_owned())
    });
    let mut hosts: Vec<HostRecord> = outcomes
        .hosts
        .into_iter()
        .map(|(name, err)| HostRecord {
            name,
            outcome: if err.is_some() { "failed" } else { "ok" }.into(),
            reason: err.map(|e| masker.mask(&e)),
        })
        .collect();
    hosts.extend(
        outcomes
            .unreachable
            .into_iter()
            .map(|(name, e)| HostRecord {
                name,
                outcome: "unreachable".into(),
                reason: Some(masker.mask(&e)),
            }),
    );
    let started_ms = reporter.recorder().started_ms();
    RunRecord {
        id: crate::history::new_id(started_ms),
        command: run.command.to_owned(),
        args: run.argv.iter().map(|a| masker.mask(a)).collect(),
        started_ms,
        duration_ms: reporter.recorder().elapsed_ms(),
        exit_code: status as u8,
        inputs_digest: format!("sha256:{:x}", digest.finalize()),
        hosts,
        steps,
        plan: extra
            .plan
            .into_iter()
            .map(|p| PlanItem {
                reason: masker.mask(&p.reason),
                ..p
            })
            .collect(),
        diffs: extra
            .diffs
            .into_iter()
            .map(|d| DiffRecord {
                diff: masker.mask_diff(&d.diff),
                ..d
            })
            .collect(),
        graph: extra.graph,
    }
}
