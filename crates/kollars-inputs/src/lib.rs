//! The operator's inputs, read exactly as kolla-ansible reads them: Ansible inventories,
//! the configuration directory (`globals.yml`, `globals.d/`, `passwords.yml`), `-e` extra
//! variables, and host facts.
//!
//! Every YAML input is read by [`yaml`], with PyYAML's (YAML 1.1) rules, as Ansible reads it.
//!
//! Nothing here evaluates Jinja: values stay as written, so the variable layer can evaluate
//! them lazily per host with kolla-ansible's precedence.

#![deny(missing_docs)]

pub mod configdir;
pub mod error;
pub mod facts;
pub mod facts_text;
pub mod inventory;
pub mod passwords;
pub mod secrets;
pub mod shapes;
pub mod yaml;

pub use configdir::{ConfigDir, VarMap};
pub use error::{InputError, Location};
pub use facts::Facts;
pub use inventory::Inventory;
pub use secrets::Masker;
