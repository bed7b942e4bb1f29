//! Loading `services/`: the YAML files turned into a [`Catalogue`].
//!
//! Files are parsed in parallel, but what needs every file (a variable or service defined
//! twice, `after` naming an earlier project, deploy order) is checked while merging them in
//! file order, so errors and results do not depend on the threads.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use kollars_vars::Value;
use serde::Deserialize;

use crate::error::ServiceError;
use crate::model::{Catalogue, ConfigFile, Project, ServiceDef};

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
}
