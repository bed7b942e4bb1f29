//! Bringing one host to what was rendered for it: its config files written, and for every
//! container a decision of what it needs.
//!
//! Everything here is per host and knows nothing of the order across hosts and projects:
//! `schedule` builds the deploy's graph on top of it, and `plan` calls the same
//! decision code read-only, so what plan says is what deploy does. What changed is known from
//! two content hashes recorded on each container (its spec, its rendered config directory),
//! so a second run changes nothing, and a run that died after writing configs is finished by
//! the next one.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use kollars_docker::{Action, Bootstraps, ContainerSpec, Step};
use kollars_render::RenderedService;
use kollars_tasks::{Registered, Registration};

use crate::commands::prepare::HostTarget;
use crate::containers::{AfterStart, Containers, DatabaseTask, Rolling};

/// The container kolla runs its tasks in (`kolla_toolbox`, deployed on every host before the
/// services that need it: kolla-toolbox is in their projects' `after`): the databases'
/// MariaDB client, the registrations' openstacksdk.
pub const TOOLBOX: &str = "kolla_toolbox";

/// What one container of a host needs, decided before anything changes.
pub struct Decision<'a> {
    /// Its rendered service (name, project, config hash).
    pub svc: &'a RenderedService,
    /// Its containers (the ones validated before the run).
    pub containers: &'a Containers,
    /// What it needs.
    pub action: Action,
}

impl Decision<'_> {
    /// The service's container spec.
    pub fn spec(&self) -> &ContainerSpec {
        &self.containers.main
    }
}

/// Rewritten config files by service: the files this run found different on the host,
/// relative to the service's directory.
pub type Rewritten = BTreeMap<String, Vec<String>>;

/// Decides what every container of a host needs (read-only); `rewritten` are the files this
/// run found different on the host (see `Engine::after_rewrite`).
pub async fn decide_host<'a>(
    target: &'a HostTarget,
    rewritten: &Rewritten,
) -> Result<BTreeMap<String, Decision<'a>>> {
    let host = target.host();
    let services: Vec<(&RenderedService, &Containers)> = target
        .rendered
        .services
        .iter()
        .filter_map(|svc| Some((svc, target.containers.get(&svc.name)?)))
        .collect();
    let items: Vec<(&ContainerSpec, Option<&str>)> = services
        .iter()
        .map(|(svc, c)| (&c.main, Some(svc.hash.as_str())))
        .collect();
    let actions = target
        .engine
        .decide_many(target.survey.as_ref(), &items)
        .await;
    let mut out = BTreeMap::new();
    for ((svc, containers), action) in services.into_iter().zip(actions) {
        let files = rewritten
            .get(&svc.name)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let action = action
            .and_then(|a| target.engine.after_rewrite(&containers.main, a, files))
            .with_context(|| format!("host {host}, service {}", svc.name))?;
        out.insert(
            svc.name.clone(),
            Decision {
                svc,
                containers,
                action,
            },
        );
    }
    Ok(out)
}

/// What a host's engine shows of the bootstraps of its services (records, one-shots left by
/// a killed run, containers that never ran): two listings, after the decisions, or nothing
/// to ask when no service of the host has a bootstrap.
pub async fn bootstraps(target: &HostTarget) -> Result<Bootstraps> {
    let oneshots: Vec<&str> = target
        .containers
        .values()
        .flat_map(|c| &c.bootstrap)
        .map(|b| b.name.as_str())
        .collect();
    if oneshots.is_empty() {
        return Ok(Bootstraps::default());
    }
    let boots = target
        .engine
        .bootstraps(&oneshots)
        .await
        .with_context(|| format!("host {}: bootstraps", target.host()))?;
    Ok(boots)
}

/// Whether `d`'s bootstrap one-shot `oneshot` never completed on the host of `boots`: it
/// has no record there and the service's container has never run. kollars starts a service
/// only after its bootstrap completed, so a container that has run was bootstrapped, by this
/// kollars or by one from before the records (which bootstrapped new containers only): it
/// is not bootstrapped again (see docs/user-guide.md, "Bootstraps").
pub fn bootstrap_unfinished(boots: &Bootstraps, d: &Decision<'_>, oneshot: &str) -> bool {
    !boots.is_recorded(oneshot) && never_ran(boots, d)
}

/// Whether `d`'s container is new or has never run (what a killed first deploy leaves).
pub fn never_ran(boots: &Bootstraps, d: &Decision<'_>) -> bool {
    matches!(d.action, Action::Create) || boots.never_ran(&d.spec().name)
}

/// Every image the host's containers and one-shots run, present (pulled when missing, each
/// once) before anything on the host changes: a registry that is down or refuses the login
/// fails the host here, naming host and image, its files and containers untouched.
pub async fn ensure_images(target: &HostTarget) -> Result<()> {
    let mut images: Vec<&str> = target
        .containers
        .values()
        .flat_map(|c| std::iter::once(&c.main).chain(&c.bootstrap))
        .map(|s| s.image.as_str())
        .collect();
    images.sort_unstable();
    images.dedup();
    let pulled =
        futures_util::future::join_all(images.iter().map(|i| target.engine.ensure_image(i))).await;
    for r in pulled {
        r.context("the images, before any change on the host")?;
    }
    Ok(())
}

/// Writes a host's config directories where they go (see [`crate::configs`]); returns the
/// files that changed, by service.
pub async fn write_configs(target: &HostTarget) -> Result<Rewritten> {
    let changed = target.destination().write(&target.rendered).await?;
    Ok(by_service(changed.iter().map(|p| p.as_path())))
}

/// Paths relative to `node_config_directory` (`<service>/<file>`), grouped by service.
pub fn by_service<'p>(paths: impl Iterator<Item = &'p std::path::Path>) -> Rewritten {
    let mut out: Rewritten = BTreeMap::new();
    for rel in paths {
        let mut parts = rel.components();
        let Some(service) = parts.next() else {
            continue;
        };
        let file = parts.as_path().display().to_string();
        if !file.is_empty() {
            out.entry(service.as_os_str().to_string_lossy().into_owned())
                .or_default()
                .push(file);
        }
    }
    out
}

/// The databases to make, each once, on the first of `targets` (inventory order) that runs
/// its service — kolla's `run_once` delegated to the first host of the group — with the
/// service's name; only `project`'s when given.
pub fn database_tasks<'a>(
    targets: impl IntoIterator<Item = (usize, &'a HostTarget)>,
    project: Option<&str>,
) -> Vec<(usize, &'a str, &'a DatabaseTask)> {
    first_hosts(targets, project, |c| c.databases.as_slice())
}

/// The registrations in keystone to make, each once, on the first of `targets` that runs its
/// service (as [`database_tasks`]); only `project`'s when given.
pub fn registration_tasks<'a>(
    targets: impl IntoIterator<Item = (usize, &'a HostTarget)>,
    project: Option<&str>,
) -> Vec<(usize, &'a str, &'a Registration)> {
    first_hosts(targets, project, |c| c.register.as_slice())
}

/// The tasks `pick` finds in each service's containers, once per service, on the first of
/// `targets` that runs it (and has them), with the service's name.
fn first_hosts<'a, T>(
    targets: impl IntoIterator<Item = (usize, &'a HostTarget)>,
    project: Option<&str>,
    pick: impl Fn(&'a Containers) -> &'a [T],
) -> Vec<(usize, &'a str, &'a T)> {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for (i, target) in targets {
        for svc in &target.rendered.services {
            if project.is_some_and(|p| p != svc.project) {
                continue;
            }
            let tasks = target.containers.get(&svc.name).map(&pick).unwrap_or(&[]);
            if !tasks.is_empty() && seen.insert(svc.name.as_str()) {
                out.extend(tasks.iter().map(|t| (i, svc.name.as_str(), t)));
            }
        }
    }
    out
}

/// The task record of a service's registration (see `kollars_docker::records`).
fn register_record(svc: &str) -> String {
    format!("ks-register {svc}")
}

/// Whether `svc`'s registration is due on `target`: the service gets a new container on some
/// host this run (`created`: a new cloud, or a service enabled since), or the digest of its
/// inputs (passwords included, hashed) differs from the one recorded on `target` when it last
/// succeeded there (a changed password or endpoint, or never registered from this host).
/// Otherwise nothing it depends on changed, and a deploy runs no exec for it. One volume
/// listing.
pub async fn registration_due(
    target: &HostTarget,
    svc: &str,
    reg: &Registration,
    created: bool,
) -> Result<bool> {
    if created {
        return Ok(true);
    }
    let recorded = target.engine.task_digest(&register_record(svc)).await?;
    Ok(recorded.as_deref() != Some(reg.digest().as_str()))
}

/// What `svc`'s registration lacks in keystone, read-only, through this host's toolbox (for
/// `plan`).
pub async fn check_registration(target: &HostTarget, reg: &Registration) -> Result<Registered> {
    Ok(kollars_tasks::register::check(&target.engine, TOOLBOX, reg).await?)
}

/// kolla's `service-ks-register` for `svc` on this host's toolbox, when due (see
/// [`registration_due`]): makes what keystone lacks, records the inputs' digest, and reports
/// what it made (nothing when everything existed). `None`: not due.
pub async fn register(
    target: &HostTarget,
    svc: &str,
    reg: &Registration,
    created: bool,
) -> Result<Option<Registered>> {
    if !registration_due(target, svc, reg, created).await? {
        return Ok(None);
    }
    let engine = &target.engine;
    // a task of its own in the progress and the events (its duration), then what it made
    let made = engine
        .task(
            &format!("{svc}: register"),
            kollars_tasks::register::ensure(engine, TOOLBOX, reg),
        )
        .await?;
    engine
        .record_task(&register_record(svc), &reg.digest())
        .await?;
    if !made.is_empty() {
        engine.report_done(svc, Step::Register, made.summary());
    }
    Ok(Some(made))
}

/// What a service's database lacks, read-only (for `plan`).
pub async fn check_database(target: &HostTarget, task: &DatabaseTask) -> Result<Vec<&'static str>> {
    let state =
        kollars_tasks::database::check(&target.engine, TOOLBOX, &task.login, &task.db).await?;
    Ok(state.missing())
}

/// kolla's database task for one service, on this host's toolbox: checks (read-only) and, when
/// something is missing, makes the database, user and grants. Returns what was missing
/// (empty: nothing to do).
pub async fn ensure_database(
    target: &HostTarget,
    task: &DatabaseTask,
) -> Result<Vec<&'static str>> {
    let engine = &target.engine;
    let state = kollars_tasks::database::check(engine, TOOLBOX, &task.login, &task.db).await?;
    if state.is_complete() {
        return Ok(Vec::new());
    }
    let subject = format!("{} database", task.db.name);
    engine
        .task(
            &subject,
            kollars_tasks::database::ensure(engine, TOOLBOX, &task.login, &task.db),
        )
        .await?;
    Ok(state.missing())
}

/// kolla's tasks once a service's new container has started, on this host, in the service's
/// own container (`container`): a new MariaDB's readiness and accounts, keystone's bootstrap.
pub async fn after_start(target: &HostTarget, container: &str, tasks: &[AfterStart]) -> Result<()> {
    let engine = &target.engine;
    for task in tasks {
        match task {
            AfterStart::Accounts {
                login,
                accounts,
                timeout,
            } => {
                let accounts = async {
                    kollars_tasks::mariadb::wait_ready(engine, container, login, *timeout).await?;
                    kollars_tasks::mariadb::ensure_accounts(engine, container, login, accounts)
                        .await
                };
                engine
                    .task(&format!("{container}: accounts"), accounts)
                    .await?
            }
            AfterStart::IdentityBootstrap(b) => {
                engine
                    .task(
                        &format!("{container}: identity bootstrap"),
                        kollars_tasks::keystone::bootstrap(engine, container, b),
                    )
                    .await?
            }
            AfterStart::RunOnce {
                command, timeout, ..
            } => {
                engine
                    .task(
                        &format!("{container}: {}", command.join(" ")),
                        kollars_tasks::command::until_ok(engine, container, command, *timeout),
                    )
                    .await?
            }
        }
    }
    Ok(())
}

/// Waits until a clustered service's member on this host is ready (see [`Rolling`]): a
/// Galera member `Synced`, a RabbitMQ node started.
pub async fn member_ready(target: &HostTarget, d: &Decision<'_>) -> Result<()> {
    let engine = &target.engine;
    let container = &d.spec().name;
    match &d.containers.rolling {
        Some(Rolling::Galera { login, timeout, .. }) => {
            engine
                .task(
                    &format!("{container}: Synced"),
                    kollars_tasks::mariadb::wait_synced(engine, container, login, *timeout),
                )
                .await?
        }
        Some(Rolling::Ready { ready, timeout }) => {
            engine
                .task(
                    &format!("{container}: ready"),
                    kollars_tasks::command::until_ok(engine, container, ready, *timeout),
                )
                .await?
        }
        None => {}
    }
    Ok(())
}
