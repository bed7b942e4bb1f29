//! One module per command, and the steps they share.
//!
//! - [`prepare`]: what every command that talks to engines does first (load, render,
//!   validate, lock, connect) and how it ends (failed hosts, exit status).
//! - [`converge`]: one host brought to what was rendered for it: configs written, a decision
//!   per container. `schedule` builds on it; nothing here depends on `schedule`.
//! - `schedule`: deploy's dependency graph of projects across hosts.
//! - one file per verb: [`genconfig`], [`deploy`] (and reconfigure), [`plan`], [`restart`],
//!   [`check`], [`prechecks`], [`gather_facts`], [`rabbitmq_reset`], [`libvirt_cleanup`], [`pull`], [`stop`] (and destroy, prune-images), [`passwords`] (genpwd, mergepwd),
//!   [`post_deploy`], [`certificates`], [`octavia_certificates`], [`ps`], [`logs`], [`runs`], [`completions`], [`man`].
//! - [`record`]: a finished run made into its record; [`diffs`]: the config files a deploy
//!   would rewrite, as diffs (plan, `deploy --report`).

pub mod certificates;
pub mod check;
pub mod completions;
pub mod converge;
pub mod deploy;
pub mod diffs;
pub mod gather_facts;
pub mod genconfig;
pub mod libvirt_cleanup;
pub mod logs;
pub mod man;
pub mod octavia_certificates;
pub mod passwords;
pub mod plan;
pub mod post_deploy;
pub mod prechecks;
pub mod prepare;
pub mod ps;
pub mod pull;
pub mod rabbitmq_reset;
pub mod record;
pub mod restart;
pub mod runs;
pub(crate) mod schedule;
pub mod stop;

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::error::ExitStatus;
use crate::recorder::RunInfo;

/// Runs the chosen command.
pub async fn dispatch(cli: Cli) -> Result<ExitStatus> {
    let run = |command: &'static str| RunInfo {
        command,
        argv: cli.argv.clone(),
    };
    match cli.command {
        Command::Genconfig(a) => genconfig::genconfig(&a).await,
        Command::Deploy(a) => deploy::deploy(&a, run("deploy")).await,
        Command::Reconfigure(a) => deploy::deploy(&a, run("reconfigure")).await,
        Command::Plan(a) => plan::plan(&a).await,
        Command::Restart(a) => restart::restart(&a, run("restart")).await,
        Command::Check(a) => check::check(&a).await,
        Command::Prechecks(a) => prechecks::prechecks(&a).await,
        Command::GatherFacts(a) => gather_facts::gather_facts(&a).await,
        Command::RabbitmqResetState(a) => {
            rabbitmq_reset::rabbitmq_reset_state(&a, run("rabbitmq-reset-state")).await
        }
        Command::NovaLibvirtCleanup(a) => {
            libvirt_cleanup::nova_libvirt_cleanup(&a, run("nova-libvirt-cleanup")).await
        }
        Command::Pull(a) => pull::pull(&a, run("pull")).await,
        Command::Stop(a) => stop::stop(&a, run("stop")).await,
        Command::Destroy(a) => stop::destroy(&a, run("destroy")).await,
        Command::PruneImages(a) => stop::prune_images(&a, run("prune-images")).await,
        Command::Ps(a) => ps::ps(&a).await,
        Command::Logs(a) => logs::logs(&a).await,
        Command::Runs(a) => runs::runs(&a),
        Command::Completions(a) => completions::completions(&a),
        Command::Man(a) => man::man(&a),
        Command::Genpwd(a) => passwords::genpwd(&a),
        Command::Mergepwd(a) => passwords::mergepwd(&a),
        Command::Certificates(a) => certificates::certificates(&a),
        Command::OctaviaCertificates(a) => octavia_certificates::octavia_certificates(&a),
        Command::PostDeploy(a) => post_deploy::post_deploy(&a),
    }
}
