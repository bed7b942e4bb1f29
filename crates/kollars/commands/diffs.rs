//! The config files a deploy would rewrite on a host, as unified diffs against what is there
//! (read where deploy writes: this machine's filesystem or through the engine). `plan`
//! prints them; `deploy --report` keeps them in its record. Unmasked: the caller masks.

use std::collections::BTreeMap;

use anyhow::Result;

use super::converge::Rewritten;
use super::prepare::HostTarget;

/// Per service, the diffs of its files that differ, and the files that would be rewritten.
pub async fn config_diffs(
    target: &HostTarget,
) -> Result<(BTreeMap<String, Vec<String>>, Rewritten)> {
    let current = target.destination().read(&target.rendered).await?;
    let root = &target.rendered.node_config_directory;
    let mut diffs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut rewritten: Rewritten = BTreeMap::new();
    for svc in &target.rendered.services {
        for f in &svc.files {
            // Bytes: a copied file may be binary, on either side.
            let old = current
                .files
                .get(&format!("{}/{}", svc.name, f.path))
                .map(|f| f.content.as_slice())
                .unwrap_or_default();
            if old != f.content.as_slice() {
                let shown = root.join(&svc.name).join(&f.path).display().to_string();
                // A unified diff of text; one line when either side is not UTF-8.
                let d = match (std::str::from_utf8(old), f.text()) {
                    (Ok(old), Some(new)) => similar::TextDiff::from_lines(old, new)
                        .unified_diff()
                        .header(&shown, &shown)
                        .to_string(),
                    _ => format!("binary file {shown} differs\n"),
                };
                diffs.entry(svc.name.clone()).or_default().push(d);
                rewritten
                    .entry(svc.name.clone())
                    .or_default()
                    .push(f.path.clone());
            }
        }
    }
    Ok((diffs, rewritten))
}
