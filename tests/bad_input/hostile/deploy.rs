//! Hostile inputs to `deploy`, through real stand-in engines.

use std::path::Path;

use super::{bomb, snapshot, ADMIN_PASSWORD};
use crate::util::{files_under, stderr};

/// Hostile inputs given to `deploy` against real stand-in engines: exit 2, the culprit named,
/// no container created, removed or restarted, nothing under any node_config_directory.
#[test]
fn hostile_inputs_to_deploy_change_no_container_and_no_file() {
    use crate::util::{engines, engines_turn, kollars, site_args, site_inputs, site_inventory};
    use crate::util::{IMAGE_NAMESPACE, IMAGE_TAG};
    let _turn = engines_turn();
    let engines = engines();
    let base = format!(
        "kolla_base_distro: debian\ndocker_registry: \"\"\ndocker_namespace: {IMAGE_NAMESPACE}\n\
         openstack_tag: {IMAGE_TAG}\nnetwork_interface: eth0\n\
         kolla_internal_vip_address: 192.0.2.250\nkollars_privileged_containers: false\n"
    );
    type Edit = Box<dyn Fn(&Path)>;
    let cases: Vec<(&str, Edit, Vec<&str>, Vec<&str>)> = vec![
        (
            "enable a list",
            Box::new(|d| append(d, "enable_cron: [1]\n")),
            vec![],
            vec!["enable_cron must be a boolean"],
        ),
        (
            "tag a list",
            Box::new(|d| append(d, "openstack_tag: [demo]\n")),
            vec![],
            vec!["openstack_tag must be a single value"],
        ),
        (
            "vip a list",
            Box::new(|d| append(d, "kolla_internal_vip_address: [192.0.2.1]\n")),
            vec![],
            vec!["kolla_internal_vip_address"],
        ),
        (
            "empty password",
            Box::new(|d| {
                let p = d.join("config/passwords.yml");
                let t = std::fs::read_to_string(&p)
                    .unwrap()
                    .replace("\ndatabase_password: ", "\ndatabase_password: ''\nx_was: ");
                std::fs::write(p, t).unwrap();
            }),
            vec![],
            vec!["database_password", "empty"],
        ),
        (
            "alias bomb",
            Box::new(|d| append(d, &bomb())),
            vec![],
            vec!["globals.yml:", "more than 1000000 nodes"],
        ),
        (
            "globals.d a file",
            Box::new(|d| std::fs::write(d.join("config/globals.d"), "x: 1\n").unwrap()),
            vec![],
            vec!["globals.d", "must be a directory"],
        ),
        (
            "forks 0",
            Box::new(|_| {}),
            vec!["--forks", "0"],
            vec!["--forks", "0"],
        ),
    ];
    for (name, edit, extra, needles) in cases {
        let dir = tempfile::tempdir().unwrap();
        site_inputs(dir.path(), &["node1", "node2"], &base);
        site_inventory(
            dir.path(),
            "common",
            &[("node1", &engines[0], ""), ("node2", &engines[1], "")],
            &["cron", "kolla-toolbox", "kolla_toolbox"],
        );
        edit(dir.path());
        let before_files = snapshot(dir.path());
        let before = crate::bad_input::lifecycle_containers(&engines[..2]);
        let o = kollars(site_args(
            dir.path(),
            "deploy",
            "cron,kolla-toolbox",
            &extra,
        ));
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{name}: {err}");
        for n in needles {
            assert!(err.contains(n), "{name}: {n:?} missing from: {err}");
        }
        assert!(
            !err.contains(ADMIN_PASSWORD) && !err.contains("panicked"),
            "{name}: {err}"
        );
        assert_eq!(
            crate::bad_input::lifecycle_containers(&engines[..2]),
            before,
            "{name}: containers changed"
        );
        assert_eq!(snapshot(dir.path()), before_files, "{name}: files changed");
        for h in ["node1", "node2"] {
            assert!(
                files_under(&dir.path().join(format!("etc-{h}"))).is_empty(),
                "{name}: configs written"
            );
        }
    }
}

fn append(dir: &Path, text: &str) {
    let p = dir.join("config/globals.yml");
    let mut s = std::fs::read_to_string(&p).unwrap();
    s.push_str(text);
    std::fs::write(p, s).unwrap();
}
