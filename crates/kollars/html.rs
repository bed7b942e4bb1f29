//! A run's record as one self-contained HTML page (`kollars runs show ID --html FILE`,
//! `deploy --report FILE`): inline CSS, SVG and a few lines of JS, nothing fetched, so it
//! opens anywhere and can be attached to a ticket.
//!
//! It shows the run's summary and hosts, a Gantt timeline per host (a row per step, bars on
//! the run's clock, failed steps red, the steps of the critical path through the project
//! graph outlined), the project graph with that path, failures and their reasons, the plan
//! and its diffs, and every step slowest first. Everything in the record is already masked
//! ([`crate::history`]); here it is only escaped.

use std::fmt::Write;

use crate::graph::esc;
use crate::history::{critical_path, utc, RunRecord, StepRecord};

const STYLE: &str = "body{font-family:sans-serif;margin:1.5em;color:#222}\
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}\
table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ddd;padding:2px 8px;text-align:left}\
th{background:#f3f3f3}.failed,.unreachable{color:#b00020;font-weight:bold}.ok{color:#1b7a1b}\
pre{background:#f7f7f7;padding:8px;overflow:auto;font-size:.85em}\
svg.gantt text{font-size:11px}svg.gantt .bar.ok{fill:#4a90d9}svg.gantt .bar.failed{fill:#d62728}\
svg.gantt .bar.unfinished{fill:#aaa}svg.gantt .critical .bar{stroke:#ff7f0e;stroke-width:2.5}\
.legend span{display:inline-block;margin-right:1.2em}.legend i{display:inline-block;width:14px;height:10px;margin-right:4px}\
.hide-ok tr.step-ok{display:none}";

const SCRIPT: &str = "document.getElementById('only-failed').addEventListener('change',\
function(e){document.getElementById('steps').classList.toggle('hide-ok',e.target.checked)});";

/// The page of `record`.
pub fn page(record: &RunRecord) -> String {
    let critical = critical_path(record);
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>kollars {} {}</title><style>{STYLE}</style></head><body>\n",
        esc(&record.command),
        esc(&record.id)
    );
    summary(&mut out, record, &critical);
    out.push_str("<h2>Timeline</h2>\n<p class=\"legend\"><span><i style=\"background:#4a90d9\"></i>ok</span>\
        <span><i style=\"background:#d62728\"></i>failed</span><span><i style=\"background:#aaa\"></i>unfinished</span>\
        <span><i style=\"border:2px solid #ff7f0e\"></i>critical path</span></p>\n");
    for host in &record.hosts {
        let steps: Vec<&StepRecord> = record
            .steps
            .iter()
            .filter(|s| s.host == host.name)
            .collect();
        let _ = writeln!(
            out,
            "<h3 class=\"host\" data-host=\"{0}\">{0} <span class=\"{1}\">{1}</span></h3>",
            esc(&host.name),
            esc(&host.outcome)
        );
        gantt(&mut out, &host.name, &steps, record.duration_ms, &critical);
    }
    if !record.graph.is_empty() {
        out.push_str("<h2>Project graph</h2>\n");
        out.push_str(&crate::graph::svg(&record.graph, &critical));
    }
    failures(&mut out, record);
    plan(&mut out, record);
    slowest(&mut out, record, &critical);
    let _ = write!(out, "<script>{SCRIPT}</script>\n</body></html>\n");
    out
}

fn summary(out: &mut String, r: &RunRecord, critical: &[String]) {
    let failed = r.hosts.iter().filter(|h| h.outcome != "ok").count();
    let _ = writeln!(
        out,
        "<h1>kollars {} — run {}</h1>\n<table class=\"summary\">\
         <tr><th>started (UTC)</th><td>{}</td></tr><tr><th>duration</th><td>{}</td></tr>\
         <tr><th>exit code</th><td class=\"{}\">{}</td></tr><tr><th>hosts</th><td>{} ({} failed)</td></tr>\
         <tr><th>steps</th><td>{}</td></tr><tr><th>inputs digest</th><td><code>{}</code></td></tr>\
         <tr><th>command line</th><td><code>{}</code></td></tr><tr><th>critical path</th><td>{}</td></tr></table>",
        esc(&r.command),
        esc(&r.id),
        utc(r.started_ms),
        secs(r.duration_ms),
        if r.exit_code == 0 { "ok" } else { "failed" },
        r.exit_code,
        r.hosts.len(),
        failed,
        r.steps.len(),
        esc(&r.inputs_digest),
        esc(&r.args.join(" ")),
        match critical.is_empty() {
            true => "— (deploy and reconfigure follow the project graph)".to_owned(),
            false => esc(&critical.join(" → ")),
        }
    );
}

fn secs(ms: u64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

const LABEL: usize = 260;
const ROW: usize = 18;
const BAR_W: usize = 700;

fn gantt(out: &mut String, host: &str, steps: &[&StepRecord], total: u64, critical: &[String]) {
    if steps.is_empty() {
        out.push_str("<p>no steps</p>\n");
        return;
    }
    let total = total
        .max(steps.iter().map(|s| s.end_ms).max().unwrap_or(0))
        .max(1);
    let x = |ms: u64| LABEL as f64 + ms as f64 * BAR_W as f64 / total as f64;
    let height = (steps.len() + 1) * ROW + 10;
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"gantt\" data-host=\"{}\" width=\"{}\" height=\"{height}\" font-family=\"sans-serif\">",
        esc(host),
        LABEL + BAR_W + 20
    );
    // the axis: a tick per tenth of the run
    for i in 0..=10 {
        let ms = total * i / 10;
        let tx = x(ms);
        let _ = writeln!(
            out,
            "<line x1=\"{tx:.1}\" y1=\"0\" x2=\"{tx:.1}\" y2=\"{}\" stroke=\"#eee\"/>\
             <text x=\"{tx:.1}\" y=\"{}\" text-anchor=\"middle\" fill=\"#777\">{}</text>",
            height - 12,
            height - 2,
            secs(ms)
        );
    }
    for (i, s) in steps.iter().enumerate() {
        let y = i * ROW + 4;
        let hl = s.project.as_ref().is_some_and(|p| critical.contains(p));
        let (x1, x2) = (x(s.start_ms), x(s.end_ms));
        let _ = writeln!(
            out,
            "<g class=\"step {}{}\" data-subject=\"{}\" data-step=\"{}\"><title>{} {} on {}: {} ({}){}</title>\
             <text x=\"4\" y=\"{}\">{} {}</text>\
             <rect class=\"bar {}\" x=\"{x1:.1}\" y=\"{y}\" width=\"{:.1}\" height=\"{}\" rx=\"2\"/></g>",
            esc(&s.outcome),
            if hl { " critical" } else { "" },
            esc(&s.subject),
            esc(&s.step),
            esc(&s.subject),
            esc(&s.step),
            esc(host),
            esc(&s.outcome),
            secs(s.duration_ms()),
            s.reason
                .as_deref()
                .map(|r| format!(": {}", esc(r)))
                .unwrap_or_default(),
            y + ROW - 6,
            esc(&short(&s.subject)),
            esc(&s.step),
            esc(&s.outcome),
            (x2 - x1).max(2.0),
            ROW - 4
        );
    }
    out.push_str("</svg>\n");
}

/// A long subject (a directory path) cut from the left to fit the label column.
fn short(s: &str) -> String {
    let n = s.chars().count();
    match n > 30 {
        true => format!("…{}", s.chars().skip(n - 29).collect::<String>()),
        false => s.to_owned(),
    }
}

fn failures(out: &mut String, r: &RunRecord) {
    out.push_str("<h2>Failures</h2>\n");
    let hosts: Vec<_> = r.hosts.iter().filter(|h| h.outcome != "ok").collect();
    let steps: Vec<_> = r.steps.iter().filter(|s| s.outcome != "ok").collect();
    if hosts.is_empty() && steps.is_empty() {
        out.push_str("<p class=\"ok\">none</p>\n");
        return;
    }
    out.push_str("<ul class=\"failures\">\n");
    for h in hosts {
        let _ = writeln!(
            out,
            "<li><span class=\"{0}\">host {1} {0}</span>: {2}</li>",
            esc(&h.outcome),
            esc(&h.name),
            esc(h.reason.as_deref().unwrap_or(""))
        );
    }
    for s in steps {
        let _ = writeln!(
            out,
            "<li><span class=\"failed\">{} {} on {} {}</span>: {}</li>",
            esc(&s.subject),
            esc(&s.step),
            esc(&s.host),
            esc(&s.outcome),
            esc(s.reason.as_deref().unwrap_or(""))
        );
    }
    out.push_str("</ul>\n");
}

fn plan(out: &mut String, r: &RunRecord) {
    if r.plan.is_empty() && r.diffs.is_empty() {
        return;
    }
    out.push_str("<h2>Plan</h2>\n<table class=\"plan\"><tr><th>host</th><th>service</th><th>action</th><th>why</th></tr>\n");
    for p in r.plan.iter().filter(|p| p.action != "nothing") {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&p.host),
            esc(&p.service),
            esc(&p.action),
            esc(&p.reason)
        );
    }
    out.push_str("</table>\n");
    for d in &r.diffs {
        let _ = writeln!(
            out,
            "<h3>{} {}</h3><pre class=\"diff\">{}</pre>",
            esc(&d.host),
            esc(&d.service),
            esc(&d.diff)
        );
    }
}

fn slowest(out: &mut String, r: &RunRecord, critical: &[String]) {
    let mut steps: Vec<&StepRecord> = r.steps.iter().collect();
    steps.sort_by_key(|s| std::cmp::Reverse(s.duration_ms()));
    out.push_str(
        "<h2>Steps, slowest first</h2>\n<label><input type=\"checkbox\" id=\"only-failed\"> only steps that did not succeed</label>\n\
         <table id=\"steps\"><tr><th>host</th><th>subject</th><th>project</th><th>step</th><th>start</th><th>duration</th><th>outcome</th><th>reason</th></tr>\n",
    );
    for s in steps {
        let project = s.project.as_deref().unwrap_or("");
        let _ = writeln!(
            out,
            "<tr class=\"step-{}\"><td>{}</td><td>{}</td><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td></tr>",
            esc(&s.outcome),
            esc(&s.host),
            esc(&s.subject),
            esc(project),
            if critical.iter().any(|c| c == project) { " ★" } else { "" },
            esc(&s.step),
            secs(s.start_ms),
            secs(s.duration_ms()),
            esc(&s.outcome),
            esc(&s.outcome),
            esc(s.reason.as_deref().unwrap_or(""))
        );
    }
    out.push_str("</table>\n");
}

#[cfg(test)]
mod tests {
    use crate::history::{HostRecord, RunRecord, StepRecord};

    #[test]
    fn every_text_from_the_run_is_escaped() {
        let evil = "<script>alert(1)</script>";
        let record = RunRecord {
            id: "20261203T000000Z-1".into(),
            command: "deploy".into(),
            args: vec![evil.into()],
            started_ms: 0,
            duration_ms: 1000,
            exit_code: 3,
            inputs_digest: "sha256:0".into(),
            hosts: vec![HostRecord {
                name: "node1".into(),
                outcome: "failed".into(),
                reason: Some(evil.into()),
            }],
            steps: vec![StepRecord {
                host: "node1".into(),
                subject: evil.into(),
                project: None,
                step: "start".into(),
                start_ms: 10,
                end_ms: 900,
                outcome: "failed".into(),
                reason: Some(evil.into()),
            }],
            plan: vec![],
            diffs: vec![],
            graph: vec![],
        };
        let page = super::page(&record);
        assert!(!page.contains(evil), "unescaped");
        assert!(page.contains("&lt;script&gt;"));
        // only our own script
        assert_eq!(page.matches("<script>").count(), 1);
        assert!(page.contains("<g class=\"step failed\""));
    }
}
