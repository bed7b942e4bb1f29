//! `kollars rabbitmq-reset-state`: kolla-ansible's `rabbitmq-reset-state`, which throws away
//! RabbitMQ's state (queues, exchanges, cluster membership) when a cluster will not recover:
//! `rabbitmqctl stop_app` on every member, then `rabbitmqctl force_reset` on every member,
//! then `rabbitmqctl start_app` on each in inventory order, one at a time, each member
//! answering `rabbitmqctl wait` before the next starts. Every command runs in the member's
//! `rabbitmq` container through its engine; a member whose container is not running fails
//! before any member is touched. `--plan` lists the commands and runs none.

use anyhow::{bail, Result};
use kollars_docker::{ExecRequest, Step};

use crate::cli::PlanningArgs;
use crate::commands::prepare::{for_hosts, prepare, HostTarget, Needs};
use crate::error::ExitStatus;
use crate::recorder::RunInfo;
use crate::reporter::CliReporter;

/// The container every member runs.
const CONTAINER: &str = "rabbitmq";

/// The three phases, in order; the last is run host after host.
const PHASES: [&str; 3] = ["stop_app", "force_reset", "start_app"];

fn is_member(t: &HostTarget) -> bool {
    t.containers.values().any(|c| c.main.name == CONTAINER)
}

/// `rabbitmqctl ARGS` in the member's container, reported as a task step.
async fn rabbitmqctl(target: &HostTarget, args: &[&str]) -> Result<()> {
    let mut cmd = vec!["rabbitmqctl".to_owned()];
    cmd.extend(args.iter().map(|a| a.to_string()));
    let req = ExecRequest {
        cmd,
        stdin: None,
        user: None,
    };
    target.engine.exec_ok(CONTAINER, &req).await?;
    target.engine.report_done(
        CONTAINER,
        Step::Task,
        format!("rabbitmqctl {}", args.join(" ")),
    );
    Ok(())
}

/// `kollars rabbitmq-reset-state`.
pub async fn rabbitmq_reset_state(args: &PlanningArgs, run: RunInfo) -> Result<ExitStatus> {
    let reporter = match args.plan {
        true => CliReporter::new(args.engine.output),
        false => CliReporter::recording(args.engine.output, run),
    };
    let needs = if args.plan {
        Needs::READ
    } else {
        Needs::CHANGE
    };
    let prepared = prepare(&args.engine, reporter, needs).await?;
    let members: Vec<&HostTarget> = prepared.targets.iter().filter(|t| is_member(t)).collect();
    if members.is_empty() {
        bail!(crate::error::BadInput::new(
            "rabbitmq-reset-state: no selected host runs rabbitmq (group rabbitmq, -t, -l)"
        ));
    }
    if args.plan {
        for phase in PHASES {
            for m in &members {
                crate::outln!("{:<12} rabbitmqctl {phase}", m.host());
            }
        }
        return Ok(prepared.finish(Vec::<(String, Result<()>)>::new()));
    }
    // every member's container runs, or nothing is touched
    let running = for_hosts(&prepared.targets, args.engine.forks, |t| async move {
        if !is_member(t) {
            return Ok(());
        }
        match t.engine.inspect(CONTAINER).await? {
            Some(c) if c.state.as_ref().and_then(|s| s.running) == Some(true) => Ok(()),
            _ => bail!("container `{CONTAINER}` is not running: start it (kollars deploy) first"),
        }
    })
    .await;
    if running.iter().any(|(_, r)| r.is_err()) {
        return Ok(prepared.finish(running));
    }
    let mut results: Vec<(String, Result<()>)> = Vec::new();
    let mut failed = std::collections::BTreeSet::new();
    for phase in &PHASES[..2] {
        let done = for_hosts(&prepared.targets, args.engine.forks, |t| async move {
            match is_member(t) {
                false => Ok(()),
                true => rabbitmqctl(t, &[phase]).await,
            }
        })
        .await;
        for (host, r) in done {
            if let Err(e) = r {
                failed.insert(host.clone());
                results.push((host, Err(e)));
            }
        }
        if !failed.is_empty() {
            return Ok(prepared.finish(results));
        }
    }
    for m in &members {
        let r = async {
            let pid_file = prepared.ws.host_text(m.host(), "rabbitmq_pid_file")?;
            rabbitmqctl(m, &["start_app"]).await?;
            rabbitmqctl(m, &["wait", "--timeout", "60", &pid_file]).await
        }
        .await;
        let bad = r.is_err();
        results.push((m.host().to_owned(), r));
        if bad {
            break;
        }
    }
    Ok(prepared.finish(results))
}
