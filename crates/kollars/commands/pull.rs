//! `kollars pull`: every selected service's image pulled on its hosts, as kolla's `pull`
//! action does (always, not only when missing: a tag moved in the registry is what an
//! operator pulls for, and the next `deploy` recreates the containers whose image changed),
//! with the registry credentials of `docker_registry_username`/`docker_registry_password`.

use anyhow::Result;

use crate::cli::EngineArgs;
use crate::commands::prepare::{for_hosts, prepare, Needs};
use crate::error::ExitStatus;
use crate::recorder::RunInfo;
use crate::reporter::CliReporter;

/// `kollars pull`.
pub async fn pull(args: &EngineArgs, run: RunInfo) -> Result<ExitStatus> {
    let reporter = CliReporter::recording(args.output, run);
    let prepared = prepare(args, reporter, Needs::CHANGE).await?;
    let results = for_hosts(&prepared.targets, args.forks, |target| async move {
        for c in target.containers.values() {
            target.engine.pull_image(&c.main.image).await?;
        }
        Ok(())
    })
    .await;
    Ok(prepared.finish(results))
}
