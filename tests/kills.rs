//! A first deploy killed (SIGKILL) at seeded moments, then run again: every rerun converges,
//! each bootstrap one-shot ran to completion exactly once, and nothing is left behind (no
//! `bootstrap_*` one-shot, no helper container of the config transfer).
//!
//! The site is MariaDB and keystone (three bootstrap one-shots) on the third test engine, its
//! configs written through the engine (helper containers), with the stand-in images. The
//! stand-in's init appends each completed bootstrap's `KOLLA_SERVICE_NAME` to
//! `/var/log/kolla/standin-bootstraps.log` in the `kolla_logs` volume (images/README.md): the
//! count of completions.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use crate::util::{
    engines, ensure_images, kollars, site_args, site_inputs, site_inventory, standin_globals,
    stderr,
};

const TAGS: &str = "mariadb,keystone";

/// The bootstrap one-shots of the site, by the `KOLLA_SERVICE_NAME` their stand-in notes.
const BOOTSTRAPS: &[&str] = &[
    "bootstrap-mariadb",
    "bootstrap-keystone",
    "bootstrap-keystone-fernet",
];

const RUNNING: &[&str] = &["mariadb", "keystone", "keystone_fernet", "keystone_ssh"];

fn docker(engine: &str, args: &[&str]) -> Output {
    Command::new("docker")
        .env("DOCKER_HOST", engine)
        .args(args)
        .output()
        .expect("run docker")
}

fn lines(o: &Output) -> Vec<String> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(str::to_owned)
        .filter(|l| !l.is_empty())
        .collect()
}

/// Every container and volume of the engine removed: the engine is this test's alone.
fn wipe(engine: &str) {
    let all = lines(&docker(engine, &["ps", "-aq"]));
    if !all.is_empty() {
        let mut args = vec!["rm", "-f"];
        args.extend(all.iter().map(String::as_str));
        docker(engine, &args);
    }
    let volumes = lines(&docker(engine, &["volume", "ls", "-q"]));
    if !volumes.is_empty() {
        let mut args = vec!["volume", "rm", "-f"];
        args.extend(volumes.iter().map(String::as_str));
        docker(engine, &args);
    }
}

/// How often each bootstrap ran to completion, from the stand-in's notes.
fn completions(engine: &str) -> BTreeMap<String, usize> {
    let o = docker(
        engine,
        &["volume", "inspect", "-f", "{{.Mountpoint}}", "kolla_logs"],
    );
    let mut out = BTreeMap::new();
    let Some(dir) = lines(&o).into_iter().next() else {
        return out;
    };
    let log = Path::new(&dir).join("standin-bootstraps.log");
    for l in std::fs::read_to_string(log).unwrap_or_default().lines() {
        *out.entry(l.to_owned()).or_default() += 1;
    }
    out
}

/// Names of the engine's containers (`docker ps -a`), with their state.
fn containers(engine: &str) -> BTreeMap<String, String> {
    lines(&docker(
        engine,
        &["ps", "-a", "--format", "{{.Names}} {{.State}}"],
    ))
    .into_iter()
    .filter_map(|l| {
        let (n, s) = l.split_once(' ')?;
        Some((n.to_owned(), s.to_owned()))
    })
    .collect()
}

/// Seeded moments between 0.2 s and 3 s (a small LCG: reproducible without a crate).
fn moments(seed: u64, n: usize) -> Vec<Duration> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            Duration::from_millis(200 + (x >> 33) % 2800)
        })
        .collect()
}

#[test]
fn a_first_deploy_killed_at_any_moment_converges_with_each_bootstrap_once() {
    let _turn = crate::util::last_engine_turn();
    let engines = engines();
    let engine = engines
        .get(2)
        .expect("needs a third test engine (KOLLARS_TEST_ENGINES): it wipes it")
        .clone();
    ensure_images(&engine, &["mariadb-server", "keystone", "keystone-fernet"]);
    let seed = std::env::var("KOLLARS_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(13);
    let mut report = Vec::new();
    for at in moments(seed, 8) {
        wipe(&engine);
        let dir = tempfile::tempdir().unwrap();
        site_inputs(
            dir.path(),
            &["node1"],
            &format!(
                "{}use_preconfigured_databases: \"yes\"\nkollars_bootstrap_tasks: false\n",
                standin_globals().replace("network_interface: eth0", "network_interface: lo")
            ),
        );
        site_inventory(
            dir.path(),
            "control",
            &[("node1", &engine, "kollars_config_transfer=engine")],
            &[
                "mariadb",
                "keystone",
                "memcached",
                "rabbitmq",
                "loadbalancer",
            ],
        );
        let args = site_args(dir.path(), "deploy", TAGS, &["--output", "json"]);
        let mut first = Command::new(env!("CARGO_BIN_EXE_kollars"))
            .args(&args)
            .env_remove("KOLLA_CONFIG_PATH")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(at);
        let finished_first = first.try_wait().unwrap().is_some();
        let _ = first.kill();
        first.wait().unwrap();

        let o = kollars(&args);
        let what = format!("killed at {at:?} (seed {seed})");
        assert!(o.status.success(), "{what}: rerun failed: {}", stderr(&o));
        let held = containers(&engine);
        for c in RUNNING {
            assert_eq!(
                held.get(*c).map(String::as_str),
                Some("running"),
                "{what}: {c}: {held:?}"
            );
        }
        let left: Vec<&String> = held
            .keys()
            .filter(|n| n.starts_with("bootstrap_") || n.starts_with("kollars_"))
            .collect();
        assert!(left.is_empty(), "{what}: left behind: {left:?}");
        let done = completions(&engine);
        for b in BOOTSTRAPS {
            assert_eq!(
                done.get(*b).copied().unwrap_or(0),
                1,
                "{what}: {b} completed {:?} times: {done:?}",
                done.get(*b)
            );
        }
        report.push(format!(
            "{at:?}{}",
            if finished_first {
                " (had finished)"
            } else {
                ""
            }
        ));
    }
    wipe(&engine);
    eprintln!("kills converged, each bootstrap once: {report:?}");
}

/// This test process as a helper's owner (`<boot id>/<pid>/<start time>`, as kollars labels).
fn owner(pid: u32) -> String {
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest = &stat[stat.rfind(')').unwrap() + 1..];
    let start = rest.split_whitespace().nth(19).unwrap();
    format!("{}/{pid}/{start}", boot.trim())
}

/// A helper of a run that is gone (killed between creating and removing it) goes with the next
/// run that changes the host; one of a live run (here, this test) stays.
#[test]
fn helpers_of_gone_runs_are_removed_and_live_ones_kept() {
    let _turn = crate::util::last_engine_turn();
    let engines = engines();
    let engine = engines.get(2).expect("needs a third test engine").clone();
    ensure_images(&engine, &["cron"]);
    let me = std::process::id();
    let gone = owner(me).replace(&format!("/{me}/"), "/4194304/");
    let helpers = [
        ("kollars_helper_gone_kills", gone),
        ("kollars_helper_live_kills", owner(me)),
    ];
    for (name, owner) in &helpers {
        docker(&engine, &["rm", "-f", name]);
        let o = docker(
            &engine,
            &[
                "create",
                "--name",
                name,
                "--label",
                "kollars.helper=true",
                "--label",
                &format!("kollars.helper.owner={owner}"),
                "--network",
                "none",
                "kollars/cron:latest",
                "true",
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let dir = tempfile::tempdir().unwrap();
    site_inputs(dir.path(), &["node1"], &standin_globals());
    site_inventory(dir.path(), "common", &[("node1", &engine, "")], &["cron"]);
    let o = kollars(site_args(dir.path(), "restart", "cron", &["cron"]));
    let held = containers(&engine);
    for (name, _) in &helpers {
        docker(&engine, &["rm", "-f", name]);
    }
    assert!(!held.contains_key(helpers[0].0), "{}: {held:?}", stderr(&o));
    assert!(
        held.contains_key(helpers[1].0),
        "a live run's helper went: {held:?}"
    );
}
