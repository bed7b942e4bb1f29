//! A host reached only over TCP with TLS: a dockerd started by `scripts/engines.sh` in its own
//! network namespace with `--tlsverify` (`KOLLARS_ENGINE_TLS`), listening on that namespace's
//! 127.0.0.1:2376, with certificates this test makes with openssl (`tests/tls/pki.sh`). kollars
//! runs inside the namespace (nsenter), so nothing leaves it; the test watches the containers
//! through the engine's unix socket.
//!
//! The lifecycle through `tcp://` + `kollars_engine_tls_dir` (deploy, a no-op reconfigure, an
//! override restarting exactly its container, check, destroy), and every way the TLS material
//! can be wrong (another CA, an expired client certificate, a key that is not the
//! certificate's, a client certificate of another CA, plain TCP): a clear error naming host
//! and endpoint, nothing changed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::util::{
    check_rows, docker, engine_pid, ensure_images, files_under, kollars_in_netns, planned_changes,
    root, site_args, site_inputs, site_inventory, standin_globals, states, stderr, turn,
};

const TAGS: &str = "cron,kolla-toolbox";
const CONTAINERS: [&str; 2] = ["cron", "kolla_toolbox"];
/// The engine's TLS endpoint, inside its network namespace.
const ENDPOINT: &str = "tcp://127.0.0.1:2376";

/// The TLS engine: its unix socket (for the test's own looks), its dockerd's pid (whose network
/// namespace kollars runs in) and its PKI directory (the CA that signs client certificates).
struct TlsEngine {
    unix: String,
    pid: u32,
    pki: PathBuf,
}

fn pki(args: &[&str]) {
    let o = Command::new(root().join("tests/tls/pki.sh"))
        .args(args)
        .output()
        .expect("run tests/tls/pki.sh (openssl)");
    assert!(o.status.success(), "pki.sh {args:?}: {}", stderr(&o));
}

/// Starts (or reuses) the TLS engine in `${KOLLARS_ENGINES_DIR:-/tmp/kollars-engines}-tls`, its
/// CA and server certificate made there the first time (a reused engine keeps them).
fn tls_engine() -> TlsEngine {
    let base = std::env::var("KOLLARS_ENGINES_DIR").unwrap_or("/tmp/kollars-engines".into());
    let dir = PathBuf::from(format!("{base}-tls"));
    let pki_dir = dir.join("pki");
    if !pki_dir.join("server-cert.pem").is_file() {
        let new = dir.join("pki.new");
        let _ = std::fs::remove_dir_all(&new);
        let n = new.display().to_string();
        pki(&["ca", &n]);
        pki(&["server", &n, &n, "127.0.0.1"]);
        std::fs::rename(&new, &pki_dir).unwrap();
    }
    let o = Command::new(root().join("scripts/engines.sh"))
        .env("KOLLARS_ENGINE_TLS", &pki_dir)
        .arg("up")
        .arg("1")
        .arg(&dir)
        .output()
        .expect("run scripts/engines.sh");
    assert!(o.status.success(), "engines.sh: {}", stderr(&o));
    let unix = String::from_utf8_lossy(&o.stdout).trim().to_owned();
    TlsEngine {
        pid: engine_pid(&unix),
        unix,
        pki: pki_dir,
    }
}

/// (id, StartedAt, running) of each test container, `None` when missing.
fn snapshot(engine: &str) -> Vec<Option<String>> {
    states(engine, &CONTAINERS)
}

/// Every file under `dir` with its bytes.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    files_under(dir)
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(dir.join(&f)).unwrap();
            (f, bytes)
        })
        .collect()
}

struct Site {
    dir: tempfile::TempDir,
    pid: u32,
}

impl Site {
    /// A one-host site whose host is reached at [`ENDPOINT`] with the TLS files of `tls` (none:
    /// plain TCP).
    fn new(pid: u32, tls: Option<&Path>) -> Site {
        let dir = tempfile::tempdir().unwrap();
        site_inputs(dir.path(), &["node1"], &standin_globals());
        let extra = tls
            .map(|t| format!("kollars_engine_tls_dir={}", t.display()))
            .unwrap_or_default();
        site_inventory(
            dir.path(),
            "common",
            &[("node1", ENDPOINT, &extra)],
            &["cron", "kolla-toolbox", "kolla_toolbox"],
        );
        Site { dir, pid }
    }

    fn run(&self, cmd: &str, extra: &[&str]) -> Output {
        kollars_in_netns(self.pid, site_args(self.dir.path(), cmd, TAGS, extra))
    }

    fn ok(&self, cmd: &str, extra: &[&str]) -> Output {
        let o = self.run(cmd, extra);
        assert!(
            o.status.success(),
            "kollars {cmd} {extra:?} failed ({:?}): {}\n{}",
            o.status.code(),
            stderr(&o),
            String::from_utf8_lossy(&o.stdout)
        );
        o
    }

    fn etc(&self) -> PathBuf {
        self.dir.path().join("etc-node1")
    }

    fn plan_is_empty(&self) {
        let o = self.ok("plan", &[]);
        assert_eq!(
            planned_changes(&o),
            0,
            "{}",
            String::from_utf8_lossy(&o.stdout)
        );
    }
}

#[test]
fn lifecycle_over_tcp_with_tls_and_every_wrong_certificate_refused() {
    let _turn = turn("kollars-tls-engine-test.lock");
    let engine = tls_engine();
    ensure_images(&engine.unix, &["cron", "kolla-toolbox"]);
    for c in CONTAINERS {
        let _ = docker(&engine.unix, &["rm", "-f", c]);
    }
    let certs = tempfile::tempdir().unwrap();
    let client = |name: &str, extra: &[&str]| -> PathBuf {
        let out = certs.path().join(name);
        let mut args = vec![
            "client",
            engine.pki.to_str().unwrap(),
            out.to_str().unwrap(),
        ];
        args.extend(extra);
        pki(&args);
        out
    };
    let good = client("good", &[]);
    let site = Site::new(engine.pid, Some(&good));

    // deploy over TLS: both running, their files written through the engine
    let started = std::time::Instant::now();
    site.ok("deploy", &[]);
    eprintln!("tls deploy: {:.1}s", started.elapsed().as_secs_f64());
    let first = snapshot(&engine.unix);
    assert!(
        first
            .iter()
            .all(|s| s.as_deref().is_some_and(|s| s.ends_with(" true"))),
        "not all running: {first:?}"
    );
    assert!(
        site.etc().join("cron/config.json").is_file(),
        "{:?}",
        files_under(&site.etc())
    );

    // a second run is a no-op
    site.plan_is_empty();
    let started = std::time::Instant::now();
    site.ok("reconfigure", &[]);
    eprintln!(
        "tls no-op reconfigure: {:.2}s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(
        snapshot(&engine.unix),
        first,
        "a no-op reconfigure changed containers"
    );

    // an override is pending: every wrong way of reaching the engine fails, naming host and
    // endpoint, and changes nothing (neither containers nor files)
    let over = site
        .dir
        .path()
        .join("config/config/cron/cron-logrotate-global.conf");
    std::fs::create_dir_all(over.parent().unwrap()).unwrap();
    std::fs::write(&over, "daily\nrotate 3\n").unwrap();
    let files = tree(&site.etc());
    let other_ca = certs.path().join("other-ca");
    pki(&["ca", other_ca.to_str().unwrap()]);
    let wrong_ca = client("wrong-ca", &[]);
    std::fs::copy(other_ca.join("ca.pem"), wrong_ca.join("ca.pem")).unwrap();
    let expired = client("expired", &["expired"]);
    let mismatched = client("mismatched", &[]);
    std::fs::copy(
        client("spare", &[]).join("key.pem"),
        mismatched.join("key.pem"),
    )
    .unwrap();
    let untrusted = certs.path().join("untrusted");
    pki(&[
        "client",
        other_ca.to_str().unwrap(),
        untrusted.to_str().unwrap(),
    ]);
    std::fs::copy(engine.pki.join("ca.pem"), untrusted.join("ca.pem")).unwrap();
    let cases: [(&str, &Path, &str); 4] = [
        (
            "a CA that did not sign the engine's certificate",
            &wrong_ca,
            "not signed by the CA in",
        ),
        (
            "an expired client certificate",
            &expired,
            "expired on 2020-01-02 00:00:00 UTC",
        ),
        (
            "a key that is not the certificate's",
            &mismatched,
            "key.pem is not the key of",
        ),
        (
            "a client certificate the engine's CA did not sign",
            &untrusted,
            "not signed by a CA the engine trusts",
        ),
    ];
    for (what, dir, hint) in cases {
        let bad = Site::new(engine.pid, Some(dir));
        copy_config(&site, &bad);
        let o = bad.run("reconfigure", &[]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{what}: {err}");
        assert!(
            err.contains("node1") && err.contains(ENDPOINT) && err.contains(hint),
            "{what}: names host, endpoint and the file to look at: {err}"
        );
        assert_eq!(snapshot(&engine.unix), first, "{what}: containers changed");
        assert!(
            !bad.etc().exists(),
            "{what}: files written: {:?}",
            files_under(&bad.etc())
        );
    }
    // plain TCP to the TLS port: refused before connecting, as bad input
    let plain = Site::new(engine.pid, None);
    copy_config(&site, &plain);
    let o = plain.run("reconfigure", &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "plain tcp: {err}");
    assert!(
        err.contains("node1") && err.contains(ENDPOINT) && err.contains("TLS"),
        "plain tcp: {err}"
    );
    assert_eq!(
        snapshot(&engine.unix),
        first,
        "plain tcp: containers changed"
    );
    assert_eq!(tree(&site.etc()), files, "files changed");

    // the override restarts exactly cron (same container, new start)
    let o = site.ok("plan", &[]);
    let plan = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(plan.contains("node1: cron: restart"), "{plan}");
    assert_eq!(planned_changes(&o), 1, "{plan}");
    site.ok("reconfigure", &[]);
    let after = snapshot(&engine.unix);
    let id = |s: &Option<String>| s.as_deref().unwrap().split(' ').next().unwrap().to_owned();
    assert_eq!(
        id(&after[0]),
        id(&first[0]),
        "cron recreated, not restarted"
    );
    assert_ne!(after[0], first[0], "cron not restarted");
    assert_eq!(after[1..], first[1..], "kolla_toolbox changed");
    site.plan_is_empty();

    // check: both healthy through TLS
    let o = site.ok("check", &["--output", "json"]);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let rows = check_rows(&o);
    assert_eq!(rows.len(), CONTAINERS.len(), "{out}");
    assert!(rows.iter().all(|r| r["ok"] == true), "{out}");

    // destroy: nothing left
    site.ok("destroy", &["--yes-i-really-really-mean-it"]);
    assert!(
        snapshot(&engine.unix).iter().all(Option::is_none),
        "containers left after destroy"
    );
}

/// Gives `to` the operator's config directory of `from` (globals, passwords, overrides).
fn copy_config(from: &Site, to: &Site) {
    let dst = to.dir.path().join("config");
    std::fs::remove_dir_all(&dst).unwrap();
    crate::util::copy_tree(&from.dir.path().join("config"), &dst);
}
