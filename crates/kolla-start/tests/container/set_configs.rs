//! `kolla_set_configs` in a real image: files land with their owner and mode, `--check`,
//! COPY_ONCE, and bad configs refused before anything is touched.
//!
//! The unit tests cover the rules on a temporary root; only a container shows the real users,
//! groups and mounts an image gives them.

use std::time::{Duration, Instant};

use crate::support::{docker, image, run_once, text, ConfigDir, Container, CFG};

#[test]
fn files_land_with_owner_and_mode_and_the_command_runs() {
    let command = "sh -c 'echo \"$0 ran\" > /tmp/ran; exec sleep 600' started";
    let cfg = ConfigDir::new(&serde_json::json!({
        "command": command,
        "config_files": [
            {"source": format!("{CFG}/nova.conf"), "dest": "/etc/nova/nova.conf", "owner": "nova", "perm": "0640"},
            {"source": format!("{CFG}/api-paste.ini"), "dest": "/etc/nova/", "owner": "nova:kolla", "perm": "644"},
            {"source": format!("{CFG}/policy"), "dest": "/etc/nova/policy", "owner": "nova", "perm": "0600"},
            {"source": format!("{CFG}/nothing-*"), "dest": "/etc/nova/", "owner": "nova", "perm": "0600", "optional": true}
        ],
        "directories": [{"path": "/var/log/kolla/nova", "owner": "nova:kolla", "perm": "2775"}],
        "permissions": [{"path": "/var/lib/nova", "owner": "nova:nova", "perm": "0750", "recurse": true}]
    }));
    cfg.write("nova.conf", "[DEFAULT]\ndebug = True\n");
    cfg.write("api-paste.ini", "[composite:osapi_compute]\n");
    cfg.write("policy/sub/rules.yaml", "{}\n");
    let c = Container::start(&image("base"), &cfg, &["KOLLA_CONFIG_STRATEGY=COPY_ALWAYS"]);
    c.wait_ok(&["test", "-s", "/tmp/ran"]);
    assert_eq!(
        c.ok(&["cat", "/tmp/ran"]),
        "started ran\n",
        "quotes in the command are honoured"
    );
    assert_eq!(
        c.ok(&["cat", "/run_command"]),
        command,
        "no trailing newline"
    );
    assert_eq!(c.stat("/run_command"), "0:0 644");
    assert_eq!(
        c.ok(&["cat", "/proc/1/cmdline"]),
        "sleep\u{0}600\u{0}",
        "the command replaced kolla_start as PID 1"
    );
    assert_eq!(
        c.ok(&["cat", "/etc/nova/nova.conf"]),
        "[DEFAULT]\ndebug = True\n"
    );
    assert_eq!(c.stat("/etc/nova/nova.conf"), "42436:42436 640");
    assert_eq!(c.stat("/etc/nova/api-paste.ini"), "42436:42400 644");
    assert_eq!(c.stat("/etc/nova/policy"), "42436:42436 700");
    assert_eq!(c.stat("/etc/nova/policy/sub"), "42436:42436 700");
    assert_eq!(c.stat("/etc/nova/policy/sub/rules.yaml"), "42436:42436 600");
    assert_eq!(c.stat("/var/log/kolla/nova"), "42436:42400 2775");
    assert_eq!(
        c.stat("/var/log/kolla"),
        "0:42400 2775",
        "base image: root:kolla 2775"
    );
    assert_eq!(
        c.code(&["test", "-e", "/var/lib/nova"]),
        1,
        "permissions skip missing paths"
    );
    assert_eq!(c.code(&["kolla_set_configs", "--check"]), 0);
}

#[test]
fn check_reports_0_then_1_after_a_config_change() {
    let config = |command: &str| {
        serde_json::json!({
            "command": command,
            "config_files": [
                {"source": format!("{CFG}/keystone.conf"), "dest": "/etc/keystone/keystone.conf", "owner": "keystone", "perm": "0600"},
                {"source": format!("{CFG}/domains"), "dest": "/etc/keystone/domains", "owner": "keystone", "perm": "0600"}
            ]
        })
    };
    let cfg = ConfigDir::new(&config("/usr/sbin/apache2 -DFOREGROUND"));
    cfg.write("keystone.conf", "[DEFAULT]\n");
    cfg.write("domains/sub/keystone.ldap.conf", "[ldap]\n");
    let c = Container::start(
        &image("keystone"),
        &cfg,
        &["KOLLA_CONFIG_STRATEGY=COPY_ALWAYS"],
    );
    c.wait_ok(&["healthcheck_curl", "http://127.0.0.1:5000"]);
    assert_eq!(
        c.code(&["kolla_set_configs", "--check"]),
        0,
        "unchanged, sub-directories included"
    );

    cfg.write("keystone.conf", "[DEFAULT]\ndebug = True\n");
    let out = c.exec(&["kolla_set_configs", "--check"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("/etc/keystone/keystone.conf"),
        "{}",
        text(&out.stderr)
    );

    // A restart applies the change (COPY_ALWAYS), and the check is clean again.
    let started = Instant::now();
    assert!(docker(&["restart", &c.id]).status.success());
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "the stand-in stops on SIGTERM"
    );
    c.wait_ok(&["healthcheck_curl", "http://127.0.0.1:5000"]);
    assert_eq!(
        c.ok(&["cat", "/etc/keystone/keystone.conf"]),
        "[DEFAULT]\ndebug = True\n"
    );
    assert_eq!(c.code(&["kolla_set_configs", "--check"]), 0);

    cfg.set_config(&config("/usr/sbin/apache2 -DFOREGROUND -X"));
    assert_eq!(
        c.code(&["kolla_set_configs", "--check"]),
        1,
        "the command changed"
    );
    cfg.set_config(&serde_json::json!({"command": "x", "config_files": [{"source": "/nope", "dest": "/x", "owner": "nobody-here", "perm": "0600"}]}));
    assert_eq!(
        c.code(&["kolla_set_configs", "--check"]),
        2,
        "bad config is an error, not a change"
    );
}

#[test]
fn copy_once_keeps_the_first_copy() {
    let cfg = ConfigDir::new(&serde_json::json!({
        "command": "/usr/bin/memcached -vv -p 11211",
        "config_files": [{"source": format!("{CFG}/memcached.conf"), "dest": "/etc/memcached.conf", "owner": "memcached", "perm": "0600"}]
    }));
    cfg.write("memcached.conf", "first\n");
    let c = Container::start(
        &image("memcached"),
        &cfg,
        &["KOLLA_CONFIG_STRATEGY=COPY_ONCE"],
    );
    c.wait_ok(&["healthcheck_listen", "memcached", "11211"]);
    assert_eq!(c.stat("/configured"), "0:0 600");
    cfg.write("memcached.conf", "second\n");
    assert!(docker(&["restart", &c.id]).status.success());
    c.wait_ok(&["healthcheck_listen", "memcached", "11211"]);
    assert_eq!(c.ok(&["cat", "/etc/memcached.conf"]), "first\n");
    assert!(c
        .logs()
        .contains("ImmutableConfig: The config strategy prevents copying new configs"));
    assert_eq!(c.stat("/etc/memcached.conf"), "42457:42457 600");
}

#[test]
fn bad_config_exits_2_naming_the_entry() {
    let cfg = ConfigDir::new(&serde_json::json!({
        "command": "sleep 600",
        "config_files": [
            {"source": format!("{CFG}/a.conf"), "dest": "/etc/a.conf", "owner": "root", "perm": "0600"},
            {"source": format!("{CFG}/a.conf"), "dest": "/etc/b.conf", "owner": "nosuchuser", "perm": "0600"}
        ]
    }));
    cfg.write("a.conf", "a\n");
    let (code, _, err) = run_once(&image("base"), &cfg, &["KOLLA_CONFIG_STRATEGY=COPY_ALWAYS"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("config_files[1]") && err.contains("unknown user \"nosuchuser\""),
        "{err}"
    );
    cfg.write("config.json", "{\"command\": ");
    let (code, _, err) = run_once(&image("base"), &cfg, &["KOLLA_CONFIG_STRATEGY=COPY_ALWAYS"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("Invalid json file found at /var/lib/kolla/config_files/config.json"),
        "{err}"
    );
    let (code, _, err) = run_once(&image("base"), &cfg, &[]);
    assert_eq!(code, 2, "{err}");
}
