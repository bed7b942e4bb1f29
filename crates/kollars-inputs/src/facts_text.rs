//! Facts of a host that is reached only through its container engine.
//!
//! kollars gathers a remote host's facts by running [`GATHER_SCRIPT`] once, in a one-shot
//! container on that host, with host network and host UTS namespace (so `ip` and
//! `/proc/sys/kernel/hostname` show the host's) and the host's `/etc` and `/usr/lib` bound
//! read-only under [`HOST_ROOT`] ([`GATHER_BINDS`]), for `os-release` and the time zone. The
//! script only needs a POSIX `sh`, `cat`, `ls`, `uname`, `readlink`, `nproc` (else
//! `/proc/cpuinfo`) and `ip` (iproute2 or busybox): kolla images and kollars' busybox images
//! have them. Its output is sections introduced by `@@ <name>` lines; [`parse`] turns it into
//! the same fact-cache shape as [`crate::facts::gather_local`] (`ansible_hostname`,
//! `ansible_processor_vcpus`, `ansible_<iface>` with `ipv4`/`ipv6`, …), so the renderer cannot
//! tell where facts came from.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde_json::{json, Map, Value};

use crate::facts::{insert_interfaces, insert_os_release, v6_scope, Facts};

/// Where the probe container sees the host's files ([`GATHER_BINDS`]).
pub const HOST_ROOT: &str = "/kollars-host";

/// Read-only binds the probe container needs: `(host path, container path)`. Both host paths
/// exist on any Linux host (binding a missing path would make the engine create it).
pub const GATHER_BINDS: &[(&str, &str)] = &[
    ("/etc", "/kollars-host/etc"),
    ("/usr/lib", "/kollars-host/usr/lib"),
];

/// The probe, run as `sh -c GATHER_SCRIPT`. Every section is printed even when its command
/// fails, so a missing tool shows as an empty section, not as a shifted output.
pub const GATHER_SCRIPT: &str = r#"h=/kollars-host
s() { printf '\n@@ %s\n' "$1"; }
s hostname; cat /proc/sys/kernel/hostname
s domainname; cat /proc/sys/kernel/domainname 2>/dev/null
s vcpus; nproc 2>/dev/null || grep -c '^processor' /proc/cpuinfo
s meminfo; cat /proc/meminfo
s kernel; cat /proc/sys/kernel/osrelease
s arch; uname -m
s os-release
if [ -f $h/etc/os-release ] && [ ! -L $h/etc/os-release ]; then cat $h/etc/os-release
else cat $h/usr/lib/os-release 2>/dev/null || cat $h/etc/os-release 2>/dev/null; fi
s timezone; cat $h/etc/timezone 2>/dev/null
s localtime; readlink $h/etc/localtime 2>/dev/null
s interfaces; ls /sys/class/net
s addresses; ip -o addr show 2>/dev/null
s end
"#;

/// The probe's output could not be turned into facts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("fact probe output: {0}")]
pub struct FactsTextError(pub String);

/// The probe's output, by section name.
fn sections(text: &str) -> BTreeMap<&str, Vec<&str>> {
    let mut out: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut cur: Option<&str> = None;
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("@@ ") {
            let name = name.trim();
            out.entry(name).or_default();
            cur = Some(name);
            continue;
        }
        if let Some(c) = cur {
            if !line.trim().is_empty() {
                out.entry(c).or_default().push(line);
            }
        }
    }
    out
}

fn first<'a>(s: &BTreeMap<&str, Vec<&'a str>>, name: &str) -> Option<&'a str> {
    s.get(name)
        .and_then(|l| l.first())
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
}

/// Parses [`GATHER_SCRIPT`]'s output into Ansible fact-cache form. The hostname, the vCPU count
/// and at least one address (from `ip -o addr`) are required: without them the probe did not
/// run as expected.
pub fn parse(text: &str) -> Result<Facts, FactsTextError> {
    let s = sections(text);
    if !s.contains_key("end") {
        return Err(FactsTextError(
            "incomplete (no `@@ end` line): the probe stopped early".into(),
        ));
    }
    let mut f = Map::new();
    let nodename = first(&s, "hostname")
        .ok_or_else(|| FactsTextError("no hostname".into()))?
        .to_string();
    let short = nodename.split('.').next().unwrap_or(&nodename).to_string();
    let domain = first(&s, "domainname").filter(|d| *d != "(none)");
    let fqdn = match domain {
        Some(d) if !nodename.contains('.') => format!("{nodename}.{d}"),
        _ => nodename.clone(),
    };
    f.insert("ansible_hostname".into(), json!(short));
    f.insert("ansible_nodename".into(), json!(nodename));
    f.insert(
        "ansible_domain".into(),
        json!(fqdn.split_once('.').map(|(_, d)| d).unwrap_or("")),
    );
    f.insert("ansible_fqdn".into(), json!(fqdn));

    let vcpus: u64 = first(&s, "vcpus")
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| FactsTextError("no vCPU count (nproc, /proc/cpuinfo)".into()))?;
    f.insert("ansible_processor_vcpus".into(), json!(vcpus));
    f.insert("ansible_processor_count".into(), json!(1));
    f.insert("ansible_processor_cores".into(), json!(vcpus));

    if let Some(mem) = s.get("meminfo").and_then(|l| {
        l.iter()
            .find_map(|line| line.strip_prefix("MemTotal:"))
            .map(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .unwrap_or(0)
            })
    }) {
        f.insert("ansible_memtotal_mb".into(), json!(mem / 1024));
    }

    insert_os_release(
        &mut f,
        s.get("os-release")
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .copied(),
    );
    if let Some(arch) = first(&s, "arch") {
        f.insert("ansible_architecture".into(), json!(arch));
    }
    if let Some(kernel) = first(&s, "kernel") {
        f.insert("ansible_kernel".into(), json!(kernel));
    }
    interfaces(&s, &mut f)?;
    Ok(f)
}

/// The host's time zone from the probe's output, found the way the driver finds the local one
/// (`/etc/timezone`, else the zone of the `/etc/localtime` link); `None` when neither says.
pub fn timezone(text: &str) -> Option<String> {
    let s = sections(text);
    if let Some(tz) = first(&s, "timezone") {
        return Some(tz.to_string());
    }
    first(&s, "localtime")
        .and_then(|t| t.split_once("zoneinfo/"))
        .map(|(_, zone)| zone.to_string())
        .filter(|z| !z.is_empty())
}

/// One `ip -o addr` line: `2: eth0    inet 10.0.0.5/24 brd … scope global eth0\ …`.
fn address_line(line: &str) -> Option<(String, &str, &str)> {
    let mut words = line.split_whitespace();
    let _index = words.next()?;
    let dev = words.next()?.trim_end_matches(':');
    let dev = dev.split('@').next().unwrap_or(dev).to_string();
    let family = words.next()?;
    let cidr = words.next()?;
    Some((dev, family, cidr))
}

fn interfaces(s: &BTreeMap<&str, Vec<&str>>, f: &mut Facts) -> Result<(), FactsTextError> {
    type Addrs = (Vec<Value>, Vec<Value>);
    let mut ifaces: BTreeMap<String, Addrs> = BTreeMap::new();
    for name in s.get("interfaces").into_iter().flatten() {
        let name = name.trim();
        if !name.is_empty() {
            ifaces.entry(name.to_string()).or_default();
        }
    }
    let lines = s.get("addresses").cloned().unwrap_or_default();
    if lines.is_empty() {
        return Err(FactsTextError(
            "no addresses from `ip -o addr` (the probe image needs iproute2 or busybox's ip)"
                .into(),
        ));
    }
    for line in lines {
        let Some((dev, family, cidr)) = address_line(line) else {
            continue;
        };
        let (addr, prefix) = cidr.split_once('/').unwrap_or((cidr, ""));
        let entry = ifaces.entry(dev).or_default();
        match family {
            "inet" => {
                let Ok(ip) = addr.parse::<Ipv4Addr>() else {
                    continue;
                };
                let prefix: u32 = prefix.parse().unwrap_or(32).min(32);
                let mask = if prefix == 0 {
                    0
                } else {
                    u32::MAX << (32 - prefix)
                };
                let network = Ipv4Addr::from(u32::from(ip) & mask);
                entry.0.push(json!({
                    "address": ip.to_string(),
                    "netmask": Ipv4Addr::from(mask).to_string(),
                    "network": network.to_string(),
                    "prefix": prefix.to_string(),
                }));
            }
            "inet6" => {
                let Ok(ip) = addr.parse::<Ipv6Addr>() else {
                    continue;
                };
                let prefix: u32 = prefix.parse().unwrap_or(128).min(128);
                entry.1.push(json!({
                    "address": ip.to_string(),
                    "prefix": prefix.to_string(),
                    "scope": v6_scope(&ip),
                }));
            }
            _ => {}
        }
    }
    insert_interfaces(f, ifaces);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "
@@ hostname
ctl01
@@ domainname
example.org
@@ vcpus
8
@@ meminfo
MemTotal:       32780412 kB
MemFree:         1234 kB
@@ kernel
6.1.0-18-amd64
@@ arch
x86_64
@@ os-release
PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"
VERSION_ID=\"12\"
VERSION_CODENAME=bookworm
ID=debian
@@ timezone
@@ localtime
/usr/share/zoneinfo/Europe/Paris
@@ interfaces
br-ex
eth0
lo
vlan.10
@@ addresses
1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
1: lo    inet6 ::1/128 scope host \\       valid_lft forever preferred_lft forever
2: eth0    inet 10.0.0.5/24 brd 10.0.0.255 scope global eth0\\       valid_lft forever
2: eth0    inet 10.0.0.6/24 brd 10.0.0.255 scope global secondary eth0\\       valid_lft forever
2: eth0    inet6 fe80::1/64 scope link \\       valid_lft forever preferred_lft forever
5: vlan.10@eth0    inet 192.168.10.2/22 scope global vlan.10\\ valid_lft forever
@@ end
";

    #[test]
    fn parses_the_probe_output_into_fact_cache_form() {
        let f = parse(SAMPLE).unwrap();
        assert_eq!(f["ansible_hostname"], "ctl01");
        assert_eq!(f["ansible_nodename"], "ctl01");
        assert_eq!(f["ansible_fqdn"], "ctl01.example.org");
        assert_eq!(f["ansible_domain"], "example.org");
        assert_eq!(f["ansible_processor_vcpus"], 8);
        assert_eq!(f["ansible_memtotal_mb"], 32012);
        assert_eq!(f["ansible_distribution"], "Debian");
        assert_eq!(f["ansible_distribution_release"], "bookworm");
        assert_eq!(f["ansible_distribution_version"], "12");
        assert_eq!(f["ansible_os_family"], "Debian");
        assert_eq!(f["ansible_architecture"], "x86_64");
        assert_eq!(f["ansible_kernel"], "6.1.0-18-amd64");
        assert_eq!(f["ansible_lo"]["ipv4"]["address"], "127.0.0.1");
        assert_eq!(f["ansible_lo"]["ipv4"]["netmask"], "255.0.0.0");
        assert_eq!(f["ansible_lo"]["ipv6"][0]["scope"], "host");
        let eth0 = &f["ansible_eth0"];
        assert_eq!(eth0["device"], "eth0");
        assert_eq!(eth0["ipv4"]["address"], "10.0.0.5");
        assert_eq!(eth0["ipv4"]["network"], "10.0.0.0");
        assert_eq!(eth0["ipv4"]["prefix"], "24");
        assert_eq!(eth0["ipv4_secondaries"][0]["address"], "10.0.0.6");
        assert_eq!(eth0["ipv6"][0]["scope"], "link");
        assert_eq!(f["ansible_vlan_10"]["ipv4"]["network"], "192.168.8.0");
        assert_eq!(f["ansible_br_ex"]["device"], "br-ex");
        assert!(f["ansible_br_ex"].get("ipv4").is_none());
        assert_eq!(
            f["ansible_interfaces"],
            json!(["br-ex", "eth0", "lo", "vlan.10"])
        );
        assert_eq!(
            f["ansible_all_ipv4_addresses"],
            json!(["10.0.0.5", "10.0.0.6", "192.168.10.2"])
        );
        assert_eq!(timezone(SAMPLE).as_deref(), Some("Europe/Paris"));
    }

    #[test]
    fn same_shape_as_local_gathering() {
        let f = parse(SAMPLE).unwrap();
        let local = crate::facts::gather_local();
        // Every non-interface fact the local gatherer gives, the probe gives too.
        for (k, v) in &local {
            if v.get("device").is_none() {
                assert!(f.contains_key(k), "probe facts lack {k}");
            }
        }
        // Interfaces have the same fields: lo is the same on every machine.
        assert_eq!(f["ansible_lo"], local["ansible_lo"]);
    }

    #[test]
    fn runs_locally_with_sh() {
        // The script itself, on this machine (no bind mounts: os-release may be missing).
        if std::process::Command::new("ip").arg("-V").output().is_err() {
            eprintln!("skipped: no `ip` on this machine");
            return;
        }
        let out = std::process::Command::new("sh")
            .args(["-c", GATHER_SCRIPT])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let f = parse(&text).unwrap();
        let local = crate::facts::gather_local();
        assert_eq!(f["ansible_hostname"], local["ansible_hostname"]);
        assert_eq!(f["ansible_lo"], local["ansible_lo"]);
        assert_eq!(f["ansible_interfaces"], local["ansible_interfaces"]);
    }

    #[test]
    fn incomplete_output_is_an_error() {
        assert!(parse("@@ hostname\nx\n").is_err());
        let no_ip = SAMPLE.replace(
            &SAMPLE[SAMPLE.find("@@ addresses").unwrap()..SAMPLE.find("@@ end").unwrap()],
            "@@ addresses\n",
        );
        let e = parse(&no_ip).unwrap_err().to_string();
        assert!(e.contains("ip -o addr"), "{e}");
        assert!(parse(&SAMPLE.replace("ctl01\n", "\n")).is_err());
    }

    #[test]
    fn timezone_file_wins() {
        let t = SAMPLE.replace("@@ timezone\n", "@@ timezone\nAmerica/New_York\n");
        assert_eq!(timezone(&t).as_deref(), Some("America/New_York"));
        assert_eq!(timezone("@@ end\n"), None);
    }
}
