//! The renderer: every host's `/etc/kolla/<service>/` tree, in memory first.
//!
//! For each host and each service enabled and mapped to it, every [`ConfigFile`] of the
//! service is rendered: our template, then the operator's overrides merged the way
//! kolla-ansible merges them (INI per key, YAML deeply, or a whole-file replacement), all
//! rendered as Jinja in the host's context. Nothing is written until every host has rendered
//! without error, so bad input changes nothing; then each file is written atomically.
//!
//! Each file and each service directory gets a content hash, which the deploy step records on
//! containers to know what changed.

#![deny(missing_docs)]

pub mod ini;
pub mod yaml;

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use indexmap::IndexMap;
use kollars_services::{Catalogue, ConfigFile, MergeKind, ServiceDef, ServiceError};
use kollars_vars::{HostScope, Value, VarError, Vars};
use sha2::{Digest, Sha256};

/// Why rendering failed. Each names the host, service and file.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A variable or template error.
    #[error("host {host}, service {service}, file {file}: {source}")]
    Template {
        /// Host.
        host: String,
        /// Service.
        service: String,
        /// Destination file.
        file: String,
        /// Cause.
        source: VarError,
    },
    /// A service definition that cannot be evaluated.
    #[error("host {host}: {source}")]
    Service {
        /// Host.
        host: String,
        /// Cause.
        source: ServiceError,
    },
    /// An override or rendered INI file that does not parse.
    #[error("host {host}, service {service}: {path}: {source}")]
    Ini {
        /// Host.
        host: String,
        /// Service.
        service: String,
        /// The source (template or override file).
        path: String,
        /// Cause.
        source: ini::IniError,
    },
    /// A rendered YAML source that does not parse.
    #[error("host {host}, service {service}: {path}: malformed YAML: {message}")]
    Yaml {
        /// Host.
        host: String,
        /// Service.
        service: String,
        /// The source.
        path: String,
        /// Parser message.
        message: String,
    },
    /// A definition problem found while rendering (bad mode, no template…).
    #[error("host {host}, service {service}, file {file}: {message}")]
    Definition {
        /// Host.
        host: String,
        /// Service.
        service: String,
        /// Destination file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
}

/// One rendered file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    /// Path inside the service directory.
    pub path: String,
    /// Mode (e.g. 0o660).
    pub mode: u32,
    /// Content.
    pub content: String,
    /// sha256 of the content, hex.
    pub hash: String,
}

/// One service's rendered config directory.
#[derive(Debug, Clone)]
pub struct RenderedService {
    /// Service name (the directory name).
    pub name: String,
    /// Project.
    pub project: String,
    /// The evaluated container dict.
    pub container: Value,
    /// Files, sorted by path.
    pub files: Vec<RenderedFile>,
    /// Hash over every file's path, mode and content.
    pub hash: String,
}

/// Everything rendered for one host.
#[derive(Debug, Clone)]
pub struct RenderedHost {
    /// Inventory host name.
    pub host: String,
    /// `node_config_directory` on that host.
    pub node_config_directory: PathBuf,
    /// Services in deploy order.
    pub services: Vec<RenderedService>,
}

/// Which hosts and services to render.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Only these hosts (all when empty).
    pub hosts: Vec<String>,
    /// Only these services or projects (all when empty).
    pub services: Vec<String>,
}

/// Renders every selected host, in parallel (each service of each host is one job). Fails
/// with the first error in host and service order, having written nothing.
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
    // which services each host runs
    let plans: Vec<Result<HostPlan, RenderError>> = parallel(hosts.len(), |i| {
        let h = &hosts[i];
        let scope = vars.host(h).map_err(|source| RenderError::Service {
            host: h.clone(),
            source: ServiceError::Eval {
                service: "-".into(),
                source,
            },
        })?;
        plan_host(scope, catalogue, selection)
    });
    let jobs: Vec<(usize, usize)> = plans
        .iter()
        .enumerate()
        .filter_map(|(h, p)| p.as_ref().ok().map(|p| (h, p)))
        .flat_map(|(h, p)| (0..p.services.len()).map(move |s| (h, s)))
        .collect();
    let mut done = parallel(jobs.len(), |j| {
        let (h, s) = jobs[j];
        let p = plans[h].as_ref().expect("planned host");
        render_service(&p.scope, p.services[s], &p.custom, &cache)
    })
    .into_iter();
    let mut out = Vec::with_capacity(hosts.len());
    for plan in plans {
        let plan = plan?;
        let mut services = Vec::with_capacity(plan.services.len());
        for _ in 0..plan.services.len() {
            services.push(done.next().expect("one result per job")?);
        }
        if let Some(e) = plan.error {
            return Err(e);
        }
        out.push(RenderedHost {
            host: plan.scope.name().to_string(),
            node_config_directory: plan.node_config_directory,
            services,
        });
    }
    Ok(out)
}

/// `f(0..n)` on up to `available_parallelism` threads (this one included); results in order.
fn parallel<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .min(n);
    if workers <= 1 {
        return (0..n).map(f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if i >= n {
                return done;
            }
            done.push((i, f(i)));
        }
    };
    let mut all: Vec<(usize, T)> = std::thread::scope(|s| {
        let handles: Vec<_> = (1..workers).map(|_| s.spawn(work)).collect();
        let mut all = work();
        for h in handles {
            all.extend(h.join().expect("render thread panicked"));
        }
        all
    });
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, t)| t).collect()
}

/// What one host renders.
struct HostPlan<'c> {
    scope: Arc<HostScope>,
    node_config_directory: PathBuf,
    custom: PathBuf,
    /// Enabled, mapped and selected services, in deploy order.
    services: Vec<&'c ServiceDef>,
    /// A service whose selection failed: reported after the services before it.
    error: Option<RenderError>,
}

fn plan_host<'c>(
    scope: Arc<HostScope>,
    catalogue: &'c Catalogue,
    selection: &Selection,
) -> Result<HostPlan<'c>, RenderError> {
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
    let mut error = None;
    for def in catalogue.services() {
        if !selected_by_filter(def, &selection.services) {
            continue;
        }
        match def.selected(&scope) {
            Ok(true) => services.push(def),
            Ok(false) => {}
            Err(source) => {
                error = Some(RenderError::Service {
                    host: host.clone(),
                    source,
                });
                break;
            }
        }
    }
    Ok(HostPlan {
        scope,
        node_config_directory,
        custom,
        services,
        error,
    })
}

fn selected_by_filter(def: &ServiceDef, filter: &[String]) -> bool {
    filter.is_empty()
        || filter.iter().any(|f| {
            let f = f.replace('_', "-");
            def.name == f || def.project == f || def.project.replace('_', "-") == f
        })
}

/// Rendered contents that read nothing host-specific, by service and config entry, each with
/// everything else it was made from (locals, destination, mode and source files): a host with
/// the same inputs gets the same file without rendering it again.
#[derive(Default)]
struct FileCache(Mutex<HashMap<(String, usize), Vec<Rendered>>>);

/// A file with the inputs it was rendered from.
type Rendered = (FileKey, RenderedFile);

/// The inputs of one rendered file, other than what its templates read from the host scope.
struct FileKey {
    locals: Value,
    dest: String,
    mode: u32,
    source: Source,
}

impl FileKey {
    fn same(&self, other: &FileKey) -> bool {
        self.dest == other.dest
            && self.mode == other.mode
            && self.source == other.source
            && kollars_vars::strict_eq(&self.locals, &other.locals)
    }
}

/// Where a file's content comes from, once its paths are evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    /// The entry's `json`.
    Json,
    /// A file copied verbatim.
    Copy(PathBuf),
    /// A template (the operator's first_found file or ours) and the override files that exist.
    Template {
        first_found: Option<PathBuf>,
        overrides: Vec<PathBuf>,
    },
}

/// Renders one host.
pub fn render_host(
    scope: &Arc<HostScope>,
    catalogue: &Catalogue,
    selection: &Selection,
) -> Result<RenderedHost, RenderError> {
    let plan = plan_host(scope.clone(), catalogue, selection)?;
    let cache = FileCache::default();
    let mut services = Vec::with_capacity(plan.services.len());
    for def in &plan.services {
        services.push(render_service(scope, def, &plan.custom, &cache)?);
    }
    if let Some(e) = plan.error {
        return Err(e);
    }
    Ok(RenderedHost {
        host: scope.name().to_string(),
        node_config_directory: plan.node_config_directory,
        services,
    })
}

fn render_service(
    scope: &Arc<HostScope>,
    def: &ServiceDef,
    custom: &Path,
    cache: &FileCache,
) -> Result<RenderedService, RenderError> {
    let host = scope.name().to_string();
    let container = def.evaluate(scope).map_err(|source| RenderError::Service {
        host: host.clone(),
        source,
    })?;
    let mut files: BTreeMap<String, RenderedFile> = BTreeMap::new();
    let base_locals: IndexMap<String, Value> = IndexMap::from([
        ("service_name".to_string(), Value::from(def.name.as_str())),
        (
            "project_name".to_string(),
            Value::from(def.project.as_str()),
        ),
        ("service".to_string(), container.clone()),
    ]);
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
            let locals_v = Value::from_iter(locals.clone());
            for (k, raw) in &entry.vars {
                let v = ctx.eval(&Value::from_serialize(raw), &locals_v, k)?;
                locals.insert(k.clone(), v);
            }
            let locals = Value::from_iter(locals);
            if let Some(when) = &entry.when {
                let w = ctx.eval(&Value::from_serialize(when), &locals, "when")?;
                if !kollars_vars::filters::ansible_bool(&w) {
                    continue;
                }
            }
            if let Some(file) = ctx.render(&locals)? {
                files.insert(file.path.clone(), file);
            }
        }
    }
    let files: Vec<RenderedFile> = files.into_values().collect();
    let hash = dir_hash(&files);
    Ok(RenderedService {
        name: def.name.clone(),
        project: def.project.clone(),
        container,
        files,
        hash,
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

struct FileCtx<'a> {
    scope: &'a Arc<HostScope>,
    def: &'a ServiceDef,
    host: &'a str,
    custom: &'a Path,
    entry: &'a ConfigFile,
    /// The entry's index in the service's `config`.
    index: usize,
    cache: &'a FileCache,
    /// Whether the content rendered so far read nothing host-specific.
    same: Cell<bool>,
}

impl FileCtx<'_> {
    fn err(&self, file: &str, source: VarError) -> RenderError {
        RenderError::Template {
            host: self.host.to_string(),
            service: self.def.name.clone(),
            file: file.to_string(),
            source,
        }
    }

    fn eval(&self, raw: &Value, locals: &Value, what: &str) -> Result<Value, RenderError> {
        let (v, same) = self
            .scope
            .eval_tracked(raw, Some(locals), what)
            .map_err(|e| self.err(&self.entry.dest, e))?;
        self.same.set(self.same.get() && same);
        Ok(v)
    }

    fn template(&self, name: &str, locals: &Value, dest: &str) -> Result<String, RenderError> {
        let (out, same) = self
            .scope
            .render_template_tracked(name, Some(locals))
            .map_err(|e| self.err(dest, e))?;
        self.same.set(self.same.get() && same);
        Ok(out)
    }

    fn eval_str(&self, s: &str, locals: &Value) -> Result<String, RenderError> {
        Ok(self.eval(&Value::from(s), locals, s)?.to_string())
    }

    fn render_path(&self, path: &Path, locals: &Value, dest: &str) -> Result<String, RenderError> {
        self.template(&path.to_string_lossy(), locals, dest)
    }

    fn render(&self, locals: &Value) -> Result<Option<RenderedFile>, RenderError> {
        let e = self.entry;
        let dest = self.eval_str(&e.dest, locals)?;
        let def_err = |message: String| RenderError::Definition {
            host: self.host.to_string(),
            service: self.def.name.clone(),
            file: dest.clone(),
            message,
        };
        let mode_s = e.mode.as_deref().unwrap_or("0660");
        let mode = u32::from_str_radix(mode_s.trim_start_matches("0o"), 8)
            .map_err(|_| def_err(format!("invalid mode {mode_s:?}")))?;
        // Paths first: they often name the host (`config/nova/{{ inventory_hostname }}/…`),
        // but only which files exist matters for the content.
        let source = if e.json.is_some() {
            Source::Json
        } else if let Some(copy) = &e.copy {
            Source::Copy(self.custom.join(self.eval_str(copy, locals)?))
        } else {
            let mut first_found = None;
            for cand in &e.first_found {
                let p = self.custom.join(self.eval_str(cand, locals)?);
                if p.is_file() {
                    first_found = Some(p);
                    break;
                }
            }
            if first_found.is_none() && e.template.is_none() {
                return Err(def_err("neither template nor copy is set".into()));
            }
            let mut overrides = Vec::new();
            for o in &e.overrides {
                let p = self.custom.join(self.eval_str(o, locals)?);
                if p.is_file() {
                    overrides.push(p);
                }
            }
            Source::Template {
                first_found,
                overrides,
            }
        };
        let key = FileKey {
            locals: locals.clone(),
            dest,
            mode,
            source,
        };
        let slot = (self.def.name.clone(), self.index);
        if let Some(done) = self.cache.0.lock().expect("file cache").get(&slot) {
            if let Some((_, file)) = done.iter().find(|(k, _)| k.same(&key)) {
                return Ok(Some(file.clone()));
            }
        }
        self.same.set(true);
        let Some(content) = self.content(&key, locals)? else {
            return Ok(None);
        };
        let hash = hex(&Sha256::digest(content.as_bytes()));
        let file = RenderedFile {
            path: key.dest.clone(),
            mode,
            content,
            hash,
        };
        if self.same.get() {
            self.cache
                .0
                .lock()
                .expect("file cache")
                .entry(slot)
                .or_default()
                .push((key, file.clone()));
        }
        Ok(Some(file))
    }

    /// The content of a file; `None` for an optional copy whose source is missing.
    fn content(&self, key: &FileKey, locals: &Value) -> Result<Option<String>, RenderError> {
        let e = self.entry;
        let dest = &key.dest;
        let def_err = |message: String| RenderError::Definition {
            host: self.host.to_string(),
            service: self.def.name.clone(),
            file: dest.clone(),
            message,
        };
        let content = match &key.source {
            Source::Json => {
                let json = e.json.as_ref().expect("json entry");
                let v = self.eval(&Value::from_serialize(json), locals, dest)?;
                let j = serde_json::to_value(&v)
                    .map_err(|err| def_err(format!("cannot write JSON: {err}")))?;
                let mut out = serde_json::to_string_pretty(&prune_json(j))
                    .map_err(|err| def_err(err.to_string()))?;
                out.push('\n');
                // kolla's config.json uses four-space indents
                reindent(&out)
            }
            Source::Copy(src) => match std::fs::read_to_string(src) {
                Ok(s) => s,
                Err(err) if err.kind() == std::io::ErrorKind::NotFound && e.optional => {
                    return Ok(None)
                }
                Err(err) => {
                    return Err(RenderError::Io {
                        path: src.clone(),
                        source: err,
                    })
                }
            },
            Source::Template {
                first_found,
                overrides,
            } => {
                let base = match (first_found, &e.template) {
                    (Some(p), _) => self.render_path(p, locals, dest)?,
                    (None, Some(t)) => self.template(t, locals, dest)?,
                    (None, None) => unreachable!("checked when resolving the source"),
                };
                match e.merge {
                    None => base,
                    Some(MergeKind::Ini) => {
                        let mut doc = ini::IniDoc::new();
                        let src_name = e.template.clone().unwrap_or_default();
                        doc.merge_source(&base).map_err(|source| RenderError::Ini {
                            host: self.host.to_string(),
                            service: self.def.name.clone(),
                            path: src_name,
                            source,
                        })?;
                        for p in overrides {
                            let text = self.render_path(p, locals, dest)?;
                            doc.merge_source(&text).map_err(|source| RenderError::Ini {
                                host: self.host.to_string(),
                                service: self.def.name.clone(),
                                path: p.display().to_string(),
                                source,
                            })?;
                        }
                        doc.write()
                    }
                    Some(MergeKind::Yaml) => {
                        let parse =
                            |text: &str, path: String| -> Result<serde_yaml::Value, RenderError> {
                                serde_yaml::from_str::<serde_yaml::Value>(text).map_err(|err| {
                                    RenderError::Yaml {
                                        host: self.host.to_string(),
                                        service: self.def.name.clone(),
                                        path,
                                        message: err.to_string(),
                                    }
                                })
                            };
                        let mut doc = parse(&base, e.template.clone().unwrap_or_default())?;
                        if doc.is_null() {
                            doc = serde_yaml::Value::Mapping(Default::default());
                        }
                        for p in overrides {
                            let text = self.render_path(p, locals, dest)?;
                            let over = parse(&text, p.display().to_string())?;
                            if !over.is_null() {
                                yaml::merge(&mut doc, over, e.extend_lists);
                            }
                        }
                        serde_yaml::to_string(&doc).map_err(|err| def_err(err.to_string()))?
                    }
                }
            }
        };
        Ok(Some(content))
    }
}

/// Drops list items that are null or carry a false `when`, and removes `when` keys.
fn prune_json(j: serde_json::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match j {
        J::Array(items) => J::Array(
            items
                .into_iter()
                .filter(|i| !i.is_null())
                .filter(|i| match i.get("when") {
                    Some(w) => kollars_vars::filters::ansible_bool(&Value::from_serialize(w)),
                    None => true,
                })
                .map(prune_json)
                .collect(),
        ),
        J::Object(m) => J::Object(
            m.into_iter()
                .filter(|(k, _)| k != "when")
                .map(|(k, v)| (k, prune_json(v)))
                .collect(),
        ),
        other => other,
    }
}

fn reindent(pretty: &str) -> String {
    let mut out = String::with_capacity(pretty.len() * 2);
    for l in pretty.lines() {
        let t = l.trim_start();
        for _ in 0..(l.len() - t.len()) * 2 {
            out.push(' ');
        }
        out.push_str(t);
        out.push('\n');
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

fn dir_hash(files: &[RenderedFile]) -> String {
    let mut h = Sha256::new();
    for f in files {
        h.update(f.path.as_bytes());
        h.update([0]);
        h.update(format!("{:o}", f.mode).as_bytes());
        h.update([0]);
        h.update(f.hash.as_bytes());
        h.update([0]);
    }
    hex(&h.finalize())
}

/// Writes a host's services under `root/<service>/`: directories 0770, files with their mode.
/// A file that already exists is replaced atomically (temp file, then rename) and only when
/// its content or mode differs; a file in a directory this call created is written in place.
/// Returns the paths that changed.
pub fn write_host(root: &Path, rendered: &RenderedHost) -> Result<Vec<PathBuf>, RenderError> {
    std::fs::create_dir_all(root).map_err(io(root))?;
    // services are independent directories: write them in parallel (creating files is most
    // of the cost, in the kernel)
    let done = parallel(rendered.services.len(), |i| {
        let svc = &rendered.services[i];
        let mut w = Writer::default();
        w.known.insert(root.to_path_buf());
        let mut changed = Vec::new();
        let dir = root.join(&svc.name);
        w.dir(&dir, 0o770)?;
        for f in &svc.files {
            let path = dir.join(&f.path);
            let parent = path.parent().expect("file has a parent");
            w.dir(parent, 0o770)?;
            if w.write(&path, f, w.fresh.contains(parent))? {
                changed.push(path);
            }
        }
        Ok(changed)
    });
    let mut changed = Vec::new();
    for d in done {
        changed.extend(d?);
    }
    Ok(changed)
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RenderError + '_ {
    move |source| RenderError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Directories seen by one [`write_host`], so that each is created or checked once.
#[derive(Default)]
struct Writer {
    /// Directories that exist with their mode set.
    known: std::collections::HashSet<PathBuf>,
    /// Those this writer created: whatever goes in them is new.
    fresh: std::collections::HashSet<PathBuf>,
}

impl Writer {
    /// Makes `dir` (and missing parents) exist with `mode`.
    fn dir(&mut self, dir: &Path, mode: u32) -> Result<(), RenderError> {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        if self.known.contains(dir) {
            return Ok(());
        }
        match std::fs::DirBuilder::new().mode(mode).create(dir) {
            Ok(()) => {
                // the umask may have taken bits away
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode))
                    .map_err(io(dir))?;
                self.fresh.insert(dir.to_path_buf());
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let parent = dir.parent().ok_or_else(|| io(dir)(e))?;
                self.dir(parent, mode)?;
                return self.dir(dir, mode);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let meta = std::fs::metadata(dir).map_err(io(dir))?;
                if !meta.is_dir() {
                    return Err(io(dir)(e));
                }
                if meta.permissions().mode() & 0o7777 != mode {
                    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode))
                        .map_err(io(dir))?;
                }
            }
            Err(e) => return Err(io(dir)(e)),
        }
        self.known.insert(dir.to_path_buf());
        Ok(())
    }

    /// Writes one file; `fresh` when its directory was just created. Returns whether it
    /// changed.
    fn write(&self, path: &Path, f: &RenderedFile, fresh: bool) -> Result<bool, RenderError> {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let perms = std::fs::Permissions::from_mode(f.mode);
        if fresh {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(f.mode)
                .open(path)
            {
                Ok(mut file) => {
                    file.write_all(f.content.as_bytes()).map_err(io(path))?;
                    file.set_permissions(perms).map_err(io(path))?;
                    return Ok(true);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io(path)(e)),
            }
        }
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o7777 == f.mode && meta.len() == f.content.len() as u64
            {
                if let Ok(existing) = std::fs::read(path) {
                    if existing == f.content.as_bytes() {
                        return Ok(false);
                    }
                }
            }
        }
        let parent = path.parent().expect("file has a parent");
        let mut tmp = tempfile::NamedTempFile::new_in(parent).map_err(io(parent))?;
        tmp.write_all(f.content.as_bytes()).map_err(io(path))?;
        tmp.as_file().set_permissions(perms).map_err(io(path))?;
        tmp.persist(path).map_err(|e| RenderError::Io {
            path: path.to_path_buf(),
            source: e.error,
        })?;
        Ok(true)
    }
}
