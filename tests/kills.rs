//! A first deploy and a reconfigure after a config change, each killed (SIGKILL) at seeded
//! moments (20 kills), then run again: every rerun converges, no container runs on a config
//! older than the last change (what it copied at start is the rendered file), each bootstrap
//! one-shot ran to completion exactly once, and nothing is left behind (no `bootstrap_*`
//! one-shot, no helper container of the config transfer, no temp file).
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
    docker, engines, ensure_images, kollars, site_args, site_inputs, site_inventory,
    standin_globals, stderr,
};

const TAGS: &str = "mariadb,keystone";

/// The bootstrap one-shots of the site, by the `KOLLA_SERVICE_NAME` their stand-in notes.
const BOOTSTRAPS: &[&str] = &[
    "bootstrap-mariadb",
    "bootstrap-keystone",
    "bootstrap-keystone-fernet",
];

const RUNNING: &[&str] = &["mariadb", "keystone", "keystone_fernet", "keystone_ssh"];

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

/// Runs `args` and SIGKILLs it after `at`; whether it had finished by then.
fn killed_at(args: &[String], at: Duration) -> bool {
    let mut run = Command::new(env!("CARGO_BIN_EXE_kollars"))
        .args(args)
        .env_remove("KOLLA_CONFIG_PATH")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(at);
    let finished = run.try_wait().unwrap().is_some();
    let _ = run.kill();
    run.wait().unwrap();
    finished
}

/// The config files each running container copied at its start (kolla_set_configs), as
/// (container, path in the container, path in the host's rendered tree).
const COPIED: &[(&str, &str, &str)] = &[
    (
        "keystone",
        "/etc/keystone/keystone.conf",
        "keystone/keystone.conf",
    ),
    (
        "keystone_fernet",
        "/etc/keystone/keystone.conf",
        "keystone-fernet/keystone.conf",
    ),
    ("mariadb", "/etc/mysql/my.cnf", "mariadb/galera.cnf"),
];

/// A file of a container (`docker cp`, through the engine's archive API: the stand-ins have
/// no `cat`), `None` when it has none.
fn container_file(engine: &str, container: &str, path: &str) -> Option<Vec<u8>> {
    let o = docker(engine, &["cp", &format!("{container}:{path}"), "-"]);
    if !o.status.success() {
        return None;
    }
    // one regular file: a 512-byte ustar header (its size in octal at 124..136), then it
    let header = o.stdout.get(..512)?;
    let size = std::str::from_utf8(&header[124..136]).ok()?;
    let size = usize::from_str_radix(size.trim_matches(|c: char| c == '\0' || c == ' '), 8).ok()?;
    Some(o.stdout.get(512..512 + size)?.to_vec())
}

/// The checks after every rerun: the site's containers running, each on the config the tree
/// holds now (what it copied at its start is the rendered file: none runs on a config older
/// than the last change), no one-shot or helper left, no temp file in the tree, each
/// bootstrap completed exactly once.
fn converged(engine: &str, tree: &Path, what: &str) {
    let held = containers(engine);
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
    let temps: Vec<String> = crate::util::files_under(tree)
        .into_iter()
        .filter(|f| f.contains(".tmp-kollars-"))
        .collect();
    assert!(temps.is_empty(), "{what}: temp files left: {temps:?}");
    let mut compared = 0;
    for (c, inside, rendered) in COPIED {
        let Ok(want) = std::fs::read(tree.join(rendered)) else {
            continue;
        };
        // kolla_start copies the config just after the (re)start the rerun asked for: a
        // moment, longer on a loaded machine
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let mut got = container_file(engine, c, inside);
        while got.as_deref() != Some(&want[..]) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(500));
            got = container_file(engine, c, inside);
        }
        // (lengths only: the files hold passwords)
        assert!(
            got.as_deref() == Some(&want[..]),
            "{what}: {c} runs on another {inside} ({:?} bytes) than the rendered {rendered} \
             ({} bytes)",
            got.as_ref().map(Vec::len),
            want.len()
        );
        compared += 1;
    }
    assert!(
        compared >= 2,
        "{what}: only {compared} config files compared"
    );
    let done = completions(engine);
    for b in BOOTSTRAPS {
        assert_eq!(
            done.get(*b).copied().unwrap_or(0),
            1,
            "{what}: {b} completed {:?} times: {done:?}",
            done.get(*b)
        );
    }
}

/// A first deploy killed at a seeded moment, rerun; then a config change (keystone.conf's
/// override, a new value each time) whose reconfigure is killed at another moment, rerun:
/// 2 kills per round, 10 rounds.
#[test]
fn deploys_and_reconfigures_killed_at_any_moment_converge_with_each_bootstrap_once() {
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
    let rounds = 10;
    let moments = moments(seed, 2 * rounds);
    let mut report = Vec::new();
    for (round, at) in moments.chunks(2).enumerate() {
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
        let tree = dir.path().join("etc-node1");
        let args = site_args(dir.path(), "deploy", TAGS, &["--output", "json"]);
        let finished = killed_at(&args, at[0]);
        // the killed run's hosts' lock is stale: broken on request, as the refusal says
        let o = kollars(args.iter().chain(&["--break-lock".to_owned()]));
        let what = format!("deploy killed at {:?} (seed {seed})", at[0]);
        assert!(o.status.success(), "{what}: rerun failed: {}", stderr(&o));
        converged(&engine, &tree, &what);
        report.push(format!(
            "deploy {:?}{}",
            at[0],
            if finished { " (had finished)" } else { "" }
        ));

        // a config change, its reconfigure killed at the second moment (a third of it: a
        // reconfigure is shorter), then run again
        std::fs::create_dir_all(dir.path().join("config/config")).unwrap();
        std::fs::write(
            dir.path().join("config/config/keystone.conf"),
            format!("[kollars_test]\nround = {round}\n"),
        )
        .unwrap();
        let args = site_args(dir.path(), "reconfigure", TAGS, &["--output", "json"]);
        let at = at[1] / 3;
        let finished = killed_at(&args, at);
        let o = kollars(args.iter().chain(&["--break-lock".to_owned()]));
        let what = format!("reconfigure killed at {at:?} (seed {seed})");
        assert!(o.status.success(), "{what}: rerun failed: {}", stderr(&o));
        converged(&engine, &tree, &what);
        let conf = std::fs::read_to_string(tree.join("keystone/keystone.conf")).unwrap();
        assert!(conf.contains(&format!("round = {round}")), "{what}: {conf}");
        report.push(format!(
            "reconfigure {at:?}{}",
            if finished { " (had finished)" } else { "" }
        ));
    }
    wipe(&engine);
    eprintln!(
        "kills: {} converged of {}, each bootstrap exactly once: {report:?}",
        report.len(),
        2 * rounds
    );
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
