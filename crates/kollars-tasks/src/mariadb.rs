//! kolla's tasks around a new MariaDB: wait until the server answers (its `wait_for` the
//! port and a query), then the accounts it needs besides root — the monitor account that
//! `healthcheck.cnf` logs in with (until it exists the container's healthcheck fails).
//!
//! They run in the `mariadb` container itself, with its own client (kolla's image has it):
//! the database answers there before anything else is up.

use std::time::Duration;

use kollars_docker::Engine;

use crate::command::poll;
use crate::database::{client, run, DbLogin};
use crate::secret::Secret;
use crate::{sql, TaskError};

/// An account kolla makes on a new database server.
#[derive(Debug, Clone)]
pub struct Account {
    /// User name (`mariadb_monitor_user`).
    pub user: String,
    /// Its password.
    pub password: Secret,
    /// Its global privileges (`USAGE, REPLICATION CLIENT` for the monitor).
    pub privileges: String,
}

/// Waits up to `timeout` (kolla's `database_max_timeout`) for the server to answer a query
/// through `container`'s client.
pub async fn wait_ready(
    engine: &Engine,
    container: &str,
    login: &DbLogin,
    timeout: Duration,
) -> Result<(), TaskError> {
    let task = "waiting for the database to answer";
    let req = client(login, "SELECT 1;\n").map_err(|answer| TaskError::Answer {
        task: task.to_owned(),
        answer,
    })?;
    poll(engine, container, &req, task, timeout, |out| {
        match out.exit_code {
            0 => Ok(()),
            _ => Err(out.stderr.lines().last().unwrap_or_default().to_owned()),
        }
    })
    .await
}

/// Waits up to `timeout` for the Galera member in `container` to be `Synced`
/// (`wsrep_local_state_comment`), as kolla waits after starting each member before the next:
/// a member that is still joining (SST, IST) answers `Joining`/`Donor`/`Joined`. A server
/// without wsrep (no Galera) counts as synced once it answers.
pub async fn wait_synced(
    engine: &Engine,
    container: &str,
    login: &DbLogin,
    timeout: Duration,
) -> Result<(), TaskError> {
    let task = "waiting for the Galera member to be Synced";
    let req = client(
        login,
        "SHOW GLOBAL STATUS LIKE 'wsrep_local_state_comment';\nSELECT 'answered';\n",
    )
    .map_err(|answer| TaskError::Answer {
        task: task.to_owned(),
        answer,
    })?;
    poll(engine, container, &req, task, timeout, |out| {
        if out.exit_code != 0 {
            return Err(out.stderr.lines().last().unwrap_or_default().to_owned());
        }
        match galera_state(&out.stdout) {
            Some("Synced") | None if out.stdout.contains("answered") => Ok(()),
            state => Err(format!("state {}", state.unwrap_or("unknown"))),
        }
    })
    .await
}

/// `wsrep_local_state_comment`'s value in the client's batch output, if the server has it.
fn galera_state(stdout: &str) -> Option<&str> {
    stdout.lines().find_map(|l| {
        let (name, value) = l.split_once('\t')?;
        (name == "wsrep_local_state_comment").then_some(value.trim())
    })
}

/// Makes `accounts` exist with their passwords and privileges (`@'%'`). Idempotent.
pub async fn ensure_accounts(
    engine: &Engine,
    container: &str,
    login: &DbLogin,
    accounts: &[Account],
) -> Result<(), TaskError> {
    let mut statements = String::new();
    for a in accounts {
        let who = sql::account(&a.user, "%");
        let pw = sql::literal(a.password.expose());
        statements.push_str(&format!(
            "CREATE USER IF NOT EXISTS {who} IDENTIFIED BY {pw};\n\
             ALTER USER {who} IDENTIFIED BY {pw};\n\
             GRANT {} ON *.* TO {who};\n",
            a.privileges
        ));
    }
    run(
        engine,
        container,
        login,
        "creating the database accounts",
        &statements,
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::galera_state;

    #[test]
    fn reads_the_galera_state() {
        assert_eq!(
            galera_state("wsrep_local_state_comment\tSynced\nanswered\n"),
            Some("Synced")
        );
        assert_eq!(
            galera_state("wsrep_local_state_comment\tJoining: receiving State Transfer\n"),
            Some("Joining: receiving State Transfer")
        );
        assert_eq!(galera_state("answered\n"), None);
    }
}
