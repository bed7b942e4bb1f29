//! Hosts reached only through a real sshd: `scripts/ssh-hosts.sh` puts Debian's sshd (inetd
//! mode, key authentication, a known host key) in front of each `scripts/engines.sh` engine,
//! inside that engine's network namespace, and the inventory names the hosts
//! `ssh://root@ssh-hostN` only. kollars runs the system ssh (the script's wrapper first in
//! PATH, which reads the script's ssh config and records its arguments).
//!
//! The lifecycle (deploy, no-op reconfigure, an override restarting exactly its container,
//! restart, check, plan with diffs, genconfig to the hosts, stop, destroy) with facts gathered
//! through the engines and config files written through them, each run opening exactly one ssh
//! connection per host; and the failures ssh and the remote side can give, each named with its
//! host and endpoint, in bounded time.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::util::{
    docker, engines, engines_turn, ensure_images, root, site_args, site_inputs, site_inventory,
    standin_globals, stderr,
};

const TAGS: &str = "cron,kolla-toolbox";
const CONTAINERS: [&str; 2] = ["cron", "kolla_toolbox"];

/// The ssh side of the test hosts: the script's directory and one `ssh://` endpoint per
/// engine.
struct SshHosts {
    dir: PathBuf,
    endpoints: Vec<String>,
    /// This binary's ssh tests take turns: the script rewrites the configs, and a test counts
    /// the ssh processes left.
    _turn: std::sync::MutexGuard<'static, ()>,
}

/// Runs `scripts/ssh-hosts.sh` for `engines` in `KOLLARS_TEST_SSH_DIR`, else a directory of
/// the temp dir; the other ssh tests wait until the returned value is dropped.
fn ssh_hosts(engines: &[String]) -> SshHosts {
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let dir = std::env::var_os("KOLLARS_TEST_SSH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("kollars-ssh"));
    let o = Command::new(root().join("scripts/ssh-hosts.sh"))
        .arg("up")
        .arg(&dir)
        .args(engines)
        .output()
        .expect("run scripts/ssh-hosts.sh");
    assert!(o.status.success(), "ssh-hosts.sh failed: {}", stderr(&o));
    SshHosts {
        dir,
        endpoints: String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(str::to_owned)
            .collect(),
        _turn: turn,
    }
}

impl SshHosts {
    /// kollars with the script's ssh first in PATH and no DOCKER_HOST.
    fn kollars(&self, args: &[String]) -> Output {
        let path = format!(
            "{}:{}",
            self.dir.join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Command::new(env!("CARGO_BIN_EXE_kollars"))
            .args(args)
            .env("PATH", path)
            .env_remove("KOLLA_CONFIG_PATH")
            .env_remove("DOCKER_HOST")
            .output()
            .expect("run kollars")
    }

    /// The ssh connections host alias `alias` has accepted so far (its sshd logs one
    /// `Accepted publickey` per connection).
    fn connections(&self, alias: &str) -> usize {
        std::fs::read_to_string(self.dir.join(format!("{alias}.log")))
            .unwrap_or_default()
            .matches("Accepted publickey")
            .count()
    }

    /// ssh processes of this directory's config still running (masters left behind).
    fn ssh_processes(&self) -> Vec<String> {
        let config = self.dir.join("config").display().to_string();
        let mut left = Vec::new();
        for e in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(cmd) = std::fs::read(e.path().join("cmdline")) else {
                continue;
            };
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.starts_with("/usr/bin/ssh ") && cmd.contains(&config) {
                left.push(cmd);
            }
        }
        left
    }
}

/// The private control directories of kollars' ssh connections (`kollars-ssh-*` in the temp
/// dir) that exist now.
fn control_dirs() -> std::collections::BTreeSet<String> {
    std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("kollars-ssh-"))
        .collect()
}

/// (id, StartedAt, running) of a container, or None.
fn state(engine: &str, name: &str) -> Option<String> {
    let o = docker(
        engine,
        &[
            "inspect",
            "-f",
            "{{.Id}} {{.State.StartedAt}} {{.State.Running}}",
            name,
        ],
    );
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).trim().to_owned())
}

fn planned_changes(o: &Output) -> usize {
    let out = String::from_utf8_lossy(&o.stdout);
    let last = out.lines().last().unwrap_or_default();
    last.split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("plan summary: {out}"))
}

struct Site {
    dir: tempfile::TempDir,
    ssh: SshHosts,
    /// The engines behind the ssh hosts, to look at the containers directly.
    engines: Vec<String>,
    /// kollars runs that talked to the hosts so far.
    runs: usize,
}

impl Site {
    fn args(&self, cmd: &str, extra: &[&str]) -> Vec<String> {
        site_args(self.dir.path(), cmd, TAGS, extra)
    }

    fn run(&mut self, cmd: &str, extra: &[&str]) -> String {
        let o = self.ssh.kollars(&self.args(cmd, extra));
        self.runs += 1;
        assert!(
            o.status.success(),
            "kollars {cmd} {extra:?} failed ({:?}): {}\n{}",
            o.status.code(),
            stderr(&o),
            String::from_utf8_lossy(&o.stdout)
        );
        format!("{}{}", String::from_utf8_lossy(&o.stdout), stderr(&o))
    }

    fn plan(&mut self) -> (usize, String) {
        let o = self.ssh.kollars(&self.args("plan", &[]));
        self.runs += 1;
        assert!(o.status.success(), "plan: {}", stderr(&o));
        (
            planned_changes(&o),
            String::from_utf8_lossy(&o.stdout).into_owned(),
        )
    }

    /// Every container's state, host by host.
    fn snapshot(&self) -> Vec<Option<String>> {
        self.engines
            .iter()
            .flat_map(|e| CONTAINERS.iter().map(move |c| state(e, c)))
            .collect()
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }
}

fn write(p: &Path, text: &str) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

#[test]
fn lifecycle_through_ssh() {
    // the deploy tests use the same engines and container names
    let _turn = engines_turn();
    let engines = engines()[..2].to_vec();
    for e in &engines {
        ensure_images(e, &["cron", "kolla-toolbox"]);
        for c in CONTAINERS {
            let _ = docker(e, &["rm", "-f", c]);
        }
    }
    let ssh = ssh_hosts(&engines);
    let dir = tempfile::tempdir().unwrap();
    // no facts for the hosts: they are gathered through the engines (whose network
    // namespaces have only `lo`)
    let globals = standin_globals()
        .replace("network_interface: eth0", "network_interface: lo")
        .replace("192.0.2.250", "127.0.0.1");
    site_inputs(dir.path(), &[], &globals);
    site_inventory(
        dir.path(),
        "common",
        &[
            ("node1", &ssh.endpoints[0], ""),
            ("node2", &ssh.endpoints[1], ""),
        ],
        &["cron", "kolla-toolbox", "kolla_toolbox"],
    );
    let connections_before = [ssh.connections("ssh-host1"), ssh.connections("ssh-host2")];
    let dirs_before = control_dirs();
    let mut site = Site {
        dir,
        ssh,
        engines,
        runs: 0,
    };

    // deploy: every container running, config files written through the engines
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    let since = now() - 1;
    let log = site.run("deploy", &[]);
    let first = site.snapshot();
    assert!(
        first
            .iter()
            .all(|s| s.as_ref().is_some_and(|s| s.ends_with("true"))),
        "not all running: {first:?}\n{log}"
    );
    for h in ["node1", "node2"] {
        let cfg = site.path(&format!("etc-{h}/cron/config.json"));
        let cfg: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&cfg).unwrap()).unwrap();
        assert!(cfg["command"].is_string(), "{h}: {cfg}");
    }
    // the facts came through the engines: the fact probe's container ran on each
    for e in &site.engines {
        let o = docker(
            e,
            &[
                "events",
                "--since",
                &since.to_string(),
                "--until",
                &(now() + 1).to_string(),
                "--filter",
                "event=create",
                "--format",
                "{{.Actor.Attributes.name}}",
            ],
        );
        let created = String::from_utf8_lossy(&o.stdout);
        assert!(
            created.lines().any(|l| l.starts_with("kollars_probe_")),
            "{e}: no fact probe ran: {created}"
        );
    }

    // a no-op: nothing planned, a reconfigure changes nothing
    let (n, plan) = site.plan();
    assert_eq!(n, 0, "{plan}");
    site.run("reconfigure", &[]);
    assert_eq!(
        site.snapshot(),
        first,
        "a no-op reconfigure changed containers"
    );

    // a host's override restarts exactly cron on node1, and plan shows its diff
    write(
        &site.path("config/config/cron/node1/cron-logrotate-global.conf"),
        "daily\nrotate 2\n",
    );
    let (n, plan) = site.plan();
    assert!(plan.contains("node1: cron: restart"), "{plan}");
    assert!(plan.contains("+rotate 2"), "plan shows the diff: {plan}");
    assert_eq!(n, 1, "{plan}");
    site.run("reconfigure", &[]);
    let after = site.snapshot();
    let id = |s: &Option<String>| s.as_deref().unwrap().split(' ').next().unwrap().to_owned();
    assert_eq!(id(&after[0]), id(&first[0]), "cron on node1 was recreated");
    assert_ne!(after[0], first[0], "cron on node1 was not restarted");
    assert_eq!(after[1..], first[1..], "other containers or hosts changed");
    let first = after;

    // restart by name: only kolla_toolbox, on both hosts
    site.run("restart", &["kolla_toolbox"]);
    let after = site.snapshot();
    assert_eq!((&after[0], &after[2]), (&first[0], &first[2]));
    assert_ne!(after[1], first[1], "kolla_toolbox on node1 not restarted");
    assert_ne!(after[3], first[3], "kolla_toolbox on node2 not restarted");

    // check: all four present, running, not unhealthy
    let out = site.run("check", &[]);
    assert_eq!(
        out.lines().filter(|l| l.ends_with(" ok")).count(),
        4,
        "{out}"
    );

    // genconfig to the hosts: a file edited on node2 shows in plan's diff, is put back
    let tampered = site.path("etc-node2/cron/logrotate.conf");
    let good = std::fs::read_to_string(&tampered).unwrap();
    std::fs::write(&tampered, format!("{good}tampered\n")).unwrap();
    let (_, plan) = site.plan();
    assert!(plan.contains("-tampered"), "{plan}");
    let log = site.run("genconfig", &[]);
    assert!(log.contains("(1 changed)"), "{log}");
    assert_eq!(std::fs::read_to_string(&tampered).unwrap(), good);

    // stop, then destroy
    site.run("stop", &["--yes-i-really-really-mean-it"]);
    assert!(
        site.snapshot()
            .iter()
            .all(|s| s.as_deref().is_some_and(|s| s.ends_with("false"))),
        "still running after stop: {:?}",
        site.snapshot()
    );
    site.run("destroy", &["--yes-i-really-really-mean-it"]);
    assert!(
        site.snapshot().iter().all(Option::is_none),
        "containers left after destroy"
    );

    // one ssh connection per host per run, whatever each run asked at once
    for (i, alias) in ["ssh-host1", "ssh-host2"].iter().enumerate() {
        assert_eq!(
            site.ssh.connections(alias) - connections_before[i],
            site.runs,
            "{alias}: ssh connections for {} runs",
            site.runs
        );
    }
    // and no ssh process or control directory left behind by the runs
    assert_eq!(site.ssh.ssh_processes(), Vec::<String>::new());
    assert_eq!(control_dirs(), dirs_before);
    // no secret on any ssh command line
    let args = std::fs::read_to_string(site.ssh.dir.join("ssh-args.log")).unwrap();
    let passwords: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(site.path("config/passwords.yml")).unwrap())
            .unwrap();
    for (k, v) in passwords.as_mapping().unwrap() {
        if let Some(v) = v.as_str().filter(|v| v.len() >= 6) {
            assert!(!args.contains(v), "{k:?} on an ssh command line");
        }
    }
}

/// A site of one host, `node1` at `endpoint`, with its facts given (no gathering).
fn one_host(endpoint: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let globals = standin_globals()
        .replace("network_interface: eth0", "network_interface: lo")
        .replace("192.0.2.250", "127.0.0.1");
    site_inputs(dir.path(), &["node1"], &globals);
    site_inventory(
        dir.path(),
        "common",
        &[("node1", endpoint, "")],
        &["cron", "kolla-toolbox", "kolla_toolbox"],
    );
    dir
}

#[test]
fn ssh_failures_name_host_and_endpoint_in_bounded_time() {
    let engines = engines()[..2].to_vec();
    let ssh = ssh_hosts(&engines);
    let dirs_before = control_dirs();
    let run = |endpoint: &str| {
        let dir = one_host(endpoint);
        let start = Instant::now();
        let o = ssh.kollars(&site_args(
            dir.path(),
            "deploy",
            TAGS,
            &["--engine-timeout", "3"],
        ));
        let took = start.elapsed();
        assert!(
            !dir.path().join("etc-node1").exists(),
            "{endpoint}: files written"
        );
        (o.status.code(), stderr(&o), took)
    };
    // how a host whose engine is down fails (the other connection errors)
    let (down, err, _) = run("unix:///run/kollars-no-such-engine/docker.sock");
    assert_ne!(down, Some(0), "{err}");

    // a port in the URL is bad input: the ssh config says where the host listens
    let (code, err, _) = run("ssh://root@ssh-host1:22");
    assert_eq!(code, Some(2), "{err}");
    for needle in ["node1", "ssh://root@ssh-host1:22", "Port", "~/.ssh/config"] {
        assert!(err.contains(needle), "{needle:?} missing from: {err}");
    }

    for (alias, said) in [
        // the remote docker CLI's error, which bollard's transport reduced to IncompleteMessage
        (
            "ssh-wrongenv",
            "dial unix /run/kollars-no-such-engine/docker.sock",
        ),
        ("ssh-unknownkey", "Host key verification failed"),
        ("ssh-refused", "Connection refused"),
        ("ssh-hanging", "timed out"),
    ] {
        let endpoint = format!("ssh://root@{alias}");
        let (code, err, took) = run(&endpoint);
        assert_eq!(code, down, "{alias}: exit as an engine that is down: {err}");
        for needle in ["node1", &endpoint, said] {
            assert!(
                err.contains(needle),
                "{alias}: {needle:?} missing from: {err}"
            );
        }
        assert!(
            took < Duration::from_secs(20),
            "{alias}: took {took:?}: {err}"
        );
        if alias == "ssh-unknownkey" {
            assert!(err.contains("known_hosts"), "{alias}: no remedy: {err}");
        }
    }
    assert_eq!(ssh.ssh_processes(), Vec::<String>::new());
    assert_eq!(control_dirs(), dirs_before);
}
