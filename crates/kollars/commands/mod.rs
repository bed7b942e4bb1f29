//! One module per command, and the steps they share.
//!
//! - [`prepare`]: what every command that talks to engines does first (load, render,
//!   validate, lock, connect) and how it ends (failed hosts, exit status).
//! - [`converge`]: one host brought to what was rendered for it: configs written, a decision
//!   per container. `schedule` builds on it; nothing here depends on `schedule`.
//! - `schedule`: deploy's dependency graph of projects across hosts.
//! - one file per verb: [`genconfig`], [`deploy`] (and reconfigure), [`plan`], [`restart`],
//!   [`check`], [`pull`], [`stop`] (and destroy), [`passwords`] (genpwd, mergepwd),
//!   [`post_deploy`].

pub mod check;
pub mod converge;
pub mod deploy;
pub mod genconfig;
pub mod passwords;
pub mod plan;
pub mod post_deploy;
pub mod prepare;
pub mod pull;
pub mod restart;
mod schedule;
pub mod stop;

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::error::ExitStatus;

/// Runs the chosen command.
pub async fn dispatch(cli: Cli) -> Result<ExitStatus> {
    match cli.command {
        Command::Genconfig(a) => genconfig::genconfig(&a).await,
        Command::Deploy(a) | Command::Reconfigure(a) => deploy::deploy(&a).await,
        Command::Plan(a) => plan::plan(&a).await,
        Command::Restart(a) => restart::restart(&a).await,
        Command::Check(a) => check::check(&a).await,
        Command::Pull(a) => pull::pull(&a).await,
        Command::Stop(a) => stop::stop(&a, false).await,
        Command::Destroy(a) => stop::stop(&a, true).await,
        Command::Genpwd(a) => passwords::genpwd(&a),
        Command::Mergepwd(a) => passwords::mergepwd(&a),
        Command::PostDeploy(a) => post_deploy::post_deploy(&a),
    }
}
