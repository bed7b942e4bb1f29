//! No secret in what `plan` prints, old or new: after every password of passwords.yml has
//! changed, the diffs of keystone's config files show neither the values they had nor the
//! ones they get, in any output mode.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::process::Command;

use serde_yaml::{Mapping, Value};

use crate::util::{
    engines, kollars, site_args, site_inputs, site_inventory, standin_globals, stderr,
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
