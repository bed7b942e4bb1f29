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

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use indexmap::{IndexMap, IndexSet};
use serde_yaml::Value;

use crate::error::{InputError, Location};

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

    fn parse_ini(&mut self, path: &Path, text: &str) -> Result<(), InputError> {
        enum Section {
            Hosts(String),
            Children(String),
            Vars(String),
        }
        let mut section = Section::Hosts("ungrouped".to_string());
        for (idx, raw) in text.lines().enumerate() {
            let loc = Location::new(path, idx + 1);
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if line.starts_with('[') {
                let Some(inner) = line.strip_prefix('[').and_then(|l| {
                    let end = l.find(']')?;
                    let rest = l[end + 1..].trim();
                    (rest.is_empty() || rest.starts_with('#') || rest.starts_with(';'))
                        .then(|| &l[..end])
                }) else {
                    return Err(InputError::syntax(
                        loc,
                        format!("malformed section header {line:?}"),
                    ));
                };
                let (name, kind) = match inner.split_once(':') {
                    Some((n, k)) => (n.trim(), Some(k.trim())),
                    None => (inner.trim(), None),
                };
                if name.is_empty() || name.contains(char::is_whitespace) {
                    return Err(InputError::syntax(
                        loc,
                        format!("invalid group name {name:?}"),
                    ));
                }
                self.group_mut(name);
                section = match kind {
                    None => Section::Hosts(name.to_string()),
                    Some("children") => Section::Children(name.to_string()),
                    Some("vars") => Section::Vars(name.to_string()),
                    Some(other) => {
                        return Err(InputError::syntax(
                            loc,
                            format!(
                                "unknown section kind {other:?} (expected 'children' or 'vars')"
                            ),
                        ))
                    }
                };
                continue;
            }
            match &section {
                Section::Hosts(group) => {
                    let tokens =
                        split_ini_tokens(line).map_err(|m| InputError::syntax(loc.clone(), m))?;
                    let mut iter = tokens.into_iter();
                    let pattern = iter.next().unwrap_or_default();
                    let mut vars = IndexMap::new();
                    for tok in iter {
                        if tok.starts_with('#') {
                            break;
                        }
                        let Some((k, v)) = tok.split_once('=') else {
                            return Err(InputError::syntax(
                                loc,
                                format!("expected key=value after host {pattern:?}, found {tok:?}"),
                            ));
                        };
                        vars.insert(k.to_string(), literal_value(v));
                    }
                    let group = group.clone();
                    for host in expand_host_pattern(&pattern)
                        .map_err(|m| InputError::syntax(loc.clone(), m))?
                    {
                        self.add_host(&group, &host, vars.clone());
                    }
                }
                Section::Children(group) => {
                    let child = line
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_string();
                    if child == *group {
                        return Err(InputError::syntax(
                            loc,
                            format!("group {group:?} cannot be its own child"),
                        ));
                    }
                    self.group_mut(&child);
                    let group = group.clone();
                    self.group_mut(&group).children.insert(child);
                }
                Section::Vars(group) => {
                    let Some((k, v)) = line.split_once('=') else {
                        return Err(InputError::syntax(
                            loc,
                            format!("expected key=value in [{group}:vars], found {line:?}"),
                        ));
                    };
                    let value = unquote(v.trim());
                    let group = group.clone();
                    self.group_mut(&group)
                        .vars
                        .insert(k.trim().to_string(), Value::String(value));
                }
            }
        }
        Ok(())
    }

    fn parse_yaml(&mut self, path: &Path, text: &str) -> Result<(), InputError> {
        let doc = crate::yaml::parse(path, text)?;
        let Value::Mapping(top) = doc else {
            if doc.is_null() {
                return Ok(());
            }
            return Err(InputError::syntax(
                Location::new(path, 1),
                "a YAML inventory must be a mapping of group names".to_string(),
            ));
        };
        for (name, body) in top {
            let name = yaml_key(&name);
            self.yaml_group(path, &name, &body)?;
        }
        Ok(())
    }

    fn yaml_group(&mut self, path: &Path, name: &str, body: &Value) -> Result<(), InputError> {
        self.group_mut(name);
        let Value::Mapping(map) = body else {
            if body.is_null() {
                return Ok(());
            }
            return Err(InputError::syntax(
                Location::new(path, 0),
                format!("group {name:?} must be a mapping with hosts/children/vars"),
            ));
        };
        for (key, val) in map {
            match yaml_key(key).as_str() {
                "hosts" => {
                    if let Value::Mapping(hosts) = val {
                        for (h, hv) in hosts {
                            let vars = match hv {
                                Value::Mapping(m) => m.iter().map(|(k, v)| (yaml_key(k), v.clone())).collect(),
                                _ => IndexMap::new(),
                            };
                            for host in expand_host_pattern(&yaml_key(h))
                                .map_err(|m| InputError::syntax(Location::new(path, 0), m))?
                            {
                                self.add_host(name, &host, vars.clone());
                            }
                        }
                    }
                }
                "vars" => {
                    if let Value::Mapping(vars) = val {
                        for (k, v) in vars {
                            self.group_mut(name).vars.insert(yaml_key(k), v.clone());
                        }
                    }
                }
                "children" => {
                    if let Value::Mapping(children) = val {
                        for (child, child_body) in children {
                            let child = yaml_key(child);
                            self.group_mut(name).children.insert(child.clone());
                            self.yaml_group(path, &child, child_body)?;
                        }
                    }
                }
                other => {
                    return Err(InputError::syntax(
                        Location::new(path, 0),
                        format!("unknown key {other:?} in group {name:?} (expected hosts, children or vars)"),
                    ))
                }
            }
        }
        Ok(())
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

fn yaml_key(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

/// Splits a host line into whitespace-separated tokens, honouring quotes (shlex-like).
fn split_ini_tokens(line: &str) -> Result<Vec<String>, String> {
    let mut tokens = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut in_token = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) if c == '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            Some(_) => cur.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                in_token = true;
            }
            None if c.is_whitespace() => {
                if in_token {
                    tokens.push(std::mem::take(&mut cur));
                    in_token = false;
                }
            }
            None if c == '#' && !in_token => break,
            None => {
                cur.push(c);
                in_token = true;
            }
        }
    }
    if quote.is_some() {
        return Err(format!("unterminated quote in {line:?}"));
    }
    if in_token {
        tokens.push(cur);
    }
    Ok(tokens)
}

fn unquote(s: &str) -> String {
    let b = s.as_bytes();
    if b.len() >= 2 && (b[0] == b'"' || b[0] == b'\'') && b[b.len() - 1] == b[0] {
        s[1..s.len() - 1].to_string()
    } else {
        s.to_string()
    }
}

/// Host-line values are Python literals where they parse as one (numbers, booleans, lists,
/// dicts), strings otherwise, as Ansible's INI inventory does.
fn literal_value(v: &str) -> Value {
    match v {
        "True" | "true" => return Value::Bool(true),
        "False" | "false" => return Value::Bool(false),
        "None" => return Value::Null,
        _ => {}
    }
    if let Ok(i) = v.parse::<i64>() {
        return Value::Number(i.into());
    }
    if let Ok(f) = v.parse::<f64>() {
        if v.contains('.') {
            return Value::Number(f.into());
        }
    }
    if (v.starts_with('[') && v.ends_with(']')) || (v.starts_with('{') && v.ends_with('}')) {
        if let Ok(parsed) = serde_yaml::from_str::<Value>(v) {
            return parsed;
        }
    }
    Value::String(v.to_string())
}

/// Expands `ctl[01:03]`, `node[a:c]` and `h[1:10:2]` ranges into host names.
pub fn expand_host_pattern(pattern: &str) -> Result<Vec<String>, String> {
    let Some(open) = pattern.find('[') else {
        return Ok(vec![strip_port(pattern)]);
    };
    let Some(close_rel) = pattern[open..].find(']') else {
        return Err(format!("unterminated range in host pattern {pattern:?}"));
    };
    let close = open + close_rel;
    let head = &pattern[..open];
    let tail = &pattern[close + 1..];
    let range = &pattern[open + 1..close];
    let parts: Vec<&str> = range.split(':').collect();
    if parts.len() < 2 || parts.len() > 3 {
        return Err(format!(
            "invalid range [{range}] in host pattern {pattern:?}"
        ));
    }
    let (beg, end) = (parts[0], parts[1]);
    let step: usize = match parts.get(2) {
        Some(s) => s
            .parse()
            .ok()
            .filter(|s| *s > 0)
            .ok_or_else(|| format!("invalid step {s:?} in host pattern {pattern:?}"))?,
        None => 1,
    };
    let mut items = Vec::new();
    if let (Ok(b), Ok(e)) = (beg.parse::<u64>(), end.parse::<u64>()) {
        if b > e {
            return Err(format!("range start after end in host pattern {pattern:?}"));
        }
        let width = if beg.starts_with('0') && beg.len() > 1 {
            beg.len()
        } else {
            0
        };
        let mut i = b;
        while i <= e {
            items.push(format!("{i:0width$}"));
            i += step as u64;
        }
    } else if beg.len() == 1 && end.len() == 1 && beg.chars().all(|c| c.is_ascii_alphabetic()) {
        let (b, e) = (beg.as_bytes()[0], end.as_bytes()[0]);
        if b > e || !end.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(format!(
                "invalid alphabetic range in host pattern {pattern:?}"
            ));
        }
        let mut c = b;
        while c <= e {
            items.push((c as char).to_string());
            c = c.saturating_add(step as u8);
            if step == 0 {
                break;
            }
        }
    } else {
        return Err(format!(
            "invalid range [{range}] in host pattern {pattern:?}"
        ));
    }
    let mut out = Vec::new();
    for item in items {
        for rest in expand_host_pattern(tail)? {
            out.push(format!("{head}{item}{rest}"));
        }
    }
    Ok(out)
}

fn strip_port(host: &str) -> String {
    // `host:port` is accepted by Ansible; the port is a connection detail, not the name.
    match host.rsplit_once(':') {
        Some((h, p))
            if !h.contains(':') && p.chars().all(|c| c.is_ascii_digit()) && !p.is_empty() =>
        {
            h.to_string()
        }
        _ => host.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_expand_with_padding_and_steps() {
        assert_eq!(
            expand_host_pattern("ctl[01:03]").unwrap(),
            ["ctl01", "ctl02", "ctl03"]
        );
        assert_eq!(
            expand_host_pattern("n[1:5:2].x").unwrap(),
            ["n1.x", "n3.x", "n5.x"]
        );
        assert_eq!(expand_host_pattern("h[a:c]").unwrap(), ["ha", "hb", "hc"]);
        assert!(expand_host_pattern("h[3:1]").is_err());
        assert!(expand_host_pattern("h[1:").is_err());
    }

    #[test]
    fn ini_children_vars_and_order() {
        let text = "[control]\nctl[01:02] api_interface=eth1 n=3\n[compute]\ncmp01\n\n[nova:children]\ncontrol\n[nova-api:children]\nnova\n[nova:vars]\nfoo=bar\n[all:vars]\nfoo=all\n";
        let inv = Inventory::parse(Path::new("inv"), text).unwrap();
        assert_eq!(inv.group_hosts("nova-api"), ["ctl01", "ctl02"]);
        assert_eq!(inv.group_hosts("all"), ["ctl01", "ctl02", "cmp01"]);
        assert_eq!(inv.group_names("ctl01"), ["control", "nova", "nova-api"]);
        assert_eq!(inv.hosts["ctl01"]["n"], Value::Number(3.into()));
        assert_eq!(
            inv.group_vars_for("ctl01")["foo"],
            Value::String("bar".into())
        );
        assert_eq!(
            inv.group_vars_for("cmp01")["foo"],
            Value::String("all".into())
        );
    }

    #[test]
    fn ini_errors_name_file_and_line() {
        let err = Inventory::parse(Path::new("inv.ini"), "[control\nhost\n").unwrap_err();
        assert!(err.to_string().contains("inv.ini:1"), "{err}");
        let err = Inventory::parse(Path::new("inv.ini"), "[a]\nh1 novalue\n").unwrap_err();
        assert!(err.to_string().contains("inv.ini:2"), "{err}");
        let err = Inventory::parse(Path::new("inv.ini"), "[a:children]\nb\n[b:children]\na\n")
            .unwrap_err();
        assert!(
            err.to_string().contains("a -> b -> a") || err.to_string().contains("b -> a -> b"),
            "{err}"
        );
    }

    #[test]
    fn yaml_inventory() {
        let text = "all:\n  children:\n    control:\n      hosts:\n        ctl[1:2]:\n          api_interface: eth1\n      vars:\n        x: 1\n    compute:\n      hosts:\n        c1:\n";
        let inv = Inventory::parse(Path::new("inv.yml"), text).unwrap();
        assert_eq!(inv.group_hosts("control"), ["ctl1", "ctl2"]);
        assert_eq!(inv.group_hosts("all"), ["ctl1", "ctl2", "c1"]);
        assert_eq!(
            inv.hosts["ctl2"]["api_interface"],
            Value::String("eth1".into())
        );
    }
}
