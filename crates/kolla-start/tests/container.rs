//! In-container tests: the local image chain (images/build.sh) on a real Docker engine.
//!
//! The engine is `KOLLARS_TEST_DOCKER_HOST` when set, else the one `scripts/engines.sh up 1`
//! starts or reuses. The images are built once per run as `kollars-test/*:kstart` (cached
//! builds take seconds); set `KOLLA_START_BIN_DIR` to a directory holding static
//! `kolla-start` and `kolla-standin` binaries to skip the cargo build inside build.sh.
//! There is no skipping: without an engine these tests fail.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const NS: &str = "kollars-test";
const TAG: &str = "kstart";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The engine address, with the images built.
fn docker_host() -> &'static str {
    static HOST: OnceLock<String> = OnceLock::new();
    HOST.get_or_init(|| {
        let host = match std::env::var("KOLLARS_TEST_DOCKER_HOST") {
            Ok(h) if !h.is_empty() => h,
            _ => {
                let out = Command::new(repo().join("scripts/engines.sh"))
                    .args(["up", "1"])
                    .output()
                    .expect("run scripts/engines.sh");
                assert!(
                    out.status.success(),
                    "engines.sh: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                String::from_utf8(out.stdout)
                    .unwrap()
                    .lines()
                    .next()
                    .expect("an engine address")
                    .to_string()
            }
        };
        let mut build = Command::new(repo().join("images/build.sh"));
        build
            .args(["--namespace", NS, "--tag", TAG])
            .env("DOCKER_HOST", &host);
        if let Ok(dir) = std::env::var("KOLLA_START_BIN_DIR") {
            build.args(["--bin-dir", &dir]);
        }
        let out = build.output().expect("run images/build.sh");
        assert!(
            out.status.success(),
            "images/build.sh failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        host
    })
}

fn image(name: &str) -> String {
    format!("{NS}/{name}:{TAG}")
}

fn docker(args: &[&str]) -> Output {
    Command::new("docker")
        .args(args)
        .env("DOCKER_HOST", docker_host())
        .output()
        .expect("run docker")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A config directory as kolla-ansible renders it, mounted read-only.
struct ConfigDir {
    dir: tempfile::TempDir,
}

impl ConfigDir {
    fn new(config: &serde_json::Value) -> ConfigDir {
        let dir = tempfile::tempdir().unwrap();
        fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let c = ConfigDir { dir };
        c.set_config(config);
        c
    }
    fn write(&self, name: &str, content: &str) {
        let p = self.dir.path().join(name);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, content).unwrap();
    }
    fn set_config(&self, config: &serde_json::Value) {
        self.write(
            "config.json",
            &serde_json::to_string_pretty(config).unwrap(),
        );
    }
    fn mount(&self) -> String {
        format!(
            "{}:/var/lib/kolla/config_files:ro",
            self.dir.path().display()
        )
    }
}

/// A running container, removed on drop.
struct Container {
    id: String,
}

impl Container {
    fn start(img: &str, cfg: &ConfigDir, env: &[&str]) -> Container {
        let mount = cfg.mount();
        let mut args = vec!["run", "-d", "--network", "none", "-v", &mount];
        for e in env {
            args.extend(["-e", e]);
        }
        args.push(img);
        let out = docker(&args);
        assert!(out.status.success(), "docker run: {}", text(&out.stderr));
        Container {
            id: text(&out.stdout).trim().to_string(),
        }
    }
    fn exec(&self, cmd: &[&str]) -> Output {
        let mut args = vec!["exec", self.id.as_str()];
        args.extend(cmd);
        docker(&args)
    }
    /// Runs `cmd`, asserting success; returns stdout.
    fn ok(&self, cmd: &[&str]) -> String {
        let out = self.exec(cmd);
        assert!(
            out.status.success(),
            "{cmd:?} failed ({:?}): {}{}\nlogs:\n{}",
            out.status.code(),
            text(&out.stdout),
            text(&out.stderr),
            self.logs()
        );
        text(&out.stdout)
    }
    fn code(&self, cmd: &[&str]) -> i32 {
        self.exec(cmd).status.code().expect("an exit code")
    }
    fn logs(&self) -> String {
        let out = docker(&["logs", &self.id]);
        format!("{}{}", text(&out.stdout), text(&out.stderr))
    }
    /// `uid:gid mode` of a path.
    fn stat(&self, path: &str) -> String {
        self.ok(&["stat", "-c", "%u:%g %a", path])
            .trim()
            .to_string()
    }
    /// Waits until `cmd` succeeds (the service is up).
    fn wait_ok(&self, cmd: &[&str]) {
        let start = Instant::now();
        while self.exec(cmd).status.code() != Some(0) {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "{cmd:?} never succeeded; logs:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = docker(&["rm", "-f", &self.id]);
    }
}

/// `docker run` in the foreground: (exit code, stdout, stderr).
fn run_once(img: &str, cfg: &ConfigDir, env: &[&str]) -> (i32, String, String) {
    let mount = cfg.mount();
    let mut args = vec!["run", "--rm", "--network", "none", "-v", &mount];
    for e in env {
        args.extend(["-e", e]);
    }
    args.push(img);
    let out = docker(&args);
    (
        out.status.code().expect("an exit code"),
        text(&out.stdout),
        text(&out.stderr),
    )
}

const CFG: &str = "/var/lib/kolla/config_files";

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
fn the_stand_in_behaves_per_service_and_per_program() {
    // One image, two services (nova-api's image also runs nova_metadata): uwsgi listens
    // where its ini says; any other daemon where the image's map says for the service.
    let cfg = ConfigDir::new(&serde_json::json!({
        "command": "uwsgi /etc/nova/nova-metadata-uwsgi.ini",
        "config_files": [{"source": format!("{CFG}/nova-metadata-uwsgi.ini"), "dest": "/etc/nova/nova-metadata-uwsgi.ini", "owner": "nova", "perm": "0600"}]
    }));
    cfg.write(
        "nova-metadata-uwsgi.ini",
        "[uwsgi]\nhttp = 127.0.0.1:18775\nsocket-timeout = 30\n",
    );
    let env = [
        "KOLLA_CONFIG_STRATEGY=COPY_ALWAYS",
        "KOLLA_SERVICE_NAME=nova-metadata",
    ];
    let c = Container::start(&image("nova-api"), &cfg, &env);
    c.wait_ok(&["healthcheck_listen", "uwsgi", "18775"]);
    c.ok(&["healthcheck_curl", "http://127.0.0.1:18775"]);
    assert_eq!(c.code(&["healthcheck_listen", "uwsgi", "8774", "8775"]), 1);
    drop(c);
    cfg.set_config(&serde_json::json!({"command": "/usr/sbin/apache2 -DFOREGROUND"}));
    let c = Container::start(&image("nova-api"), &cfg, &env);
    c.wait_ok(&["healthcheck_listen", "apache2", "8775"]);
    assert_eq!(c.code(&["healthcheck_listen", "apache2", "8774"]), 1);
    // Tools do nothing and say so on stderr only.
    let out = c.exec(&["nova-manage", "cell_v2", "list_cells"]);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), "");
    drop(c);

    // neutron_rpc_server runs from neutron-server's image but serves no API.
    let cfg = ConfigDir::new(&serde_json::json!({"command": "neutron-rpc-server"}));
    let c = Container::start(
        &image("neutron-server"),
        &cfg,
        &[
            "KOLLA_CONFIG_STRATEGY=COPY_ALWAYS",
            "KOLLA_SERVICE_NAME=neutron-rpc-server",
        ],
    );
    c.wait_ok(&["sh", "-c", "ps -o args | grep -q '^neutron-rpc-server'"]);
    assert!(
        c.logs().contains("[Connect(127.0.0.1:5672)]"),
        "{}",
        c.logs()
    );
    assert_eq!(c.code(&["healthcheck_listen", "neutron-rpc", "9696"]), 1);
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

#[test]
fn keystone_fernet_gets_keys_and_keystone_manage_manages_them() {
    let cfg = ConfigDir::new(&serde_json::json!({"command": "cron -f"}));
    let c = Container::start(
        &image("keystone-fernet"),
        &cfg,
        &["KOLLA_CONFIG_STRATEGY=COPY_ALWAYS"],
    );
    c.wait_ok(&["test", "-s", "/etc/keystone/fernet-keys/1"]);
    assert_eq!(c.stat("/etc/keystone/fernet-keys"), "42425:42425 700");
    assert_eq!(c.stat("/etc/keystone/fernet-keys/0"), "42425:42425 600");
    let key = c.ok(&["cat", "/etc/keystone/fernet-keys/0"]);
    assert_eq!(key.len(), 44, "32 bytes, url-safe base64: {key:?}");
    c.ok(&["keystone-manage", "fernet_rotate"]);
    c.ok(&["keystone-manage", "fernet_rotate"]);
    assert_eq!(
        c.ok(&["ls", "/etc/keystone/fernet-keys"]),
        "0\n2\n3\n",
        "max_active_keys 3"
    );
    let out = c.exec(&["keystone-manage", "fernet_setup"]);
    assert!(out.status.success());
    assert!(text(&out.stderr).contains("Key repository is already initialized"));
}
