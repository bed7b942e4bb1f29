//! kolla's keystone bootstrap (`kolla_keystone_bootstrap`, wrapping `keystone-manage
//! bootstrap`): the admin user, project and role, the identity service with its internal and
//! public endpoints (no admin endpoint: kolla dropped it), the region — once keystone's
//! database is synced.
//!
//! Run in the `keystone` container, as keystone (the user its logs belong to), with the admin
//! password on stdin (kolla's script takes it as an argument, where `ps` shows it):
//! `keystone-manage bootstrap` reads `OS_BOOTSTRAP_PASSWORD`. It is idempotent, so the check
//! for a plan is a token: when the admin can get one at the internal URL, there is nothing to
//! do.

use kollars_docker::{Engine, ExecRequest};

use crate::secret::Secret;
use crate::TaskError;

/// What `keystone-manage bootstrap` is given.
#[derive(Debug, Clone)]
pub struct IdentityBootstrap {
    /// `keystone_admin_user`.
    pub username: String,
    /// `keystone_admin_password`.
    pub password: Secret,
    /// `keystone_admin_project`.
    pub project: String,
    /// The admin role's name (`admin`).
    pub role: String,
    /// `keystone_internal_url`.
    pub internal_url: String,
    /// `keystone_public_url`.
    pub public_url: String,
    /// `openstack_region_name`.
    pub region: String,
}

/// Runs the bootstrap in `container` (kolla's `keystone`).
pub async fn bootstrap(
    engine: &Engine,
    container: &str,
    b: &IdentityBootstrap,
) -> Result<(), TaskError> {
    let task = "keystone bootstrap".to_owned();
    if b.password.expose().contains('\n') {
        return Err(TaskError::Answer {
            task,
            answer: "keystone_admin_password holds a newline".into(),
        });
    }
    let script = "IFS= read -r OS_BOOTSTRAP_PASSWORD && export OS_BOOTSTRAP_PASSWORD && \
                  exec keystone-manage bootstrap --bootstrap-username \"$0\" \
                  --bootstrap-project-name \"$1\" --bootstrap-role-name \"$2\" \
                  --bootstrap-internal-url \"$3\" --bootstrap-public-url \"$4\" \
                  --bootstrap-region-id \"$5\"";
    let req = ExecRequest::new([
        "sh",
        "-c",
        script,
        &b.username,
        &b.project,
        &b.role,
        &b.internal_url,
        &b.public_url,
        &b.region,
    ])
    .user("keystone")
    .stdin(format!("{}\n", b.password.expose()));
    engine
        .exec_ok(container, &req)
        .await
        .map_err(|source| TaskError::Engine { task, source })?;
    Ok(())
}
