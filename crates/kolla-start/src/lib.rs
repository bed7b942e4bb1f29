//! kolla-start: the start-up tools of kolla images as one static binary.
//!
//! One multi-call binary, dispatched on the name it is called by (or on its first argument):
//!
//! | name | what |
//! |---|---|
//! | `kolla_start` | set configs, run the extend-start hooks, exec the service |
//! | `kolla_set_configs [--check]` | apply `/var/lib/kolla/config_files/config.{yaml,json}` |
//! | `healthcheck_curl [opts] URL` | HTTP GET, as kolla's curl wrapper |
//! | `healthcheck_port PROCESS PORT…` | the process has a TCP connection on one of the ports |
//! | `healthcheck_listen PROCESS PORT…` | the process listens on one of the ports |
//!
//! Exit codes of `kolla_set_configs`: 0 done (or COPY_ONCE already configured, or `--check`
//! unchanged), 1 `--check` found a change, 2 any error. docs/kolla-start.md describes the
//! behaviour and each place it deliberately differs from kolla's Python and bash.

#![deny(missing_docs)]

pub mod check;
pub mod config;
pub mod error;
pub mod fsops;
pub mod glob;
pub mod health;
pub mod log;
pub mod perm;
pub mod root;
pub mod set_configs;
pub mod start;
pub mod state;
pub mod users;
pub mod words;

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;

const USAGE: &str = "usage: kolla-start COMMAND [ARGS...]   (or call it by the name of COMMAND)
commands:
  kolla_start                        set configs, run kolla_extend_start, exec the command
  kolla_set_configs [--check]        apply /var/lib/kolla/config_files/config.{yaml,json}
  healthcheck_curl [OPTIONS] URL     HTTP GET; exit 0 on a status below 400
  healthcheck_port PROCESS PORT...   PROCESS has a TCP connection on one of PORT
  healthcheck_listen PROCESS PORT... PROCESS listens on one of PORT
(set-configs, start, healthcheck-curl, ... are accepted too)";

/// Runs the tool named by `args[0]` (or by `args[1]` when called as `kolla-start`).
pub fn run<I: IntoIterator<Item = OsString>>(args: I) -> ExitCode {
    let args: Vec<String> = args
        .into_iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let name = args
        .first()
        .and_then(|a| Path::new(a).file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Called by a tool's name (a link): that tool. Otherwise (`kolla-start`, or any other
    // name) the first argument names the tool.
    if TOOLS.contains(&name.as_str()) {
        if let Some(code) = dispatch(&name, &args[1..]) {
            return code;
        }
    }
    match args.get(1).map(String::as_str) {
        Some("-h" | "--help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some("--version") => {
            println!("kolla-start {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Some(sub) => dispatch(sub, &args[2..])
            .unwrap_or_else(|| usage_error(&format!("unknown command {sub:?}"))),
        None => usage_error("no command given"),
    }
}

/// The names the binary is installed under.
const TOOLS: [&str; 5] = [
    "kolla_start",
    "kolla_set_configs",
    "healthcheck_curl",
    "healthcheck_port",
    "healthcheck_listen",
];

fn dispatch(name: &str, rest: &[String]) -> Option<ExitCode> {
    Some(match name.replace('-', "_").as_str() {
        "kolla_start" | "start" => {
            if let Some(a) = rest.first() {
                return Some(usage_error(&format!(
                    "kolla_start takes no arguments, got {a:?}"
                )));
            }
            start::kolla_start()
        }
        "run_command" => start::run_command(),
        "kolla_set_configs" | "set_configs" => set_configs_cli(rest),
        "healthcheck_curl" => health::curl(rest),
        "healthcheck_port" => health::sockets(rest, health::Mode::Connected),
        "healthcheck_listen" => health::sockets(rest, health::Mode::Listening),
        _ => return None,
    })
}

fn usage_error(msg: &str) -> ExitCode {
    eprintln!("kolla-start: {msg}\n{USAGE}");
    ExitCode::from(2)
}

fn set_configs_cli(rest: &[String]) -> ExitCode {
    let mut check = false;
    for a in rest {
        match a.as_str() {
            "--check" => check = true,
            "-h" | "--help" => {
                println!("usage: kolla_set_configs [-h] [--check]");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("usage: kolla_set_configs [-h] [--check]\nkolla_set_configs: error: unrecognized arguments: {other}");
                return ExitCode::from(2);
            }
        }
    }
    let root = root::Root::system();
    let result = if check {
        set_configs::check(&root).map(|changed| if changed { 1 } else { 0 })
    } else {
        let strategy = std::env::var("KOLLA_CONFIG_STRATEGY").ok();
        set_configs::set_configs(&root, strategy.as_deref()).map(|_| 0)
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            log::error(&e);
            ExitCode::from(2)
        }
    }
}
