//! Commands kolla runs in a service's own container and retries until they succeed: a
//! clustered member's readiness before the next one starts (RabbitMQ's `rabbitmqctl wait`),
//! or a task delegated to one host that needs its peers up (keystone's fernet key push to the
//! other hosts' `keystone_ssh`, which answer a moment after they start).
//!
//! They name no secret: whatever they need is in the container's own config files.

use std::time::{Duration, Instant};

use kollars_docker::{Engine, ExecRequest};

use crate::TaskError;

/// Runs `command` in `container` until it exits 0, for up to `timeout`; the last failure's
/// output is the error.
pub async fn until_ok(
    engine: &Engine,
    container: &str,
    command: &[String],
    timeout: Duration,
) -> Result<(), TaskError> {
    let task = format!("{} in {container}", command.join(" "));
    let req = ExecRequest::new(command.iter().map(String::as_str));
    let start = Instant::now();
    loop {
        let last = match engine.exec(container, &req).await {
            Ok(out) if out.exit_code == 0 => return Ok(()),
            Ok(out) => {
                let text = if out.stderr.trim().is_empty() {
                    &out.stdout
                } else {
                    &out.stderr
                };
                format!(
                    "exit {}: {}",
                    out.exit_code,
                    text.lines().last().unwrap_or_default()
                )
            }
            Err(source) if start.elapsed() >= timeout => {
                return Err(TaskError::Engine { task, source })
            }
            Err(e) => e.to_string(),
        };
        if start.elapsed() >= timeout {
            return Err(TaskError::Answer {
                task: format!("{task} (gave up after {}s)", timeout.as_secs()),
                answer: last,
            });
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
