//! Each kind of bad input fails with exit code 2, a message naming the file and line (or
//! host, service, variable), and writes nothing.

use std::path::Path;

use crate::util::{copy_tree, files_under, genconfig, kollars, reference, stderr};

struct Case {
    dir: tempfile::TempDir,
}

impl Case {
    /// A copy of the reference inputs that a test can break.
    fn new() -> Case {
        let dir = tempfile::tempdir().unwrap();
        copy_tree(&reference().join("inputs"), dir.path());
        Case { dir }
    }
    fn path(&self, rel: &str) -> std::path::PathBuf {
        self.dir.path().join(rel)
    }
    fn write(&self, rel: &str, text: &str) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    fn append(&self, rel: &str, text: &str) {
        let mut s = std::fs::read_to_string(self.path(rel)).unwrap_or_default();
        s.push_str(text);
        self.write(rel, &s);
    }
    /// Runs genconfig; asserts exit code 2, that stderr contains every needle, and that
    /// nothing was written.
    fn fails_with(&self, extra: &[&str], needles: &[&str]) {
        let out = self.dir.path().join("out");
        let o = genconfig(
            &self.path("inventory"),
            self.dir.path(),
            &self.path("facts"),
            &out,
            extra,
        );
        let err = stderr(&o);
        assert_eq!(
            o.status.code(),
            Some(2),
            "expected exit 2, got {:?}: {err}",
            o.status.code()
        );
        for n in needles {
            assert!(err.contains(n), "error should mention {n:?}: {err}");
        }
        assert!(
            files_under(&out).is_empty(),
            "files were written despite the error"
        );
    }
}

#[test]
fn malformed_yaml_globals_names_file_and_line() {
    let c = Case::new();
    c.append("globals.yml", "\nbroken: [1, 2\nother: 3\n");
    c.fails_with(&[], &["globals.yml:", "malformed YAML"]);
}

#[test]
fn malformed_ini_inventory_names_file_and_line() {
    let c = Case::new();
    c.write(
        "inventory",
        "[control]\nlocalhost ansible_connection=local\n[compute\n",
    );
    c.fails_with(&[], &["inventory:3", "section header"]);
}

#[test]
fn malformed_yaml_inventory_names_file() {
    let c = Case::new();
    c.write(
        "inventory.yml",
        "all:\n  children:\n    control:\n      hosts: [oops\n",
    );
    let out = c.dir.path().join("out");
    let o = genconfig(
        &c.path("inventory.yml"),
        c.dir.path(),
        &c.path("facts"),
        &out,
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("inventory.yml"), "{}", stderr(&o));
    assert!(files_under(&out).is_empty());
}

#[test]
fn undefined_variable_is_named() {
    let c = Case::new();
    c.append(
        "globals.yml",
        "\nopenstack_release: \"{{ no_such_variable }}\"\n",
    );
    c.fails_with(&["-t", "cron"], &["no_such_variable", "localhost", "cron"]);
}

#[test]
fn variable_cycle_is_named() {
    let c = Case::new();
    c.append(
        "globals.yml",
        "\nopenstack_release: \"{{ loop_b }}\"\nloop_b: \"{{ openstack_release }}\"\n",
    );
    c.fails_with(
        &["-t", "cron"],
        &["cycle", "openstack_release -> loop_b -> openstack_release"],
    );
}

#[test]
fn missing_password_is_named() {
    let c = Case::new();
    // rabbitmq's password feeds every transport_url; without it those services cannot render.
    let text = std::fs::read_to_string(c.path("passwords.yml")).unwrap();
    let kept: String = text
        .lines()
        .filter(|l| !l.starts_with("rabbitmq_password:"))
        .map(|l| format!("{l}\n"))
        .collect();
    c.write("passwords.yml", &kept);
    c.fails_with(&[], &["rabbitmq_password"]);
}

#[test]
fn unknown_service_in_tags() {
    let c = Case::new();
    c.fails_with(&["-t", "no-such-service"], &["no-such-service"]);
}

#[test]
fn unknown_host_in_limit() {
    let c = Case::new();
    c.fails_with(&["--limit", "ghost01"], &["ghost01"]);
}

#[test]
fn bad_override_ini_names_file_and_line() {
    let c = Case::new();
    c.write(
        "config/global.conf",
        "[DEFAULT]\ndebug = True\nthis line has no equals\n",
    );
    c.fails_with(&[], &["global.conf", "line 3"]);
}

#[test]
fn unreadable_configdir() {
    let c = Case::new();
    let out = c.dir.path().join("out");
    let missing = Path::new("/nonexistent/kollars-configdir");
    let o = genconfig(&c.path("inventory"), missing, &c.path("facts"), &out, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("/nonexistent/kollars-configdir"),
        "{}",
        stderr(&o)
    );
    assert!(files_under(&out).is_empty());
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    let o = kollars(["frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
}
