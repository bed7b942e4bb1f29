//! The driver against real Docker engines (scripts/engines.sh or `KOLLARS_TEST_ENGINES`).
//!
//! Every test uses its own container names, so tests run in parallel on the same engines, and
//! removes what it created.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::{cleanup, engine, fields, spec, started_at_and_id, unique, Cleanup, IMAGE_2};
use kollars_docker::{
    Action, CheckStatus, CollectingReporter, CommonOptions, ContainerSpec, HealthTest, Healthcheck,
    Phase, Step, Ulimit, LABEL_CONFIG_HASH, LABEL_MANAGED, LABEL_SPEC_HASH,
};

/// A spec exercising most fields: bind + named volume, env, labels, healthcheck, ulimits,
/// cap_add, tmpfs, command.
fn rich_spec(name: &str, dir: &std::path::Path) -> ContainerSpec {
    let mut s = spec(name);
    s.volumes = vec![
        format!("{}:/etc/kolla-cfg/:ro", dir.display()),
        format!("{name}_vol:/var/lib/data"),
        String::new(),
    ];
    s.environment = BTreeMap::from([("FOO".into(), "bar".into()), ("EMPTY".into(), "".into())]);
    s.labels = BTreeMap::from([("app".into(), "test".into())]);
    s.healthcheck = Some(Healthcheck {
        test: HealthTest::Command(vec!["CMD-SHELL".into(), "true".into()]),
        interval: 30,
        timeout: 10,
        start_period: 5,
        retries: 3,
    });
    s.dimensions.ulimits.insert(
        "nofile".into(),
        Ulimit {
            soft: 1024,
            hard: 2048,
        },
    );
    s.cap_add = vec!["NET_ADMIN".into()];
    s.tmpfs = vec!["/scratch".into()];
    s.dimensions.mem_limit = Some(64 << 20);
    s.cgroupns_mode = Some("private".into());
    s.ipc_mode = Some("private".into());
    s
}

#[tokio::test]
async fn negotiates_the_engines_api_version() {
    let e = engine(0).await;
    let server = e.docker().version().await.unwrap();
    let server_api = server.api_version.unwrap();
    assert_eq!(
        e.api_version(),
        server_api,
        "client speaks the server's version"
    );
    // Debian's engine speaks 1.41, older than bollard's default: negotiation downgraded.
    assert_eq!(e.api_version(), "1.41");
    // And calls work at that version.
    e.docker().ping().await.unwrap();
}

#[tokio::test]
async fn create_start_then_compare_finds_no_difference() {
    let e = engine(0).await;
    let name = unique("create");
    let _guard = Cleanup::new(&[&e], &[&name], &[&format!("{name}_vol")]);
    let dir = tempfile::tempdir().unwrap();
    let s = rich_spec(&name, dir.path());
    cleanup(&e, &name).await;

    assert_eq!(e.decide(&s, Some("cfg1")).await.unwrap(), Action::Create);
    let reporter = Arc::new(CollectingReporter::default());
    let e2 = e.clone().with_reporter(reporter.clone());
    assert_eq!(e2.converge(&s, Some("cfg1")).await.unwrap(), Action::Create);

    let cmp = e.compare_container(&s, Some("cfg1")).await.unwrap();
    assert!(cmp.exists);
    assert_eq!(cmp.parameters, vec![], "no parameter differences");
    assert_eq!(cmp.state, None);
    assert_eq!(cmp.config, None);
    assert!(!cmp.changed());
    assert_eq!(e.decide(&s, Some("cfg1")).await.unwrap(), Action::Nothing);

    // What was created: host network, injected env, labels, named volume.
    let c = e.inspect(&name).await.unwrap().unwrap();
    let hc = c.host_config.clone().unwrap();
    assert_eq!(hc.network_mode.as_deref(), Some("host"));
    assert_eq!(
        hc.restart_policy.unwrap().name.unwrap().to_string(),
        "unless-stopped"
    );
    let cfg = c.config.clone().unwrap();
    let env = cfg.env.unwrap();
    let svc = format!("KOLLA_SERVICE_NAME={}", name.replace('_', "-"));
    assert!(env.contains(&svc), "{env:?}");
    assert!(env.contains(&"KOLLA_CONFIG_STRATEGY=COPY_ALWAYS".to_owned()));
    assert!(env.iter().any(|v| v.starts_with("TZ=")));
    let labels = cfg.labels.unwrap();
    assert_eq!(labels[LABEL_MANAGED], "true");
    assert_eq!(labels[LABEL_CONFIG_HASH], "cfg1");
    assert_eq!(labels[LABEL_SPEC_HASH], e.resolve(&s).unwrap().spec_hash());
    let vol = e
        .docker()
        .inspect_volume(&format!("{name}_vol"))
        .await
        .unwrap();
    assert_eq!(vol.labels["kolla_managed"], "true");

    // Listed as managed; check says running (healthcheck starting or healthy).
    let managed = e.list_managed().await.unwrap();
    assert!(managed
        .iter()
        .any(|m| m.name == name && m.state == "running"));
    let check = e
        .check(&[name.as_str(), "kt_does_not_exist"])
        .await
        .unwrap();
    assert!(check[0].status.is_ok(), "{:?}", check[0]);
    assert_eq!(check[1].status, CheckStatus::Missing);

    // Reporter saw the create start and finish.
    let ev = reporter.events();
    assert!(ev
        .iter()
        .any(|e| e.subject == name && e.step == Step::Create && e.phase == Phase::Started));
    assert!(ev
        .iter()
        .any(|e| e.subject == name && e.step == Step::Create && e.phase == Phase::Finished));

    cleanup(&e, &name).await;
    e.docker()
        .remove_volume(
            &format!("{name}_vol"),
            None::<bollard::query_parameters::RemoveVolumeOptions>,
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn each_parameter_change_is_a_recreate() {
    let e = engine(0).await;
    let name = unique("fields");
    let _guard = Cleanup::new(&[&e], &[&name], &[&format!("{name}_vol")]);
    let dir = tempfile::tempdir().unwrap();
    let base = rich_spec(&name, dir.path());
    cleanup(&e, &name).await;
    e.converge(&base, Some("c")).await.unwrap();
    assert_eq!(e.decide(&base, Some("c")).await.unwrap(), Action::Nothing);

    type Mutation = (&'static str, Box<dyn Fn(&mut ContainerSpec)>);
    let mutations: Vec<Mutation> = vec![
        ("image", Box::new(|s| s.image = IMAGE_2.into())),
        (
            "volumes",
            Box::new(|s| s.volumes.push("/tmp:/host-tmp".into())),
        ),
        (
            "environment.FOO",
            Box::new(|s| {
                s.environment.insert("FOO".into(), "baz".into());
            }),
        ),
        ("privileged", Box::new(|s| s.privileged = true)),
        (
            "healthcheck",
            Box::new(|s| s.healthcheck.as_mut().unwrap().retries = 5),
        ),
        (
            "dimensions.ulimits",
            Box::new(|s| {
                s.dimensions.ulimits.insert(
                    "nofile".into(),
                    Ulimit {
                        soft: 4096,
                        hard: 4096,
                    },
                );
            }),
        ),
        (
            "dimensions.cpu_shares",
            Box::new(|s| s.dimensions.cpu_shares = Some(512)),
        ),
        ("cap_add", Box::new(|s| s.cap_add.push("SYS_ADMIN".into()))),
        (
            "dimensions.mem_limit",
            Box::new(|s| s.dimensions.mem_limit = Some(128 << 20)),
        ),
        (
            "cgroupns_mode",
            Box::new(|s| s.cgroupns_mode = Some("host".into())),
        ),
        (
            "ipc_mode",
            Box::new(|s| s.ipc_mode = Some("shareable".into())),
        ),
        (
            "command",
            Box::new(|s| s.command = Some("sh -c 'sleep 3600'".into())),
        ),
        (
            "labels",
            Box::new(|s| {
                s.labels.insert("app".into(), "other".into());
            }),
        ),
        ("tmpfs", Box::new(|s| s.tmpfs.clear())),
        ("pid_mode", Box::new(|s| s.pid_mode = Some("host".into()))),
        (
            "restart_policy",
            Box::new(|s| s.restart_policy = Some(kollars_docker::RestartPolicy::Always)),
        ),
        (
            "security_opt",
            Box::new(|s| s.security_opt = vec!["no-new-privileges".into()]),
        ),
        (
            "graceful_timeout",
            Box::new(|s| s.graceful_timeout = Some(7)),
        ),
        ("tty", Box::new(|s| s.tty = true)),
    ];
    for (field, mutate) in &mutations {
        let mut s = base.clone();
        mutate(&mut s);
        let action = e.decide(&s, Some("c")).await.unwrap();
        assert_eq!(fields(&action), vec![field.to_string()], "changing {field}");
    }
    // Extra environment on the container (from the image) is not a difference (subset check).
    let mut fewer = base.clone();
    fewer.environment.remove("FOO");
    assert_eq!(e.decide(&fewer, Some("c")).await.unwrap(), Action::Nothing);

    // Applying a recreate replaces the container, then it is current.
    let (_, id_before) = started_at_and_id(&e, &name).await;
    let mut s = base.clone();
    s.image = IMAGE_2.into();
    s.environment.insert("FOO".into(), "baz".into());
    let action = e.converge(&s, Some("c")).await.unwrap();
    assert!(matches!(action, Action::Recreate { .. }));
    let (_, id_after) = started_at_and_id(&e, &name).await;
    assert_ne!(id_before, id_after, "recreated");
    assert_eq!(e.decide(&s, Some("c")).await.unwrap(), Action::Nothing);
    assert!(e.check(&[&name]).await.unwrap()[0].status.is_ok());

    cleanup(&e, &name).await;
    let _ = e
        .docker()
        .remove_volume(
            &format!("{name}_vol"),
            None::<bollard::query_parameters::RemoveVolumeOptions>,
        )
        .await;
}

#[tokio::test]
async fn config_hash_only_change_restarts_in_place() {
    let e = engine(0).await;
    let name = unique("restart");
    let _guard = Cleanup::new(&[&e], &[&name], &[]);
    let s = spec(&name);
    cleanup(&e, &name).await;
    e.converge(&s, Some("A")).await.unwrap();
    let (started1, id1) = started_at_and_id(&e, &name).await;

    let action = e.decide(&s, Some("B")).await.unwrap();
    let Action::Restart { reason } = &action else {
        panic!("expected restart, got {action:?}");
    };
    assert_eq!(
        (
            reason.field.as_str(),
            reason.current.as_str(),
            reason.desired.as_str()
        ),
        ("config", "A", "B")
    );
    e.apply(&s, Some("B"), &action).await.unwrap();
    let (started2, id2) = started_at_and_id(&e, &name).await;
    assert_eq!(id1, id2, "same container");
    assert_ne!(started1, started2, "restarted");

    // A second run changes nothing, although the label still says A.
    assert_eq!(e.decide(&s, Some("B")).await.unwrap(), Action::Nothing);
    // Going back to A is a change again (the label alone would say "nothing").
    let back = e.converge(&s, Some("A")).await.unwrap();
    assert!(matches!(back, Action::Restart { .. }), "{back:?}");
    let (_, id3) = started_at_and_id(&e, &name).await;
    assert_eq!(id1, id3);
    assert_eq!(e.decide(&s, Some("A")).await.unwrap(), Action::Nothing);
    // Without a config hash, config is not considered.
    assert_eq!(e.decide(&s, None).await.unwrap(), Action::Nothing);

    cleanup(&e, &name).await;
}

#[tokio::test]
async fn copy_once_config_change_recreates() {
    let e = engine(0).await.with_common_options(CommonOptions {
        config_strategy: "COPY_ONCE".into(),
        ..CommonOptions::default()
    });
    let name = unique("copyonce");
    let _guard = Cleanup::new(&[&e], &[&name], &[]);
    let s = spec(&name);
    cleanup(&e, &name).await;
    e.converge(&s, Some("A")).await.unwrap();
    let (_, id1) = started_at_and_id(&e, &name).await;
    let action = e.decide(&s, Some("B")).await.unwrap();
    assert_eq!(fields(&action), vec!["config"]);
    e.apply(&s, Some("B"), &action).await.unwrap();
    let (_, id2) = started_at_and_id(&e, &name).await;
    assert_ne!(id1, id2, "recreated under COPY_ONCE");
    assert_eq!(e.decide(&s, Some("B")).await.unwrap(), Action::Nothing);
    cleanup(&e, &name).await;
}

#[tokio::test]
async fn stopped_container_is_started_not_recreated() {
    let e = engine(0).await;
    let name = unique("start");
    let _guard = Cleanup::new(&[&e], &[&name], &[]);
    let s = spec(&name);
    cleanup(&e, &name).await;
    e.converge(&s, Some("A")).await.unwrap();
    let (_, id1) = started_at_and_id(&e, &name).await;
    e.stop(&name, None, false).await.unwrap();
    let cmp = e.compare_container(&s, Some("A")).await.unwrap();
    assert_eq!(cmp.state.as_ref().unwrap().current, "exited");
    assert_eq!(e.decide(&s, Some("A")).await.unwrap(), Action::Start);
    e.converge(&s, Some("A")).await.unwrap();
    let (_, id2) = started_at_and_id(&e, &name).await;
    assert_eq!(id1, id2);
    assert_eq!(e.decide(&s, Some("A")).await.unwrap(), Action::Nothing);
    cleanup(&e, &name).await;
}

#[tokio::test]
async fn privileged_container_is_created_and_asserted_via_inspect() {
    let e = engine(0).await;
    let name = unique("priv");
    let _guard = Cleanup::new(&[&e], &[&name], &[]);
    let mut s = spec(&name);
    s.privileged = true;
    s.security_opt = vec!["label=disable".into()];
    cleanup(&e, &name).await;
    // Privileged containers cannot start in this sandbox: create only.
    e.ensure_image(&s.image).await.unwrap();
    e.create_container(&s, Some("A")).await.unwrap();
    let c = e.inspect(&name).await.unwrap().unwrap();
    assert_eq!(c.host_config.unwrap().privileged, Some(true));
    let cmp = e.compare_container(&s, Some("A")).await.unwrap();
    assert_eq!(cmp.parameters, vec![], "privileged spec matches");
    assert_eq!(cmp.state.unwrap().current, "created");
    let mut unpriv = s.clone();
    unpriv.privileged = false;
    let f: Vec<String> = e
        .compare_container(&unpriv, Some("A"))
        .await
        .unwrap()
        .parameters
        .into_iter()
        .map(|d| d.field)
        .collect();
    assert!(f.contains(&"privileged".to_owned()), "{f:?}");
    cleanup(&e, &name).await;
}
