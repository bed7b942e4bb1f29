//! A full disk under `node_config_directory` mid-reconfigure (a small tmpfs, filled): the
//! run fails with a clear error naming the host, the file and the cause, every config file is
//! whole (the old one: no torn file, no temp file left), no container restarts onto a partial
//! config; with room again a rerun converges. (The configdir's full disk — genpwd, mergepwd,
//! post-deploy losing nothing — is tested with those commands.)

use std::collections::BTreeMap;
use std::path::Path;

use crate::util::{
    docker, engines, engines_turn, ensure_images, files_under, kollars, site_args, site_inputs,
    standin_globals, stderr, SmallDisk,
};

const CONTAINERS: &[&str] = &["cron", "kolla_toolbox"];

fn started(engine: &str) -> Vec<String> {
    CONTAINERS
        .iter()
        .map(|c| {
            let o = docker(
                engine,
                &[
                    "inspect",
                    "-f",
                    "{{.State.Running}} {{.State.StartedAt}}",
                    c,
                ],
            );
            String::from_utf8_lossy(&o.stdout).trim().to_owned()
        })
        .collect()
}

fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    files_under(dir)
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(dir.join(&f)).unwrap();
            (f, bytes)
        })
        .collect()
}

#[test]
fn a_full_node_config_directory_fails_clearly_and_tears_nothing() {
    let Some(disk) = SmallDisk::mount(512) else {
        return;
    };
    let _turn = engines_turn();
    let engines = engines();
    let engine = &engines[0];
    ensure_images(engine, &["cron", "kolla-toolbox"]);
    for c in CONTAINERS {
        let _ = docker(engine, &["rm", "-f", c]);
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    site_inputs(d, &["node1"], &standin_globals());
    let etc = disk.path().join("etc");
    std::fs::write(
        d.join("inventory"),
        format!(
            "[common]\nnode1 kollars_engine={engine} node_config_directory={}\n\
             [cron:children]\ncommon\n[kolla-toolbox:children]\ncommon\n\
             [kolla_toolbox:children]\ncommon\n",
            etc.display()
        ),
    )
    .unwrap();
    let args = |cmd: &str| site_args(d, cmd, "cron,kolla-toolbox", &[]);
    let o = kollars(args("deploy"));
    assert!(o.status.success(), "{}", stderr(&o));
    let before = tree(&etc);
    let running = started(engine);
    assert!(running.iter().all(|s| s.starts_with("true")), "{running:?}");

    // a change of cron's config, and no room left for it
    let over = d.join("config/config/cron/node1/cron-logrotate-global.conf");
    std::fs::create_dir_all(over.parent().unwrap()).unwrap();
    std::fs::write(&over, format!("# changed\n{}\n", "#".repeat(8000))).unwrap();
    disk.fill();
    let o = kollars(args("reconfigure"));
    let err = stderr(&o);
    assert!(!o.status.success(), "wrote on a full disk: {err}");
    assert!(!err.contains("panicked"), "{err}");
    let failure = err
        .lines()
        .find(|l| l.starts_with("host node1 FAILED"))
        .unwrap_or_else(|| panic!("no failure of node1: {err}"));
    assert!(failure.contains("No space left on device"), "{failure}");
    assert!(failure.contains(&etc.display().to_string()), "{failure}");
    assert_eq!(
        tree(&etc),
        before,
        "a config file changed or was left behind"
    );
    assert_eq!(started(engine), running, "a container restarted");

    // with room again, the change lands and cron restarts onto it
    std::fs::remove_file(disk.path().join("filler")).unwrap();
    let o = kollars(args("reconfigure"));
    assert!(o.status.success(), "{}", stderr(&o));
    let after = tree(&etc);
    let logrotate = after
        .iter()
        .find(|(f, _)| f.as_str() == "cron/logrotate.conf")
        .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
        .expect("cron's logrotate config");
    assert!(logrotate.starts_with("# changed"), "{logrotate}");
    let now = started(engine);
    assert_ne!(
        now[0], running[0],
        "cron did not restart onto its new config"
    );
    assert!(!after.keys().any(|f| f.contains(".tmp-kollars-")));
    for c in CONTAINERS {
        let _ = docker(engine, &["rm", "-f", c]);
    }
}
