//! `kollars restart SERVICE…`: restart the named services' containers on every selected
//! host, whatever their state of change (kolla-ansible has no such command; operators use
//! `docker restart` host by host).

use anyhow::Result;

use crate::cli::RestartArgs;
use crate::commands::prepare::{for_hosts, prepare, Needs};
use crate::error::ExitStatus;
use crate::recorder::RunInfo;
use crate::reporter::CliReporter;

/// `kollars restart SERVICE…`: a name is a service (`nova-api`), a project (`nova`) or a
/// container (`nova_api`).
pub async fn restart(args: &RestartArgs, run: RunInfo) -> Result<ExitStatus> {
    let mut engine = args.engine.clone();
    engine.input.tags.extend(args.services.iter().cloned());
    let reporter = CliReporter::recording(engine.output, run);
    let prepared = prepare(&engine, reporter, Needs::CHANGE).await?;
    let wanted: Vec<String> = args.services.iter().map(|s| s.replace('_', "-")).collect();
    let wanted = &wanted;
    let results = for_hosts(&prepared.targets, engine.forks, |target| async move {
        for svc in &target.rendered.services {
            let Some(c) = target.containers.get(&svc.name) else {
                continue;
            };
            let container = &c.main.name;
            if wanted
                .iter()
                .any(|w| *w == svc.name || *w == svc.project || *w == container.replace('_', "-"))
            {
                target.engine.restart_reported(container, None).await?;
            }
        }
        Ok(())
    })
    .await;
    Ok(prepared.finish(results))
}
