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
//!
//! A file's content is bytes ([`RenderedFile::content`]): templates, merges and `json` produce
//! text, but a `copy` entry copies whatever it finds byte for byte, as kolla-ansible's copy
//! does (a PNG logo in a horizon theme, a binary keyring). Hashes are over those bytes, so a
//! text file hashes exactly as it did when contents were strings.

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
    /// Content, byte for byte: UTF-8 text for everything rendered, any bytes for a copy.
    pub content: Vec<u8>,
    /// sha256 of the content, hex.
    pub hash: String,
}

impl RenderedFile {
    /// A file with this content; its hash is the sha256 of the bytes.
    pub fn new(path: String, mode: u32, content: Vec<u8>) -> RenderedFile {
        let hash = hex(&Sha256::digest(&content));
        RenderedFile {
            path,
            mode,
            content,
            hash,
        }
    }

    /// The content as text, or `None` when it is not UTF-8 (a copied binary file).
    pub fn text(&self) -> Option<&str> {
        std::str::from_utf8(&self.content).ok()
    }
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
    /// Directories below the service directory, with their mode, sorted by path (parents
    /// first): every directory a file is in, and every `directory:` entry (which may be
    /// empty). The service directory itself is always 0770.
    pub dirs: Vec<RenderedDir>,
    /// Hash over every file's path, mode and content.
    pub hash: String,
}

/// A directory inside a service's config directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedDir {
    /// Path inside the service directory.
    pub path: String,
    /// Mode (0o770 unless the config entry says otherwise; 0o755 for what a recursive or
    /// glob `copy` creates, as Ansible's copy leaves them).
    pub mode: u32,
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
    parallel(hosts.len(), |i| {
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

/// What an entry produced, with the inputs it was rendered from.
type Rendered = (FileKey, Output);

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

/// What one config entry (one loop item) produced.
#[derive(Debug, Clone, Default)]
struct Output {
    files: Vec<RenderedFile>,
    /// Every directory it needs (parents of its files included): path, mode, and whether
    /// the entry asked for that mode.
    dirs: Vec<(String, u32, bool)>,
}

/// Where a file's content comes from, once its paths are evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    /// The entry's `json`.
    Json,
    /// A file copied verbatim, or a directory copied recursively.
    Copy(PathBuf),
    /// Every match of a pattern (in its last component), copied into `dest`.
    CopyGlob(PathBuf),
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
        services.push(render_service(scope, def, &custom, cache)?);
    }
    Ok(RenderedHost {
        host,
        node_config_directory,
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
    let mut dirs = Dirs::default();
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
        name: def.name.clone(),
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

    fn render(&self, locals: &Value) -> Result<Output, RenderError> {
        let e = self.entry;
        let dest = self.eval_str(&e.dest, locals)?;
        let def_err = |message: String| RenderError::Definition {
            host: self.host.to_string(),
            service: self.def.name.clone(),
            file: dest.clone(),
            message,
        };
        let parse_mode = |m: &str| {
            u32::from_str_radix(m.trim_start_matches("0o"), 8)
                .map_err(|_| def_err(format!("invalid mode {m:?}")))
        };
        let dir_mode = e.dir_mode.as_deref().map(parse_mode).transpose()?;
        if e.directory {
            if e.template.is_some()
                || e.json.is_some()
                || e.copy.is_some()
                || !e.first_found.is_empty()
                || !e.overrides.is_empty()
            {
                return Err(def_err(
                    "a directory entry has no template, json, copy, first_found or overrides"
                        .into(),
                ));
            }
            let mode = parse_mode(e.mode.as_deref().unwrap_or("0770"))?;
            let mut out = Output::default();
            let dest = dest.trim_matches('/');
            if let Some((parent, _)) = dest.rsplit_once('/') {
                push_dirs(
                    &mut out.dirs,
                    parent,
                    dir_mode.unwrap_or(0o770),
                    dir_mode.is_some(),
                );
            }
            out.dirs.push((dest.to_string(), mode, e.mode.is_some()));
            return Ok(out);
        }
        let mode = parse_mode(e.mode.as_deref().unwrap_or("0660"))?;
        // Paths first: they often name the host (`config/nova/{{ inventory_hostname }}/…`),
        // but only which files exist matters for the content.
        let source = if e.json.is_some() {
            Source::Json
        } else if let Some(copy) = &e.copy {
            let src = self.custom.join(self.eval_str(copy, locals)?);
            let pattern = src
                .file_name()
                .is_some_and(|n| n.to_string_lossy().contains(['*', '?', '[']));
            if pattern {
                Source::CopyGlob(src)
            } else {
                Source::Copy(src)
            }
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
            if let Some((_, out)) = done.iter().find(|(k, _)| k.same(&key)) {
                return Ok(out.clone());
            }
        }
        self.same.set(true);
        let out = self.produce(&key, locals, dir_mode)?;
        if self.same.get() {
            self.cache
                .0
                .lock()
                .expect("file cache")
                .entry(slot)
                .or_default()
                .push((key, out.clone()));
        }
        Ok(out)
    }

    /// The files (and directories) of an entry whose paths are resolved.
    fn produce(
        &self,
        key: &FileKey,
        locals: &Value,
        dir_mode: Option<u32>,
    ) -> Result<Output, RenderError> {
        let e = self.entry;
        let dest = key.dest.trim_matches('/');
        let mut out = Output::default();
        // what a recursive or glob copy creates is 0755, as Ansible's copy leaves it
        let tree_mode = dir_mode.unwrap_or(0o755);
        let copy_tree = |out: &mut Output, src: &Path, to: &str| -> Result<(), RenderError> {
            if let Some((parent, _)) = to.rsplit_once('/') {
                push_dirs(&mut out.dirs, parent, tree_mode, dir_mode.is_some());
            }
            copy_dir(src, to, key.mode, tree_mode, dir_mode.is_some(), out)
        };
        match &key.source {
            Source::Copy(src) => match std::fs::metadata(src) {
                Ok(m) if m.is_dir() => copy_tree(&mut out, src, dest)?,
                Err(err) if err.kind() == std::io::ErrorKind::NotFound && e.optional => {}
                _ => {
                    out.push_file(
                        dest,
                        key.mode,
                        read_bytes(src)?,
                        dir_mode.unwrap_or(0o770),
                        dir_mode.is_some(),
                    );
                }
            },
            Source::CopyGlob(pattern) => {
                let matches = glob(pattern)?;
                for m in &matches {
                    let name = m.file_name().expect("a match has a name").to_string_lossy();
                    let to = format!("{dest}/{name}");
                    if m.is_dir() {
                        copy_tree(&mut out, m, &to)?;
                    } else {
                        out.push_file(&to, key.mode, read_bytes(m)?, tree_mode, dir_mode.is_some());
                    }
                }
            }
            _ => {
                let content = self.content(key, locals)?;
                out.push_file(
                    dest,
                    key.mode,
                    content.into_bytes(),
                    dir_mode.unwrap_or(0o770),
                    dir_mode.is_some(),
                );
            }
        }
        Ok(out)
    }

    /// The content of a rendered (not copied) file.
    fn content(&self, key: &FileKey, locals: &Value) -> Result<String, RenderError> {
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
            Source::Copy(_) | Source::CopyGlob(_) => unreachable!("copies are produced as trees"),
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
                        // YAML 1.1, as kolla's merge_yaml reads both sides with PyYAML
                        let parse =
                            |text: &str, path: String| -> Result<serde_yaml::Value, RenderError> {
                                kollars_inputs::yaml::parse(std::path::Path::new(&path), text)
                                    .map_err(|err| RenderError::Yaml {
                                        host: self.host.to_string(),
                                        service: self.def.name.clone(),
                                        path,
                                        message: err.to_string(),
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
        Ok(content)
    }
}

impl Output {
    /// A file at `path`, its parents with `dir_mode` (asked for by the entry: `explicit`).
    fn push_file(
        &mut self,
        path: &str,
        mode: u32,
        content: Vec<u8>,
        dir_mode: u32,
        explicit: bool,
    ) {
        if let Some((parent, _)) = path.rsplit_once('/') {
            push_dirs(&mut self.dirs, parent, dir_mode, explicit);
        }
        self.files
            .push(RenderedFile::new(path.to_string(), mode, content));
    }
}

/// `path` and each of its parents, parents first.
fn push_dirs(dirs: &mut Vec<(String, u32, bool)>, path: &str, mode: u32, explicit: bool) {
    let path = path.trim_matches('/');
    if path.is_empty() || path == "." {
        return;
    }
    let mut end = 0;
    while end < path.len() {
        end = path[end..].find('/').map_or(path.len(), |i| end + i);
        dirs.push((path[..end].to_string(), mode, explicit));
        end += 1;
    }
}

/// A copied file's bytes, whatever they are (kolla copies binary files too).
fn read_bytes(path: &Path) -> Result<Vec<u8>, RenderError> {
    std::fs::read(path).map_err(|source| RenderError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Copies directory `src` recursively to `to` (inside the service directory): its files with
/// `mode`, its directories (`to` included) with `dir_mode`.
fn copy_dir(
    src: &Path,
    to: &str,
    mode: u32,
    dir_mode: u32,
    explicit: bool,
    out: &mut Output,
) -> Result<(), RenderError> {
    out.dirs.push((to.to_string(), dir_mode, explicit));
    let mut entries: Vec<PathBuf> = std::fs::read_dir(src)
        .map_err(|source| RenderError::Io {
            path: src.to_path_buf(),
            source,
        })?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(|source| RenderError::Io {
            path: src.to_path_buf(),
            source,
        })?;
    entries.sort();
    for p in entries {
        let name = p
            .file_name()
            .expect("an entry has a name")
            .to_string_lossy();
        let rel = format!("{to}/{name}");
        if p.is_dir() {
            copy_dir(&p, &rel, mode, dir_mode, explicit, out)?;
        } else {
            out.files
                .push(RenderedFile::new(rel, mode, read_bytes(&p)?));
        }
    }
    Ok(())
}

/// The entries of a directory whose names match the pattern in `pattern`'s last component
/// (`*`, `?`, `[…]`), sorted; none when the directory does not exist.
fn glob(pattern: &Path) -> Result<Vec<PathBuf>, RenderError> {
    let dir = pattern.parent().unwrap_or(Path::new("."));
    let pat: Vec<char> = pattern
        .file_name()
        .map(|n| n.to_string_lossy().chars().collect())
        .unwrap_or_default();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(RenderError::Io {
                path: dir.to_path_buf(),
                source,
            })
        }
    };
    let mut out = Vec::new();
    for e in entries {
        let e = e.map_err(|source| RenderError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let name: Vec<char> = e.file_name().to_string_lossy().chars().collect();
        // like the shell: `*` does not match a leading dot
        if name.first() == Some(&'.') && pat.first() != Some(&'.') {
            continue;
        }
        if glob_match(&pat, &name) {
            out.push(e.path());
        }
    }
    out.sort();
    Ok(out)
}

/// fnmatch for one name: `*`, `?`, `[abc]`, `[a-z]`, `[!abc]`.
fn glob_match(pat: &[char], name: &[char]) -> bool {
    match pat.first() {
        None => name.is_empty(),
        Some('*') => (0..=name.len()).any(|i| glob_match(&pat[1..], &name[i..])),
        Some('?') => !name.is_empty() && glob_match(&pat[1..], &name[1..]),
        Some('[') => {
            let Some(close) = pat.iter().skip(2).position(|c| *c == ']').map(|i| i + 2) else {
                return name.first() == Some(&'[') && glob_match(&pat[1..], &name[1..]);
            };
            let Some(c) = name.first() else {
                return false;
            };
            let (negate, set) = match pat[1] {
                '!' | '^' => (true, &pat[2..close]),
                _ => (false, &pat[1..close]),
            };
            let mut hit = false;
            let mut i = 0;
            while i < set.len() {
                if i + 2 < set.len() && set[i + 1] == '-' {
                    hit |= set[i] <= *c && *c <= set[i + 2];
                    i += 3;
                } else {
                    hit |= set[i] == *c;
                    i += 1;
                }
            }
            hit != negate && glob_match(&pat[close + 1..], &name[1..])
        }
        Some(p) => name.first() == Some(p) && glob_match(&pat[1..], &name[1..]),
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

/// Writes a host's services under `root/<service>/`: the service directory 0770, the others
/// (empty ones included) and files with their modes.
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
        for d in &svc.dirs {
            w.dir(&dir.join(&d.path), d.mode)?;
        }
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
                    file.write_all(&f.content).map_err(io(path))?;
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
                    if existing == f.content {
                        return Ok(false);
                    }
                }
            }
        }
        let parent = path.parent().expect("file has a parent");
        let mut tmp = tempfile::NamedTempFile::new_in(parent).map_err(io(parent))?;
        tmp.write_all(&f.content).map_err(io(path))?;
        tmp.as_file().set_permissions(perms).map_err(io(path))?;
        tmp.persist(path).map_err(|e| RenderError::Io {
            path: path.to_path_buf(),
            source: e.error,
        })?;
        Ok(true)
    }
}
