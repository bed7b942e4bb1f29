//! The typed boundary between what the renderer evaluated and what the driver acts on.
//!
//! The renderer hands each service's evaluated dict (`container_name`, `image`, `volumes`,
//! `bootstrap`, `database`, …) as a template value. This module is the one place that reads
//! it: every service that runs a container becomes a [`Containers`] (its main container, when
//! the dict asks for them its bootstrap one-shot, the database that bootstrap needs and its
//! registration in keystone)
//! before anything happens, so a bad dict is bad input before the first host is touched, and
//! the commands only ever see typed values.

use std::collections::BTreeMap;

use anyhow::Result;
use kollars_docker::{ContainerSpec, RestartPolicy};
use kollars_render::{RenderedHost, RenderedService};
use kollars_tasks::Registration;
use kollars_vars::Value;

use crate::error::BadInput;
use crate::tasks::Entries;
pub use crate::tasks::{AfterStart, DatabaseTask, Rolling, Signal};

/// The containers of one service.
#[derive(Debug, Clone)]
pub struct Containers {
    /// Its container.
    pub main: ContainerSpec,
    /// The one-shots run before its first start, in this order, when its dict has
    /// `bootstrap`: `bootstrap_<container>` with `KOLLA_BOOTSTRAP` (db sync, fernet key setup
    /// and friends), then any named one-off command (nova's `cell_v2` steps).
    pub bootstrap: Vec<ContainerSpec>,
    /// The databases its bootstrap needs (kolla's `mysql_db` and `mysql_user`), made before
    /// the bootstrap runs, unless `use_preconfigured_databases`.
    pub databases: Vec<DatabaseTask>,
    /// Its project's registration in keystone (kolla's `service-ks-register`), made before
    /// its bootstrap.
    pub register: Option<Registration>,
    /// kolla's tasks once its new container has started (a new MariaDB's accounts, keystone's
    /// bootstrap), in this order.
    pub after_start: Vec<AfterStart>,
    /// Signals to other services' containers once its bootstrap one-shots ran this run.
    pub signals: Vec<Signal>,
    /// How its members start and restart across hosts, when clustered (one at a time).
    pub rolling: Option<Rolling>,
}

/// The containers of every service of a host that runs one (a service without
/// `container_name` only renders files), by service name. `unprivileged`: privileged
/// services run unprivileged (`kollars_privileged_containers: false`).
pub fn of_host(
    rendered: &RenderedHost,
    unprivileged: bool,
) -> Result<BTreeMap<String, Containers>> {
    let mut out = BTreeMap::new();
    for svc in rendered.services.iter().filter(|s| has_container(s)) {
        let mut main = spec(&rendered.host, svc)?;
        if unprivileged {
            main.privileged = false;
        }
        let bootstrap = bootstrap(&rendered.host, svc, &main)?;
        let entries = Entries::new(&rendered.host, svc);
        let databases = entries.databases()?;
        let register = entries.register()?;
        let after_start = entries.after_start()?;
        let rolling = entries.rolling()?;
        let signals = entries.signals()?;
        out.insert(
            svc.name.clone(),
            Containers {
                main,
                bootstrap,
                databases,
                register,
                after_start,
                signals,
                rolling,
            },
        );
    }
    Ok(out)
}

fn has_container(svc: &RenderedService) -> bool {
    svc.container
        .get_attr("container_name")
        .map(|v| !v.is_undefined() && !v.is_none())
        .unwrap_or(false)
}

/// The container spec of a rendered service, from its evaluated dict.
fn spec(host: &str, svc: &RenderedService) -> Result<ContainerSpec> {
    let json = serde_json::to_value(&svc.container)
        .map_err(|e| BadInput::from_err(format!("host {host}, service {}: {e}", svc.name)))?;
    serde_json::from_value(json).map_err(|e| {
        BadInput::from_err(format!(
            "host {host}, service {}: invalid container definition: {e}",
            svc.name
        ))
    })
}

/// A service's `bootstrap`: `true` (or a dict with `environment` and/or `command`) is one
/// one-shot `bootstrap_<container>` run with `KOLLA_BOOTSTRAP` before its first start, as
/// kolla's bootstrap tasks do; a list of such dicts is several, run in order, each named
/// `name` (default `bootstrap_<container>`), with `KOLLA_BOOTSTRAP` unless `kolla_bootstrap`
/// is false (a one-off command such as nova's `nova-manage cell_v2 map_cell0`), left out when
/// its `enabled` is false.
fn bootstrap(
    host: &str,
    svc: &RenderedService,
    spec: &ContainerSpec,
) -> Result<Vec<ContainerSpec>> {
    let Some(b) = svc
        .container
        .get_attr("bootstrap")
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_none())
    else {
        return Ok(Vec::new());
    };
    match b.kind() {
        kollars_vars::ValueKind::Seq => {
            let items = b.try_iter().map_err(BadInput::from_err)?;
            let mut out: Vec<ContainerSpec> = Vec::new();
            for (i, item) in items.enumerate() {
                if item.kind() != kollars_vars::ValueKind::Map {
                    return Err(BadInput::from_err(format!(
                        "host {host}, service {}: bootstrap[{i}] must be a mapping",
                        svc.name
                    )));
                }
                let off = item
                    .get_attr("enabled")
                    .ok()
                    .filter(|v| !v.is_undefined() && !v.is_none())
                    .is_some_and(|v| !kollars_vars::filters::ansible_bool(&v));
                if off {
                    continue;
                }
                let one = oneshot(spec, &item);
                if out.iter().any(|o| o.name == one.name) {
                    return Err(BadInput::from_err(format!(
                        "host {host}, service {}: bootstrap[{i}]: a second one-shot named {}",
                        svc.name, one.name
                    )));
                }
                out.push(one);
            }
            Ok(out)
        }
        kollars_vars::ValueKind::Map => Ok(vec![oneshot(spec, &b)]),
        _ if kollars_vars::filters::ansible_bool(&b) => Ok(vec![oneshot(spec, &b)]),
        _ => Ok(Vec::new()),
    }
}

/// One bootstrap one-shot of `spec` as the dict (or `true`) `b` says.
fn oneshot(spec: &ContainerSpec, b: &Value) -> ContainerSpec {
    let attr = |k: &str| {
        b.get_attr(k)
            .ok()
            .filter(|v| !v.is_undefined() && !v.is_none())
    };
    let mut s = spec.clone();
    s.name = attr("name")
        .map(|v| v.to_string())
        .unwrap_or_else(|| format!("bootstrap_{}", spec.name));
    if attr("kolla_bootstrap").is_none_or(|v| kollars_vars::filters::ansible_bool(&v)) {
        s.environment
            .insert("KOLLA_BOOTSTRAP".into(), String::new());
    }
    if let Some(env) = attr("environment") {
        if let Ok(keys) = env.try_iter() {
            for k in keys {
                let v = env.get_item(&k).unwrap_or_default();
                s.environment.insert(
                    k.to_string(),
                    if v.is_none() {
                        String::new()
                    } else {
                        v.to_string()
                    },
                );
            }
        }
    }
    if let Some(cmd) = attr("command") {
        s.command = Some(cmd.to_string());
    }
    s.healthcheck = None;
    s.restart_policy = Some(RestartPolicy::No);
    s
}
