//! Per-host variable scopes, evaluated lazily with kolla-ansible's precedence.
//!
//! kolla-ansible's thousands of defaults are Jinja expressions that refer to each other, and
//! only a fraction is used for any one host. A [`HostScope`] is a minijinja object: a template
//! that names a variable triggers its evaluation on first use, in that host's context, and the
//! result is cached. Values keep their native types (a `{{ … }}` that yields a list stays a list),
//! and a variable that needs itself is reported with the whole chain.
//!
//! Precedence, lowest first, as Ansible applies it for kolla-ansible:
//! project defaults (role defaults) < inventory-file group variables < kollars' global
//! defaults (kolla's `group_vars/all`) < inventory host variables < facts < extra variables
//! (`globals.yml`, `globals.d`, `passwords.yml`, `-e`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use indexmap::IndexMap;
use minijinja::value::{Enumerator, Object, ObjectRepr};
use minijinja::{Environment, ErrorKind, Value};

use crate::error::VarError;

/// One layer of raw (unevaluated) variables.
pub type Layer = Arc<IndexMap<String, Value>>;

/// What every host scope shares: the Jinja environment, the inventory-wide magic variables
/// and every host (for `hostvars`).
pub(crate) struct Shared {
    pub(crate) env: Environment<'static>,
    pub(crate) hosts: OnceLock<IndexMap<String, Arc<HostScope>>>,
    pub(crate) groups: Value,
    pub(crate) play_hosts: Value,
}

/// The variables of one inventory host.
pub struct HostScope {
    name: String,
    shared: Weak<Shared>,
    /// Highest precedence first.
    layers: Vec<Layer>,
    magic: IndexMap<&'static str, Value>,
    cache: Mutex<HashMap<String, Value>>,
}

impl std::fmt::Debug for HostScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<hostvars {}>", self.name)
    }
}

thread_local! {
    /// Variables being evaluated on this thread: (scope address, name). A repeat is a cycle.
    static IN_PROGRESS: RefCell<Vec<(usize, String)>> = const { RefCell::new(Vec::new()) };
    /// The first hard failure inside a nested evaluation (cycle, syntax, filter error): minijinja
    /// objects can only answer "undefined", so the real cause travels here.
    static FATAL: RefCell<Option<VarError>> = const { RefCell::new(None) };
    /// Why a nested variable came out undefined, innermost cause last.
    static UNDEFINED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

impl HostScope {
    pub(crate) fn new(
        name: String,
        shared: Weak<Shared>,
        layers: Vec<Layer>,
        magic: IndexMap<&'static str, Value>,
    ) -> HostScope {
        HostScope {
            name,
            shared,
            layers,
            magic,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The inventory host name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn shared(&self) -> Arc<Shared> {
        self.shared
            .upgrade()
            .expect("variable scopes outlive their engine")
    }

    fn raw(&self, key: &str) -> Option<&Value> {
        self.layers.iter().find_map(|l| l.get(key))
    }

    /// Whether a variable is defined for this host (without evaluating it).
    pub fn is_defined(&self, key: &str) -> bool {
        self.magic.contains_key(key) || self.raw(key).is_some() || self.special(key).is_some()
    }

    fn special(&self, key: &str) -> Option<Value> {
        let shared = self.shared.upgrade()?;
        match key {
            "hostvars" => Some(Value::from_object(HostVarsMap(self.shared.clone()))),
            "groups" => Some(shared.groups.clone()),
            "play_hosts"
            | "ansible_play_hosts"
            | "ansible_play_batch"
            | "ansible_play_hosts_all" => Some(shared.play_hosts.clone()),
            "omit" => Some(Value::from(OMIT)),
            _ => None,
        }
    }

    /// The evaluated value of a variable.
    pub fn get(self: &Arc<Self>, key: &str) -> Result<Value, VarError> {
        reset_diagnostics();
        match self.lookup(key) {
            Some(v) => Ok(v),
            None => Err(take_fatal().unwrap_or_else(|| VarError::Undefined {
                host: self.name.clone(),
                name: format!("variable '{key}'"),
                chain: take_undefined().into_iter().filter(|c| c != key).collect(),
            })),
        }
    }

    /// Looks a variable up for a template: evaluated, cached; `None` when undefined or when
    /// its evaluation failed (the cause is kept for the caller).
    fn lookup(self: &Arc<Self>, key: &str) -> Option<Value> {
        if let Some(v) = self.magic.get(key) {
            return Some(v.clone());
        }
        if let Some(v) = self.cache.lock().expect("cache lock").get(key) {
            return Some(v.clone());
        }
        let Some(raw) = self.raw(key) else {
            return self.special(key);
        };
        let me = Arc::as_ptr(self) as usize;
        let cycle = IN_PROGRESS.with(|s| {
            let s = s.borrow();
            s.iter().position(|(p, k)| *p == me && k == key).map(|pos| {
                let mut chain: Vec<String> = s[pos..].iter().map(|(_, k)| k.clone()).collect();
                chain.push(key.to_string());
                chain
            })
        });
        if let Some(chain) = cycle {
            set_fatal(VarError::Cycle {
                host: self.name.clone(),
                chain: chain.join(" -> "),
            });
            return None;
        }
        IN_PROGRESS.with(|s| s.borrow_mut().push((me, key.to_string())));
        let result = self.eval_value(raw, None, &format!("variable '{key}'"));
        IN_PROGRESS.with(|s| s.borrow_mut().pop());
        match result {
            Ok(v) if v.is_undefined() => {
                UNDEFINED.with(|u| u.borrow_mut().push(key.to_string()));
                None
            }
            Ok(v) => {
                self.cache
                    .lock()
                    .expect("cache lock")
                    .insert(key.to_string(), v.clone());
                Some(v)
            }
            Err(e) => {
                if let VarError::Undefined { chain, .. } = &e {
                    UNDEFINED.with(|u| {
                        let mut u = u.borrow_mut();
                        u.extend(chain.iter().rev().cloned());
                        u.push(key.to_string());
                    });
                } else {
                    set_fatal(e);
                }
                None
            }
        }
    }

    /// Evaluates a raw value (as written in YAML) in this host's context: strings are Jinja,
    /// lists and mappings are evaluated element by element. `locals` (a map) shadows variables.
    pub fn eval(
        self: &Arc<Self>,
        raw: &Value,
        locals: Option<&Value>,
        what: &str,
    ) -> Result<Value, VarError> {
        reset_diagnostics();
        let out = self.eval_value(raw, locals, what);
        match out {
            Ok(v) => Ok(v),
            Err(e) => Err(take_fatal().unwrap_or(e)),
        }
    }

    fn eval_value(
        self: &Arc<Self>,
        raw: &Value,
        locals: Option<&Value>,
        what: &str,
    ) -> Result<Value, VarError> {
        if let Some(s) = raw.as_str() {
            return self.eval_str(s, locals, what);
        }
        match raw.kind() {
            minijinja::value::ValueKind::Seq => {
                let mut out = Vec::new();
                for item in raw.try_iter().map_err(|e| self.jinja_err(what, e))? {
                    out.push(self.eval_value(&item, locals, what)?);
                }
                Ok(Value::from(out))
            }
            minijinja::value::ValueKind::Map => {
                let mut out = IndexMap::new();
                for k in raw.try_iter().map_err(|e| self.jinja_err(what, e))? {
                    let v = raw.get_item(&k).map_err(|e| self.jinja_err(what, e))?;
                    out.insert(k.to_string(), self.eval_value(&v, locals, what)?);
                }
                Ok(Value::from_iter(out))
            }
            _ => Ok(raw.clone()),
        }
    }

    fn eval_str(
        self: &Arc<Self>,
        s: &str,
        locals: Option<&Value>,
        what: &str,
    ) -> Result<Value, VarError> {
        if !s.contains("{{") && !s.contains("{%") && !s.contains("{#") {
            return Ok(Value::from(s));
        }
        let shared = self.shared();
        let ctx = self.context(locals);
        if let Some(expr) = single_expression(s) {
            let tmpl = shared
                .env
                .get_template(&format!("{EXPR_PREFIX}{expr}"))
                .map_err(|e| self.jinja_err(what, e))?;
            let captured = tmpl
                .render_captured(ctx)
                .map_err(|e| self.jinja_err(what, e))?;
            let v = captured.state().lookup(RESULT_VAR).unwrap_or_default();
            if v.is_undefined() {
                let mut chain = take_undefined();
                if let Some(name) = LAST_MISSING.with(|m| m.borrow_mut().take()) {
                    if !chain.contains(&name) {
                        chain.push(name);
                    }
                }
                return Err(VarError::Undefined {
                    host: self.name.clone(),
                    name: what.to_string(),
                    chain,
                });
            }
            return Ok(v);
        }
        let tmpl = shared
            .env
            .get_template(&format!("{INLINE_PREFIX}{s}"))
            .map_err(|e| self.jinja_err(what, e))?;
        let out = tmpl.render(ctx).map_err(|e| self.jinja_err(what, e))?;
        Ok(Value::from(out))
    }

    /// Renders a template file (a name under the templates directory, or an absolute path of
    /// an operator's override) in this host's context.
    pub fn render_template(
        self: &Arc<Self>,
        name: &str,
        locals: Option<&Value>,
    ) -> Result<String, VarError> {
        reset_diagnostics();
        let shared = self.shared();
        let ctx = self.context(locals);
        let tmpl = shared
            .env
            .get_template(name)
            .map_err(|e| self.jinja_err(name, e))?;
        let out = tmpl
            .render(ctx)
            .map_err(|e| take_fatal().unwrap_or_else(|| self.jinja_err(name, e)))?;
        Ok(out)
    }

    fn context(self: &Arc<Self>, locals: Option<&Value>) -> Value {
        let me = Value::from_dyn_object(self.clone());
        match locals {
            Some(l) => minijinja::value::merge_maps([l.clone(), me]),
            None => me,
        }
    }

    fn jinja_err(&self, what: &str, e: minijinja::Error) -> VarError {
        if let Some(fatal) = take_fatal() {
            return fatal;
        }
        let chain = take_undefined();
        if e.kind() == ErrorKind::UndefinedError {
            let mut chain = chain;
            if let Some(name) = LAST_MISSING.with(|m| m.borrow_mut().take()) {
                if !chain.contains(&name) {
                    chain.push(name);
                }
            }
            return VarError::Undefined {
                host: self.name.clone(),
                name: clean_name(what),
                chain,
            };
        }
        let mut detail = e
            .detail()
            .map(str::to_string)
            .unwrap_or_else(|| e.kind().to_string());
        let mut src = std::error::Error::source(&e);
        while let Some(inner) = src {
            detail.push_str(&format!(": {inner}"));
            src = inner.source();
        }
        VarError::Template {
            host: self.name.clone(),
            template: clean_name(e.name().unwrap_or(what)),
            line: e.line().unwrap_or(0),
            message: format!("{}: {detail}", e.kind()),
        }
    }
}

thread_local! {
    static LAST_MISSING: RefCell<Option<String>> = const { RefCell::new(None) };
}

fn clean_name(name: &str) -> String {
    if let Some(expr) = name.strip_prefix(EXPR_PREFIX) {
        format!("expression {{{{ {expr} }}}}")
    } else if let Some(src) = name.strip_prefix(INLINE_PREFIX) {
        format!("string {:?}", src.chars().take(80).collect::<String>())
    } else {
        name.to_string()
    }
}

fn reset_diagnostics() {
    if IN_PROGRESS.with(|s| s.borrow().is_empty()) {
        FATAL.with(|f| f.borrow_mut().take());
        UNDEFINED.with(|u| u.borrow_mut().clear());
        LAST_MISSING.with(|m| m.borrow_mut().take());
    }
}

fn set_fatal(e: VarError) {
    FATAL.with(|f| {
        let mut f = f.borrow_mut();
        if f.is_none() {
            *f = Some(e);
        }
    });
}

fn take_fatal() -> Option<VarError> {
    FATAL.with(|f| f.borrow_mut().take())
}

fn take_undefined() -> Vec<String> {
    let mut v = UNDEFINED.with(|u| std::mem::take(&mut *u.borrow_mut()));
    v.reverse();
    v
}

/// Ansible's placeholder for "leave this parameter out".
pub const OMIT: &str = "__omit_place_holder__";
pub(crate) const EXPR_PREFIX: &str = "\u{0}expr:";
pub(crate) const INLINE_PREFIX: &str = "\u{0}str:";
pub(crate) const RESULT_VAR: &str = "__kollars_result";

/// `"{{ expr }}"` with nothing around it: the expression, whose value keeps its native type.
fn single_expression(s: &str) -> Option<&str> {
    let t = s.trim();
    let inner = t.strip_prefix("{{")?.strip_suffix("}}")?;
    let inner = inner.trim_start_matches('-').trim_end_matches('-');
    if inner.contains("{{") || inner.contains("}}") || inner.contains("{%") {
        return None;
    }
    Some(inner.trim())
}

impl Object for HostScope {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let key = key.as_str()?;
        let v = self.lookup(key);
        if v.is_none() && self.raw(key).is_none() {
            LAST_MISSING.with(|m| *m.borrow_mut() = Some(key.to_string()));
        }
        v
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let mut keys: Vec<Value> = self.magic.keys().map(|k| Value::from(*k)).collect();
        for l in &self.layers {
            keys.extend(l.keys().map(|k| Value::from(k.as_str())));
        }
        Enumerator::Values(keys)
    }
}

/// `hostvars`: every host's scope by name.
#[derive(Debug)]
struct HostVarsMap(Weak<Shared>);

impl Object for HostVarsMap {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let shared = self.0.upgrade()?;
        let host = shared.hosts.get()?.get(key.as_str()?)?;
        Some(Value::from_dyn_object(host.clone()))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let Some(shared) = self.0.upgrade() else {
            return Enumerator::Empty;
        };
        match shared.hosts.get() {
            Some(h) => Enumerator::Values(h.keys().map(|k| Value::from(k.as_str())).collect()),
            None => Enumerator::Empty,
        }
    }
}

/// Where templates come from: inline sources (variables), files under the templates
/// directory, and absolute paths (operator overrides).
pub(crate) fn load_template(
    templates: &[PathBuf],
    name: &str,
) -> Result<Option<String>, minijinja::Error> {
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
