//! kolla-ansible's tasks around the containers, as kollars steps.
//!
//! Containers alone do not make a cloud: kolla-ansible creates each service's database and
//! user before its `db_sync`, bootstraps keystone and registers every service in it, clusters
//! MariaDB and RabbitMQ. Each of those tasks lives here as a pair — a read-only *check* (what
//! is missing, for `kollars plan` and for a second deploy to do nothing) and an *apply* — run
//! through the host's engine in the containers kolla's own images provide (a MariaDB client in
//! `kolla_toolbox`, …), so they work with kolla's published images as with ours.
//!
//! Secrets (database and admin passwords) are [`Secret`]s: never in `Debug`, errors or
//! command lines; they reach the programs on stdin ([`kollars_docker::ExecRequest::stdin`]).
//!
//! - [`sql`]: MariaDB statements and quoting, pure.
//! - [`database`]: kolla's `mysql_db` + `mysql_user` (database, user `@'%'`, grants).
//! - [`mariadb`]: a new server's readiness and its accounts (the monitor).
//! - [`keystone`]: `keystone-manage bootstrap` (admin, identity endpoints, region).
//! - [`command`]: a command in a service's container, retried until it succeeds (readiness
//!   of a cluster member, a task that needs its peers up).
//! - [`register`]: kolla's `service-ks-register` (services, endpoints, users, roles and their
//!   assignments in keystone) with openstacksdk in `kolla_toolbox`.

#![deny(missing_docs)]

pub mod command;
pub mod database;
pub mod keystone;
pub mod mariadb;
pub mod register;
pub mod sql;

mod secret;

pub use database::{Database, DbLogin, DbState};
pub use keystone::IdentityBootstrap;
pub use mariadb::Account;
pub use register::{
    AdminAuth, KsDomain, KsDomainUser, KsService, KsUser, KsUserRole, Registered, Registration,
};
pub use secret::Secret;

/// A task that failed.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// The engine failed to run the command.
    #[error("{task}")]
    Engine {
        /// The task, e.g. `database keystone`.
        task: String,
        /// What the engine said.
        #[source]
        source: kollars_docker::DockerError,
    },
    /// The command ran and failed, saying why (one line, no secret).
    #[error("{task}: {message}")]
    Failed {
        /// The task.
        task: String,
        /// What it said.
        message: String,
    },
    /// The command ran but its answer made no sense.
    #[error("{task}: unexpected answer {answer:?}")]
    Answer {
        /// The task.
        task: String,
        /// What it printed.
        answer: String,
    },
}
