use super::*;
use crate::compare::compare;
use crate::testing::{desired, facts, inspect_of, spec};
use bollard::models::ResourcesUlimits;

/// What podman 4.3's compat inspect shows for a container created from `d` (the differences
/// seen on this machine, remote-engines.md), on top of dockerd's view.
fn podman_inspect_of(d: &DesiredContainer) -> ContainerInspectResponse {
    let mut c = inspect_of(d, None);
    let config = c.config.as_mut().unwrap();
    config.image = Some(format!("docker.io/{}", config.image.clone().unwrap()));
    config.volumes = None;
    config.entrypoint = Some(vec![]);
    config
        .env
        .as_mut()
        .unwrap()
        .extend(["TERM=xterm".into(), "container=podman".into()]);
    let host = c.host_config.as_mut().unwrap();
    host.binds = Some(
        host.binds
            .take()
            .unwrap()
            .into_iter()
            .map(|b| {
                if b.starts_with('/') {
                    format!("{b},rprivate,rbind")
                } else {
                    format!("{b},rprivate,nosuid,nodev,rbind")
                }
            })
            .collect(),
    );
    host.ipc_mode = Some("shareable".into());
    host.cgroupns_mode = Some(HostConfigCgroupnsModeEnum::EMPTY);
    host.tmpfs = Some(HashMap::from([(
        "/scratch".into(),
        "rw,rprivate,nosuid,nodev,tmpcopyup".into(),
    )]));
    // the requested ulimits under podman's names, and the engine's default nproc
    let mut ulimits: Vec<ResourcesUlimits> = host
        .ulimits
        .take()
        .unwrap_or_default()
        .into_iter()
        .map(|u| ResourcesUlimits {
            name: u.name.map(|n| format!("RLIMIT_{}", n.to_ascii_uppercase())),
            ..u
        })
        .collect();
    ulimits.push(ResourcesUlimits {
        name: Some("RLIMIT_NPROC".into()),
        soft: Some(32768),
        hard: Some(32768),
    });
    host.ulimits = Some(ulimits);
    c
}

#[test]
fn a_podman_container_created_from_the_spec_shows_no_difference() {
    let d = desired(&spec());
    let mut c = podman_inspect_of(&d);
    assert!(!compare(&d, &c, &facts()).is_empty(), "raw podman inspect");
    normalize(&mut c, &d);
    assert_eq!(compare(&d, &c, &facts()), vec![]);
}

#[test]
fn a_real_change_still_shows_after_normalising() {
    let d = desired(&spec());
    let mut other = spec();
    other.volumes[0] = "/etc/kolla/nova-api/:/var/lib/kolla/config_files/:rw".into();
    other.dimensions.ulimits.get_mut("nofile").unwrap().soft = 10;
    other.image = "quay.io/kolla/nova-api:2".into();
    let mut c = podman_inspect_of(&desired(&other));
    normalize(&mut c, &d);
    let fields: Vec<String> = compare(&d, &c, &facts())
        .into_iter()
        .map(|x| x.field)
        .collect();
    assert_eq!(fields, ["image", "volumes", "dimensions.ulimits"]);
}

#[test]
fn binds_lose_the_options_podman_implies() {
    let want = BTreeSet::from([
        "kolla_logs:/var/log/kolla/:rw".to_owned(),
        "/run/netns:/run/netns:shared".to_owned(),
        "/etc/kolla/cron/:/var/lib/kolla/config_files/:ro".to_owned(),
    ]);
    for (podman, docker) in [
        (
            "kolla_logs:/var/log/kolla/:rw,rprivate,nosuid,nodev,rbind",
            "kolla_logs:/var/log/kolla/:rw",
        ),
        (
            "/run/netns:/run/netns:shared,rw,rbind",
            "/run/netns:/run/netns:shared",
        ),
        (
            "/etc/kolla/cron/:/var/lib/kolla/config_files/:ro,rprivate,rbind",
            "/etc/kolla/cron/:/var/lib/kolla/config_files/:ro",
        ),
        // trailing slashes dropped by the engine
        (
            "/etc/kolla/cron:/var/lib/kolla/config_files:ro,rprivate,rbind",
            "/etc/kolla/cron/:/var/lib/kolla/config_files/:ro",
        ),
        (
            "kolla_logs:/var/log/kolla:rw,rprivate,nosuid,nodev,rbind",
            "kolla_logs:/var/log/kolla/:rw",
        ),
        // not desired: podman's own options dropped, the rest kept as it is
        ("/x:/y:ro,rprivate,rbind", "/x:/y:ro"),
        ("/x:/y:rw,rprivate,nosuid,nodev,rbind", "/x:/y:rw"),
        // a different mode is a different bind
        (
            "/etc/kolla/cron/:/var/lib/kolla/config_files/:rw,rprivate,rbind",
            "/etc/kolla/cron/:/var/lib/kolla/config_files/:rw",
        ),
    ] {
        assert_eq!(docker_bind(podman, &want), docker, "{podman}");
    }
}

#[test]
fn anonymous_volumes_are_container_paths_not_binds() {
    let mut s = spec();
    s.volumes.push("/var/lib/anon".into());
    let d = desired(&s);
    let mut c = podman_inspect_of(&d);
    c.host_config
        .as_mut()
        .unwrap()
        .binds
        .as_mut()
        .unwrap()
        .push(format!(
            "{}:/var/lib/anon:rw,rprivate,nosuid,nodev,rbind",
            "ab".repeat(32)
        ));
    normalize(&mut c, &d);
    assert_eq!(compare(&d, &c, &facts()), vec![]);
}

#[test]
fn ulimit_names_and_engine_defaults() {
    assert_eq!(docker_ulimit_name("RLIMIT_NOFILE"), "nofile");
    assert_eq!(docker_ulimit_name("nproc"), "nproc");
    // nothing asked for: the engine's default nofile/nproc are no difference, others are
    let mut s = spec();
    s.dimensions.ulimits.clear();
    let d = desired(&s);
    let mut c = podman_inspect_of(&d);
    c.host_config
        .as_mut()
        .unwrap()
        .ulimits
        .as_mut()
        .unwrap()
        .push(ResourcesUlimits {
            name: Some("RLIMIT_CORE".into()),
            soft: Some(0),
            hard: Some(0),
        });
    normalize(&mut c, &d);
    let diffs = compare(&d, &c, &facts());
    assert_eq!(diffs.len(), 1, "{diffs:?}");
    assert_eq!(diffs[0].current, "core=0:0");
}

#[test]
fn image_qualification() {
    for (cur, want, out) in [
        (
            "docker.io/kollars/cron:latest",
            "kollars/cron:latest",
            "kollars/cron:latest",
        ),
        ("docker.io/library/busybox:1", "busybox:1", "busybox:1"),
        (
            "localhost/kollars/cron:latest",
            "kollars/cron:latest",
            "kollars/cron:latest",
        ),
        // a new tag is still seen as one
        (
            "docker.io/kollars/cron:old",
            "kollars/cron:new",
            "kollars/cron:old",
        ),
        // qualified on both sides: unchanged
        ("quay.io/k/nova:1", "quay.io/k/nova:1", "quay.io/k/nova:1"),
        // another repository: unchanged
        (
            "docker.io/other/cron:latest",
            "kollars/cron:latest",
            "docker.io/other/cron:latest",
        ),
    ] {
        assert_eq!(unqualified_image(cur, want), out, "{cur}");
    }
}

#[test]
fn modes_podman_cannot_show_count_as_asked() {
    let mut s = spec();
    s.ipc_mode = Some("host".into());
    s.pid_mode = None;
    s.cgroupns_mode = Some("host".into());
    let d = desired(&s);
    let mut c = podman_inspect_of(&d);
    c.host_config.as_mut().unwrap().pid_mode = Some("private".into());
    normalize(&mut c, &d);
    let host = c.host_config.as_ref().unwrap();
    assert_eq!(host.ipc_mode.as_deref(), Some("host"));
    assert_eq!(host.pid_mode, None);
    assert_eq!(host.cgroupns_mode, Some(HostConfigCgroupnsModeEnum::HOST));
    // a pid mode podman does show is compared
    let mut c = podman_inspect_of(&d);
    c.host_config.as_mut().unwrap().pid_mode = Some("host".into());
    normalize(&mut c, &d);
    assert_eq!(compare(&d, &c, &facts())[0].field, "pid_mode");
}

#[test]
fn create_requests_name_each_mount_once() {
    let mut s = spec();
    s.volumes.push("/var/lib/anon".into());
    let mut body = desired(&s).create_body(None);
    adapt_create(&mut body);
    let paths: Vec<&String> = body.volumes.as_ref().unwrap().keys().collect();
    assert_eq!(paths, ["/var/lib/anon"]);
    let mut body = desired(&spec()).create_body(None);
    adapt_create(&mut body);
    assert!(body.volumes.is_none());
}

#[test]
fn kolla_podman_rules_in_the_desired_state() {
    use crate::desired::{CommonOptions, ContainerEngine};
    use crate::spec::Ulimit;
    let mut s = spec();
    s.volumes.push("devpts:/dev/pts".into());
    for n in ["RLIMIT_NOFILE", "RLIMIT_NPROC", "memlock"] {
        s.dimensions
            .ulimits
            .insert(n.into(), Ulimit { soft: 1, hard: 1 });
    }
    let podman = CommonOptions {
        container_engine: ContainerEngine::Podman,
        ..CommonOptions::default()
    };
    let d = DesiredContainer::resolve(&s, &podman, "UTC").unwrap();
    assert!(!d.named_volumes.contains("devpts"), "{:?}", d.named_volumes);
    assert!(!d.container_paths.contains("/dev/pts"));
    let names: Vec<&String> = d.dimensions.ulimits.keys().collect();
    assert_eq!(names, ["memlock", "nofile"]);
    // dockerd keeps all of them
    let d = desired(&s);
    assert!(d.named_volumes.contains("devpts"));
    assert_eq!(d.dimensions.ulimits.len(), 4);
}
