//! The binary's names, subcommands and argument errors (no container needed).

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_kolla-start");

fn code(args: &[&str]) -> i32 {
    Command::new(BIN)
        .args(args)
        .output()
        .unwrap()
        .status
        .code()
        .unwrap()
}

#[test]
fn subcommands_and_usage_errors() {
    assert_eq!(code(&["--version"]), 0);
    assert_eq!(code(&["--help"]), 0);
    assert_eq!(code(&[]), 2, "no command");
    assert_eq!(code(&["frobnicate"]), 2, "unknown command");
    assert_eq!(
        code(&["set-configs", "--config", "x"]),
        2,
        "argparse-style error"
    );
    assert_eq!(code(&["kolla_set_configs", "-h"]), 0);
    assert_eq!(
        code(&["start", "extra"]),
        2,
        "kolla_start takes no arguments"
    );
    assert_eq!(code(&["healthcheck-listen", "memcached"]), 2, "no port");
    assert_eq!(code(&["healthcheck_port", "x", "notaport"]), 2);
    assert_eq!(
        code(&["healthcheck_curl"]),
        1,
        "curl's wrapper exits 1 on any failure"
    );
}

#[test]
fn dispatches_on_the_name_it_is_called_by() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "kolla_set_configs",
        "healthcheck_listen",
        "healthcheck_curl",
    ] {
        std::os::unix::fs::symlink(BIN, dir.path().join(name)).unwrap();
    }
    let run = |name: &str, args: &[&str]| {
        let out = Command::new(Path::new(dir.path()).join(name))
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (c, out) = run("kolla_set_configs", &["--help"]);
    assert_eq!(
        (c, out.trim()),
        (0, "usage: kolla_set_configs [-h] [--check]")
    );
    assert_eq!(
        run("healthcheck_listen", &["no-such-process-xyz", "1"]).0,
        1
    );
    assert_eq!(run("healthcheck_curl", &["http://127.0.0.1:9"]).0, 1);
}
