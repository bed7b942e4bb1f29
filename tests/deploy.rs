//! The deploy / reconfigure / restart lifecycle through the real binary, on real Docker
//! engines: `scripts/engines.sh` engines stand in for hosts (each with its own
//! `node_config_directory`), images are the local stand-in chain (`images/build.sh`).
//!
//! The scenarios share engines and container names, so they run in one test, in order.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::util::{
    copy_tree, docker, engines, engines_turn, ensure_images, kollars, planned_changes, site_args,
    site_inputs, site_inventory, stderr, IMAGE_NAMESPACE, IMAGE_TAG,
};

/// (id, StartedAt, running) of a container, or None.
fn state(engine: &str, name: &str) -> Option<(String, String, bool)> {
    let o = docker(
        engine,
        &[
            "inspect",
            "-f",
            "{{.Id}} {{.State.StartedAt}} {{.State.Running}}",
            name,
        ],
    );
    if !o.status.success() {
        return None;
    }
    let s = String::from_utf8_lossy(&o.stdout).trim().to_string();
    let mut p = s.split(' ');
    Some((
        p.next()?.to_string(),
        p.next()?.to_string(),
        p.next()? == "true",
    ))
}

fn remove(engine: &str, names: &[&str]) {
    for n in names {
        let _ = docker(engine, &["rm", "-f", n]);
        let _ = docker(engine, &["rm", "-f", &format!("bootstrap_{n}")]);
    }
}

struct Site {
    dir: tempfile::TempDir,
    engines: Vec<String>,
}

impl Site {
    /// Two hosts on two engines, cron and kolla-toolbox on both.
    fn new(engines: &[String]) -> Site {
        let dir = tempfile::tempdir().unwrap();
        site_inputs(
            dir.path(),
            &["node1", "node2"],
            &format!(
                "kolla_base_distro: debian\ndocker_registry: \"\"\ndocker_namespace: {IMAGE_NAMESPACE}\nopenstack_tag: {IMAGE_TAG}\n\
                 network_interface: eth0\nkolla_internal_vip_address: 192.0.2.250\n\
                 kollars_privileged_containers: false\ndefault_container_dimensions: {{}}\ndocker_graceful_timeout: 2\n"
            ),
        );
        site_inventory(
            dir.path(),
            "common",
            &[("node1", &engines[0], ""), ("node2", &engines[1], "")],
            &["cron", "kolla-toolbox", "kolla_toolbox"],
        );
        for e in &engines[..2] {
            remove(e, &["cron", "kolla_toolbox"]);
        }
        Site {
            dir,
            engines: engines.to_vec(),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn args(&self, cmd: &str, extra: &[&str]) -> Vec<String> {
        site_args(self.dir.path(), cmd, "cron,kolla-toolbox", extra)
    }

    fn run(&self, cmd: &str, extra: &[&str]) -> Output {
        let o = kollars(self.args(cmd, extra));
        assert!(
            o.status.success(),
            "kollars {cmd} failed ({:?}): {}\n{}",
            o.status.code(),
            stderr(&o),
            String::from_utf8_lossy(&o.stdout)
        );
        o
    }

    fn snapshot(&self) -> Vec<Option<(String, String, bool)>> {
        let mut v = Vec::new();
        for e in &self.engines[..2] {
            for c in ["cron", "kolla_toolbox"] {
                v.push(state(e, c));
            }
        }
        v
    }
}

fn write(p: &Path, text: &str) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

#[test]
fn lifecycle_on_real_engines() {
    // other test processes (a second `cargo test`) use the same engines and container names
    let _turn = engines_turn();
    let engines = engines();
    for e in &engines[..2] {
        ensure_images(e, &["cron", "kolla-toolbox"]);
    }
    let site = Site::new(&engines);

    // bad input touches no host: nothing created, nothing written
    let mut bad = site.args("deploy", &[]);
    bad.extend([
        "-e".into(),
        "cron_logrotate_schedule={{ no_such_var }}".into(),
    ]);
    let o = kollars(&bad);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("no_such_var"), "{}", stderr(&o));
    assert!(
        site.snapshot().iter().all(Option::is_none),
        "bad input created containers"
    );
    assert!(!site.path("etc-node1").exists(), "bad input wrote files");

    // first deploy: every container created and running, configs written per host
    site.run("deploy", &[]);
    let first = site.snapshot();
    assert!(
        first.iter().all(|s| s.as_ref().is_some_and(|s| s.2)),
        "not all running: {first:?}"
    );
    assert!(site.path("etc-node1/cron/config.json").is_file());
    assert!(site.path("etc-node2/kolla-toolbox/config.json").is_file());

    // second run: nothing planned, nothing changed
    let o = site.run("plan", &[]);
    assert_eq!(
        planned_changes(&o),
        0,
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    site.run("reconfigure", &[]);
    assert_eq!(
        site.snapshot(),
        first,
        "a no-op reconfigure changed containers"
    );

    // a config file edited on the host behind kollars' back: rewritten, and the container
    // that read it restarted (kolla's template task reports a change and notifies)
    let edited = site.path("etc-node2/kolla-toolbox/config.json");
    let original = std::fs::read_to_string(&edited).unwrap();
    std::fs::write(&edited, "{}\n").unwrap();
    let o = site.run("plan", &[]);
    let plan = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(plan.contains("node2: kolla-toolbox: restart"), "{plan}");
    assert_eq!(planned_changes(&o), 1, "{plan}");
    site.run("reconfigure", &[]);
    assert_eq!(std::fs::read_to_string(&edited).unwrap(), original);
    let after = site.snapshot();
    let (before4, after4) = (first[3].clone().unwrap(), after[3].clone().unwrap());
    assert_eq!(before4.0, after4.0, "kolla_toolbox on node2 was recreated");
    assert_ne!(
        before4.1, after4.1,
        "kolla_toolbox on node2 was not restarted"
    );
    assert_eq!(after[..3], first[..3], "other containers or hosts changed");
    let first = after;
    let o = site.run("plan", &[]);
    assert_eq!(
        planned_changes(&o),
        0,
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );

    // a host-level override restarts exactly cron on exactly node1 (same container, new start)
    write(
        &site.path("config/config/cron/node1/cron-logrotate-global.conf"),
        "daily\nrotate 2\n# {{ rabbitmq_password }}\n",
    );
    let o = site.run("plan", &[]);
    let plan = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(plan.contains("node1: cron: restart"), "{plan}");
    assert!(plan.contains("+rotate 2"), "plan shows the diff: {plan}");
    // secrets from passwords.yml never appear in plans
    let passwords: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(site.path("config/passwords.yml")).unwrap())
            .unwrap();
    let secret = passwords["rabbitmq_password"].as_str().unwrap().to_string();
    assert!(!plan.contains(&secret), "plan leaks a password: {plan}");
    assert!(
        plan.contains("+# ********"),
        "plan masks the password: {plan}"
    );
    assert_eq!(planned_changes(&o), 1, "{plan}");
    site.run("reconfigure", &[]);
    let after = site.snapshot();
    let (c1_before, c1_after) = (first[0].clone().unwrap(), after[0].clone().unwrap());
    assert_eq!(
        c1_before.0, c1_after.0,
        "cron on node1 was recreated, not restarted"
    );
    assert_ne!(c1_before.1, c1_after.1, "cron on node1 was not restarted");
    assert_eq!(after[1..], first[1..], "other containers or hosts changed");
    let first = after;

    // a changed volume recreates (new container id) only cron, on both hosts
    site.run(
        "reconfigure",
        &["-e", "{\"cron_extra_volumes\": [\"/tmp:/host-tmp:ro\"]}"],
    );
    let after = site.snapshot();
    assert_ne!(
        after[0].as_ref().unwrap().0,
        first[0].as_ref().unwrap().0,
        "cron node1 not recreated"
    );
    assert_ne!(
        after[2].as_ref().unwrap().0,
        first[2].as_ref().unwrap().0,
        "cron node2 not recreated"
    );
    assert_eq!(after[1], first[1]);
    assert_eq!(after[3], first[3]);
    // back to the plain definition (recreate again), then a changed image recreates too
    site.run("reconfigure", &[]);
    for e in &engines[..2] {
        let o = docker(
            e,
            &[
                "tag",
                &format!("{IMAGE_NAMESPACE}/cron:{IMAGE_TAG}"),
                &format!("{IMAGE_NAMESPACE}/cron:other"),
            ],
        );
        assert!(o.status.success());
    }
    let before = site.snapshot();
    let o = site.run("plan", &["-e", "cron_tag=other"]);
    let plan = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        plan.contains("node1: cron: recreate") && plan.contains("image"),
        "{plan}"
    );
    site.run("reconfigure", &["-e", "cron_tag=other"]);
    let after = site.snapshot();
    assert_ne!(after[0].as_ref().unwrap().0, before[0].as_ref().unwrap().0);
    site.run("reconfigure", &[]);

    // restart one service by container name: only kolla_toolbox restarts
    let before = site.snapshot();
    site.run("restart", &["kolla_toolbox"]);
    let after = site.snapshot();
    assert_eq!(after[0], before[0]);
    assert_ne!(
        after[1].as_ref().unwrap().1,
        before[1].as_ref().unwrap().1,
        "kolla_toolbox not restarted"
    );
    assert_eq!(after[1].as_ref().unwrap().0, before[1].as_ref().unwrap().0);

    // config written but the restart never happened (a run that died halfway): the next
    // reconfigure still finds and restarts exactly that container
    write(
        &site.path("config/config/cron/node2/cron-logrotate-global.conf"),
        "weekly\nrotate 9\n",
    );
    let gen_out = site.dir.path().join("etc-node2");
    let mut gen = site.args("genconfig", &["--limit", "node2", "--output"]);
    gen.push(site.dir.path().join("gen").display().to_string());
    assert!(kollars(&gen).status.success());
    copy_tree(&site.dir.path().join("gen/node2"), &gen_out);
    let before = site.snapshot();
    site.run("reconfigure", &[]);
    let after = site.snapshot();
    assert_ne!(
        after[2].as_ref().unwrap().1,
        before[2].as_ref().unwrap().1,
        "node2 cron not restarted after an interrupted run"
    );
    assert_eq!(after[0], before[0]);

    // a run killed mid-way, then rerun, converges
    std::fs::remove_file(site.path("config/config/cron/node2/cron-logrotate-global.conf")).unwrap();
    for e in &engines[..2] {
        remove(e, &["cron", "kolla_toolbox"]);
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_kollars"))
        .args(site.args("deploy", &[]))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(150));
    let _ = child.kill();
    let _ = child.wait();
    site.run("deploy", &[]);
    let o = site.run("plan", &[]);
    assert_eq!(
        planned_changes(&o),
        0,
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(site
        .snapshot()
        .iter()
        .all(|s| s.as_ref().is_some_and(|s| s.2)));

    // two runs at once do not interleave: while another run holds the lock, a run waits
    let lock_path = site.dir.path().join("run.lock");
    let held = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .unwrap();
    held.lock().unwrap();
    let mut waiting = Command::new(env!("CARGO_BIN_EXE_kollars"))
        .args(site.args("restart", &["cron"]))
        .env("KOLLARS_LOCK_FILE", &lock_path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let before = site.snapshot();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(
        waiting.try_wait().unwrap().is_none(),
        "the run did not wait for the lock"
    );
    assert_eq!(
        site.snapshot(),
        before,
        "a run acted while another held the lock"
    );
    held.unlock().unwrap();
    let o = waiting.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("waiting for another kollars run"),
        "{}",
        stderr(&o)
    );
    assert_ne!(
        site.snapshot()[0].as_ref().unwrap().1,
        before[0].as_ref().unwrap().1,
        "cron not restarted after the lock was released"
    );

    // check: every expected container present, running, not unhealthy
    let o = site.run("check", &[]);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(
        out.lines().filter(|l| l.ends_with(" ok")).count(),
        4,
        "{out}"
    );

    // an engine that is down: that host fails with a clear error naming host and endpoint,
    // the other host is still deployed (cron removed on node1 comes back), exit 3
    let inv = std::fs::read_to_string(site.path("inventory")).unwrap();
    std::fs::write(
        site.path("inventory"),
        inv.replace(&engines[1], "unix:///nonexistent/kollars.sock"),
    )
    .unwrap();
    remove(&engines[0], &["cron"]);
    let o = kollars(site.args("deploy", &[]));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains("node2") && err.contains("/nonexistent/kollars.sock"),
        "{err}"
    );
    assert!(
        state(&engines[0], "cron").is_some_and(|s| s.2),
        "node1 was not deployed: {err}"
    );

    for e in &engines[..2] {
        remove(e, &["cron", "kolla_toolbox"]);
    }
}
