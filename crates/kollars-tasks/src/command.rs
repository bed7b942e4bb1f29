//! Commands kolla runs in a service's own container and retries until they succeed: a
//! clustered member's readiness before the next one starts (RabbitMQ's `rabbitmqctl wait`),
//! or a task delegated to one host that needs its peers up (keystone's fernet key push to the
//! other hosts' `keystone_ssh`, which answer a moment after they start).
//!
//! They name no secret: whatever they need is in the container's own config files.

use std::time::{Duration, Instant};

use kollars_docker::{Engine, ExecOutput, ExecRequest};

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
    poll(engine, container, &req, &task, timeout, |out| {
        if out.exit_code == 0 {
            return Ok(());
        }
        let text = if out.stderr.trim().is_empty() {
            &out.stdout
        } else {
            &out.stderr
        };
        Err(format!(
            "exit {}: {}",
            out.exit_code,
            text.lines().last().unwrap_or_default()
        ))
    })
    .await
}

/// Runs `req` in `container` once a second until `done` accepts its output (`Ok`), for up to
/// `timeout`. `done` says why not otherwise; the last of those reasons (or the engine's last
/// error) is the error: the one loop behind every wait of the tasks (a member ready, a
/// server answering, a Galera member `Synced`).
pub(crate) async fn poll(
    engine: &Engine,
    container: &str,
    req: &ExecRequest,
    task: &str,
    timeout: Duration,
    done: impl Fn(&ExecOutput) -> Result<(), String>,
) -> Result<(), TaskError> {
    let start = Instant::now();
    loop {
        let last = match engine.exec(container, req).await {
            Ok(out) => match done(&out) {
                Ok(()) => return Ok(()),
                Err(why) => why,
            },
            Err(source) if start.elapsed() >= timeout => {
                return Err(TaskError::Engine {
                    task: task.to_owned(),
                    source,
                })
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
