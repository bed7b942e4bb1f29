//! The YAML inventory syntax (Ansible's `yaml` inventory plugin): nested `hosts`, `vars` and
//! `children` mappings.
//!
//! Kept apart from the INI reader because the two share nothing but the [`Inventory`] they
//! fill; host ranges in keys go through the same [`expand_host_pattern`].
//!
//! A section of the wrong shape (`hosts` or `children` a list, `vars` or a host's variables
//! not a mapping) is an error naming the group, as Ansible's plugin refuses it: skipped
//! silently it would drop hosts or groups, and so the containers they carry.

use std::path::Path;

use indexmap::IndexMap;
use serde_yaml::Value;

use crate::error::{InputError, Location};
use crate::yaml::kind;

use super::{expand_host_pattern, Inventory};

impl Inventory {
    pub(super) fn parse_yaml(&mut self, path: &Path, text: &str) -> Result<(), InputError> {
        let doc = crate::yaml::parse_warn(path, text, &mut self.warnings)?;
        let Value::Mapping(top) = doc else {
            if doc.is_null() {
                return Ok(());
            }
            return Err(InputError::syntax(
                Location::new(path, 1),
                "a YAML inventory must be a mapping of group names".to_string(),
            ));
        };
        for (name, body) in top {
            let name = yaml_key(&name);
            self.yaml_group(path, &name, &body)?;
        }
        Ok(())
    }

    fn yaml_group(&mut self, path: &Path, name: &str, body: &Value) -> Result<(), InputError> {
        self.group_mut(name);
        let Value::Mapping(map) = body else {
            if body.is_null() {
                return Ok(());
            }
            return Err(InputError::syntax(
                Location::new(path, 0),
                format!("group {name:?} must be a mapping with hosts/children/vars"),
            ));
        };
        for (key, val) in map {
            let wrong = |what: &str| {
                InputError::syntax(
                    Location::new(path, 0),
                    format!("group {name:?}: {what}, found {}", kind(val)),
                )
            };
            match yaml_key(key).as_str() {
                "hosts" => match val {
                    Value::Null => {}
                    Value::Mapping(hosts) => {
                        for (h, hv) in hosts {
                            let host = yaml_key(h);
                            let vars = match hv {
                                Value::Null => IndexMap::new(),
                                Value::Mapping(m) => {
                                    m.iter().map(|(k, v)| (yaml_key(k), v.clone())).collect()
                                }
                                other => {
                                    return Err(InputError::syntax(
                                        Location::new(path, 0),
                                        format!(
                                            "group {name:?}, host {host:?}: the host's variables \
                                             must be a mapping, found {}",
                                            kind(other)
                                        ),
                                    ))
                                }
                            };
                            for host in expand_host_pattern(&host)
                                .map_err(|m| InputError::syntax(Location::new(path, 0), m))?
                            {
                                self.add_host(name, &host, vars.clone());
                            }
                        }
                    }
                    _ => return Err(wrong("`hosts` must be a mapping of host names")),
                },
                "vars" => match val {
                    Value::Null => {}
                    Value::Mapping(vars) => {
                        for (k, v) in vars {
                            self.group_mut(name).vars.insert(yaml_key(k), v.clone());
                        }
                    }
                    _ => return Err(wrong("`vars` must be a mapping of variables")),
                },
                "children" => match val {
                    Value::Null => {}
                    Value::Mapping(children) => {
                        for (child, child_body) in children {
                            let child = yaml_key(child);
                            self.group_mut(name).children.insert(child.clone());
                            self.yaml_group(path, &child, child_body)?;
                        }
                    }
                    _ => return Err(wrong("`children` must be a mapping of group names")),
                },
                other => {
                    return Err(InputError::syntax(
                        Location::new(path, 0),
                        format!("unknown key {other:?} in group {name:?} (expected hosts, children or vars)"),
                    ))
                }
            }
        }
        Ok(())
    }
}

fn yaml_key(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}
