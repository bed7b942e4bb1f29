//! Authenticated pulls from a real registry: Debian's `docker-registry` with htpasswd auth,
//! served inside one test engine's network namespace (so the engine reaches it on its own
//! loopback, as it would a registry on its host, and nothing leaves the machine).
//!
//! `kollars pull` gets an image pushed there under a tag the engine does not have, with
//! `docker_registry_username` from globals and `docker_registry_password` from passwords.yml;
//! a wrong password fails naming the host and image, and the password appears nowhere in
//! kollars' output. A tag moved in the registry is pulled by `kollars pull` and recreates
//! exactly its container at the next deploy; a registry that is down fails the pull naming
//! host and image, changing nothing.

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use crate::util::{
    engine_pid, engines, ensure_images, kollars, planned_changes, site_args, site_inputs,
    site_inventory, stderr, IMAGE_NAMESPACE, IMAGE_TAG,
};

const USER: &str = "kollars-puller";
const PASSWORD: &str = "reg-Secret-7f3a9c";
const WRONG: &str = "not-the-Password-51b2";

/// A registry process in an engine's network namespace, killed on drop.
struct Registry {
    child: Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_registry(engine: &str) -> Registry {
    let dir = tempfile::tempdir().unwrap();
    let port = 20000 + std::process::id() % 10000;
    let addr = format!("127.0.0.1:{port}");
    let o = Command::new("htpasswd")
        .args(["-Bbn", USER, PASSWORD])
        .output()
        .expect("htpasswd (apache2-utils)");
    assert!(o.status.success(), "htpasswd: {}", stderr(&o));
    std::fs::write(dir.path().join("htpasswd"), &o.stdout).unwrap();
    let config = format!(
        "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n\
         http:\n  addr: {addr}\nauth:\n  htpasswd:\n    realm: kollars-test\n    path: {}\n",
        dir.path().join("data").display(),
        dir.path().join("htpasswd").display()
    );
    std::fs::write(dir.path().join("config.yml"), config).unwrap();
    let child = Command::new("nsenter")
        .arg(format!("--net=/proc/{}/ns/net", engine_pid(engine)))
        .arg("docker-registry")
        .arg("serve")
        .arg(dir.path().join("config.yml"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("docker-registry (Debian's docker-registry package)");
    let reg = Registry {
        child,
        addr,
        _dir: dir,
    };
    // Ready when it answers /v2/ (401 without credentials) inside the namespace.
    for _ in 0..100 {
        let o = Command::new("nsenter")
            .arg(format!("--net=/proc/{}/ns/net", engine_pid(engine)))
            .args(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}"])
            .arg(format!("http://{}/v2/", reg.addr))
            .output()
            .unwrap();
        if String::from_utf8_lossy(&o.stdout) == "401" {
            return reg;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("docker-registry did not answer on {}", reg.addr);
}

fn docker(engine: &str, config: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut c = Command::new("docker")
        .env("DOCKER_HOST", engine)
        .arg("--config")
        .arg(config)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run docker");
    if let Some(s) = stdin {
        c.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    drop(c.stdin.take());
    c.wait_with_output().unwrap()
}

/// Whether `image` is on `engine`.
fn has_image(engine: &str, config: &Path, image: &str) -> bool {
    docker(engine, config, &["image", "inspect", image], None)
        .status
        .success()
}

/// A one-host site pulling memcached from `registry` as `user`, with `password` in
/// passwords.yml.
fn site(
    engine: &str,
    registry: &str,
    user: Option<&str>,
    password: &str,
    tag: &str,
) -> tempfile::TempDir {
    site_of(engine, registry, user, password, tag, &["memcached"])
}

/// [`site`] running the services of `groups`.
fn site_of(
    engine: &str,
    registry: &str,
    user: Option<&str>,
    password: &str,
    tag: &str,
    groups: &[&str],
) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let user = user
        .map(|u| format!("docker_registry_username: {u}\n"))
        .unwrap_or_default();
    site_inputs(
        dir.path(),
        &["node1"],
        &format!(
            "kolla_base_distro: debian\ndocker_registry: \"{registry}\"\n\
             docker_namespace: {IMAGE_NAMESPACE}\nopenstack_tag: {tag}\n{user}\
             network_interface: lo\nkolla_internal_vip_address: 192.0.2.250\n\
             kollars_privileged_containers: false\ndefault_container_dimensions: {{}}\ndocker_graceful_timeout: 2\n\
             kollars_helper_image: {IMAGE_NAMESPACE}/kolla-toolbox:{IMAGE_TAG}\n"
        ),
    );
    let pw = dir.path().join("config/passwords.yml");
    let text = std::fs::read_to_string(&pw).unwrap().replace(
        "docker_registry_password: null",
        &format!("docker_registry_password: {password}"),
    );
    assert!(
        text.contains(password),
        "passwords.yml has docker_registry_password"
    );
    std::fs::write(&pw, text).unwrap();
    site_inventory(dir.path(), "control", &[("node1", engine, "")], groups);
    dir
}

#[test]
fn pull_authenticates_to_the_registry_and_never_shows_the_password() {
    let _turn = crate::util::last_engine_turn();
    let engine = engines().last().unwrap().clone();
    ensure_images(&engine, &["memcached"]);
    let registry = start_registry(&engine);
    let cfg = tempfile::tempdir().unwrap();
    let cfg = cfg.path();
    let tag = format!("regtest{}", std::process::id());
    let remote = format!("{}/{IMAGE_NAMESPACE}/memcached:{tag}", registry.addr);

    // Put the image in the registry, then take the tag off the engine.
    let o = docker(
        &engine,
        cfg,
        &["login", &registry.addr, "-u", USER, "--password-stdin"],
        Some(PASSWORD),
    );
    assert!(o.status.success(), "docker login: {}", stderr(&o));
    let local = format!("{IMAGE_NAMESPACE}/memcached:{IMAGE_TAG}");
    assert!(docker(&engine, cfg, &["tag", &local, &remote], None)
        .status
        .success());
    let o = docker(&engine, cfg, &["push", &remote], None);
    assert!(o.status.success(), "docker push: {}", stderr(&o));
    assert!(docker(&engine, cfg, &["rmi", &remote], None)
        .status
        .success());
    assert!(!has_image(&engine, cfg, &remote));

    // A wrong password: the pull fails, naming host and image, and no password is shown.
    let bad = site(&engine, &registry.addr, Some(USER), WRONG, &tag);
    let o = kollars(site_args(
        bad.path(),
        "pull",
        "memcached",
        &["--output", "json"],
    ));
    let all = format!("{}{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
    assert_eq!(
        o.status.code(),
        Some(1),
        "wrong password fails the host: {all}"
    );
    assert!(
        all.contains("node1") && all.contains(&remote),
        "names host and image: {all}"
    );
    assert!(
        !all.contains(WRONG) && !all.contains(PASSWORD),
        "no password in output: {all}"
    );
    assert!(!has_image(&engine, cfg, &remote));

    // No credentials at all: the registry refuses too.
    let anon = site(&engine, &registry.addr, None, PASSWORD, &tag);
    let o = kollars(site_args(anon.path(), "pull", "memcached", &[]));
    assert_eq!(
        o.status.code(),
        Some(1),
        "anonymous pull is refused: {}",
        stderr(&o)
    );
    assert!(!has_image(&engine, cfg, &remote));

    // The right credentials: pulled.
    let good = site(&engine, &registry.addr, Some(USER), PASSWORD, &tag);
    let o = kollars(site_args(
        good.path(),
        "pull",
        "memcached",
        &["--output", "json"],
    ));
    let all = format!("{}{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
    assert!(o.status.success(), "authenticated pull: {all}");
    assert!(!all.contains(PASSWORD), "no password in output: {all}");
    assert!(has_image(&engine, cfg, &remote), "{remote} pulled");

    let _ = docker(&engine, cfg, &["rmi", &remote], None);
}

#[test]
fn a_registry_user_without_a_password_is_bad_input() {
    let _turn = crate::util::last_engine_turn();
    let engine = engines().last().unwrap().clone();
    let dir = site(&engine, "127.0.0.1:5999", Some(USER), "''", "any");
    let o = kollars(site_args(dir.path(), "pull", "memcached", &[]));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("node1") && stderr(&o).contains("docker_registry_password"),
        "{}",
        stderr(&o)
    );
}

/// (id, StartedAt, image id) of container `name`.
fn container(engine: &str, config: &Path, name: &str) -> String {
    let o = docker(
        engine,
        config,
        &[
            "inspect",
            "-f",
            "{{.Id}} {{.State.StartedAt}} {{.Image}}",
            name,
        ],
        None,
    );
    assert!(o.status.success(), "inspect {name}: {}", stderr(&o));
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

#[test]
fn a_tag_moved_in_the_registry_is_pulled_and_recreates_exactly_its_container() {
    let _turn = crate::util::last_engine_turn();
    let engine = engines().last().unwrap().clone();
    ensure_images(&engine, &["memcached", "cron"]);
    let registry = start_registry(&engine);
    let cfg = tempfile::tempdir().unwrap();
    let cfg = cfg.path();
    let tag = format!("moved{}", std::process::id());
    let addr = registry.addr.clone();
    let remote = |svc: &str| format!("{addr}/{IMAGE_NAMESPACE}/{svc}:{tag}");
    for c in ["memcached", "cron"] {
        let _ = docker(&engine, cfg, &["rm", "-f", c], None);
    }
    let o = docker(
        &engine,
        cfg,
        &["login", &registry.addr, "-u", USER, "--password-stdin"],
        Some(PASSWORD),
    );
    assert!(o.status.success(), "docker login: {}", stderr(&o));
    let push = |local: &str, svc: &str| {
        assert!(docker(&engine, cfg, &["tag", local, &remote(svc)], None)
            .status
            .success());
        let o = docker(&engine, cfg, &["push", &remote(svc)], None);
        assert!(o.status.success(), "docker push: {}", stderr(&o));
    };
    for svc in ["memcached", "cron"] {
        push(&format!("{IMAGE_NAMESPACE}/{svc}:{IMAGE_TAG}"), svc);
        assert!(docker(&engine, cfg, &["rmi", &remote(svc)], None)
            .status
            .success());
    }

    let site = site_of(
        &engine,
        &registry.addr,
        Some(USER),
        PASSWORD,
        &tag,
        &["memcached", "cron"],
    );
    let run = |cmd: &str, extra: &[&str]| {
        let o = kollars(site_args(site.path(), cmd, "memcached,cron", extra));
        let all = format!("{}{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
        assert!(!all.contains(PASSWORD), "no password in output: {all}");
        (o, all)
    };
    let (o, all) = run("pull", &["--output", "json"]);
    assert!(o.status.success(), "pull: {all}");
    let (o, all) = run("deploy", &[]);
    assert!(o.status.success(), "deploy: {all}");
    let before = [
        container(&engine, cfg, "memcached"),
        container(&engine, cfg, "cron"),
    ];

    // another workstation pushes a new memcached image under the same tag: this engine's
    // tag still names the old one
    let o = Command::new("docker")
        .env("DOCKER_HOST", &engine)
        .arg("--config")
        .arg(cfg)
        .args(["build", "-q", "-t", &remote("memcached"), "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().unwrap().write_all(
                format!(
                    "FROM {}\nLABEL kollars.test.moved={tag}\n",
                    remote("memcached")
                )
                .as_bytes(),
            )?;
            c.wait_with_output()
        })
        .unwrap();
    assert!(o.status.success(), "docker build: {}", stderr(&o));
    let o = docker(&engine, cfg, &["push", &remote("memcached")], None);
    assert!(o.status.success(), "docker push: {}", stderr(&o));
    let moved = {
        let o = docker(
            &engine,
            cfg,
            &["image", "inspect", "-f", "{{.Id}}", &remote("memcached")],
            None,
        );
        String::from_utf8_lossy(&o.stdout).trim().to_owned()
    };
    let old_image = before[0].rsplit(' ').next().unwrap().to_owned();
    assert_ne!(moved, old_image);
    assert!(docker(
        &engine,
        cfg,
        &["tag", &old_image, &remote("memcached")],
        None
    )
    .status
    .success());
    let (o, all) = run("plan", &[]);
    assert_eq!(
        planned_changes(&o),
        0,
        "nothing known to have moved yet: {all}"
    );

    // pull notices it; deploy recreates memcached and leaves cron alone
    let (o, all) = run("pull", &[]);
    assert!(o.status.success(), "pull: {all}");
    let (o, all) = run("plan", &[]);
    assert!(all.contains("node1: memcached: recreate"), "{all}");
    assert_eq!(planned_changes(&o), 1, "{all}");
    let (o, all) = run("deploy", &[]);
    assert!(o.status.success(), "deploy: {all}");
    let memcached = container(&engine, cfg, "memcached");
    assert!(
        memcached.ends_with(&moved),
        "memcached runs the moved image: {memcached}"
    );
    assert_ne!(
        memcached.split(' ').next(),
        before[0].split(' ').next(),
        "recreated"
    );
    assert_eq!(container(&engine, cfg, "cron"), before[1], "cron untouched");
    let (o, all) = run("plan", &[]);
    assert_eq!(planned_changes(&o), 0, "{all}");

    // the registry down: the pull fails naming host and image, and nothing changes
    drop(registry);
    let (o, all) = run("pull", &[]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "pull from a registry that is down: {all}"
    );
    assert!(
        all.contains("node1")
            && (all.contains(&remote("memcached")) || all.contains(&remote("cron"))),
        "names host and image: {all}"
    );
    assert_eq!(container(&engine, cfg, "memcached"), memcached);
    assert_eq!(container(&engine, cfg, "cron"), before[1]);

    let (o, all) = run("destroy", &["--yes-i-really-really-mean-it"]);
    assert!(o.status.success(), "destroy: {all}");
    for svc in ["memcached", "cron"] {
        let _ = docker(&engine, cfg, &["rmi", &remote(svc)], None);
    }
    let _ = docker(&engine, cfg, &["rmi", &moved], None);

    // a deploy whose images must come from the registry that is down: the host fails on its
    // images, before its files or containers change
    let etc = site.path().join("etc-node1");
    let files = crate::util::files_under(&etc);
    let (o, all) = run("deploy", &[]);
    assert_eq!(o.status.code(), Some(1), "deploy, registry down: {all}");
    assert!(
        all.contains("node1") && all.contains("before any change") && all.contains(&addr),
        "names host and image: {all}"
    );
    assert_eq!(crate::util::files_under(&etc), files, "files written");
    for c in ["memcached", "cron"] {
        let o = docker(&engine, cfg, &["inspect", c], None);
        assert!(!o.status.success(), "{c} created");
    }
}
