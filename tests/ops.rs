//! The operator's companions through the real binary: run history (`runs`, `runs show`, the
//! HTML page checked in headless Chromium), `ps`, `logs`, `plan --graph`, the JSON event
//! kinds of docs/json-events.md and the exit codes, on the stand-in engines; completions,
//! man pages and `--help` examples without engines.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::util::{
    engines, engines_turn, ensure_images, kollars, root, site_args, site_inputs, site_inventory,
    standin_globals, stderr,
};

/// A two-host site (cron and kolla-toolbox) whose runs are recorded under its own state dir.
struct Site {
    dir: tempfile::TempDir,
    engines: Vec<String>,
}

impl Site {
    fn new(engines: &[String]) -> Site {
        let dir = tempfile::tempdir().unwrap();
        site_inputs(dir.path(), &["node1", "node2"], &standin_globals());
        site_inventory(
            dir.path(),
            "common",
            &[("node1", &engines[0], ""), ("node2", &engines[1], "")],
            &["cron", "kolla-toolbox", "kolla_toolbox"],
        );
        for e in &engines[..2] {
            for c in ["cron", "kolla_toolbox"] {
                docker(e, &["rm", "-f", c]);
            }
        }
        Site {
            dir,
            engines: engines.to_vec(),
        }
    }

    fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// `kollars CMD` on the site (`-t cron,kolla-toolbox`), recorded in its state dir.
    fn run(&self, cmd: &str, extra: &[&str]) -> Output {
        let args = site_args(self.dir.path(), cmd, "cron,kolla-toolbox", extra);
        self.bare(&args.iter().map(String::as_str).collect::<Vec<_>>())
    }

    /// `kollars ARGS` with the site's state dir and no other.
    fn bare(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_kollars"))
            .args(args)
            .env("XDG_STATE_HOME", self.state())
            .env_remove("XDG_RUNTIME_DIR")
            .env_remove("KOLLA_CONFIG_PATH")
            .output()
            .expect("run kollars")
    }
}

fn docker(engine: &str, args: &[&str]) -> Output {
    Command::new("docker")
        .env("DOCKER_HOST", engine)
        .args(args)
        .output()
        .expect("run docker")
}

fn ok(o: &Output, what: &str) -> String {
    assert!(
        o.status.success(),
        "{what} failed ({:?}): {}\n{}",
        o.status.code(),
        stderr(o),
        String::from_utf8_lossy(&o.stdout)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Every stdout line as JSON (each must be one object).
fn json_lines(o: &Output) -> Vec<Value> {
    json_of(&String::from_utf8_lossy(&o.stdout))
}

/// Every line of `text` as JSON (each must be one object).
fn json_of(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            assert!(v.is_object(), "{l}");
            v
        })
        .collect()
}

/// The keys of an object, sorted.
fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort();
    k
}

const STEPS: &[&str] = &[
    "pull_image",
    "create_volume",
    "create",
    "recreate",
    "restart",
    "start",
    "stop",
    "remove",
    "oneshot",
    "write_config",
    "gather_facts",
    "task",
    "register",
];

/// A progress event as docs/json-events.md describes it: its keys for its phase, its step
/// one of the documented ones.
fn assert_progress_event(v: &Value) {
    let phase = v["phase"]
        .as_str()
        .unwrap_or_else(|| panic!("no phase: {v}"));
    let mut want = vec!["host", "phase", "step", "subject"];
    match phase {
        "started" | "finished" => {}
        "progress" => want.push("message"),
        "failed" => want.push("error"),
        other => panic!("undocumented phase {other}: {v}"),
    }
    if v.get("detail").is_some() {
        want.push("detail");
    }
    want.sort();
    assert_eq!(keys(v), want, "{v}");
    assert!(STEPS.contains(&v["step"].as_str().unwrap()), "{v}");
}

fn chromium(args: &[&str]) -> Output {
    Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
        ])
        .args(args)
        .stderr(Stdio::null())
        .output()
        .expect("run chromium (scripts/test.sh installs it: apt-get install -y chromium)")
}

fn show_json(site: &Site, id: &str) -> Value {
    let o = site.bare(&["runs", "show", id, "--output", "json"]);
    serde_json::from_str(ok(&o, "runs show").trim()).unwrap()
}

#[test]
fn runs_ps_logs_and_events_on_real_engines() {
    let _turn = engines_turn();
    let engines = engines();
    for e in &engines[..2] {
        ensure_images(e, &["cron", "kolla-toolbox"]);
    }
    let site = Site::new(&engines);

    // exit 2: bad input, nothing done, nothing recorded
    let o = site.run(
        "deploy",
        &["-e", "cron_logrotate_schedule={{ no_such_var }}"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!site.state().join("kollars/runs").exists());

    // exit 0: a deploy, its JSON progress events (started, finished), its record and report
    let report = site.dir.path().join("report.html");
    let o = site.run(
        "deploy",
        &[
            "--output",
            "json",
            "--report",
            report.to_str().unwrap(),
            "-e",
            "kollars_unused_password=S3cretFromTheCommandLine",
        ],
    );
    ok(&o, "deploy");
    let events = json_lines(&o);
    events.iter().for_each(assert_progress_event);
    for phase in ["started", "finished"] {
        assert!(events.iter().any(|e| e["phase"] == phase), "no {phase}");
    }
    for host in ["node1", "node2"] {
        assert!(
            events
                .iter()
                .any(|e| e["host"] == host && e["step"] == "create" && e["subject"] == "cron"),
            "no create of cron on {host}"
        );
    }
    let page = std::fs::read_to_string(&report).unwrap();
    assert!(page.contains("<svg") && page.contains("node2"), "{page}");
    // no secret in the record or the page: the command line's, passwords.yml's
    let runs = site.state().join("kollars/runs");
    let mut kept = page.clone();
    for e in std::fs::read_dir(&runs).unwrap() {
        kept.push_str(&std::fs::read_to_string(e.unwrap().path()).unwrap());
    }
    assert!(
        kept.contains("kollars_unused_password="),
        "the argument is kept, masked"
    );
    assert!(!kept.contains("S3cretFromTheCommandLine"), "a secret kept");
    let passwords = std::fs::read_to_string(site.dir.path().join("config/passwords.yml")).unwrap();
    for value in passwords
        .lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(_, v)| v.trim())
    {
        assert!(value.len() < 8 || !kept.contains(value), "a password kept");
    }

    // runs: one line per run, as JSON
    let o = site.bare(&["runs", "--output", "json"]);
    let list = json_lines(&o);
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(
        keys(&list[0]),
        [
            "command",
            "duration_ms",
            "exit_code",
            "failed_hosts",
            "hosts",
            "id",
            "inputs_digest",
            "started_ms",
            "steps"
        ]
    );
    assert_eq!(list[0]["command"], "deploy");
    assert_eq!(list[0]["exit_code"], 0);
    assert_eq!(list[0]["hosts"], 2);
    let id = list[0]["id"].as_str().unwrap().to_owned();
    let text = ok(&site.bare(&["runs"]), "runs");
    assert!(text.starts_with(&id) && text.contains("deploy"), "{text}");

    // runs show: the whole record; every step of both hosts, every container's decision
    let record = show_json(&site, &id);
    assert_eq!(record["id"], id.as_str());
    assert!(record["inputs_digest"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
    let steps = record["steps"].as_array().unwrap();
    let started = events.iter().filter(|e| e["phase"] == "started").count();
    assert_eq!(steps.len(), started, "a step per started event");
    for s in steps {
        assert_eq!(s["outcome"], "ok", "{s}");
        assert!(s["end_ms"].as_u64() >= s["start_ms"].as_u64(), "{s}");
    }
    for host in ["node1", "node2"] {
        for (svc, container) in [("cron", "cron"), ("kolla-toolbox", "kolla_toolbox")] {
            assert!(
                record["plan"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p["host"] == host && p["service"] == svc && p["action"] == "create"),
                "no create of {svc} on {host}: {}",
                record["plan"]
            );
            assert!(
                steps.iter().any(|s| s["host"] == host
                    && s["subject"] == container
                    && s["step"] == "start"
                    && s["project"].is_string()),
                "no start of {container} on {host}"
            );
        }
    }
    // slowest first in text
    let text = ok(&site.bare(&["runs", "show", "last"]), "runs show last");
    let durations: Vec<f64> = text
        .lines()
        .skip_while(|l| !l.starts_with("steps, slowest first"))
        .skip(1)
        .map(|l| l.split_whitespace().next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(durations.len(), steps.len(), "{text}");
    assert!(durations.windows(2).all(|w| w[0] >= w[1]), "{text}");

    // the page, rendered by a real browser: every host and step of the run is in its DOM
    let html = site.dir.path().join("run.html");
    ok(
        &site.bare(&["runs", "show", &id, "--html", html.to_str().unwrap()]),
        "runs show --html",
    );
    let url = format!("file://{}", html.display());
    let dom = chromium(&["--dump-dom", &url]);
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.contains("</svg>"), "chromium rendered no page: {dom}");
    for host in ["node1", "node2"] {
        assert!(
            dom.contains(&format!("class=\"gantt\" data-host=\"{host}\"")),
            "no timeline of {host}"
        );
    }
    let rendered_steps = dom.matches("<g class=\"step ").count();
    assert_eq!(rendered_steps, steps.len(), "a bar per step");
    assert!(
        dom.contains("class=\"project critical\""),
        "no critical path"
    );
    let artifacts = root().join("target/artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let png = artifacts.join("ops-run.png");
    let _ = std::fs::remove_file(&png);
    chromium(&[
        &format!("--screenshot={}", png.display()),
        "--window-size=1100,1400",
        &url,
    ]);
    let size = std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
    assert!(
        size > 10_000,
        "screenshot {} is {size} bytes",
        png.display()
    );

    // ps: every container per host, running, config current; stale once the inputs change
    let rows = json_of(&ok(&site.run("ps", &["--output", "json"]), "ps"));
    for host in ["node1", "node2"] {
        for c in ["cron", "kolla_toolbox"] {
            let row = rows
                .iter()
                .find(|r| r["host"] == host && r["container"] == c)
                .unwrap_or_else(|| panic!("ps lacks {c} on {host}: {rows:?}"));
            assert_eq!(
                keys(row),
                [
                    "config",
                    "container",
                    "health",
                    "host",
                    "image",
                    "state",
                    "status"
                ]
            );
            assert_eq!(row["state"], "running", "{row}");
            assert_eq!(row["config"], "current", "{row}");
            assert!(row["status"].as_str().unwrap().starts_with("Up"), "{row}");
        }
    }
    let o = site.run("ps", &["-e", "cron_logrotate_rotation_count=7"]);
    let text = ok(&o, "ps");
    let cron1 = text
        .lines()
        .find(|l| l.starts_with("node1") && l.contains(" cron "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(cron1.contains("stale"), "{text}");

    // logs: the stand-in's start line, from both hosts (prefixed), or one host (not)
    let text = ok(&site.run("logs", &["cron", "--tail", "100"]), "logs");
    for host in ["node1", "node2"] {
        assert!(
            text.lines()
                .any(|l| l.starts_with(&format!("{host} | kolla-standin: cron"))),
            "{text}"
        );
    }
    let text = ok(
        &site.run("logs", &["cron", "--host", "node2", "--tail", "1"]),
        "logs --host",
    );
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(!text.starts_with("node2 |"), "{text}");
    // --follow keeps reading until stopped
    let mut args = site_args(site.dir.path(), "logs", "cron,kolla-toolbox", &[]);
    args.extend(["cron".into(), "--host".into(), "node1".into(), "-f".into()]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_kollars"))
        .args(&args)
        .env("XDG_STATE_HOME", site.state())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert!(child.try_wait().unwrap().is_none(), "logs -f ended");
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("kolla-standin: cron"));
    let o = site.run("logs", &["no-such-service"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("kollars ps"), "{}", stderr(&o));

    // exit 3: one host fails (its cron is gone), the other not; a failed event; recorded
    docker(&site.engines[1], &["rm", "-f", "cron"]);
    let o = site.run("restart", &["cron", "--output", "json"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let events = json_lines(&o);
    events.iter().for_each(assert_progress_event);
    let failed = events
        .iter()
        .find(|e| e["phase"] == "failed")
        .unwrap_or_else(|| panic!("no failed event: {events:?}"));
    assert_eq!(failed["host"], "node2");
    assert!(events
        .iter()
        .any(|e| e["host"] == "node1" && e["phase"] == "finished" && e["step"] == "restart"));
    let record = show_json(&site, "last");
    assert_eq!(record["command"], "restart");
    assert_eq!(record["exit_code"], 3);
    let node2 = record["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == "node2")
        .unwrap();
    assert_eq!(node2["outcome"], "failed");
    assert!(
        node2["reason"].as_str().unwrap().contains("cron"),
        "{node2}"
    );
    assert!(record["steps"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["host"] == "node2" && s["outcome"] == "failed" && s["reason"].is_string()));
    assert_eq!(
        json_lines(&site.bare(&["runs", "--output", "json"])).len(),
        2
    );

    // exit 1: check finds a container missing; its JSON rows
    let o = site.run("check", &["--output", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let rows = json_lines(&o);
    for r in &rows {
        assert_eq!(keys(r), ["container", "host", "ok", "status"], "{r}");
    }
    assert!(rows
        .iter()
        .any(|r| r["host"] == "node2" && r["container"] == "cron" && r["ok"] == false));

    // plan's JSON: a line per host and service, with its action and diffs
    let o = site.run("plan", &["--output", "json"]);
    let rows = json_lines(&o);
    for r in &rows {
        assert_eq!(
            keys(r),
            ["action", "detail", "diffs", "host", "service"],
            "{r}"
        );
    }
    assert!(rows
        .iter()
        .any(|r| r["host"] == "node2" && r["service"] == "cron" && r["action"] == "create"));

    // the project graph deploy follows
    let dot = ok(&site.run("plan", &["--graph", "dot"]), "plan --graph dot");
    assert!(dot.starts_with("digraph kollars {"), "{dot}");
    assert!(
        dot.contains("\"cron\"") && dot.contains("\"kolla-toolbox\""),
        "{dot}"
    );
    let svg = ok(&site.run("plan", &["--graph", "svg"]), "plan --graph svg");
    assert!(
        svg.starts_with("<svg") && svg.matches("<rect").count() >= 2,
        "{svg}"
    );

    for e in &site.engines[..2] {
        for c in ["cron", "kolla_toolbox"] {
            docker(e, &["rm", "-f", c]);
        }
    }
}

#[test]
fn completions_man_pages_and_help_examples() {
    // bash's script is valid bash, and each completes the verbs
    for shell in ["bash", "zsh", "fish"] {
        let o = kollars(["completions", shell]);
        let script = ok(&o, shell);
        for verb in ["deploy", "runs", "logs", "ps"] {
            assert!(script.contains(verb), "{shell} lacks {verb}");
        }
        if shell == "bash" {
            let dir = tempfile::tempdir().unwrap();
            let f = dir.path().join("kollars.bash");
            std::fs::write(&f, &script).unwrap();
            let o = Command::new("bash").arg("-n").arg(&f).output().unwrap();
            assert!(o.status.success(), "{}", stderr(&o));
        }
    }
    assert_eq!(kollars(["completions", "tcsh"]).status.code(), Some(2));

    let dir = tempfile::tempdir().unwrap();
    let man = dir.path().join("man1");
    ok(
        &kollars(["man", "--dir", man.to_str().unwrap()]),
        "man --dir",
    );
    let page = |name: &str| {
        std::fs::read_to_string(man.join(format!("{name}.1")))
            .unwrap_or_else(|e| panic!("{name}.1: {e}"))
    };
    assert!(page("kollars").contains(".TH kollars 1"));
    let deploy = page("kollars-deploy");
    assert!(deploy.contains("\\-\\-report"), "{deploy}");
    assert!(page("kollars-runs-show").contains("\\-\\-html"));

    // every command's --help has an example
    let o = kollars(["--help"]);
    let help = ok(&o, "--help");
    let verbs: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|v| *v != "help")
        .collect();
    assert!(verbs.len() >= 17, "{verbs:?}");
    for verb in verbs {
        let text = ok(&kollars([verb, "--help"]), verb);
        assert!(
            text.contains("Example") && text.contains(&format!("kollars {verb}")),
            "{verb} --help has no example:\n{text}"
        );
    }
}

#[test]
fn runs_without_history_and_unknown_ids() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_kollars"))
            .args(args)
            .env("XDG_STATE_HOME", dir.path())
            .output()
            .unwrap()
    };
    let o = run(&["runs"]);
    assert!(o.status.success());
    assert!(stderr(&o).contains("no runs recorded"), "{}", stderr(&o));
    let o = run(&["runs", "show", "20990101T000000Z-1"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("`kollars runs` lists"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn plan_task_rows_in_json() {
    // read-only, but other tests' kolla_toolbox on these engines would answer the checks
    let _turn = engines_turn();
    let engines = engines();
    let dir = tempfile::tempdir().unwrap();
    site_inputs(
        dir.path(),
        &["node1", "node2"],
        &standin_globals().replace("network_interface: eth0", "network_interface: lo"),
    );
    site_inventory(
        dir.path(),
        "control",
        &[("node1", &engines[0], ""), ("node2", &engines[1], "")],
        &[
            "memcached",
            "keystone",
            "glance",
            "glance-api",
            "rabbitmq",
            "mariadb",
            "loadbalancer",
        ],
    );
    for e in &engines[..2] {
        for c in ["glance_api", "bootstrap_glance_api"] {
            docker(e, &["rm", "-f", c]);
        }
    }
    let o = kollars(site_args(
        dir.path(),
        "plan",
        "glance",
        &["--output", "json"],
    ));
    let rows = json_lines(&o);
    assert!(o.status.success(), "{}", stderr(&o));
    let task = |t: &str| {
        rows.iter()
            .find(|r| r["task"] == t)
            .unwrap_or_else(|| panic!("no {t} row: {rows:?}"))
    };
    let boot = task("bootstrap");
    assert_eq!(
        keys(boot),
        ["action", "container", "host", "service", "task"]
    );
    assert_eq!(boot["action"], "run (new container)");
    let db = task("database");
    assert_eq!(keys(db), ["action", "database", "host", "service", "task"]);
    assert_eq!(db["database"], "glance");
    assert!(db["action"].as_str().unwrap().starts_with("create"), "{db}");
    let reg = task("ks_register");
    assert_eq!(keys(reg), ["action", "host", "service", "task"]);
    assert_eq!(reg["service"], "glance-api");
    // each once, on the first host
    for t in ["bootstrap", "database", "ks_register"] {
        let on: Vec<_> = rows.iter().filter(|r| r["task"] == t).collect();
        assert_eq!(on.len(), 1, "{t}: {on:?}");
        assert_eq!(on[0]["host"], "node1");
    }
}

#[test]
fn an_unknown_tag_suggests_the_near_name() {
    let inputs = crate::util::reference().join("inputs");
    let out = tempfile::tempdir().unwrap();
    let o = crate::util::genconfig(
        &inputs.join("inventory"),
        &inputs,
        &inputs.join("facts"),
        out.path(),
        &["-t", "keystnoe"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("-t keystnoe: no such service or project; did you mean keystone?"),
        "{}",
        stderr(&o)
    );
}
