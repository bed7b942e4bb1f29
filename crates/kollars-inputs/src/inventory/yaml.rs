//! The YAML inventory syntax (Ansible's `yaml` inventory plugin): nested `hosts`, `vars` and
//! `children` mappings.
//!
//! Kept apart from the INI reader because the two share nothing but the [`Inventory`] they
//! fill; host ranges in keys go through the same [`expand_host_pattern`].

use std::path::Path;

use indexmap::IndexMap;
use serde_yaml::Value;

use crate::error::{InputError, Location};

use super::{expand_host_pattern, Inventory};

impl Inventory {
    pub(super) fn parse_yaml(&mut self, path: &Path, text: &str) -> Result<(), InputError> {
        let doc = crate::yaml::parse(path, text)?;
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
            match yaml_key(key).as_str() {
                "hosts" => {
                    if let Value::Mapping(hosts) = val {
                        for (h, hv) in hosts {
                            let vars = match hv {
                                Value::Mapping(m) => m.iter().map(|(k, v)| (yaml_key(k), v.clone())).collect(),
                                _ => IndexMap::new(),
                            };
                            for host in expand_host_pattern(&yaml_key(h))
                                .map_err(|m| InputError::syntax(Location::new(path, 0), m))?
                            {
                                self.add_host(name, &host, vars.clone());
                            }
                        }
                    }
                }
                "vars" => {
                    if let Value::Mapping(vars) = val {
                        for (k, v) in vars {
                            self.group_mut(name).vars.insert(yaml_key(k), v.clone());
                        }
                    }
                }
                "children" => {
                    if let Value::Mapping(children) = val {
                        for (child, child_body) in children {
                            let child = yaml_key(child);
                            self.group_mut(name).children.insert(child.clone());
                            self.yaml_group(path, &child, child_body)?;
                        }
                    }
                }
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
