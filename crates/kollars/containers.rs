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
pub use crate::tasks::{AfterStart, DatabaseTask, Rolling};

/// The containers of one service.
#[derive(Debug, Clone)]
pub struct Containers {
    /// Its container.
    pub main: ContainerSpec,
    /// The one-shot `bootstrap_<container>` run with `KOLLA_BOOTSTRAP` before its first start
    /// (db sync, fernet key setup and friends), when its dict has `bootstrap`.
    pub bootstrap: Option<ContainerSpec>,
    /// The database its bootstrap needs (kolla's `mysql_db` and `mysql_user`), made before the
    /// bootstrap runs, unless `use_preconfigured_databases`.
    pub database: Option<DatabaseTask>,
    /// Its project's registration in keystone (kolla's `service-ks-register`), made before
    /// its bootstrap.
    pub register: Option<Registration>,
    /// kolla's tasks once its new container has started (a new MariaDB's accounts, keystone's
    /// bootstrap), in this order.
    pub after_start: Vec<AfterStart>,
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
        let bootstrap = bootstrap(&main, &svc.container);
        let entries = Entries::new(&rendered.host, svc);
        let database = entries.database()?;
        let register = entries.register()?;
        let after_start = entries.after_start()?;
        let rolling = entries.rolling()?;
        out.insert(
            svc.name.clone(),
            Containers {
                main,
                bootstrap,
                database,
                register,
                after_start,
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

/// A service with `bootstrap: true` (or a dict with `environment` and/or `command`) gets a
/// one-shot `bootstrap_<container>` run with `KOLLA_BOOTSTRAP` before its first start, as
/// kolla's bootstrap tasks do.
fn bootstrap(spec: &ContainerSpec, container: &Value) -> Option<ContainerSpec> {
    let b = container
        .get_attr("bootstrap")
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_none())?;
    if b.kind() != kollars_vars::ValueKind::Map && !kollars_vars::filters::ansible_bool(&b) {
        return None;
    }
    let mut s = spec.clone();
    s.name = format!("bootstrap_{}", spec.name);
    s.environment
        .insert("KOLLA_BOOTSTRAP".into(), String::new());
    if let Ok(env) = b.get_attr("environment") {
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
    if let Ok(cmd) = b.get_attr("command") {
        if !cmd.is_undefined() && !cmd.is_none() {
            s.command = Some(cmd.to_string());
        }
    }
    s.healthcheck = None;
    s.restart_policy = Some(RestartPolicy::No);
    Some(s)
}
