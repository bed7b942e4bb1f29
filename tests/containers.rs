//! Container dicts against kolla-ansible's own. A scenario may hold `expected.containers.json`:
//! kolla's evaluated service dicts as its genconfig log prints them (`{host: {service:
//! {field: value}}}`, the items of each role's "Ensuring config directories exist" loop, by
//! `render-with-kolla.sh`). Every service kolla has on a host kollars must have there, and
//! every field kolla gives (container_name, group, enabled, image, volumes, environment,
//! privileged, cap_add, pid_mode, ipc_mode, dimensions, healthcheck) must be the value
//! kollars evaluates, up to Ansible's spelling of scalars (`yes`/`True`, `30`/30).

use clap::Parser;
use serde_json::Value;

use crate::util::root;

/// Scalars as Ansible would compare them after `| bool` or templating: one spelling.
fn norm(v: &Value) -> Value {
    match v {
        Value::Bool(b) => Value::String(if *b { "true" } else { "false" }.into()),
        Value::Number(n) => Value::String(n.to_string()),
        Value::String(s) => match s.to_lowercase().as_str() {
            "yes" | "true" | "on" => Value::String("true".into()),
            "no" | "false" | "off" => Value::String("false".into()),
            _ => Value::String(s.clone()),
        },
        // kolla drops empty volume entries ('' for another distro's mount)
        Value::Array(a) => Value::Array(
            a.iter()
                .filter(|x| x.as_str() != Some(""))
                .map(norm)
                .collect(),
        ),
        Value::Object(m) => Value::Object(m.iter().map(|(k, x)| (k.clone(), norm(x))).collect()),
        Value::Null => Value::Null,
    }
}

#[test]
fn scenario_container_dicts_are_kollas() {
    let mut checked = 0;
    let base = root().join("tests/scenarios");
    let mut dirs: Vec<_> = std::fs::read_dir(&base)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|d| d.join("expected.containers.json").is_file())
        .collect();
    dirs.sort();
    let mut problems = Vec::new();
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let want: serde_json::Map<String, Value> = serde_json::from_str(
            &std::fs::read_to_string(dir.join("expected.containers.json")).unwrap(),
        )
        .unwrap();
        let inputs = dir.join("inputs");
        let mut argv: Vec<String> = [
            "kollars",
            "genconfig",
            "-i",
            &inputs.join("inventory").display().to_string(),
            "--configdir",
            &inputs.display().to_string(),
            "--facts",
            &inputs.join("facts").display().to_string(),
            "--output",
            "/nonexistent",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        if let Ok(text) = std::fs::read_to_string(dir.join("args")) {
            argv.extend(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(String::from),
            );
        }
        let cli = kollars::cli::Cli::try_parse_from(&argv).unwrap();
        let kollars::cli::Command::Genconfig(g) = cli.command else {
            unreachable!("genconfig parsed")
        };
        let ws = kollars::workspace::Workspace::load(&g.input).unwrap();
        let rendered =
            kollars_render::render_all(&ws.vars, &ws.catalogue, &ws.selection()).unwrap();
        for (host, services) in &want {
            let Some(h) = rendered.iter().find(|h| &h.host == host) else {
                problems.push(format!("{name}: host {host} not rendered"));
                continue;
            };
            for (svc, fields) in services.as_object().unwrap() {
                let Some(s) = h.services.iter().find(|s| &s.name == svc) else {
                    problems.push(format!("{name}: {host}/{svc}: kollars does not run it"));
                    continue;
                };
                let ours = serde_json::to_value(&s.container).unwrap();
                for (field, theirs) in fields.as_object().unwrap() {
                    let mine = ours.get(field).cloned().unwrap_or(Value::Null);
                    if norm(&mine) != norm(theirs) {
                        problems.push(format!(
                            "{name}: {host}/{svc}.{field}: kolla {theirs}, kollars {mine}"
                        ));
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(checked > 0, "no scenario has expected.containers.json");
}
