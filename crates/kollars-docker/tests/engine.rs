//! The driver against real Docker engines (scripts/engines.sh or `KOLLARS_TEST_ENGINES`).
//!
//! Every test uses its own container names, so tests run in parallel on the same engines, and
//! removes what it created.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{cleanup, engine, spec, started_at_and_id, unique, Cleanup, IMAGE_1, IMAGE_2};
use kollars_docker::{
    Action, CheckStatus, CollectingReporter, CommonOptions, ContainerSpec, DockerError, Engine,
    HealthTest, Healthcheck, Phase, Step, Ulimit, LABEL_CONFIG_HASH, LABEL_MANAGED,
    LABEL_SPEC_HASH,
};

fn fields(action: &Action) -> Vec<String> {
    match action {
        Action::Recreate { reasons } => reasons.iter().map(|r| r.field.clone()).collect(),
        other => panic!("expected recreate, got {other:?}"),
    }
}

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

#[tokio::test]
async fn named_volume_is_created_once_with_kolla_label() {
    let e = engine(0).await;
    let vol = unique("vol");
    let _guard = Cleanup::new(&[&e], &[], &[&vol]);
    assert!(e.create_volume(&vol).await.unwrap(), "created");
    assert!(!e.create_volume(&vol).await.unwrap(), "already there");
    let v = e.docker().inspect_volume(&vol).await.unwrap();
    assert_eq!(v.driver, "local");
    assert_eq!(v.labels["kolla_managed"], "true");
    assert_eq!(v.labels[LABEL_MANAGED], "true");
    e.docker()
        .remove_volume(&vol, None::<bollard::query_parameters::RemoveVolumeOptions>)
        .await
        .unwrap();
}

#[tokio::test]
async fn oneshot_bootstrap_success_keeps_logs_and_removes() {
    let e = engine(0).await;
    let service = spec(&unique("svc"));
    let mut boot = service.bootstrap(unique("bootstrap"));
    boot.command = Some(
        "sh -c 'echo boot=${KOLLA_BOOTSTRAP+set} svc=$KOLLA_SERVICE_NAME; echo to-stderr >&2'"
            .into(),
    );
    let out = e.run_oneshot(&boot).await.unwrap();
    assert_eq!(out.exit_code, 0);
    let svc = boot.name.replace('_', "-");
    assert!(
        out.logs.contains(&format!("boot=set svc={svc}")),
        "{}",
        out.logs
    );
    assert!(out.logs.contains("to-stderr"), "{}", out.logs);
    assert!(e.inspect(&boot.name).await.unwrap().is_none(), "removed");
}

#[tokio::test]
async fn oneshot_failure_reports_exit_code_and_log_tail() {
    let e = engine(0).await;
    let mut boot = spec(&unique("svc")).bootstrap(unique("bootfail"));
    boot.command = Some("sh -c 'echo db_sync failed: no database; exit 3'".into());
    let err = e.run_oneshot(&boot).await.unwrap_err();
    match &err {
        DockerError::OneshotFailed {
            host,
            container,
            exit_code,
            logs_tail,
        } => {
            assert_eq!(host, "host1");
            assert_eq!(container, &boot.name);
            assert_eq!(*exit_code, 3);
            assert!(logs_tail.contains("db_sync failed"), "{logs_tail}");
        }
        other => panic!("expected OneshotFailed, got {other}"),
    }
    assert!(err.to_string().contains("exited with code 3"));
    assert!(e.inspect(&boot.name).await.unwrap().is_none(), "removed");
}

#[tokio::test]
async fn stop_waits_the_graceful_timeout_then_kills() {
    let e = engine(0).await;
    // A container that ignores SIGTERM (PID 1 without a handler): stop must wait, then kill.
    let stubborn = unique("stubborn");
    let _guard = Cleanup::new(&[&e], &[&stubborn], &[]);
    let mut s = spec(&stubborn);
    s.command = Some("sleep 3600".into());
    cleanup(&e, &stubborn).await;
    e.converge(&s, None).await.unwrap();
    let t0 = Instant::now();
    assert!(e.stop(&stubborn, Some(2), false).await.unwrap());
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_secs(2),
        "waited the timeout: {took:?}"
    );
    let c = e.inspect(&stubborn).await.unwrap().unwrap();
    let st = c.state.unwrap();
    assert_eq!(st.status.unwrap().to_string(), "exited");
    assert_eq!(st.exit_code, Some(137), "killed");

    // A well-behaved one stops at once with its own exit code.
    let good = unique("graceful");
    let _guard2 = Cleanup::new(&[&e], &[&good], &[]);
    let s = spec(&good);
    cleanup(&e, &good).await;
    e.converge(&s, None).await.unwrap();
    e.stop(&good, Some(30), false).await.unwrap();
    // exit code 0: it ended on SIGTERM, nobody killed it (137) after the 30 s
    let st = e.inspect(&good).await.unwrap().unwrap().state.unwrap();
    assert_eq!(st.exit_code, Some(0));

    // Missing containers: error unless ignore_missing.
    assert!(!e.stop("kt_never_existed", None, true).await.unwrap());
    let err = e.stop("kt_never_existed", None, false).await.unwrap_err();
    assert!(matches!(err, DockerError::NoSuchContainer { .. }), "{err}");

    assert!(e.stop_and_remove(&stubborn, Some(1)).await.unwrap());
    assert!(e.stop_and_remove(&good, Some(1)).await.unwrap());
    assert!(!e.stop_and_remove(&good, Some(1)).await.unwrap());
}

#[tokio::test]
async fn engine_that_is_down_names_host_and_endpoint() {
    // A socket file nobody listens on: the daemon is down.
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("docker.sock");
    drop(std::os::unix::net::UnixListener::bind(&sock).unwrap());
    let endpoint = format!("unix://{}", sock.display());
    let err = Engine::connect("ctl01", &endpoint, None).await.unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, DockerError::Unreachable { .. }), "{msg}");
    assert!(msg.contains("ctl01"), "{msg}");
    assert!(msg.contains(&endpoint), "{msg}");
    assert!(msg.contains("unreachable"), "{msg}");

    // No socket at all.
    let endpoint = "unix:///nonexistent/kollars/docker.sock";
    let msg = Engine::connect("ctl02", endpoint, None)
        .await
        .unwrap_err()
        .to_string();
    assert!(msg.contains("ctl02") && msg.contains(endpoint), "{msg}");

    // SSH transport to a host that does not exist: same clear error.
    let endpoint = "ssh://nobody@kollars-no-such-host.invalid";
    let msg = Engine::connect("cmp01", endpoint, None)
        .await
        .unwrap_err()
        .to_string();
    assert!(msg.contains("cmp01") && msg.contains(endpoint), "{msg}");

    // TLS endpoint whose cert directory lacks the files.
    let msg = Engine::connect("ctl04", "tcp://127.0.0.1:2376", Some(dir.path()))
        .await
        .unwrap_err()
        .to_string();
    assert!(msg.contains("ctl04") && msg.contains("key.pem"), "{msg}");

    // Plain TCP is refused before any connection attempt.
    let msg = Engine::connect("ctl03", "tcp://127.0.0.1:2375", None)
        .await
        .unwrap_err()
        .to_string();
    assert!(msg.contains("ctl03") && msg.contains("TLS"), "{msg}");
}

#[tokio::test]
async fn two_engines_side_by_side_converge_independently() {
    let (a, b) = (engine(0).await, engine(1).await);
    assert_ne!(a.endpoint(), b.endpoint(), "two distinct engines");
    let name = unique("multi");
    let _guard = Cleanup::new(&[&a, &b], &[&name], &[]);
    let s = spec(&name);
    cleanup(&a, &name).await;
    cleanup(&b, &name).await;
    let (ra, rb) = tokio::join!(a.converge(&s, Some("A")), b.converge(&s, Some("A")));
    assert_eq!((ra.unwrap(), rb.unwrap()), (Action::Create, Action::Create));
    // A config change on one host restarts only there.
    assert!(matches!(
        b.converge(&s, Some("B")).await.unwrap(),
        Action::Restart { .. }
    ));
    assert_eq!(a.decide(&s, Some("A")).await.unwrap(), Action::Nothing);
    assert_eq!(b.decide(&s, Some("B")).await.unwrap(), Action::Nothing);
    cleanup(&a, &name).await;
    cleanup(&b, &name).await;
}

#[tokio::test]
async fn kolla_service_yaml_deploys() {
    let e = engine(0).await;
    let name = unique("yaml");
    let _guard = Cleanup::new(&[&e], &[&name], &[&format!("kolla_logs_{name}")]);
    let yaml = format!(
        r#"
container_name: "{name}"
group: "keystone"
enabled: true
image: "{IMAGE_1}"
command: "sh -c 'sleep 3600'"
volumes:
  - "kolla_logs_{name}:/var/log/kolla/"
  - ""
environment:
  KOLLA_BOOTSTRAP:
dimensions: {{}}
healthcheck:
  interval: "30"
  retries: "3"
  start_period: "5"
  test: ["CMD-SHELL", "true"]
  timeout: "30"
haproxy:
  keystone: {{enabled: true}}
"#
    );
    let s: ContainerSpec = serde_yaml::from_str(&yaml).unwrap();
    cleanup(&e, &name).await;
    assert_eq!(e.converge(&s, Some("x")).await.unwrap(), Action::Create);
    assert_eq!(e.decide(&s, Some("x")).await.unwrap(), Action::Nothing);
    let env = e
        .inspect(&name)
        .await
        .unwrap()
        .unwrap()
        .config
        .unwrap()
        .env
        .unwrap();
    assert!(env.contains(&"KOLLA_BOOTSTRAP=".to_owned()));
    cleanup(&e, &name).await;
    let _ = e
        .docker()
        .remove_volume(
            &format!("kolla_logs_{name}"),
            None::<bollard::query_parameters::RemoveVolumeOptions>,
        )
        .await;
}

#[tokio::test]
async fn many_containers_second_run_changes_nothing() {
    let e = engine(1).await;
    let names: Vec<String> = (0..12).map(|_| unique("many")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let _guard = Cleanup::new(&[&e], &refs, &[]);
    let specs: Vec<ContainerSpec> = names.iter().map(|n| spec(n)).collect();
    let first =
        futures_util::future::join_all(specs.iter().map(|s| e.converge(s, Some("h")))).await;
    assert!(first.into_iter().all(|r| r.unwrap() == Action::Create));
    let second = futures_util::future::join_all(specs.iter().map(|s| e.decide(s, Some("h")))).await;
    assert!(second.into_iter().all(|r| r.unwrap() == Action::Nothing));
    // the batched decision (survey shortcut) agrees with the one-by-one one
    let items: Vec<(&ContainerSpec, Option<&str>)> = specs.iter().map(|s| (s, Some("h"))).collect();
    let survey = e.survey().await.unwrap();
    assert!(e
        .decide_many(Some(&survey), &items)
        .await
        .into_iter()
        .all(|r| r.unwrap() == Action::Nothing));
    let managed = e.list_managed().await.unwrap();
    assert!(names.iter().all(|n| managed.iter().any(|m| &m.name == n)));
}

/// The survey shortcut of `decide_many` (one container listing, one record listing) must see
/// what a full inspect sees: a tag moved to another image (a rebuild or pull under the same
/// tag) and a config applied by a restart.
#[tokio::test]
async fn survey_notices_a_moved_tag_and_an_applied_config() {
    let e = engine(2).await;
    let name = unique("survey");
    let tag = format!("kollars-test/moving:{name}");
    let _guard = Cleanup::new(&[&e], &[&name], &[]);
    let retag = |from: &'static str| {
        let (repo, t) = tag.rsplit_once(':').unwrap();
        let options = bollard::query_parameters::TagImageOptions {
            repo: Some(repo.to_owned()),
            tag: Some(t.to_owned()),
        };
        let e = e.clone();
        async move { e.docker().tag_image(from, Some(options)).await.unwrap() }
    };
    retag(IMAGE_1).await;
    let mut s = spec(&name);
    s.image = tag.clone();
    assert_eq!(e.converge(&s, Some("h1")).await.unwrap(), Action::Create);

    let survey = e.survey().await.unwrap();
    let d = e.decide_many(Some(&survey), &[(&s, Some("h1"))]).await;
    assert_eq!(d.into_iter().next().unwrap().unwrap(), Action::Nothing);

    // only the config changed: restart, recorded; the next survey sees the new config
    let survey = e.survey().await.unwrap();
    let d = e
        .decide_many(Some(&survey), &[(&s, Some("h2"))])
        .await
        .remove(0)
        .unwrap();
    assert!(matches!(d, Action::Restart { .. }), "{d:?}");
    e.apply(&s, Some("h2"), &d).await.unwrap();
    let survey = e.survey().await.unwrap();
    let d = e
        .decide_many(Some(&survey), &[(&s, Some("h2"))])
        .await
        .remove(0)
        .unwrap();
    assert_eq!(d, Action::Nothing);

    // the same tag now names another image: recreate, for the image
    retag(IMAGE_2).await;
    let survey = e.survey().await.unwrap();
    let d = e
        .decide_many(Some(&survey), &[(&s, Some("h2"))])
        .await
        .remove(0)
        .unwrap();
    assert_eq!(fields(&d), vec!["image".to_owned()], "{d:?}");

    let _ = e
        .docker()
        .remove_image(
            &tag,
            Some(bollard::query_parameters::RemoveImageOptions {
                force: true,
                noprune: true,
            }),
            None,
        )
        .await;
}
