//! What Ansible derives from an inventory: `groups[name]`, `group_names` and the group
//! variables that apply to a host.
//!
//! The order of these lists and the precedence of group variables decide what templates
//! render (`groups['control'][0]` is the first controller; a child group's value beats its
//! parent's), so Ansible's rules (`Group.get_hosts`, (depth, name) order) live here, once,
//! for both inventory syntaxes.

use std::collections::{BTreeSet, HashMap, HashSet};

use indexmap::IndexMap;
use serde_yaml::Value;

use super::Inventory;

impl Inventory {
    /// Hosts of a group: its own first, then descendants breadth-first, each once.
    pub fn group_hosts(&self, name: &str) -> Vec<String> {
        if name == "all" {
            // Ansible adds every host to `all` directly, in the order it first appears.
            return self.hosts.keys().cloned().collect();
        }
        let mut out = Vec::new();
        let mut seen_hosts = HashSet::new();
        for group in self.descendants(name) {
            if let Some(g) = self.groups.get(&group) {
                for h in &g.hosts {
                    if seen_hosts.insert(h.clone()) {
                        out.push(h.clone());
                    }
                }
            }
        }
        out
    }

    /// The group itself followed by its descendants, breadth-first, as Ansible walks them.
    fn descendants(&self, name: &str) -> Vec<String> {
        let mut ordered = vec![name.to_string()];
        let mut seen: HashSet<String> = HashSet::from([name.to_string()]);
        let mut frontier = vec![name.to_string()];
        while !frontier.is_empty() {
            let mut next = Vec::new();
            for g in &frontier {
                if let Some(group) = self.groups.get(g) {
                    for c in &group.children {
                        if seen.insert(c.clone()) {
                            ordered.push(c.clone());
                            next.push(c.clone());
                        }
                    }
                }
            }
            frontier = next;
        }
        ordered
    }

    /// Every group a host belongs to, directly or through children, without `all`, sorted
    /// (Ansible's `group_names`).
    pub fn group_names(&self, host: &str) -> Vec<String> {
        let parents = self.parents();
        let direct: Vec<&str> = self
            .groups
            .iter()
            .filter(|(_, g)| g.hosts.contains(host))
            .map(|(n, _)| n.as_str())
            .collect();
        Self::closure(&parents, &direct)
    }

    /// `group_names` of every host at once (linear in the inventory, not per host).
    pub fn host_group_names(&self) -> IndexMap<String, Vec<String>> {
        let parents = self.parents();
        let mut direct: HashMap<&str, Vec<&str>> = HashMap::new();
        for (name, g) in &self.groups {
            for h in &g.hosts {
                direct.entry(h.as_str()).or_default().push(name.as_str());
            }
        }
        let mut memo: HashMap<Vec<&str>, Vec<String>> = HashMap::new();
        self.hosts
            .keys()
            .map(|h| {
                let d = direct.remove(h.as_str()).unwrap_or_default();
                let names = memo
                    .entry(d)
                    .or_insert_with_key(|d| Self::closure(&parents, d))
                    .clone();
                (h.clone(), names)
            })
            .collect()
    }

    /// Each group's parent groups.
    fn parents(&self) -> HashMap<&str, Vec<&str>> {
        let mut parents: HashMap<&str, Vec<&str>> = HashMap::new();
        for (pname, parent) in &self.groups {
            for c in &parent.children {
                parents.entry(c.as_str()).or_default().push(pname.as_str());
            }
        }
        parents
    }

    /// The groups and all their ancestors, without `all`, sorted.
    fn closure(parents: &HashMap<&str, Vec<&str>>, direct: &[&str]) -> Vec<String> {
        let mut all: BTreeSet<&str> = BTreeSet::new();
        let mut stack: Vec<&str> = direct.to_vec();
        while let Some(g) = stack.pop() {
            if all.insert(g) {
                if let Some(ps) = parents.get(g) {
                    stack.extend(ps.iter().copied());
                }
            }
        }
        all.remove("all");
        all.into_iter().map(str::to_string).collect()
    }

    /// Depth of a group below `all` (the longest path), for variable precedence.
    fn depth<'a>(
        parents: &HashMap<&'a str, Vec<&'a str>>,
        memo: &mut HashMap<&'a str, usize>,
        name: &'a str,
    ) -> usize {
        if name == "all" {
            return 0;
        }
        if let Some(d) = memo.get(name) {
            return *d;
        }
        let d = parents
            .get(name)
            .map(|ps| {
                ps.iter()
                    .map(|p| Self::depth(parents, memo, p) + 1)
                    .max()
                    .unwrap_or(1)
            })
            .unwrap_or(1);
        memo.insert(name, d);
        d
    }

    /// The group variables that apply to a host, merged in Ansible's order
    /// (all first, then by depth and name; later wins).
    pub fn group_vars_for(&self, host: &str) -> IndexMap<String, Value> {
        self.group_vars_of(&self.group_names(host))
    }

    /// The group variables that apply to a host in these groups (its `group_names`).
    pub fn group_vars_of(&self, group_names: &[String]) -> IndexMap<String, Value> {
        let parents = self.parents();
        let mut memo = HashMap::new();
        let mut groups: Vec<(usize, &str)> = group_names
            .iter()
            .map(String::as_str)
            .chain(std::iter::once("all"))
            .map(|g| (Self::depth(&parents, &mut memo, g), g))
            .collect();
        groups.sort();
        let mut out = IndexMap::new();
        for (_, g) in groups {
            if let Some(group) = self.groups.get(g) {
                for (k, v) in &group.vars {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
        out
    }

    /// All group names mapped to their hosts (Ansible's `groups` magic variable).
    pub fn groups_map(&self) -> IndexMap<String, Vec<String>> {
        self.groups
            .keys()
            .map(|g| (g.clone(), self.group_hosts(g)))
            .collect()
    }
}
