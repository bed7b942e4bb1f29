//! The healthcheck programs inside a container, against services that really listen.
//!
//! `/proc` and the network namespace are only real in a container; the unit tests in
//! `src/health/` cover the parsing.

use crate::support::{image, text, ConfigDir, Container};

#[test]
fn healthchecks_pass_for_real() {
    let cfg = ConfigDir::new(&serde_json::json!({"command": "nova-conductor"}));
    let c = Container::start(
        &image("nova-conductor"),
        &cfg,
        &[
            "KOLLA_CONFIG_STRATEGY=COPY_ALWAYS",
            "KOLLA_STANDIN=tcp:5672 http:8774 connect:127.0.0.1:5672",
        ],
    );
    c.wait_ok(&["healthcheck_port", "nova-conductor", "5672"]);
    assert_eq!(
        c.code(&["healthcheck_port", "nova-conductor", "567"]),
        1,
        "ports match exactly"
    );
    assert_eq!(
        c.code(&["healthcheck_port", "nova-scheduler", "5672"]),
        1,
        "no such process"
    );
    assert_eq!(
        c.code(&["healthcheck_listen", "nova-conductor", "5672", "8774"]),
        0
    );
    assert_eq!(c.code(&["healthcheck_listen", "nova-conductor", "5673"]), 1);
    assert_eq!(
        c.code(&["healthcheck_listen", "nova-conductor"]),
        2,
        "usage"
    );
    let out = c.ok(&["healthcheck_curl", "http://127.0.0.1:8774/v2.1"]);
    assert!(out.contains("200 127.0.0.1:8774"), "{out}");
    let out = c.exec(&["healthcheck_curl", "http://127.0.0.1:9"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("000"), "{}", text(&out.stdout));
    assert_eq!(
        c.code(&["healthcheck_curl", "https://127.0.0.1:8774"]),
        1,
        "no TLS"
    );
}

#[test]
fn healthcheck_programs_probe_the_service() {
    let cfg = ConfigDir::new(&serde_json::json!({"command": "/usr/bin/mariadbd-safe"}));
    let c = Container::start(
        &image("mariadb-server"),
        &cfg,
        &["KOLLA_CONFIG_STRATEGY=COPY_ALWAYS"],
    );
    let check = [
        "/usr/bin/healthcheck.sh",
        "--defaults-file",
        "/etc/mysql/healthcheck.cnf",
        "--connect",
        "--galera_online",
    ];
    c.wait_ok(&check);
    c.ok(&["healthcheck_listen", "mariadbd", "3306"]);
    drop(c);
    // No stand-in service running: the probe fails.
    cfg.set_config(&serde_json::json!({"command": "sleep 600"}));
    let c = Container::start(
        &image("mariadb-server"),
        &cfg,
        &["KOLLA_CONFIG_STRATEGY=COPY_ALWAYS"],
    );
    c.wait_ok(&["sh", "-c", "ps -o args | grep -q '^sleep 600'"]);
    assert_eq!(c.code(&check), 1);
}
