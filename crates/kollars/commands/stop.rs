//! `kollars stop` and `kollars destroy`: the only commands that take containers away, so both
//! want `--yes-i-really-really-mean-it`, as kolla-ansible's do.

use anyhow::{bail, Result};

use crate::cli::DangerArgs;
use crate::commands::prepare::{for_hosts, prepare, Needs};
use crate::error::{BadInput, ExitStatus};
use crate::recorder::RunInfo;
use crate::reporter::CliReporter;

/// Stop every selected container (last service first), or, with `destroy`, stop and remove
/// every kollars-managed container of the selected hosts.
pub async fn stop(args: &DangerArgs, destroy: bool, run: RunInfo) -> Result<ExitStatus> {
    if !args.confirmed {
        bail!(BadInput::new(format!(
            "{} needs --yes-i-really-really-mean-it",
            if destroy { "destroy" } else { "stop" }
        )));
    }
    let reporter = CliReporter::recording(args.engine.output, run);
    let prepared = prepare(&args.engine, reporter, Needs::CHANGE).await?;
    let results = for_hosts(&prepared.targets, args.engine.forks, |target| async move {
        let engine = &target.engine;
        if destroy {
            for c in engine.list_managed().await? {
                engine.stop_and_remove(&c.name, None).await?;
            }
        } else {
            for name in target.container_names().into_iter().rev() {
                if engine.inspect(name).await?.is_some() {
                    engine.stop(name, None, true).await?;
                }
            }
        }
        Ok(())
    })
    .await;
    Ok(prepared.finish(results))
}
