//! `gather-facts` on two stand-in engines: each host's facts, gathered through its engine,
//! written as the fact cache `--facts` reads; a rerun rewrites nothing; `--plan` gathers and
//! writes nothing.

use serde_json::Value;

use crate::util::{engines, ensure_images, kollars, site_inventory, standin_globals, stderr};

#[test]
fn gather_facts_writes_the_cache_that_facts_reads() {
    let engines = engines();
    for e in &engines[..2] {
        ensure_images(e, &["kolla-toolbox", "cron"]);
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // the inputs without facts: the hosts are reached through their engines
    crate::util::site_inputs(d, &[], &standin_globals());
    std::fs::remove_dir_all(d.join("facts")).unwrap();
    site_inventory(
        d,
        "common",
        &[("node1", &engines[0], ""), ("node2", &engines[1], "")],
        &["cron"],
    );
    let facts = d.join("cache");
    let args = |extra: &[&str]| {
        let mut a: Vec<String> = vec![
            "gather-facts".into(),
            "-i".into(),
            d.join("inventory").display().to_string(),
            "--configdir".into(),
            d.join("config").display().to_string(),
            "--facts".into(),
            facts.display().to_string(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let o = kollars(args(&["--plan", "-l", "node2"]));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!("write {}\n", facts.join("node2.json").display())
    );
    assert!(!facts.exists());

    let o = kollars(args(&[]));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(": 2 written, 0 unchanged"),
        "{}",
        stderr(&o)
    );
    for h in ["node1", "node2"] {
        let v: Value = serde_json::from_str(
            &std::fs::read_to_string(facts.join(format!("{h}.json"))).unwrap(),
        )
        .unwrap();
        for key in [
            "ansible_hostname",
            "ansible_interfaces",
            "ansible_processor_vcpus",
        ] {
            assert!(v.get(key).is_some(), "{h}: no {key}: {v}");
        }
    }
    // the cache is what --facts reads: genconfig renders from it without any engine
    let out = d.join("out");
    let o = crate::util::genconfig(
        &d.join("inventory"),
        &d.join("config"),
        &facts,
        &out,
        &["-t", "cron"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out.join("node1/cron/config.json").is_file());
    // a rerun finds the same facts
    let o = kollars(args(&[]));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(": 0 written, 2 unchanged"),
        "{}",
        stderr(&o)
    );
    // without --facts there is nowhere to write
    let mut a = args(&[]);
    a.truncate(5);
    assert_eq!(kollars(a).status.code(), Some(2));
}
