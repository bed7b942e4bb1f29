//! Host facts: what kolla-ansible's templates read from `ansible_facts`.
//!
//! kolla-ansible gathers facts with Ansible's `setup` module and keeps them in a fact cache.
//! kollars reads that cache form (`DIR/<host>.json`, keys `ansible_*`) with `--facts`, and
//! otherwise gathers the few facts the templates use natively for the local host, in the same
//! shape, so the renderer never needs to know where facts came from.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Map, Value};

use crate::error::InputError;

/// Facts of one host, keyed as in Ansible's fact cache (`ansible_hostname`, `ansible_eth0`, …).
pub type Facts = Map<String, Value>;

/// Reads `<dir>/<host>.json`. A missing file is `Ok(None)`.
pub fn load_facts(dir: &Path, host: &str) -> Result<Option<Facts>, InputError> {
    let path = dir.join(format!("{host}.json"));
    if !path.exists() {
        // Ansible's jsonfile cache stores files without extension.
        let bare = dir.join(host);
        if !bare.is_file() {
            return Ok(None);
        }
        return read_facts_file(&bare).map(Some);
    }
    read_facts_file(&path).map(Some)
}

fn read_facts_file(path: &Path) -> Result<Facts, InputError> {
    let text = std::fs::read_to_string(path).map_err(|e| InputError::Read {
        path: path.to_path_buf(),
        source: e,
    })?;
    let v: Value = serde_json::from_str(&text).map_err(|e| InputError::Facts {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let mut map = match v {
        Value::Object(m) => m,
        _ => {
            return Err(InputError::Facts {
                path: path.to_path_buf(),
                message: "expected a JSON object".into(),
            })
        }
    };
    // `ansible -m setup` output wraps the facts in `ansible_facts`.
    if let Some(Value::Object(inner)) = map.remove("ansible_facts") {
        map = inner
            .into_iter()
            .map(|(k, v)| {
                if k.starts_with("ansible_") {
                    (k, v)
                } else {
                    (format!("ansible_{k}"), v)
                }
            })
            .collect();
    }
    Ok(map)
}

/// Gathers the local host's facts natively: hostname, nodename, fqdn, vcpus, memory,
/// interfaces with their IPv4/IPv6 addresses, distribution.
pub fn gather_local() -> Facts {
    let mut f = Map::new();
    let nodename = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    let short = nodename.split('.').next().unwrap_or(&nodename).to_string();
    let domain = std::fs::read_to_string("/proc/sys/kernel/domainname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|d| !d.is_empty() && d != "(none)");
    let fqdn = match &domain {
        Some(d) if !nodename.contains('.') => format!("{nodename}.{d}"),
        _ => nodename.clone(),
    };
    f.insert("ansible_hostname".into(), json!(short));
    f.insert("ansible_nodename".into(), json!(nodename));
    f.insert("ansible_fqdn".into(), json!(fqdn));
    f.insert(
        "ansible_domain".into(),
        json!(fqdn.split_once('.').map(|(_, d)| d).unwrap_or("")),
    );
    let vcpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    f.insert("ansible_processor_vcpus".into(), json!(vcpus));
    f.insert("ansible_processor_count".into(), json!(1));
    f.insert("ansible_processor_cores".into(), json!(vcpus));
    if let Ok(meminfo) = std::fs::read_to_string("/proc/meminfo") {
        for line in meminfo.lines() {
            if let Some(rest) = line.strip_prefix("MemTotal:") {
                let kb: u64 = rest
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse()
                    .unwrap_or(0);
                f.insert("ansible_memtotal_mb".into(), json!(kb / 1024));
            }
        }
    }
    let os = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    insert_os_release(&mut f, os.lines());
    f.insert("ansible_architecture".into(), json!(std::env::consts::ARCH));
    if let Ok(release) = std::fs::read_to_string("/proc/sys/kernel/osrelease") {
        f.insert("ansible_kernel".into(), json!(release.trim()));
    }
    gather_interfaces(&mut f);
    f
}

fn gather_interfaces(f: &mut Facts) {
    let mut ifaces: BTreeMap<String, (Vec<Value>, Vec<Value>)> = BTreeMap::new();
    if let Ok(addrs) = nix::ifaddrs::getifaddrs() {
        for a in addrs {
            let entry = ifaces.entry(a.interface_name.clone()).or_default();
            let Some(addr) = a.address else { continue };
            if let Some(v4) = addr.as_sockaddr_in() {
                let ip = v4.ip();
                let mask = a
                    .netmask
                    .and_then(|m| m.as_sockaddr_in().map(|m| m.ip()))
                    .unwrap_or(std::net::Ipv4Addr::new(255, 255, 255, 255));
                let prefix = u32::from(mask).count_ones();
                let network = std::net::Ipv4Addr::from(u32::from(ip) & u32::from(mask));
                entry.0.push(json!({
                    "address": ip.to_string(),
                    "netmask": mask.to_string(),
                    "network": network.to_string(),
                    "prefix": prefix.to_string(),
                }));
            } else if let Some(v6) = addr.as_sockaddr_in6() {
                let ip = v6.ip();
                let prefix = a
                    .netmask
                    .and_then(|m| m.as_sockaddr_in6().map(|m| u128::from(m.ip()).count_ones()))
                    .unwrap_or(128);
                let scope = v6_scope(&ip);
                entry.1.push(json!({
                    "address": ip.to_string(),
                    "prefix": prefix.to_string(),
                    "scope": scope,
                }));
            }
        }
    }
    insert_interfaces(f, ifaces);
}

/// The distribution facts from `/etc/os-release` lines (`ID=debian`, `VERSION_ID="12"`, …),
/// as Ansible's setup module names them. One home for local gathering and the engine probe.
pub(crate) fn insert_os_release<'a>(f: &mut Facts, lines: impl IntoIterator<Item = &'a str>) {
    let osv: BTreeMap<&str, String> = lines
        .into_iter()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim(), v.trim().trim_matches('"').to_string()))
        .collect();
    let dist = match osv.get("ID").map(String::as_str) {
        Some("debian") => "Debian",
        Some("ubuntu") => "Ubuntu",
        Some("rocky") => "Rocky",
        Some("centos") => "CentOS",
        _ => "Linux",
    };
    f.insert("ansible_distribution".into(), json!(dist));
    f.insert(
        "ansible_distribution_release".into(),
        json!(osv.get("VERSION_CODENAME").cloned().unwrap_or_default()),
    );
    f.insert(
        "ansible_distribution_version".into(),
        json!(osv.get("VERSION_ID").cloned().unwrap_or_default()),
    );
    f.insert(
        "ansible_os_family".into(),
        json!(match dist {
            "Debian" | "Ubuntu" => "Debian",
            "Rocky" | "CentOS" => "RedHat",
            _ => "Linux",
        }),
    );
}

/// Ansible's scope of an IPv6 address: host (loopback), link (fe80::/10) or global.
pub(crate) fn v6_scope(ip: &std::net::Ipv6Addr) -> &'static str {
    if ip.is_loopback() {
        "host"
    } else if (ip.segments()[0] & 0xffc0) == 0xfe80 {
        "link"
    } else {
        "global"
    }
}

/// Adds per-interface facts (`ansible_<iface>` with `ipv4`, `ipv4_secondaries`, `ipv6`),
/// `ansible_interfaces` and the all-address lists, from each interface's IPv4 and IPv6
/// address entries: the one shape for locally gathered and probed facts.
pub(crate) fn insert_interfaces(f: &mut Facts, ifaces: BTreeMap<String, (Vec<Value>, Vec<Value>)>) {
    let mut names = Vec::new();
    let mut all4 = Vec::new();
    let mut all6 = Vec::new();
    for (name, (v4, v6)) in ifaces {
        names.push(json!(name));
        let mut obj = Map::new();
        obj.insert("device".into(), json!(name));
        obj.insert("active".into(), json!(true));
        if let Some(first) = v4.first() {
            obj.insert("ipv4".into(), first.clone());
            if v4.len() > 1 {
                obj.insert("ipv4_secondaries".into(), Value::Array(v4[1..].to_vec()));
            }
        }
        if !v6.is_empty() {
            obj.insert("ipv6".into(), Value::Array(v6.clone()));
        }
        if name != "lo" {
            all4.extend(v4.iter().filter_map(|v| v.get("address").cloned()));
            all6.extend(v6.iter().filter_map(|v| v.get("address").cloned()));
        }
        f.insert(
            format!("ansible_{}", name.replace(['-', '.', ':'], "_")),
            Value::Object(obj),
        );
    }
    f.insert("ansible_interfaces".into(), Value::Array(names));
    f.insert("ansible_all_ipv4_addresses".into(), Value::Array(all4));
    f.insert("ansible_all_ipv6_addresses".into(), Value::Array(all6));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_facts_have_the_shape_templates_read() {
        let f = gather_local();
        assert!(f["ansible_hostname"]
            .as_str()
            .is_some_and(|s| !s.is_empty()));
        assert!(f["ansible_processor_vcpus"].as_u64().unwrap() >= 1);
        let lo = f["ansible_lo"].as_object().expect("lo interface");
        assert_eq!(lo["ipv4"]["address"], "127.0.0.1");
    }

    #[test]
    fn fact_cache_file_is_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("h1.json"), r#"{"ansible_hostname": "h1"}"#).unwrap();
        std::fs::write(
            dir.path().join("h2.json"),
            r#"{"ansible_facts": {"hostname": "h2"}}"#,
        )
        .unwrap();
        std::fs::write(dir.path().join("h3.json"), "{nope").unwrap();
        assert_eq!(
            load_facts(dir.path(), "h1").unwrap().unwrap()["ansible_hostname"],
            "h1"
        );
        assert_eq!(
            load_facts(dir.path(), "h2").unwrap().unwrap()["ansible_hostname"],
            "h2"
        );
        assert!(load_facts(dir.path(), "nope").unwrap().is_none());
        let err = load_facts(dir.path(), "h3").unwrap_err().to_string();
        assert!(err.contains("h3.json"), "{err}");
    }
}
