//! The run's events with their times, kept for its record ([`crate::history`]).
//!
//! The driver reports every step's start and end ([`kollars_docker::Event`]); the reporter
//! hands each one here with the moment it arrived, and at the end of the run they are paired
//! into steps: start, end, outcome, reason. Nothing is masked here: the record's builder
//! masks every text it keeps ([`Recorder::steps`] takes the masker).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use kollars_docker::{Event, Phase};
use kollars_inputs::Masker;

use crate::history::StepRecord;

/// The command a run record is for, and its command line.
#[derive(Debug, Clone)]
pub struct RunInfo {
    /// The verb.
    pub command: &'static str,
    /// The arguments, program name first (masked when recorded).
    pub argv: Vec<String>,
}

/// Events with their arrival time since the run's start.
#[derive(Debug)]
pub struct Recorder {
    start: Instant,
    started_ms: u64,
    events: Mutex<Vec<(u64, Event)>>,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder::new()
    }
}

impl Recorder {
    /// A recorder whose clock starts now.
    pub fn new() -> Recorder {
        let started_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or_default();
        Recorder {
            start: Instant::now(),
            started_ms,
            events: Mutex::new(Vec::new()),
        }
    }

    /// When the run started, milliseconds since the epoch.
    pub fn started_ms(&self) -> u64 {
        self.started_ms
    }

    /// Milliseconds since the run started.
    pub fn elapsed_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// Keeps `e` (progress lines are not kept: only starts and ends make steps).
    pub fn push(&self, e: &Event) {
        if matches!(e.phase, Phase::Progress { .. }) {
            return;
        }
        let at = self.elapsed_ms();
        if let Ok(mut events) = self.events.lock() {
            events.push((at, e.clone()));
        }
    }

    /// The steps: each start paired with its end (a step that never ended is `unfinished`,
    /// ending when the run did; a step reported only when done, a registration, takes no
    /// time), in the order they began, reasons masked; `project` names the project of a
    /// (host, subject).
    pub fn steps(
        &self,
        masker: &Masker,
        project: impl Fn(&str, &str) -> Option<String>,
    ) -> Vec<StepRecord> {
        let events = self.events.lock().map(|e| e.clone()).unwrap_or_default();
        let now = self.elapsed_ms();
        let mut out: Vec<StepRecord> = Vec::new();
        let mut open: HashMap<(String, String, String), Vec<usize>> = HashMap::new();
        for (at, e) in events {
            let step = serde_json::to_value(e.step)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            let key = (e.host.clone(), e.subject.clone(), step.clone());
            let (outcome, reason) = match &e.phase {
                Phase::Started => {
                    open.entry(key).or_default().push(out.len());
                    out.push(StepRecord {
                        project: project(&e.host, &e.subject),
                        host: e.host,
                        subject: e.subject,
                        step,
                        start_ms: at,
                        end_ms: now,
                        outcome: "unfinished".into(),
                        reason: None,
                    });
                    continue;
                }
                Phase::Progress { .. } => continue,
                Phase::Finished => ("ok", e.detail.as_deref().map(|d| masker.mask(d))),
                Phase::Failed { error } => ("failed", Some(masker.mask(error))),
            };
            let i = match open.get_mut(&key).and_then(|v| v.pop()) {
                Some(i) => i,
                None => {
                    out.push(StepRecord {
                        project: project(&e.host, &e.subject),
                        host: e.host,
                        subject: e.subject,
                        step,
                        start_ms: at,
                        end_ms: at,
                        outcome: String::new(),
                        reason: None,
                    });
                    out.len() - 1
                }
            };
            out[i].end_ms = at;
            out[i].outcome = outcome.into();
            out[i].reason = reason;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kollars_docker::Step;

    fn ev(subject: &str, step: Step, phase: Phase) -> Event {
        Event {
            host: "node1".into(),
            subject: subject.into(),
            step,
            phase,
            detail: None,
        }
    }

    #[test]
    fn starts_and_ends_pair_into_steps_with_masked_reasons() {
        let r = Recorder::new();
        r.push(&ev("cron", Step::Create, Phase::Started));
        r.push(&ev("toolbox", Step::Start, Phase::Started));
        r.push(&ev("cron", Step::Create, Phase::Finished));
        r.push(&ev(
            "toolbox",
            Step::Start,
            Phase::Failed {
                error: "login with hunter2hunter2 refused".into(),
            },
        ));
        r.push(&ev("left", Step::Stop, Phase::Started));
        let masker = Masker::new(["hunter2hunter2".to_owned()], []);
        let steps = r.steps(&masker, |_, s| (s == "cron").then(|| "cron".to_owned()));
        assert_eq!(steps.len(), 3);
        assert_eq!(
            (steps[0].subject.as_str(), steps[0].step.as_str()),
            ("cron", "create")
        );
        assert_eq!(steps[0].outcome, "ok");
        assert_eq!(steps[0].project.as_deref(), Some("cron"));
        assert_eq!(steps[1].outcome, "failed");
        let reason = steps[1].reason.as_deref().unwrap();
        assert!(!reason.contains("hunter2"), "{reason}");
        assert!(reason.contains("refused"));
        assert_eq!(steps[2].outcome, "unfinished");
    }
}
