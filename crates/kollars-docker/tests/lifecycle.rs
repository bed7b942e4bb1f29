//! The driver against real Docker engines, continued from `engine.rs`: volumes, one-shots,
//! stopping, engines that are down or side by side, a kolla service dict end to end, many
//! containers and the survey.
//!
//! Every test uses its own container names, so tests run in parallel on the same engines, and
//! removes what it created.

mod common;

use std::time::{Duration, Instant};

use common::{cleanup, engine, fields, spec, unique, Cleanup, IMAGE_1, IMAGE_2};
use kollars_docker::{Action, ContainerSpec, DockerError, Engine, LABEL_MANAGED};
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
