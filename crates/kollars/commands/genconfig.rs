//! `kollars genconfig`: render every selected host's config tree and write it.
//!
//! With `--output DIR`, every host goes to `DIR/<host>/` on this machine and no engine is
//! contacted (remote hosts then need `--facts`). Without it, each host's tree goes to its
//! `node_config_directory` the way `deploy` writes it: on this machine's filesystem for a local
//! `unix://` engine, through the host's engine otherwise (or with
//! `kollars_config_transfer: engine`); facts of remote hosts are gathered through their engines.

use anyhow::{Context, Result};
use futures_util::future::join_all;
use kollars_docker::Engine;

use crate::cli::GenconfigArgs;
use crate::commands::BadInput;
use crate::hosts;
use crate::workspace::Workspace;
use crate::ExitStatus;

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Renders all hosts in memory, then writes them; a render error writes nothing.
pub fn run(args: &GenconfigArgs) -> Result<ExitStatus> {
    let rt = match &args.output {
        Some(_) => None,
        None => Some(runtime()?),
    };
    let ws = match &rt {
        Some(rt) => Workspace::load_with_engines(&args.input, rt)?,
        None => Workspace::load(&args.input)?,
    };
    let rendered = kollars_render::render_all(&ws.vars, &ws.catalogue, &ws.selection())
        .map_err(BadInput::from_err)?;
    let files: usize = rendered
        .iter()
        .flat_map(|h| &h.services)
        .map(|s| s.files.len())
        .sum();
    // Which hosts go through their engine, decided (bad input included) before any write.
    let mut remote = Vec::new();
    let mut local = Vec::new();
    for host in &rendered {
        match (&args.output, &rt) {
            (Some(out), _) => local.push((out.join(&host.host), host)),
            (None, Some(_)) => {
                let (ep, tls) = hosts::endpoint(&ws.vars, &ws.inventory, &host.host)?;
                if hosts::through_engine(&ws.vars, &host.host, &ep, tls.as_deref())? {
                    let image = hosts::helper_image(&ws.vars, &host.host)?;
                    remote.push((host, ep, tls, image));
                } else {
                    local.push((host.node_config_directory.clone(), host));
                }
            }
            (None, None) => unreachable!("a runtime exists without --output"),
        }
    }
    let mut changed = 0usize;
    for (root, host) in &local {
        changed += kollars_render::write_host(root, host)
            .with_context(|| format!("host {}: writing configs", host.host))?
            .len();
    }
    let mut failed = Vec::new();
    if let Some(rt) = &rt {
        let results = rt.block_on(join_all(remote.iter().map(
            |(host, ep, tls, image)| async move {
                let engine = Engine::connect(&host.host, ep, tls.as_deref()).await?;
                hosts::write_through_engine(&engine, host, image).await
            },
        )));
        for ((host, ..), r) in remote.iter().zip(results) {
            match r {
                Ok(c) => changed += c.len(),
                Err(e) => failed.push(format!("host {}: {e:#}", host.host)),
            }
        }
    }
    eprintln!(
        "rendered {} host(s), {} service directories, {files} files ({changed} changed)",
        rendered.len(),
        rendered.iter().map(|h| h.services.len()).sum::<usize>()
    );
    for f in &failed {
        eprintln!("{f}");
    }
    Ok(match failed.len() {
        0 => ExitStatus::Success,
        n if n == rendered.len() => ExitStatus::Failure,
        _ => ExitStatus::HostFailed,
    })
}
