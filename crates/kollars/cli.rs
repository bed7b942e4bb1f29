//! Command-line arguments. Raw input only: [`crate::workspace`] resolves them.
//!
//! The doc comments below are the `--help` text, written for the terminal: `<service>` there
//! is a placeholder, not an HTML tag.
#![allow(rustdoc::invalid_html_tags)]

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Deploy OpenStack services as containers, the way kolla-ansible does, without Ansible.
#[derive(Debug, Parser)]
#[command(name = "kollars", version, about)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render every host's /etc/kolla/<service>/ tree.
    Genconfig(GenconfigArgs),
    /// Render, write configs, create/bootstrap/start what is missing and restart or recreate
    /// what changed, projects in dependency order.
    Deploy(DeployArgs),
    /// The same as deploy (as in kolla-ansible): restart on config, recreate on parameters,
    /// create and bootstrap what is new, nothing else.
    Reconfigure(DeployArgs),
    /// Show what deploy/reconfigure would do, with reasons and config diffs; changes nothing.
    Plan(PlanArgs),
    /// Restart the named services' containers (nova-api or nova_api).
    Restart(RestartArgs),
    /// Check that every expected container exists, runs and is not unhealthy.
    Check(EngineArgs),
    /// Make sure every selected service's image is present (pull when missing).
    Pull(EngineArgs),
    /// Stop every selected container.
    Stop(DangerArgs),
    /// Stop and remove every kollars-managed container on the selected hosts.
    Destroy(DangerArgs),
    /// Fill the empty keys of passwords.yml (like kolla-genpwd).
    Genpwd(GenpwdArgs),
    /// Merge old passwords into a new passwords template (like kolla-mergepwd).
    Mergepwd(MergepwdArgs),
    /// Write clouds.yaml and the admin openrc files into the config dir (like kolla-ansible
    /// post-deploy); contacts no engine.
    PostDeploy(PostDeployArgs),
}

/// Where the inputs are: inventory, config dir, passwords, facts, extra vars, selection.
#[derive(Debug, Args, Clone)]
pub struct InputArgs {
    /// Ansible inventory file or directory (repeatable; INI or YAML).
    #[arg(short = 'i', long = "inventory", required = true)]
    pub inventory: Vec<PathBuf>,
    /// Configuration directory with globals.yml, passwords.yml and config/ overrides.
    #[arg(long, default_value = "/etc/kolla", env = crate::env::KOLLA_CONFIG_PATH)]
    pub configdir: PathBuf,
    /// passwords.yml to use instead of <configdir>/passwords.yml.
    #[arg(long)]
    pub passwords: Option<PathBuf>,
    /// Directory of Ansible fact-cache JSON files, one <host>.json per inventory host.
    #[arg(long)]
    pub facts: Option<PathBuf>,
    /// Extra variables: key=value, @file.yml, or a YAML/JSON mapping (repeatable).
    #[arg(short = 'e', long = "extra-vars")]
    pub extra_vars: Vec<String>,
    /// Only these services or projects (comma-separated; nova-api, nova_api or nova).
    #[arg(short = 't', long = "tags", value_delimiter = ',')]
    pub tags: Vec<String>,
    /// Only these hosts (comma-separated inventory names or groups).
    #[arg(short = 'l', long = "limit", value_delimiter = ',')]
    pub limit: Vec<String>,
    /// Where services/ and templates/ are (default: next to the binary, or the source tree).
    #[arg(long, env = crate::env::KOLLARS_DATA_DIR)]
    pub data_dir: Option<PathBuf>,
    /// Commands that talk to engines: how many seconds an engine may leave a request
    /// unanswered before its host fails (a frozen engine fails its host, the others go on).
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = kollars_docker::DEFAULT_ENGINE_TIMEOUT,
        value_parser = clap::builder::RangedU64ValueParser::<u64>::new().range(1..=3600)
    )]
    pub engine_timeout: u64,
}

/// `kollars genconfig`.
#[derive(Debug, Args)]
pub struct GenconfigArgs {
    /// Inputs.
    #[command(flatten)]
    pub input: InputArgs,
    /// Write every host to DIR/<host>/<service>/ instead of its node_config_directory.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

/// `kollars post-deploy`.
#[derive(Debug, Args)]
pub struct PostDeployArgs {
    /// Inputs (localhost's variables; -t and -l are refused).
    #[command(flatten)]
    pub input: InputArgs,
}

/// `kollars genpwd`.
#[derive(Debug, Args)]
pub struct GenpwdArgs {
    /// The passwords file to fill in place.
    #[arg(
        short = 'p',
        long = "passwords",
        default_value = "/etc/kolla/passwords.yml"
    )]
    pub passwords: PathBuf,
}

/// `kollars mergepwd`.
#[derive(Debug, Args)]
pub struct MergepwdArgs {
    /// The old passwords file (values to keep).
    #[arg(long)]
    pub old: PathBuf,
    /// The new passwords template (keys to have).
    #[arg(long)]
    pub new: PathBuf,
    /// Where to write the result.
    #[arg(long = "final")]
    pub final_path: PathBuf,
    /// Drop keys of the old file that the new template no longer has.
    #[arg(long)]
    pub clean: bool,
}

/// Options shared by commands that talk to engines.
#[derive(Debug, Args, Clone)]
pub struct EngineArgs {
    /// Inputs.
    #[command(flatten)]
    pub input: InputArgs,
    /// How many hosts to act on at once (at least 1).
    #[arg(long, default_value_t = 10, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub forks: usize,
    /// Progress output: `text` (bars on a terminal, lines otherwise) or `json` (one event per line).
    #[arg(long = "output", value_enum, default_value = "text")]
    pub output: OutputFormat,
    /// Commands that change hosts: how many seconds to wait for another run on the same
    /// configuration directory to release the run lock before giving up (0: do not wait).
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = crate::lock::DEFAULT_TIMEOUT_SECS,
        env = crate::env::KOLLARS_LOCK_TIMEOUT
    )]
    pub lock_timeout: u64,
}

/// Progress output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Human-readable.
    Text,
    /// One JSON object per line.
    Json,
}

/// `kollars deploy` / `reconfigure`.
#[derive(Debug, Args, Clone)]
pub struct DeployArgs {
    /// Engine options.
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Only show the plan (same as `kollars plan`).
    #[arg(long)]
    pub plan: bool,
}

/// `kollars plan`.
#[derive(Debug, Args, Clone)]
pub struct PlanArgs {
    /// Engine options.
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Leave out config file diffs.
    #[arg(long)]
    pub no_diff: bool,
}

/// `kollars restart`.
#[derive(Debug, Args, Clone)]
pub struct RestartArgs {
    /// Services or containers to restart.
    #[arg(required = true)]
    pub services: Vec<String>,
    /// Engine options.
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// `kollars stop` / `destroy`: need an explicit confirmation.
#[derive(Debug, Args, Clone)]
pub struct DangerArgs {
    /// Engine options.
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Confirms the operation.
    #[arg(long = "yes-i-really-really-mean-it")]
    pub confirmed: bool,
}
