//! Hosts reached only through their engines, end to end through the real binary: two
//! inventory hosts on two `scripts/engines.sh` engines, with `kollars_config_transfer=engine`
//! (so their config files go through the engine although the engines are local) and no
//! `--facts` (so their facts are gathered through the engine). Only `genconfig` and `plan`
//! run here: no service container is created, so this shares the engines with `deploy`'s
//! tests.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::util::{engines, files_under, kollars, reference, root, stderr};

const NAMESPACE: &str = "kollars";
const TAG: &str = "latest";
const TOOLBOX: &str = "kollars/kolla-toolbox:latest";

/// The kolla-toolbox image (helper and fact probe image) on `engine`, built if missing.
fn ensure_toolbox(engine: &str) {
    let present = Command::new("docker")
        .env("DOCKER_HOST", engine)
        .args(["image", "inspect", TOOLBOX])
        .output()
        .expect("run docker")
        .status
        .success();
    if present {
        return;
    }
    let o = Command::new(root().join("images/build.sh"))
        .env("DOCKER_HOST", engine)
        .args(["--namespace", NAMESPACE, "--tag", TAG, "kolla-toolbox"])
        .output()
        .expect("run images/build.sh");
    assert!(
        o.status.success(),
        "images/build.sh failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

struct Site {
    dir: tempfile::TempDir,
}

impl Site {
    /// `hosts`: (name, engine endpoint, extra host variables).
    fn new(hosts: &[(&str, &str, &str)]) -> Site {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("config");
        std::fs::create_dir_all(&conf).unwrap();
        std::fs::copy(
            reference().join("inputs/passwords.yml"),
            conf.join("passwords.yml"),
        )
        .unwrap();
        std::fs::write(
            conf.join("globals.yml"),
            format!(
                "kolla_base_distro: debian\ndocker_registry: \"\"\ndocker_namespace: {NAMESPACE}\n\
                 openstack_tag: {TAG}\nnetwork_interface: lo\n\
                 kolla_internal_vip_address: 127.0.0.1\n"
            ),
        )
        .unwrap();
        let mut inv = String::from("[common]\n");
        for (h, engine, extra) in hosts {
            inv.push_str(&format!(
                "{h} kollars_engine={engine} node_config_directory={} {extra}\n",
                dir.path().join(format!("etc-{h}")).display()
            ));
        }
        inv.push_str(
            "[cron:children]\ncommon\n[kolla-toolbox:children]\ncommon\n\
             [kolla_toolbox:children]\ncommon\n",
        );
        std::fs::write(dir.path().join("inventory"), inv).unwrap();
        Site { dir }
    }

    fn etc(&self, host: &str) -> PathBuf {
        self.dir.path().join(format!("etc-{host}"))
    }

    fn run(&self, cmd: &str, extra: &[&str]) -> Output {
        let mut a: Vec<String> = vec![
            cmd.into(),
            "-i".into(),
            self.dir.path().join("inventory").display().to_string(),
            "--configdir".into(),
            self.dir.path().join("config").display().to_string(),
            "-t".into(),
            "cron,kolla-toolbox".into(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        kollars(a)
    }

    fn ok(&self, cmd: &str, extra: &[&str]) -> String {
        let o = self.run(cmd, extra);
        assert!(
            o.status.success(),
            "kollars {cmd} failed ({:?}): {}\n{}",
            o.status.code(),
            stderr(&o),
            String::from_utf8_lossy(&o.stdout)
        );
        format!("{}{}", String::from_utf8_lossy(&o.stdout), stderr(&o))
    }
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o7777
}

#[test]
fn genconfig_writes_remote_hosts_through_their_engines() {
    let engines = engines();
    for e in &engines[..2] {
        ensure_toolbox(e);
    }
    let via_engine = "kollars_config_transfer=engine";
    let site = Site::new(&[
        ("node1", &engines[0], via_engine),
        ("node2", &engines[1], via_engine),
    ]);

    // Without engines (--output), remote hosts need --facts.
    let out = site.dir.path().join("out");
    let o = site.run("genconfig", &["--output", &out.display().to_string()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no facts for host node1"),
        "{}",
        stderr(&o)
    );
    assert!(files_under(&out).is_empty());

    // Without --output: facts through the engines, files through the engines.
    let log = site.ok("genconfig", &[]);
    assert!(log.contains("(14 changed)"), "{log}");
    let expected = vec![
        "cron/config.json",
        "cron/logrotate.conf",
        "kolla-toolbox/clouds.yaml",
        "kolla-toolbox/config.json",
        "kolla-toolbox/erl_inetrc",
        "kolla-toolbox/rabbitmq-env.conf",
        "kolla-toolbox/rabbitmq-erlang.cookie",
    ];
    for h in ["node1", "node2"] {
        let etc = site.etc(h);
        assert_eq!(files_under(&etc), expected, "{h}");
        for d in ["cron", "kolla-toolbox"] {
            assert_eq!(mode(&etc.join(d)), 0o770, "{h}: {d}");
        }
        for (f, m) in [
            ("cron/config.json", 0o660),
            ("cron/logrotate.conf", 0o660),
            ("kolla-toolbox/config.json", 0o660),
            ("kolla-toolbox/rabbitmq-env.conf", 0o600),
            ("kolla-toolbox/erl_inetrc", 0o600),
        ] {
            assert_eq!(mode(&etc.join(f)), m, "{h}: {f}");
        }
        let cfg: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(etc.join("cron/config.json")).unwrap())
                .unwrap();
        assert!(cfg["command"].is_string(), "{h}: {cfg}");
    }

    // Again: nothing changes.
    let log = site.ok("genconfig", &[]);
    assert!(log.contains("(0 changed)"), "{log}");

    // A file edited and chmodded on one host is put back, and only that one.
    let tampered = site.etc("node1").join("cron/logrotate.conf");
    let good = std::fs::read_to_string(&tampered).unwrap();
    std::fs::write(&tampered, format!("{good}tampered\n")).unwrap();
    std::fs::set_permissions(&tampered, std::fs::Permissions::from_mode(0o644)).unwrap();
    // plan reads the host's files through its engine: the diff shows the edit.
    let plan = site.ok("plan", &[]);
    assert!(plan.contains("-tampered"), "{plan}");
    assert_eq!(
        plan.matches("+++ ").count(),
        1,
        "only the tampered file differs: {plan}"
    );
    let log = site.ok("genconfig", &[]);
    assert!(log.contains("(1 changed)"), "{log}");
    assert_eq!(std::fs::read_to_string(&tampered).unwrap(), good);
    assert_eq!(mode(&tampered), 0o660);
    // …and a plan after it shows no config diff.
    let plan = site.ok("plan", &["--output", "json"]);
    for line in plan.lines().filter(|l| l.starts_with('{')) {
        let j: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(j["diffs"], serde_json::json!([]), "{line}");
    }
}

#[test]
fn unreachable_remote_engine_names_host_and_endpoint() {
    let engines = engines();
    ensure_toolbox(&engines[0]);
    let dead = "unix:///tmp/kollars-no-such-engine/docker.sock";
    let site = Site::new(&[("node1", &engines[0], ""), ("node2", dead, "")]);
    let o = site.run("genconfig", &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    for needle in ["node2", dead, "gathering facts"] {
        assert!(err.contains(needle), "{needle:?} missing from: {err}");
    }
    // Nothing was written anywhere: rendering waits for every host's facts.
    assert!(files_under(&site.etc("node1")).is_empty());
}

#[test]
fn bad_transfer_setting_is_bad_input_and_writes_nothing() {
    let engines = engines();
    let site = Site::new(&[
        ("node1", &engines[0], "kollars_config_transfer=scp"),
        ("node2", &engines[1], ""),
    ]);
    let o = site.run("genconfig", &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("node1") && err.contains("kollars_config_transfer"),
        "{err}"
    );
    assert!(files_under(&site.etc("node1")).is_empty());
    assert!(files_under(&site.etc("node2")).is_empty());
}
