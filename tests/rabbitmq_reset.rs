//! `rabbitmq-reset-state` on two stand-in engines: stop_app everywhere, then force_reset
//! everywhere, then start_app (and wait) one member after the other, in the members'
//! `rabbitmq` containers; `--plan` lists that and runs nothing; a member whose container is
//! not running fails it before any member is touched.

use serde_json::Value;

use crate::util::{
    docker, engines, engines_turn, ensure_images, kollars, site_args, site_inputs, site_inventory,
    standin_globals, stderr,
};

#[test]
fn rabbitmq_reset_state_in_phase_order() {
    let _turn = engines_turn();
    let engines = engines();
    let engines = &engines[..2];
    for e in engines {
        ensure_images(e, &["rabbitmq", "kolla-toolbox"]);
        docker(e, &["rm", "-f", "rabbitmq"]);
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    site_inputs(d, &["node1", "node2"], &standin_globals());
    site_inventory(
        d,
        "control",
        &[("node1", &engines[0], ""), ("node2", &engines[1], "")],
        &["rabbitmq"],
    );
    let run = |cmd: &str, extra: &[&str]| kollars(site_args(d, cmd, "rabbitmq", extra));
    let o = run("deploy", &[]);
    assert!(o.status.success(), "deploy: {}", stderr(&o));

    let o = run("rabbitmq-reset-state", &["--plan"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let plan: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        plan,
        [
            "node1 rabbitmqctl stop_app",
            "node2 rabbitmqctl stop_app",
            "node1 rabbitmqctl force_reset",
            "node2 rabbitmqctl force_reset",
            "node1 rabbitmqctl start_app",
            "node2 rabbitmqctl start_app",
        ]
    );

    let o = run("rabbitmq-reset-state", &["--output", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let done: Vec<(String, String)> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["step"] == "task" && v["phase"] == "finished")
        .map(|v| {
            (
                v["host"].as_str().unwrap().to_owned(),
                v["detail"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let at = |host: &str, cmd: &str| {
        done.iter()
            .position(|(h, c)| h == host && c.starts_with(cmd))
            .unwrap_or_else(|| panic!("no {cmd} on {host}: {done:?}"))
    };
    assert_eq!(done.len(), 8, "{done:?}");
    for h in ["node1", "node2"] {
        for g in ["node1", "node2"] {
            assert!(
                at(h, "rabbitmqctl stop_app") < at(g, "rabbitmqctl force_reset"),
                "{done:?}"
            );
            assert!(
                at(h, "rabbitmqctl force_reset") < at(g, "rabbitmqctl start_app"),
                "{done:?}"
            );
        }
    }
    // one member after the other: node2 starts once node1 answers its wait
    assert!(
        at("node1", "rabbitmqctl wait") < at("node2", "rabbitmqctl start_app"),
        "{done:?}"
    );

    // a member not running: nothing is touched anywhere
    assert!(docker(&engines[1], &["stop", "rabbitmq"]).status.success());
    let o = run("rabbitmq-reset-state", &["--output", "json"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("host node2 FAILED: container `rabbitmq` is not running"),
        "{}",
        stderr(&o)
    );
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains("rabbitmqctl"),
        "a member was touched"
    );
    for e in engines {
        docker(e, &["rm", "-f", "rabbitmq"]);
    }
}
