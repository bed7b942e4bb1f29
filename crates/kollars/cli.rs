//! Command-line arguments. Raw input only: [`crate::workspace`] resolves them.
//!
//! The doc comments below are the `--help` text, written for the terminal: `<service>` there
//! is a placeholder, not an HTML tag.
#![allow(rustdoc::invalid_html_tags)]

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Deploy OpenStack services as containers, the way kolla-ansible does, without Ansible.
#[derive(Debug, Parser)]
#[command(
    name = "kollars",
    version,
    about,
    after_help = "Example:\n  kollars deploy -i multinode --configdir /etc/kolla\n\n\
                  `kollars COMMAND --help` shows each command's options and an example; \
                  `kollars man --dir DIR` writes the man pages."
)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
    /// The command line as given (program name first), for the run's record; set by
    /// [`crate::run`], never parsed.
    #[arg(skip)]
    pub argv: Vec<String>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render every host's /etc/kolla/<service>/ tree.
    #[command(
        after_help = "Example:\n  kollars genconfig -i multinode --configdir /etc/kolla --output /tmp/rendered"
    )]
    Genconfig(GenconfigArgs),
    /// Render, write configs, create/bootstrap/start what is missing and restart or recreate
    /// what changed, projects in dependency order.
    #[command(after_help = "Example:\n  kollars deploy -i multinode --report /tmp/deploy.html")]
    Deploy(DeployArgs),
    /// The same as deploy (as in kolla-ansible): restart on config, recreate on parameters,
    /// create and bootstrap what is new, nothing else.
    #[command(after_help = "Example:\n  kollars reconfigure -i multinode -t nova")]
    Reconfigure(DeployArgs),
    /// Show what deploy/reconfigure would do, with reasons and config diffs; changes nothing.
    #[command(after_help = "Example:\n  kollars plan -i multinode --graph svg > graph.svg")]
    Plan(PlanArgs),
    /// Restart the named services' containers (nova-api or nova_api).
    #[command(after_help = "Example:\n  kollars restart nova-api -i multinode -l control01")]
    Restart(RestartArgs),
    /// Check that every expected container exists, runs and is not unhealthy.
    #[command(after_help = "Example:\n  kollars check -i multinode --output json")]
    Check(EngineArgs),
    /// Check, changing nothing, what a deploy needs: engines and their versions, free ports,
    /// inventory groups, the VIP, passwords, images, disk space; exit 2 on any failure.
    #[command(after_help = "Example:\n  kollars prechecks -i multinode --output json")]
    Prechecks(EngineArgs),
    /// Gather every selected host's facts (through its engine when remote) into the fact
    /// cache that --facts reads: DIR/<host>.json.
    #[command(
        after_help = "Example:\n  kollars gather-facts -i multinode --facts /etc/kolla/facts"
    )]
    GatherFacts(GatherFactsArgs),
    /// Reset RabbitMQ's state on every member (stop_app, force_reset, then start_app one
    /// at a time), as kolla-ansible rabbitmq-reset-state.
    #[command(after_help = "Example:\n  kollars rabbitmq-reset-state -i multinode --plan")]
    RabbitmqResetState(PlanningArgs),
    /// Remove the nova_libvirt container, its config and (optionally) volumes from compute
    /// hosts whose libvirt is no longer containerised, as kolla-ansible nova-libvirt-cleanup.
    #[command(
        after_help = "Example:\n  kollars nova-libvirt-cleanup -i multinode -l compute01 --plan"
    )]
    NovaLibvirtCleanup(PlanningArgs),
    /// Make sure every selected service's image is present (pull when missing).
    #[command(after_help = "Example:\n  kollars pull -i multinode -t keystone")]
    Pull(EngineArgs),
    /// Stop every selected container (a missing one fails its host unless --ignore-missing).
    #[command(
        after_help = "Example:\n  kollars stop -i multinode -t heat --ignore-missing --yes-i-really-really-mean-it"
    )]
    Stop(StopArgs),
    /// Stop and remove every kollars-managed container on the selected hosts, the volumes
    /// they mount and kollars' records (with --include-images, their images too).
    #[command(
        after_help = "Example:\n  kollars destroy -i multinode -l compute07 --plan\n  \
                      kollars destroy -i multinode -l compute07 --include-images --yes-i-really-really-mean-it"
    )]
    Destroy(DestroyArgs),
    /// Remove the kolla images (docker_image_url's) that no container on the host uses.
    #[command(
        after_help = "Example:\n  kollars prune-images -i multinode --yes-i-really-really-mean-it"
    )]
    PruneImages(DangerArgs),
    /// Fill the empty keys of passwords.yml (like kolla-genpwd).
    #[command(after_help = "Example:\n  kollars genpwd -p /etc/kolla/passwords.yml")]
    Genpwd(GenpwdArgs),
    /// Merge old passwords into a new passwords template (like kolla-mergepwd).
    #[command(
        after_help = "Example:\n  kollars mergepwd --old passwords.yml.old --new passwords.yml --final /etc/kolla/passwords.yml"
    )]
    Mergepwd(MergepwdArgs),
    /// Write clouds.yaml and the admin openrc files into the config dir (like kolla-ansible
    /// post-deploy); contacts no engine.
    #[command(after_help = "Example:\n  kollars post-deploy -i multinode")]
    PostDeploy(PostDeployArgs),
    /// Every container of the site, per host: state, health, image, uptime, config current or
    /// stale.
    #[command(after_help = "Example:\n  kollars ps -i multinode -l control01")]
    Ps(EngineArgs),
    /// A service's container logs, from every host that runs it (or --host).
    #[command(
        after_help = "Example:\n  kollars logs nova-api -i multinode --host control01 --tail 50 --follow"
    )]
    Logs(LogsArgs),
    /// The recorded runs (deploy, reconfigure, restart, pull, stop, destroy, prune-images,
    /// rabbitmq-reset-state, nova-libvirt-cleanup), newest last;
    /// `runs show ID` for one.
    #[command(
        after_help = "Examples:\n  kollars runs\n  kollars runs show last --html /tmp/last-run.html"
    )]
    Runs(RunsArgs),
    /// Make the self-signed root CA and the internal, external and backend certificates
    /// that TLS asks for, into kolla_certificates_dir (like kolla-ansible certificates).
    #[command(after_help = "Example:\n  kollars certificates -i multinode --plan")]
    Certificates(CertificatesArgs),
    /// Make Octavia's server and client CAs and its client certificate into
    /// node_custom_config/octavia (like kolla-ansible octavia-certificates).
    #[command(after_help = "Example:\n  kollars octavia-certificates -i multinode --plan")]
    OctaviaCertificates(CertificatesArgs),
    /// Shell completions on stdout.
    #[command(
        after_help = "Example:\n  kollars completions bash > /etc/bash_completion.d/kollars"
    )]
    Completions(CompletionsArgs),
    /// Man pages, one per command, written into a directory.
    #[command(after_help = "Example:\n  kollars man --dir /usr/local/share/man/man1")]
    Man(ManArgs),
}

/// `kollars logs`.
#[derive(Debug, Args, Clone)]
pub struct LogsArgs {
    /// The service (nova-api), or its container (nova_api).
    pub service: String,
    /// Only this host's container.
    #[arg(long = "host", value_name = "HOST")]
    pub host: Option<String>,
    /// Keep printing new lines until interrupted.
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Only the last N lines of each container.
    #[arg(long, value_name = "N")]
    pub tail: Option<u64>,
    /// Engine options.
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// `kollars runs`.
#[derive(Debug, Args, Clone)]
pub struct RunsArgs {
    /// `show ID`: one run; none: the list.
    #[command(subcommand)]
    pub action: Option<RunsAction>,
    /// `text` or `json` (one object per run, or the whole record).
    #[arg(long = "output", value_enum, default_value = "text", global = true)]
    pub output: OutputFormat,
}

/// What `kollars runs` does.
#[derive(Debug, Subcommand, Clone)]
pub enum RunsAction {
    /// One run's steps, slowest first (ID as `kollars runs` lists it, or `last`).
    #[command(after_help = "Example:\n  kollars runs show last --html /tmp/run.html")]
    Show(RunsShowArgs),
}

/// `kollars runs show`.
#[derive(Debug, Args, Clone)]
pub struct RunsShowArgs {
    /// The run's ID, or `last`.
    pub id: String,
    /// Also write the run as one self-contained HTML page (a timeline per host) to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// `kollars completions`.
#[derive(Debug, Args, Clone)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: CompletionShell,
}

/// Shells `kollars completions` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompletionShell {
    /// bash.
    Bash,
    /// zsh.
    Zsh,
    /// fish.
    Fish,
}

/// `kollars man`.
#[derive(Debug, Args, Clone)]
pub struct ManArgs {
    /// Where to write kollars.1 and kollars-COMMAND.1 (made if missing).
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
}

/// `kollars plan --graph`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    /// Graphviz dot text.
    Dot,
    /// An SVG picture.
    Svg,
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

/// `kollars certificates`.
#[derive(Debug, Args)]
pub struct CertificatesArgs {
    /// Inputs (localhost's variables, as kolla's certificates play).
    #[command(flatten)]
    pub input: InputArgs,
    /// Only list the files it would write; change nothing.
    #[arg(long)]
    pub plan: bool,
}

/// `kollars gather-facts`.
#[derive(Debug, Args)]
pub struct GatherFactsArgs {
    /// Inputs; `--facts DIR` is where the facts are written (and made, if missing).
    #[command(flatten)]
    pub input: InputArgs,
    /// Only list the files it would write; gather and write nothing.
    #[arg(long)]
    pub plan: bool,
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
    /// Commands that change hosts: remove the hosts' lock another run left on the hosts
    /// (a killed run's, which a refusal names), then take it.
    #[arg(long)]
    pub break_lock: bool,
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
    /// Also write the run as one self-contained HTML page (a timeline per host, the
    /// critical path, failures, the config diffs applied) to FILE.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
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
    /// Print the project graph deploy follows instead (dot or svg), for the selected
    /// hosts and services.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub graph: Option<GraphFormat>,
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

/// `kollars stop` / `destroy` / `prune-images`: need an explicit confirmation, or `--plan`.
#[derive(Debug, Args, Clone)]
pub struct DangerArgs {
    /// Engine options.
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Confirms the operation.
    #[arg(long = "yes-i-really-really-mean-it")]
    pub confirmed: bool,
    /// Only list what would be stopped or removed; change nothing (needs no confirmation).
    #[arg(long)]
    pub plan: bool,
}

/// `kollars rabbitmq-reset-state`, `nova-libvirt-cleanup`: engine options and `--plan`.
#[derive(Debug, Args, Clone)]
pub struct PlanningArgs {
    /// Engine options.
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Only list what it would run or remove; change nothing.
    #[arg(long)]
    pub plan: bool,
}

/// `kollars stop`.
#[derive(Debug, Args, Clone)]
pub struct StopArgs {
    /// Confirmation, plan and engine options.
    #[command(flatten)]
    pub danger: DangerArgs,
    /// A selected container that does not exist is skipped, not a failure of its host.
    #[arg(long)]
    pub ignore_missing: bool,
}

/// `kollars destroy`.
#[derive(Debug, Args, Clone)]
pub struct DestroyArgs {
    /// Confirmation, plan and engine options.
    #[command(flatten)]
    pub danger: DangerArgs,
    /// Also remove the images the removed containers were made from.
    #[arg(long)]
    pub include_images: bool,
    /// Also remove kolla_dev_repos_directory (the source trees of kolla's dev mode) on each
    /// host.
    #[arg(long)]
    pub include_dev: bool,
}
