//! Service definitions: `services/<project>.yml`, in the shape of kolla-ansible's
//! `roles/<project>/defaults/main.yml`, plus what the renderer needs to know.
//!
//! A project file has these keys:
//! - `defaults`: the project's variables (kolla's role defaults), lowest precedence;
//! - `services`: the container dict, keyed by service name (`nova-api`), with kolla's keys
//!   (container_name, group, host_in_groups, image, enabled, privileged, volumes, dimensions,
//!   healthcheck, environment, haproxy, …) and one of ours, `config`: the files rendered into
//!   `/etc/kolla/<service>/` (see [`ConfigFile`]);
//! - `order` (optional): where the project deploys in kolla-ansible's `site.yml` order;
//! - `after` (optional): the projects that must be up (on every host that runs them) before
//!   this one bootstraps and starts: its real dependencies, each with a lower `order`. Without
//!   it, every project of a lower order (site.yml's strict sequence); with it, kollars deploys
//!   independent projects side by side;
//! - `enabled` (optional, Jinja): the project's switch, as kolla's `site.yml` gates each play
//!   on `enable_<project>`; a service renders and runs only when both it and its project are on.
//!
//! `services/globals/*.yml` hold the global defaults (kolla's `group_vars/all`).
//!
//! ## Config entries
//! Each item of a service's `config` is a [`ConfigFile`]. Its content comes from one of:
//! - `template` (ours, under `templates/`), replaced by the first existing `first_found` file
//!   and merged with the existing `overrides` files as `merge` says (`ini`, `yaml`);
//! - `json`: data written as kolla's pretty `config.json`;
//! - `copy`: a file copied verbatim (`dest` is the file); a **directory**, copied recursively
//!   (`dest` is the directory that receives its contents, as horizon's
//!   `config/horizon/themes/<name>`); or a **glob** in the last path component
//!   (`config/haproxy/services.d/*.cfg`): every match is copied into the directory `dest`
//!   (a matching directory recursively), and no match copies nothing. With `optional`, a
//!   missing file or directory is skipped. Copies are byte for byte, as kolla-ansible's:
//!   a binary file (a PNG logo in a theme, a keyring) is copied as it is, never rendered;
//! - `directory: true`: `dest` is created as a directory, even when nothing else goes in it
//!   (kolla's `file: state=directory`, e.g. haproxy's `services.d/`, proxysql's `users/` and
//!   `rules/`); its mode is `mode` (default 0770).
//!
//! Every entry may have `when`, `loop` (items as `item`) and `vars` (evaluated in order, each
//! seeing the ones before it, then `when`). File modes are `mode` (default 0660). Directory
//! modes: the service directory is 0770; the directories an entry creates (the parents of its
//! files, the tree of a directory or glob copy) get its `dir_mode`, by default 0770, or 0755
//! for what a directory or glob `copy` creates (Ansible's copy default, as kolla leaves
//! `ca-certificates/` and `themes/`). A mode an entry asks for (`dir_mode`, or `mode` of a
//! `directory:` entry) beats a default; otherwise the first entry to need a directory sets it.
//!
//! Keeping the render recipe beside the container in one file gives each concept one home:
//! adding a service is one YAML entry and its templates.

#![deny(missing_docs)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;
use kollars_vars::{HostScope, Value, VarError};
use serde::Deserialize;

/// Errors loading or evaluating service definitions.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A definition file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A definition file is not valid YAML or has the wrong shape.
    #[error("{}{}: {message}", path.display(), if *line > 0 { format!(":{line}") } else { String::new() })]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line, 0 if unknown.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// Two files define the same variable or service.
    #[error("{what} {name:?} is defined in both {} and {}", first.display(), second.display())]
    Duplicate {
        /// "variable" or "service".
        what: &'static str,
        /// The name.
        name: String,
        /// Where it was first defined.
        first: PathBuf,
        /// Where it was defined again.
        second: PathBuf,
    },
    /// A service's definition failed to evaluate for a host.
    #[error("service {service}: {source}")]
    Eval {
        /// The service.
        service: String,
        /// The variable error.
        source: VarError,
    },
    /// An evaluated definition lacks a required key or has a wrong type.
    #[error("service {service} on host {host}: {message}")]
    Shape {
        /// The service.
        service: String,
        /// The host.
        host: String,
        /// What is wrong.
        message: String,
    },
}

/// One file to render into a service's config directory.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Path inside `/etc/kolla/<service>/`; Jinja (may use `item`).
    pub dest: String,
    /// Our template, relative to `templates/`.
    #[serde(default)]
    pub template: Option<String>,
    /// How overrides combine with the template: `ini` (merge_configs), `yaml` (merge_yaml) or
    /// none (the first existing `first_found` file replaces the template).
    #[serde(default)]
    pub merge: Option<MergeKind>,
    /// Override files, relative to `node_custom_config`, merged in order (later wins); Jinja.
    #[serde(default)]
    pub overrides: Vec<String>,
    /// Whole-file overrides, relative to `node_custom_config`: the first that exists is
    /// rendered instead of `template`; Jinja.
    #[serde(default)]
    pub first_found: Vec<String>,
    /// For YAML merges: concatenate lists instead of replacing them.
    #[serde(default)]
    pub extend_lists: bool,
    /// File mode, as an octal string (default 0660); for a `directory:` entry, the
    /// directory's mode (default 0770).
    #[serde(default)]
    pub mode: Option<String>,
    /// Mode of the directories this entry creates below the service directory, as an octal
    /// string (default 0770, or 0755 for what a directory or glob `copy` creates).
    #[serde(default)]
    pub dir_mode: Option<String>,
    /// `dest` is a directory to create (possibly empty), not a file.
    #[serde(default)]
    pub directory: bool,
    /// Render only when this is true (Jinja, Ansible `bool`).
    #[serde(default)]
    pub when: Option<serde_yaml::Value>,
    /// Render once per item of this list or mapping (mapping items have `key` and `value`).
    #[serde(default, rename = "loop")]
    pub loop_over: Option<serde_yaml::Value>,
    /// Extra variables for the template, evaluated in order: each sees the locals and the
    /// ones before it.
    #[serde(default)]
    pub vars: IndexMap<String, serde_yaml::Value>,
    /// Write this data as pretty JSON (kolla's `config.json`): evaluated as Jinja, list items
    /// with a false `when` key or a null value dropped.
    #[serde(default)]
    pub json: Option<serde_yaml::Value>,
    /// Copy this file verbatim (path relative to `node_custom_config`, Jinja) instead of
    /// rendering it; a directory is copied recursively into `dest`, a glob in the last
    /// component copies every match into the directory `dest`. With `optional`, a missing
    /// source is skipped.
    #[serde(default)]
    pub copy: Option<String>,
    /// With `copy`: skip the file or directory when the source is missing.
    #[serde(default)]
    pub optional: bool,
}

/// How a file's overrides merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MergeKind {
    /// kolla's `merge_configs`: INI, per key, later file wins.
    Ini,
    /// kolla's `merge_yaml`: deep merge of mappings.
    Yaml,
}

/// A service as written: the raw (unevaluated) container dict and its render recipe.
#[derive(Debug, Clone)]
pub struct ServiceDef {
    /// Service name (`nova-api`), also the config directory name.
    pub name: String,
    /// The project it belongs to (`nova`); names override paths like `config/nova/…`.
    pub project: String,
    /// The container dict as written, without `config`.
    pub raw: Value,
    /// Files to render.
    pub config: Vec<ConfigFile>,
    /// The project's switch (`enabled` of the project file; `true` when absent).
    pub project_enabled: Value,
}

/// A project file.
#[derive(Debug, Clone)]
pub struct Project {
    /// Project name: the file stem.
    pub name: String,
    /// Where it was read from.
    pub path: PathBuf,
    /// Deploy order key (kolla's site.yml play order).
    pub order: i64,
    /// The projects that must be up before this one (`after`); `None`: every project of a
    /// lower order.
    pub after: Option<Vec<String>>,
    /// Services in file order.
    pub services: Vec<ServiceDef>,
}

impl Catalogue {
    /// The projects `project` waits for: its `after` list, or every project of a lower order.
    /// Only projects that exist in the catalogue are named.
    pub fn dependencies(&self, project: &str) -> Vec<&str> {
        let Some(p) = self.projects.iter().find(|p| p.name == project) else {
            return Vec::new();
        };
        match &p.after {
            Some(after) => after.iter().map(String::as_str).collect(),
            None => self
                .projects
                .iter()
                .filter(|q| q.order < p.order)
                .map(|q| q.name.as_str())
                .collect(),
        }
    }
}

/// Every definition: global defaults, project defaults and projects.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    /// kolla's `group_vars/all`.
    pub global_defaults: IndexMap<String, Value>,
    /// Every project's `defaults`, merged (names must be unique).
    pub project_defaults: IndexMap<String, Value>,
    /// Projects in deploy order.
    pub projects: Vec<Project>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectFile {
    #[serde(default)]
    defaults: IndexMap<String, serde_yaml::Value>,
    #[serde(default)]
    services: IndexMap<String, serde_yaml::Value>,
    #[serde(default)]
    order: Option<i64>,
    #[serde(default)]
    after: Option<Vec<String>>,
    #[serde(default)]
    enabled: Option<serde_yaml::Value>,
}

fn yaml_files(dir: &Path) -> Result<Vec<PathBuf>, ServiceError> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| ServiceError::Read {
            path: dir.to_path_buf(),
            source: e,
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file() && matches!(p.extension().and_then(|e| e.to_str()), Some("yml" | "yaml"))
        })
        .collect();
    files.sort();
    Ok(files)
}

fn read_yaml<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, ServiceError> {
    let text = std::fs::read_to_string(path).map_err(|e| ServiceError::Read {
        path: path.to_path_buf(),
        source: e,
    })?;
    serde_yaml::from_str(&text).map_err(|e| ServiceError::Invalid {
        path: path.to_path_buf(),
        line: e.location().map(|l| l.line()).unwrap_or(0),
        message: e.to_string(),
    })
}

/// One definition file, parsed and converted (on a worker thread); what needs every file
/// (duplicates, order) is checked when merging, in file order.
enum Parsed {
    /// `globals/*.yml`: variables.
    Globals(Vec<(String, Value)>),
    /// A project file.
    Project(ParsedProject),
}

struct ParsedProject {
    name: String,
    defaults: Vec<(String, Value)>,
    /// Each service, or why it is invalid (reported after the duplicate check, as before).
    services: Vec<(String, Result<ServiceDef, ServiceError>)>,
    order: Option<i64>,
    after: Option<Vec<String>>,
}

fn parse_globals(f: &Path) -> Result<Parsed, ServiceError> {
    let vars: IndexMap<String, serde_yaml::Value> = read_yaml::<Option<_>>(f)?.unwrap_or_default();
    Ok(Parsed::Globals(
        vars.into_iter()
            .map(|(k, v)| (k, Value::from_serialize(v)))
            .collect(),
    ))
}

fn parse_project(f: &Path) -> Result<Parsed, ServiceError> {
    let project = f
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("")
        .to_string();
    let pf: ProjectFile = read_yaml(f)?;
    let project_enabled = pf
        .enabled
        .as_ref()
        .map(Value::from_serialize)
        .unwrap_or(Value::from(true));
    let defaults = pf
        .defaults
        .into_iter()
        .map(|(k, v)| (k, Value::from_serialize(v)))
        .collect();
    let services = pf
        .services
        .into_iter()
        .map(|(name, body)| {
            let def = (|| {
                let serde_yaml::Value::Mapping(mut map) = body else {
                    return Err(ServiceError::Invalid {
                        path: f.to_path_buf(),
                        line: 0,
                        message: format!("service {name:?} must be a mapping"),
                    });
                };
                let config = match map.remove("config") {
                    Some(c) => serde_yaml::from_value::<Vec<ConfigFile>>(c).map_err(|e| {
                        ServiceError::Invalid {
                            path: f.to_path_buf(),
                            line: 0,
                            message: format!("service {name:?}: config: {e}"),
                        }
                    })?,
                    None => Vec::new(),
                };
                if !map.contains_key("enabled") {
                    return Err(ServiceError::Invalid {
                        path: f.to_path_buf(),
                        line: 0,
                        message: format!("service {name:?} has no 'enabled' key"),
                    });
                }
                Ok(ServiceDef {
                    name: name.clone(),
                    project: project.clone(),
                    raw: Value::from_serialize(serde_yaml::Value::Mapping(map)),
                    config,
                    project_enabled: project_enabled.clone(),
                })
            })();
            (name, def)
        })
        .collect();
    Ok(Parsed::Project(ParsedProject {
        name: project,
        defaults,
        services,
        order: pf.order,
        after: pf.after,
    }))
}

/// Records that `file` defines `name` (a `what`: variable, service); a second definition is
/// an error naming both files.
fn claim(
    origin: &mut IndexMap<String, PathBuf>,
    what: &'static str,
    name: &str,
    file: &Path,
) -> Result<(), ServiceError> {
    match origin.insert(name.to_owned(), file.to_path_buf()) {
        Some(first) => Err(ServiceError::Duplicate {
            what,
            name: name.to_owned(),
            first,
            second: file.to_path_buf(),
        }),
        None => Ok(()),
    }
}

/// Every `after` names a project of a lower order: so the dependencies form no cycle and
/// agree with kolla's sequence.
fn check_after(projects: &[Project]) -> Result<(), ServiceError> {
    for p in projects {
        for dep in p.after.iter().flatten() {
            let message = match projects.iter().find(|q| &q.name == dep) {
                None => format!("after: no project named {dep:?}"),
                Some(q) if q.order >= p.order => format!(
                    "after: {dep:?} has order {} and cannot come before this project (order {})",
                    q.order, p.order
                ),
                Some(_) => continue,
            };
            return Err(ServiceError::Invalid {
                path: p.path.clone(),
                line: 0,
                message,
            });
        }
    }
    Ok(())
}

/// Parses the files on up to `available_parallelism` threads; results in file order.
fn parse_files(files: &[(PathBuf, bool)]) -> Vec<Result<Parsed, ServiceError>> {
    let parse = |(f, globals): &(PathBuf, bool)| {
        if *globals {
            parse_globals(f)
        } else {
            parse_project(f)
        }
    };
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(files.len());
    if workers <= 1 {
        return files.iter().map(parse).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(file) = files.get(i) else {
                return done;
            };
            done.push((i, parse(file)));
        }
    };
    let mut results: Vec<(usize, Result<Parsed, ServiceError>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (1..workers).map(|_| s.spawn(work)).collect();
        let mut all = work();
        for h in handles {
            all.extend(h.join().expect("parse thread panicked"));
        }
        all
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

impl Catalogue {
    /// Loads `dir/globals/*.yml` and `dir/*.yml`.
    pub fn load(dir: &Path) -> Result<Catalogue, ServiceError> {
        let mut cat = Catalogue::default();
        let mut origin: IndexMap<String, PathBuf> = IndexMap::new();
        let globals = dir.join("globals");
        let mut files: Vec<(PathBuf, bool)> = Vec::new();
        if globals.is_dir() {
            files.extend(yaml_files(&globals)?.into_iter().map(|f| (f, true)));
        }
        // a listing error is reported after the globals, as when reading them one by one
        let projects = yaml_files(dir);
        if let Ok(p) = &projects {
            files.extend(p.iter().map(|f| (f.clone(), false)));
        }
        let parsed = parse_files(&files);
        let mut service_origin: IndexMap<String, PathBuf> = IndexMap::new();
        for ((f, _), parsed) in files.into_iter().zip(parsed) {
            match parsed? {
                Parsed::Globals(vars) => {
                    for (k, v) in vars {
                        claim(&mut origin, "variable", &k, &f)?;
                        cat.global_defaults.insert(k, v);
                    }
                }
                Parsed::Project(pp) => {
                    for (k, v) in pp.defaults {
                        claim(&mut origin, "variable", &k, &f)?;
                        cat.project_defaults.insert(k, v);
                    }
                    let mut services = Vec::new();
                    for (name, def) in pp.services {
                        claim(&mut service_origin, "service", &name, &f)?;
                        services.push(def?);
                    }
                    // kolla's `<project>_services` variable, so that templates (haproxy,
                    // proxysql, cron's logrotate list) can read any project's container dicts.
                    let services_var = format!("{}_services", pp.name.replace('-', "_"));
                    let dict: IndexMap<String, Value> = services
                        .iter()
                        .map(|s| (s.name.clone(), s.raw.clone()))
                        .collect();
                    claim(&mut origin, "variable", &services_var, &f)?;
                    cat.project_defaults
                        .insert(services_var, Value::from_iter(dict));
                    cat.projects.push(Project {
                        name: pp.name,
                        path: f.clone(),
                        order: pp.order.unwrap_or(1000),
                        after: pp.after,
                        services,
                    });
                }
            }
        }
        projects?;
        cat.projects
            .sort_by(|a, b| a.order.cmp(&b.order).then(a.name.cmp(&b.name)));
        check_after(&cat.projects)?;
        let names: Vec<Value> = cat
            .projects
            .iter()
            .map(|p| Value::from(p.name.as_str()))
            .collect();
        cat.global_defaults
            .insert("kollars_projects".into(), Value::from(names));
        Ok(cat)
    }

    /// Every service, in deploy order.
    pub fn services(&self) -> impl Iterator<Item = &ServiceDef> {
        self.projects.iter().flat_map(|p| p.services.iter())
    }

    /// A service by name (`nova-api`) or container-style name (`nova_api`).
    pub fn service(&self, name: &str) -> Option<&ServiceDef> {
        let dashed = name.replace('_', "-");
        self.services().find(|s| s.name == name || s.name == dashed)
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue(files: &[(&str, &str)]) -> Result<Catalogue, ServiceError> {
        let dir = tempfile::tempdir().unwrap();
        for (name, body) in files {
            std::fs::write(dir.path().join(name), body).unwrap();
        }
        Catalogue::load(dir.path())
    }

    #[test]
    fn dependencies_are_after_or_every_lower_order() {
        let cat = catalogue(&[
            ("db.yml", "order: 10\n"),
            ("cache.yml", "order: 20\nafter: []\n"),
            ("api.yml", "order: 30\nafter: [db]\n"),
            ("ui.yml", "order: 40\n"),
        ])
        .unwrap();
        assert!(cat.dependencies("cache").is_empty());
        assert_eq!(cat.dependencies("api"), vec!["db"]);
        assert_eq!(cat.dependencies("ui"), vec!["db", "cache", "api"]);
        assert!(cat.dependencies("db").is_empty());
    }

    #[test]
    fn a_second_definition_names_both_files() {
        let cases: [(&[(&str, &str)], &str); 3] = [
            (
                &[
                    ("a.yml", "defaults:\n  x: 1\n"),
                    ("b.yml", "defaults:\n  x: 2\n"),
                ],
                "variable \"x\"",
            ),
            (
                &[
                    ("a.yml", "services:\n  s:\n    enabled: true\n"),
                    ("b.yml", "services:\n  s:\n    enabled: true\n"),
                ],
                "service \"s\"",
            ),
            (
                &[
                    ("a.yml", "defaults:\n  b_services: {}\n"),
                    ("b.yml", "{}\n"),
                ],
                "variable \"b_services\"",
            ),
        ];
        for (files, what) in cases {
            let msg = catalogue(files).unwrap_err().to_string();
            assert!(
                msg.contains(what) && msg.contains("a.yml") && msg.contains("b.yml"),
                "{msg}"
            );
        }
    }

    #[test]
    fn after_must_name_an_earlier_project() {
        let e = catalogue(&[("api.yml", "order: 30\nafter: [nosuch]\n")]).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("api.yml") && msg.contains("nosuch"), "{msg}");
        let e = catalogue(&[
            ("db.yml", "order: 50\n"),
            ("api.yml", "order: 30\nafter: [db]\n"),
        ])
        .unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("api.yml") && msg.contains("order 50"), "{msg}");
    }
}
