//! The prechecks that need no engine: the inventory's groups, the VIP against the hosts'
//! addresses, and the passwords the selected projects use. They run on the loaded inputs,
//! before anything renders, so a missing password is named as such rather than as a
//! template that failed.

use std::collections::BTreeSet;
use std::path::Path;

use kollars_vars::Value;

use super::Finding;
use crate::workspace::Workspace;

/// Evaluates `expr` (Jinja) for `host`.
pub(super) fn eval(ws: &Workspace, host: &str, expr: &str) -> Result<Value, String> {
    let scope = ws.vars.host(host).map_err(|e| e.to_string())?;
    scope
        .eval(&Value::from(expr), None, "prechecks")
        .map_err(|e| e.to_string())
}

/// `name` as an Ansible boolean for `host` (false when it cannot be evaluated).
fn flag(ws: &Workspace, host: &str, name: &str) -> bool {
    eval(ws, host, &format!("{{{{ {name} | bool }}}}"))
        .map(|v| kollars_vars::filters::ansible_bool(&v))
        .unwrap_or(false)
}

/// The inventory's groups as kolla's prechecks want them: `control` present; for each
/// enabled clustered service its group present, and Galera's of an odd size; masakari on more
/// than one host only with a coordination backend (valkey or etcd).
pub fn inventory(ws: &Workspace) -> Vec<Finding> {
    let Some(first) = ws.hosts.first() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut need = |group: &str, why: &str| {
        let n = ws.inventory.group_hosts(group).len();
        let (ok, message) = match n {
            0 => (false, format!("group {group} is missing or empty ({why})")),
            n => (true, format!("group {group}: {n} host(s)")),
        };
        out.push(Finding::site("inventory", ok, message));
        n
    };
    need("control", "kolla's control plane runs there");
    if flag(ws, first, "enable_loadbalancer") {
        need("loadbalancer", "enable_loadbalancer is on");
    }
    if flag(ws, first, "enable_rabbitmq") {
        need("rabbitmq", "enable_rabbitmq is on");
    }
    if flag(ws, first, "enable_mariadb") {
        let n = need("mariadb", "enable_mariadb is on");
        if n > 0 && n % 2 == 0 {
            out.push(Finding::site(
                "inventory",
                false,
                format!(
                    "group mariadb has {n} members: a Galera cluster of an even size loses its \
                     quorum when half of it is cut off; use an odd number"
                ),
            ));
        }
    }
    // kolla's masakari precheck counts groups['masakari'], a group its inventories lack: the
    // API's hosts are what coordinate
    if flag(ws, first, "enable_masakari") && ws.inventory.group_hosts("masakari-api").len() > 1 {
        let backend = eval(ws, first, "{{ masakari_coordination_backend }}")
            .map(|v| v.to_string())
            .unwrap_or_default();
        out.push(match backend.as_str() {
            "" => Finding::site(
                "inventory",
                false,
                "masakari-api runs on more than one host: enable valkey or etcd for its \
                 coordination (masakari_coordination_backend is empty)"
                    .to_owned(),
            ),
            b => Finding::site(
                "inventory",
                true,
                format!("masakari coordinates through {b}"),
            ),
        });
    }
    out
}

/// With haproxy on, `kolla_internal_vip_address` (and `kolla_external_vip_address`) must not
/// be an address any host already has: keepalived moves it between hosts.
pub fn vip(ws: &Workspace) -> Vec<Finding> {
    let Some(first) = ws.hosts.first() else {
        return Vec::new();
    };
    if !flag(ws, first, "enable_haproxy") {
        return Vec::new();
    }
    let mut vips = BTreeSet::new();
    for name in ["kolla_internal_vip_address", "kolla_external_vip_address"] {
        match eval(ws, first, &format!("{{{{ {name} | default('') }}}}")) {
            Ok(v) if !v.to_string().is_empty() => {
                vips.insert((v.to_string(), name));
            }
            Ok(_) => {}
            Err(e) => return vec![Finding::site("vip", false, format!("{name}: {e}"))],
        }
    }
    let mut out = Vec::new();
    for host in &ws.hosts {
        let addresses = eval(
            ws,
            host,
            "{{ [api_interface_address] + (ansible_facts.all_ipv4_addresses | default([])) + \
             (ansible_facts.all_ipv6_addresses | default([])) }}",
        );
        let addresses: Vec<String> = match addresses {
            Ok(v) => v
                .try_iter()
                .map(|i| i.map(|a| a.to_string()).collect())
                .unwrap_or_default(),
            Err(e) => {
                out.push(Finding::host(
                    host,
                    "vip",
                    false,
                    format!("its addresses: {e}"),
                ));
                continue;
            }
        };
        let clash: Vec<String> = vips
            .iter()
            .filter(|(vip, _)| addresses.contains(vip))
            .map(|(vip, name)| format!("{name} {vip}"))
            .collect();
        out.push(match clash.is_empty() {
            true => Finding::host(host, "vip", true, "no VIP is an address of this host"),
            false => Finding::host(
                host,
                "vip",
                false,
                format!(
                    "{} is an address of this host: with haproxy on, the VIP must be an \
                     unused address keepalived moves between hosts",
                    clash.join(", ")
                ),
            ),
        });
    }
    out
}

/// Every password the selected, enabled projects use (a `*_password`, `*_secret` or
/// `*_secret_key` their definitions or templates name) is defined: passwords.yml holds it,
/// or the definitions derive it. Names only, never a value.
pub fn passwords(ws: &Workspace, data_dir: &Path) -> Vec<Finding> {
    let Some(first) = ws.hosts.first() else {
        return Vec::new();
    };
    let Ok(scope) = ws.vars.host(first) else {
        return Vec::new();
    };
    let pattern = regex::Regex::new(r"\b[a-z][a-z0-9_]*_(?:password|secret|secret_key)\b")
        .expect("valid pattern");
    let jinja = regex::Regex::new(r"(?s)\{\{.*?\}\}|\{%.*?%\}").expect("valid pattern");
    let mut out = Vec::new();
    for project in &ws.catalogue.projects {
        let selected = ws.services.is_empty()
            || ws
                .services
                .iter()
                .any(|s| *s == project.name || project.services.iter().any(|d| d.name == *s));
        let enabled = project.services.first().is_some_and(|s| {
            scope
                .eval(&s.project_enabled, None, "prechecks")
                .is_ok_and(|v| kollars_vars::filters::ansible_bool(&v))
        });
        if !selected || !enabled {
            continue;
        }
        let mut text = std::fs::read_to_string(&project.path).unwrap_or_default();
        read_tree(&data_dir.join("templates").join(&project.name), &mut text);
        // only names inside Jinja: a YAML key or an INI option named `*_password` is not one
        let names: BTreeSet<&str> = jinja
            .find_iter(&text)
            .flat_map(|j| pattern.find_iter(j.as_str()).map(|m| m.as_str()))
            .collect();
        let missing: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| !scope.is_defined(n))
            .collect();
        if !missing.is_empty() {
            out.push(Finding::site(
                "passwords",
                false,
                format!(
                    "project {} uses {} that passwords.yml does not hold (kolla's passwords.yml \
                     has them; `kollars genpwd` fills them)",
                    project.name,
                    missing.join(", ")
                ),
            ));
        }
    }
    if out.is_empty() {
        out.push(Finding::site(
            "passwords",
            true,
            "every password the selected projects use is defined",
        ));
    }
    out
}

/// Appends the text of every file under `dir` (templates are small).
fn read_tree(dir: &Path, text: &mut String) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            read_tree(&p, text);
        } else if let Ok(t) = std::fs::read_to_string(&p) {
            text.push('\n');
            text.push_str(&t);
        }
    }
}
