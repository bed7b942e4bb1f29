//! What every in-container test needs: the engine (with the images built once), `docker`,
//! a config directory to mount and a container removed on drop.
//!
//! Shared so the tests stay about kolla's behaviour, not about driving the engine.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const NS: &str = "kollars-test";
const TAG: &str = "kstart";

pub(crate) fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The engine address, with the images built.
pub(crate) fn docker_host() -> &'static str {
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

pub(crate) fn image(name: &str) -> String {
    format!("{NS}/{name}:{TAG}")
}

pub(crate) fn docker(args: &[&str]) -> Output {
    Command::new("docker")
        .args(args)
        .env("DOCKER_HOST", docker_host())
        .output()
        .expect("run docker")
}

pub(crate) fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A config directory as kolla-ansible renders it, mounted read-only.
pub(crate) struct ConfigDir {
    dir: tempfile::TempDir,
}

impl ConfigDir {
    pub(crate) fn new(config: &serde_json::Value) -> ConfigDir {
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
    pub(crate) fn write(&self, name: &str, content: &str) {
        let p = self.dir.path().join(name);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, content).unwrap();
    }
    pub(crate) fn set_config(&self, config: &serde_json::Value) {
        self.write(
            "config.json",
            &serde_json::to_string_pretty(config).unwrap(),
        );
    }
    pub(crate) fn mount(&self) -> String {
        format!(
            "{}:/var/lib/kolla/config_files:ro",
            self.dir.path().display()
        )
    }
}

/// A running container, removed on drop.
pub(crate) struct Container {
    pub(crate) id: String,
}

impl Container {
    pub(crate) fn start(img: &str, cfg: &ConfigDir, env: &[&str]) -> Container {
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
    pub(crate) fn exec(&self, cmd: &[&str]) -> Output {
        let mut args = vec!["exec", self.id.as_str()];
        args.extend(cmd);
        docker(&args)
    }
    /// Runs `cmd`, asserting success; returns stdout.
    pub(crate) fn ok(&self, cmd: &[&str]) -> String {
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
    pub(crate) fn code(&self, cmd: &[&str]) -> i32 {
        self.exec(cmd).status.code().expect("an exit code")
    }
    pub(crate) fn logs(&self) -> String {
        let out = docker(&["logs", &self.id]);
        format!("{}{}", text(&out.stdout), text(&out.stderr))
    }
    /// `uid:gid mode` of a path.
    pub(crate) fn stat(&self, path: &str) -> String {
        self.ok(&["stat", "-c", "%u:%g %a", path])
            .trim()
            .to_string()
    }
    /// Waits until `cmd` succeeds (the service is up).
    pub(crate) fn wait_ok(&self, cmd: &[&str]) {
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
pub(crate) fn run_once(img: &str, cfg: &ConfigDir, env: &[&str]) -> (i32, String, String) {
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

pub(crate) const CFG: &str = "/var/lib/kolla/config_files";
