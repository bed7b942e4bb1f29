//! kollars: deploy OpenStack services as containers the way kolla-ansible does, without
//! Ansible.
//!
//! The library behind the binary: argument parsing ([`cli`]), loading the operator's inputs
//! into one [`workspace::Workspace`], and one module per command. Exit codes are decided in
//! one place, [`ExitStatus`].

pub mod cli;
pub mod commands;
pub mod hosts;
pub mod reporter;
pub mod workspace;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

/// How a run ended, as the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything done.
    Success = 0,
    /// Something failed while acting on hosts.
    Failure = 1,
    /// The inputs are wrong; nothing was changed.
    BadInput = 2,
    /// Some hosts failed, others succeeded.
    HostFailed = 3,
}

/// Runs kollars with these arguments (the first is the program name). Callable many times.
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match cli::Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match commands::dispatch(cli) {
        Ok(status) => ExitCode::from(status as u8),
        Err(err) => {
            eprintln!("error: {err:#}");
            let status = if err.downcast_ref::<commands::BadInput>().is_some() {
                ExitStatus::BadInput
            } else {
                ExitStatus::Failure
            };
            ExitCode::from(status as u8)
        }
    }
}
