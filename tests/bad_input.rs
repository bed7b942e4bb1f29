//! Each kind of bad input fails with exit code 2, a message naming the file and line (or
//! host, service, variable), and writes nothing.

use std::path::Path;

mod hostile;

use crate::util::{
    copy_tree, engines, engines_turn, files_under, genconfig, kollars, reference, site_args,
    site_inputs, site_inventory, stderr, IMAGE_NAMESPACE, IMAGE_TAG,
};

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

/// kolla-ansible's octavia auto-configuration asks a running cloud for the amphorae's
/// network, security group and flavor; kollars says so and what to set instead.
#[test]
fn octavia_auto_configure_is_refused_with_what_to_set() {
    let c = Case::new();
    c.append("globals.yml", "\nenable_octavia: \"yes\"\n");
    c.fails_with(
        &["-t", "octavia"],
        &[
            "octavia-api",
            "octavia_auto_configure",
            "octavia_amp_boot_network_list",
        ],
    );
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

/// `(id, StartedAt)` of every container `deploy -t cron,kolla-toolbox` manages, on `engines`.
fn lifecycle_containers(engines: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for e in engines {
        for name in ["cron", "kolla_toolbox"] {
            let o = std::process::Command::new("docker")
                .env("DOCKER_HOST", e)
                .args(["inspect", "-f", "{{.Id}} {{.State.StartedAt}}", name])
                .output()
                .expect("run docker");
            out.push(format!(
                "{e} {name}: {}",
                String::from_utf8_lossy(&o.stdout).trim()
            ));
        }
    }
    out
}

#[test]
fn unknown_docker_restart_policy_names_host_and_variable_and_changes_nothing() {
    // the lifecycle test (tests/deploy.rs) deploys the same containers on the same engines
    let _turn = engines_turn();
    let engines = engines();
    let dir = tempfile::tempdir().unwrap();
    site_inputs(
        dir.path(),
        &["node1", "node2"],
        &format!(
            "kolla_base_distro: debian\ndocker_registry: \"\"\ndocker_namespace: {IMAGE_NAMESPACE}\n\
             openstack_tag: {IMAGE_TAG}\nnetwork_interface: eth0\n\
             kolla_internal_vip_address: 192.0.2.250\nkollars_privileged_containers: false\n\
             docker_restart_policy: sometimes\n"
        ),
    );
    site_inventory(
        dir.path(),
        "common",
        &[("node1", &engines[0], ""), ("node2", &engines[1], "")],
        &["cron", "kolla-toolbox", "kolla_toolbox"],
    );
    let before = lifecycle_containers(&engines[..2]);
    for cmd in ["deploy", "reconfigure"] {
        let o = kollars(site_args(dir.path(), cmd, "cron,kolla-toolbox", &[]));
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{cmd}: {err}");
        for needle in [
            "node1",
            "docker_restart_policy",
            "`sometimes`",
            "unless-stopped",
        ] {
            assert!(
                err.contains(needle),
                "{cmd}: {needle:?} missing from: {err}"
            );
        }
    }
    assert_eq!(
        lifecycle_containers(&engines[..2]),
        before,
        "containers changed"
    );
    for h in ["node1", "node2"] {
        let etc = dir.path().join(format!("etc-{h}"));
        assert!(
            files_under(&etc).is_empty(),
            "configs written to {}",
            etc.display()
        );
    }
}

/// `kollars plan -t placement` on the reference inputs changed by `edit`, through an engine
/// that does not exist (bad input stops the run before any engine is used).
fn plan_placement(edit: impl Fn(&Case)) -> std::process::Output {
    let c = Case::new();
    c.append(
        "globals.yml",
        "\nkollars_engine: unix:///nonexistent/kollars-bad-input.sock\n",
    );
    edit(&c);
    kollars([
        "plan",
        "-i",
        &c.path("inventory").display().to_string(),
        "--configdir",
        &c.dir.path().display().to_string(),
        "--facts",
        &c.path("facts").display().to_string(),
        "-t",
        "placement",
    ])
}

#[test]
fn a_bad_registration_in_keystone_names_host_service_and_key_never_a_value() {
    let admin = "6pg7xCicq8b1HTYCv87YKmdRssokpsarU02MnUDr"; // keystone_admin_password
                                                            // placement's keystone user without a password
    let o = plan_placement(|c| {
        let text = std::fs::read_to_string(c.path("passwords.yml")).unwrap();
        let text: String = text
            .lines()
            .map(|l| match l.starts_with("placement_keystone_password:") {
                true => "placement_keystone_password: \"\"\n".to_owned(),
                false => format!("{l}\n"),
            })
            .collect();
        c.write("passwords.yml", &text);
    });
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    // refused as soon as passwords.yml is read, before any registration is built
    assert!(
        err.contains("passwords.yml: empty password(s) placement_keystone_password"),
        "{err}"
    );
    assert!(!err.contains(admin), "{err}");
    // users that are not a list: the key is named, not what it holds
    let o =
        plan_placement(|c| c.append("globals.yml", "placement_ks_users: \"not-a-list-s3cret\"\n"));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("host localhost, service placement-api: ks_register.users must be a list"),
        "{err}"
    );
    assert!(!err.contains("s3cret") && !err.contains(admin), "{err}");
}
