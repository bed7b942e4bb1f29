//! `kollars prechecks` on real engines: the good site passes every check; each check fails on
//! a site prepared to fail it, naming host and check, with exit code 2; nothing is changed.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

use crate::util::{
    docker, engine_pid, engines, engines_turn, ensure_images, kollars, site_args, site_inputs,
    standin_globals, stderr,
};

const TAGS: &str = "memcached,keystone";

/// A two-host site: node1 and node2 in control, memcached, keystone and mariadb (node1 alone)
/// and loadbalancer/rabbitmq; `extra` goes on each host line; `mariadb` lists mariadb's hosts.
fn site(dir: &Path, engines: &[String], mariadb: &[&str], groups_extra: &str) {
    site_inputs(dir, &["node1", "node2"], &standin_globals());
    let mut inv = String::from("[control]\n");
    for (h, e) in [("node1", &engines[0]), ("node2", &engines[1])] {
        inv.push_str(&format!(
            "{h} kollars_engine={e} node_config_directory={}\n",
            dir.join(format!("etc-{h}")).display()
        ));
    }
    inv.push_str("[mariadb]\n");
    for h in mariadb {
        inv.push_str(&format!("{h}\n"));
    }
    for c in [
        "memcached",
        "keystone",
        "loadbalancer",
        "rabbitmq",
        "kolla-toolbox",
        "cron",
    ] {
        inv.push_str(&format!("[{c}:children]\ncontrol\n"));
    }
    inv.push_str(groups_extra);
    std::fs::write(dir.join("inventory"), inv).unwrap();
}

fn prechecks(dir: &Path, extra: &[&str]) -> Output {
    let mut a = site_args(dir, "prechecks", TAGS, &["--output", "json"]);
    a.extend(extra.iter().map(|s| s.to_string()));
    kollars(a)
}

/// Every output line as (host, check, ok, message).
fn findings(o: &Output) -> Vec<(String, String, bool, String)> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        // progress events (the probe's) come between the findings
        .filter(|v| v.get("check").is_some())
        .map(|v| {
            (
                v["host"].as_str().unwrap().to_owned(),
                v["check"].as_str().unwrap().to_owned(),
                v["ok"].as_bool().unwrap(),
                v["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The failed findings of a run that must have failed with exit 2.
fn failures(o: &Output) -> Vec<(String, String, String)> {
    assert_eq!(
        o.status.code(),
        Some(2),
        "want exit 2: {}\n{}",
        stderr(o),
        String::from_utf8_lossy(&o.stdout)
    );
    findings(o)
        .into_iter()
        .filter(|f| !f.2)
        .map(|(h, c, _, m)| (h, c, m))
        .collect()
}

/// Exactly one failure, of `check` on `host`, whose message has `needle`.
fn fails_once(o: &Output, host: &str, check: &str, needle: &str) {
    let f = failures(o);
    assert_eq!(f.len(), 1, "want one failure of {check}: {f:#?}");
    let (h, c, m) = &f[0];
    assert_eq!((h.as_str(), c.as_str()), (host, check), "{f:#?}");
    assert!(m.contains(needle), "`{needle}` not in: {m}");
}

/// A TCP listener on 0.0.0.0:`port` inside the engine's host network namespace; killed when
/// dropped.
struct Listener(Child);

impl Listener {
    fn start(engine: &str, port: u16) -> Listener {
        let script = format!(
            "import socket,sys,time\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n\
             s.bind(('0.0.0.0',{port}))\ns.listen()\nprint('ready',flush=True)\ntime.sleep(600)\n"
        );
        let mut child = Command::new("nsenter")
            .arg(format!("--net=/proc/{}/ns/net", engine_pid(engine)))
            .args(["python3", "-c", &script])
            .stdout(Stdio::piped())
            .spawn()
            .expect("nsenter python3");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "the listener did not start");
        Listener(child)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn clean(engines: &[String]) {
    for e in &engines[..2] {
        for c in ["memcached", "keystone", "keystone_ssh", "keystone_fernet"] {
            docker(e, &["rm", "-f", c]);
        }
    }
}

#[test]
fn prechecks_pass_on_the_good_site_and_each_fails_where_prepared() {
    let _turn = engines_turn();
    let engines = engines();
    for e in &engines[..2] {
        ensure_images(
            e,
            &[
                "memcached",
                "keystone",
                "keystone-ssh",
                "keystone-fernet",
                "kolla-toolbox",
            ],
        );
    }
    clean(&engines);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    site(d, &engines, &["node1"], "");

    // the good site: every check of both hosts and of the site passes
    let o = prechecks(d, &[]);
    assert!(
        o.status.success(),
        "{}\n{}",
        stderr(&o),
        String::from_utf8_lossy(&o.stdout)
    );
    let all = findings(&o);
    for host in ["node1", "node2"] {
        for check in ["engine", "images", "ports", "disk", "vip"] {
            assert!(
                all.iter().any(|f| f.0 == host && f.1 == check && f.2),
                "no passed {check} of {host}: {all:#?}"
            );
        }
    }
    for check in ["inventory", "passwords"] {
        assert!(
            all.iter().any(|f| f.0 == "site" && f.1 == check && f.2),
            "{all:#?}"
        );
    }
    let ports = all
        .iter()
        .find(|f| f.0 == "node1" && f.1 == "ports")
        .unwrap();
    // memcached 11211, keystone 5000, keystone_ssh 8023
    assert!(ports.3.starts_with("3 port(s) free"), "{ports:?}");
    // nothing was changed: no container, no config directory
    assert!(!d.join("etc-node1").exists());
    let ps = docker(&engines[0], &["ps", "-aq", "--filter", "name=^memcached$"]);
    assert!(ps.stdout.is_empty());

    // engine: a host whose engine does not answer
    let sock = d.join("nothing.sock");
    let third = format!(
        "[control]\nnode3 kollars_engine=unix://{} node_config_directory={}\n",
        sock.display(),
        d.join("etc-node3").display()
    );
    std::fs::copy(d.join("facts/node1.json"), d.join("facts/node3.json")).unwrap();
    let inv = std::fs::read_to_string(d.join("inventory")).unwrap();
    std::fs::write(d.join("inventory"), format!("{inv}{third}")).unwrap();
    fails_once(&prechecks(d, &[]), "node3", "engine", "unreachable");
    site(d, &engines, &["node1"], "");

    // ports: something listens on memcached's port on node1; node2 is fine
    {
        let _l = Listener::start(&engines[0], 11211);
        fails_once(
            &prechecks(d, &[]),
            "node1",
            "ports",
            "port 11211 of memcached on 192.0.2.2 is taken: something already listens on 0.0.0.0:11211",
        );
    }
    // ... but a service whose container exists is not checked (its own port is taken by it)
    let deploy = kollars(site_args(d, "deploy", "memcached", &[]));
    assert!(deploy.status.success(), "{}", stderr(&deploy));
    let o = prechecks(d, &[]);
    assert!(
        o.status.success(),
        "{}\n{}",
        stderr(&o),
        String::from_utf8_lossy(&o.stdout)
    );
    let ports = findings(&o);
    let ports = ports
        .iter()
        .find(|f| f.0 == "node1" && f.1 == "ports")
        .unwrap();
    assert!(ports.3.starts_with("2 port(s) free"), "{ports:?}");
    clean(&engines);

    // inventory: an even Galera cluster, and no control group
    fails_once(
        &prechecks_with_inventory(d, &engines, &["node1", "node2"], ""),
        "site",
        "inventory",
        "group mariadb has 2 members",
    );
    site(d, &engines, &["node1"], "");
    let inv = std::fs::read_to_string(d.join("inventory")).unwrap();
    std::fs::write(
        d.join("inventory"),
        inv.replace("[control]", "[controllers]")
            .replace(":children]\ncontrol\n", ":children]\ncontrollers\n"),
    )
    .unwrap();
    fails_once(
        &prechecks(d, &[]),
        "site",
        "inventory",
        "group control is missing",
    );
    site(d, &engines, &["node1"], "");

    // vip: the internal VIP is node addresses' (192.0.2.2, from the facts)
    let f = failures(&prechecks(
        d,
        &["-e", "kolla_internal_vip_address=192.0.2.2"],
    ));
    assert_eq!(f.len(), 2, "{f:#?}");
    for (h, (host, check, m)) in ["node1", "node2"].iter().zip(&f) {
        assert_eq!((host.as_str(), check.as_str()), (*h, "vip"), "{f:#?}");
        assert!(m.contains("kolla_internal_vip_address 192.0.2.2"), "{m}");
    }

    // passwords: keystone's admin password is missing (the render would fail on it next)
    let pw = d.join("config/passwords.yml");
    let full = std::fs::read_to_string(&pw).unwrap();
    let without: String = full
        .lines()
        .filter(|l| !l.starts_with("keystone_admin_password:"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&pw, without).unwrap();
    let o = prechecks(d, &[]);
    std::fs::write(&pw, &full).unwrap();
    let f = failures(&o);
    assert!(
        f.iter().any(|(h, c, m)| h == "site"
            && c == "passwords"
            && m.contains("project keystone uses keystone_admin_password")),
        "{f:#?}"
    );

    // images: memcached's image exists nowhere (its registry is a closed local port)
    let o = prechecks(d, &["-e", "memcached_image=127.0.0.1:9/kollars/memcached"]);
    let f = failures(&o);
    assert_eq!(f.len(), 2, "{f:#?}");
    for (h, (host, check, m)) in ["node1", "node2"].iter().zip(&f) {
        assert_eq!((host.as_str(), check.as_str()), (*h, "images"), "{f:#?}");
        assert!(m.contains("127.0.0.1:9/kollars/memcached:latest"), "{m}");
    }

    // disk: more free space wanted than the data root has
    let f = failures(&prechecks(
        d,
        &["-e", "kollars_precheck_min_free_gib=100000000"],
    ));
    assert_eq!(f.len(), 2, "{f:#?}");
    assert!(f
        .iter()
        .all(|(_, c, m)| c == "disk" && m.contains("at least 100000000 GiB")));

    // text output: one line per check, FAILED named
    let o = kollars(site_args(
        d,
        "prechecks",
        TAGS,
        &["-e", "kollars_precheck_min_free_gib=100000000"],
    ));
    assert_eq!(o.status.code(), Some(2));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.lines()
            .any(|l| l.starts_with("node1") && l.contains("disk") && l.contains("FAILED")),
        "{text}"
    );
    assert!(
        stderr(&o).contains("prechecks: 2 check(s) FAILED"),
        "{}",
        stderr(&o)
    );
}

fn prechecks_with_inventory(
    dir: &Path,
    engines: &[String],
    mariadb: &[&str],
    extra: &str,
) -> Output {
    site(dir, engines, mariadb, extra);
    prechecks(dir, &[])
}
