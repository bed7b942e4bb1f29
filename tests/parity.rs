//! `genconfig` against kolla-ansible 22.2.0's own output, scored semantically per directory.
//!
//! Files are split into units the way `shared/tools/parity.py` does: JSON and YAML leaves,
//! INI (section, key) value lists, and the non-blank lines of other files. A directory's score
//! is matched / (expected + extra). `tests/parity-floors.txt` holds each directory's floor; a
//! floor only ever rises, so parity cannot silently regress. The file modes must match too.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use crate::util::{files_under, genconfig, reference, root, stderr};

fn leaves(v: &serde_json::Value, prefix: String, out: &mut BTreeMap<String, String>) {
    match v {
        serde_json::Value::Object(m) if !m.is_empty() => {
            for (k, x) in m {
                leaves(x, format!("{prefix}/{k}"), out);
            }
        }
        serde_json::Value::Array(a) if !a.is_empty() => {
            for (i, x) in a.iter().enumerate() {
                leaves(x, format!("{prefix}[{i}]"), out);
            }
        }
        other => {
            let key = if prefix.is_empty() {
                "/".to_string()
            } else {
                prefix
            };
            out.insert(key, other.to_string());
        }
    }
}

fn ini_units(text: &str) -> Option<BTreeMap<String, String>> {
    let mut units: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let (mut section, mut saw, mut ok, mut bad) = (None::<String>, false, 0usize, 0usize);
    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if line.starts_with('[') && line.ends_with(']') {
            section = Some(line[1..line.len() - 1].trim().to_string());
            saw = true;
            ok += 1;
            continue;
        }
        match (line.split_once('='), &section) {
            (Some((k, v)), Some(s)) if !k.trim().is_empty() => {
                let v = v.split_whitespace().collect::<Vec<_>>().join(" ");
                units
                    .entry((s.clone(), k.trim().to_string()))
                    .or_default()
                    .push(v);
                ok += 1;
            }
            _ => bad += 1,
        }
    }
    if !saw || bad as f64 > ok as f64 * 0.2 {
        return None;
    }
    Some(
        units
            .into_iter()
            .map(|((s, k), v)| (format!("ini:[{s}] {k}"), format!("{v:?}")))
            .collect(),
    )
}

fn units_of(path: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let name = path.to_string_lossy().to_lowercase();
    let mut out = BTreeMap::new();
    if name.ends_with(".json") {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
            leaves(&v, String::new(), &mut out);
            return out
                .into_iter()
                .map(|(k, v)| (format!("json:{k}"), v))
                .collect();
        }
    }
    if name.ends_with(".yml") || name.ends_with(".yaml") {
        if let Ok(v) = serde_yaml::from_str::<serde_json::Value>(&text) {
            leaves(&v, String::new(), &mut out);
            return out
                .into_iter()
                .map(|(k, v)| (format!("yaml:{k}"), v))
                .collect();
        }
    }
    if [".conf", ".ini", ".cnf", ".cfg"]
        .iter()
        .any(|e| name.ends_with(e))
    {
        if let Some(u) = ini_units(&text) {
            return u;
        }
    }
    let mut count: HashMap<String, usize> = HashMap::new();
    for raw in text.lines() {
        let line = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if !line.is_empty() {
            let n = count.entry(line.clone()).or_default();
            out.insert(format!("line:{line}#{n}"), line);
            *n += 1;
        }
    }
    out
}

/// Per directory: (matched, total).
fn score(expected: &Path, actual: &Path) -> BTreeMap<String, (usize, usize)> {
    let exp = files_under(expected);
    let act = files_under(actual);
    let mut all: Vec<&String> = exp.iter().chain(act.iter()).collect();
    all.sort();
    all.dedup();
    let mut groups: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for rel in all {
        let group = Path::new(rel)
            .parent()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let eu = if exp.contains(rel) {
            units_of(&expected.join(rel))
        } else {
            BTreeMap::new()
        };
        let au = if act.contains(rel) {
            units_of(&actual.join(rel))
        } else {
            BTreeMap::new()
        };
        let matched = eu.iter().filter(|(k, v)| au.get(*k) == Some(*v)).count();
        let extra = au.keys().filter(|k| !eu.contains_key(*k)).count();
        let g = groups.entry(group).or_default();
        g.0 += matched;
        g.1 += eu.len() + extra;
    }
    groups
}

fn floors() -> BTreeMap<String, f64> {
    let text = std::fs::read_to_string(root().join("tests/parity-floors.txt"))
        .expect("tests/parity-floors.txt");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (d, f) = l.rsplit_once(' ').expect("'<dir> <percent>' lines");
            (
                d.trim().to_string(),
                f.trim().parse().expect("a percentage"),
            )
        })
        .collect()
}

#[test]
fn reference_aio_parity_meets_floors() {
    let r = reference();
    let out = tempfile::tempdir().unwrap();
    let o = genconfig(
        &r.join("inputs/inventory"),
        &r.join("inputs"),
        &r.join("inputs/facts"),
        out.path(),
        &[],
    );
    assert!(o.status.success(), "genconfig failed: {}", stderr(&o));
    let groups = score(&r.join("expected"), out.path());
    let floors = floors();
    let mut report = String::new();
    let mut failures = Vec::new();
    let (mut tm, mut tt) = (0, 0);
    for (dir, (m, t)) in &groups {
        tm += m;
        tt += t;
        let pct = if *t == 0 {
            100.0
        } else {
            100.0 * *m as f64 / *t as f64
        };
        report.push_str(&format!("{dir} {pct:.1}\n"));
        let floor = floors.get(dir).copied().unwrap_or(0.0);
        if pct + 1e-9 < floor {
            failures.push(format!("{dir}: {pct:.2}% < floor {floor}%"));
        }
    }
    for dir in floors.keys() {
        if dir != "overall" && !groups.contains_key(dir) {
            failures.push(format!(
                "{dir}: has a floor but was not rendered or expected"
            ));
        }
    }
    let overall = 100.0 * tm as f64 / tt.max(1) as f64;
    if let Some(f) = floors.get("overall") {
        if overall + 1e-9 < *f {
            failures.push(format!("overall: {overall:.2}% < floor {f}%"));
        }
    }
    eprintln!("{report}overall {overall:.2}");
    assert!(
        failures.is_empty(),
        "parity below floor:\n{}",
        failures.join("\n")
    );
}

#[test]
fn reference_aio_modes_match() {
    let r = reference();
    let out = tempfile::tempdir().unwrap();
    let o = genconfig(
        &r.join("inputs/inventory"),
        &r.join("inputs"),
        &r.join("inputs/facts"),
        out.path(),
        &[],
    );
    assert!(o.status.success(), "genconfig failed: {}", stderr(&o));
    use std::os::unix::fs::PermissionsExt;
    let modes = std::fs::read_to_string(r.join("expected.modes")).unwrap();
    let mut checked = 0;
    let mut wrong = Vec::new();
    for line in modes.lines() {
        let parts: Vec<&str> = line.split('|').collect();
        if parts.len() < 3 {
            continue;
        }
        let rel = parts[0].trim_start_matches("./");
        let p = out.path().join(rel);
        let Ok(meta) = std::fs::metadata(&p) else {
            continue;
        };
        let mode = format!("{:o}", meta.permissions().mode() & 0o7777);
        let want = parts[1].trim_start_matches('0');
        checked += 1;
        if mode != want {
            wrong.push(format!("{rel}: {mode} != {want}"));
        }
    }
    assert!(checked > 0, "no rendered path matched expected.modes");
    assert!(wrong.is_empty(), "modes differ:\n{}", wrong.join("\n"));
}
