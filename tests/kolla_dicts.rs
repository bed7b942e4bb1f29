//! Container dicts against kolla-ansible's: for every scenario with `expected.dicts.json`
//! (the dicts kolla's genconfig logged, see `tests/scenarios/kolla-dicts.py`), each service
//! kollars renders on a host is evaluated there and compared field by field — container
//! name, image, volumes (empty ones dropped), environment, dimensions, healthcheck,
//! privileged, pid, ipc and cgroup namespace modes — with kolla's dict for it. An iterated
//! service (`<service>-<n>`) is compared, as its first instance, with kolla's dict evaluated
//! outside its loop (`<container_name>_1`, `<service>-1/`).

use std::collections::BTreeMap;

use kollars_inputs::{ConfigDir, Inventory};
use kollars_render::{render_all, Selection};
use kollars_services::Catalogue;
use kollars_vars::VarsBuilder;
use serde_json::Value as Json;

use crate::parity::Scenario;
use crate::util::root;

const FIELDS: &[&str] = &[
    "container_name",
    "image",
    "volumes",
    "environment",
    "dimensions",
    "healthcheck",
    "privileged",
    "pid_mode",
    "ipc_mode",
    "cgroupns_mode",
];

/// Scalars as text (kolla's log has `30` where our dicts may hold `"30"`), empties dropped.
fn normal(v: &Json) -> Option<Json> {
    match v {
        Json::Null | Json::Bool(false) => None,
        Json::String(s) if s.is_empty() => None,
        Json::Array(a) => {
            let a: Vec<Json> = a.iter().filter_map(normal).collect();
            (!a.is_empty()).then_some(Json::Array(a))
        }
        Json::Object(m) => {
            let m: serde_json::Map<String, Json> = m
                .iter()
                .filter_map(|(k, x)| normal(x).map(|x| (k.clone(), x)))
                .collect();
            (!m.is_empty()).then_some(Json::Object(m))
        }
        Json::Number(n) => Some(Json::String(n.to_string())),
        Json::String(_) | Json::Bool(true) => Some(v.clone()),
    }
}

/// Evaluated dicts of every service kollars renders, per host, with the scenario's `--tags`.
fn ours(s: &Scenario) -> BTreeMap<String, BTreeMap<String, Json>> {
    let inputs = s.dir.join("inputs");
    let inv = Inventory::load(&[inputs.join("inventory")]).unwrap();
    let config = ConfigDir::load(&inputs, None, &[]).unwrap();
    let catalogue = Catalogue::load(&root().join("services")).unwrap();
    let mut b = VarsBuilder::new()
        .templates_dir(root().join("templates"))
        .global_defaults(catalogue.global_defaults.clone())
        .project_defaults(catalogue.project_defaults.clone());
    for h in inv.hosts.keys() {
        let facts = kollars_inputs::facts::load_facts(&inputs.join("facts"), h)
            .unwrap()
            .unwrap_or_else(|| panic!("{}: no facts for {h}", s.name));
        b = b.facts(h, facts);
    }
    let vars = b.build(&inv, &config);
    let mut selection = Selection::default();
    for a in s.args().unwrap() {
        if let Some(t) = a.strip_prefix("--tags=").or_else(|| a.strip_prefix("-t=")) {
            selection.services = t.split(',').map(str::to_string).collect();
        }
    }
    let rendered = render_all(&vars, &catalogue, &selection).unwrap();
    rendered
        .into_iter()
        .map(|h| {
            let dicts = h
                .services
                .into_iter()
                .map(|svc| (svc.name, serde_json::to_value(&svc.container).unwrap()))
                .collect();
            (h.host, dicts)
        })
        .collect()
}

#[test]
fn container_dicts_are_kollas() {
    let mut failures = Vec::new();
    let mut compared = 0;
    for s in Scenario::discovered() {
        let path = s.dir.join("expected.dicts.json");
        if !path.exists() {
            continue;
        }
        let kolla: BTreeMap<String, BTreeMap<String, Json>> =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let ours = ours(&s);
        for (host, services) in &ours {
            for (name, dict) in services {
                // an instance of an iterated service: kolla's dict is its service's
                let (base, item) = match kolla.get(host).and_then(|k| k.get(name)) {
                    Some(_) => (name.as_str(), None),
                    None => match name.rsplit_once('-') {
                        Some((b, n)) if n.parse::<u32>().is_ok() => (b, Some(n)),
                        _ => (name.as_str(), None),
                    },
                };
                let Some(want) = kolla.get(host).and_then(|k| k.get(base)) else {
                    // kolla logged no dict for it (a project outside the scenario's tags)
                    continue;
                };
                if item.is_some_and(|n| n != "1") {
                    continue;
                }
                compared += 1;
                for f in FIELDS {
                    let mut w = want.get(*f).and_then(normal);
                    if let (Some(_), Some(Json::String(c))) = (item, w.as_mut()) {
                        if *f == "container_name" {
                            c.push_str("_1");
                        }
                    }
                    if let (Some(_), "volumes", Some(Json::Array(vs))) = (item, *f, w.as_mut()) {
                        for v in vs {
                            if let Json::String(v) = v {
                                *v = v.replacen(&format!("/{base}/"), &format!("/{name}/"), 1);
                            }
                        }
                    }
                    let o = dict.get(*f).and_then(normal);
                    if w != o {
                        failures.push(format!(
                            "{} {host} {name} {f}:\n  kolla   {}\n  kollars {}",
                            s.name,
                            w.map(|v| v.to_string()).unwrap_or_default(),
                            o.map(|v| v.to_string()).unwrap_or_default()
                        ));
                    }
                }
            }
        }
    }
    // ovn (3 hosts) and apis: 59, telemetry: 16, telemetry-options: 15, appsvc: 21,
    // appsvc-full: 24 (2 hosts), appsvc-tls: 21, storsvc and storsvc-le: 34
    assert!(compared >= 190, "only {compared} dicts compared");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// CloudKitty on OpenSearch: kolla makes the storage index (a PUT when a GET does not find it)
/// before `bootstrap_cloudkitty`; kollars' one-shot for it comes first, with the index's URL.
#[test]
fn cloudkitty_makes_its_opensearch_index_before_its_bootstrap() {
    let s = Scenario::discovered()
        .into_iter()
        .find(|s| s.name == "scenarios/telemetry-options")
        .expect("scenario telemetry-options");
    let ours = ours(&s);
    let api = &ours["ctl1"]["cloudkitty-api"];
    let one_shots = api["bootstrap"].as_array().expect("a list of one-shots");
    let names: Vec<&str> = one_shots
        .iter()
        .filter_map(|b| b["name"].as_str())
        .collect();
    assert_eq!(names, ["cloudkitty_storage_index", "bootstrap_cloudkitty"]);
    let index = &one_shots[0];
    assert_eq!(index["enabled"].as_bool(), Some(true), "{index}");
    let command = index["command"].as_str().unwrap();
    assert!(
        command.starts_with("bash -c 'url=http://192.0.2.250:9200/cloudkitty; ")
            && command.contains("curl -sSf -X PUT"),
        "{command}"
    );
}
