//! kolla's per-service database task (`mysql_db` then `mysql_user` in every API project's
//! `bootstrap.yml`): the service's database, its user `@'%'` with its password, all privileges
//! on its database — before its `db_sync` one-shot.
//!
//! Run like kolla's: with the MariaDB client of the `kolla_toolbox` container, logged in as
//! the database root (`database_user` with `database_password`) at `database_address`. The
//! passwords travel on the client's stdin: a shell reads the login password into `MYSQL_PWD`
//! (which the client reads, and neither `ps` nor `docker inspect` shows), and the statements,
//! which name the service's password, follow on the same stdin.

use kollars_docker::{Engine, ExecRequest};

use crate::secret::Secret;
use crate::{sql, TaskError};

/// The database root's login.
#[derive(Debug, Clone)]
pub struct DbLogin {
    /// `database_address`.
    pub host: String,
    /// `database_port`.
    pub port: u16,
    /// `database_user` (`root`, or the shard's root user with ProxySQL).
    pub user: String,
    /// `database_password`.
    pub password: Secret,
}

/// One service's database, as its role's defaults name it.
#[derive(Debug, Clone)]
pub struct Database {
    /// `<service>_database_name`.
    pub name: String,
    /// `<service>_database_user`.
    pub user: String,
    /// `<service>_database_password`.
    pub password: Secret,
}

/// What a database already has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DbState {
    /// The database exists.
    pub database: bool,
    /// The user exists with the wanted password.
    pub user: bool,
    /// The user holds every privilege on the database.
    pub grants: bool,
}

impl DbState {
    /// Nothing to do.
    pub fn is_complete(&self) -> bool {
        self.database && self.user && self.grants
    }

    /// What is missing, for a plan (`database, user, grants`).
    pub fn missing(&self) -> Vec<&'static str> {
        [
            (self.database, "database"),
            (self.user, "user"),
            (self.grants, "grants"),
        ]
        .into_iter()
        .filter(|(ok, _)| !ok)
        .map(|(_, what)| what)
        .collect()
    }
}

/// The client in `container` logged in as `login`, reading statements from the rest of its
/// stdin, one tab-separated row per line.
pub(crate) fn client(login: &DbLogin, statements: &str) -> Result<ExecRequest, String> {
    if login.password.expose().contains('\n') {
        return Err("database_password holds a newline".into());
    }
    let script = "IFS= read -r MYSQL_PWD && export MYSQL_PWD && exec mysql --host=\"$0\" \
                  --port=\"$1\" --user=\"$2\" --batch --skip-column-names";
    Ok(ExecRequest::new([
        "sh",
        "-c",
        script,
        &login.host,
        &login.port.to_string(),
        &login.user,
    ])
    .stdin(format!("{}\n{statements}", login.password.expose())))
}

pub(crate) async fn run(
    engine: &Engine,
    container: &str,
    login: &DbLogin,
    task: &str,
    statements: &str,
) -> Result<String, TaskError> {
    let req = client(login, statements).map_err(|answer| TaskError::Answer {
        task: task.to_owned(),
        answer,
    })?;
    let out = engine
        .exec_ok(container, &req)
        .await
        .map_err(|source| TaskError::Engine {
            task: task.to_owned(),
            source,
        })?;
    Ok(out.stdout)
}

/// What `db` already has (read-only).
pub async fn check(
    engine: &Engine,
    container: &str,
    login: &DbLogin,
    db: &Database,
) -> Result<DbState, TaskError> {
    let task = format!("checking database {}", db.name);
    let answer = run(
        engine,
        container,
        login,
        &task,
        &sql::check_database(&db.name, &db.user, &db.password),
    )
    .await?;
    let cols: Vec<&str> = answer.trim().split('\t').collect();
    let flag = |i: usize| cols.get(i).map(|c| *c != "0");
    match (flag(0), flag(1), flag(2), cols.len()) {
        (Some(database), Some(user), Some(grants), 3) => Ok(DbState {
            database,
            user,
            grants,
        }),
        _ => Err(TaskError::Answer { task, answer }),
    }
}

/// Makes `db` complete: database, user with its password, grants. Idempotent.
pub async fn ensure(
    engine: &Engine,
    container: &str,
    login: &DbLogin,
    db: &Database,
) -> Result<(), TaskError> {
    let task = format!("creating database {}", db.name);
    run(
        engine,
        container,
        login,
        &task,
        &sql::ensure_database(&db.name, &db.user, &db.password),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login(pw: &str) -> DbLogin {
        DbLogin {
            host: "192.0.2.10".into(),
            port: 3306,
            user: "root".into(),
            password: Secret::new(pw),
        }
    }

    #[test]
    fn passwords_go_on_stdin_not_on_the_command_line() {
        let req = client(&login("r00t-pw"), "SELECT 1;\n").unwrap();
        assert!(
            req.cmd.iter().all(|w| !w.contains("r00t-pw")),
            "{:?}",
            req.cmd
        );
        assert_eq!(&req.cmd[3..], ["192.0.2.10", "3306", "root"]);
        assert_eq!(req.stdin.as_deref(), Some(&b"r00t-pw\nSELECT 1;\n"[..]));
    }

    #[test]
    fn a_password_with_a_newline_is_refused() {
        assert!(client(&login("a\nb"), "").is_err());
    }

    #[test]
    fn missing_parts_are_named() {
        let s = DbState {
            database: true,
            user: false,
            grants: false,
        };
        assert!(!s.is_complete());
        assert_eq!(s.missing(), ["user", "grants"]);
    }
}
