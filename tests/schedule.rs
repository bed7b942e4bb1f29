//! The deploy graph across hosts, on real engines: each project waits for the projects it
//! names in `after` on every host, bootstrap one-shots run once (on the first host that gets
//! the service), and a host that fails drops out of the later projects while the others go on.
//!
//! Two hosts on two engines deploy memcached → keystone (after memcached, with two bootstrap
//! one-shots) → horizon (after keystone), from the real catalogue with `-t`. The events of
//! `--output json` arrive in the order the engine calls completed, which is what is checked.

use std::process::Output;

use serde_json::Value;

use crate::util::{docker, engines, kollars, site_args, site_inputs, site_inventory, stderr};

const CONTAINERS: &[&str] = &[
    "memcached",
    "keystone",
    "keystone_fernet",
    "keystone_ssh",
    "horizon",
    "bootstrap_keystone",
    "bootstrap_keystone_fernet",
    // never deployed here, but another test's on the same engine would answer the database
    // task that must fail for want of it
    "kolla_toolbox",
];

/// `State.Status` of a container, or None when it does not exist.
fn status(engine: &str, name: &str) -> Option<String> {
    let o = docker(engine, &["inspect", "-f", "{{.State.Status}}", name]);
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

fn clean(engines: &[String]) {
    for e in engines {
        for c in CONTAINERS {
            let _ = docker(e, &["rm", "-f", c]);
        }
    }
}

struct Site {
    dir: tempfile::TempDir,
    engines: Vec<String>,
}

impl Site {
    /// node1 and node2, each on its own engine; `node1_vars` are extra host vars for node1.
    /// The stand-in images hold no database: the databases count as preconfigured.
    fn new(engines: &[String], node1_vars: &str) -> Site {
        Site::with_globals(
            engines,
            node1_vars,
            // stand-ins run no real service: no tasks around them (keystone's key push
            // needs rsync and sshd the stand-in images do not have)
            "use_preconfigured_databases: \"yes\"\nkollars_bootstrap_tasks: false\n",
        )
    }

    /// [`Site::new`] with `globals` added to globals.yml.
    fn with_globals(engines: &[String], node1_vars: &str, globals: &str) -> Site {
        let dir = tempfile::tempdir().unwrap();
        site_inputs(
            dir.path(),
            &["node1", "node2"],
            &format!(
                "kolla_base_distro: debian\ndocker_registry: \"\"\ndocker_namespace: kollars\n\
                 openstack_tag: latest\nnetwork_interface: lo\n\
                 kolla_internal_vip_address: 192.0.2.250\nkollars_privileged_containers: false\n\
                 default_container_dimensions: {{}}\ndocker_graceful_timeout: 2\n{globals}"
            ),
        );
        site_inventory(
            dir.path(),
            "control",
            &[
                ("node1", &engines[0], node1_vars),
                ("node2", &engines[1], ""),
            ],
            &[
                "memcached",
                "keystone",
                "horizon",
                "rabbitmq",
                "mariadb",
                "loadbalancer",
            ],
        );
        clean(&engines[..2]);
        Site {
            dir,
            engines: engines[..2].to_vec(),
        }
    }

    /// `kollars deploy --output json`: its output and its events.
    fn deploy(&self) -> (Output, Vec<Value>) {
        self.deploy_with(&[])
    }

    /// [`Site::deploy`] with more arguments (`--limit`).
    fn deploy_with(&self, extra: &[&str]) -> (Output, Vec<Value>) {
        let mut args = vec!["--output", "json"];
        args.extend(extra);
        let o = kollars(site_args(
            self.dir.path(),
            "deploy",
            "memcached,keystone,horizon",
            &args,
        ));
        let events = String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        (o, events)
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        clean(&self.engines);
    }
}

/// Index of the first (or last) event matching host (None: any), subject, step and phase.
fn find(
    events: &[Value],
    host: Option<&str>,
    subject: &str,
    step: &str,
    phase: &str,
) -> Vec<usize> {
    events
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            host.is_none_or(|h| e["host"] == h)
                && e["subject"] == subject
                && e["step"] == step
                && e["phase"] == phase
        })
        .map(|(i, _)| i)
        .collect()
}

fn last(events: &[Value], host: Option<&str>, subject: &str, step: &str, phase: &str) -> usize {
    *find(events, host, subject, step, phase)
        .last()
        .unwrap_or_else(|| panic!("no {subject} {step} {phase} on {host:?}: {events:#?}"))
}

fn first(events: &[Value], host: Option<&str>, subject: &str, step: &str, phase: &str) -> usize {
    *find(events, host, subject, step, phase)
        .first()
        .unwrap_or_else(|| panic!("no {subject} {step} {phase} on {host:?}: {events:#?}"))
}

#[test]
fn projects_wait_for_their_dependencies_on_every_host_and_bootstrap_once() {
    let _serial = crate::util::engines_turn();
    let engines = engines();
    let site = Site::new(&engines, "");
    let (o, ev) = site.deploy();
    assert!(o.status.success(), "deploy failed: {}", stderr(&o));

    // bootstrap one-shots: once each, on the first host
    for b in ["bootstrap_keystone", "bootstrap_keystone_fernet"] {
        let runs = find(&ev, None, b, "oneshot", "finished");
        assert_eq!(runs.len(), 1, "{b} ran {} times", runs.len());
        assert_eq!(
            ev[runs[0]]["host"], "node1",
            "{b} ran on {}",
            ev[runs[0]]["host"]
        );
    }
    // one after the other, in service order (fernet_setup logs where db_sync's hook made
    // the directory)
    assert!(
        last(&ev, None, "bootstrap_keystone", "oneshot", "finished")
            < first(&ev, None, "bootstrap_keystone_fernet", "oneshot", "started"),
        "keystone-fernet's bootstrap began before keystone's ended"
    );
    // keystone waits for memcached on both hosts; horizon for keystone on both hosts
    let memcached_up = ["node1", "node2"]
        .iter()
        .map(|h| last(&ev, Some(h), "memcached", "start", "finished"))
        .max()
        .unwrap();
    let keystone_begins = first(&ev, None, "bootstrap_keystone", "oneshot", "started");
    assert!(
        memcached_up < keystone_begins,
        "keystone began before memcached was up everywhere"
    );
    let bootstrapped = last(&ev, None, "bootstrap_keystone", "oneshot", "finished");
    let keystone_up = ["node1", "node2"]
        .iter()
        .map(|h| {
            let started = first(&ev, Some(h), "keystone", "start", "started");
            assert!(
                bootstrapped < started,
                "keystone on {h} started before its bootstrap"
            );
            last(&ev, Some(h), "keystone", "start", "finished")
        })
        .max()
        .unwrap();
    let horizon_begins = first(&ev, None, "horizon", "start", "started");
    assert!(
        keystone_up < horizon_begins,
        "horizon started before keystone was up everywhere"
    );

    for e in &site.engines {
        for c in [
            "memcached",
            "keystone",
            "keystone_fernet",
            "keystone_ssh",
            "horizon",
        ] {
            assert_eq!(status(e, c).as_deref(), Some("running"), "{c} on {e}");
        }
        for b in ["bootstrap_keystone", "bootstrap_keystone_fernet"] {
            assert_eq!(status(e, b), None, "{b} left behind on {e}");
        }
    }
}

#[test]
fn a_failed_host_drops_out_of_later_projects_and_the_others_go_on() {
    let _serial = crate::util::engines_turn();
    let engines = engines();
    // node1 cannot create keystone (no such image, no registry to pull from)
    let site = Site::new(&engines, "keystone_tag=no-such-tag");
    let (o, ev) = site.deploy();
    assert_eq!(o.status.code(), Some(3), "one host failed: {}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("node1") && err.contains("keystone"), "{err}");

    let (e1, e2) = (&site.engines[0], &site.engines[1]);
    // node1: an image it cannot have stops it before it changes anything (every image a
    // host needs is made sure of first); keystone and what comes after did not start
    assert_eq!(status(e1, "memcached"), None);
    assert_ne!(status(e1, "keystone").as_deref(), Some("running"));
    assert_ne!(status(e1, "horizon").as_deref(), Some("running"));
    // node2 bootstrapped keystone instead, and deployed everything
    let runs = find(&ev, None, "bootstrap_keystone", "oneshot", "finished");
    assert_eq!(runs.len(), 1, "{ev:#?}");
    assert_eq!(ev[runs[0]]["host"], "node2");
    for c in [
        "memcached",
        "keystone",
        "keystone_fernet",
        "keystone_ssh",
        "horizon",
    ] {
        assert_eq!(status(e2, c).as_deref(), Some("running"), "{c} on node2");
    }
}

/// A host added later gets its containers, but the bootstrap one-shots run on the first host
/// that runs the service (kolla's `run_once` delegated to `groups[<group>][0]`), not on the
/// newcomer: its database sync or fernet key setup must not happen apart from the first host.
#[test]
fn a_host_added_later_does_not_bootstrap_on_its_own() {
    let _serial = crate::util::engines_turn();
    let engines = engines();
    let site = Site::new(&engines, "");
    let (o, _) = site.deploy_with(&["--limit", "node1"]);
    assert!(o.status.success(), "deploy node1: {}", stderr(&o));
    assert_eq!(status(&site.engines[1], "keystone"), None);

    let (o, ev) = site.deploy();
    assert!(o.status.success(), "deploy both: {}", stderr(&o));
    for b in ["bootstrap_keystone", "bootstrap_keystone_fernet"] {
        let runs = find(&ev, None, b, "oneshot", "finished");
        assert_eq!(runs.len(), 1, "{b} ran {} times: {ev:#?}", runs.len());
        assert_eq!(ev[runs[0]]["host"], "node1", "{b} ran on the new host");
    }
    // node1 kept its containers; node2 got them all
    assert!(find(&ev, Some("node1"), "keystone", "create", "finished").is_empty());
    for c in [
        "memcached",
        "keystone",
        "keystone_fernet",
        "keystone_ssh",
        "horizon",
    ] {
        assert_eq!(
            status(&site.engines[1], c).as_deref(),
            Some("running"),
            "{c} on node2"
        );
    }
}

#[test]
fn a_database_that_cannot_be_made_fails_its_project_before_its_bootstrap() {
    // kolla's mysql_db/mysql_user run in kolla_toolbox, which this site does not deploy (-t):
    // keystone's database task fails, so keystone neither bootstraps nor starts, on any host,
    // and horizon (after keystone) is never started; memcached, before it, is deployed.
    let _serial = crate::util::engines_turn();
    let engines = engines();
    let site = Site::with_globals(&engines, "", "");
    // plan names the task, once, on the first host
    let o = kollars(site_args(
        site.dir.path(),
        "plan",
        "memcached,keystone,horizon",
        &[],
    ));
    let plan = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(o.status.success(), "plan: {}", stderr(&o));
    assert!(
        plan.contains("node1: keystone: database keystone: create (cannot check yet:"),
        "{plan}"
    );
    assert!(!plan.contains("node2: keystone: database"), "once: {plan}");
    let (o, ev) = site.deploy();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "every host failed: {err}");
    assert!(
        err.contains("database of keystone on host node1 failed") && err.contains("kolla_toolbox"),
        "names the task, host and container: {err}"
    );
    for h in ["node1", "node2"] {
        assert!(err.contains(&format!("host {h} FAILED")), "{err}");
        last(&ev, Some(h), "memcached", "start", "finished");
        assert!(find(&ev, Some(h), "keystone", "start", "started").is_empty());
        assert!(find(&ev, Some(h), "horizon", "start", "started").is_empty());
    }
    assert!(find(&ev, None, "bootstrap_keystone", "oneshot", "started").is_empty());
    // no password reaches the output
    let passwords = std::fs::read_to_string(site.dir.path().join("config/passwords.yml")).unwrap();
    let out = format!("{}{err}", String::from_utf8_lossy(&o.stdout));
    for line in passwords.lines() {
        if let Some((_, v)) = line.split_once(": ") {
            let v = v.trim();
            if v.len() >= 8 && v != "null" {
                assert!(!out.contains(v), "a password reached the output");
            }
        }
    }
}
