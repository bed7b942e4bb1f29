//! kolla's `check_container_differs` rules, a row per rule: each row changes the desired spec
//! and/or what the engine shows for a container created from the base spec, and names the
//! fields that must differ (none: kolla counts it as the same).

use std::collections::HashMap;

use bollard::models::{
    HealthConfig, HostConfigCgroupnsModeEnum, ResourcesUlimits, RestartPolicyNameEnum,
};

use super::*;
use crate::spec::{ContainerSpec, HealthTest, RestartPolicy, Ulimit};
use crate::testing::{desired, facts, inspect_of, spec, IMAGE_ID};

type SpecChange = fn(&mut ContainerSpec);
type EngineChange = fn(&mut ContainerInspectResponse, &mut ImageFacts);

struct Row {
    rule: &'static str,
    spec: SpecChange,
    engine: EngineChange,
    differs: &'static [&'static str],
}

fn same_spec(_: &mut ContainerSpec) {}
fn same_engine(_: &mut ContainerInspectResponse, _: &mut ImageFacts) {}

fn host(c: &mut ContainerInspectResponse) -> &mut bollard::models::HostConfig {
    c.host_config.as_mut().unwrap()
}

fn config(c: &mut ContainerInspectResponse) -> &mut bollard::models::ContainerConfig {
    c.config.as_mut().unwrap()
}

fn image_healthcheck() -> HealthConfig {
    HealthConfig {
        test: Some(vec!["CMD".into(), "true".into()]),
        interval: Some(10_000_000_000),
        ..HealthConfig::default()
    }
}

const ROWS: &[Row] = &[
    Row {
        rule: "the base spec against its own container",
        spec: same_spec,
        engine: same_engine,
        differs: &[],
    },
    // cap_add: set equality, CAP_ prefix and case normalised
    Row {
        rule: "cap_add: a capability added",
        spec: |s| s.cap_add.push("SYS_ADMIN".into()),
        engine: same_engine,
        differs: &["cap_add"],
    },
    Row {
        rule: "cap_add: CAP_ prefix and case do not matter",
        spec: same_spec,
        engine: |c, _| host(c).cap_add = Some(vec!["cap_net_admin".into()]),
        differs: &[],
    },
    // security_opt: compared, except for privileged or host ipc/pid containers
    Row {
        rule: "security_opt: an option added",
        spec: |s| s.security_opt = vec!["no-new-privileges".into()],
        engine: same_engine,
        differs: &["security_opt"],
    },
    Row {
        rule: "security_opt: skipped for a privileged container",
        spec: |s| {
            s.privileged = true;
            s.security_opt = vec!["label=disable".into()];
        },
        engine: |c, _| host(c).privileged = Some(true),
        differs: &[],
    },
    Row {
        rule: "security_opt: skipped with host ipc",
        spec: |s| {
            s.ipc_mode = Some("host".into());
            s.security_opt = vec!["label=disable".into()];
        },
        engine: |c, _| host(c).ipc_mode = Some("host".into()),
        differs: &[],
    },
    Row {
        rule: "security_opt: skipped with host pid",
        spec: |s| {
            s.pid_mode = Some("host".into());
            s.security_opt = vec!["label=disable".into()];
        },
        engine: |c, _| host(c).pid_mode = Some("host".into()),
        differs: &[],
    },
    // image: the tag's local ID must be the container's, and the repo:tag the same
    Row {
        rule: "image: the tag now names another image",
        spec: same_spec,
        engine: |_, f| f.desired_image_id = Some("sha256:2222".into()),
        differs: &["image"],
    },
    Row {
        rule: "image: the desired image is not present locally",
        spec: same_spec,
        engine: |_, f| f.desired_image_id = None,
        differs: &["image"],
    },
    Row {
        rule: "image: another repo:tag naming the same image",
        spec: |s| s.image = "quay.io/kolla/nova-api:other".into(),
        engine: same_engine,
        differs: &["image"],
    },
    Row {
        rule: "image: no tag means latest",
        spec: |s| s.image = "quay.io/kolla/nova-api".into(),
        engine: |c, _| config(c).image = Some("quay.io/kolla/nova-api:latest".into()),
        differs: &[],
    },
    // ipc_mode: only when desired; empty is unset
    Row {
        rule: "ipc_mode: another mode",
        spec: |s| s.ipc_mode = Some("shareable".into()),
        engine: same_engine,
        differs: &["ipc_mode"],
    },
    Row {
        rule: "ipc_mode: not desired, whatever the container has",
        spec: |s| s.ipc_mode = None,
        engine: same_engine,
        differs: &[],
    },
    Row {
        rule: "ipc_mode: desired, container's empty",
        spec: same_spec,
        engine: |c, _| host(c).ipc_mode = Some(String::new()),
        differs: &["ipc_mode"],
    },
    // labels: the container's minus the image's (unless overridden) and kollars' own
    Row {
        rule: "labels: a value changed",
        spec: |s| {
            s.labels.insert("app".into(), "other".into());
        },
        engine: same_engine,
        differs: &["labels"],
    },
    Row {
        rule: "labels: a label from the image is not a difference",
        spec: same_spec,
        engine: |c, f| {
            let labels = config(c).labels.as_mut().unwrap();
            labels.insert("vendor".into(), "kolla".into());
            f.image_labels.insert("vendor".into(), "kolla".into());
        },
        differs: &[],
    },
    Row {
        rule: "labels: an image label with another value on the container",
        spec: same_spec,
        engine: |c, f| {
            let labels = config(c).labels.as_mut().unwrap();
            labels.insert("vendor".into(), "someone".into());
            f.image_labels.insert("vendor".into(), "kolla".into());
        },
        differs: &["labels"],
    },
    Row {
        rule: "labels: kollars' own labels are not compared",
        spec: same_spec,
        engine: |c, _| {
            let labels = config(c).labels.as_mut().unwrap();
            labels.insert(LABEL_SPEC_HASH.into(), "an older spec".into());
            labels.insert(LABEL_CONFIG_HASH.into(), "an older config".into());
            labels.remove(LABEL_MANAGED);
        },
        differs: &[],
    },
    // privileged: strict
    Row {
        rule: "privileged: wanted",
        spec: |s| s.privileged = true,
        engine: same_engine,
        differs: &["privileged"],
    },
    Row {
        rule: "privileged: unset on the container means false",
        spec: same_spec,
        engine: |c, _| host(c).privileged = None,
        differs: &[],
    },
    // pid_mode: empty is unset
    Row {
        rule: "pid_mode: host wanted",
        spec: |s| s.pid_mode = Some("host".into()),
        engine: same_engine,
        differs: &["pid_mode"],
    },
    Row {
        rule: "pid_mode: not wanted, container's empty",
        spec: same_spec,
        engine: |c, _| host(c).pid_mode = Some(String::new()),
        differs: &[],
    },
    Row {
        rule: "pid_mode: not wanted, container's host",
        spec: same_spec,
        engine: |c, _| host(c).pid_mode = Some("host".into()),
        differs: &["pid_mode"],
    },
    // cgroupns_mode: only when desired; empty means host
    Row {
        rule: "cgroupns_mode: host wanted, container private",
        spec: |s| s.cgroupns_mode = Some("host".into()),
        engine: same_engine,
        differs: &["cgroupns_mode"],
    },
    Row {
        rule: "cgroupns_mode: host wanted, container's empty",
        spec: |s| s.cgroupns_mode = Some("host".into()),
        engine: |c, _| host(c).cgroupns_mode = Some(HostConfigCgroupnsModeEnum::EMPTY),
        differs: &[],
    },
    Row {
        rule: "cgroupns_mode: not desired",
        spec: |s| s.cgroupns_mode = None,
        engine: same_engine,
        differs: &[],
    },
    // tmpfs: set of paths
    Row {
        rule: "tmpfs: a path removed",
        spec: |s| s.tmpfs.clear(),
        engine: same_engine,
        differs: &["tmpfs"],
    },
    // volumes: container paths and src:dst:mode binds
    Row {
        rule: "volumes: a bind added",
        spec: |s| s.volumes.push("/tmp:/host-tmp".into()),
        engine: same_engine,
        differs: &["volumes"],
    },
    Row {
        rule: "volumes: a bind's mode changed",
        spec: |s| s.volumes[0] = "/etc/kolla/nova-api/:/var/lib/kolla/config_files/:rw".into(),
        engine: same_engine,
        differs: &["volumes"],
    },
    Row {
        rule: "volumes: a two-part spec is rw",
        spec: |s| s.volumes[1] = "kolla_logs:/var/log/kolla/:rw".into(),
        engine: same_engine,
        differs: &[],
    },
    Row {
        rule: "volumes: an image-declared volume the spec does not name",
        spec: same_spec,
        engine: |c, f| {
            let volumes = config(c).volumes.as_mut().unwrap();
            volumes.insert("/var/lib/data".into(), HashMap::new());
            f.image_volumes.insert("/var/lib/data".into());
        },
        differs: &[],
    },
    Row {
        rule: "volumes: an anonymous volume the image does not declare",
        spec: same_spec,
        engine: |c, _| {
            let volumes = config(c).volumes.as_mut().unwrap();
            volumes.insert("/var/lib/data".into(), HashMap::new());
        },
        differs: &["volumes"],
    },
    // volumes_from: set
    Row {
        rule: "volumes_from: one added",
        spec: |s| s.volumes_from = vec!["other".into()],
        engine: same_engine,
        differs: &["volumes_from"],
    },
    // environment: every desired key present with the same value; extra keys ignored
    Row {
        rule: "environment: a value changed",
        spec: |s| {
            s.environment.insert("FOO".into(), "baz".into());
        },
        engine: same_engine,
        differs: &["environment.FOO"],
    },
    Row {
        rule: "environment: a key added",
        spec: |s| {
            s.environment.insert("NEW".into(), String::new());
        },
        engine: same_engine,
        differs: &["environment.NEW"],
    },
    Row {
        rule: "environment: a key removed (subset rule)",
        spec: |s| {
            s.environment.remove("FOO");
        },
        engine: same_engine,
        differs: &[],
    },
    Row {
        rule: "environment: extra keys from the image",
        spec: same_spec,
        engine: |c, _| config(c).env.as_mut().unwrap().push("PATH=/usr/bin".into()),
        differs: &[],
    },
    Row {
        rule: "environment: the injected TZ differs",
        spec: same_spec,
        engine: |c, _| {
            let env = config(c).env.as_mut().unwrap();
            env.retain(|kv| !kv.starts_with("TZ="));
            env.push("TZ=Europe/Paris".into());
        },
        differs: &["environment.TZ"],
    },
    // dimensions: requested values match, others unset (except MemorySwap with a memory limit)
    Row {
        rule: "dimensions: mem_limit changed",
        spec: |s| s.dimensions.mem_limit = Some(128 << 20),
        engine: same_engine,
        differs: &["dimensions.mem_limit"],
    },
    Row {
        rule: "dimensions: a value set on the container but not requested",
        spec: same_spec,
        engine: |c, _| host(c).cpu_shares = Some(512),
        differs: &["dimensions.cpu_shares"],
    },
    Row {
        rule: "dimensions: MemorySwap filled in by Docker for a memory limit",
        spec: same_spec,
        engine: |c, _| host(c).memory_swap = Some(128 << 20),
        differs: &[],
    },
    Row {
        rule: "dimensions: MemorySwap without a memory limit",
        spec: |s| s.dimensions.mem_limit = None,
        engine: |c, _| {
            host(c).memory = None;
            host(c).memory_swap = Some(128 << 20);
        },
        differs: &["dimensions.memswap_limit"],
    },
    Row {
        rule: "dimensions: cpuset_cpus requested",
        spec: |s| s.dimensions.cpuset_cpus = Some("0-1".into()),
        engine: same_engine,
        differs: &["dimensions.cpuset_cpus"],
    },
    Row {
        rule: "dimensions: blkio_weight set on the container only",
        spec: same_spec,
        engine: |c, _| host(c).blkio_weight = Some(300),
        differs: &["dimensions.blkio_weight"],
    },
    Row {
        rule: "dimensions: ulimits changed",
        spec: |s| {
            s.dimensions.ulimits.insert(
                "nofile".into(),
                Ulimit {
                    soft: 4096,
                    hard: 4096,
                },
            );
        },
        engine: same_engine,
        differs: &["dimensions.ulimits"],
    },
    Row {
        rule: "dimensions: ulimits in another order",
        spec: |s| {
            s.dimensions
                .ulimits
                .insert("nproc".into(), Ulimit { soft: 1, hard: 2 });
        },
        engine: |c, _| {
            let ulimit = |name: &str, soft, hard| ResourcesUlimits {
                name: Some(name.into()),
                soft: Some(soft),
                hard: Some(hard),
            };
            host(c).ulimits = Some(vec![ulimit("nproc", 1, 2), ulimit("nofile", 1024, 2048)]);
        },
        differs: &[],
    },
    // command: only when desired, shell words against Config.Cmd
    Row {
        rule: "command: changed",
        spec: |s| s.command = Some("nova-api".into()),
        engine: same_engine,
        differs: &["command"],
    },
    Row {
        rule: "command: the same words, quoted differently",
        spec: |s| s.command = Some("'nova-api' \"--debug\"".into()),
        engine: same_engine,
        differs: &[],
    },
    Row {
        rule: "command: not desired keeps the image's",
        spec: |s| s.command = None,
        engine: same_engine,
        differs: &[],
    },
    // healthcheck: test, interval, timeout, start_period, retries
    Row {
        rule: "healthcheck: retries changed",
        spec: |s| s.healthcheck.as_mut().unwrap().retries = 5,
        engine: same_engine,
        differs: &["healthcheck"],
    },
    Row {
        rule: "healthcheck: none desired, the image's on the container",
        spec: |s| s.healthcheck = None,
        engine: |c, f| {
            config(c).healthcheck = Some(image_healthcheck());
            f.image_healthcheck = Some(image_healthcheck());
        },
        differs: &[],
    },
    Row {
        rule: "healthcheck: none desired, another on the container",
        spec: |s| s.healthcheck = None,
        engine: |c, _| config(c).healthcheck = Some(image_healthcheck()),
        differs: &["healthcheck"],
    },
    Row {
        rule: "healthcheck: NONE desired, none on the container",
        spec: |s| s.healthcheck.as_mut().unwrap().test = HealthTest::None,
        engine: |c, _| config(c).healthcheck = None,
        differs: &[],
    },
    Row {
        rule: "healthcheck: NONE desired, [NONE] on the container",
        spec: |s| s.healthcheck.as_mut().unwrap().test = HealthTest::None,
        engine: |c, _| {
            config(c).healthcheck = Some(HealthConfig {
                test: Some(vec!["NONE".into()]),
                ..HealthConfig::default()
            })
        },
        differs: &[],
    },
    Row {
        rule: "healthcheck: NONE desired, a test on the container",
        spec: |s| s.healthcheck.as_mut().unwrap().test = HealthTest::None,
        engine: same_engine,
        differs: &["healthcheck"],
    },
    // restart_policy, graceful_timeout, tty: kollars gives them to the engine
    Row {
        rule: "restart_policy: changed",
        spec: |s| s.restart_policy = Some(RestartPolicy::Always),
        engine: same_engine,
        differs: &["restart_policy"],
    },
    Row {
        rule: "restart_policy: oneshot is Docker's no",
        spec: |s| s.restart_policy = Some(RestartPolicy::Oneshot),
        engine: |c, _| {
            host(c).restart_policy = Some(bollard::models::RestartPolicy {
                name: Some(RestartPolicyNameEnum::NO),
                maximum_retry_count: None,
            })
        },
        differs: &[],
    },
    Row {
        rule: "restart_policy: unset on the container means no",
        spec: |s| s.restart_policy = Some(RestartPolicy::No),
        engine: |c, _| host(c).restart_policy = None,
        differs: &[],
    },
    Row {
        rule: "graceful_timeout: changed",
        spec: |s| s.graceful_timeout = Some(7),
        engine: same_engine,
        differs: &["graceful_timeout"],
    },
    Row {
        rule: "tty: wanted",
        spec: |s| s.tty = true,
        engine: same_engine,
        differs: &["tty"],
    },
    // several at once, in kolla's order
    Row {
        rule: "several fields, reported in kolla's order",
        spec: |s| {
            s.tty = true;
            s.privileged = true;
            s.cap_add.clear();
        },
        engine: |_, f| f.desired_image_id = None,
        differs: &["cap_add", "image", "privileged", "tty"],
    },
];

#[test]
fn check_container_differs_rules() {
    let base = desired(&spec());
    let mut failures = Vec::new();
    for row in ROWS {
        let mut s = spec();
        (row.spec)(&mut s);
        let want = desired(&s);
        let mut current = inspect_of(&base, Some("cfg"));
        let mut images = facts();
        (row.engine)(&mut current, &mut images);
        let got: Vec<String> = compare(&want, &current, &images)
            .into_iter()
            .map(|d| d.field)
            .collect();
        if got != row.differs {
            failures.push(format!("{}: got {got:?}, want {:?}", row.rule, row.differs));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn differences_show_both_values() {
    let mut s = spec();
    s.environment.insert("FOO".into(), "baz".into());
    let current = inspect_of(&desired(&spec()), None);
    let mut images = facts();
    images.desired_image_id = Some("sha256:2222222222222222".into());
    let diffs = compare(&desired(&s), &current, &images);
    let shown: Vec<String> = diffs.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        vec![
            format!(
                "image: quay.io/kolla/nova-api:1 ({}) -> quay.io/kolla/nova-api:1 (222222222222)",
                &IMAGE_ID[7..19]
            ),
            "environment.FOO: FOO=bar -> FOO=baz".to_owned(),
        ]
    );
}

#[test]
fn repository_tag() {
    assert_eq!(
        parse_repository_tag("quay.io:443/kolla/nova-api"),
        ("quay.io:443/kolla/nova-api".into(), "latest".into())
    );
    assert_eq!(
        parse_repository_tag("quay.io/kolla/nova-api:master"),
        ("quay.io/kolla/nova-api".into(), "master".into())
    );
    assert_eq!(
        parse_repository_tag("busybox@sha256:abc"),
        ("busybox".into(), "sha256:abc".into())
    );
}
