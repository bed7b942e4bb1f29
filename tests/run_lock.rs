//! The run lock: two runs against the same inputs take turns, a wait is bounded, and the lock
//! lives where only its user can reach it.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::util::{
    engines, engines_turn, ensure_images, site_args, site_inputs, site_inventory, standin_globals,
    stderr,
};

/// kollars with `args`, its lock under `home` (no `XDG_RUNTIME_DIR`, no `KOLLARS_LOCK_FILE`).
fn kollars_in(home: &Path, args: &[String]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kollars"));
    c.args(args)
        .env("HOME", home)
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("XDG_STATE_HOME")
        .env_remove("KOLLARS_LOCK_FILE")
        .env_remove("KOLLARS_LOCK_TIMEOUT")
        .env_remove("KOLLA_CONFIG_PATH");
    c
}

/// Starts `cmd` with its stdout read line by line into a channel, each line with when it came.
fn spawn_read(cmd: &mut Command) -> (Child, mpsc::Receiver<(Instant, String)>) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send((Instant::now(), line));
        }
    });
    (child, rx)
}

fn signal(child: &Child, sig: &str) {
    let o = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .output()
        .unwrap();
    assert!(o.status.success(), "kill {sig}: {}", stderr(&o));
}

fn state(engine: &str, name: &str) -> String {
    let o = Command::new("docker")
        .env("DOCKER_HOST", engine)
        .args([
            "inspect",
            "-f",
            "{{.Id}} {{.State.StartedAt}} {{.State.Running}}",
            name,
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

#[test]
fn two_runs_at_once_take_turns_and_a_wait_is_bounded() {
    let _turn = engines_turn();
    let engines = engines();
    ensure_images(&engines[0], &["cron", "kolla-toolbox"]);
    for c in ["cron", "kolla_toolbox"] {
        let _ = Command::new("docker")
            .env("DOCKER_HOST", &engines[0])
            .args(["rm", "-f", c])
            .output();
    }
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    site_inputs(dir.path(), &["node1"], &standin_globals());
    site_inventory(
        dir.path(),
        "common",
        &[("node1", &engines[0], "")],
        &["cron", "kolla-toolbox", "kolla_toolbox"],
    );
    let deploy = site_args(
        dir.path(),
        "deploy",
        "cron,kolla-toolbox",
        &["--output", "json"],
    );
    let snapshot = || -> Vec<String> {
        ["cron", "kolla_toolbox"]
            .iter()
            .map(|c| state(&engines[0], c))
            .collect()
    };

    // the first run acts (it holds the lock by then), and is frozen in the middle
    let (mut first, first_out) = spawn_read(&mut kollars_in(home.path(), &deploy));
    let (_, line) = first_out
        .recv_timeout(Duration::from_secs(60))
        .expect("the first run reported nothing");
    signal(&first, "-STOP");
    // what the engine was already asked lands: until nothing has changed for 3 s (a loaded
    // vfs engine can take seconds to create what the frozen run asked for before it froze)
    let mut frozen = snapshot();
    let mut still = Instant::now();
    let settling = Instant::now();
    while still.elapsed() < Duration::from_secs(3) && settling.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(500));
        let now = snapshot();
        if now != frozen {
            frozen = now;
            still = Instant::now();
        }
    }

    // a second run of the same inputs waits, and acts on nothing meanwhile
    let (mut second, second_out) = spawn_read(&mut kollars_in(home.path(), &deploy));
    // a third gives up after its timeout, naming the lock and the run that holds it
    let started = Instant::now();
    let third = kollars_in(
        home.path(),
        &site_args(
            dir.path(),
            "restart",
            "cron",
            &["cron", "--lock-timeout", "1"],
        ),
    )
    .output()
    .unwrap();
    let waited = started.elapsed();
    std::thread::sleep(Duration::from_secs(2));
    let mut during = Vec::new();
    while let Ok((_, l)) = second_out.try_recv() {
        during.push(l);
    }
    let second_running = second.try_wait().unwrap().is_none();
    let after = snapshot();
    signal(&first, "-CONT");
    let first_status = first.wait().unwrap();
    let first_done = Instant::now();
    let second_status = second.wait().unwrap();
    let mut second_err = String::new();
    std::io::Read::read_to_string(&mut second.stderr.take().unwrap(), &mut second_err).unwrap();

    assert!(
        first_status.success(),
        "first run failed (its first event: {line})"
    );
    assert!(second_running, "the second run did not wait: {second_err}");
    assert!(
        during.is_empty(),
        "the second run acted while the first held the lock: {during:?}"
    );
    assert_eq!(
        after, frozen,
        "containers changed while the first run was frozen"
    );
    assert!(second_status.success(), "{second_err}");
    assert!(
        second_err.contains("waiting for another kollars run"),
        "{second_err}"
    );
    for (at, l) in second_out.try_iter() {
        assert!(
            at >= first_done,
            "the second run acted before the first ended: {l}"
        );
    }

    let third_err = stderr(&third);
    assert_eq!(third.status.code(), Some(1), "{third_err}");
    assert!(
        waited < Duration::from_secs(20),
        "the timeout of 1 s took {waited:?}"
    );
    assert!(third_err.contains("--lock-timeout"), "{third_err}");
    assert!(
        third_err.contains(&format!("pid {}", first.id())),
        "the other run's pid not named: {third_err}"
    );
    let lock_dir = home.path().join(".local/state/kollars");
    assert!(
        third_err.contains(&lock_dir.display().to_string()),
        "the lock not named: {third_err}"
    );
}

/// A run whose only host's engine does not exist: it takes the lock, then fails its host.
fn unreachable_site(dir: &Path) -> Vec<String> {
    site_inputs(dir, &["node1"], &standin_globals());
    site_inventory(
        dir,
        "common",
        &[("node1", "unix:///nonexistent/docker.sock", "")],
        &["cron"],
    );
    site_args(dir, "restart", "cron", &["cron"])
}

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
}

#[test]
fn the_lock_lives_where_only_its_user_reaches_it() {
    let dir = tempfile::tempdir().unwrap();
    let args = unreachable_site(dir.path());

    // under ~/.local/state/kollars, 0700, the lock file 0600
    let home = tempfile::tempdir().unwrap();
    let o = kollars_in(home.path(), &args).output().unwrap();
    assert!(stderr(&o).contains("nonexistent"), "{}", stderr(&o));
    let lock_dir = home.path().join(".local/state/kollars");
    assert_eq!(mode(&lock_dir), 0o700);
    // beside it the run history (the run is recorded): 0700, its record 0600
    let runs = lock_dir.join("runs");
    assert_eq!(mode(&runs), 0o700);
    let records: Vec<_> = std::fs::read_dir(&runs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(mode(&records[0]), 0o600);
    let locks: Vec<_> = std::fs::read_dir(&lock_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| *p != runs)
        .collect();
    assert_eq!(locks.len(), 1, "{locks:?}");
    assert!(
        locks[0].extension().is_some_and(|e| e == "lock"),
        "{locks:?}"
    );
    assert_eq!(mode(&locks[0]), 0o600);

    // in $XDG_RUNTIME_DIR/kollars when there is one
    let runtime = tempfile::tempdir().unwrap();
    std::fs::set_permissions(runtime.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let o = kollars_in(home.path(), &args)
        .env("XDG_RUNTIME_DIR", runtime.path())
        .output()
        .unwrap();
    assert!(stderr(&o).contains("nonexistent"), "{}", stderr(&o));
    assert_eq!(mode(&runtime.path().join("kollars")), 0o700);

    // a lock directory anyone may write to is made private again
    std::fs::set_permissions(&lock_dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let o = kollars_in(home.path(), &args).output().unwrap();
    assert!(stderr(&o).contains("nonexistent"), "{}", stderr(&o));
    assert_eq!(mode(&lock_dir), 0o700);

    // a lock file that is a symlink is refused, and not followed
    let target = home.path().join("elsewhere");
    let link = home.path().join("link.lock");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let o = kollars_in(home.path(), &args)
        .env("KOLLARS_LOCK_FILE", &link)
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains(&link.display().to_string()), "{err}");
    assert!(err.contains("symlink"), "{err}");
    assert!(
        !err.contains("nonexistent"),
        "acted despite the refused lock: {err}"
    );
    assert!(!target.exists(), "the symlink was followed");

    // a lock file or lock directory of another user is refused
    if std::fs::metadata("/proc/self").unwrap().uid() != 0 {
        eprintln!("skipped: files of another user need root");
        return;
    }
    let foreign = home.path().join("foreign.lock");
    std::fs::write(&foreign, "").unwrap();
    std::os::unix::fs::chown(&foreign, Some(65534), Some(65534)).unwrap();
    let o = kollars_in(home.path(), &args)
        .env("KOLLARS_LOCK_FILE", &foreign)
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains(&foreign.display().to_string()), "{err}");
    assert!(err.contains("owned by uid 65534"), "{err}");
    std::os::unix::fs::chown(&lock_dir, Some(65534), Some(65534)).unwrap();
    let o = kollars_in(home.path(), &args).output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains(&lock_dir.display().to_string()), "{err}");
    assert!(err.contains("owned by uid 65534"), "{err}");
}
