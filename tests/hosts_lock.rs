//! The hosts' lock: two operators (two copies of the configuration directory, each with its
//! own home, so their workstation locks are apart) deploying the same host at once do not
//! interleave. Real concurrent runs: the first frozen (SIGSTOP) while it acts, the second
//! refused naming who holds the lock and since when, changing nothing; a killed run's lock
//! reported as stale and broken only with `--break-lock`; the lock released at the end of a
//! run, also one that fails.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::util::{
    docker, engines, engines_turn, ensure_images, site_args, site_inputs, site_inventory,
    standin_globals, states, stderr,
};

const TAGS: &str = "cron,kolla-toolbox";
const LOCK: &str = "kollars_run_lock";

/// One operator: a configuration directory of the one-host site and a home of its own.
struct Operator {
    dir: tempfile::TempDir,
    home: tempfile::TempDir,
}

impl Operator {
    fn new(engine: &str) -> Operator {
        let dir = tempfile::tempdir().unwrap();
        site_inputs(dir.path(), &["node1"], &standin_globals());
        site_inventory(
            dir.path(),
            "common",
            &[("node1", engine, "")],
            &["cron", "kolla-toolbox", "kolla_toolbox"],
        );
        Operator {
            dir,
            home: tempfile::tempdir().unwrap(),
        }
    }

    fn command(&self, cmd: &str, extra: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_kollars"));
        c.args(site_args(self.dir.path(), cmd, TAGS, extra))
            .env("HOME", self.home.path())
            .env("USER", "operator-test")
            .env_remove("XDG_RUNTIME_DIR")
            .env_remove("XDG_STATE_HOME")
            .env_remove("KOLLARS_LOCK_FILE")
            .env_remove("KOLLA_CONFIG_PATH");
        c
    }

    fn run(&self, cmd: &str, extra: &[&str]) -> Output {
        self.command(cmd, extra).output().unwrap()
    }

    /// Starts `deploy`, its stdout read line by line into a channel.
    fn spawn_deploy(&self) -> (Child, mpsc::Receiver<String>) {
        let mut child = self
            .command("deploy", &["--output", "json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        (child, rx)
    }
}

fn signal(child: &Child, sig: &str) {
    let o = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .output()
        .unwrap();
    assert!(o.status.success(), "kill {sig}: {}", stderr(&o));
}

fn snapshot(engine: &str) -> Vec<Option<String>> {
    states(engine, &["cron", "kolla_toolbox"])
}

/// The containers once nothing has changed for 3 s (what a frozen or killed run had already
/// asked the engine for lands), at most 60 s.
fn settled(engine: &str) -> Vec<Option<String>> {
    let mut last = snapshot(engine);
    let mut still = Instant::now();
    let start = Instant::now();
    while still.elapsed() < Duration::from_secs(3) && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(500));
        let now = snapshot(engine);
        if now != last {
            last = now;
            still = Instant::now();
        }
    }
    last
}

/// The lock's labels on `engine`, when it is there.
fn lock(engine: &str) -> Option<String> {
    let o = docker(
        engine,
        &["volume", "inspect", "-f", "{{json .Labels}}", LOCK],
    );
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).trim().to_owned())
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(180),
            "run did not end"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn remove_containers(engine: &str) {
    for c in ["cron", "kolla_toolbox"] {
        let _ = docker(engine, &["rm", "-f", c]);
    }
}

#[test]
fn two_operators_on_the_same_host_do_not_interleave_and_a_stale_lock_is_broken_on_request() {
    let _turn = engines_turn();
    let engine = engines()[0].clone();
    ensure_images(&engine, &["cron", "kolla-toolbox"]);
    remove_containers(&engine);
    let _ = docker(&engine, &["volume", "rm", LOCK]);
    let (a, b) = (Operator::new(&engine), Operator::new(&engine));

    // A acts and is frozen while it holds the hosts' lock
    let (mut first, out) = a.spawn_deploy();
    out.recv_timeout(Duration::from_secs(120))
        .expect("the first run reported nothing");
    signal(&first, "-STOP");
    let frozen = settled(&engine);
    let held = lock(&engine).expect("the hosts' lock is on the engine while A acts");
    assert!(held.contains(&format!("\"{}\"", first.id())), "{held}");

    // B, another configuration directory and home, is refused at once: who, since when
    let started = Instant::now();
    let o = b.run("deploy", &[]);
    let err = stderr(&o);
    eprintln!("refused: {err}");
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(started.elapsed() < Duration::from_secs(60), "B waited");
    assert!(
        err.contains("hosts' lock")
            && err.contains("host node1: held by operator-test@")
            && err.contains(&format!("(pid {}, deploy of ", first.id()))
            && err.contains(" since ")
            && !err.contains("stale"),
        "{err}"
    );
    assert_eq!(snapshot(&engine), frozen, "B changed containers");
    assert!(
        lock(&engine).is_some_and(|l| l == held),
        "B touched A's lock"
    );

    // A goes on, finishes, and lets go
    signal(&first, "-CONT");
    assert!(wait_exit(&mut first).success(), "A failed after its pause");
    assert_eq!(lock(&engine), None, "A left its lock");
    // B's turn now
    let o = b.run("deploy", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(lock(&engine), None);

    // A killed while it acts: its lock stays, and is reported as stale
    remove_containers(&engine);
    let (mut killed, out) = a.spawn_deploy();
    out.recv_timeout(Duration::from_secs(120))
        .expect("the killed run reported nothing");
    signal(&killed, "-KILL");
    let _ = wait_exit(&mut killed);
    let before = settled(&engine);
    assert!(lock(&engine).is_some(), "a killed run's lock stays");
    let o = b.run("deploy", &[]);
    let err = stderr(&o);
    eprintln!("stale: {err}");
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("(pid {}, deploy of ", killed.id()))
            && err.contains("stale")
            && err.contains("--break-lock"),
        "{err}"
    );
    assert_eq!(snapshot(&engine), before, "refused run changed containers");
    // broken on request, taken, released
    let o = b.run("deploy", &["--break-lock"]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("breaking the hosts' lock held by operator-test@"),
        "{err}"
    );
    assert!(
        snapshot(&engine)
            .iter()
            .all(|s| s.as_deref().is_some_and(|s| s.ends_with(" true"))),
        "{:?}",
        snapshot(&engine)
    );
    assert_eq!(lock(&engine), None);

    // a run that fails on the host lets go too
    let o = a.run(
        "deploy",
        &["-e", "cron_image_full=kollars/no-such-image:none"],
    );
    assert_ne!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(lock(&engine), None, "a failed run left its lock");
    remove_containers(&engine);
}
