//! Building the per-host scopes from the inputs.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use indexmap::IndexMap;
use kollars_inputs::{ConfigDir, Facts, Inventory};
use minijinja::{Environment, UndefinedBehavior, Value};

use crate::error::VarError;
use crate::scope::{load_template, HostScope, Layer, Shared};

/// Collects the variable sources, then builds [`Vars`].
#[derive(Default)]
pub struct VarsBuilder {
    templates: Vec<PathBuf>,
    project_defaults: IndexMap<String, Value>,
    global_defaults: IndexMap<String, Value>,
    facts: IndexMap<String, Facts>,
}

/// Converts YAML as an operator wrote it: YAML 1.1 booleans (`yes`, `no`, `on`, `off`) are
/// booleans, as PyYAML reads them for Ansible.
pub fn operator_value(v: &serde_yaml::Value) -> Value {
    fn fix(v: &serde_yaml::Value) -> serde_yaml::Value {
        match v {
            serde_yaml::Value::String(s) => match s.as_str() {
                "yes" | "Yes" | "YES" | "on" | "On" | "ON" => serde_yaml::Value::Bool(true),
                "no" | "No" | "NO" | "off" | "Off" | "OFF" => serde_yaml::Value::Bool(false),
                _ => v.clone(),
            },
            serde_yaml::Value::Sequence(s) => {
                serde_yaml::Value::Sequence(s.iter().map(fix).collect())
            }
            serde_yaml::Value::Mapping(m) => {
                serde_yaml::Value::Mapping(m.iter().map(|(k, v)| (k.clone(), fix(v))).collect())
            }
            serde_yaml::Value::Tagged(t) => fix(&t.value),
            other => other.clone(),
        }
    }
    Value::from_serialize(fix(v))
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
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        minijinja_contrib::add_to_environment(&mut env);
        crate::filters::register(&mut env);
        let templates = self.templates.clone();
        env.set_loader(move |name| load_template(&templates, name));

        let groups_map = inventory.groups_map();
        let groups = Value::from_serialize(&groups_map);
        let play_hosts = Value::from_serialize(inventory.group_hosts("all"));
        let shared = Arc::new(Shared {
            env,
            hosts: OnceLock::new(),
            groups,
            play_hosts,
        });

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

        let mut hosts = IndexMap::new();
        for (name, host_vars) in &inventory.hosts {
            let facts = self.facts.get(name).cloned().unwrap_or_default();
            let stripped: IndexMap<String, serde_json::Value> = facts
                .iter()
                .map(|(k, v)| {
                    (
                        k.strip_prefix("ansible_").unwrap_or(k).to_string(),
                        v.clone(),
                    )
                })
                .collect();
            let fact_layer: IndexMap<String, Value> = facts
                .iter()
                .map(|(k, v)| (k.clone(), Value::from_serialize(v)))
                .collect();
            let mut magic: IndexMap<&'static str, Value> = IndexMap::new();
            magic.insert("inventory_hostname", Value::from(name.as_str()));
            magic.insert(
                "inventory_hostname_short",
                Value::from(name.split('.').next().unwrap_or(name)),
            );
            magic.insert(
                "group_names",
                Value::from_serialize(inventory.group_names(name)),
            );
            magic.insert("ansible_facts", Value::from_serialize(&stripped));
            let host_layer: IndexMap<String, Value> = host_vars
                .iter()
                .map(|(k, v)| (k.clone(), operator_value(v)))
                .collect();
            let group_layer: IndexMap<String, Value> = inventory
                .group_vars_for(name)
                .iter()
                .map(|(k, v)| (k.clone(), operator_value(v)))
                .collect();
            let layers = vec![
                extra.clone(),
                Arc::new(fact_layer),
                Arc::new(host_layer),
                globals.clone(),
                Arc::new(group_layer),
                defaults.clone(),
            ];
            hosts.insert(
                name.clone(),
                Arc::new(HostScope::new(
                    name.clone(),
                    Arc::downgrade(&shared),
                    layers,
                    magic,
                )),
            );
        }
        let _ = shared.hosts.set(hosts);
        Vars { shared }
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
