//! `kollars gather-facts`: kolla-ansible's `gather-facts`, whose facts land in Ansible's fact
//! cache. Here the cache is the directory `--facts DIR` names, one `<host>.json` per selected
//! host in the form `--facts` reads back ([`kollars_inputs::facts::load_facts`]), so later
//! runs need not probe each remote host again. A local host's facts are gathered natively,
//! the others' by the fact probe through their engines, all at once; every file is replaced
//! atomically, and only when it changed.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::cli::GatherFactsArgs;
use crate::error::{BadInput, ExitStatus};
use crate::workspace::Workspace;

/// The files' mode: facts are no secret, but the operator's own.
const MODE: u32 = 0o644;

/// `kollars gather-facts`.
pub async fn gather_facts(args: &GatherFactsArgs) -> Result<ExitStatus> {
    let Some(dir) = args.input.facts.clone() else {
        return Err(BadInput::new(
            "gather-facts needs --facts DIR: the directory it writes <host>.json into",
        )
        .into());
    };
    if args.plan {
        // gathers nothing: the selected hosts' names are enough
        let inv =
            kollars_inputs::Inventory::load(&args.input.inventory).map_err(BadInput::from_err)?;
        let hosts = crate::workspace::select_hosts(&inv, &args.input.limit)?;
        for h in hosts {
            crate::outln!("write {}", file(&dir, &h).display());
        }
        return Ok(ExitStatus::Success);
    }
    let facts = Workspace::gather_facts(&args.input).await?;
    std::fs::create_dir_all(&dir).with_context(|| format!("making {}", dir.display()))?;
    let (mut written, mut same) = (0, 0);
    for (host, f) in &facts {
        let path = file(&dir, host);
        let mut text = serde_json::to_string_pretty(f)?;
        text.push('\n');
        if std::fs::read(&path).is_ok_and(|old| old == text.as_bytes()) {
            same += 1;
            continue;
        }
        kollars_tree::replace_file(&path, text.as_bytes(), MODE)
            .map_err(|e| e.source)
            .with_context(|| format!("writing {}", path.display()))?;
        written += 1;
    }
    crate::errln!(
        "gather-facts: {}: {written} written, {same} unchanged",
        dir.display()
    );
    Ok(ExitStatus::Success)
}

fn file(dir: &std::path::Path, host: &str) -> PathBuf {
    dir.join(format!("{host}.json"))
}
