//! `stop --ignore-missing`, `prune-images` and `destroy --include-images --include-dev` on
//! two stand-in engines, each first as `--plan` (which changes nothing). The site's images
//! are tagged copies in a namespace of their own (`destroytest/`), so what it removes is its
//! own and the other tests' `kollars/` images stay.

use std::path::Path;
use std::process::Output;

use crate::util::{
    docker, engines, engines_turn, ensure_images, kollars, site_args, site_inputs, site_inventory,
    standin_globals, stderr,
};

const NS: &str = "destroytest";
const TAGS: &str = "cron,kolla-toolbox,memcached";

fn run(d: &Path, cmd: &str, extra: &[&str]) -> Output {
    kollars(site_args(d, cmd, TAGS, extra))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn ok(o: &Output, what: &str) -> String {
    assert!(o.status.success(), "{what}: {}\n{}", stderr(o), stdout(o));
    stdout(o)
}

fn lines(engine: &str, args: &[&str]) -> Vec<String> {
    stdout(&docker(engine, args))
        .lines()
        .map(str::to_owned)
        .collect()
}

fn has_image(engine: &str, image: &str) -> bool {
    docker(engine, &["image", "inspect", image])
        .status
        .success()
}

#[test]
fn stop_prune_images_and_destroy_on_real_engines() {
    let _turn = engines_turn();
    let engines = engines();
    let engines = &engines[..2];
    for e in engines {
        ensure_images(e, &["cron", "kolla-toolbox", "memcached"]);
        for c in ["cron", "kolla_toolbox", "memcached"] {
            docker(e, &["rm", "-f", c]);
        }
        for i in ["cron", "kolla-toolbox", "memcached"] {
            let o = docker(
                e,
                &[
                    "tag",
                    &format!("kollars/{i}:latest"),
                    &format!("{NS}/{i}:latest"),
                ],
            );
            assert!(o.status.success(), "{}", stderr(&o));
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let dev = d.join("dev/stack");
    std::fs::create_dir_all(&dev).unwrap();
    std::fs::write(dev.join("README"), "a dev checkout").unwrap();
    let globals = standin_globals().replace(
        "docker_namespace: kollars",
        &format!("docker_namespace: {NS}"),
    ) + &format!("kolla_dev_repos_directory: {}/\n", dev.display());
    site_inputs(d, &["node1", "node2"], &globals);
    site_inventory(
        d,
        "common",
        &[("node1", &engines[0], ""), ("node2", &engines[1], "")],
        &["cron", "kolla-toolbox", "kolla_toolbox", "memcached"],
    );
    ok(
        &kollars(site_args(d, "deploy", "cron,kolla-toolbox", &[])),
        "deploy",
    );
    let keep = d.join("etc-node1/operator-notes.txt");
    std::fs::write(&keep, "mine").unwrap();

    // stop: memcached's container does not exist, which fails each host...
    let o = run(d, "stop", &["--yes-i-really-really-mean-it"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("host node1 FAILED: stopping `memcached` (--ignore-missing skips a missing container): host node1: container `memcached` does not exist"),
        "{err}"
    );
    // ... unless --ignore-missing; its plan says so and stops nothing
    let o = run(d, "stop", &["--plan", "--ignore-missing"]);
    let plan = ok(&o, "stop --plan");
    for want in [
        "node1        skip (missing)    memcached",
        "node2        stop              cron",
        "node1        stop              kolla_toolbox",
    ] {
        assert!(plan.contains(want), "{want}:\n{plan}");
    }
    let running =
        |e: &str, c: &str| lines(e, &["inspect", "-f", "{{.State.Running}}", c]) == ["true"];
    assert!(running(&engines[0], "cron"));
    ok(
        &run(
            d,
            "stop",
            &["--ignore-missing", "--yes-i-really-really-mean-it"],
        ),
        "stop --ignore-missing",
    );
    for e in engines {
        assert!(!running(e, "cron") && !running(e, "kolla_toolbox"));
    }
    assert_eq!(run(d, "stop", &[]).status.code(), Some(2));

    // prune-images: only its namespace's images that no container uses
    let plan = ok(&run(d, "prune-images", &["--plan"]), "prune-images --plan");
    assert!(
        plan.contains(&format!(
            "node1        remove image      {NS}/memcached:latest"
        )),
        "{plan}"
    );
    assert!(
        !plan.contains(&format!("{NS}/cron")) && !plan.contains("kollars/"),
        "{plan}"
    );
    assert!(has_image(&engines[0], &format!("{NS}/memcached:latest")));
    ok(
        &run(d, "prune-images", &["--yes-i-really-really-mean-it"]),
        "prune-images",
    );
    for e in engines {
        assert!(!has_image(e, &format!("{NS}/memcached:latest")));
        assert!(has_image(e, &format!("{NS}/cron:latest")));
        assert!(
            has_image(e, "kollars/memcached:latest"),
            "another namespace's tag is kept"
        );
    }

    // destroy --plan: every container, volume, record, directory and image, nothing removed
    let extra = ["--include-images", "--include-dev"];
    let mut a = vec!["--plan"];
    a.extend(extra);
    let plan = ok(&run(d, "destroy", &a), "destroy --plan");
    for want in [
        "node1        remove container  cron".to_string(),
        "node2        remove container  kolla_toolbox".to_string(),
        "node1        remove volume     kolla_logs".to_string(),
        format!(
            "node1        remove directory  {}/etc-node1/cron",
            d.display()
        ),
        format!("node2        remove directory  {}", dev.display()),
        format!("node1        remove image      {NS}/cron:latest"),
    ] {
        assert!(plan.contains(&want), "{want}:\n{plan}");
    }
    assert!(
        !plan.contains("etc-node1/haproxy"),
        "only directories that exist: {plan}"
    );
    assert!(
        lines(
            &engines[0],
            &["ps", "-aq", "--filter", "label=kollars.managed"]
        )
        .len()
            >= 2
    );
    assert!(dev.exists());

    let mut a = vec!["--yes-i-really-really-mean-it"];
    a.extend(extra);
    ok(&run(d, "destroy", &a), "destroy");
    for e in engines {
        assert!(lines(e, &["ps", "-aq", "--filter", "label=kollars.managed"]).is_empty());
        let volumes = lines(e, &["volume", "ls", "-q"]);
        assert!(!volumes.contains(&"kolla_logs".to_string()), "{volumes:?}");
        for label in [
            "kollars.config-record",
            "kollars.task-record",
            "kollars.bootstrap-record",
        ] {
            assert!(lines(
                e,
                &["volume", "ls", "-q", "--filter", &format!("label={label}")]
            )
            .is_empty());
        }
        assert!(!has_image(e, &format!("{NS}/cron:latest")));
        assert!(!has_image(e, &format!("{NS}/kolla-toolbox:latest")));
        assert!(
            has_image(e, "kollars/cron:latest"),
            "another namespace's tag is kept"
        );
    }
    for h in ["node1", "node2"] {
        assert!(!d.join(format!("etc-{h}/cron")).exists(), "{h}");
        assert!(!d.join(format!("etc-{h}/kolla-toolbox")).exists(), "{h}");
    }
    assert_eq!(
        std::fs::read_to_string(&keep).unwrap(),
        "mine",
        "an operator's file stays"
    );
    assert!(!dev.exists() && d.join("dev").exists());
    assert_eq!(run(d, "destroy", &[]).status.code(), Some(2));
}
