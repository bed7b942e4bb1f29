//! No secret in what kollars prints, old or new: after every password of passwords.yml has
//! changed, the diffs of keystone's config files show neither the values they had nor the
//! ones they get, in any output mode; and failing runs (an engine's error, a failed
//! bootstrap one-shot's log) print none either, in text or JSON.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::process::Command;

use serde_yaml::{Mapping, Value};

use crate::util::{
    docker, engines, engines_turn, kollars, site_args, site_inputs, site_inventory,
    standin_globals, stderr,
};

/// Every string of a passwords file (nested ones too), at least 8 characters long.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.len() >= 8 => out.push(s.clone()),
        Value::Mapping(m) => m.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

/// A new value for every string password (40 characters, as genpwd makes them).
fn changed(m: &Mapping) -> Mapping {
    m.iter()
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) if s.len() >= 8 => {
                    let mut h = DefaultHasher::new();
                    (k.as_str(), s).hash(&mut h);
                    Value::String(format!("Nw{:016x}{:022}", h.finish(), s.len()))
                }
                other => other.clone(),
            };
            (k.clone(), v)
        })
        .collect()
}

fn said(o: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), stderr(o))
}

#[test]
fn plan_prints_no_password_old_or_new_in_any_output() {
    let engines = engines();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    site_inputs(d, &["node1"], &standin_globals());
    site_inventory(
        d,
        "control",
        &[("node1", &engines[0], "")],
        &[
            "memcached",
            "keystone",
            "rabbitmq",
            "mariadb",
            "loadbalancer",
        ],
    );
    let o = kollars(site_args(d, "genconfig", "keystone", &[]));
    assert!(o.status.success(), "{}", stderr(&o));

    let pw_file = d.join("config/passwords.yml");
    let old: Mapping = serde_yaml::from_str(&std::fs::read_to_string(&pw_file).unwrap()).unwrap();
    let new = changed(&old);
    std::fs::write(&pw_file, serde_yaml::to_string(&new).unwrap()).unwrap();
    let mut secrets = Vec::new();
    strings(&Value::Mapping(old), &mut secrets);
    strings(&Value::Mapping(new), &mut secrets);

    let runs: Vec<(&str, std::process::Output)> = vec![
        ("plan", kollars(site_args(d, "plan", "keystone", &[]))),
        (
            "plan --output json",
            kollars(site_args(d, "plan", "keystone", &["--output", "json"])),
        ),
        (
            "deploy --plan",
            kollars(site_args(d, "deploy", "keystone", &["--plan"])),
        ),
        (
            "deploy --plan --output json",
            kollars(site_args(
                d,
                "deploy",
                "keystone",
                &["--plan", "--output", "json"],
            )),
        ),
        ("plan on a terminal", on_a_terminal(d)),
    ];
    for (what, o) in &runs {
        let text = said(o);
        assert!(o.status.success(), "{what}: {text}");
        // the diffs are there: the database password changed on both sides, masked
        assert!(
            text.contains("-connection = mysql+pymysql://keystone:********@"),
            "{what}: no masked old connection line: {text}"
        );
        assert!(
            text.contains("+connection = mysql+pymysql://keystone:********@"),
            "{what}: no masked new connection line: {text}"
        );
        let found: Vec<&String> = secrets
            .iter()
            .filter(|s| text.contains(s.as_str()))
            .collect();
        assert!(
            found.is_empty(),
            "{what}: {} secret(s) printed: {text}",
            found.len()
        );
    }
}

/// `kollars plan` with stdout and stderr a terminal (`script` gives it one).
fn on_a_terminal(d: &Path) -> std::process::Output {
    let cmd = std::iter::once(env!("CARGO_BIN_EXE_kollars").to_string())
        .chain(site_args(d, "plan", "keystone", &[]))
        .collect::<Vec<_>>()
        .join(" ");
    Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env_remove("KOLLA_CONFIG_PATH")
        .output()
        .expect("run script")
}

/// An image whose every container prints its environment and fails, made with busybox
/// (`busybox-static`, which scripts/test.sh installs).
fn env_printer(engine: &str) -> &'static str {
    const IMAGE: &str = "kollars-secrets/env:fail";
    if docker(engine, &["image", "inspect", IMAGE])
        .status
        .success()
    {
        return IMAGE;
    }
    let root = tempfile::tempdir().unwrap();
    let bin = root.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy("/usr/bin/busybox", bin.join("busybox")).unwrap();
    for tool in ["sh", "env"] {
        std::os::unix::fs::symlink("busybox", bin.join(tool)).unwrap();
    }
    let tar = Command::new("tar")
        .arg("-C")
        .arg(root.path())
        .args(["-c", "."])
        .output()
        .unwrap();
    assert!(tar.status.success());
    let mut import = Command::new("docker")
        .env("DOCKER_HOST", engine)
        .args([
            "import",
            "-c",
            r#"CMD ["/bin/sh", "-c", "env; exit 1"]"#,
            "-",
            IMAGE,
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    import.stdin.take().unwrap().write_all(&tar.stdout).unwrap();
    assert!(import.wait().unwrap().success(), "docker import");
    IMAGE
}

/// What the failing runs leave on the engine, removed.
fn clean(engine: &str) {
    for c in ["cron", "mariadb", "bootstrap_mariadb"] {
        let _ = docker(engine, &["rm", "-f", c]);
    }
    for v in ["mariadb", "kollars-boot-bootstrap_mariadb"] {
        let _ = docker(engine, &["volume", "rm", "-f", v]);
    }
}

/// Failing runs, in text and JSON, before and after every password changed: an engine error
/// about an image whose tag is a password, and a bootstrap one-shot (MariaDB's, with
/// `DB_ROOT_PASSWORD` in its environment) that fails after printing its environment, its
/// last log lines printed by kollars. The texts hold the failures, masked, and no value of
/// either passwords file.
#[test]
fn failing_runs_print_no_password_old_or_new_in_any_output() {
    let _turn = engines_turn();
    let engines = engines();
    let engine = &engines[0];
    let image = env_printer(engine);
    clean(engine);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pw_file = d.join("config/passwords.yml");
    site_inputs(d, &["node1"], "");
    let old: Mapping = serde_yaml::from_str(&std::fs::read_to_string(&pw_file).unwrap()).unwrap();
    let new = changed(&old);
    let tag_of = |m: &Mapping| {
        m.get("keystone_admin_password")
            .and_then(Value::as_str)
            .unwrap()
            .to_owned()
    };
    let mut secrets = Vec::new();
    strings(&Value::Mapping(old.clone()), &mut secrets);
    strings(&Value::Mapping(new.clone()), &mut secrets);
    site_inventory(
        d,
        "control",
        &[("node1", engine, "")],
        &["cron", "mariadb", "memcached", "loadbalancer"],
    );
    let mut runs = Vec::new();
    for passwords in [&old, &new] {
        std::fs::write(&pw_file, serde_yaml::to_string(passwords).unwrap()).unwrap();
        std::fs::write(
            d.join("config/globals.yml"),
            format!(
                "{}use_preconfigured_databases: \"yes\"\nkollars_bootstrap_tasks: false\n\
                 cron_tag: \"{}\"\nmariadb_image_full: \"{image}\"\n",
                standin_globals().replace("network_interface: eth0", "network_interface: lo"),
                tag_of(passwords)
            ),
        )
        .unwrap();
        for output in ["text", "json"] {
            for (tags, evidence) in [
                ("cron", "kollars/cron:********"),
                ("mariadb", "DB_ROOT_PASSWORD=********"),
            ] {
                let what = format!("deploy -t {tags} --output {output}");
                let o = kollars(site_args(d, "deploy", tags, &["--output", output]));
                let text = said(&o);
                assert!(!o.status.success(), "{what} succeeded: {text}");
                assert!(text.contains(evidence), "{what}: no {evidence:?}: {text}");
                runs.push((what, text));
                clean(engine);
            }
        }
    }
    for (what, text) in &runs {
        let found: Vec<&String> = secrets
            .iter()
            .filter(|s| text.contains(s.as_str()))
            .collect();
        assert!(
            found.is_empty(),
            "{what}: {} secret(s) printed: {text}",
            found.len()
        );
    }
    eprintln!(
        "secrets: {} runs, {} values looked for, 0 found",
        runs.len(),
        secrets.len()
    );
}
