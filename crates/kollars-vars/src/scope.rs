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
//!
//! Most variables come out the same on every host. Each evaluation records whether it read
//! anything host-specific: a magic variable (`inventory_hostname`, `group_names`,
//! `ansible_facts`), a variable whose raw value differs between hosts (facts, host and group
//! variables that not all hosts share), the scope's own key list, or a variable that itself
//! read one of those. A variable that read none of them is cached once for every host
//! ([`Globals::cache`]); the others are cached per host. Reading another host through
//! `hostvars['name']` is not host-specific: it gives the same answer on every host.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, RwLock, Weak};

use indexmap::IndexMap;
use minijinja::value::{Enumerator, Object, ObjectRepr};
use minijinja::{Environment, ErrorKind, Value};

use crate::error::VarError;

/// One layer of raw (unevaluated) variables.
pub type Layer = Arc<IndexMap<String, Value>>;

/// FxHash (rustc's hasher): variable names and template sources are the operator's and ours,
/// not an attacker's, and SipHash showed up at the top of the profile.
#[derive(Default, Clone, Copy)]
pub(crate) struct FastHasher(u64);

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut add = |w: u64| self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(SEED);
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            add(u64::from_le_bytes(buf));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.write(&[i]);
    }

    fn write_usize(&mut self, i: usize) {
        self.write(&(i as u64).to_le_bytes());
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A hash map with [`FastHasher`].
pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

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
    pub(crate) env_globals: std::collections::HashSet<String>,
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
    fn template_name(&self, expr: bool, src: &str) -> String {
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

/// The variables of one inventory host.
pub struct HostScope {
    name: String,
    globals: Arc<Globals>,
    shared: Weak<Shared>,
    /// Highest precedence first (for listing the names).
    layers: Vec<Layer>,
    /// Raw values of the host-specific variables this host has, precedence applied.
    own: FastMap<String, Value>,
    magic: IndexMap<&'static str, Value>,
    cache: Mutex<FastMap<String, Value>>,
}

impl std::fmt::Debug for HostScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<hostvars {}>", self.name)
    }
}

/// One evaluation in progress on this thread.
struct Frame {
    /// The scope it runs in (its address).
    scope: usize,
    /// The variable being evaluated (`None` for a top-level evaluation: a service dict, a
    /// config file's values, a template).
    key: Option<String>,
    /// Whether it read anything host-specific of its own scope.
    tainted: bool,
}

thread_local! {
    /// Evaluations in progress on this thread. A variable that repeats is a cycle.
    static FRAMES: RefCell<Vec<Frame>> = const { RefCell::new(Vec::new()) };
    /// The first hard failure inside a nested evaluation (cycle, syntax, filter error): minijinja
    /// objects can only answer "undefined", so the real cause travels here.
    static FATAL: RefCell<Option<VarError>> = const { RefCell::new(None) };
    /// Why a nested variable came out undefined, innermost cause last.
    static UNDEFINED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Marks the innermost evaluation as host-specific if it runs in scope `scope`.
fn taint(scope: usize) {
    FRAMES.with(|f| {
        if let Some(top) = f.borrow_mut().last_mut() {
            if top.scope == scope {
                top.tainted = true;
            }
        }
    });
}

impl HostScope {
    pub(crate) fn new(
        name: String,
        globals: Arc<Globals>,
        shared: Weak<Shared>,
        layers: Vec<Layer>,
        own: FastMap<String, Value>,
        magic: IndexMap<&'static str, Value>,
    ) -> HostScope {
        HostScope {
            name,
            globals,
            shared,
            layers,
            own,
            magic,
            cache: Mutex::new(FastMap::default()),
        }
    }

    fn addr(&self) -> usize {
        self as *const HostScope as usize
    }

    /// The inventory host name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The raw value of a variable for this host, and whether it is host-specific.
    fn resolve(&self, key: &str) -> (Option<&Value>, bool) {
        match self.globals.vars.get(key) {
            Some(e) if e.host_specific => (self.own.get(key).or(e.shared.as_ref()), true),
            Some(e) => (e.shared.as_ref(), false),
            None => (None, false),
        }
    }

    fn raw(&self, key: &str) -> Option<&Value> {
        self.resolve(key).0
    }

    /// Whether a variable is defined for this host (without evaluating it).
    pub fn is_defined(&self, key: &str) -> bool {
        self.magic.contains_key(key) || self.raw(key).is_some() || self.special(key).is_some()
    }

    fn special(&self, key: &str) -> Option<Value> {
        match key {
            "hostvars" => Some(Value::from_object(HostVarsMap(self.shared.clone()))),
            "groups" => Some(self.globals.groups.clone()),
            "play_hosts"
            | "ansible_play_hosts"
            | "ansible_play_batch"
            | "ansible_play_hosts_all" => Some(self.globals.play_hosts.clone()),
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

    /// Evaluates `raw` (no locals) once for every host when it reads nothing host-specific:
    /// `key` must name `raw` uniquely among the callers of this [`Vars`](crate::Vars) (e.g.
    /// `service nova-api`). Also says whether the result is the same on every host; a
    /// host-specific result is not kept.
    pub fn eval_shared(
        self: &Arc<Self>,
        key: &str,
        raw: &Value,
        what: &str,
    ) -> Result<(Value, bool), VarError> {
        if let Some(v) = self
            .globals
            .eval_cache
            .read()
            .expect("eval cache lock")
            .get(key)
        {
            return Ok((v.clone(), true));
        }
        let (v, same) = self.tracked(|| self.eval_value(raw, None, &What::Text(what)))?;
        if same {
            self.globals
                .eval_cache
                .write()
                .expect("eval cache lock")
                .insert(key.to_string(), v.clone());
        }
        Ok((v, same))
    }

    /// [`HostScope::eval`], also saying whether the result is the same on every host: true
    /// when the evaluation read nothing host-specific of this scope (the caller answers for
    /// `locals`).
    pub fn eval_tracked(
        self: &Arc<Self>,
        raw: &Value,
        locals: Option<&Value>,
        what: &str,
    ) -> Result<(Value, bool), VarError> {
        self.tracked(|| self.eval_value(raw, locals, &What::Text(what)))
    }

    /// [`HostScope::render_template`], also saying whether the output is the same on every
    /// host (see [`HostScope::eval_tracked`]).
    pub fn render_template_tracked(
        self: &Arc<Self>,
        name: &str,
        locals: Option<&Value>,
    ) -> Result<(String, bool), VarError> {
        self.tracked(|| {
            let ctx = self.context(locals);
            let what = What::Text(name);
            let tmpl = self
                .globals
                .env
                .get_template(name)
                .map_err(|e| self.jinja_err(&what, e))?;
            tmpl.render(ctx)
                .map_err(|e| take_fatal().unwrap_or_else(|| self.jinja_err(&what, e)))
        })
    }

    /// Runs a top-level evaluation in a frame of its own, to learn whether it read anything
    /// host-specific.
    fn tracked<T>(
        self: &Arc<Self>,
        f: impl FnOnce() -> Result<T, VarError>,
    ) -> Result<(T, bool), VarError> {
        reset_diagnostics();
        FRAMES.with(|s| {
            s.borrow_mut().push(Frame {
                scope: self.addr(),
                key: None,
                tainted: false,
            })
        });
        let out = f();
        let tainted = FRAMES.with(|s| s.borrow_mut().pop().is_some_and(|f| f.tainted));
        match out {
            Ok(v) => Ok((v, !tainted)),
            Err(e) => Err(take_fatal().unwrap_or(e)),
        }
    }

    /// Looks a variable up for a template: evaluated, cached; `None` when undefined or when
    /// its evaluation failed (the cause is kept for the caller).
    fn lookup(self: &Arc<Self>, key: &str) -> Option<Value> {
        let me = self.addr();
        if let Some(v) = self.magic.get(key) {
            taint(me);
            return Some(v.clone());
        }
        let (raw, host_specific) = self.resolve(key);
        if host_specific {
            taint(me);
        } else if let Some(v) = self.globals.cache.read().expect("cache lock").get(key) {
            return Some(v.clone());
        }
        if let Some(v) = self.cache.lock().expect("cache lock").get(key) {
            // only host-specific results are cached per host
            taint(me);
            return Some(v.clone());
        }
        let Some(raw) = raw else {
            return self.special(key);
        };
        let cycle = FRAMES.with(|s| {
            let s = s.borrow();
            s.iter()
                .position(|f| f.scope == me && f.key.as_deref() == Some(key))
                .map(|pos| {
                    let mut chain: Vec<String> =
                        s[pos..].iter().filter_map(|f| f.key.clone()).collect();
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
        FRAMES.with(|s| {
            s.borrow_mut().push(Frame {
                scope: me,
                key: Some(key.to_string()),
                tainted: false,
            })
        });
        let misses = MISSES.with(|m| m.borrow().len());
        let result = self.eval_value(raw, None, &What::Var(key));
        let tainted = FRAMES.with(|s| s.borrow_mut().pop().is_some_and(|f| f.tainted));
        if result.as_ref().is_ok_and(|v| !v.is_undefined()) {
            // what it did not find did not matter
            MISSES.with(|m| m.borrow_mut().truncate(misses));
        }
        if tainted {
            taint(me);
        }
        match result {
            Ok(v) if v.is_undefined() => {
                UNDEFINED.with(|u| u.borrow_mut().push(key.to_string()));
                None
            }
            Ok(v) => {
                if tainted || host_specific {
                    self.cache
                        .lock()
                        .expect("cache lock")
                        .insert(key.to_string(), v.clone());
                } else {
                    self.globals
                        .cache
                        .write()
                        .expect("cache lock")
                        .insert(key.to_string(), v.clone());
                }
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
        self.eval_tracked(raw, locals, what).map(|(v, _)| v)
    }

    fn eval_value(
        self: &Arc<Self>,
        raw: &Value,
        locals: Option<&Value>,
        what: &What,
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
        what: &What,
    ) -> Result<Value, VarError> {
        if !is_template(s) {
            return Ok(Value::from(s));
        }
        let globals = &self.globals;
        let single = single_expression(s);
        // `{{ name }}` (a good share of kolla's defaults): the lookup the template would make,
        // without compiling and running one
        if let Some(name) = single.filter(|e| is_identifier(e) && !globals.env_globals.contains(*e))
        {
            if let Some(v) = locals
                .and_then(|l| l.get_attr(name).ok())
                .filter(|v| !v.is_undefined())
            {
                return Ok(v);
            }
            let v = self.lookup(name);
            count_lookup((v.is_none() && self.raw(name).is_none()).then_some(name));
            return match v {
                Some(v) => Ok(v),
                None => Err(self.undefined(what, name)),
            };
        }
        if single.is_none() {
            if let Some(parts) = plain_interpolation(s) {
                if parts
                    .iter()
                    .all(|p| p.1.is_none_or(|n| !globals.env_globals.contains(n)))
                {
                    return self.interpolate(&parts, locals, what);
                }
            }
        }
        let ctx = self.context(locals);
        if let Some(expr) = single {
            let tmpl = globals
                .env
                .get_template(&globals.template_name(true, expr))
                .map_err(|e| self.jinja_err(what, e))?;
            let captured = tmpl
                .render_captured(ctx)
                .map_err(|e| self.jinja_err(what, e))?;
            let v = captured.state().lookup(RESULT_VAR).unwrap_or_default();
            if v.is_undefined() {
                return Err(self.undefined(what, expr));
            }
            return Ok(v);
        }
        let tmpl = globals
            .env
            .get_template(&globals.template_name(false, s))
            .map_err(|e| self.jinja_err(what, e))?;
        let out = tmpl.render(ctx).map_err(|e| self.jinja_err(what, e))?;
        Ok(Value::from(out))
    }

    /// `text{{ name }}text…` rendered as minijinja renders it (each value's `Display`, no
    /// escaping), without compiling a template.
    fn interpolate(
        self: &Arc<Self>,
        parts: &[(&str, Option<&str>)],
        locals: Option<&Value>,
        what: &What,
    ) -> Result<Value, VarError> {
        use std::fmt::Write;
        let mut out = String::new();
        for (text, name) in parts {
            out.push_str(text);
            let Some(name) = name else { continue };
            let local = locals
                .and_then(|l| l.get_attr(name).ok())
                .filter(|v| !v.is_undefined());
            let v = match local {
                Some(v) => v,
                None => {
                    let v = self.lookup(name);
                    count_lookup((v.is_none() && self.raw(name).is_none()).then_some(name));
                    match v {
                        Some(v) => v,
                        None => {
                            // as a template's strict undefined error (see `jinja_err`)
                            if let Some(fatal) = take_fatal() {
                                return Err(fatal);
                            }
                            let mut chain = take_undefined();
                            if let Some(n) = blame(Some(name)) {
                                if !chain.contains(&n) {
                                    chain.push(n);
                                }
                            }
                            return Err(VarError::Undefined {
                                host: self.name.clone(),
                                name: self.clean_name(&what.to_string()),
                                chain,
                            });
                        }
                    }
                }
            };
            let _ = write!(out, "{v}");
        }
        Ok(Value::from(out))
    }

    /// The error for an expression that came out undefined.
    fn undefined(&self, what: &What, expr: &str) -> VarError {
        let mut chain = take_undefined();
        if let Some(name) = blame(Some(expr)) {
            if !chain.contains(&name) {
                chain.push(name);
            }
        }
        VarError::Undefined {
            host: self.name.clone(),
            name: what.to_string(),
            chain,
        }
    }

    /// Renders a template file (a name under the templates directory, or an absolute path of
    /// an operator's override) in this host's context.
    pub fn render_template(
        self: &Arc<Self>,
        name: &str,
        locals: Option<&Value>,
    ) -> Result<String, VarError> {
        self.render_template_tracked(name, locals).map(|(s, _)| s)
    }

    fn context(self: &Arc<Self>, locals: Option<&Value>) -> Value {
        let me = Value::from_dyn_object(self.clone());
        match locals {
            Some(l) => minijinja::value::merge_maps([l.clone(), me]),
            None => me,
        }
    }

    fn jinja_err(&self, what: &What, e: minijinja::Error) -> VarError {
        if let Some(fatal) = take_fatal() {
            return fatal;
        }
        let chain = take_undefined();
        if e.kind() == ErrorKind::UndefinedError {
            let mut chain = chain;
            let source = e
                .name()
                .and_then(|n| self.globals.env.get_template(n).ok())
                .map(|t| t.source().to_string());
            let span = source
                .as_deref()
                .and_then(|src| match (e.range(), e.line()) {
                    (Some(r), _) => src.get(r),
                    (None, Some(line)) => src.lines().nth(line.saturating_sub(1)),
                    (None, None) => None,
                });
            if let Some(name) = blame(span) {
                if !chain.contains(&name) {
                    chain.push(name);
                }
            }
            return VarError::Undefined {
                host: self.name.clone(),
                name: self.clean_name(&what.to_string()),
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
        let template = match e.name() {
            Some(n) => self.clean_name(n),
            None => self.clean_name(&what.to_string()),
        };
        VarError::Template {
            host: self.name.clone(),
            template,
            line: e.line().unwrap_or(0),
            message: format!("{}: {detail}", e.kind()),
        }
    }

    /// A template name as the operator should read it (inline sources shown as source).
    fn clean_name(&self, name: &str) -> String {
        if let Some(src) = self
            .globals
            .inline
            .read()
            .expect("inline lock")
            .source(name)
        {
            return clean_name(src);
        }
        clean_name(name)
    }
}

/// What is being evaluated, for error messages (formatted only when one is needed).
enum What<'a> {
    Var(&'a str),
    Text(&'a str),
}

impl std::fmt::Display for What<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            What::Var(k) => write!(f, "variable '{k}'"),
            What::Text(t) => f.write_str(t),
        }
    }
}

/// Whether a string holds Jinja at all.
fn is_template(s: &str) -> bool {
    let b = s.as_bytes();
    b.windows(2)
        .any(|w| w[0] == b'{' && matches!(w[1], b'{' | b'%' | b'#'))
}

thread_local! {
    /// Names looked up and not found, with the lookup count at that moment, most recent last.
    /// One of them is usually why an expression came out undefined (see [`blame`]).
    static MISSES: RefCell<Vec<(String, u64)>> = const { RefCell::new(Vec::new()) };
    /// Lookups made on this thread.
    static LOOKUPS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Counts a lookup; records `missing` as not found.
fn count_lookup(missing: Option<&str>) {
    let n = LOOKUPS.with(|c| {
        c.set(c.get() + 1);
        c.get()
    });
    if let Some(name) = missing {
        MISSES.with(|m| m.borrow_mut().push((name.to_string(), n)));
    }
}

/// An undefined value was handled (`is defined`, `is undefined`, `default`): when it came
/// from the last lookup, that missing name explains nothing that fails later.
pub(crate) fn undefined_handled() {
    let n = LOOKUPS.with(|c| c.get());
    MISSES.with(|m| {
        let mut m = m.borrow_mut();
        if m.last().is_some_and(|(_, at)| *at == n) {
            m.pop();
        }
    });
}

/// The missing name to blame for an undefined failure: the most recent one not handled that
/// appears (as a whole name) in `span`, the failing part of the source, when it is known.
fn blame(span: Option<&str>) -> Option<String> {
    let misses = MISSES.with(|m| std::mem::take(&mut *m.borrow_mut()));
    let mentions = |text: &str, name: &str| {
        let ident = |c: char| c.is_alphanumeric() || c == '_';
        text.match_indices(name).any(|(i, _)| {
            !text[..i].chars().next_back().is_some_and(ident)
                && !text[i + name.len()..].chars().next().is_some_and(ident)
        })
    };
    misses
        .into_iter()
        .rev()
        .map(|(name, _)| name)
        .find(|name| span.is_none_or(|text| mentions(text, name)))
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
    if FRAMES.with(|s| s.borrow().is_empty()) {
        FATAL.with(|f| f.borrow_mut().take());
        UNDEFINED.with(|u| u.borrow_mut().clear());
        MISSES.with(|m| m.borrow_mut().clear());
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
/// Loader names of inline sources: `\0#<n>`, see [`Globals::template_name`].
pub(crate) const INLINE_ID_PREFIX: &str = "\u{0}#";
pub(crate) const RESULT_VAR: &str = "__kollars_result";

/// `text{{ name }}text{{ name }}…`: only bare names between plain text (no filters, blocks,
/// comments or whitespace control); the pieces as (text before, name).
fn plain_interpolation(s: &str) -> Option<Vec<(&str, Option<&str>)>> {
    if s.contains("{%") || s.contains("{#") {
        return None;
    }
    let mut parts = Vec::new();
    let mut rest = s;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let close = after.find("}}")?;
        let inner = &after[..close];
        if inner.starts_with(['-', '+']) || inner.ends_with(['-', '+']) {
            return None;
        }
        let name = inner.trim();
        if !is_identifier(name) {
            return None;
        }
        parts.push((&rest[..open], Some(name)));
        rest = &after[close + 2..];
    }
    parts.push((rest, None));
    Some(parts)
}

/// A bare variable name (what `{{ name }}` looks up).
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !matches!(
            s,
            "true" | "false" | "none" | "True" | "False" | "None" | "loop" | "self"
        )
}

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
        count_lookup((v.is_none() && self.raw(key).is_none()).then_some(key));
        v
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        // the names differ between hosts
        taint(self.addr());
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
