use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The reference scenario's directory.
pub fn reference() -> PathBuf {
    root().join("tests/reference/aio")
}

/// Runs the kollars binary with `args`.
pub fn kollars<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(env!("CARGO_BIN_EXE_kollars"))
        .args(args)
        .env_remove("KOLLA_CONFIG_PATH")
        .output()
        .expect("run kollars")
}

/// Runs the kollars binary with `args` inside the network namespace of process `pid` (an
/// engine's, where it listens on its own loopback).
pub fn kollars_in_netns<I, S>(pid: u32, args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new("nsenter")
        .arg(format!("--net=/proc/{pid}/ns/net"))
        .arg(env!("CARGO_BIN_EXE_kollars"))
        .args(args)
        .env_remove("KOLLA_CONFIG_PATH")
        .output()
        .expect("run kollars through nsenter")
}

/// The number of changes in `plan`'s summary line (its last line: `N changes …`).
pub fn planned_changes(o: &Output) -> usize {
    let out = String::from_utf8_lossy(&o.stdout);
    let last = out.lines().last().unwrap_or_default();
    last.split_whitespace()
        .next()
        .unwrap_or("x")
        .parse()
        .unwrap_or_else(|_| panic!("plan summary: {out}"))
}

/// Runs `genconfig` on an inventory/configdir/facts into `out`.
pub fn genconfig(
    inventory: &Path,
    configdir: &Path,
    facts: &Path,
    out: &Path,
    extra: &[&str],
) -> Output {
    let mut args: Vec<String> = vec![
        "genconfig".into(),
        "-i".into(),
        inventory.display().to_string(),
        "--configdir".into(),
        configdir.display().to_string(),
        "--facts".into(),
        facts.display().to_string(),
        "--output".into(),
        out.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    kollars(args)
}

/// Copies a directory tree.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        let t = to.join(e.file_name());
        if p.is_dir() {
            copy_tree(&p, &t);
        } else {
            std::fs::copy(&p, &t).unwrap();
        }
    }
}

/// Every file under `dir`, relative, sorted.
pub fn files_under(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, d: &Path, out: &mut Vec<String>) {
        let Ok(rd) = std::fs::read_dir(d) else { return };
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Runs the docker CLI against `engine`.
pub fn docker(engine: &str, args: &[&str]) -> Output {
    Command::new("docker")
        .env("DOCKER_HOST", engine)
        .args(args)
        .output()
        .expect("run docker")
}

/// `{{.Id}} {{.State.StartedAt}} {{.State.Running}}` of each of `names` on `engine`, `None`
/// for one that is missing: what tells a container recreated, restarted or left alone.
pub fn states(engine: &str, names: &[&str]) -> Vec<Option<String>> {
    names
        .iter()
        .map(|c| {
            let o = docker(
                engine,
                &[
                    "inspect",
                    "-f",
                    "{{.Id}} {{.State.StartedAt}} {{.State.Running}}",
                    c,
                ],
            );
            o.status
                .success()
                .then(|| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        })
        .collect()
}

/// The per-container rows of `kollars check --output json`.
pub fn check_rows(o: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|v: &serde_json::Value| v.get("container").is_some())
        .collect()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// The test engines: `KOLLARS_TEST_ENGINES` (comma, space or newline separated, at least two),
/// else two started (or reused) by `scripts/engines.sh`.
pub fn engines() -> Vec<String> {
    if let Ok(list) = std::env::var("KOLLARS_TEST_ENGINES") {
        let v: Vec<String> = list
            .split([',', ' ', '\n'])
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        if v.len() >= 2 {
            return v;
        }
    }
    let o = Command::new(root().join("scripts/engines.sh"))
        .args(["up", "2"])
        .output()
        .expect("run scripts/engines.sh");
    assert!(
        o.status.success(),
        "engines.sh failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// A site's inputs under `dir`: `config/passwords.yml` (the reference's), `config/globals.yml`
/// holding `globals`, and `facts/` with the reference's facts plus a copy of its
/// `localhost.json` for each of `hosts`.
pub fn site_inputs(dir: &Path, hosts: &[&str], globals: &str) {
    let conf = dir.join("config");
    std::fs::create_dir_all(&conf).unwrap();
    std::fs::copy(
        reference().join("inputs/passwords.yml"),
        conf.join("passwords.yml"),
    )
    .unwrap();
    std::fs::write(conf.join("globals.yml"), globals).unwrap();
    copy_tree(&reference().join("inputs/facts"), &dir.join("facts"));
    for h in hosts {
        std::fs::copy(
            reference().join("inputs/facts/localhost.json"),
            dir.join(format!("facts/{h}.json")),
        )
        .unwrap();
    }
}

/// The namespace and tag of the stand-in images the engine tests deploy (`images/build.sh`).
pub const IMAGE_NAMESPACE: &str = "kollars";
/// See [`IMAGE_NAMESPACE`].
pub const IMAGE_TAG: &str = "latest";

/// The stand-in images of `services` (`cron`, `kolla-toolbox`, …) on `engine`, built by
/// `images/build.sh` when one is missing.
pub fn ensure_images(engine: &str, services: &[&str]) {
    let missing = services.iter().any(|svc| {
        !Command::new("docker")
            .env("DOCKER_HOST", engine)
            .args([
                "image",
                "inspect",
                &format!("{IMAGE_NAMESPACE}/{svc}:{IMAGE_TAG}"),
            ])
            .output()
            .expect("run docker")
            .status
            .success()
    });
    if !missing {
        return;
    }
    let o = Command::new(root().join("images/build.sh"))
        .env("DOCKER_HOST", engine)
        .args(["--namespace", IMAGE_NAMESPACE, "--tag", IMAGE_TAG])
        .args(services)
        .output()
        .expect("run images/build.sh");
    assert!(
        o.status.success(),
        "images/build.sh failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `kollars CMD` arguments for a site under `dir` (see [`site_inputs`]): its `inventory`,
/// `config/`, `facts/`, `-t tags`, then `extra`.
pub fn site_args(dir: &Path, cmd: &str, tags: &str, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = vec![
        cmd.into(),
        "-i".into(),
        dir.join("inventory").display().to_string(),
        "--configdir".into(),
        dir.join("config").display().to_string(),
        "--facts".into(),
        dir.join("facts").display().to_string(),
        "-t".into(),
        tags.into(),
    ];
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

/// `inventory` under `dir`: group `group` holding `hosts` — (name, engine endpoint, extra host
/// variables), each with its own `node_config_directory` `dir/etc-<name>` — and every group of
/// `children` with `group` as its child.
pub fn site_inventory(dir: &Path, group: &str, hosts: &[(&str, &str, &str)], children: &[&str]) {
    let mut inv = format!("[{group}]\n");
    for (h, engine, extra) in hosts {
        inv.push_str(&format!(
            "{h} kollars_engine={engine} node_config_directory={} {extra}\n",
            dir.join(format!("etc-{h}")).display()
        ));
    }
    for c in children {
        inv.push_str(&format!("[{c}:children]\n{group}\n"));
    }
    std::fs::write(dir.join("inventory"), inv).unwrap();
}

/// The dockerd pid of a `scripts/engines.sh` engine (`unix://DIR/hostN/docker.sock`): its
/// network namespace is `/proc/PID/ns/net`, the simulated host's network.
pub fn engine_pid(engine: &str) -> u32 {
    let sock = PathBuf::from(engine.trim_start_matches("unix://"));
    let pidfile = sock.parent().unwrap().join("docker.pid");
    std::fs::read_to_string(&pidfile)
        .unwrap_or_else(|e| panic!("{}: {e}", pidfile.display()))
        .trim()
        .parse()
        .unwrap()
}

/// The globals of a site of stand-in images (`images/build.sh`) on test engines.
pub fn standin_globals() -> String {
    format!(
        "kolla_base_distro: debian\ndocker_registry: \"\"\ndocker_namespace: {IMAGE_NAMESPACE}\nopenstack_tag: {IMAGE_TAG}\n\
         network_interface: eth0\nkolla_internal_vip_address: 192.0.2.250\n\
         kollars_privileged_containers: false\ndefault_container_dimensions: {{}}\ndocker_graceful_timeout: 2\n"
    )
}

/// The turn of a test that creates or removes the containers `cron` and `kolla_toolbox` on the
/// first two test engines: tests of this binary and of a second `cargo test` take turns. Held
/// until the returned file is dropped.
pub fn engines_turn() -> std::fs::File {
    turn("kollars-deploy-test.lock")
}

/// The turn of a test that uses the last test engine (the third): the kill tests wipe it, the
/// registry tests run their registry on it. Held until the returned file is dropped.
pub fn last_engine_turn() -> std::fs::File {
    turn("kollars-last-engine-test.lock")
}

/// The turn of the tests named `name` (a lock file in the temp directory, shared with other
/// `cargo test` processes). Held until the returned file is dropped.
pub fn turn(name: &str) -> std::fs::File {
    let guard = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(std::env::temp_dir().join(name))
        .unwrap();
    guard.lock().unwrap();
    guard
}

/// A small tmpfs mounted on a temporary directory, to fill; unmounted when dropped.
pub struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    /// A tmpfs of `kib` KiB, or `None` when this process is not root (the caller skips, saying
    /// so). As root a failed mount fails the test.
    pub fn mount(kib: u32) -> Option<SmallDisk> {
        use std::os::unix::fs::MetadataExt;
        if std::fs::metadata("/proc/self").unwrap().uid() != 0 {
            eprintln!("skipped: mounting a small tmpfs needs root");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let o = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={kib}k,mode=0755"),
                "tmpfs",
            ])
            .arg(dir.path())
            .output()
            .expect("run mount");
        assert!(o.status.success(), "mount tmpfs: {}", stderr(&o));
        Some(SmallDisk { dir })
    }

    /// The mounted directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills what is left with a file of zeros, page by page, until the disk says it is full.
    pub fn fill(&self) {
        use std::io::Write;
        let mut f = std::fs::File::create(self.path().join("filler")).unwrap();
        let page = [0u8; 4096];
        loop {
            match f.write_all(&page) {
                Ok(()) => {}
                Err(e) if e.raw_os_error() == Some(28) => break,
                Err(e) => panic!("filling {}: {e}", self.path().display()),
            }
        }
        // the last write may have stopped inside a page: fill it byte by byte
        while f.write_all(&[0]).is_ok() {}
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).output();
    }
}
