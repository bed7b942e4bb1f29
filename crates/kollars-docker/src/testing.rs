//! Fixtures for the unit tests of the pure decision code: a desired container and the inspect
//! response the engine would give for a container created from it.

use std::collections::BTreeMap;

use bollard::models::{
    ContainerConfig, ContainerInspectResponse, ContainerState, ContainerStateStatusEnum,
};

use crate::compare::ImageFacts;
use crate::desired::{CommonOptions, DesiredContainer};
use crate::spec::{ContainerSpec, HealthTest, Healthcheck, Ulimit};

/// The local ID of [`IMAGE`] in the fixtures.
pub(crate) const IMAGE_ID: &str = "sha256:1111111111111111111111111111111111111111111111111111";
/// The image reference of [`spec`].
pub(crate) const IMAGE: &str = "quay.io/kolla/nova-api:1";

/// A spec using most compared fields.
pub(crate) fn spec() -> ContainerSpec {
    let mut s = ContainerSpec::new("nova_api", IMAGE);
    s.command = Some("nova-api --debug".into());
    s.volumes = vec![
        "/etc/kolla/nova-api/:/var/lib/kolla/config_files/:ro".into(),
        "kolla_logs:/var/log/kolla/".into(),
        String::new(),
    ];
    s.environment = BTreeMap::from([("FOO".into(), "bar".into())]);
    s.labels = BTreeMap::from([("app".into(), "nova".into())]);
    s.healthcheck = Some(Healthcheck {
        test: HealthTest::Command(vec!["CMD-SHELL".into(), "healthcheck_curl".into()]),
        interval: 30,
        timeout: 30,
        start_period: 5,
        retries: 3,
    });
    s.dimensions.mem_limit = Some(64 << 20);
    s.dimensions.ulimits.insert(
        "nofile".into(),
        Ulimit {
            soft: 1024,
            hard: 2048,
        },
    );
    s.cap_add = vec!["NET_ADMIN".into()];
    s.tmpfs = vec!["/scratch".into()];
    s.ipc_mode = Some("private".into());
    s.cgroupns_mode = Some("private".into());
    s
}

/// `spec` resolved with the default common options in `UTC`.
pub(crate) fn desired(spec: &ContainerSpec) -> DesiredContainer {
    DesiredContainer::resolve(spec, &CommonOptions::default(), "UTC").unwrap()
}

/// What the engine's inspect shows for a running container created from `d` with config hash
/// `cfg`, from image [`IMAGE_ID`].
pub(crate) fn inspect_of(d: &DesiredContainer, cfg: Option<&str>) -> ContainerInspectResponse {
    let body = d.create_body(cfg);
    ContainerInspectResponse {
        id: Some("c0ffee000000aaaa".into()),
        name: Some(format!("/{}", d.name)),
        image: Some(IMAGE_ID.into()),
        config: Some(ContainerConfig {
            image: body.image,
            cmd: body.cmd,
            env: body.env,
            labels: body.labels,
            volumes: body.volumes,
            healthcheck: body.healthcheck,
            tty: body.tty,
            stop_timeout: body.stop_timeout,
            ..ContainerConfig::default()
        }),
        host_config: body.host_config,
        state: Some(ContainerState {
            status: Some(ContainerStateStatusEnum::RUNNING),
            ..ContainerState::default()
        }),
        ..ContainerInspectResponse::default()
    }
}

/// The image facts when the desired tag names [`IMAGE_ID`], an image without labels, volumes
/// or healthcheck.
pub(crate) fn facts() -> ImageFacts {
    ImageFacts {
        desired_image_id: Some(IMAGE_ID.into()),
        ..ImageFacts::default()
    }
}
