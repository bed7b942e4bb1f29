//! One config entry of one service on one host: evaluating its paths, deciding where its
//! content comes from ([`Source`]), and producing its files and directories ([`Output`]):
//! `json`, a template with INI or YAML overrides merged, a first_found replacement, or a
//! copy ([`crate::copy`]). Kept apart from the per-host loop so that what a file is made of
//! ([`FileKey`]) is explicit: that is what lets identical files be shared between hosts.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kollars_services::{ConfigFile, MergeKind, ServiceDef};
use kollars_vars::{HostScope, Value, VarError};

use crate::copy::copy_entry;
use crate::render::FileCache;
use crate::{ini, yaml, RenderError, RenderedFile, DEFAULT_DIR_MODE};

/// The inputs of one rendered file, other than what its templates read from the host scope.
pub(crate) struct FileKey {
    locals: Value,
    dest: String,
    mode: u32,
    source: Source,
}

impl FileKey {
    /// Whether `other` has the same inputs (its locals strictly equal: `1` is not `true`).
    pub(crate) fn same(&self, other: &FileKey) -> bool {
        self.dest == other.dest
            && self.mode == other.mode
            && self.source == other.source
            && kollars_vars::strict_eq(&self.locals, &other.locals)
    }
}

/// What one config entry (one loop item) produced.
#[derive(Debug, Clone, Default)]
pub(crate) struct Output {
    /// The files, in the order produced.
    pub(crate) files: Vec<RenderedFile>,
    /// Every directory it needs (parents of its files included): path, mode, and whether
    /// the entry asked for that mode.
    pub(crate) dirs: Vec<(String, u32, bool)>,
}

/// Where a file's content comes from, once its paths are evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// The entry's `json`.
    Json,
    /// A file copied verbatim, or a directory copied recursively.
    Copy(PathBuf),
    /// Every match of a pattern (in its last component), copied into `dest`.
    CopyGlob(PathBuf),
    /// A template (the operator's first_found file or ours) and the override files that exist.
    Template {
        /// The operator's file that replaces our template, if one exists.
        first_found: Option<PathBuf>,
        /// The override files that exist, in order.
        overrides: Vec<PathBuf>,
    },
}

/// One config entry of one service on one host, while it renders.
pub(crate) struct FileCtx<'a> {
    pub(crate) scope: &'a Arc<HostScope>,
    pub(crate) def: &'a ServiceDef,
    pub(crate) host: &'a str,
    pub(crate) custom: &'a Path,
    pub(crate) entry: &'a ConfigFile,
    /// The entry's index in the service's `config`.
    pub(crate) index: usize,
    pub(crate) cache: &'a FileCache,
    /// Whether the content rendered so far read nothing host-specific.
    pub(crate) same: Cell<bool>,
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

    pub(crate) fn eval(
        &self,
        raw: &Value,
        locals: &Value,
        what: &str,
    ) -> Result<Value, RenderError> {
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

    pub(crate) fn render(&self, locals: &Value) -> Result<Output, RenderError> {
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
            let mode = match e.mode.as_deref() {
                Some(m) => parse_mode(m)?,
                None => DEFAULT_DIR_MODE,
            };
            let mut out = Output::default();
            let dest = dest.trim_matches('/');
            if let Some((parent, _)) = dest.rsplit_once('/') {
                out.push_dirs(
                    parent,
                    dir_mode.unwrap_or(DEFAULT_DIR_MODE),
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
                if is_override(&p).map_err(def_err)? {
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
                // A wildcard in the last component (prometheus.yml.d/*.yml): every matching
                // file, in name order, as kolla's find + sort.
                let glob = p
                    .file_name()
                    .is_some_and(|n| kollars_glob::has_magic(&n.to_string_lossy()));
                if glob {
                    overrides.extend(crate::copy::glob(&p)?.into_iter().filter(|m| m.is_file()));
                } else if is_override(&p).map_err(def_err)? {
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
        if let Some(out) = self.cache.find(&slot, &key) {
            return Ok(out);
        }
        self.same.set(true);
        let out = self.produce(&key, locals, dir_mode)?;
        if self.same.get() {
            self.cache.keep(slot, key, out.clone());
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
        let dest = key.dest.trim_matches('/');
        if let Source::Copy(_) | Source::CopyGlob(_) = &key.source {
            return copy_entry(&key.source, dest, key.mode, dir_mode, self.entry.optional);
        }
        let content = self.content(key, locals)?;
        let mut out = Output::default();
        out.push_file(
            dest,
            key.mode,
            content.into_bytes(),
            dir_mode.unwrap_or(DEFAULT_DIR_MODE),
            dir_mode.is_some(),
        );
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
    pub(crate) fn push_file(
        &mut self,
        path: &str,
        mode: u32,
        content: Vec<u8>,
        dir_mode: u32,
        explicit: bool,
    ) {
        if let Some((parent, _)) = path.rsplit_once('/') {
            self.push_dirs(parent, dir_mode, explicit);
        }
        self.files
            .push(RenderedFile::new(path.to_string(), mode, content));
    }

    /// `path` and each of its parents, parents first.
    pub(crate) fn push_dirs(&mut self, path: &str, mode: u32, explicit: bool) {
        let path = path.trim_matches('/');
        if path.is_empty() || path == "." {
            return;
        }
        let mut end = 0;
        while end < path.len() {
            end = path[end..].find('/').map_or(path.len(), |i| end + i);
            self.dirs.push((path[..end].to_string(), mode, explicit));
            end += 1;
        }
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

/// Doubles JSON's two-space indents: kolla's config.json uses four.
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

/// Whether the operator's override `p` exists. Anything there but a file (a directory named
/// `nova.conf`) is an error, not silently no override.
fn is_override(p: &std::path::Path) -> Result<bool, String> {
    match std::fs::metadata(p) {
        Ok(m) if m.is_file() => Ok(true),
        Ok(_) => Err(format!(
            "{} is not a file: an override must be a file",
            p.display()
        )),
        Err(_) => Ok(false),
    }
}
