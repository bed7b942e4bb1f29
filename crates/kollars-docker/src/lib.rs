//! kollars' Docker driver: kolla-ansible's `kolla_container` module, on bollard.
//!
//! kolla-ansible drives containers through one Ansible module whose actions (`compare_container`,
//! `recreate_or_restart_container`, `start_container`, ...) encode years of operational
//! decisions: what counts as a change, when a change means a restart and when a recreate, what
//! is injected into every container. This crate reproduces those semantics against the Docker
//! API directly, one [`Engine`] per host, so the CLI can drive every host at once and only
//! touch what changed.
//!
//! # Layout
//! - [`spec`]: [`ContainerSpec`], the desired state as a kolla service dict gives it
//!   (deserializable from evaluated service YAML).
//! - [`desired`]: [`DesiredContainer`], the spec resolved against [`CommonOptions`] and the host
//!   (injected `KOLLA_SERVICE_NAME`, `TZ`, `KOLLA_CONFIG_STRATEGY`); both the create request and
//!   the comparison are derived from it, and its hash is the `kollars.spec-hash` label.
//! - [`compare`]: kolla's `check_container_differs`, field by field.
//! - [`engine`]: connecting to an engine (`unix://`, `tcp://` with TLS, `ssh://`).
//! - [`actions`]: the actions (`ensure_image`, `pull_image`, `create_volume`, `start`, `stop`,
//!   `restart`, `remove`, `stop_and_remove`, one-shot runs) and the read-only
//!   [`Engine::decide`] / mutating [`Engine::apply`] pair behind `plan`, `deploy` and
//!   `reconfigure`.
//! - [`transfer`]: the host's filesystem through the engine: [`Engine::write_tree`] (config
//!   files into `node_config_directory` through a created, never started, helper container),
//!   [`Engine::read_tree`], and [`Engine::run_probe`] (a one-shot with host network, for facts).
//! - [`reporter`]: progress events; the crate never prints.
//!
//! See `docs/driver.md` for the compared fields and the divergences from kolla-ansible.

pub mod actions;
pub mod compare;
pub mod desired;
pub mod engine;
pub mod error;
pub mod reporter;
pub mod spec;
pub mod transfer;

pub use actions::{
    Action, CheckResult, CheckStatus, Comparison, ManagedContainer, OneshotOutput,
    LABEL_CONFIG_RECORD, LABEL_CONFIG_RECORD_NAME, LABEL_CONFIG_RECORD_SEQ,
};
pub use compare::{Difference, ImageFacts};
pub use desired::{
    local_timezone, CommonOptions, DesiredContainer, RegistryAuth, LABEL_CONFIG_HASH,
    LABEL_KOLLA_MANAGED, LABEL_MANAGED, LABEL_SPEC_HASH,
};
pub use engine::{Endpoint, Engine, DEFAULT_SOCKET};
pub use error::{DockerError, Result};
pub use reporter::{CollectingReporter, Event, NoopReporter, Phase, Reporter, Step};
pub use spec::{
    ContainerSpec, Dimensions, HealthTest, Healthcheck, RestartPolicy, Ulimit, UnknownRestartPolicy,
    Volume,
};
pub use transfer::{Tree, TreeDir, TreeFile, Written, DIR_MODE, HELPER_MOUNT, LABEL_HELPER};
