//! `kollars ps`: every kollars-managed container of the selected hosts, per host — its state,
//! health, image, the engine's status (uptime) and whether the config it runs is the one the
//! inputs render now (`current`) or not (`stale`: a reconfigure would restart it). Reads only.

use anyhow::Result;
use futures_util::future::join;

use crate::cli::{EngineArgs, OutputFormat};
use crate::commands::prepare::{for_hosts, prepare, Needs};
use crate::error::ExitStatus;
use crate::reporter::CliReporter;

/// One row of `ps`.
struct Row {
    name: String,
    state: String,
    health: &'static str,
    image: String,
    status: String,
    config: &'static str,
}

/// The health in the engine's status text (`Up 3 minutes (healthy)`).
fn health(status: &str) -> &'static str {
    if status.contains("(unhealthy)") {
        "unhealthy"
    } else if status.contains("(healthy)") {
        "healthy"
    } else if status.contains("health: starting") {
        "starting"
    } else {
        "-"
    }
}

/// `kollars ps`.
pub async fn ps(args: &EngineArgs) -> Result<ExitStatus> {
    let reporter = CliReporter::new(args.output);
    let prepared = prepare(args, reporter, Needs::READ).await?;
    let results = for_hosts(&prepared.targets, args.forks, |target| async move {
        let (listed, survey) = join(target.engine.list_managed(), target.engine.survey()).await;
        let survey = survey?;
        let mut rows = Vec::new();
        for c in listed? {
            // the rendered config of the service whose container this is, if selected
            let wanted = target.rendered.services.iter().find(|s| {
                target
                    .containers
                    .get(&s.name)
                    .is_some_and(|k| k.main.name == c.name)
            });
            let applied = survey
                .container(&c.name)
                .and_then(|s| survey.applied_config(s));
            let config = match (wanted, applied) {
                (None, _) => "-",
                (Some(s), Some(a)) if a == s.hash => "current",
                (Some(_), _) => "stale",
            };
            rows.push(Row {
                health: health(&c.status),
                name: c.name,
                state: c.state,
                image: c.image,
                status: c.status,
                config,
            });
        }
        Ok(rows)
    })
    .await;
    if args.output == OutputFormat::Text {
        crate::outln!(
            "{:<12} {:<28} {:<10} {:<10} {:<8} {:<40} STATUS",
            "HOST",
            "CONTAINER",
            "STATE",
            "HEALTH",
            "CONFIG",
            "IMAGE"
        );
    }
    for (host, r) in &results {
        let Ok(rows) = r else { continue };
        for row in rows {
            match args.output {
                OutputFormat::Json => crate::outln!(
                    "{}",
                    serde_json::json!({"host": host, "container": row.name, "state": row.state,
                        "health": row.health, "image": row.image, "status": row.status,
                        "config": row.config})
                ),
                OutputFormat::Text => crate::outln!(
                    "{host:<12} {:<28} {:<10} {:<10} {:<8} {:<40} {}",
                    row.name,
                    row.state,
                    row.health,
                    row.config,
                    row.image,
                    row.status
                ),
            }
        }
    }
    Ok(prepared.finish(results))
}

#[cfg(test)]
mod tests {
    #[test]
    fn health_is_read_from_the_status() {
        assert_eq!(super::health("Up 3 minutes (healthy)"), "healthy");
        assert_eq!(super::health("Up 3 seconds (health: starting)"), "starting");
        assert_eq!(super::health("Up 1 hour (unhealthy)"), "unhealthy");
        assert_eq!(super::health("Exited (0) 2 minutes ago"), "-");
    }
}
