//! The shapes of the service catalogue: projects, their services and config entries.
//!
//! These are the types the renderer and the driver read. They are kept apart from the code
//! that loads them so a reader of a definition's meaning finds every field documented in one
//! place, without the parsing details.

use std::path::PathBuf;

use indexmap::IndexMap;
use kollars_vars::Value;
use serde::Deserialize;

/// One file to render into a service's config directory.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Path inside `/etc/kolla/<service>/`; Jinja (may use `item`).
    pub dest: String,
    /// Our template, relative to `templates/`.
    #[serde(default)]
    pub template: Option<String>,
    /// How overrides combine with the template: `ini` (merge_configs), `yaml` (merge_yaml) or
    /// none (the first existing `first_found` file replaces the template).
    #[serde(default)]
    pub merge: Option<MergeKind>,
    /// Override files, relative to `node_custom_config`, merged in order (later wins); Jinja.
    /// A wildcard in an entry's last component (`x.d/*.yml`) merges every match, by name.
    #[serde(default)]
    pub overrides: Vec<String>,
    /// Whole-file overrides, relative to `node_custom_config`: the first that exists is
    /// rendered instead of `template`; Jinja.
    #[serde(default)]
    pub first_found: Vec<String>,
    /// For YAML merges: concatenate lists instead of replacing them.
    #[serde(default)]
    pub extend_lists: bool,
    /// File mode, as an octal string (default 0660); for a `directory:` entry, the
    /// directory's mode (default 0770).
    #[serde(default)]
    pub mode: Option<String>,
    /// Mode of the directories this entry creates below the service directory, as an octal
    /// string (default 0770, or 0755 for what a directory or glob `copy` creates).
    #[serde(default)]
    pub dir_mode: Option<String>,
    /// `dest` is a directory to create (possibly empty), not a file.
    #[serde(default)]
    pub directory: bool,
    /// Render only when this is true (Jinja, Ansible `bool`).
    #[serde(default)]
    pub when: Option<serde_yaml::Value>,
    /// Render once per item of this list or mapping (mapping items have `key` and `value`).
    #[serde(default, rename = "loop")]
    pub loop_over: Option<serde_yaml::Value>,
    /// Extra variables for the template, evaluated in order: each sees the locals and the
    /// ones before it.
    #[serde(default)]
    pub vars: IndexMap<String, serde_yaml::Value>,
    /// Write this data as pretty JSON (kolla's `config.json`): evaluated as Jinja, list items
    /// with a false `when` key or a null value dropped.
    #[serde(default)]
    pub json: Option<serde_yaml::Value>,
    /// Copy this file verbatim (path relative to `node_custom_config`, Jinja) instead of
    /// rendering it; a directory is copied recursively into `dest`, a glob in the last
    /// component copies every match into the directory `dest`. With `optional`, a missing
    /// source is skipped.
    #[serde(default)]
    pub copy: Option<String>,
    /// With `copy`: skip the file or directory when the source is missing.
    #[serde(default)]
    pub optional: bool,
}

/// How a file's overrides merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MergeKind {
    /// kolla's `merge_configs`: INI, per key, later file wins.
    Ini,
    /// kolla's `merge_yaml`: deep merge of mappings.
    Yaml,
}

/// A service as written: the raw (unevaluated) container dict and its render recipe.
#[derive(Debug, Clone)]
pub struct ServiceDef {
    /// Service name (`nova-api`), also the config directory name.
    pub name: String,
    /// The project it belongs to (`nova`); names override paths like `config/nova/…`.
    pub project: String,
    /// The container dict as written, without `config`.
    pub raw: Value,
    /// Files to render.
    pub config: Vec<ConfigFile>,
    /// The project's switch (`enabled` of the project file; `true` when absent).
    pub project_enabled: Value,
}

/// A project file.
#[derive(Debug, Clone)]
pub struct Project {
    /// Project name: the file stem.
    pub name: String,
    /// Where it was read from.
    pub path: PathBuf,
    /// Deploy order key (kolla's site.yml play order).
    pub order: i64,
    /// The projects that must be up before this one (`after`); `None`: every project of a
    /// lower order.
    pub after: Option<Vec<String>>,
    /// Services in file order.
    pub services: Vec<ServiceDef>,
}

impl Catalogue {
    /// The projects `project` waits for: its `after` list, or every project of a lower order.
    /// Only projects that exist in the catalogue are named.
    pub fn dependencies(&self, project: &str) -> Vec<&str> {
        let Some(p) = self.projects.iter().find(|p| p.name == project) else {
            return Vec::new();
        };
        match &p.after {
            Some(after) => after.iter().map(String::as_str).collect(),
            None => self
                .projects
                .iter()
                .filter(|q| q.order < p.order)
                .map(|q| q.name.as_str())
                .collect(),
        }
    }
}

/// Every definition: global defaults, project defaults and projects.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    /// kolla's `group_vars/all`.
    pub global_defaults: IndexMap<String, Value>,
    /// Every project's `defaults`, merged (names must be unique).
    pub project_defaults: IndexMap<String, Value>,
    /// Projects in deploy order.
    pub projects: Vec<Project>,
}

impl Catalogue {
    /// Every service, in deploy order.
    pub fn services(&self) -> impl Iterator<Item = &ServiceDef> {
        self.projects.iter().flat_map(|p| p.services.iter())
    }

    /// A service by name (`nova-api`) or container-style name (`nova_api`).
    pub fn service(&self, name: &str) -> Option<&ServiceDef> {
        let dashed = name.replace('_', "-");
        self.services().find(|s| s.name == name || s.name == dashed)
    }
}
