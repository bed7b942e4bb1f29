//! Progress on the terminal: the driver reports events through its `Reporter` trait, and this
//! is the one place that turns them into output — a spinner per host with its current step on
//! a terminal, plain lines otherwise, or one JSON object per line with `--output json`. Every
//! event is also kept with its time ([`crate::recorder`]) for the run's record.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use kollars_docker::{Event, Phase, Reporter};

use crate::cli::OutputFormat;
use crate::recorder::{Recorder, RunInfo};

/// The CLI's reporter.
pub struct CliReporter {
    format: OutputFormat,
    bars: Option<MultiProgress>,
    hosts: Mutex<HashMap<String, ProgressBar>>,
    lines: Mutex<()>,
    recorder: Recorder,
    run: Option<RunInfo>,
}

impl CliReporter {
    /// A reporter for this output format; bars only when stderr is a terminal.
    pub fn new(format: OutputFormat) -> Arc<CliReporter> {
        CliReporter::make(format, None)
    }

    /// A reporter for a run that is recorded in the run history ([`crate::history`]).
    pub fn recording(format: OutputFormat, run: RunInfo) -> Arc<CliReporter> {
        CliReporter::make(format, Some(run))
    }

    fn make(format: OutputFormat, run: Option<RunInfo>) -> Arc<CliReporter> {
        let bars = (format == OutputFormat::Text && std::io::stderr().is_terminal())
            .then(MultiProgress::new);
        Arc::new(CliReporter {
            format,
            bars,
            hosts: Mutex::new(HashMap::new()),
            lines: Mutex::new(()),
            recorder: Recorder::new(),
            run,
        })
    }

    /// The events so far, with their times.
    pub fn recorder(&self) -> &Recorder {
        &self.recorder
    }

    /// The run to record, when this run is recorded.
    pub fn run(&self) -> Option<&RunInfo> {
        self.run.as_ref()
    }

    /// The output format.
    pub fn format(&self) -> OutputFormat {
        self.format
    }

    /// Prints a line above the bars (or plainly).
    pub fn line(&self, text: &str) {
        let _g = self.lines.lock().expect("reporter lock");
        match &self.bars {
            Some(b) => {
                let _ = b.println(crate::out::masked(text));
            }
            None => crate::errln!("{text}"),
        }
    }

    fn bar(&self, host: &str) -> Option<ProgressBar> {
        let multi = self.bars.as_ref()?;
        let mut hosts = self.hosts.lock().expect("reporter lock");
        let bar = hosts.entry(host.to_string()).or_insert_with(|| {
            let b = multi.add(ProgressBar::new_spinner());
            b.set_style(
                ProgressStyle::with_template("{spinner} {prefix:<12} {pos:>3} done  {wide_msg}")
                    .expect("valid template"),
            );
            b.set_prefix(host.to_string());
            b.enable_steady_tick(Duration::from_millis(120));
            b
        });
        Some(bar.clone())
    }

    /// Ends every host's bar.
    pub fn finish(&self) {
        for (_, b) in self.hosts.lock().expect("reporter lock").drain() {
            b.finish_with_message("finished");
        }
    }
}

impl Reporter for CliReporter {
    fn report(&self, e: &Event) {
        self.recorder.push(e);
        match self.format {
            OutputFormat::Json => {
                let _g = self.lines.lock().expect("reporter lock");
                crate::outln!("{}", serde_json::to_string(e).unwrap_or_default());
            }
            OutputFormat::Text => {
                let bar = self.bar(&e.host);
                match &e.phase {
                    Phase::Started => {
                        if let Some(b) = bar {
                            b.set_message(
                                crate::out::masked(&format!("{} {:?}", e.subject, e.step))
                                    .into_owned(),
                            );
                        }
                    }
                    Phase::Progress { message } => {
                        if let Some(b) = bar {
                            b.set_message(
                                crate::out::masked(&format!(
                                    "{} {:?}: {message}",
                                    e.subject, e.step
                                ))
                                .into_owned(),
                            );
                        }
                    }
                    Phase::Finished => {
                        if let Some(b) = &bar {
                            b.inc(1);
                        }
                        let detail = e.detail.as_deref().map(|d| format!(": {d}"));
                        self.line(&format!(
                            "{:<12} {:<28} {:?} ok{}",
                            e.host,
                            e.subject,
                            e.step,
                            detail.unwrap_or_default()
                        ));
                    }
                    Phase::Failed { error } => self.line(&format!(
                        "{:<12} {:<28} {:?} FAILED: {error}",
                        e.host, e.subject, e.step
                    )),
                }
            }
        }
    }
}
