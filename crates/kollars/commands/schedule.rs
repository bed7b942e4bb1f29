//! The order of `deploy` and `reconfigure` across every host: a dependency graph of projects,
//! not a sequence.
//!
//! kolla-ansible runs `site.yml` play by play: every host finishes one project before any host
//! begins the next, so an all-in-one deploy waits on ~20 projects one after the other even
//! though most of them (cron, fluentd, memcached, openvswitch…) need nothing from each other.
//! kollars keeps kolla's order only where it matters: a project waits for the projects its
//! definition names in `after` (keystone for the database and the load balancer, nova for
//! keystone, rabbitmq and placement…; every lower-order project when it names none) to be done
//! on every host that runs them. The rest runs side by side.
//!
//! A run is then:
//! 1. every host at once, each on its own: write the config directories, decide every
//!    container (reads), and create every new container, not started: creating is most of an
//!    engine's work and depends on nothing but the image (a slow or frozen engine holds back
//!    no other host here); then the bootstrap one-shots are created where they will run;
//! 2. each project as soon as its dependencies are done everywhere: its registration in
//!    keystone and its databases, then its bootstrap one-shots, each once (kolla's
//!    `run_once`, on the first host that gets the service), then on every host its changes:
//!    start the new containers, restart or recreate the changed ones — a clustered service's
//!    (MariaDB's Galera, RabbitMQ) one host at a time, each member ready before the next, as
//!    kolla's serial handlers;
//! 3. kolla's tasks once the project's new containers run (accounts, keystone's bootstrap,
//!    the fernet key push), once, on the first host that runs the service.
//!
//! A host whose step fails drops out of the later projects and the others go on (kolla's
//! default `max_fail_percentage` of 100); a failed bootstrap fails its project on every host,
//! as a failing `run_once` task fails its play. A host whose engine stops answering fails
//! within the engine timeout (`--engine-timeout`) of its stuck request and drops out the same
//! way, so it holds the others back at most that long per project it was in when it froze.
//! `--forks` bounds how many hosts are being acted
//! on at one moment; a project waiting for its dependencies holds no fork.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use anyhow::{anyhow, Context, Result};
use futures_util::future::{join_all, FutureExt, LocalBoxFuture, Shared};
use kollars_docker::{Action, Bootstraps, ContainerSpec};
use kollars_services::Catalogue;
use tokio::sync::Semaphore;

use super::converge::{
    after_start, bootstrap_unfinished, bootstraps, database_tasks, decide_host, ensure_database,
    ensure_images, member_ready, never_ran, register, registration_tasks, write_configs, Decision,
};
use super::prepare::HostTarget;
use crate::containers::{AfterStart, Rolling, Signal};

/// Projects in kolla's order, each with the projects it waits for.
pub(super) struct Graph {
    projects: Vec<(String, Vec<String>)>,
}

impl Graph {
    /// The catalogue's projects and their dependencies (see `kollars_services::Catalogue`).
    pub(super) fn new(catalogue: &Catalogue) -> Graph {
        Graph {
            projects: catalogue
                .projects
                .iter()
                .map(|p| {
                    let deps = catalogue
                        .dependencies(&p.name)
                        .into_iter()
                        .map(str::to_owned)
                        .collect();
                    (p.name.clone(), deps)
                })
                .collect(),
        }
    }

    /// The projects some of `targets` run, each with the projects of those it waits for, in
    /// deploy order: the graph this deploy follows (for its record and `plan --graph`).
    pub(super) fn of_targets(&self, targets: &[HostTarget]) -> Vec<(String, Vec<String>)> {
        let present: BTreeSet<&str> = targets
            .iter()
            .flat_map(|t| t.rendered.services.iter().map(|s| s.project.as_str()))
            .collect();
        self.projects
            .iter()
            .filter(|(p, _)| present.contains(p.as_str()))
            .map(|(p, deps)| {
                let deps = deps
                    .iter()
                    .filter(|d| present.contains(d.as_str()))
                    .cloned()
                    .collect();
                (p.clone(), deps)
            })
            .collect()
    }
}

/// Per host: what was decided for each container, or why the host failed.
pub(super) type Outcome = Vec<(String, Result<Vec<(String, Action)>>)>;

/// The shared state of one deploy across hosts.
struct Schedule<'a> {
    targets: &'a [HostTarget],
    /// Per host (same index as `targets`): its decisions, by service name; `None`: the host
    /// failed before deciding.
    plans: Vec<Option<BTreeMap<String, Decision<'a>>>>,
    /// Per host (same index): what its engine showed of its bootstraps (records, leftovers).
    boots: Vec<Bootstraps>,
    forks: Semaphore,
    /// The first error of each failed host, by index.
    failed: Mutex<BTreeMap<usize, anyhow::Error>>,
    /// The bootstrap one-shots created ahead, as (host index, one-shot container name).
    oneshots_created: Mutex<BTreeSet<(usize, String)>>,
    /// Creations ahead that failed, by (host index, project): the host fails when that
    /// project's turn comes, as it would have failed there creating them in order, so the
    /// projects before still deploy on it.
    deferred: Mutex<BTreeMap<(usize, String), anyhow::Error>>,
}

impl Schedule<'_> {
    fn fail(&self, host: usize, e: anyhow::Error) {
        self.failed
            .lock()
            .expect("failure lock")
            .entry(host)
            .or_insert(e);
    }

    fn defer(&self, host: usize, project: &str, e: anyhow::Error) {
        self.deferred
            .lock()
            .expect("deferred lock")
            .entry((host, project.to_owned()))
            .or_insert(e);
    }

    fn is_live(&self, host: usize) -> bool {
        !self
            .failed
            .lock()
            .expect("failure lock")
            .contains_key(&host)
    }

    /// The live hosts with changes in `project`, each with those changes (service order).
    fn changes(&self, project: &str) -> Vec<(usize, Vec<&Decision<'_>>)> {
        let mut out = Vec::new();
        for (i, plan) in self.plans.iter().enumerate() {
            let Some(plan) = plan else { continue };
            if !self.is_live(i) {
                continue;
            }
            let mut changes: Vec<&Decision<'_>> = plan
                .values()
                .filter(|d| d.svc.project == project && d.action.is_change())
                .collect();
            changes.sort_by_key(|d| {
                self.targets[i]
                    .rendered
                    .services
                    .iter()
                    .position(|s| s.name == d.svc.name)
            });
            if !changes.is_empty() {
                out.push((i, changes));
            }
        }
        out
    }

    /// Steps 1 and 2: images (missing ones pulled, before anything changes), configs,
    /// decisions, new containers created — each host on its own (a
    /// slow or frozen engine holds back no other host's creates); then the bootstrap
    /// one-shots, which go where they will run (the first live host of each service), so
    /// only once every host has decided.
    async fn prepare(&mut self) {
        let targets = self.targets;
        let this = &*self;
        let decided = join_all(targets.iter().enumerate().map(|(i, target)| async move {
            let _fork = this.forks.acquire().await.expect("forks open");
            ensure_images(target).await?;
            let rewritten = write_configs(target).await?;
            let plan = decide_host(target, &rewritten).await?;
            let boots = bootstraps(target).await?;
            let creates: Vec<&Decision<'_>> = plan
                .values()
                .filter(|d| matches!(d.action, Action::Create))
                .collect();
            let engine = &target.engine;
            let created = join_all(
                creates
                    .iter()
                    .map(|d| engine.create_stopped(d.spec(), Some(&d.svc.hash))),
            )
            .await;
            for (d, r) in creates.iter().zip(created) {
                if let Err(e) = r {
                    let e = anyhow!(e).context(format!("service {}", d.svc.name));
                    this.defer(i, &d.svc.project, e);
                }
            }
            Ok::<_, anyhow::Error>((plan, boots))
        }))
        .await;
        for (i, d) in decided.into_iter().enumerate() {
            match d {
                Ok((d, boots)) => {
                    self.plans.push(Some(d));
                    self.boots.push(boots);
                }
                Err(e) => {
                    self.fail(i, e);
                    self.plans.push(None);
                    self.boots.push(Bootstraps::default());
                }
            }
        }
        // every bootstrap one-shot goes where it will run, if nothing fails before
        let mut oneshots: BTreeMap<usize, Vec<(&Decision<'_>, ContainerSpec)>> = BTreeMap::new();
        let mut projects: Vec<&str> = self
            .plans
            .iter()
            .flatten()
            .flat_map(|p| p.values().map(|d| d.svc.project.as_str()))
            .collect();
        projects.sort();
        projects.dedup();
        for project in projects {
            for (i, d, spec) in self.oneshots(project) {
                oneshots.entry(i).or_default().push((d, spec));
            }
        }
        let this = &*self;
        join_all(this.plans.iter().enumerate().map(|(i, plan)| {
            let oneshots = oneshots.remove(&i).unwrap_or_default();
            async move {
                if plan.is_none() || !this.is_live(i) {
                    return;
                }
                // a one-shot a killed run left is finished or replaced when its turn comes
                // (run_bootstrap); one no longer due goes now
                let boots = &this.boots[i];
                let (oneshots, left): (Vec<_>, Vec<_>) = oneshots
                    .into_iter()
                    .partition(|(_, spec)| boots.leftover(&spec.name).is_none());
                let due: BTreeSet<&str> = left.iter().map(|(_, s)| s.name.as_str()).collect();
                let stale: Vec<&str> = boots
                    .leftovers()
                    .map(|(name, _)| name)
                    .filter(|name| !due.contains(name))
                    .collect();
                if oneshots.is_empty() && stale.is_empty() {
                    return;
                }
                let _fork = this.forks.acquire().await.expect("forks open");
                let engine = &this.targets[i].engine;
                for name in stale {
                    if let Err(e) = engine.remove(name).await {
                        this.fail(i, anyhow!(e).context(format!("leftover one-shot {name}")));
                        return;
                    }
                }
                let bootstraps =
                    join_all(oneshots.iter().map(|(_, spec)| engine.create_oneshot(spec))).await;
                for ((d, spec), r) in oneshots.iter().zip(bootstraps) {
                    match r {
                        Ok(()) => {
                            this.oneshots_created
                                .lock()
                                .expect("oneshot lock")
                                .insert((i, spec.name.clone()));
                        }
                        Err(e) => this.defer(
                            i,
                            &d.svc.project,
                            anyhow!(e).context(format!("bootstrap of {}", d.svc.name)),
                        ),
                    }
                }
            }
        }))
        .await;
    }

    /// The bootstrap one-shots of `project`: for each service that has one and gets a new
    /// container on some live host, or whose bootstrap never completed on the first live host
    /// that runs it (a killed run's: see `converge::bootstrap_unfinished`), once, on that
    /// first host — as kolla delegates its `run_once` bootstrap to `groups[<group>][0]`, so a
    /// host added later does not bootstrap (fernet keys, database) on its own when the first
    /// host is there.
    fn oneshots(&self, project: &str) -> Vec<(usize, &Decision<'_>, ContainerSpec)> {
        let created: BTreeSet<&str> = self
            .changes(project)
            .into_iter()
            .flat_map(|(_, changes)| changes)
            .filter(|d| matches!(d.action, Action::Create))
            .map(|d| d.svc.name.as_str())
            .collect();
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for (i, plan) in self.plans.iter().enumerate() {
            let Some(plan) = plan else { continue };
            if !self.is_live(i) {
                continue;
            }
            for d in plan.values() {
                let name = d.svc.name.as_str();
                if d.svc.project != project || seen.contains(name) {
                    continue;
                }
                let unfinished: Vec<&ContainerSpec> = d
                    .containers
                    .bootstrap
                    .iter()
                    .filter(|b| bootstrap_unfinished(&self.boots[i], d, &b.name))
                    .collect();
                let new = created.contains(name);
                if !new && unfinished.is_empty() {
                    // the first host's bootstrap completed: none due on the others either
                    seen.insert(name);
                    continue;
                }
                // a Galera member joining a cluster gets its data from the others
                if matches!(d.containers.rolling, Some(Rolling::Galera { .. }))
                    && !self.is_new_cluster(project, name)
                {
                    continue;
                }
                if !d.containers.bootstrap.is_empty() {
                    seen.insert(name);
                    // a new container: all of them, in order; else those never completed
                    // (a killed run's), in order
                    let due: Vec<&ContainerSpec> = match new {
                        true => d.containers.bootstrap.iter().collect(),
                        false => unfinished,
                    };
                    out.extend(due.into_iter().map(|b| (i, d, b.clone())));
                }
            }
        }
        out
    }

    /// Step 3 for one project whose dependencies are done.
    async fn project(&self, project: &str) {
        let deferred: Vec<(usize, anyhow::Error)> = {
            let mut all = self.deferred.lock().expect("deferred lock");
            let keys: Vec<(usize, String)> =
                all.keys().filter(|(_, p)| p == project).cloned().collect();
            keys.into_iter()
                .filter_map(|k| all.remove(&k).map(|e| (k.0, e)))
                .collect()
        };
        for (i, e) in deferred {
            self.fail(i, e);
        }
        if !self.registrations(project).await
            || !self.databases(project).await
            || !self.bootstrap(project).await
        {
            return;
        }
        let changes = self.changes(project);
        let mut rolling: Vec<&str> = Vec::new();
        for d in changes.iter().flat_map(|(_, c)| c) {
            if d.containers.rolling.is_some() && !rolling.contains(&d.svc.name.as_str()) {
                rolling.push(&d.svc.name);
            }
        }
        join_all(changes.iter().map(|(i, changes)| async move {
            let changes: Vec<&&Decision<'_>> = changes
                .iter()
                .filter(|d| d.containers.rolling.is_none())
                .collect();
            if changes.is_empty() {
                return;
            }
            let _fork = self.forks.acquire().await.expect("forks open");
            let engine = &self.targets[*i].engine;
            let results = join_all(changes.iter().map(|d| async move {
                match &d.action {
                    Action::Create => engine.start_created(d.spec()).await,
                    action => engine.apply(d.spec(), Some(&d.svc.hash), action).await,
                }
                .with_context(|| format!("service {}", d.svc.name))
            }))
            .await;
            if let Some(e) = results.into_iter().find_map(Result::err) {
                self.fail(*i, e);
            }
        }))
        .await;
        for service in rolling {
            self.roll(project, service).await;
        }
        self.after_start(project).await;
    }

    /// The live hosts that run `service` (inventory order) with its decision there.
    fn members(&self, service: &str) -> Vec<(usize, &Decision<'_>)> {
        self.plans
            .iter()
            .enumerate()
            .filter(|(i, _)| self.is_live(*i))
            .filter_map(|(i, p)| Some((i, p.as_ref()?.get(service)?)))
            .collect()
    }

    /// A new cluster: `service` is new, or has never run (a killed first deploy), on every
    /// live host that runs it.
    fn is_new_cluster(&self, project: &str, service: &str) -> bool {
        let members = self.members(service);
        !members.is_empty()
            && members
                .iter()
                .all(|(i, d)| d.svc.project == project && never_ran(&self.boots[*i], d))
    }

    /// The changes of a clustered `service` (see [`Rolling`]), one host at a time, each
    /// member ready before the next. A new Galera cluster starts on its first member with
    /// `--wsrep-new-cluster` (the `new_cluster` environment), the others join it one by one,
    /// then the first is recreated as the others are (kolla's bootstrap_cluster.yml); a
    /// Galera of one member needs none of it (its cluster address is empty). A new RabbitMQ
    /// cluster's nodes start together, as its peer discovery needs. A member that fails stops
    /// the roll: the ones after it are not touched.
    async fn roll(&self, project: &str, service: &str) {
        let new_cluster = self.is_new_cluster(project, service) && self.members(service).len() > 1;
        let mut members: Vec<(usize, &Decision<'_>)> = self
            .members(service)
            .into_iter()
            .filter(|(_, d)| d.action.is_change())
            .collect();
        if !new_cluster {
            // members that are not running join the running ones before any running member
            // restarts: a run killed after a new cluster's first member started leaves it
            // the only one, and restarting it first would leave no cluster to rejoin
            members.sort_by_key(|(_, d)| !matches!(d.action, Action::Start | Action::Create));
        }
        let mut steps: Vec<(usize, &Decision<'_>, Option<ContainerSpec>)> = Vec::new();
        for (n, (i, d)) in members.iter().enumerate() {
            match (&d.containers.rolling, n == 0 && new_cluster) {
                (
                    Some(Rolling::Galera {
                        new_cluster: env, ..
                    }),
                    true,
                ) => {
                    let mut first = d.spec().clone();
                    first.environment.extend(env.clone());
                    steps.push((*i, d, Some(first)));
                }
                _ => steps.push((*i, d, None)),
            }
        }
        if let Some((i, d, Some(_))) = steps.first() {
            let (i, d) = (*i, *d);
            steps.push((i, d, Some(d.spec().clone())));
        }
        // RabbitMQ's peer discovery wants a new cluster's nodes up together: a virgin node
        // alone waits minutes for the others listed in its config before it forms a cluster
        let together = matches!(
            members
                .first()
                .and_then(|(_, d)| d.containers.rolling.as_ref()),
            Some(Rolling::Ready { .. })
        ) && self.is_new_cluster(project, service);
        if together {
            let results = join_all(members.iter().map(|(i, d)| async move {
                let target = &self.targets[*i];
                let _fork = self.forks.acquire().await.expect("forks open");
                target.engine.start_created(d.spec()).await?;
                member_ready(target, d).await
            }))
            .await;
            for ((i, _), r) in members.iter().zip(results) {
                if let Err(e) = r {
                    self.fail(*i, e.context(format!("service {service}")));
                }
            }
            return;
        }
        let mut stopped: Option<String> = None;
        for (i, d, spec) in steps {
            let target = &self.targets[i];
            if let Some(why) = &stopped {
                self.fail(i, anyhow!("service {service} not touched: {why}"));
                continue;
            }
            let _fork = self.forks.acquire().await.expect("forks open");
            let engine = &target.engine;
            let hash = Some(d.svc.hash.as_str());
            let recreate = Action::Recreate {
                reasons: Vec::new(),
            };
            let done = match (&spec, &d.action) {
                (Some(spec), _) => engine.apply(spec, hash, &recreate).await,
                (None, Action::Create) => engine.start_created(d.spec()).await,
                (None, action) => engine.apply(d.spec(), hash, action).await,
            }
            .map_err(anyhow::Error::new);
            let ready = match done {
                Ok(()) => member_ready(target, d).await,
                Err(e) => Err(e),
            };
            if let Err(e) = ready {
                let e = e.context(format!("service {service}"));
                stopped = Some(format!("its member on host {} failed first", target.host()));
                self.fail(i, e);
            }
        }
    }

    /// kolla's tasks once a new container has started (a new MariaDB's accounts, keystone's
    /// bootstrap, its fernet key push): for each service of `project` created on some host
    /// this run (or left created, never run, by a killed one), once, on the first live host
    /// that runs it; a failure fails the project on every host that runs it.
    async fn after_start(&self, project: &str) {
        let mut created: Vec<&str> = Vec::new();
        for (i, changes) in self.changes(project) {
            for d in changes {
                // never run counts as new: a killed first deploy left it created
                let new = never_ran(&self.boots[i], d);
                if new && !d.containers.after_start.is_empty() && !created.contains(&&*d.svc.name) {
                    created.push(&d.svc.name);
                }
            }
        }
        // once, on the first live host that runs the service (kolla's run_once on the group's
        // first host: the keys to push, the cluster to make accounts in, are there)
        let tasks: Vec<(usize, &Decision<'_>)> = created
            .into_iter()
            .filter_map(|name| self.members(name).into_iter().next())
            .collect();
        for (i, d) in tasks {
            for task in &d.containers.after_start {
                // a task run in another service's container runs where that one runs first
                let (at, container) = match task {
                    AfterStart::RunOnce {
                        service: Some(other),
                        ..
                    } => match self.members(other).into_iter().next() {
                        Some((j, o)) => (j, &o.spec().name),
                        // not in this run (`--limit`, `-t`): skipped (kolla's delegated task
                        // would reach that host anyway); the user guide says to deploy a new
                        // compute host with its conductor's host, or discover by hand
                        None => continue,
                    },
                    _ => (i, &d.spec().name),
                };
                let _fork = self.forks.acquire().await.expect("forks open");
                let target = &self.targets[at];
                let done = after_start(target, container, std::slice::from_ref(task))
                    .await
                    .with_context(|| format!("{} on host {} failed", d.svc.name, target.host()));
                if let Err(e) = done {
                    self.fail_project(project, e);
                    return;
                }
            }
        }
    }

    /// Fails every host that runs `project` with `e`.
    fn fail_project(&self, project: &str, e: anyhow::Error) {
        for (i, plan) in self.plans.iter().enumerate() {
            let runs_it = plan
                .iter()
                .flat_map(|p| p.values())
                .any(|d| d.svc.project == project);
            if runs_it {
                self.fail(i, anyhow!("{e:#}"));
            }
        }
    }

    /// kolla's `service-ks-register` for the project's services (its `register.yml`, first of
    /// its deploy, before the databases and the bootstrap), each once, on the first live host
    /// that runs the service, when due (a new container on some host, or inputs that differ
    /// from those recorded: see `converge::registration_due`); `false` when one failed (the
    /// project then failed on every host that runs it).
    async fn registrations(&self, project: &str) -> bool {
        let created: BTreeSet<&str> = self
            .changes(project)
            .into_iter()
            .flat_map(|(_, changes)| changes)
            .filter(|d| matches!(d.action, Action::Create))
            .map(|d| d.svc.name.as_str())
            .collect();
        let live = self
            .targets
            .iter()
            .enumerate()
            .filter(|(i, _)| self.plans[*i].is_some() && self.is_live(*i));
        let tasks = registration_tasks(live, Some(project));
        let results = join_all(tasks.iter().map(|(i, svc, reg)| {
            let created = created.contains(svc);
            async move {
                let _fork = self.forks.acquire().await.expect("forks open");
                let target = &self.targets[*i];
                register(target, svc, reg, created).await.with_context(|| {
                    format!(
                        "registration of {svc} in keystone on host {} failed",
                        target.host()
                    )
                })
            }
        }))
        .await;
        let Some(e) = results.into_iter().find_map(Result::err) else {
            return true;
        };
        self.fail_project(project, e);
        false
    }

    /// The databases of the project's services (kolla's `mysql_db` and `mysql_user`, before
    /// its bootstrap), each once, on the first live host that runs the service — every run,
    /// as kolla's, since the check is read-only and a database lost since is made again;
    /// `false` when one failed (the project then failed on every host that runs it).
    async fn databases(&self, project: &str) -> bool {
        let live = self
            .targets
            .iter()
            .enumerate()
            .filter(|(i, _)| self.plans[*i].is_some() && self.is_live(*i));
        let tasks = database_tasks(live, Some(project));
        let results = join_all(tasks.iter().map(|(i, svc, task)| async move {
            let _fork = self.forks.acquire().await.expect("forks open");
            let target = &self.targets[*i];
            ensure_database(target, task)
                .await
                .with_context(|| format!("database of {svc} on host {} failed", target.host()))
        }))
        .await;
        let Some(e) = results.into_iter().find_map(Result::err) else {
            return true;
        };
        self.fail_project(project, e);
        false
    }

    /// The project's bootstrap one-shots, each once, on the first host that creates its
    /// service, one after the other; `false` when one failed (the project then failed on
    /// every host, and the later ones did not run).
    async fn bootstrap(&self, project: &str) -> bool {
        // One after the other, in service order, as kolla's bootstrap_service.yml runs them:
        // keystone-fernet's fernet_setup logs where keystone's db_sync hook made the log
        // directory.
        let mut oneshots = self.oneshots(project);
        oneshots.sort_by_key(|(i, d, _)| {
            self.targets[*i]
                .rendered
                .services
                .iter()
                .position(|s| s.name == d.svc.name)
        });
        for (i, d, spec) in &oneshots {
            let _fork = self.forks.acquire().await.expect("forks open");
            let engine = &self.targets[*i].engine;
            let created = self
                .oneshots_created
                .lock()
                .expect("oneshot lock")
                .contains(&(*i, spec.name.clone()));
            let ran = engine.run_bootstrap(spec, created).await;
            if let Err(e) = ran {
                let host = &self.targets[*i].rendered.host;
                // the driver's error keeps its causes (printed with `{:#}`)
                let what = match spec.name == format!("bootstrap_{}", d.spec().name) {
                    true => format!("bootstrap of {}", d.svc.name),
                    false => format!("bootstrap of {} ({})", d.svc.name, spec.name),
                };
                let e = anyhow::Error::new(e).context(format!("{what} on host {host} failed"));
                for (i, _) in self.changes(project) {
                    self.fail(i, anyhow!("{e:#}"));
                }
                return false;
            }
        }
        // once per service whose one-shots ran: its signals, wherever their container runs
        let mut signalled = BTreeSet::new();
        for (_, d, _) in &oneshots {
            if signalled.insert(d.svc.name.as_str()) {
                self.signal(&d.containers.signals).await;
            }
        }
        true
    }

    /// Sends each signal to its container on every live host whose plan has it (a container
    /// not running needs none: it reads its state afresh when it starts). A failure fails
    /// that host.
    async fn signal(&self, signals: &[Signal]) {
        for sig in signals {
            join_all(self.plans.iter().enumerate().map(|(i, plan)| async move {
                let runs_it = plan
                    .iter()
                    .flat_map(|p| p.values())
                    .any(|d| d.spec().name == sig.container);
                if !runs_it || !self.is_live(i) {
                    return;
                }
                let engine = &self.targets[i].engine;
                let sent = if sig.is_restart() {
                    engine
                        .task(
                            &format!("{}: restart", sig.container),
                            engine.restart(&sig.container, None),
                        )
                        .await
                } else {
                    engine
                        .task(
                            &format!("{}: signal {}", sig.container, sig.signal),
                            engine.signal(&sig.container, &sig.signal),
                        )
                        .await
                        .map(|_| ())
                };
                if let Err(e) = sent {
                    self.fail(
                        i,
                        anyhow::Error::new(e).context(format!(
                            "signal {} to {} on host {} failed",
                            sig.signal,
                            sig.container,
                            self.targets[i].host()
                        )),
                    );
                }
            }))
            .await;
        }
    }
}

/// Deploys or reconfigures every host (see the module docs).
pub(super) async fn deploy_all(targets: &[HostTarget], graph: &Graph, forks: usize) -> Outcome {
    let mut schedule = Schedule {
        targets,
        plans: Vec::with_capacity(targets.len()),
        boots: Vec::with_capacity(targets.len()),
        forks: Semaphore::new(forks.max(1)),
        failed: Mutex::default(),
        oneshots_created: Mutex::default(),
        deferred: Mutex::default(),
    };
    schedule.prepare().await;
    let schedule = &schedule;
    let mut done: HashMap<&str, Shared<LocalBoxFuture<'_, ()>>> = HashMap::new();
    for (project, deps) in &graph.projects {
        let waits: Vec<_> = deps
            .iter()
            .filter_map(|d| done.get(d.as_str()).cloned())
            .collect();
        let step = async move {
            join_all(waits).await;
            schedule.project(project).await;
        }
        .boxed_local()
        .shared();
        done.insert(project.as_str(), step);
    }
    join_all(done.into_values()).await;

    let Schedule { plans, failed, .. } = schedule;
    let mut failed = std::mem::take(&mut *failed.lock().expect("failure lock"));
    targets
        .iter()
        .zip(plans)
        .enumerate()
        .map(|(i, (t, plan))| {
            let outcome = match failed.remove(&i) {
                Some(e) => Err(e),
                None => Ok(plan
                    .iter()
                    .flat_map(|p| p.values())
                    .map(|d| (d.svc.name.clone(), d.action.clone()))
                    .collect()),
            };
            (t.host().to_owned(), outcome)
        })
        .collect()
}
