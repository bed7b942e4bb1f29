//! Facts of remote hosts, gathered through their engines.
//!
//! A host without `--facts` that Ansible would not run locally has its facts gathered the way
//! kolla-ansible's `gather_facts` would, but through the host's engine: the fact probe
//! ([`kollars_inputs::facts_text`]) runs once, in a one-shot helper container with the host's
//! network and filesystem, for all such hosts at once. The engine connected for it is handed
//! on to the command, so each host is connected once per run.

use anyhow::{Context, Result};
use kollars_docker::Engine;
use kollars_inputs::{facts_text, Facts};

use crate::settings::Reach;

/// One host whose facts are gathered through its engine.
pub struct FactsTarget {
    /// Inventory host.
    pub host: String,
    /// How it is reached.
    pub reach: Reach,
    /// Probe image.
    pub image: String,
}

/// What the probe found on one host.
pub struct Gathered {
    /// Inventory host.
    pub host: String,
    /// How it is reached (as resolved for the probe).
    pub reach: Reach,
    /// Facts in fact-cache form.
    pub facts: Facts,
    /// The host's time zone, if it says.
    pub timezone: Option<String>,
    /// The engine, connected.
    pub engine: Engine,
}

/// Gathers the facts of every target at once: connect, pull the probe image if missing, run
/// the probe, parse. Fails naming every host that failed.
pub async fn gather(targets: Vec<FactsTarget>) -> Result<Vec<Gathered>> {
    let results = futures_util::future::join_all(targets.into_iter().map(|t| async move {
        let engine = t.reach.connect(&t.host).await?;
        let text = engine
            .run_probe(
                &t.image,
                facts_text::GATHER_SCRIPT,
                facts_text::GATHER_BINDS,
            )
            .await?;
        let facts = facts_text::parse(&text).with_context(|| {
            format!(
                "host {} at {}: gathering facts with {}",
                t.host, t.reach.endpoint, t.image
            )
        })?;
        Ok::<_, anyhow::Error>(Gathered {
            host: t.host,
            reach: t.reach,
            facts,
            timezone: facts_text::timezone(&text),
            engine,
        })
    }))
    .await;
    let mut ok = Vec::new();
    let mut failed = Vec::new();
    for r in results {
        match r {
            Ok(g) => ok.push(g),
            Err(e) => failed.push(format!("{e:#}")),
        }
    }
    if !failed.is_empty() {
        anyhow::bail!(
            "gathering facts through the engine failed on {} host(s) (or pass --facts DIR):\n  {}",
            failed.len(),
            failed.join("\n  ")
        );
    }
    Ok(ok)
}
