//! Resolving the command line into one loaded workspace: inventory, configuration directory,
//! facts, service catalogue and variables, checked before any command acts.
//!
//! Facts come from `--facts DIR`, else from this machine for local hosts. Commands that talk to
//! engines ([`Workspace::load_with_engines`]) gather the facts of the other hosts through
//! their engines ([`crate::facts`]), once, all hosts at once, after every input has been read
//! and checked, and resolve each selected host's [`HostSettings`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use kollars_docker::Engine;
use kollars_inputs::{ConfigDir, Facts, Inventory};
use kollars_services::Catalogue;
use kollars_vars::{Vars, VarsBuilder};

use crate::cli::InputArgs;
use crate::error::BadInput;
use crate::facts;
use crate::settings::{self, is_local, HostSettings, Reach, Transfer};

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
    /// Each selected host's settings (commands that talk to engines; empty otherwise).
    pub settings: BTreeMap<String, HostSettings>,
    /// Engines connected while gathering facts, by host: the command reuses them, so each
    /// host is connected once per run.
    pub connected: BTreeMap<String, Engine>,
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

impl Workspace {
    /// Loads and validates every input named on the command line. Remote hosts need
    /// `--facts`.
    pub fn load(args: &InputArgs) -> Result<Workspace> {
        let inputs = Inputs::load(args)?;
        if let Some(host) = inputs.missing.first() {
            return Err(BadInput::new(format!(
                "no facts for host {host}: pass --facts DIR with {host}.json (commands that \
                 talk to engines gather them through the host's engine)"
            ))
            .into());
        }
        let vars = inputs.vars();
        Ok(inputs.into_workspace(vars, BTreeMap::new(), BTreeMap::new()))
    }

    /// Like [`Workspace::load`], for commands that talk to engines: the facts of remote hosts
    /// that `--facts` does not give are gathered through their engines (all inventory hosts,
    /// as templates read other hosts' facts too), once, in parallel; then every selected
    /// host's [`HostSettings`] is resolved, and the engines connected for facts are kept.
    pub async fn load_with_engines(args: &InputArgs) -> Result<Workspace> {
        let mut inputs = Inputs::load(args)?;
        let mut reach = BTreeMap::new();
        let mut timezones = BTreeMap::new();
        let mut connected = BTreeMap::new();
        if !inputs.missing.is_empty() {
            // Where each host's engine is and which image probes it come from the inputs
            // alone (no facts yet): bad input stops here, before any engine is contacted.
            let pre = inputs.vars();
            let mut targets = Vec::new();
            for host in &inputs.missing {
                let r = Reach::resolve(&pre, &inputs.inventory, host, args.engine_timeout)?;
                let image = match &r.transfer {
                    Transfer::Engine(image) => image.clone(),
                    Transfer::Local => settings::helper_image(&pre, host)?,
                };
                targets.push(facts::FactsTarget {
                    host: host.clone(),
                    reach: r,
                    image,
                });
            }
            for g in facts::gather(targets).await? {
                if let Some(tz) = g.timezone {
                    timezones.insert(g.host.clone(), tz);
                }
                inputs.known.insert(g.host.clone(), g.facts);
                reach.insert(g.host.clone(), g.reach);
                connected.insert(g.host, g.engine);
            }
        }
        let vars = inputs.vars();
        let mut settings = BTreeMap::new();
        for host in &inputs.hosts {
            let r = match reach.remove(host) {
                Some(r) => r,
                None => Reach::resolve(&vars, &inputs.inventory, host, args.engine_timeout)?,
            };
            let s = HostSettings::resolve(&vars, host, r, timezones.remove(host))?;
            settings.insert(host.clone(), s);
        }
        Ok(inputs.into_workspace(vars, settings, connected))
    }

    /// A variable of `host`, evaluated, as text (bad input when it cannot be).
    pub fn host_text(&self, host: &str, name: &str) -> Result<String> {
        let scope = self.vars.host(host).map_err(BadInput::from_err)?;
        scope
            .get(name)
            .map(|v| v.to_string())
            .map_err(|e| BadInput::from_err(format!("host {host}: cannot evaluate {name}: {e}")))
    }

    /// The facts of every selected host, gathered afresh (`gather-facts`): a local host's
    /// natively, the others' through their engines (the fact probe, all at once); `--facts`
    /// is not read.
    pub async fn gather_facts(args: &InputArgs) -> Result<BTreeMap<String, Facts>> {
        let mut fresh = args.clone();
        fresh.facts = None;
        let inputs = Inputs::load(&fresh)?;
        let pre = inputs.vars();
        let mut out = BTreeMap::new();
        let mut targets = Vec::new();
        for host in &inputs.hosts {
            if let Some(f) = inputs.known.get(host) {
                out.insert(host.clone(), f.clone());
                continue;
            }
            let r = Reach::resolve(&pre, &inputs.inventory, host, args.engine_timeout)?;
            let image = match &r.transfer {
                Transfer::Engine(image) => image.clone(),
                Transfer::Local => settings::helper_image(&pre, host)?,
            };
            targets.push(facts::FactsTarget {
                host: host.clone(),
                reach: r,
                image,
            });
        }
        for g in facts::gather(targets).await? {
            out.insert(g.host, g.facts);
        }
        Ok(out)
    }

    /// The selection for the renderer.
    pub fn selection(&self) -> kollars_render::Selection {
        kollars_render::Selection {
            hosts: self.hosts.clone(),
            services: self.services.clone(),
        }
    }
}

/// The inputs read and checked, before the variables are built (which needs every host's
/// facts).
struct Inputs {
    inventory: Inventory,
    config: ConfigDir,
    catalogue: Catalogue,
    templates: PathBuf,
    hosts: Vec<String>,
    services: Vec<String>,
    /// Facts known so far, by host.
    known: BTreeMap<String, Facts>,
    /// Hosts with no facts yet, whose facts only their engine can tell.
    missing: Vec<String>,
}

impl Inputs {
    fn load(args: &InputArgs) -> Result<Inputs> {
        let inventory = Inventory::load(&args.inventory).map_err(BadInput::from_err)?;
        let config = ConfigDir::load(&args.configdir, args.passwords.as_deref(), &args.extra_vars)
            .map_err(|e| {
                let what_next = matches!(&e, kollars_inputs::InputError::Read { path, .. }
                    if *path == args.configdir);
                let e = BadInput::from_err(e);
                match what_next {
                    // the directory itself: say where it comes from
                    true => e.context(
                        "the configuration directory (--configdir, or KOLLA_CONFIG_PATH; \
                         default /etc/kolla, holding globals.yml and passwords.yml)",
                    ),
                    false => e,
                }
            })?;
        // from here on, nothing kollars prints shows a password (see crate::out)
        crate::out::set_masker(config.masker());
        // what Ansible accepts with a warning (a duplicate YAML key), kollars does too
        for w in inventory.warnings.iter().chain(&config.warnings) {
            crate::errln!("warning: {w}");
        }
        let data = data_dir(args.data_dir.as_deref())?;
        let catalogue = Catalogue::load(&data.join("services")).map_err(BadInput::from_err)?;
        let hosts = select_hosts(&inventory, &args.limit)?;
        for t in &args.tags {
            let dashed = t.replace('_', "-");
            let known = catalogue
                .projects
                .iter()
                .any(|p| p.name == dashed || p.services.iter().any(|s| s.name == dashed));
            if !known {
                let names = catalogue.projects.iter().flat_map(|p| {
                    std::iter::once(p.name.as_str())
                        .chain(p.services.iter().map(|s| s.name.as_str()))
                });
                let hint = match closest(&dashed, names) {
                    Some(n) => format!("; did you mean {n}?"),
                    None => format!(
                        "; the projects are the files of {}",
                        data.join("services").display()
                    ),
                };
                return Err(
                    BadInput::new(format!("-t {t}: no such service or project{hint}")).into(),
                );
            }
        }
        let mut known = BTreeMap::new();
        let mut missing = Vec::new();
        for host in inventory.hosts.keys() {
            let f = match &args.facts {
                Some(dir) => {
                    kollars_inputs::facts::load_facts(dir, host).map_err(BadInput::from_err)?
                }
                None => None,
            };
            match f {
                Some(f) => {
                    known.insert(host.clone(), f);
                }
                None if is_local(&inventory, host) => {
                    known.insert(host.clone(), kollars_inputs::facts::gather_local());
                }
                None => missing.push(host.clone()),
            }
        }
        Ok(Inputs {
            inventory,
            config,
            catalogue,
            templates: data.join("templates"),
            hosts,
            services: args.tags.clone(),
            known,
            missing,
        })
    }

    /// Every host's variables, with the facts known so far.
    fn vars(&self) -> Vars {
        let mut builder = VarsBuilder::new()
            .templates_dir(self.templates.clone())
            .global_defaults(self.catalogue.global_defaults.clone())
            .project_defaults(self.catalogue.project_defaults.clone());
        for (host, f) in &self.known {
            builder = builder.facts(host, f.clone());
        }
        builder.build(&self.inventory, &self.config)
    }

    fn into_workspace(
        self,
        vars: Vars,
        settings: BTreeMap<String, HostSettings>,
        connected: BTreeMap<String, Engine>,
    ) -> Workspace {
        Workspace {
            inventory: self.inventory,
            config: self.config,
            catalogue: self.catalogue,
            vars,
            hosts: self.hosts,
            services: self.services,
            settings,
            connected,
        }
    }
}

/// The hosts `--limit` selects (hosts or groups), in inventory order without it.
pub(crate) fn select_hosts(inventory: &Inventory, limit: &[String]) -> Result<Vec<String>> {
    if limit.is_empty() {
        return Ok(inventory.hosts.keys().cloned().collect());
    }
    let mut hosts: Vec<String> = Vec::new();
    for l in limit {
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
    Ok(hosts)
}

/// The name of `names` nearest to `wanted` (at most two edits away), for a "did you mean".
fn closest<'a>(wanted: &str, names: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    fn edits(a: &str, b: &str) -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut row: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut prev = row[0];
            row[0] = i + 1;
            for (j, cb) in b.iter().enumerate() {
                let cur = row[j + 1];
                row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
                prev = cur;
            }
        }
        row[b.len()]
    }
    names
        .map(|n| (edits(wanted, n), n))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_near_name_is_suggested() {
        let names = ["nova", "nova-api", "keystone", "glance-api"];
        assert_eq!(
            super::closest("keystnoe", names.into_iter()),
            Some("keystone")
        );
        assert_eq!(
            super::closest("nova-apis", names.into_iter()),
            Some("nova-api")
        );
        assert_eq!(super::closest("zun", names.into_iter()), None);
    }
}
