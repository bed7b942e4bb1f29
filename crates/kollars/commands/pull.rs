//! `kollars pull`: every selected service's image present on its hosts (pulled when missing,
//! with the registry credentials of `docker_registry_username`/`docker_registry_password`).

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
            target.engine.ensure_image(&c.main.image).await?;
        }
        Ok(())
    })
    .await;
    Ok(prepared.finish(results))
}
