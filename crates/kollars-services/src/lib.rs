//! Service definitions: `services/<project>.yml`, in the shape of kolla-ansible's
//! `roles/<project>/defaults/main.yml`, plus what the renderer needs to know.
//!
//! A project file has these keys:
//! - `defaults`: the project's variables (kolla's role defaults), lowest precedence;
//! - `services`: the container dict, keyed by service name (`nova-api`), with kolla's keys
//!   (container_name, group, host_in_groups, image, enabled, privileged, volumes, dimensions,
//!   healthcheck, environment, haproxy, …) and one of ours, `config`: the files rendered into
//!   `/etc/kolla/<service>/` (see [`ConfigFile`]);
//! - `order` (optional): where the project deploys in kolla-ansible's `site.yml` order;
//! - `after` (optional): the projects that must be up (on every host that runs them) before
//!   this one bootstraps and starts: its real dependencies, each with a lower `order`. Without
//!   it, every project of a lower order (site.yml's strict sequence); with it, kollars deploys
//!   independent projects side by side;
//! - `enabled` (optional, Jinja): the project's switch, as kolla's `site.yml` gates each play
//!   on `enable_<project>`; a service renders and runs only when both it and its project are on.
//!
//! `services/globals/*.yml` hold the global defaults (kolla's `group_vars/all`).
//!
//! ## Config entries
//! Each item of a service's `config` is a [`ConfigFile`]. Its content comes from one of:
//! - `template` (ours, under `templates/`), replaced by the first existing `first_found` file
//!   and merged with the existing `overrides` files as `merge` says (`ini`, `yaml`);
//! - `json`: data written as kolla's pretty `config.json`;
//! - `copy`: a file copied verbatim (`dest` is the file); a **directory**, copied recursively
//!   (`dest` is the directory that receives its contents, as horizon's
//!   `config/horizon/themes/<name>`); or a **glob** in the last path component
//!   (`config/haproxy/services.d/*.cfg`): every match is copied into the directory `dest`
//!   (a matching directory recursively), and no match copies nothing. With `optional`, a
//!   missing file or directory is skipped. Copies are byte for byte, as kolla-ansible's:
//!   a binary file (a PNG logo in a theme, a keyring) is copied as it is, never rendered;
//! - `directory: true`: `dest` is created as a directory, even when nothing else goes in it
//!   (kolla's `file: state=directory`, e.g. haproxy's `services.d/`, proxysql's `users/` and
//!   `rules/`); its mode is `mode` (default 0770).
//!
//! Every entry may have `when`, `loop` (items as `item`) and `vars` (evaluated in order, each
//! seeing the ones before it, then `when`). File modes are `mode` (default 0660). Directory
//! modes: the service directory is 0770; the directories an entry creates (the parents of its
//! files, the tree of a directory or glob copy) get its `dir_mode`, by default 0770, or 0755
//! for what a directory or glob `copy` creates (Ansible's copy default, as kolla leaves
//! `ca-certificates/` and `themes/`). A mode an entry asks for (`dir_mode`, or `mode` of a
//! `directory:` entry) beats a default; otherwise the first entry to need a directory sets it.
//!
//! Keeping the render recipe beside the container in one file gives each concept one home:
//! adding a service is one YAML entry and its templates.
//!
//! ## Modules
//! The shapes (`model`) are what the renderer and the driver read; `load` is the one place
//! that turns the YAML files into them and enforces what needs every file (unique names, `after`
//! against `order`); `select` evaluates a service for one host; `error` names what went wrong.

#![deny(missing_docs)]

mod error;
mod load;
mod model;
mod select;
#[cfg(test)]
mod tests;

pub use error::ServiceError;
pub use model::{Catalogue, ConfigFile, MergeKind, Project, ServiceDef};
