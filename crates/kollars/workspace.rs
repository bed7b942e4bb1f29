//! Resolving the command line into one loaded workspace: inventory, configuration directory,
//! facts, service catalogue and variables, checked before any command acts.
//!
//! Facts come from `--facts DIR`, else from this machine for local hosts. Commands that talk to
//! engines ([`Workspace::load_with_engines`]) gather the facts of the other hosts through
//! their engines, once, all hosts at once, after every input has been read and checked.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use kollars_inputs::{facts, ConfigDir, Inventory};
use kollars_services::Catalogue;
use kollars_vars::{Vars, VarsBuilder};

use crate::cli::InputArgs;
use crate::commands::BadInput;
use crate::hosts;

/// Everything a command needs, loaded and validated.
pub struct Workspace {
    /// The inventory.
    pub inventory: Inventory,
    /// globals, passwords, extra vars.
    pub config: ConfigDir,
    /// Service definitions.
    pub catalogue: Catalogue,
    /// Every host's variables.
    pub vars: Vars,
    /// Selected hosts (after --limit), in inventory order.
    pub hosts: Vec<String>,
    /// Selected services/projects (after -t; empty = all).
    pub services: Vec<String>,
    /// Time zones of the hosts whose facts were gathered through their engines.
    pub timezones: BTreeMap<String, String>,
}

/// Finds the directory holding `services/` and `templates/`.
pub fn data_dir(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(d) = explicit {
        return Ok(d.to_path_buf());
    }
    if let Ok(exe) = std::env::current_exe() {
        if let Some(bin) = exe.parent() {
            let share = bin.join("../share/kollars");
            if share.join("services").is_dir() {
                return Ok(share);
            }
        }
    }
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if src.join("services").is_dir() {
        return Ok(src);
    }
    Err(BadInput::new("cannot find kollars' services/ and templates/; pass --data-dir").into())
}

/// Whether Ansible would run this host locally (no remote facts needed).
pub fn is_local(inventory: &Inventory, host: &str) -> bool {
    let vars = &inventory.hosts[host];
    matches!(
        vars.get("ansible_connection").and_then(|v| v.as_str()),
        Some("local")
    ) || matches!(host, "localhost" | "127.0.0.1")
}

impl Workspace {
    /// Loads and validates every input named on the command line. Remote hosts need
    /// `--facts`.
    pub fn load(args: &InputArgs) -> Result<Workspace> {
        Workspace::load_inner(args, None)
    }

    /// Like [`Workspace::load`], for commands that talk to engines: the facts of remote hosts
    /// that `--facts` does not give are gathered through their engines (all inventory hosts,
    /// as templates read other hosts' facts too), once, in parallel.
    pub fn load_with_engines(args: &InputArgs, rt: &tokio::runtime::Runtime) -> Result<Workspace> {
        Workspace::load_inner(args, Some(rt))
    }

    fn load_inner(args: &InputArgs, rt: Option<&tokio::runtime::Runtime>) -> Result<Workspace> {
        let inventory = Inventory::load(&args.inventory).map_err(BadInput::from_err)?;
        let config = ConfigDir::load(&args.configdir, args.passwords.as_deref(), &args.extra_vars)
            .map_err(BadInput::from_err)?;
        let data = data_dir(args.data_dir.as_deref())?;
        let catalogue = Catalogue::load(&data.join("services")).map_err(BadInput::from_err)?;

        let mut hosts: Vec<String> = Vec::new();
        if args.limit.is_empty() {
            hosts = inventory.hosts.keys().cloned().collect();
        } else {
            for l in &args.limit {
                if inventory.hosts.contains_key(l) {
                    if !hosts.contains(l) {
                        hosts.push(l.clone());
                    }
                } else if inventory.groups.contains_key(l) {
                    for h in inventory.group_hosts(l) {
                        if !hosts.contains(&h) {
                            hosts.push(h);
                        }
                    }
                } else {
                    return Err(BadInput::new(format!(
                        "--limit {l}: no such host or group in the inventory ({})",
                        inventory
                            .sources
                            .iter()
                            .map(|p| p.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                    .into());
                }
            }
        }
        for t in &args.tags {
            let dashed = t.replace('_', "-");
            let known = catalogue
                .projects
                .iter()
                .any(|p| p.name == dashed || p.services.iter().any(|s| s.name == dashed));
            if !known {
                return Err(BadInput::new(format!("-t {t}: no such service or project")).into());
            }
        }

        let build = |facts: &BTreeMap<String, kollars_inputs::Facts>| {
            let mut builder = VarsBuilder::new()
                .templates_dir(data.join("templates"))
                .global_defaults(catalogue.global_defaults.clone())
                .project_defaults(catalogue.project_defaults.clone());
            for (host, f) in facts {
                builder = builder.facts(host, f.clone());
            }
            builder.build(&inventory, &config)
        };
        let mut known = BTreeMap::new();
        let mut missing = Vec::new();
        for host in inventory.hosts.keys() {
            let f = match &args.facts {
                Some(dir) => facts::load_facts(dir, host).map_err(BadInput::from_err)?,
                None => None,
            };
            match f {
                Some(f) => {
                    known.insert(host.clone(), f);
                }
                None if is_local(&inventory, host) => {
                    known.insert(host.clone(), facts::gather_local());
                }
                None => missing.push(host.clone()),
            }
        }
        let mut timezones = BTreeMap::new();
        if let Some(host) = missing.first() {
            let Some(rt) = rt else {
                return Err(BadInput::new(format!(
                    "no facts for host {host}: pass --facts DIR with {host}.json (commands that \
                     talk to engines gather them through the host's engine)"
                ))
                .into());
            };
            // Where each host's engine is and which image probes it come from the inputs
            // alone (no facts yet): bad input stops here, before any engine is contacted.
            let pre = build(&known);
            let mut targets = Vec::new();
            for host in &missing {
                let (endpoint, tls) = hosts::endpoint(&pre, &inventory, host)?;
                hosts::through_engine(&pre, host, &endpoint, tls.as_deref())?;
                let image = hosts::helper_image(&pre, host)?;
                targets.push(hosts::FactsTarget {
                    host: host.clone(),
                    endpoint,
                    tls,
                    image,
                });
            }
            for g in rt.block_on(hosts::gather_facts(targets))? {
                if let Some(tz) = g.timezone {
                    timezones.insert(g.host.clone(), tz);
                }
                known.insert(g.host, g.facts);
            }
        }
        let vars = build(&known);
        Ok(Workspace {
            inventory,
            config,
            catalogue,
            vars,
            hosts,
            services: args.tags.clone(),
            timezones,
        })
    }

    /// The selection for the renderer.
    pub fn selection(&self) -> kollars_render::Selection {
        kollars_render::Selection {
            hosts: self.hosts.clone(),
            services: self.services.clone(),
        }
    }
}
