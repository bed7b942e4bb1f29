//! `kollars runs` and `kollars runs show ID [--html FILE]`: the run history
//! ([`crate::history`]) read back. Reads only this workstation's records; contacts no engine.

use anyhow::{Context, Result};

use crate::cli::{OutputFormat, RunsAction, RunsArgs};
use crate::error::{BadInput, ExitStatus};
use crate::history::{self, utc, RunRecord};

/// `kollars runs [show ID]`.
pub fn runs(args: &RunsArgs) -> Result<ExitStatus> {
    let dir = history::dir()?;
    match &args.action {
        None => list(&dir, args.output),
        Some(RunsAction::Show(show)) => {
            let record = history::load(&dir, &show.id).map_err(|e| match e {
                e @ history::HistoryError::NotFound { .. } => BadInput::from_err(e),
                e => e.into(),
            })?;
            if let Some(path) = &show.html {
                let page = crate::html::page(&record);
                kollars_tree::replace_file(path, page.as_bytes(), 0o644)
                    .with_context(|| format!("writing {}", path.display()))?;
                crate::errln!("run {} written to {}", record.id, path.display());
            }
            match args.output {
                OutputFormat::Json => crate::outln!(
                    "{}",
                    serde_json::to_string(&record).expect("a record serializes")
                ),
                OutputFormat::Text => show_text(&record),
            }
            Ok(ExitStatus::Success)
        }
    }
}

fn failed_hosts(r: &RunRecord) -> usize {
    r.hosts.iter().filter(|h| h.outcome != "ok").count()
}

fn list(dir: &std::path::Path, output: OutputFormat) -> Result<ExitStatus> {
    let ids = history::ids(dir)?;
    if ids.is_empty() && output == OutputFormat::Text {
        crate::errln!(
            "no runs recorded in {} yet (deploy, reconfigure, restart, pull, stop and destroy are)",
            dir.display()
        );
    }
    for id in ids {
        let r = match history::load(dir, &id) {
            Ok(r) => r,
            Err(e) => {
                crate::errln!("warning: {e:#}");
                continue;
            }
        };
        match output {
            OutputFormat::Json => crate::outln!(
                "{}",
                serde_json::json!({
                    "id": r.id, "command": r.command, "started_ms": r.started_ms,
                    "duration_ms": r.duration_ms, "exit_code": r.exit_code,
                    "hosts": r.hosts.len(), "failed_hosts": failed_hosts(&r),
                    "steps": r.steps.len(), "inputs_digest": r.inputs_digest,
                })
            ),
            OutputFormat::Text => crate::outln!(
                "{:<26} {:<12} {}  {:>8.1} s  exit {}  {} host(s), {} failed, {} step(s)",
                r.id,
                r.command,
                utc(r.started_ms),
                r.duration_ms as f64 / 1000.0,
                r.exit_code,
                r.hosts.len(),
                failed_hosts(&r),
                r.steps.len()
            ),
        }
    }
    Ok(ExitStatus::Success)
}

fn show_text(r: &RunRecord) {
    crate::outln!(
        "run {}: kollars {} at {} UTC, {:.1} s, exit {}",
        r.id,
        r.command,
        utc(r.started_ms),
        r.duration_ms as f64 / 1000.0,
        r.exit_code
    );
    crate::outln!("command line: {}", r.args.join(" "));
    crate::outln!("inputs digest: {}", r.inputs_digest);
    for h in &r.hosts {
        match &h.reason {
            Some(why) => crate::outln!("host {}: {}: {why}", h.name, h.outcome),
            None => crate::outln!("host {}: {}", h.name, h.outcome),
        }
    }
    let critical = history::critical_path(r);
    if !critical.is_empty() {
        crate::outln!("critical path: {}", critical.join(" -> "));
    }
    let mut steps: Vec<_> = r.steps.iter().collect();
    steps.sort_by_key(|s| std::cmp::Reverse(s.duration_ms()));
    crate::outln!("steps, slowest first:");
    for s in steps {
        crate::outln!(
            "{:>8.3} s  {:<12} {:<28} {:<12} {}{}",
            s.duration_ms() as f64 / 1000.0,
            s.host,
            s.subject,
            s.step,
            s.outcome,
            s.reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        );
    }
}
