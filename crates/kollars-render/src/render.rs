//! Rendering every host: which services each host gets, each service's entries with their
//! loops, `vars` and `when`, and the directories they need. Hosts render in parallel on a
//! small pool that includes the calling thread (rendering is CPU-bound); files that read nothing host-specific are rendered once for all
//! hosts through [`FileCache`]. One entry's file is [`crate::file`]'s.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use indexmap::IndexMap;
use kollars_services::{Catalogue, ServiceDef, ServiceError};
use kollars_vars::{HostScope, Value, Vars};

use crate::file::{FileCtx, FileKey, Output};
use crate::hash::dir_hash;
use crate::{RenderError, RenderedDir, RenderedFile, RenderedHost, RenderedService, Selection};

/// Renders every selected host, in parallel (hosts are the jobs of a pool that includes the
/// calling thread). Fails with the first error in host order, having written nothing.
pub fn render_all(
    vars: &Vars,
    catalogue: &Catalogue,
    selection: &Selection,
) -> Result<Vec<RenderedHost>, RenderError> {
    let hosts: Vec<String> = if selection.hosts.is_empty() {
        vars.host_names()
    } else {
        selection.hosts.clone()
    };
    let cache = FileCache::default();
    kollars_tree::parallel(hosts.len(), |i| {
        let h = &hosts[i];
        let scope = vars.host(h).map_err(|source| RenderError::Service {
            host: h.clone(),
            source: ServiceError::Eval {
                service: "-".into(),
                source,
            },
        })?;
        render_host_cached(&scope, catalogue, selection, &cache)
    })
    .into_iter()
    .collect()
}

/// Renders one host.
pub fn render_host(
    scope: &Arc<HostScope>,
    catalogue: &Catalogue,
    selection: &Selection,
) -> Result<RenderedHost, RenderError> {
    render_host_cached(scope, catalogue, selection, &FileCache::default())
}

fn render_host_cached(
    scope: &Arc<HostScope>,
    catalogue: &Catalogue,
    selection: &Selection,
    cache: &FileCache,
) -> Result<RenderedHost, RenderError> {
    let host = scope.name().to_string();
    let var = |name: &str| -> Result<String, RenderError> {
        scope
            .get(name)
            .map(|v| v.to_string())
            .map_err(|source| RenderError::Service {
                host: host.clone(),
                source: ServiceError::Eval {
                    service: "-".into(),
                    source,
                },
            })
    };
    let node_config_directory = PathBuf::from(var("node_config_directory")?);
    let custom = PathBuf::from(var("node_custom_config")?);
    let mut services = Vec::new();
    for def in catalogue.services() {
        if !selected_by_filter(def, &selection.services) {
            continue;
        }
        let selected = def.selected(scope).map_err(|source| RenderError::Service {
            host: host.clone(),
            source,
        })?;
        if !selected {
            continue;
        }
        let iterations = def
            .iterations(scope)
            .map_err(|source| RenderError::Service {
                host: host.clone(),
                source,
            })?;
        match iterations {
            None => services.push(render_service(scope, def, None, &custom, cache)?),
            Some(items) => {
                for item in items {
                    services.push(render_service(scope, def, Some(item), &custom, cache)?);
                }
            }
        }
    }
    Ok(RenderedHost {
        host,
        node_config_directory,
        services,
    })
}

/// One service, or one instance (`item`) of an iterated one: its directory is then
/// `<service>-<item>`, and `item` is set for its dict and every entry.
fn render_service(
    scope: &Arc<HostScope>,
    def: &ServiceDef,
    item: Option<i64>,
    custom: &Path,
    cache: &FileCache,
) -> Result<RenderedService, RenderError> {
    let host = scope.name().to_string();
    let container = match item {
        None => def.evaluate(scope),
        Some(i) => def.evaluate_item(scope, i),
    }
    .map_err(|source| RenderError::Service {
        host: host.clone(),
        source,
    })?;
    let name = match item {
        None => def.name.clone(),
        Some(i) => format!("{}-{i}", def.name),
    };
    let mut files: BTreeMap<String, RenderedFile> = BTreeMap::new();
    let mut dirs = Dirs::default();
    let mut base_locals: IndexMap<String, Value> = IndexMap::from([
        ("service_name".to_string(), Value::from(def.name.as_str())),
        (
            "project_name".to_string(),
            Value::from(def.project.as_str()),
        ),
        ("service".to_string(), container.clone()),
    ]);
    if let Some(i) = item {
        base_locals.insert("item".into(), Value::from(i));
    }
    for (index, entry) in def.config.iter().enumerate() {
        let ctx = FileCtx {
            scope,
            def,
            host: &host,
            custom,
            entry,
            index,
            cache,
            same: Cell::new(true),
        };
        let items: Vec<Option<Value>> = match &entry.loop_over {
            None => vec![None],
            Some(l) => {
                let v = ctx.eval(
                    &Value::from_serialize(l),
                    &Value::from_iter(base_locals.clone()),
                    "loop",
                )?;
                loop_items(&v).into_iter().map(Some).collect()
            }
        };
        for item in items {
            let mut locals = base_locals.clone();
            if let Some(item) = item {
                locals.insert("item".into(), item);
            }
            // in order: each sees the ones before it
            for (k, raw) in &entry.vars {
                let v = ctx.eval(
                    &Value::from_serialize(raw),
                    &Value::from_iter(locals.clone()),
                    k,
                )?;
                locals.insert(k.clone(), v);
            }
            let locals = Value::from_iter(locals);
            if let Some(when) = &entry.when {
                let w = ctx.eval(&Value::from_serialize(when), &locals, "when")?;
                if !kollars_vars::filters::ansible_bool(&w) {
                    continue;
                }
            }
            let out = ctx.render(&locals)?;
            for (path, mode, explicit) in out.dirs {
                dirs.add(path, mode, explicit);
            }
            for file in out.files {
                files.insert(file.path.clone(), file);
            }
        }
    }
    let files: Vec<RenderedFile> = files.into_values().collect();
    let hash = dir_hash(&files);
    Ok(RenderedService {
        name,
        project: def.project.clone(),
        container,
        files,
        dirs: dirs.into_list(),
        hash,
    })
}

/// The directories of one service and their modes. A mode a config entry asks for
/// (`directory:` with `mode`, or `dir_mode`) beats a default; otherwise the first entry wins.
#[derive(Default)]
struct Dirs(BTreeMap<String, (u32, bool)>);

impl Dirs {
    fn add(&mut self, path: String, mode: u32, explicit: bool) {
        match self.0.get_mut(&path) {
            None => {
                self.0.insert(path, (mode, explicit));
            }
            Some(d) if explicit && !d.1 => *d = (mode, true),
            Some(_) => {}
        }
    }

    fn into_list(self) -> Vec<RenderedDir> {
        self.0
            .into_iter()
            .map(|(path, (mode, _))| RenderedDir { path, mode })
            .collect()
    }
}

fn selected_by_filter(def: &ServiceDef, filter: &[String]) -> bool {
    filter.is_empty()
        || filter.iter().any(|f| {
            let f = f.replace('_', "-");
            def.name == f || def.project == f || def.project.replace('_', "-") == f
        })
}

fn loop_items(v: &Value) -> Vec<Value> {
    match v.kind() {
        minijinja::value::ValueKind::Undefined | minijinja::value::ValueKind::None => Vec::new(),
        minijinja::value::ValueKind::Map => v
            .try_iter()
            .map(|it| {
                it.map(|k| {
                    let val = v.get_item(&k).unwrap_or_default();
                    Value::from_iter([("key".to_string(), k), ("value".to_string(), val)])
                })
                .collect()
            })
            .unwrap_or_default(),
        _ => v.try_iter().map(|it| it.collect()).unwrap_or_default(),
    }
}

/// Rendered contents that read nothing host-specific, by service and config entry, each with
/// everything else it was made from (locals, destination, mode and source files): a host with
/// the same inputs gets the same file without rendering it again.
#[derive(Default)]
pub(crate) struct FileCache(Mutex<HashMap<Slot, Vec<Rendered>>>);

/// A config entry: its service and its index in the service's `config`.
pub(crate) type Slot = (String, usize);

/// What an entry produced, with the inputs it was rendered from.
type Rendered = (FileKey, Output);

impl FileCache {
    /// What `slot` produced before from the same inputs, if that read nothing host-specific.
    pub(crate) fn find(&self, slot: &Slot, key: &FileKey) -> Option<Output> {
        let done = self.0.lock().expect("file cache");
        let (_, out) = done.get(slot)?.iter().find(|(k, _)| k.same(key))?;
        Some(out.clone())
    }

    /// Keeps what `slot` produced from `key`, which read nothing host-specific.
    pub(crate) fn keep(&self, slot: Slot, key: FileKey, out: Output) {
        self.0
            .lock()
            .expect("file cache")
            .entry(slot)
            .or_default()
            .push((key, out));
    }
}
