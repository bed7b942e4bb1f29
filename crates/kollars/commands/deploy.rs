//! `deploy`, `reconfigure`, `plan`, `restart`, `check`, `pull`, `stop`, `destroy`: the
//! container lifecycle on every host's engine.
//!
//! Every command first loads and renders everything in memory (bad input stops here, before
//! any host is touched), connects to every selected host's engine, then acts: hosts in
//! parallel (`--forks`), projects in kolla-ansible's `site.yml` order, the projects of one
//! order step in parallel. What changed is known from two content hashes recorded on each
//! container (its spec, its rendered config directory), so a second run changes nothing, and
//! a run that died after writing configs is finished by the next one.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use futures_util::future::join_all;
use kollars_docker::{Action, CommonOptions, ContainerSpec, Engine, RestartPolicy, Survey};
use kollars_render::{RenderedHost, RenderedService};
use kollars_vars::Value;

use crate::cli::{DangerArgs, DeployArgs, EngineArgs, OutputFormat, PlanArgs, RestartArgs};
use crate::commands::schedule::{self, Decision, Graph};
use crate::commands::BadInput;
use crate::reporter::CliReporter;
use crate::workspace::Workspace;
use crate::ExitStatus;

/// One host ready to act on: its rendered services and its engine.
pub(super) struct HostRun {
    pub(super) rendered: RenderedHost,
    /// The container spec of each service that runs one, by service name, as validated
    /// before anything happened (`kollars_privileged_containers` applied).
    pub(super) specs: BTreeMap<String, ContainerSpec>,
    pub(super) engine: Engine,
    /// The engine's survey, taken while rendering, for [`decide_host`] (`None`: not taken,
    /// or the listing failed).
    pub(super) survey: Option<Survey>,
    /// Config files go through the engine, with helper containers of this image (see
    /// `crate::hosts`); `None`: written on this machine's filesystem.
    pub(super) via_engine: Option<String>,
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Serialises kollars runs that share a configuration directory, so two runs never
/// interleave their actions on the same hosts.
fn lock(ws: &Workspace) -> Result<std::fs::File> {
    let path = std::env::var_os("KOLLARS_LOCK_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::temp_dir().join(format!("kollars-{}.lock", hash_path(&ws.config.path)))
        });
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open lock file {}", path.display()))?;
    if f.try_lock().is_err() {
        eprintln!(
            "waiting for another kollars run to finish (lock {})",
            path.display()
        );
        f.lock()
            .with_context(|| format!("cannot lock {}", path.display()))?;
    }
    Ok(f)
}

fn hash_path(p: &std::path::Path) -> String {
    let canonical = p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let mut h: u64 = 0xcbf29ce484222325;
    for b in canonical.to_string_lossy().bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}")
}

/// A host's engine endpoint (see `crate::hosts::endpoint`).
fn endpoint(ws: &Workspace, host: &str) -> Result<(String, Option<PathBuf>)> {
    crate::hosts::endpoint(&ws.vars, &ws.inventory, host)
}

fn common_options(ws: &Workspace, host: &str) -> Result<CommonOptions> {
    let scope = ws.vars.host(host).map_err(BadInput::from_err)?;
    let s = |n: &str| {
        scope
            .get(n)
            .map(|v| v.to_string())
            .map_err(BadInput::from_err)
    };
    let n = |n: &str| -> Result<u64> {
        let v = s(n)?;
        v.trim().parse::<u64>().map_err(|_| {
            BadInput::from_err(format!("host {host}: {n} must be a number, got {v:?}"))
        })
    };
    let policy = RestartPolicy::parse(&s("docker_restart_policy")?)
        .map_err(|e| BadInput::from_err(format!("host {host}: docker_restart_policy: {e}")))?;
    Ok(CommonOptions {
        config_strategy: s("config_strategy")?,
        restart_policy: policy,
        restart_retries: n("docker_restart_policy_retry")?,
        graceful_timeout: n("docker_graceful_timeout")?,
        client_timeout: n("docker_client_timeout")?,
        registry_auth: None,
    })
}

/// The container spec of a rendered service, from its evaluated dict.
fn container_spec(host: &str, svc: &RenderedService, unprivileged: bool) -> Result<ContainerSpec> {
    let json = serde_json::to_value(&svc.container)
        .map_err(|e| BadInput::from_err(format!("host {host}, service {}: {e}", svc.name)))?;
    let mut spec: ContainerSpec = serde_json::from_value(json).map_err(|e| {
        BadInput::from_err(format!(
            "host {host}, service {}: invalid container definition: {e}",
            svc.name
        ))
    })?;
    if unprivileged {
        spec.privileged = false;
    }
    Ok(spec)
}

/// Whether a host runs privileged services unprivileged (`kollars_privileged_containers:
/// false`, for sandboxes and CI machines where privileged containers cannot start).
fn unprivileged(ws: &Workspace, host: &str) -> Result<bool> {
    let scope = ws.vars.host(host).map_err(BadInput::from_err)?;
    let v = scope
        .get("kollars_privileged_containers")
        .map_err(BadInput::from_err)?;
    Ok(!kollars_vars::filters::ansible_bool(&v))
}

/// Services that run containers (a service without `container_name` only renders files).
fn has_container(svc: &RenderedService) -> bool {
    svc.container
        .get_attr("container_name")
        .map(|v| !v.is_undefined() && !v.is_none())
        .unwrap_or(false)
}

/// What a command needs from [`prepare`] besides rendered hosts and connected engines.
#[derive(Debug, Clone, Copy)]
struct Needs {
    /// It changes hosts: hold the run lock (taken before anything is read from an engine,
    /// so what is read is not stale by the time it acts).
    lock: bool,
    /// It decides per container: survey each engine while rendering.
    survey: bool,
}

impl Needs {
    /// deploy, reconfigure: decides, then changes.
    const DECIDE_AND_CHANGE: Needs = Needs {
        lock: true,
        survey: true,
    };
    /// plan: decides, changes nothing.
    const DECIDE: Needs = Needs {
        lock: false,
        survey: true,
    };
    /// restart, pull, stop, destroy: changes without deciding.
    const CHANGE: Needs = Needs {
        lock: true,
        survey: false,
    };
    /// check: reads.
    const READ: Needs = Needs {
        lock: false,
        survey: false,
    };
}

/// Everything a command acts on, ready; nothing on any host has changed.
struct Prepared {
    ws: Workspace,
    runs: Vec<HostRun>,
    /// Hosts whose engine did not answer: they fail, the others go on (kolla's
    /// `max_fail_percentage: 100`); see [`finish`].
    unreachable: Vec<(String, anyhow::Error)>,
    /// Held until the command is done.
    _lock: Option<std::fs::File>,
}

/// Loads, renders, validates and connects; nothing on any host has changed when this returns.
///
/// Connecting (and surveying, for commands that decide) only reads from the engines, so it
/// starts before rendering and runs while the CPU renders: an SSH engine's handshake or a
/// busy engine's container listing costs no wall time of its own. A render or validation
/// error still wins over anything an engine said, and stops the run before any change.
fn prepare(
    args: &EngineArgs,
    rt: &tokio::runtime::Runtime,
    reporter: Arc<CliReporter>,
    needs: Needs,
) -> Result<Prepared> {
    let ws = Workspace::load_with_engines(&args.input, rt)?;
    let lock = needs.lock.then(|| lock(&ws)).transpose()?;
    let mut targets = Vec::new();
    for host in &ws.hosts {
        let (ep, tls) = endpoint(&ws, host)?;
        let via_engine = match crate::hosts::through_engine(&ws.vars, host, &ep, tls.as_deref())? {
            true => Some(crate::hosts::helper_image(&ws.vars, host)?),
            false => None,
        };
        // A remote engine injects the host's time zone from its gathered facts, not ours.
        let tz = (!crate::hosts::is_local_socket(host, &ep, tls.as_deref()))
            .then(|| ws.timezones.get(host).cloned())
            .flatten();
        let common = common_options(&ws, host)?;
        targets.push((host.clone(), ep, tls, common, via_engine, tz));
    }
    let connecting: Vec<_> = targets
        .into_iter()
        .map(|(host, ep, tls, common, via_engine, tz)| {
            let reporter = reporter.clone();
            rt.spawn(async move {
                let e = match Engine::connect(&host, &ep, tls.as_deref()).await {
                    Ok(e) => e,
                    Err(err) => return (host, Err(err)),
                };
                let e = match tz {
                    Some(tz) => e.with_timezone(tz),
                    None => e,
                };
                let e = e.with_common_options(common).with_reporter(reporter);
                // a failed survey only costs the shortcut: decisions list again
                let survey = match needs.survey {
                    true => e.survey().await.ok(),
                    false => None,
                };
                (host, Ok((e, via_engine, survey)))
            })
        })
        .collect();
    let abort_all = || connecting.iter().for_each(|c| c.abort());
    let rendered = match render_and_validate(&ws) {
        Ok(r) => r,
        Err(e) => {
            abort_all();
            return Err(e);
        }
    };
    let mut engines = BTreeMap::new();
    let mut unreachable = Vec::new();
    for joined in rt.block_on(join_all(connecting)) {
        match joined.context("engine connection task failed")? {
            (host, Ok(connected)) => {
                engines.insert(host, connected);
            }
            // a host that does not answer fails alone; a wrong endpoint is the operator's
            (host, Err(e @ kollars_docker::DockerError::Unreachable { .. })) => {
                unreachable.push((host, anyhow::Error::new(e)));
            }
            (_, Err(e)) => return Err(BadInput::from_err(e)),
        }
    }
    let mut runs = Vec::new();
    for (rendered, specs) in rendered {
        let Some((engine, via_engine, survey)) = engines.remove(&rendered.host) else {
            continue;
        };
        runs.push(HostRun {
            specs,
            rendered,
            engine,
            survey,
            via_engine,
        });
    }
    Ok(Prepared {
        ws,
        runs,
        unreachable,
        _lock: lock,
    })
}

/// Renders every selected host and builds every container spec (kept for the run, by
/// service name); bad input stops here.
fn render_and_validate(
    ws: &Workspace,
) -> Result<Vec<(RenderedHost, BTreeMap<String, ContainerSpec>)>> {
    let rendered = kollars_render::render_all(&ws.vars, &ws.catalogue, &ws.selection())
        .map_err(BadInput::from_err)?;
    let mut out = Vec::with_capacity(rendered.len());
    for h in rendered {
        let unprivileged = unprivileged(ws, &h.host)?;
        let mut specs = BTreeMap::new();
        for s in h.services.iter().filter(|s| has_container(s)) {
            specs.insert(s.name.clone(), container_spec(&h.host, s, unprivileged)?);
        }
        out.push((h, specs));
    }
    Ok(out)
}

/// Decides what every container of a host needs (read-only).
///
/// `rewritten`: the files this run found different on the host, by service (see
/// `Engine::after_rewrite`).
pub(super) async fn decide_host<'a>(
    run: &'a HostRun,
    rewritten: &BTreeMap<String, Vec<String>>,
) -> Result<BTreeMap<String, Decision<'a>>> {
    let host = &run.rendered.host;
    let specs: Vec<(&RenderedService, &ContainerSpec)> = run
        .rendered
        .services
        .iter()
        .filter_map(|svc| Some((svc, run.specs.get(&svc.name)?)))
        .collect();
    let items: Vec<(&ContainerSpec, Option<&str>)> = specs
        .iter()
        .map(|(svc, spec)| (*spec, Some(svc.hash.as_str())))
        .collect();
    let actions = run.engine.decide_many(run.survey.as_ref(), &items).await;
    let mut out = BTreeMap::new();
    for ((svc, spec), action) in specs.into_iter().zip(actions) {
        let files = rewritten
            .get(&svc.name)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let action = action
            .and_then(|a| run.engine.after_rewrite(spec, a, files))
            .with_context(|| format!("host {host}, service {}", svc.name))?;
        out.insert(svc.name.clone(), Decision { svc, spec, action });
    }
    Ok(out)
}

/// Writes a host's config directories (locally or through its engine); returns the files
/// that changed, by service, relative to the service's directory.
pub(super) async fn write_configs(run: &HostRun) -> Result<BTreeMap<String, Vec<String>>> {
    let host = &run.rendered.host;
    let root = &run.rendered.node_config_directory;
    let changed = match &run.via_engine {
        Some(image) => {
            crate::hosts::write_through_engine(&run.engine, &run.rendered, image).await?
        }
        None => kollars_render::write_host(root, &run.rendered)
            .with_context(|| format!("host {host}: writing configs"))?,
    };
    let mut by_service: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for path in changed {
        let Ok(rel) = path.strip_prefix(root) else {
            continue;
        };
        let mut parts = rel.components();
        let Some(service) = parts.next() else {
            continue;
        };
        let file = parts.as_path().display().to_string();
        if !file.is_empty() {
            by_service
                .entry(service.as_os_str().to_string_lossy().into_owned())
                .or_default()
                .push(file);
        }
    }
    Ok(by_service)
}

/// A service with `bootstrap: true` (or a dict with `environment` and/or `command`) gets a
/// one-shot `bootstrap_<container>` run with `KOLLA_BOOTSTRAP` before its first start, as
/// kolla's bootstrap tasks do (db sync, fernet key setup and friends).
pub(super) fn bootstrap_spec(spec: &ContainerSpec, container: &Value) -> Option<ContainerSpec> {
    let b = container
        .get_attr("bootstrap")
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_none())?;
    if b.kind() != kollars_vars::ValueKind::Map && !kollars_vars::filters::ansible_bool(&b) {
        return None;
    }
    let mut s = spec.clone();
    s.name = format!("bootstrap_{}", spec.name);
    s.environment
        .insert("KOLLA_BOOTSTRAP".into(), String::new());
    if let Ok(env) = b.get_attr("environment") {
        if let Ok(keys) = env.try_iter() {
            for k in keys {
                let v = env.get_item(&k).unwrap_or_default();
                s.environment.insert(
                    k.to_string(),
                    if v.is_none() {
                        String::new()
                    } else {
                        v.to_string()
                    },
                );
            }
        }
    }
    if let Ok(cmd) = b.get_attr("command") {
        if !cmd.is_undefined() && !cmd.is_none() {
            s.command = Some(cmd.to_string());
        }
    }
    s.healthcheck = None;
    s.restart_policy = Some(RestartPolicy::No);
    Some(s)
}

async fn for_hosts<'a, F, Fut, T>(
    runs: &'a [HostRun],
    forks: usize,
    f: F,
) -> Vec<(String, Result<T>)>
where
    F: Fn(&'a HostRun) -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let sem = Arc::new(tokio::sync::Semaphore::new(forks.max(1)));
    join_all(runs.iter().map(|r| {
        let sem = sem.clone();
        let fut = f(r);
        async move {
            let _permit = sem.acquire().await.expect("semaphore open");
            (r.rendered.host.clone(), fut.await)
        }
    }))
    .await
}

/// Reports failed hosts (those that failed acting, then those whose engine did not answer)
/// and says how the run ended: success, some hosts failed (3), or every host failed.
fn finish<T>(
    mut results: Vec<(String, Result<T>)>,
    unreachable: Vec<(String, anyhow::Error)>,
) -> ExitStatus {
    results.extend(unreachable.into_iter().map(|(h, e)| (h, Err(e))));
    let failed: Vec<_> = results.iter().filter(|(_, r)| r.is_err()).collect();
    for (host, r) in &results {
        if let Err(e) = r {
            eprintln!("host {host} FAILED: {e:#}");
        }
    }
    match (failed.len(), results.len()) {
        (0, _) => ExitStatus::Success,
        (f, n) if f == n => ExitStatus::Failure,
        _ => ExitStatus::HostFailed,
    }
}

/// `kollars deploy` / `kollars reconfigure`.
///
/// Both touch only what changed and bootstrap what is new: in kolla-ansible 49 of 51 roles'
/// `reconfigure.yml` just imports `deploy.yml`, so a service enabled later is bootstrapped by
/// whichever of the two the operator runs.
pub fn deploy(args: &DeployArgs) -> Result<ExitStatus> {
    if args.plan {
        return plan(&PlanArgs {
            engine: args.engine.clone(),
            no_diff: false,
        });
    }
    let rt = runtime()?;
    let reporter = CliReporter::new(args.engine.output);
    let Prepared {
        ws,
        runs,
        unreachable,
        ..
    } = prepare(
        &args.engine,
        &rt,
        reporter.clone(),
        Needs::DECIDE_AND_CHANGE,
    )?;
    let graph = Graph::new(&ws.catalogue);
    let results = rt.block_on(schedule::run(&runs, &graph, args.engine.forks));
    let mut summary: BTreeMap<&'static str, usize> = BTreeMap::new();
    for (_, r) in &results {
        if let Ok(actions) = r {
            for (_, a) in actions {
                *summary.entry(a.name()).or_default() += 1;
            }
        }
    }
    reporter.finish();
    if args.engine.output == OutputFormat::Text {
        reporter.line(&format!(
            "{} host(s): {}",
            results.len(),
            summary
                .iter()
                .map(|(k, v)| format!("{v} {k}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(finish(results, unreachable))
}

/// Replaces every secret from passwords.yml with `********`.
fn mask(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for s in secrets {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), "********");
        }
    }
    out
}

/// `kollars plan`: per host and container, the action and why, plus config diffs.
pub fn plan(args: &PlanArgs) -> Result<ExitStatus> {
    let rt = runtime()?;
    let reporter = CliReporter::new(args.engine.output);
    let Prepared {
        ws,
        runs,
        unreachable,
        ..
    } = prepare(&args.engine, &rt, reporter, Needs::DECIDE)?;
    let secrets = ws.config.secret_values();
    let results = rt.block_on(for_hosts(&runs, args.engine.forks, |run| async move {
        // Hosts written through their engine are read through it too (read-only).
        let remote = match &run.via_engine {
            Some(image) => Some(
                run.engine
                    .read_tree(&run.rendered.node_config_directory, image)
                    .await?,
            ),
            None => None,
        };
        let mut diffs: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        let mut rewritten: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for svc in &run.rendered.services {
            for f in &svc.files {
                let path = run
                    .rendered
                    .node_config_directory
                    .join(&svc.name)
                    .join(&f.path);
                // Bytes: a copied file may be binary, on either side.
                let old = match &remote {
                    Some(tree) => tree
                        .files
                        .get(&format!("{}/{}", svc.name, f.path))
                        .map(|t| t.content.clone())
                        .unwrap_or_default(),
                    None => std::fs::read(&path).unwrap_or_default(),
                };
                if old != f.content {
                    let shown = path.display().to_string();
                    // A unified diff of text; one line when either side is not UTF-8.
                    let d = match (std::str::from_utf8(&old), f.text()) {
                        (Ok(old), Some(new)) => similar::TextDiff::from_lines(old, new)
                            .unified_diff()
                            .header(&shown, &shown)
                            .to_string(),
                        _ => format!("binary file {shown} differs\n"),
                    };
                    diffs.entry(&svc.name).or_default().push(d);
                    rewritten
                        .entry(svc.name.clone())
                        .or_default()
                        .push(f.path.clone());
                }
            }
        }
        let mut decisions = decide_host(run, &rewritten).await?;
        let mut out = Vec::new();
        for svc in &run.rendered.services {
            let action = decisions
                .remove(&svc.name)
                .map(|d| d.action)
                .unwrap_or(Action::Nothing);
            let diffs = diffs.remove(svc.name.as_str()).unwrap_or_default();
            out.push((svc.name.clone(), action, diffs));
        }
        Ok(out)
    }));
    let mut changes = 0;
    for (host, r) in &results {
        let Ok(items) = r else { continue };
        for (svc, action, diffs) in items {
            if action.is_change() || !diffs.is_empty() {
                changes += 1;
            }
            if args.engine.output == OutputFormat::Json {
                let j = serde_json::json!({
                    "host": host, "service": svc, "action": action.name(),
                    "detail": mask(&format!("{action:?}"), &secrets),
                    "diffs": diffs.iter().map(|d| mask(d, &secrets)).collect::<Vec<_>>(),
                });
                println!("{j}");
                continue;
            }
            if !action.is_change() && diffs.is_empty() {
                continue;
            }
            println!("{host}: {svc}: {}", mask(&describe(action), &secrets));
            if !args.no_diff {
                for d in diffs {
                    print!("{}", mask(d, &secrets));
                }
            }
        }
    }
    if args.engine.output == OutputFormat::Text {
        println!("{changes} change(s) planned on {} host(s)", results.len());
    }
    Ok(finish(results, unreachable))
}

fn describe(a: &Action) -> String {
    match a {
        Action::Recreate { reasons } => format!(
            "recreate ({})",
            reasons
                .iter()
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        ),
        Action::Restart { reason } => format!("restart ({reason})"),
        other => other.name().to_string(),
    }
}

/// `kollars restart SERVICE…`.
pub fn restart(args: &RestartArgs) -> Result<ExitStatus> {
    let mut engine = args.engine.clone();
    engine.input.tags.extend(args.services.iter().cloned());
    let rt = runtime()?;
    let reporter = CliReporter::new(engine.output);
    let Prepared {
        runs, unreachable, ..
    } = prepare(&engine, &rt, reporter, Needs::CHANGE)?;
    let wanted: Vec<String> = args.services.iter().map(|s| s.replace('_', "-")).collect();
    let results = rt.block_on(for_hosts(&runs, engine.forks, |run| {
        let wanted = wanted.clone();
        async move {
            for svc in run.rendered.services.iter().filter(|s| has_container(s)) {
                let container = svc
                    .container
                    .get_attr("container_name")
                    .map(|v| v.to_string())
                    .unwrap_or_default();
                if wanted.iter().any(|w| {
                    *w == svc.name || *w == svc.project || *w == container.replace('_', "-")
                }) {
                    run.engine.restart(&container, None).await?;
                }
            }
            Ok(())
        }
    }));
    Ok(finish(results, unreachable))
}

/// `kollars check`.
pub fn check(args: &EngineArgs) -> Result<ExitStatus> {
    let rt = runtime()?;
    let reporter = CliReporter::new(args.output);
    let Prepared {
        runs, unreachable, ..
    } = prepare(args, &rt, reporter, Needs::READ)?;
    let results = rt.block_on(for_hosts(&runs, args.forks, |run| async move {
        let names: Vec<String> = run
            .rendered
            .services
            .iter()
            .filter(|s| has_container(s))
            .map(|s| {
                s.container
                    .get_attr("container_name")
                    .map(|v| v.to_string())
                    .unwrap_or_default()
            })
            .collect();
        Ok(run.engine.check(&names).await?)
    }));
    let mut bad = 0;
    for (host, r) in &results {
        if let Ok(checks) = r {
            for c in checks {
                let ok = c.status.is_ok();
                if !ok {
                    bad += 1;
                }
                match args.output {
                    OutputFormat::Json => println!(
                        "{}",
                        serde_json::json!({"host": host, "container": c.name, "ok": ok, "status": format!("{:?}", c.status)})
                    ),
                    OutputFormat::Text => println!(
                        "{host:<12} {:<28} {}",
                        c.name,
                        if ok {
                            "ok".to_string()
                        } else {
                            format!("{:?}", c.status)
                        }
                    ),
                }
            }
        }
    }
    let status = finish(results, unreachable);
    if status == ExitStatus::Success && bad > 0 {
        return Ok(ExitStatus::Failure);
    }
    Ok(status)
}

/// `kollars pull`.
pub fn pull(args: &EngineArgs) -> Result<ExitStatus> {
    let rt = runtime()?;
    let reporter = CliReporter::new(args.output);
    let Prepared {
        runs, unreachable, ..
    } = prepare(args, &rt, reporter, Needs::CHANGE)?;
    let results = rt.block_on(for_hosts(&runs, args.forks, |run| async move {
        for spec in run.specs.values() {
            run.engine.ensure_image(&spec.image).await?;
        }
        Ok(())
    }));
    Ok(finish(results, unreachable))
}

/// `kollars stop` and `kollars destroy`.
pub fn stop(args: &DangerArgs, destroy: bool) -> Result<ExitStatus> {
    if !args.confirmed {
        bail!(BadInput::new(format!(
            "{} needs --yes-i-really-really-mean-it",
            if destroy { "destroy" } else { "stop" }
        )));
    }
    let rt = runtime()?;
    let reporter = CliReporter::new(args.engine.output);
    let Prepared {
        runs, unreachable, ..
    } = prepare(&args.engine, &rt, reporter, Needs::CHANGE)?;
    let results = rt.block_on(for_hosts(&runs, args.engine.forks, |run| async move {
        if destroy {
            for c in run.engine.list_managed().await? {
                run.engine.stop_and_remove(&c.name, None).await?;
            }
        } else {
            for svc in run
                .rendered
                .services
                .iter()
                .filter(|s| has_container(s))
                .rev()
            {
                let name = svc
                    .container
                    .get_attr("container_name")
                    .map(|v| v.to_string())
                    .unwrap_or_default();
                if run.engine.inspect(&name).await?.is_some() {
                    run.engine.stop(&name, None, true).await?;
                }
            }
        }
        Ok(())
    }));
    Ok(finish(results, unreachable))
}
