//! `kollars check`: every expected container exists, runs and is not unhealthy (a container
//! whose first healthcheck has not run yet counts as ok, as in kolla-ansible).

use anyhow::Result;

use crate::cli::{EngineArgs, OutputFormat};
use crate::commands::prepare::{for_hosts, prepare, Needs};
use crate::error::ExitStatus;
use crate::reporter::CliReporter;

/// `kollars check`: exit 1 when any container is not ok.
pub async fn check(args: &EngineArgs) -> Result<ExitStatus> {
    let reporter = CliReporter::new(args.output);
    let prepared = prepare(args, reporter, Needs::READ).await?;
    let results = for_hosts(&prepared.targets, args.forks, |target| async move {
        Ok(target.engine.check(&target.container_names()).await?)
    })
    .await;
    let mut bad = 0;
    for (host, r) in &results {
        let Ok(checks) = r else { continue };
        for c in checks {
            let ok = c.status.is_ok();
            if !ok {
                bad += 1;
            }
            match args.output {
                OutputFormat::Json => crate::outln!(
                    "{}",
                    serde_json::json!({"host": host, "container": c.name, "ok": ok, "status": format!("{:?}", c.status)})
                ),
                OutputFormat::Text => crate::outln!(
                    "{host:<12} {:<28} {}",
                    c.name,
                    if ok {
                        "ok".to_string()
                    } else {
                        format!("{:?}", c.status)
                    }
                ),
            }
        }
    }
    let status = prepared.finish(results);
    if status == ExitStatus::Success && bad > 0 {
        return Ok(ExitStatus::Failure);
    }
    Ok(status)
}
