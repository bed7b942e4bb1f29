//! Ansible inventories, INI and YAML, read the way Ansible reads them.
//!
//! Operators already have an inventory for kolla-ansible, so kollars reads the same files:
//! groups, `[group:children]`, `[group:vars]`, host variables on host lines, host ranges such
//! as `ctl[01:03]`, the YAML form, and several `-i` sources merged in order.
//!
//! Two details of Ansible's behaviour matter for rendering and are kept here:
//! - `groups[name]` lists the group's own hosts first, then its descendants breadth-first,
//!   each host once, in file order (Ansible's `Group.get_hosts`);
//! - group variables are applied in (depth, name) order, so a child group's value beats its
//!   parent's, and host-line variables beat every group.
//!
//! Each syntax has its own module (`ini`, `yaml`, host ranges in `pattern`); they all fill
//! the same [`Inventory`], and what Ansible derives from it (group membership, the order of
//! `groups[…]`, group variable precedence) is in `groups`, so both syntaxes answer alike.

mod groups;
mod ini;
mod pattern;
#[cfg(test)]
mod tests;
mod yaml;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use indexmap::{IndexMap, IndexSet};
use serde_yaml::Value;

use crate::error::InputError;

pub use pattern::expand_host_pattern;

/// One inventory group as written: its own hosts, child groups and variables.
#[derive(Debug, Clone, Default)]
pub struct Group {
    /// Hosts listed directly in the group, in file order.
    pub hosts: IndexSet<String>,
    /// Child groups, in file order.
    pub children: IndexSet<String>,
    /// `[group:vars]` / `vars:` values.
    pub vars: IndexMap<String, Value>,
}

/// A whole inventory: every host with its own variables, every group.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// Hosts in the order they first appear; values are host-line variables.
    pub hosts: IndexMap<String, IndexMap<String, Value>>,
    /// Groups by name, including the implicit `all` and `ungrouped`.
    pub groups: IndexMap<String, Group>,
    /// The files this inventory was read from.
    pub sources: Vec<PathBuf>,
    /// What Ansible would warn about and accept (a duplicate YAML key), as `file:line: …`.
    pub warnings: Vec<String>,
}

impl Inventory {
    /// Reads and merges one or more inventory sources (files or directories), in order.
    pub fn load(paths: &[PathBuf]) -> Result<Inventory, InputError> {
        let mut inv = Inventory::default();
        inv.group_mut("all");
        inv.group_mut("ungrouped");
        for path in paths {
            inv.load_path(path)?;
        }
        inv.finish();
        inv.check_cycles()?;
        inv.check_shapes()?;
        Ok(inv)
    }

    /// Parses an inventory from text; `path` only names it in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Inventory, InputError> {
        let mut inv = Inventory::default();
        inv.group_mut("all");
        inv.group_mut("ungrouped");
        inv.parse_source(path, text)?;
        inv.finish();
        inv.check_cycles()?;
        inv.check_shapes()?;
        Ok(inv)
    }

    fn load_path(&mut self, path: &Path) -> Result<(), InputError> {
        let meta = std::fs::metadata(path).map_err(|e| InputError::Read {
            path: path.to_path_buf(),
            source: e,
        })?;
        if meta.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| InputError::Read {
                    path: path.to_path_buf(),
                    source: e,
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    p.is_file()
                        && !name.starts_with('.')
                        && !name.ends_with('~')
                        && !name.ends_with(".retry")
                        && !name.ends_with(".orig")
                })
                .collect();
            entries.sort();
            for entry in entries {
                self.load_path(&entry)?;
            }
            return Ok(());
        }
        let text = std::fs::read_to_string(path).map_err(|e| InputError::Read {
            path: path.to_path_buf(),
            source: e,
        })?;
        self.parse_source(path, &text)
    }

    fn parse_source(&mut self, path: &Path, text: &str) -> Result<(), InputError> {
        self.sources.push(path.to_path_buf());
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let looks_yaml = matches!(ext, "yml" | "yaml" | "json")
            || text
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty() && !l.starts_with('#'))
                .is_some_and(|l| l == "---" || l.starts_with("all:"));
        if looks_yaml {
            self.parse_yaml(path, text)
        } else {
            self.parse_ini(path, text)
        }
    }

    fn group_mut(&mut self, name: &str) -> &mut Group {
        self.groups.entry(name.to_string()).or_default()
    }

    fn add_host(&mut self, group: &str, host: &str, vars: IndexMap<String, Value>) {
        let entry = self.hosts.entry(host.to_string()).or_default();
        entry.extend(vars);
        self.group_mut(group).hosts.insert(host.to_string());
    }

    /// Links every group under `all`, and hosts without a group under `ungrouped`.
    fn finish(&mut self) {
        let names: Vec<String> = self.groups.keys().cloned().collect();
        let mut is_child: HashSet<String> = HashSet::new();
        for g in self.groups.values() {
            is_child.extend(g.children.iter().cloned());
        }
        for name in &names {
            if name != "all" && !is_child.contains(name) {
                self.group_mut("all").children.insert(name.clone());
            }
        }
        let grouped: HashSet<String> = self
            .groups
            .iter()
            .filter(|(n, _)| n.as_str() != "ungrouped" && n.as_str() != "all")
            .flat_map(|(_, g)| g.hosts.iter().cloned())
            .collect();
        let ungrouped = &mut self.group_mut("ungrouped").hosts;
        ungrouped.retain(|h| !grouped.contains(h));
    }

    /// The variables of every group and host, shaped as kolla needs ([`crate::shapes`]).
    fn check_shapes(&self) -> Result<(), InputError> {
        let source = || {
            self.sources
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let fail = |what: String, m: String| InputError::InventoryVars {
            files: source(),
            what,
            message: m,
        };
        for (name, g) in &self.groups {
            let vars: crate::VarMap = g.vars.clone();
            crate::shapes::check(&vars).map_err(|m| fail(format!("group {name}"), m))?;
        }
        for (name, vars) in &self.hosts {
            crate::shapes::check(vars).map_err(|m| fail(format!("host {name}"), m))?;
        }
        Ok(())
    }

    fn check_cycles(&self) -> Result<(), InputError> {
        fn visit<'a>(
            inv: &'a Inventory,
            name: &'a str,
            stack: &mut Vec<&'a str>,
        ) -> Result<(), InputError> {
            if let Some(pos) = stack.iter().position(|n| *n == name) {
                let mut cycle: Vec<String> = stack[pos..].iter().map(|s| s.to_string()).collect();
                cycle.push(name.to_string());
                return Err(InputError::GroupCycle(cycle.join(" -> ")));
            }
            stack.push(name);
            if let Some(g) = inv.groups.get(name) {
                for c in &g.children {
                    visit(inv, c, stack)?;
                }
            }
            stack.pop();
            Ok(())
        }
        for name in self.groups.keys() {
            visit(self, name, &mut Vec::new())?;
        }
        Ok(())
    }
}
