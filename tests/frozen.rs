//! Engines that stop answering, or die, in the middle of a deploy (issue 13, defects 5 and
//! 6): the host fails within a bound the engine timeout sets, naming host and endpoint,
//! the other host completes, the summary says which host failed, and a rerun converges.
//!
//! Three real ways an engine goes silent: a socket that accepts and never answers (a tiny
//! listener of the test), a real dockerd frozen with SIGSTOP once the run has begun on it
//! (then SIGCONT), and a real dockerd killed with SIGKILL mid-run and started again. The
//! healthy host is node1 on the first test engine; the frozen one node2 on the third (the
//! engine kill tests wipe, taken in turn with them).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::util::{
    docker, engine_pid, engines, engines_turn, ensure_images, kollars, last_engine_turn, site_args,
    site_inputs, site_inventory, standin_globals, stderr,
};

/// The engine timeout the runs are given, in seconds.
const TIMEOUT: u64 = 4;

const CONTAINERS: &[&str] = &["cron", "kolla_toolbox"];

/// A site of cron and kolla-toolbox on node1 (`healthy`) and node2 (`other`).
fn site(dir: &Path, healthy: &str, other: &str) {
    site_inputs(dir, &["node1", "node2"], &standin_globals());
    site_inventory(
        dir,
        "common",
        &[("node1", healthy, ""), ("node2", other, "")],
        &["cron", "kolla-toolbox", "kolla_toolbox"],
    );
}

fn args(dir: &Path, cmd: &str) -> Vec<String> {
    let timeout = TIMEOUT.to_string();
    site_args(
        dir,
        cmd,
        "cron,kolla-toolbox",
        &["--engine-timeout", &timeout],
    )
}

/// Removes the test's containers, and the hosts' lock a failed earlier run of this test could
/// not release on a frozen engine.
fn remove_containers(engine: &str) {
    for c in CONTAINERS {
        let _ = docker(engine, &["rm", "-f", c]);
    }
    let _ = docker(engine, &["volume", "rm", "kollars_run_lock"]);
}

fn running(engine: &str) -> bool {
    CONTAINERS.iter().all(|c| {
        let o = docker(engine, &["inspect", "-f", "{{.State.Running}}", c]);
        String::from_utf8_lossy(&o.stdout).trim() == "true"
    })
}

/// The run failed on node2 only: exit 3, node2 and its endpoint named, node1's containers
/// running, and (text output) the summary counting node2 as failed.
fn failed_on_node2_only(o: &Output, healthy: &str, endpoint: &str, text: bool) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    let failure = err
        .lines()
        .find(|l| l.starts_with("host node2 FAILED"))
        .unwrap_or_else(|| panic!("no failure of node2: {err}"));
    assert!(failure.contains(endpoint), "endpoint not named: {failure}");
    assert!(
        !err.lines().any(|l| l.starts_with("host node1 FAILED")),
        "{err}"
    );
    assert!(running(healthy), "node1 did not complete: {err}");
    assert!(
        !text || (err.contains("1 of 2 host(s) done") && err.contains("failed: node2")),
        "summary: {err}"
    );
    // the cause once: the failure line holds no message twice
    let parts: Vec<&str> = failure.split(": ").filter(|p| p.len() > 12).collect();
    for (n, p) in parts.iter().enumerate() {
        assert!(!parts[n + 1..].contains(p), "{p:?} repeated in {failure}");
    }
}

/// Runs `kollars deploy --output json`; once node2 has reported its first event, calls
/// `at_node2` (which freezes or kills its engine); returns the output, and the time from
/// `at_node2` to the end.
fn deploy_and(dir: &Path, at_node2: impl FnOnce()) -> (Output, Duration) {
    let mut a = args(dir, "deploy");
    a.extend(["--output".into(), "json".into()]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_kollars"))
        .args(&a)
        .env_remove("KOLLA_CONFIG_PATH")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut seen = Vec::new();
    for l in lines.by_ref() {
        let l = l.unwrap();
        let node2 = l.contains(r#""host":"node2""#);
        seen.push(l);
        if node2 {
            break;
        }
    }
    at_node2();
    let since = Instant::now();
    seen.extend(lines.map(Result::unwrap));
    let mut o = child.wait_with_output().unwrap();
    o.stdout = seen.join("\n").into_bytes();
    (o, since.elapsed())
}

/// The bound a frozen host's failure must come within: a few stuck requests in a row
/// (its step, the end's sweep) and the run's own work.
fn bound() -> Duration {
    Duration::from_secs(4 * TIMEOUT + 20)
}

#[test]
fn a_socket_that_never_answers_fails_its_host_alone_within_the_timeout() {
    let _turn = engines_turn();
    let engines = engines();
    ensure_images(&engines[0], &["cron", "kolla-toolbox"]);
    remove_containers(&engines[0]);
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("frozen.sock");
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    // accepts every connection, reads nothing, answers nothing, closes nothing
    let held = std::thread::spawn(move || {
        let mut conns = Vec::new();
        for c in listener.incoming() {
            match c {
                Ok(c) => conns.push(c),
                Err(_) => break,
            }
        }
    });
    let endpoint = format!("unix://{}", sock.display());
    site(dir.path(), &engines[0], &endpoint);
    let start = Instant::now();
    let o = kollars(args(dir.path(), "deploy"));
    let took = start.elapsed();
    failed_on_node2_only(&o, &engines[0], &endpoint, true);
    assert!(took < bound(), "took {took:?}: {}", stderr(&o));
    assert!(
        stderr(&o).contains("unreachable") || stderr(&o).contains("did not answer"),
        "{}",
        stderr(&o)
    );
    remove_containers(&engines[0]);
    drop(held);
}

#[test]
fn a_dockerd_frozen_or_killed_mid_run_fails_its_host_alone_and_a_rerun_converges() {
    let _turn = engines_turn();
    let _last = last_engine_turn();
    let engines = engines();
    let (healthy, frozen) = (
        engines[0].clone(),
        engines
            .get(2)
            .expect("needs a third test engine (KOLLARS_TEST_ENGINES)")
            .clone(),
    );
    for e in [&healthy, &frozen] {
        ensure_images(e, &["cron", "kolla-toolbox"]);
        remove_containers(e);
    }

    // SIGSTOP: the engine accepts and never answers, mid-run
    let dir = tempfile::tempdir().unwrap();
    site(dir.path(), &healthy, &frozen);
    let pid = engine_pid(&frozen).to_string();
    let (o, took) = deploy_and(dir.path(), || {
        assert!(Command::new("kill")
            .args(["-STOP", &pid])
            .status()
            .unwrap()
            .success());
    });
    assert!(Command::new("kill")
        .args(["-CONT", &pid])
        .status()
        .unwrap()
        .success());
    failed_on_node2_only(&o, &healthy, &frozen, false);
    assert!(
        stderr(&o).contains("did not answer within 4 s"),
        "{}",
        stderr(&o)
    );
    assert!(took < bound(), "took {took:?}: {}", stderr(&o));
    rerun_converges(dir.path(), &healthy, &frozen);

    // SIGKILL: the engine's socket refuses, mid-run; started again, a rerun converges
    for e in [&healthy, &frozen] {
        remove_containers(e);
    }
    let pid = engine_pid(&frozen).to_string();
    let (o, took) = deploy_and(dir.path(), || {
        assert!(Command::new("kill")
            .args(["-KILL", &pid])
            .status()
            .unwrap()
            .success());
    });
    failed_on_node2_only(&o, &healthy, &frozen, false);
    assert!(took < bound(), "took {took:?}: {}", stderr(&o));
    restart_engines(&frozen);
    rerun_converges(dir.path(), &healthy, &frozen);
    for e in [&healthy, &frozen] {
        remove_containers(e);
    }
}

/// A rerun of the site under `dir` succeeds, both engines' containers run, and a plan then
/// has nothing to do.
fn rerun_converges(dir: &Path, healthy: &str, frozen: &str) {
    // the failed run could not release the hosts' lock on the engine that stopped answering:
    // the operator breaks it, as the refusal says
    let mut rerun = args(dir, "deploy");
    rerun.push("--break-lock".into());
    let again = kollars(rerun);
    assert!(again.status.success(), "rerun: {}", stderr(&again));
    assert!(running(healthy) && running(frozen));
    let plan = kollars(args(dir, "plan"));
    let out = String::from_utf8_lossy(&plan.stdout);
    assert!(out.contains("0 change(s) planned on 2 host(s)"), "{out}");
}

/// Starts `engine` (`unix://DIR/hostN/docker.sock`) again with `scripts/engines.sh`, which
/// reuses the engines of DIR that answer.
fn restart_engines(engine: &str) {
    let sock = Path::new(engine.trim_start_matches("unix://"));
    let host = sock.parent().unwrap();
    let dir = host.parent().unwrap();
    let n: usize = host
        .file_name()
        .unwrap()
        .to_string_lossy()
        .trim_start_matches("host")
        .parse()
        .unwrap();
    // the killed daemon's pid file and socket stay behind; engines.sh starts it again
    let deadline = Instant::now() + Duration::from_secs(60);
    let o = Command::new(crate::util::root().join("scripts/engines.sh"))
        .args(["up", &n.to_string()])
        .arg(dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "engines.sh: {}", stderr(&o));
    while !docker(engine, &["version"]).status.success() {
        assert!(Instant::now() < deadline, "{engine} did not come back");
        std::thread::sleep(Duration::from_millis(500));
    }
}
