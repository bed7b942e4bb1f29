//! Evaluating a service for one host: its container dict and whether it runs there.
//!
//! kolla decides per host whether a service runs (`service_enabled_and_mapped_to_host` and the
//! project's `enable_<project>`); both evaluations go through the shared cache of
//! [`HostScope::eval_shared`], so on many hosts they cost one evaluation.

use std::sync::Arc;

use kollars_vars::{HostScope, Value};

use crate::error::ServiceError;
use crate::model::ServiceDef;

impl ServiceDef {
    /// Evaluates the container dict in a host's scope (once for all hosts when it reads
    /// nothing host-specific, see [`HostScope::eval_shared`]).
    pub fn evaluate(&self, scope: &Arc<HostScope>) -> Result<Value, ServiceError> {
        scope
            .eval_shared(
                &format!("service {}", self.name),
                &self.raw,
                &format!("service '{}'", self.name),
            )
            .map(|(v, _)| v)
            .map_err(|source| ServiceError::Eval {
                service: self.name.clone(),
                source,
            })
    }

    /// The instances of an iterated service (kolla's `iterate`, e.g. OVN's southbound
    /// relays): `None` for a plain service, else `1..=n` for the evaluated `iterate: n`. Each
    /// instance renders into `<service>-<i>` and runs as `<container_name>_<i>`.
    pub fn iterations(&self, scope: &Arc<HostScope>) -> Result<Option<Vec<i64>>, ServiceError> {
        let raw = self.raw.get_attr("iterate").unwrap_or_default();
        if raw.is_undefined() {
            return Ok(None);
        }
        let err = |source| ServiceError::Eval {
            service: self.name.clone(),
            source,
        };
        let (v, _) = scope
            .eval_shared(
                &format!("service {} key iterate", self.name),
                &raw,
                &format!("service '{}' key 'iterate'", self.name),
            )
            .map_err(err)?;
        let n = v
            .as_i64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            .filter(|n| *n >= 0)
            .ok_or_else(|| ServiceError::Shape {
                service: self.name.clone(),
                host: scope.name().to_string(),
                message: format!("iterate must be a count of instances, not {v:?}"),
            })?;
        Ok(Some((1..=n).collect()))
    }

    /// Evaluates one instance of an iterated service: its dict with `item` set, the
    /// container named `<container_name>_<item>` (as kolla's handlers name it).
    pub fn evaluate_item(&self, scope: &Arc<HostScope>, item: i64) -> Result<Value, ServiceError> {
        let locals = Value::from_iter([("item", Value::from(item))]);
        let v = scope
            .eval_shared_with(
                &format!("service {} item {item}", self.name),
                &self.raw,
                Some(&locals),
                &format!("service '{}' item {item}", self.name),
            )
            .map(|(v, _)| v)
            .map_err(|source| ServiceError::Eval {
                service: self.name.clone(),
                source,
            })?;
        let Some(map) = v.as_object() else {
            return Ok(v);
        };
        Ok(Value::from_iter(
            map.try_iter_pairs().into_iter().flatten().map(|(k, x)| {
                if k.as_str() == Some("container_name") {
                    (k, Value::from(format!("{x}_{item}")))
                } else {
                    (k, x)
                }
            }),
        ))
    }

    /// Whether the service is enabled and mapped to the host (kolla's
    /// `service_enabled_and_mapped_to_host`): `host_in_groups` wins over `group`.
    pub fn selected(&self, scope: &Arc<HostScope>) -> Result<bool, ServiceError> {
        let eval = |key: &str| -> Result<Option<Value>, ServiceError> {
            let raw = self.raw.get_attr(key).unwrap_or_default();
            if raw.is_undefined() {
                return Ok(None);
            }
            scope
                .eval_shared(
                    &format!("service {} key {key}", self.name),
                    &raw,
                    &format!("service '{}' key '{key}'", self.name),
                )
                .map(|(v, _)| Some(v))
                .map_err(|source| ServiceError::Eval {
                    service: self.name.clone(),
                    source,
                })
        };
        let project_on = scope
            .eval_shared(
                &format!("project {} enabled", self.project),
                &self.project_enabled,
                &format!("project '{}' key 'enabled'", self.project),
            )
            .map_err(|source| ServiceError::Eval {
                service: self.name.clone(),
                source,
            })?
            .0;
        if !kollars_vars::filters::ansible_bool(&project_on) {
            return Ok(false);
        }
        let enabled = eval("enabled")?.unwrap_or_default();
        if !kollars_vars::filters::ansible_bool(&enabled) {
            return Ok(false);
        }
        if let Some(hig) = eval("host_in_groups")? {
            return Ok(kollars_vars::filters::ansible_bool(&hig));
        }
        let Some(group) = eval("group")? else {
            return Err(ServiceError::Shape {
                service: self.name.clone(),
                host: scope.name().to_string(),
                message: "neither 'group' nor 'host_in_groups' is set".into(),
            });
        };
        let group = group.to_string();
        if group == "all" {
            return Ok(true);
        }
        let names = scope
            .get("group_names")
            .map_err(|source| ServiceError::Eval {
                service: self.name.clone(),
                source,
            })?;
        Ok(names
            .try_iter()
            .map(|mut it| it.any(|g| g.as_str() == Some(group.as_str())))
            .unwrap_or(false))
    }
}
