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
//!
//! The scope is split by concern: [`globals`] holds what every host shares (the variable table,
//! the caches, the template loader), [`lookup`] resolves and caches one name, [`eval`] evaluates
//! raw values and templates, [`syntax`] recognises the templates that need no compiling,
//! [`diagnostics`] carries the per-thread evaluation state (frames, causes of failures) and
//! [`report`] turns a failure into the [`VarError`] the operator reads.

mod diagnostics;
mod eval;
mod globals;
mod hasher;
mod lookup;
mod report;
mod syntax;

use std::sync::{Arc, Mutex, Weak};

use indexmap::IndexMap;
use minijinja::value::{Enumerator, Object, ObjectRepr};
use minijinja::Value;

#[cfg(doc)]
use crate::error::VarError;
pub(crate) use diagnostics::undefined_handled;
use diagnostics::{count_lookup, taint};
pub(crate) use globals::{load_template, Globals, Inline, Shared, VarEntry};
pub(crate) use hasher::FastMap;

/// One layer of raw (unevaluated) variables.
pub type Layer = Arc<IndexMap<String, Value>>;

/// Ansible's placeholder for "leave this parameter out".
pub const OMIT: &str = "__omit_place_holder__";

/// The variables of one inventory host.
pub struct HostScope {
    pub(super) name: String,
    pub(super) globals: Arc<Globals>,
    shared: Weak<Shared>,
    /// Highest precedence first (for listing the names).
    layers: Vec<Layer>,
    /// Raw values of the host-specific variables this host has, precedence applied.
    own: FastMap<String, Value>,
    pub(super) magic: IndexMap<&'static str, Value>,
    pub(super) cache: Mutex<FastMap<String, Value>>,
}

impl std::fmt::Debug for HostScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<hostvars {}>", self.name)
    }
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

    pub(super) fn addr(&self) -> usize {
        self as *const HostScope as usize
    }

    /// The inventory host name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The raw value of a variable for this host, and whether it is host-specific.
    pub(super) fn resolve(&self, key: &str) -> (Option<&Value>, bool) {
        match self.globals.vars.get(key) {
            Some(e) if e.host_specific => (self.own.get(key).or(e.shared.as_ref()), true),
            Some(e) => (e.shared.as_ref(), false),
            None => (None, false),
        }
    }

    pub(super) fn raw(&self, key: &str) -> Option<&Value> {
        self.resolve(key).0
    }

    /// Whether a variable is defined for this host (without evaluating it).
    pub fn is_defined(&self, key: &str) -> bool {
        self.magic.contains_key(key) || self.raw(key).is_some() || self.special(key).is_some()
    }

    pub(super) fn special(&self, key: &str) -> Option<Value> {
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
