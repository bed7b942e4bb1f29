//! Building the per-host scopes from the inputs.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock, RwLock};

use indexmap::IndexMap;
use kollars_inputs::{ConfigDir, Facts, Inventory};
use minijinja::{Environment, UndefinedBehavior, Value};

use crate::error::VarError;
use crate::scope::{load_template, FastMap, Globals, HostScope, Inline, Layer, Shared, VarEntry};

/// Collects the variable sources, then builds [`Vars`].
#[derive(Default)]
pub struct VarsBuilder {
    templates: Vec<PathBuf>,
    project_defaults: IndexMap<String, Value>,
    global_defaults: IndexMap<String, Value>,
    facts: IndexMap<String, Facts>,
}

/// Converts an operator's value (as `kollars_inputs` read it) to a Jinja value. Types are
/// already YAML 1.1's, as PyYAML reads them for Ansible (`yes` a boolean, `'yes'` a string: see
/// [`kollars_inputs::yaml`]), so only tags are dropped here: a `!!str`-tagged value (`-e
/// key=value`, see [`kollars_inputs::configdir::kv_string`]) is its string, any other tag
/// (`!unsafe`, `!vault`) its value.
pub fn operator_value(v: &serde_yaml::Value) -> Value {
    fn untag(v: &serde_yaml::Value) -> serde_yaml::Value {
        match v {
            serde_yaml::Value::Sequence(s) => {
                serde_yaml::Value::Sequence(s.iter().map(untag).collect())
            }
            serde_yaml::Value::Mapping(m) => {
                serde_yaml::Value::Mapping(m.iter().map(|(k, v)| (k.clone(), untag(v))).collect())
            }
            serde_yaml::Value::Tagged(t) => match kollars_inputs::configdir::tagged_string(v) {
                Some(s) => serde_yaml::Value::String(s.to_string()),
                None => untag(&t.value),
            },
            other => other.clone(),
        }
    }
    Value::from_serialize(untag(v))
}

fn layer_from_yaml(map: &IndexMap<String, serde_yaml::Value>) -> IndexMap<String, Value> {
    map.iter()
        .map(|(k, v)| (k.clone(), operator_value(v)))
        .collect()
}

impl VarsBuilder {
    /// A builder with no sources.
    pub fn new() -> VarsBuilder {
        VarsBuilder::default()
    }

    /// Adds a directory templates are loaded from (first match wins).
    pub fn templates_dir(mut self, dir: PathBuf) -> Self {
        self.templates.push(dir);
        self
    }

    /// Project defaults (kolla's role defaults): the lowest precedence.
    pub fn project_defaults(mut self, vars: IndexMap<String, Value>) -> Self {
        self.project_defaults.extend(vars);
        self
    }

    /// Global defaults (kolla's `group_vars/all`).
    pub fn global_defaults(mut self, vars: IndexMap<String, Value>) -> Self {
        self.global_defaults.extend(vars);
        self
    }

    /// Facts of one host, in fact-cache form.
    pub fn facts(mut self, host: &str, facts: Facts) -> Self {
        self.facts.insert(host.to_string(), facts);
        self
    }

    /// Builds every host's scope. `config` supplies the extra variables (globals.yml,
    /// globals.d, passwords.yml, `-e`), which beat everything else.
    pub fn build(self, inventory: &Inventory, config: &ConfigDir) -> Vars {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_trim_blocks(true);
        env.set_keep_trailing_newline(true);
        // Config files are not HTML: never escape by template name (`.json`, `.yaml`, `.html`).
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        env.set_recursion_limit(1000);
        // No debug info on errors: collecting it looks every referenced name up again after
        // the failure (in debug builds), which would muddle which name was missing.
        env.set_debug(false);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        minijinja_contrib::add_to_environment(&mut env);
        crate::filters::register(&mut env);
        let templates = self.templates.clone();
        let inline: Arc<RwLock<Inline>> = Arc::default();
        let loader_inline = inline.clone();
        env.set_loader(move |name| load_template(&templates, &loader_inline, name));

        let groups_map = inventory.groups_map();
        let groups = Value::from_serialize(&groups_map);
        let play_hosts = Value::from_serialize(inventory.group_hosts("all"));

        let mut extra = layer_from_yaml(&config.globals);
        extra.extend(layer_from_yaml(&config.passwords));
        extra.extend(layer_from_yaml(&config.extra));
        extra.insert(
            "CONFIG_DIR".into(),
            Value::from(config.path.to_string_lossy().to_string()),
        );
        let extra: Layer = Arc::new(extra);
        let globals: Layer = Arc::new(self.global_defaults);
        let defaults: Layer = Arc::new(self.project_defaults);

        // Each host's own layers: facts, host variables, group variables. Hosts in the same
        // groups share one converted group layer.
        let host_groups = inventory.host_group_names();
        let mut group_layers: IndexMap<Vec<String>, Layer> = IndexMap::new();
        struct HostLayers {
            name: String,
            facts: Layer,
            host: Layer,
            group: Layer,
            magic: IndexMap<&'static str, Value>,
        }
        let mut per_host = Vec::with_capacity(inventory.hosts.len());
        for (name, host_vars) in &inventory.hosts {
            let names = host_groups.get(name).cloned().unwrap_or_default();
            let group = group_layers
                .entry(names.clone())
                .or_insert_with(|| {
                    Arc::new(
                        inventory
                            .group_vars_of(&names)
                            .iter()
                            .map(|(k, v)| (k.clone(), operator_value(v)))
                            .collect(),
                    )
                })
                .clone();
            let fact_layer: IndexMap<String, Value> = self
                .facts
                .get(name)
                .map(|facts| {
                    facts
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::from_serialize(v)))
                        .collect()
                })
                .unwrap_or_default();
            let stripped: IndexMap<String, Value> = fact_layer
                .iter()
                .map(|(k, v)| {
                    (
                        k.strip_prefix("ansible_").unwrap_or(k).to_string(),
                        v.clone(),
                    )
                })
                .collect();
            let mut magic: IndexMap<&'static str, Value> = IndexMap::new();
            magic.insert("inventory_hostname", Value::from(name.as_str()));
            magic.insert(
                "inventory_hostname_short",
                Value::from(name.split('.').next().unwrap_or(name)),
            );
            magic.insert("group_names", Value::from_serialize(&names));
            magic.insert("ansible_facts", Value::from_iter(stripped));
            let host_layer: IndexMap<String, Value> = host_vars
                .iter()
                .map(|(k, v)| (k.clone(), operator_value(v)))
                .collect();
            per_host.push(HostLayers {
                name: name.clone(),
                facts: Arc::new(fact_layer),
                host: Arc::new(host_layer),
                group,
                magic,
            });
        }

        // Resolve every name once. A name no host has a fact, host or group value for is the
        // same everywhere; so is one every host resolves to the same value.
        let shared_raw = |k: &str| -> Option<&Value> {
            extra
                .get(k)
                .or_else(|| globals.get(k))
                .or_else(|| defaults.get(k))
        };
        let host_raw = |h: &HostLayers, k: &str| -> Option<Value> {
            extra
                .get(k)
                .or_else(|| h.facts.get(k))
                .or_else(|| h.host.get(k))
                .or_else(|| globals.get(k))
                .or_else(|| h.group.get(k))
                .or_else(|| defaults.get(k))
                .cloned()
        };
        let mut candidates: Vec<&str> = Vec::new();
        {
            let mut seen: HashSet<&str> = HashSet::new();
            for h in &per_host {
                for k in h.facts.keys().chain(h.host.keys()).chain(h.group.keys()) {
                    if !extra.contains_key(k) && seen.insert(k.as_str()) {
                        candidates.push(k.as_str());
                    }
                }
            }
        }
        let mut vars: FastMap<String, VarEntry> = FastMap::default();
        for k in extra.keys().chain(globals.keys()).chain(defaults.keys()) {
            if !vars.contains_key(k.as_str()) {
                vars.insert(
                    k.clone(),
                    VarEntry {
                        shared: shared_raw(k).cloned(),
                        host_specific: false,
                    },
                );
            }
        }
        let mut host_specific: HashSet<&str> = HashSet::new();
        for k in candidates {
            let first = per_host.first().and_then(|h| host_raw(h, k));
            let same = per_host
                .iter()
                .skip(1)
                .all(|h| same_value(host_raw(h, k).as_ref(), first.as_ref()));
            if same {
                vars.insert(
                    k.to_string(),
                    VarEntry {
                        shared: first,
                        host_specific: false,
                    },
                );
            } else {
                host_specific.insert(k);
                vars.insert(
                    k.to_string(),
                    VarEntry {
                        shared: shared_raw(k).cloned(),
                        host_specific: true,
                    },
                );
            }
        }
        let own_of = |h: &HostLayers| -> FastMap<String, Value> {
            let mut own = FastMap::default();
            for k in h.facts.keys().chain(h.host.keys()).chain(h.group.keys()) {
                if host_specific.contains(k.as_str()) && !own.contains_key(k) {
                    if let Some(v) = host_raw(h, k) {
                        own.insert(k.clone(), v);
                    }
                }
            }
            own
        };
        let owns: Vec<FastMap<String, Value>> = per_host.iter().map(own_of).collect();
        drop(host_specific);

        let env_globals = env.globals().map(|(n, _)| n.to_string()).collect();
        let globals_data = Arc::new(Globals {
            env_globals,
            env,
            vars,
            groups,
            play_hosts,
            cache: RwLock::default(),
            eval_cache: RwLock::default(),
            inline,
        });
        let shared = Arc::new(Shared {
            hosts: OnceLock::new(),
        });
        let mut hosts = IndexMap::new();
        for (h, own) in per_host.into_iter().zip(owns) {
            let layers = vec![
                extra.clone(),
                h.facts,
                h.host,
                globals.clone(),
                h.group,
                defaults.clone(),
            ];
            hosts.insert(
                h.name.clone(),
                Arc::new(HostScope::new(
                    h.name,
                    globals_data.clone(),
                    Arc::downgrade(&shared),
                    layers,
                    own,
                    h.magic,
                )),
            );
        }
        let _ = shared.hosts.set(hosts);
        Vars { shared }
    }
}

/// Strict equality of values: same kinds and the same order all the way down (minijinja's `==`
/// says `1 == 1.0`, which render differently).
pub fn strict_eq(a: &Value, b: &Value) -> bool {
    same_value(Some(a), Some(b))
}

fn same_value(a: Option<&Value>, b: Option<&Value>) -> bool {
    use minijinja::value::ValueKind as K;
    type Map = IndexMap<Value, Value>;
    let (a, b) = match (a, b) {
        (None, None) => return true,
        (Some(a), Some(b)) => (a, b),
        _ => return false,
    };
    if a.kind() != b.kind() {
        return false;
    }
    // maps and lists built by minijinja (from YAML, from_iter, evaluation) are these two
    if let (Some(x), Some(y)) = (
        a.downcast_object_ref::<Map>(),
        b.downcast_object_ref::<Map>(),
    ) {
        return std::ptr::eq(x, y)
            || (x.len() == y.len()
                && x.iter().zip(y.iter()).all(|((k1, v1), (k2, v2))| {
                    same_value(Some(k1), Some(k2)) && same_value(Some(v1), Some(v2))
                }));
    }
    if let (Some(x), Some(y)) = (
        a.downcast_object_ref::<Vec<Value>>(),
        b.downcast_object_ref::<Vec<Value>>(),
    ) {
        return std::ptr::eq(x, y)
            || (x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|(v1, v2)| same_value(Some(v1), Some(v2))));
    }
    match a.kind() {
        K::Seq | K::Iterable => {
            let (Ok(ia), Ok(ib)) = (a.try_iter(), b.try_iter()) else {
                return false;
            };
            let (va, vb): (Vec<Value>, Vec<Value>) = (ia.collect(), ib.collect());
            va.len() == vb.len()
                && va
                    .iter()
                    .zip(&vb)
                    .all(|(x, y)| same_value(Some(x), Some(y)))
        }
        K::Map => {
            let (Ok(ia), Ok(ib)) = (a.try_iter(), b.try_iter()) else {
                return false;
            };
            let (ka, kb): (Vec<Value>, Vec<Value>) = (ia.collect(), ib.collect());
            ka.len() == kb.len()
                && ka.iter().zip(&kb).all(|(x, y)| {
                    same_value(Some(x), Some(y))
                        && same_value(a.get_item(x).ok().as_ref(), b.get_item(y).ok().as_ref())
                })
        }
        K::Number => a.is_integer() == b.is_integer() && a == b,
        K::Plain => a.to_string() == b.to_string(),
        _ => a == b,
    }
}

/// Every inventory host's variables.
pub struct Vars {
    shared: Arc<Shared>,
}

impl Vars {
    /// The scope of one host.
    pub fn host(&self, name: &str) -> Result<Arc<HostScope>, VarError> {
        self.shared
            .hosts
            .get()
            .and_then(|h| h.get(name))
            .cloned()
            .ok_or_else(|| VarError::UnknownHost(name.to_string()))
    }

    /// Inventory host names in order.
    pub fn host_names(&self) -> Vec<String> {
        self.shared
            .hosts
            .get()
            .map(|h| h.keys().cloned().collect())
            .unwrap_or_default()
    }
}
