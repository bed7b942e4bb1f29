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
//!   (deserializable from evaluated service YAML), and [`RestartPolicy`] with its parse.
//! - [`desired`]: [`DesiredContainer`], the spec resolved against [`CommonOptions`] and the host
//!   (injected `KOLLA_SERVICE_NAME`, `TZ`, `KOLLA_CONFIG_STRATEGY`); both the create request and
//!   the comparison are derived from it, and its hash is the `kollars.spec-hash` label.
//! - [`engine`]: connecting to an engine (`unix://`, `tcp://` with TLS, `ssh://`).
//! - `ssh`: `ssh://` engines through the system ssh, one master connection per host, a
//!   relay socket bollard talks to, ssh's and the remote side's errors kept.
//! - [`primitives`]: the engine calls every operation is made of (`inspect`, `image_id`,
//!   `pull_image`, `ensure_image`, `create_volume`, `create_container`, `start`, `stop`,
//!   `restart`, `remove`, `stop_and_remove`, `wait_exit`, `logs`, `list_managed`), each mapping
//!   the engine's answers to kolla's semantics.
//! - [`compare`]: kolla's `check_container_differs`, field by field (pure).
//! - [`decide`]: kolla's `compare_container` and the recreate/restart/start choice, as pure
//!   functions of the desired state and what the engine showed ([`Observed`]), and the survey
//!   shortcut ([`decide::current_in_survey`]).
//! - [`observe`]: the engine I/O that feeds [`decide`] ([`Engine::observe`],
//!   [`Engine::decide`], [`Engine::compare_container`], and [`Engine::decide_many`] for a
//!   whole host).
//! - [`survey`]: [`Survey`], an explicit snapshot of an engine's managed containers and
//!   config records ([`Engine::survey`]) that [`Engine::decide_many`] answers from.
//! - [`records`]: config records, the applied config hash kept in labelled empty volumes, and
//!   task records (the digest a task around the containers last succeeded with).
//! - [`apply`]: [`Engine::apply`] (carry out an [`Action`]), [`Engine::converge`], and the
//!   create-now/start-later halves `kollars deploy` uses.
//! - [`oneshot`]: one-shot runs to completion (bootstrap, `db_sync`).
//! - [`bootstrap`]: bootstrap records (which one-shots completed on a host) and
//!   [`Engine::run_bootstrap`], which finishes what a killed run left.
//! - [`exec`]: commands in a running container (kolla's tasks around the containers), secrets
//!   on stdin, never on the command line.
//! - [`check`]: `kollars check`'s present/running/healthy report.
//! - [`transfer`]: the host's filesystem through the engine: [`Engine::write_tree`] (config
//!   files into `node_config_directory` through a created, never started, helper container),
//!   [`Engine::read_tree`], and [`Engine::run_probe`] (a one-shot with host network, for facts).
//! - [`hostlock`]: the hosts' lock, a labelled volume made by name on every engine, so two
//!   operators' runs on the same hosts do not interleave.
//! - [`inquire`]: what `kollars prechecks` asks an engine: its version and data root, whether
//!   an image can be had, the host's listening ports and free space (one probe).
//! - [`leftovers`]: helper and probe containers of runs that are gone, removed
//!   ([`Engine::remove_leftover_helpers`]).
//! - [`teardown`]: what destroy and prune-images remove besides containers: volumes, record
//!   volumes, images.
//! - [`podman`]: podman's inspect output read as dockerd's (binds, modes, ulimits, image
//!   names), so one comparison serves both engines.
//! - [`reporter`]: progress events; the crate never prints.
//! - [`error`]: [`DockerError`]; every cause is a `source()`, printed once by a chain walker.
//!
//! See `docs/driver.md` for the compared fields and the divergences from kolla-ansible.

#![warn(missing_docs)]

pub mod apply;
pub mod bootstrap;
pub mod check;
pub mod compare;
pub mod decide;
pub mod desired;
pub mod engine;
pub mod error;
pub mod exec;
pub mod hostlock;
pub mod inquire;
pub mod leftovers;
pub mod observe;
pub mod oneshot;
pub mod podman;
pub mod primitives;
pub mod records;
pub mod reporter;
pub mod spec;
mod ssh;
pub mod survey;
pub mod teardown;
mod tls;
pub mod transfer;

#[cfg(test)]
mod testing;

pub use bootstrap::{Bootstrapped, Bootstraps, Leftover, LABEL_BOOTSTRAP_RECORD};
pub use check::{CheckResult, CheckStatus};
pub use compare::{Difference, ImageFacts};
pub use decide::{Action, Comparison, Observed};
pub use desired::{
    local_timezone, CommonOptions, ContainerEngine, DesiredContainer, RegistryAuth,
    DEFAULT_ENGINE_TIMEOUT, LABEL_CONFIG_HASH, LABEL_KOLLA_MANAGED, LABEL_MANAGED, LABEL_SPEC_HASH,
};
pub use engine::{Endpoint, Engine, DEFAULT_SOCKET};
pub use error::{DockerError, EngineError, Result};
pub use exec::{ExecOutput, ExecRequest};
pub use kollars_tree::{Tree, TreeDir, TreeFile, DEFAULT_DIR_MODE};
pub use leftovers::LABEL_HELPER_OWNER;
pub use oneshot::OneshotOutput;
pub use primitives::ManagedContainer;
pub use records::{
    LABEL_CONFIG_RECORD, LABEL_CONFIG_RECORD_NAME, LABEL_CONFIG_RECORD_SEQ, LABEL_TASK_DIGEST,
    LABEL_TASK_RECORD, LABEL_TASK_SEQ,
};
pub use reporter::{CollectingReporter, Event, NoopReporter, Phase, Reporter, Step};
pub use spec::{
    ContainerSpec, Dimensions, HealthTest, Healthcheck, RestartPolicy, Ulimit,
    UnknownRestartPolicy, Volume,
};
pub use survey::{Survey, SurveyedContainer};
pub use transfer::{Written, HELPER_MOUNT, LABEL_HELPER};
