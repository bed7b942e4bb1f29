//! `kollars genconfig`: render every selected host's config tree and write it.
//!
//! With `--output DIR`, every host goes to `DIR/<host>/` on this machine and no engine is
//! contacted (remote hosts then need `--facts`). Without it, each host's tree goes where
//! `deploy` writes it ([`crate::configs`]): on this machine's filesystem for a local `unix://`
//! engine, through the host's engine otherwise (or with `kollars_config_transfer: engine`);
//! facts of remote hosts are gathered through their engines.

use anyhow::Result;
use futures_util::future::join_all;

use crate::cli::GenconfigArgs;
use crate::configs::Destination;
use crate::error::{BadInput, ExitStatus};
use crate::settings::Transfer;
use crate::workspace::Workspace;

/// Renders all hosts in memory, then writes them; a render error writes nothing.
pub async fn genconfig(args: &GenconfigArgs) -> Result<ExitStatus> {
    let mut ws = match &args.output {
        Some(_) => Workspace::load(&args.input)?,
        None => Workspace::load_with_engines(&args.input).await?,
    };
    let rendered = tokio::task::block_in_place(|| {
        kollars_render::render_all(&ws.vars, &ws.catalogue, &ws.selection())
    })
    .map_err(BadInput::from_err)?;
    let files: usize = rendered
        .iter()
        .flat_map(|h| &h.services)
        .map(|s| s.files.len())
        .sum();
    // Where each host goes is known (bad input included) before any write.
    let mut local = Vec::new();
    let mut remote = Vec::new();
    for host in &rendered {
        match &args.output {
            Some(out) => local.push((out.join(&host.host), host)),
            None => {
                let settings = &ws.settings[&host.host];
                match &settings.reach.transfer {
                    Transfer::Local => local.push((host.node_config_directory.clone(), host)),
                    Transfer::Engine(image) => remote.push((
                        host,
                        settings.reach.clone(),
                        image.clone(),
                        ws.connected.remove(&host.host),
                    )),
                }
            }
        }
    }
    let mut changed = 0usize;
    for (root, host) in local {
        changed += Destination::Local(root).write(host).await?.len();
    }
    let results = join_all(
        remote
            .iter()
            .map(|(host, reach, image, connected)| async move {
                let engine = match connected {
                    Some(e) => e.clone(),
                    None => reach.connect(&host.host).await?,
                };
                Destination::Engine(&engine, image).write(host).await
            }),
    )
    .await;
    let mut failed = Vec::new();
    for ((host, ..), r) in remote.iter().zip(results) {
        match r {
            Ok(c) => changed += c.len(),
            Err(e) => failed.push(format!("host {}: {e:#}", host.host)),
        }
    }
    crate::errln!(
        "rendered {} host(s), {} service directories, {files} files ({changed} changed)",
        rendered.len(),
        rendered.iter().map(|h| h.services.len()).sum::<usize>()
    );
    for f in &failed {
        crate::errln!("{f}");
    }
    Ok(ExitStatus::of_hosts(failed.len(), rendered.len()))
}
