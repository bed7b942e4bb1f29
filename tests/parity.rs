//! `genconfig` against kolla-ansible 22.2.0's own output, scored semantically per directory.
//!
//! Files are split into units the way `shared/tools/parity.py` does: JSON and YAML leaves,
//! INI (section, key) value lists, and the non-blank lines of other files. A directory's score
//! is matched / (expected + extra).
//!
//! Scenarios: the reference `tests/reference/aio` (floors in `tests/parity-floors.txt`) and
//! every directory under `tests/scenarios/`, found automatically. A scenario directory holds
//! `inputs/` (`inventory`, `globals.yml`, `passwords.yml`, `config/`, `facts/<host>.json`),
//! `expected/<host>/<service>/…` (kolla-ansible's output), `expected.modes` (`path|mode|type`),
//! `floors.txt` (`<host>/<dir> <percent>` lines and `overall <percent>`; required) and
//! optionally `args` (extra `genconfig` arguments, one per line, `#` comments allowed — e.g.
//! `-t` selections matching a kolla-ansible run with `--tags`).
//!
//! A directory below its floor fails; a directory without a floor line must be at 100% (so an
//! extra directory kollars renders, or a new expected one, cannot pass unnoticed); a floor
//! for a directory that is neither expected nor rendered fails. Floors only ever rise, so
//! parity cannot silently regress. The modes of every rendered path listed in `expected.modes`
//! must match.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use crate::util::{files_under, genconfig, reference, root, stderr};
use std::path::PathBuf;

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

/// One kolla-ansible render kept in the tree, with what kollars must reach on it.
pub(crate) struct Scenario {
    pub(crate) name: String,
    pub(crate) dir: PathBuf,
    floors: PathBuf,
}

impl Scenario {
    fn reference() -> Scenario {
        Scenario {
            name: "reference/aio".into(),
            dir: reference(),
            floors: root().join("tests/parity-floors.txt"),
        }
    }

    /// Every directory under tests/scenarios/, sorted by name.
    pub(crate) fn discovered() -> Vec<Scenario> {
        let base = root().join("tests/scenarios");
        let Ok(rd) = std::fs::read_dir(&base) else {
            return Vec::new();
        };
        let mut out: Vec<Scenario> = rd
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir())
            .map(|dir| Scenario {
                name: format!("scenarios/{}", dir.file_name().unwrap().to_string_lossy()),
                floors: dir.join("floors.txt"),
                dir,
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// Extra genconfig arguments from the optional `args` file.
    pub(crate) fn args(&self) -> Result<Vec<String>, String> {
        let p = self.dir.join("args");
        if !p.exists() {
            return Ok(Vec::new());
        }
        let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        Ok(text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_string)
            .collect())
    }

    fn floors(&self) -> Result<BTreeMap<String, f64>, String> {
        let text = std::fs::read_to_string(&self.floors).map_err(|e| {
            format!(
                "{}: {e} (every scenario needs its floors)",
                self.floors.display()
            )
        })?;
        let mut out = BTreeMap::new();
        for (n, l) in text.lines().enumerate() {
            let l = l.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let bad = || {
                format!(
                    "{}:{}: expected '<dir> <percent>'",
                    self.floors.display(),
                    n + 1
                )
            };
            let (d, f) = l.rsplit_once(char::is_whitespace).ok_or_else(bad)?;
            let f: f64 = f.trim().parse().map_err(|_| bad())?;
            out.insert(d.trim().to_string(), f);
        }
        Ok(out)
    }

    /// Renders the scenario and checks parity floors and modes; returns the failures.
    fn check(&self) -> Vec<String> {
        let fail = |m: String| vec![format!("{}: {m}", self.name)];
        for need in [
            "inputs/inventory",
            "inputs/facts",
            "expected",
            "expected.modes",
        ] {
            if !self.dir.join(need).exists() {
                return fail(format!("{need} is missing"));
            }
        }
        let floors = match self.floors() {
            Ok(f) => f,
            Err(e) => return fail(e),
        };
        let args = match self.args() {
            Ok(a) => a,
            Err(e) => return fail(e),
        };
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let inputs = self.dir.join("inputs");
        let out = tempfile::tempdir().unwrap();
        let o = genconfig(
            &inputs.join("inventory"),
            &inputs,
            &inputs.join("facts"),
            out.path(),
            &args,
        );
        if !o.status.success() {
            return fail(format!("genconfig failed: {}", stderr(&o)));
        }
        let mut failures = parity_failures(
            &score(&self.dir.join("expected"), out.path()),
            &floors,
            &self.name,
        );
        failures.extend(
            mode_failures(&self.dir.join("expected.modes"), out.path())
                .into_iter()
                .map(|m| format!("{}: {m}", self.name)),
        );
        failures
    }
}

/// Scores against floors; prints the per-directory figures.
fn parity_failures(
    groups: &BTreeMap<String, (usize, usize)>,
    floors: &BTreeMap<String, f64>,
    name: &str,
) -> Vec<String> {
    let mut report = String::new();
    let mut failures = Vec::new();
    let (mut tm, mut tt) = (0, 0);
    for (dir, (m, t)) in groups {
        tm += m;
        tt += t;
        let pct = if *t == 0 {
            100.0
        } else {
            100.0 * *m as f64 / *t as f64
        };
        report.push_str(&format!("{name}: {dir} {pct:.1} ({m}/{t})\n"));
        match floors.get(dir) {
            Some(floor) if pct + 1e-9 < *floor => {
                failures.push(format!("{name}: {dir}: {pct:.2}% < floor {floor}%"))
            }
            None if m != t => failures.push(format!(
                "{name}: {dir}: {pct:.2}% and no floor (a directory without a floor must be at 100%)"
            )),
            _ => {}
        }
    }
    for dir in floors.keys() {
        if dir != "overall" && !groups.contains_key(dir) {
            failures.push(format!(
                "{name}: {dir}: has a floor but was not rendered or expected"
            ));
        }
    }
    let overall = 100.0 * tm as f64 / tt.max(1) as f64;
    match floors.get("overall") {
        Some(f) if overall + 1e-9 < *f => {
            failures.push(format!("{name}: overall: {overall:.2}% < floor {f}%"))
        }
        None => failures.push(format!("{name}: floors have no 'overall' line")),
        _ => {}
    }
    eprintln!("{report}{name}: overall {overall:.2} ({tm}/{tt})");
    failures
}

/// Every path in `modes` (`path|mode|type`) that was rendered must have that mode.
fn mode_failures(modes: &Path, out: &Path) -> Vec<String> {
    use std::os::unix::fs::PermissionsExt;
    let modes = match std::fs::read_to_string(modes) {
        Ok(m) => m,
        Err(e) => return vec![format!("{}: {e}", modes.display())],
    };
    let mut checked = 0;
    let mut wrong = Vec::new();
    for line in modes.lines() {
        let parts: Vec<&str> = line.split('|').collect();
        if parts.len() < 3 {
            continue;
        }
        let rel = parts[0].trim_start_matches("./");
        let Ok(meta) = std::fs::metadata(out.join(rel)) else {
            continue;
        };
        let mode = format!("{:o}", meta.permissions().mode() & 0o7777);
        let want = parts[1].trim_start_matches('0');
        checked += 1;
        if mode != want {
            wrong.push(format!("mode of {rel}: {mode} != {want}"));
        }
    }
    if checked == 0 {
        wrong.push("no rendered path matched expected.modes".into());
    }
    wrong
}

#[test]
fn reference_aio_parity_and_modes() {
    let failures = Scenario::reference().check();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every tests/scenarios/<name>/, each against its own floors and modes.
#[test]
fn scenarios_parity_and_modes() {
    let mut failures = Vec::new();
    for s in Scenario::discovered() {
        failures.extend(s.check());
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The harness itself: a scenario without floors is an error, `args` are honoured.
#[test]
fn scenario_without_floors_fails() {
    let dir = tempfile::tempdir().unwrap();
    crate::util::copy_tree(&reference(), dir.path());
    let s = Scenario {
        name: "scenarios/tmp".into(),
        dir: dir.path().to_path_buf(),
        floors: dir.path().join("floors.txt"),
    };
    let f = s.check();
    assert!(
        f.len() == 1 && f[0].contains("floors.txt") && f[0].contains("every scenario needs"),
        "{f:?}"
    );
    std::fs::write(dir.path().join("floors.txt"), "overall 100\n").unwrap();
    assert_eq!(s.check(), Vec::<String>::new());
    // -t keystone renders only keystone's directories: the others fall to 0% and fail
    // (no floor means 100% is required).
    std::fs::write(dir.path().join("args"), "# only keystone\n-t\nkeystone\n").unwrap();
    assert_eq!(s.args().unwrap(), ["-t", "keystone"]);
    let f = s.check();
    assert!(
        f.iter().any(|m| m.contains("localhost/nova-api: 0.00%")),
        "{f:?}"
    );
    assert!(
        !f.iter().any(|m| m.contains("localhost/keystone:")),
        "{f:?}"
    );
}
