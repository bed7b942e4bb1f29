//! One module per command, and the error type that marks bad input (exit code 2).

pub mod deploy;
pub mod genconfig;
pub mod passwords;
mod schedule;

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::ExitStatus;

/// An error in the operator's inputs: reported with exit code 2, and nothing was changed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

impl BadInput {
    /// A bad-input error with this message.
    pub fn new(msg: impl Into<String>) -> BadInput {
        BadInput(msg.into())
    }

    /// Wraps a library error as bad input, keeping its message.
    pub fn from_err<E: std::fmt::Display>(e: E) -> anyhow::Error {
        anyhow::Error::new(BadInput(e.to_string()))
    }
}

/// Runs the chosen command.
pub fn dispatch(cli: Cli) -> Result<ExitStatus> {
    match cli.command {
        Command::Genconfig(a) => genconfig::run(&a),
        Command::Deploy(a) => deploy::deploy(&a),
        Command::Reconfigure(a) => deploy::deploy(&a),
        Command::Plan(a) => deploy::plan(&a),
        Command::Restart(a) => deploy::restart(&a),
        Command::Check(a) => deploy::check(&a),
        Command::Pull(a) => deploy::pull(&a),
        Command::Stop(a) => deploy::stop(&a, false),
        Command::Destroy(a) => deploy::stop(&a, true),
        Command::Genpwd(a) => passwords::genpwd(&a),
        Command::Mergepwd(a) => passwords::mergepwd(&a),
    }
}
