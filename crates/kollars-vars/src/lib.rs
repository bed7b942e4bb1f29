//! Variables and Jinja, the way kolla-ansible's Ansible evaluates them.
//!
//! [`Vars`] holds every host's [`HostScope`]: raw variables in precedence layers, evaluated
//! lazily on first use with minijinja, with the Ansible and kolla filters our defaults and
//! templates use ([`filters`]). Rendering a template and evaluating a service definition are
//! the same operation on the same scope, so a value means the same thing everywhere.

#![deny(missing_docs)]

mod crypt;
mod engine;
pub mod error;
pub mod filters;
mod pyrandom;
mod scope;

pub use engine::{strict_eq, Vars, VarsBuilder};
pub use error::VarError;
pub use minijinja::value::ValueKind;
pub use minijinja::Value;
pub use scope::{HostScope, Layer, OMIT};
