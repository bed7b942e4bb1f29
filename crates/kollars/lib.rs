//! kollars: deploy OpenStack services as containers the way kolla-ansible does, without
//! Ansible.
//!
//! The library behind the binary. A run goes: arguments ([`cli`]) → the operator's inputs
//! loaded and checked into one [`workspace::Workspace`], with each host's
//! [`settings::HostSettings`] (facts of remote hosts from [`facts`]) → the command
//! ([`commands`]), which renders, types each service's containers ([`containers`]) and the
//! tasks around them ([`tasks`]), writes
//! config trees ([`configs`]) and drives the engines, reporting progress through
//! [`reporter`]. How it ends is decided in one place, [`error`]; every environment variable
//! read is in [`mod@env`]; every line printed goes through [`mod@out`]. Runs that change
//! hosts leave a record ([`history`], from the reporter's [`recorder`]), drawn by [`html`]
//! and [`graph`].

#![deny(missing_docs)]

pub mod cli;
pub mod commands;
pub mod configs;
pub mod containers;
pub mod env;
pub mod error;
pub mod facts;
pub mod graph;
pub mod history;
pub mod hosts_lock;
pub mod html;
pub mod lock;
pub mod out;
pub mod recorder;
pub mod reporter;
pub mod settings;
pub mod tasks;
pub mod workspace;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

pub use error::{BadInput, ExitStatus};

/// Runs kollars with these arguments (the first is the program name). Callable many times.
///
/// One async runtime serves the whole command; it is built after the arguments are parsed, so
/// `--help` and argument errors never start one.
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let mut cli = match cli::Cli::try_parse_from(&args) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    cli.argv = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            crate::errln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(ExitStatus::Failure as u8);
        }
    };
    let outcome = runtime.block_on(commands::dispatch(cli));
    // Requests nobody waits for any more (an aborted connection) must not hold up the exit.
    runtime.shutdown_background();
    match outcome {
        Ok(status) => ExitCode::from(status as u8),
        Err(err) => {
            crate::errln!("error: {err:#}");
            ExitCode::from(ExitStatus::of_error(&err) as u8)
        }
    }
}
