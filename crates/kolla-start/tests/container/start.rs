//! `kolla_start` as the container's init: extend_start hooks, the one-off commands
//! kolla-ansible runs, and signals reaching the service.
//!
//! These depend on the image's init (dumb-init), sudo shim and scripts, so they run in one.

use std::time::{Duration, Instant};

use crate::support::{docker, image, run_once, text, ConfigDir, Container, CFG};

#[test]
fn bootstrap_runs_its_hook_and_exits_0() {
    let cfg = ConfigDir::new(&serde_json::json!({"command": "false"}));
    let (code, out, err) = run_once(
        &image("keystone"),
        &cfg,
        &["KOLLA_CONFIG_STRATEGY=COPY_ALWAYS", "KOLLA_BOOTSTRAP="],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("keystone: KOLLA_BOOTSTRAP is set"), "{out}");
    assert!(
        !out.contains("Running command"),
        "the command is never reached: {out}"
    );
    // Without the variable the hook falls through and `false` runs and fails.
    let (code, out, _) = run_once(
        &image("keystone"),
        &cfg,
        &["KOLLA_CONFIG_STRATEGY=COPY_ALWAYS"],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Running command: 'false'"), "{out}");
    // KOLLA_SKIP_EXTEND_START skips the hooks.
    let (code, _, _) = run_once(
        &image("keystone"),
        &cfg,
        &[
            "KOLLA_CONFIG_STRATEGY=COPY_ALWAYS",
            "KOLLA_BOOTSTRAP=",
            "KOLLA_SKIP_EXTEND_START=",
        ],
    );
    assert_eq!(code, 1);
}

#[test]
fn kolla_ansible_one_off_commands_run() {
    // As nova's cell tasks and keystone's bootstrap run them: bash -c 'sudo -E kolla_set_configs && ...'.
    let cfg = ConfigDir::new(&serde_json::json!({"command": "nova-manage cell_v2 list_cells"}));
    let mount = cfg.mount();
    let img = image("nova-api");
    let out = docker(&[
        "run",
        "--rm",
        "--network",
        "none",
        "-v",
        &mount,
        "-e",
        "KOLLA_CONFIG_STRATEGY=COPY_ALWAYS",
        &img,
        "bash",
        "-c",
        "sudo -E kolla_set_configs && cat /run_command",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "nova-manage cell_v2 list_cells");
    let out = docker(&[
        "run",
        "--rm",
        "--network",
        "none",
        &img,
        "sudo",
        "-u",
        "nova",
        "true",
    ]);
    assert_eq!(out.status.code(), Some(1), "the shim refuses other users");
}

#[test]
fn run_scripts_find_their_programs_and_stop_promptly() {
    // As haproxy_run.sh and neutron-l3-agent-wrapper.sh: a bash script that runs a program
    // by its path, here without exec, so the script stays the init's child.
    let cfg = ConfigDir::new(&serde_json::json!({
        "command": "/etc/haproxy/haproxy_run.sh",
        "config_files": [{"source": format!("{CFG}/haproxy_run.sh"), "dest": "/etc/haproxy/haproxy_run.sh", "owner": "root", "perm": "0700"}]
    }));
    cfg.write(
        "haproxy_run.sh",
        "#!/bin/bash\nset -o errexit\nset -o pipefail\n/usr/sbin/haproxy -W -db -f /etc/haproxy/haproxy.cfg\n",
    );
    let c = Container::start(
        &image("haproxy"),
        &cfg,
        &["KOLLA_CONFIG_STRATEGY=COPY_ALWAYS"],
    );
    c.wait_ok(&["healthcheck_curl", "http://127.0.0.1:61313"]);
    c.ok(&["healthcheck_listen", "haproxy", "61313"]);
    let ps = c.ok(&["ps", "-o", "pid,args"]);
    assert!(
        ps.contains("1 dumb-init --single-child -- kolla_start"),
        "{ps}"
    );
    let started = Instant::now();
    assert!(docker(&["stop", "-t", "30", &c.id]).status.success());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the init forwards SIGTERM to the script"
    );
}
