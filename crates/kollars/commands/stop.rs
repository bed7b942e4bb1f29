//! `kollars stop`, `kollars destroy` and `kollars prune-images`: the commands that take
//! containers or images away, so each wants `--yes-i-really-really-mean-it`, as
//! kolla-ansible's do, or `--plan`, which lists what it would take and changes nothing.
//!
//! destroy does what kolla's destroy (its cleanup scripts) does, through each engine: every
//! kollars-managed container stopped and removed, the named volumes they mounted and kollars'
//! record volumes removed, the service directories under `node_config_directory` removed
//! (those of the catalogue's services only: files an operator keeps there stay), with
//! `--include-images` the containers' images, with `--include-dev` the
//! `kolla_dev_repos_directory`. The host's directories are removed by a one-shot container
//! of the helper image (`kollars_helper_image`) with the directory bound into it.

use std::collections::BTreeSet;

use anyhow::{bail, Context, Result};
use kollars_docker::ContainerSpec;

use crate::cli::{DangerArgs, DestroyArgs, StopArgs};
use crate::commands::prepare::{for_hosts, prepare, HostTarget, Needs, Prepared};
use crate::error::{BadInput, ExitStatus};
use crate::recorder::RunInfo;
use crate::reporter::CliReporter;

/// Refuses to act without the confirmation (a plan needs none).
fn confirmed(args: &DangerArgs, verb: &str) -> Result<()> {
    if !args.confirmed && !args.plan {
        bail!(BadInput::new(format!(
            "{verb} needs --yes-i-really-really-mean-it (or --plan, to see what it would do)"
        )));
    }
    Ok(())
}

/// Prints one planned line.
fn planned(host: &str, what: &str, subject: &str) {
    crate::outln!("{host:<12} {what:<17} {subject}");
}

async fn prepared(args: &DangerArgs, run: RunInfo) -> Result<Prepared> {
    let reporter = match args.plan {
        true => CliReporter::new(args.engine.output),
        false => CliReporter::recording(args.engine.output, run),
    };
    let needs = if args.plan {
        Needs::READ
    } else {
        Needs::CHANGE
    };
    prepare(&args.engine, reporter, needs).await
}

/// Stops every selected container (last service first). A missing one fails its host
/// unless `--ignore-missing` (kolla's `kolla_action_stop_ignore_missing`).
pub async fn stop(args: &StopArgs, run: RunInfo) -> Result<ExitStatus> {
    let danger = &args.danger;
    confirmed(danger, "stop")?;
    let prepared = prepared(danger, run).await?;
    let (plan, ignore) = (danger.plan, args.ignore_missing);
    let results = for_hosts(
        &prepared.targets,
        danger.engine.forks,
        |target| async move {
            let engine = &target.engine;
            for name in target.container_names().into_iter().rev() {
                if plan {
                    match engine.inspect(name).await? {
                        Some(_) => planned(target.host(), "stop", name),
                        None if ignore => planned(target.host(), "skip (missing)", name),
                        None => {
                            bail!("container `{name}` does not exist (--ignore-missing skips it)")
                        }
                    }
                    continue;
                }
                let stopped = engine.stop(name, None, ignore).await.with_context(|| {
                    format!("stopping `{name}` (--ignore-missing skips a missing container)")
                })?;
                if !stopped {
                    engine.report_done(name, kollars_docker::Step::Stop, "missing: skipped");
                }
            }
            Ok(())
        },
    )
    .await;
    Ok(prepared.finish(results))
}

/// The service directories destroy removes under `node_config_directory`: the catalogue's.
fn service_dirs(prepared: &Prepared) -> Vec<String> {
    prepared
        .ws
        .catalogue
        .services()
        .map(|s| s.name.clone())
        .collect()
}

/// destroy: see the module docs.
pub async fn destroy(args: &DestroyArgs, run: RunInfo) -> Result<ExitStatus> {
    let danger = &args.danger;
    confirmed(danger, "destroy")?;
    let prepared = prepared(danger, run).await?;
    let dirs = service_dirs(&prepared);
    let ws = &prepared.ws;
    let results = for_hosts(&prepared.targets, danger.engine.forks, |target| {
        let dirs = &dirs;
        async move { destroy_host(ws, target, args, dirs).await }
    })
    .await;
    Ok(prepared.finish(results))
}

async fn destroy_host(
    ws: &crate::workspace::Workspace,
    target: &HostTarget,
    args: &DestroyArgs,
    dirs: &[String],
) -> Result<()> {
    let (host, engine, plan) = (target.host(), &target.engine, args.danger.plan);
    let mut volumes = BTreeSet::new();
    let mut images = BTreeSet::new();
    for c in engine.list_managed().await? {
        if let Some((v, _)) = engine.container_footprint(&c.name).await? {
            volumes.extend(v);
        }
        images.insert(c.image.clone());
        match plan {
            true => planned(host, "remove container", &c.name),
            false => {
                engine.stop_and_remove(&c.name, None).await?;
            }
        }
    }
    volumes.extend(engine.record_volumes().await?);
    for v in &volumes {
        match plan {
            true => planned(host, "remove volume", v),
            false => {
                engine.remove_volume(v).await?;
            }
        }
    }
    let config_dir = target.rendered.node_config_directory.display().to_string();
    let helper = crate::settings::helper_image(&ws.vars, host)?;
    // the service directories there are (a probe lists them; a bind makes a missing
    // node_config_directory, which kolla makes anyway)
    let listing = engine
        .run_probe(
            &helper,
            "ls -1A /kollars-config",
            &[(config_dir.as_str(), "/kollars-config")],
        )
        .await?;
    let present: BTreeSet<&str> = listing.lines().collect();
    let mut script = Vec::new();
    for d in dirs.iter().filter(|d| present.contains(d.as_str())) {
        match plan {
            true => planned(host, "remove directory", &format!("{config_dir}/{d}")),
            false => script.push(format!("/kollars-destroy/config/{}", d)),
        }
    }
    let mut binds = vec![format!("{config_dir}:/kollars-destroy/config")];
    if args.include_dev {
        let dev = ws.host_text(host, "kolla_dev_repos_directory")?;
        let dev = dev.trim_end_matches('/');
        let (parent, name) = dev.rsplit_once('/').unwrap_or(("", dev));
        if name.is_empty() {
            bail!(BadInput::new(format!(
                "host {host}: kolla_dev_repos_directory `{dev}` names no directory to remove"
            )));
        }
        let parent = if parent.is_empty() { "/" } else { parent };
        match plan {
            true => planned(host, "remove directory", dev),
            false => {
                binds.push(format!("{parent}:/kollars-destroy/dev"));
                script.push(format!("/kollars-destroy/dev/{name}"));
            }
        }
    }
    if !plan && !script.is_empty() {
        remove_dirs(engine, &helper, binds, &script).await?;
    }
    if args.include_images {
        for name in &images {
            match plan {
                true => planned(host, "remove image", name),
                false => {
                    engine.remove_image(name).await?;
                }
            }
        }
    }
    Ok(())
}

/// Removes `paths` (inside the helper container, `binds` mounted) with one one-shot.
pub(crate) async fn remove_dirs(
    engine: &kollars_docker::Engine,
    helper: &str,
    binds: Vec<String>,
    paths: &[String],
) -> Result<()> {
    let quoted: Vec<String> = paths.iter().map(|p| format!("'{p}'")).collect();
    let spec = ContainerSpec {
        name: "kollars_destroy_dirs".into(),
        image: helper.to_owned(),
        command: Some(format!("sh -c \"rm -rf {}\"", quoted.join(" "))),
        volumes: binds,
        ..ContainerSpec::default()
    };
    // the one-shot's own name may be left by a killed run
    engine.stop_and_remove(&spec.name, None).await?;
    engine.ensure_image(helper).await?;
    engine.run_oneshot(&spec).await?;
    Ok(())
}

/// prune-images: the images whose name is under the host's `docker_image_url` (or that
/// carry kolla's `kolla_version` label) and that no container on the host, running or not,
/// was made from.
pub async fn prune_images(args: &DangerArgs, run: RunInfo) -> Result<ExitStatus> {
    confirmed(args, "prune-images")?;
    let prepared = prepared(args, run).await?;
    let ws = &prepared.ws;
    let plan = args.plan;
    let results =
        for_hosts(&prepared.targets, args.engine.forks, |target| async move {
            let (host, engine) = (target.host(), &target.engine);
            let prefix = ws.host_text(host, "docker_image_url")?;
            let used = engine.images_in_use().await?;
            for image in engine.list_images().await? {
                let kolla = image.labels.contains_key("kolla_version")
                    || (!prefix.is_empty() && image.tags.iter().any(|t| t.starts_with(&prefix)));
                if !kolla || used.contains(&image.id) {
                    continue;
                }
                // by name: an ID shared with another namespace's tag keeps that tag
                for name in image.tags.iter().filter(|t| {
                    image.labels.contains_key("kolla_version") || t.starts_with(&prefix)
                }) {
                    match plan {
                        true => planned(host, "remove image", name),
                        false => {
                            engine.remove_image(name).await?;
                            engine.report_done(name, kollars_docker::Step::Remove, "image pruned");
                        }
                    }
                }
            }
            Ok(())
        })
        .await;
    Ok(prepared.finish(results))
}
