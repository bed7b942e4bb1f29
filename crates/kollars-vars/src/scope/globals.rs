//! What every host's scope shares: the Jinja environment, the resolved variable table, the
//! caches of host-independent results, and where templates come from.
//!
//! It exists apart from [`HostScope`] because it is built once for the whole inventory (by
//! [`VarsBuilder`](crate::VarsBuilder)) and read by every host in parallel: the caches behind
//! locks here are what make a value evaluated on one host free on the others.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock, RwLock};

use indexmap::IndexMap;
use minijinja::{Environment, ErrorKind, Value};

use super::hasher::FastMap;
use super::HostScope;

/// How a variable name resolves.
pub(crate) struct VarEntry {
    /// The raw value every host without a host-specific one sees (extra vars, then global
    /// defaults, then project defaults; or a fact/host/group value all hosts share).
    pub(crate) shared: Option<Value>,
    /// Some host has a value of its own (a fact, host or group variable not all hosts share):
    /// the variable must be looked up per host, and reading it is host-specific.
    pub(crate) host_specific: bool,
}

/// What does not depend on the host: the Jinja environment, the resolved variable table,
/// the inventory-wide magic variables and the caches of host-independent results.
pub(crate) struct Globals {
    pub(crate) env: Environment<'static>,
    pub(crate) vars: FastMap<String, VarEntry>,
    pub(crate) groups: Value,
    pub(crate) play_hosts: Value,
    /// Variables whose evaluation read nothing host-specific.
    pub(crate) cache: RwLock<FastMap<String, Value>>,
    /// [`HostScope::eval_shared`] results that read nothing host-specific.
    pub(crate) eval_cache: RwLock<FastMap<String, Value>>,
    /// Inline sources and their short loader names (see [`Inline`]).
    pub(crate) inline: Arc<RwLock<Inline>>,
    /// Names the environment defines (functions such as `lookup`, `range`): a template's
    /// lookup falls back to them, so `{{ name }}` of one of them goes through minijinja.
    pub(crate) env_globals: HashSet<String>,
}

/// Inline sources (variable values, expressions) get short loader names, `\0#<n>`, so that
/// fetching a compiled template does not copy and hash the whole source on every use.
#[derive(Default)]
pub(crate) struct Inline {
    exprs: FastMap<String, String>,
    texts: FastMap<String, String>,
    /// Loader source names (`EXPR_PREFIX`/`INLINE_PREFIX` + source) by number.
    sources: Vec<String>,
}

impl Inline {
    /// The source behind a short name.
    pub(crate) fn source(&self, name: &str) -> Option<&str> {
        let n: usize = name.strip_prefix(INLINE_ID_PREFIX)?.parse().ok()?;
        self.sources.get(n).map(String::as_str)
    }
}

impl Globals {
    /// The loader name of an inline source (`expr` for a single expression).
    pub(super) fn template_name(&self, expr: bool, src: &str) -> String {
        {
            let inline = self.inline.read().expect("inline lock");
            let map = if expr { &inline.exprs } else { &inline.texts };
            if let Some(name) = map.get(src) {
                return name.clone();
            }
        }
        let mut inline = self.inline.write().expect("inline lock");
        let inline = &mut *inline;
        let map = if expr {
            &mut inline.exprs
        } else {
            &mut inline.texts
        };
        if let Some(name) = map.get(src) {
            return name.clone();
        }
        let name = format!("{INLINE_ID_PREFIX}{}", inline.sources.len());
        let prefix = if expr { EXPR_PREFIX } else { INLINE_PREFIX };
        inline.sources.push(format!("{prefix}{src}"));
        map.insert(src.to_string(), name.clone());
        name
    }
}

/// Every host (for `hostvars`).
pub(crate) struct Shared {
    pub(crate) hosts: OnceLock<IndexMap<String, Arc<HostScope>>>,
}

pub(crate) const EXPR_PREFIX: &str = "\u{0}expr:";
pub(crate) const INLINE_PREFIX: &str = "\u{0}str:";
/// Loader names of inline sources: `\0#<n>`, see [`Globals::template_name`].
pub(crate) const INLINE_ID_PREFIX: &str = "\u{0}#";
pub(crate) const RESULT_VAR: &str = "__kollars_result";

/// Where templates come from: inline sources (variables), files under the templates
/// directory, and absolute paths (operator overrides).
pub(crate) fn load_template(
    templates: &[PathBuf],
    inline: &RwLock<Inline>,
    name: &str,
) -> Result<Option<String>, minijinja::Error> {
    if name.starts_with(INLINE_ID_PREFIX) {
        let src = inline
            .read()
            .expect("inline lock")
            .source(name)
            .map(str::to_string);
        return match src {
            Some(src) => load_template(templates, inline, &src),
            None => Ok(None),
        };
    }
    if let Some(expr) = name.strip_prefix(EXPR_PREFIX) {
        return Ok(Some(format!("{{% set {RESULT_VAR} = ({expr}) %}}")));
    }
    if let Some(src) = name.strip_prefix(INLINE_PREFIX) {
        return Ok(Some(src.to_string()));
    }
    let path = std::path::Path::new(name);
    let candidates: Vec<PathBuf> = if path.is_absolute() {
        vec![path.to_path_buf()]
    } else {
        if name.split('/').any(|c| c == "..") {
            return Ok(None);
        }
        templates.iter().map(|d| d.join(name)).collect()
    };
    for c in candidates {
        match std::fs::read_to_string(&c) {
            Ok(s) => return Ok(Some(s)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(minijinja::Error::new(
                    ErrorKind::InvalidOperation,
                    format!("cannot read template {}: {e}", c.display()),
                ))
            }
        }
    }
    Ok(None)
}
