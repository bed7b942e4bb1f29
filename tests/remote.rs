//! Hosts reached only through their engines, end to end through the real binary: two
//! inventory hosts on two `scripts/engines.sh` engines, with `kollars_config_transfer=engine`
//! (so their config files go through the engine although the engines are local) and no
//! `--facts` (so their facts are gathered through the engine). Only `genconfig` and `plan`
//! run here: no service container is created, so this shares the engines with `deploy`'s
//! tests.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::util::{
    engines, ensure_images, files_under, kollars, root, site_inputs, site_inventory, stderr,
    IMAGE_NAMESPACE, IMAGE_TAG,
};

struct Site {
    dir: tempfile::TempDir,
    /// `-t` for every command.
    tags: String,
    /// `--data-dir`, when not the source tree's.
    data_dir: Option<PathBuf>,
}

impl Site {
    /// `hosts`: (name, engine endpoint, extra host variables).
    fn new(hosts: &[(&str, &str, &str)]) -> Site {
        let dir = tempfile::tempdir().unwrap();
        let names: Vec<&str> = hosts.iter().map(|(h, _, _)| *h).collect();
        site_inputs(
            dir.path(),
            &names,
            &format!(
                "kolla_base_distro: debian\ndocker_registry: \"\"\ndocker_namespace: {IMAGE_NAMESPACE}\n\
                 openstack_tag: {IMAGE_TAG}\nnetwork_interface: lo\n\
                 kolla_internal_vip_address: 127.0.0.1\n"
            ),
        );
        site_inventory(
            dir.path(),
            "common",
            hosts,
            &["cron", "kolla-toolbox", "kolla_toolbox"],
        );
        Site {
            dir,
            tags: "cron,kolla-toolbox".into(),
            data_dir: None,
        }
    }

    /// Adds [`DIRS_PROJECT`] to the real catalogue (a data directory of symlinks to this
    /// tree's `services/` and `templates/`, plus the project) and to `-t`, with the operator
    /// directory its copy entry reads.
    fn with_dirs_project(mut self) -> Site {
        let data = self.dir.path().join("data");
        let services = data.join("services");
        std::fs::create_dir_all(&services).unwrap();
        std::os::unix::fs::symlink(root().join("templates"), data.join("templates")).unwrap();
        for e in std::fs::read_dir(root().join("services")).unwrap() {
            let e = e.unwrap();
            std::os::unix::fs::symlink(e.path(), services.join(e.file_name())).unwrap();
        }
        std::fs::write(services.join("dirsdemo.yml"), DIRS_PROJECT).unwrap();
        // node_custom_config is <configdir>/config.
        let theme = self.dir.path().join("config/config/dirsdemo/theme");
        std::fs::create_dir_all(theme.join("img/empty")).unwrap();
        std::fs::write(theme.join("theme.css"), "body {}\n").unwrap();
        std::fs::write(theme.join("img/logo.svg"), "<svg/>\n").unwrap();
        self.tags.push_str(",dirsdemo");
        self.data_dir = Some(data);
        self
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
            self.tags.clone(),
        ];
        if let Some(d) = &self.data_dir {
            a.extend(["--data-dir".into(), d.display().to_string()]);
        }
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

/// A project whose services have what haproxy and proxysql have and cron and kolla-toolbox
/// lack: empty directories (`services.d/`; `users/`, `rules/`, one with its own mode), a
/// copied directory tree (0755, with an empty directory in it), and a `dir_mode`.
const DIRS_PROJECT: &str = r#"
order: 99
after: []
services:
  dirsdemo-haproxy:
    container_name: dirsdemo_haproxy
    group: cron
    enabled: true
    image: "{{ docker_image_url }}haproxy:{{ openstack_tag }}"
    volumes: ["{{ node_config_directory }}/dirsdemo-haproxy/:{{ container_config_directory }}/:ro"]
    dimensions: {}
    config:
      - dest: config.json
        json: { command: haproxy, config_files: [] }
      - dest: services.d
        directory: true
      - dest: "services.d/{{ item }}.cfg"
        loop: []
        json: {}
      - dest: themes/custom
        copy: dirsdemo/theme
  dirsdemo-proxysql:
    container_name: dirsdemo_proxysql
    group: cron
    enabled: true
    image: "{{ docker_image_url }}proxysql:{{ openstack_tag }}"
    volumes: ["{{ node_config_directory }}/dirsdemo-proxysql/:{{ container_config_directory }}/:ro"]
    dimensions: {}
    config:
      - dest: config.json
        json: { command: proxysql, config_files: [] }
      - dest: users
        directory: true
      - dest: rules
        directory: true
        mode: "0750"
      - dest: certs/deep/ca.json
        json: { ca: none }
        mode: "0600"
        dir_mode: "0700"
"#;

/// Everything under `dir` (not `dir` itself) by relative path: mode, and content for a file
/// (`None` for a directory).
fn entries_under(dir: &Path) -> BTreeMap<String, (u32, Option<Vec<u8>>)> {
    fn walk(base: &Path, d: &Path, out: &mut BTreeMap<String, (u32, Option<Vec<u8>>)>) {
        for e in std::fs::read_dir(d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(base).unwrap().display().to_string();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            let mode = meta.permissions().mode() & 0o7777;
            if meta.is_dir() {
                out.insert(rel, (mode, None));
                walk(base, &p, out);
            } else {
                out.insert(rel, (mode, Some(std::fs::read(&p).unwrap())));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Asserts two trees hold the same paths, kinds, modes and contents, listing the differences.
fn assert_same_tree(remote: &Path, local: &Path, what: &str) {
    let (r, l) = (entries_under(remote), entries_under(local));
    let show = |e: Option<&(u32, Option<Vec<u8>>)>| match e {
        None => "missing".to_string(),
        Some((m, None)) => format!("directory {m:o}"),
        Some((m, Some(c))) => format!("file {m:o}, {} bytes", c.len()),
    };
    let diffs: Vec<String> = r
        .keys()
        .chain(l.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter(|k| r.get(*k) != l.get(*k))
        .map(|k| {
            format!(
                "{k}: through the engine {}, locally {}",
                show(r.get(k)),
                show(l.get(k))
            )
        })
        .collect();
    assert!(diffs.is_empty(), "{what}:\n  {}", diffs.join("\n  "));
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
        ensure_images(e, &["kolla-toolbox"]);
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
    ensure_images(&engines[0], &["kolla-toolbox"]);
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

#[test]
fn a_host_written_through_its_engine_has_the_tree_a_local_write_gives() {
    let engines = engines();
    for e in &engines[..2] {
        ensure_images(e, &["kolla-toolbox"]);
    }
    let via_engine = "kollars_config_transfer=engine";
    let site = Site::new(&[
        ("node1", &engines[0], via_engine),
        ("node2", &engines[1], via_engine),
    ])
    .with_dirs_project();
    // The same facts for both writes (the site's), so only the way of writing differs.
    let facts = site.dir.path().join("facts").display().to_string();
    let out = site.dir.path().join("out");
    site.ok("genconfig", &["--facts", &facts]);
    site.ok(
        "genconfig",
        &["--facts", &facts, "--output", &out.display().to_string()],
    );

    // What makes the comparison worth doing is there: empty directories, their own modes,
    // a copied tree.
    let local = entries_under(&out.join("node1"));
    for (d, m) in [
        ("dirsdemo-haproxy", 0o770),
        ("dirsdemo-haproxy/services.d", 0o770),
        ("dirsdemo-haproxy/themes", 0o755),
        ("dirsdemo-haproxy/themes/custom/img/empty", 0o755),
        ("dirsdemo-proxysql/users", 0o770),
        ("dirsdemo-proxysql/rules", 0o750),
        ("dirsdemo-proxysql/certs/deep", 0o700),
        ("cron", 0o770),
    ] {
        assert_eq!(local.get(d), Some(&(m, None)), "local {d}");
    }
    for h in ["node1", "node2"] {
        assert_same_tree(&site.etc(h), &out.join(h), h);
    }

    // Drift on a host: an empty directory removed, others chmodded. The next write through
    // the engine puts back exactly the local tree, and reports no file changed.
    let etc = site.etc("node1");
    std::fs::remove_dir(etc.join("dirsdemo-proxysql/users")).unwrap();
    for (d, m) in [
        ("dirsdemo-haproxy/services.d", 0o755),
        ("dirsdemo-proxysql/rules", 0o770),
        ("dirsdemo-haproxy/themes/custom/img", 0o700),
        ("cron", 0o700),
    ] {
        std::fs::set_permissions(etc.join(d), std::fs::Permissions::from_mode(m)).unwrap();
    }
    let log = site.ok("genconfig", &["--facts", &facts]);
    assert!(log.contains("(0 changed)"), "{log}");
    for h in ["node1", "node2"] {
        assert_same_tree(&site.etc(h), &out.join(h), h);
    }
}
