//! `kollars genconfig`: render every selected host's config tree and write it.

use anyhow::Result;

use crate::cli::GenconfigArgs;
use crate::commands::BadInput;
use crate::workspace::{is_local, Workspace};
use crate::ExitStatus;

/// Renders all hosts in memory, then writes them; a render error writes nothing.
pub fn run(args: &GenconfigArgs) -> Result<ExitStatus> {
    let ws = Workspace::load(&args.input)?;
    if args.output.is_none() {
        if let Some(remote) = ws.hosts.iter().find(|h| !is_local(&ws.inventory, h)) {
            return Err(BadInput::new(format!(
                "host {remote} is not local: use --output DIR, or `kollars deploy` to write over its engine connection"
            ))
            .into());
        }
    }
    let rendered = kollars_render::render_all(&ws.vars, &ws.catalogue, &ws.selection())
        .map_err(BadInput::from_err)?;
    let mut files = 0usize;
    let mut changed = 0usize;
    for host in &rendered {
        let root = match &args.output {
            Some(out) => out.join(&host.host),
            None => host.node_config_directory.clone(),
        };
        changed += kollars_render::write_host(&root, host)?.len();
        files += host.services.iter().map(|s| s.files.len()).sum::<usize>();
    }
    eprintln!(
        "rendered {} host(s), {} service directories, {files} files ({changed} changed)",
        rendered.len(),
        rendered.iter().map(|h| h.services.len()).sum::<usize>()
    );
    Ok(ExitStatus::Success)
}
