//! The lifecycle on a podman host: `kolla_container_engine: podman`, one host whose engine is
//! podman's Docker-compatible service (`scripts/podman-engines.sh`), stand-in images. Podman
//! starts privileged containers here (dockerd cannot): kolla_toolbox and ovs-vswitchd run
//! privileged. A second run is a no-op (podman's inspect differences normalised), an override
//! restarts exactly its container, a changed volume recreates it, `check` runs the healthchecks
//! podman does not run itself, stop and destroy finish.

use std::process::{Command, Output};

use crate::util::{
    ensure_images, kollars, planned_changes, root, site_args, site_inputs, site_inventory,
    standin_globals, stderr,
};

const TAGS: &str = "cron,kolla-toolbox,openvswitch";
const CONTAINERS: [&str; 4] = [
    "cron",
    "kolla_toolbox",
    "openvswitch_db",
    "openvswitch_vswitchd",
];

/// The podman engine's tests take turns: `destroy` removes every managed container of a host.
pub(crate) static PODMAN_TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The podman test engine: `KOLLARS_TEST_PODMAN`, else one started (or reused) by
/// `scripts/podman-engines.sh` in its default directory.
pub(crate) fn podman_engine() -> String {
    if let Ok(e) = std::env::var("KOLLARS_TEST_PODMAN") {
        if let Some(first) = e.split(',').find(|s| !s.is_empty()) {
            return first.to_owned();
        }
    }
    let o = Command::new(root().join("scripts/podman-engines.sh"))
        .args(["up", "1"])
        .output()
        .expect("run scripts/podman-engines.sh");
    assert!(o.status.success(), "podman-engines.sh: {}", stderr(&o));
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

fn docker(engine: &str, args: &[&str]) -> Output {
    Command::new("docker")
        .env("DOCKER_HOST", engine)
        .args(args)
        .output()
        .expect("run docker")
}

fn inspect(engine: &str, name: &str, format: &str) -> Option<String> {
    let o = docker(engine, &["inspect", "-f", format, name]);
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).trim().to_owned())
}

/// (id, StartedAt, running) of every test container.
fn snapshot(engine: &str) -> Vec<Option<String>> {
    crate::util::states(engine, &CONTAINERS)
}

struct Site {
    dir: tempfile::TempDir,
}

impl Site {
    fn run(&self, cmd: &str, extra: &[&str]) -> Output {
        let o = kollars(site_args(self.dir.path(), cmd, TAGS, extra));
        assert!(
            o.status.success(),
            "kollars {cmd} {extra:?} failed ({:?}): {}\n{}",
            o.status.code(),
            stderr(&o),
            String::from_utf8_lossy(&o.stdout)
        );
        o
    }

    fn plan_is_empty(&self) {
        let o = self.run("plan", &[]);
        assert_eq!(
            planned_changes(&o),
            0,
            "{}",
            String::from_utf8_lossy(&o.stdout)
        );
    }
}

#[test]
fn lifecycle_on_a_podman_host() {
    let _turn = PODMAN_TURN.lock().unwrap_or_else(|e| e.into_inner());
    let engine = podman_engine();
    ensure_images(
        &engine,
        &[
            "cron",
            "kolla-toolbox",
            "openvswitch-db-server",
            "openvswitch-vswitchd",
        ],
    );
    for c in CONTAINERS {
        let _ = docker(&engine, &["rm", "-f", c]);
    }
    let dir = tempfile::tempdir().unwrap();
    let globals = standin_globals().replace(
        "kollars_privileged_containers: false\ndefault_container_dimensions: {}\n",
        "kollars_privileged_containers: true\nkolla_container_engine: podman\n",
    );
    assert!(globals.contains("podman"), "{globals}");
    site_inputs(dir.path(), &["node1"], &globals);
    site_inventory(
        dir.path(),
        "common",
        &[("node1", &engine, "")],
        &[
            "cron",
            "kolla-toolbox",
            "kolla_toolbox",
            "openvswitch",
            "compute",
            "neutron-dhcp-agent",
            "neutron-l3-agent",
            "neutron-metadata-agent",
            "manila-share",
        ],
    );
    let site = Site { dir };

    // the engine is podman, the globals say docker: refused before anything changes
    let mut wrong = site_args(site.dir.path(), "deploy", TAGS, &[]);
    wrong.extend(["-e".into(), "kolla_container_engine=docker".into()]);
    let o = kollars(&wrong);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("node1")
            && err.contains("kolla_container_engine is docker")
            && err.contains("podman"),
        "{err}"
    );
    assert!(snapshot(&engine).iter().all(Option::is_none));
    // an engine kolla does not know: bad input, naming host and variable
    let mut unknown = site_args(site.dir.path(), "deploy", TAGS, &[]);
    unknown.extend(["-e".into(), "kolla_container_engine=rkt".into()]);
    let o = kollars(&unknown);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("node1") && err.contains("kolla_container_engine") && err.contains("rkt"),
        "{err}"
    );
    assert!(snapshot(&engine).iter().all(Option::is_none));

    // deploy: all running, the privileged ones privileged, kolla's podman /run volumes
    let started = std::time::Instant::now();
    site.run("deploy", &[]);
    eprintln!("podman deploy: {:.1}s", started.elapsed().as_secs_f64());
    let first = snapshot(&engine);
    assert!(
        first
            .iter()
            .all(|s| s.as_deref().is_some_and(|s| s.ends_with(" true"))),
        "not all running: {first:?}"
    );
    for c in ["kolla_toolbox", "openvswitch_vswitchd"] {
        assert_eq!(
            inspect(&engine, c, "{{.HostConfig.Privileged}}").as_deref(),
            Some("true"),
            "{c}"
        );
    }
    let binds = inspect(&engine, "kolla_toolbox", "{{json .HostConfig.Binds}}").unwrap();
    assert!(binds.contains("/run/netns:/run/netns:shared"), "{binds}");
    // kolla's podman dimensions: no ulimits asked for, the engine's defaults apply
    let ulimits = inspect(&engine, "cron", "{{json .HostConfig.Ulimits}}").unwrap();
    assert!(!ulimits.contains("1048576"), "{ulimits}");

    // a second run is a no-op: nothing planned, nothing touched
    site.plan_is_empty();
    site.run("reconfigure", &[]);
    assert_eq!(
        snapshot(&engine),
        first,
        "a no-op reconfigure changed containers"
    );
    site.run("deploy", &[]);
    assert_eq!(
        snapshot(&engine),
        first,
        "a second deploy changed containers"
    );

    // every container stopped behind kollars' back: the survey cannot vouch for them, so each
    // is compared field by field with podman's inspect, and found current: started, not
    // recreated
    let o = docker(
        &engine,
        &[
            "stop",
            "-t",
            "1",
            CONTAINERS[0],
            CONTAINERS[1],
            CONTAINERS[2],
            CONTAINERS[3],
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = site.run("plan", &[]);
    let plan = String::from_utf8_lossy(&o.stdout).to_string();
    for c in [
        "cron",
        "kolla-toolbox",
        "openvswitch-db-server",
        "openvswitch-vswitchd",
    ] {
        assert!(plan.contains(&format!("node1: {c}: start")), "{c}: {plan}");
    }
    assert!(!plan.contains("recreate"), "{plan}");
    site.run("deploy", &[]);
    let started = snapshot(&engine);
    for (now, before) in started.iter().zip(&first) {
        let (now, before) = (now.as_deref().unwrap(), before.as_deref().unwrap());
        assert!(now.ends_with(" true"), "{now}");
        assert_eq!(now.split(' ').next(), before.split(' ').next(), "recreated");
    }
    let first = started;
    site.plan_is_empty();

    // an override restarts exactly cron (same container, new start)
    let over = site
        .dir
        .path()
        .join("config/config/cron/cron-logrotate-global.conf");
    std::fs::create_dir_all(over.parent().unwrap()).unwrap();
    std::fs::write(&over, "daily\nrotate 3\n").unwrap();
    let o = site.run("plan", &[]);
    let plan = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(plan.contains("node1: cron: restart"), "{plan}");
    assert_eq!(planned_changes(&o), 1, "{plan}");
    site.run("reconfigure", &[]);
    let after = snapshot(&engine);
    let id = |s: &Option<String>| s.as_deref().unwrap().split(' ').next().unwrap().to_owned();
    assert_eq!(
        id(&after[0]),
        id(&first[0]),
        "cron recreated, not restarted"
    );
    assert_ne!(after[0], first[0], "cron not restarted");
    assert_eq!(after[1..], first[1..], "other containers changed");
    site.plan_is_empty();

    // a changed volume recreates exactly cron; back to the definition recreates it again
    let vol = ["-e", "{\"cron_extra_volumes\": [\"/tmp:/host-tmp:ro\"]}"];
    site.run("reconfigure", &vol);
    let changed = snapshot(&engine);
    assert_ne!(id(&changed[0]), id(&after[0]), "cron not recreated");
    assert_eq!(changed[1..], after[1..], "other containers changed");
    let o = site.run("plan", &vol);
    assert_eq!(
        planned_changes(&o),
        0,
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    site.run("reconfigure", &[]);
    site.plan_is_empty();

    // a moved tag is noticed (podman's listing keeps the old name): cron recreated
    let image = |tag: &str| format!("{}/cron:{tag}", crate::util::IMAGE_NAMESPACE);
    let before = snapshot(&engine);
    assert!(
        docker(&engine, &["tag", &image("latest"), &image("vm-orig")])
            .status
            .success()
    );
    let other = format!(
        "{}/memcached:{}",
        crate::util::IMAGE_NAMESPACE,
        crate::util::IMAGE_TAG
    );
    ensure_images(&engine, &["memcached"]);
    assert!(docker(&engine, &["tag", &other, &image("latest")])
        .status
        .success());
    let o = site.run("plan", &[]);
    let plan = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        plan.contains("node1: cron: recreate") && plan.contains("image"),
        "{plan}"
    );
    assert!(
        docker(&engine, &["tag", &image("vm-orig"), &image("latest")])
            .status
            .success()
    );
    let _ = docker(&engine, &["rmi", &image("vm-orig")]);
    site.plan_is_empty();
    assert_eq!(snapshot(&engine), before);

    // check: the healthchecks podman never runs by itself are run, and pass
    let o = site.run("check", &["--output", "json"]);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let rows = crate::util::check_rows(&o);
    assert_eq!(rows.len(), CONTAINERS.len(), "{out}");
    assert!(rows.iter().all(|r| r["ok"] == true), "{out}");
    let status = |c: &str| {
        rows.iter()
            .find(|r| r["container"] == c)
            .map(|r| r["status"].as_str().unwrap_or_default().to_owned())
            .unwrap_or_default()
    };
    assert_eq!(status("openvswitch_db"), "Healthy", "{out}");
    assert_eq!(status("openvswitch_vswitchd"), "Healthy", "{out}");
    // stop, then destroy: nothing of the site left
    site.run("stop", &["--yes-i-really-really-mean-it"]);
    for c in CONTAINERS {
        assert_eq!(
            inspect(&engine, c, "{{.State.Running}}").as_deref(),
            Some("false"),
            "{c} still running after stop"
        );
    }
    site.run("destroy", &["--yes-i-really-really-mean-it"]);
    assert!(
        snapshot(&engine).iter().all(Option::is_none),
        "containers left after destroy"
    );
}
