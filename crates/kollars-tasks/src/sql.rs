//! MariaDB statements for kolla's database tasks, and the quoting that makes them safe.
//!
//! Names and passwords come from the operator's inputs (passwords.yml is full of quotes,
//! backslashes and `%`): every identifier is backquoted and every string literal escaped here,
//! in one place, and the statements are idempotent (`IF NOT EXISTS`, grants that can be
//! granted again), so a task killed half-way is finished by the next run.

use crate::secret::Secret;

/// A backquoted identifier (`db`): backquotes doubled.
pub fn ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// A single-quoted string literal: backslashes and quotes escaped, as MariaDB reads them in
/// its default SQL mode (no `NO_BACKSLASH_ESCAPES`).
pub fn literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\0' => out.push_str("\\0"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\x1a' => out.push_str("\\Z"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// `'user'@'host'`.
pub fn account(user: &str, host: &str) -> String {
    format!("{}@{}", literal(user), literal(host))
}

/// kolla's `mysql_db` (state present) and `mysql_user` (`host: %`, `priv: <db>.*:ALL`,
/// `append_privs: yes`, password always set): the statements that make `db` exist with
/// `user` able to do everything in it, with `password`.
pub fn ensure_database(db: &str, user: &str, password: &Secret) -> String {
    let who = account(user, "%");
    let pw = literal(password.expose());
    format!(
        "CREATE DATABASE IF NOT EXISTS {db};\n\
         CREATE USER IF NOT EXISTS {who} IDENTIFIED BY {pw};\n\
         ALTER USER {who} IDENTIFIED BY {pw};\n\
         GRANT ALL PRIVILEGES ON {db}.* TO {who};\n",
        db = ident(db),
    )
}

/// One row of three 0/1 columns: whether `db` exists, whether `user@'%'` exists with
/// `password`, whether it holds every privilege on `db`. Read-only.
pub fn check_database(db: &str, user: &str, password: &Secret) -> String {
    let (u, pw, d) = (literal(user), literal(password.expose()), literal(db));
    format!(
        "SELECT\n\
         (SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = {d}),\n\
         (SELECT COUNT(*) FROM mysql.user WHERE User = {u} AND Host = '%' \
         AND authentication_string = PASSWORD({pw})),\n\
         (SELECT COUNT(*) FROM mysql.db WHERE User = {u} AND Host = '%' AND Db = {d} \
         AND Select_priv = 'Y' AND Insert_priv = 'Y' AND Update_priv = 'Y' AND Delete_priv = 'Y' \
         AND Create_priv = 'Y' AND Drop_priv = 'Y' AND Alter_priv = 'Y' AND Index_priv = 'Y');\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_and_literals_are_quoted() {
        assert_eq!(ident("keystone"), "`keystone`");
        assert_eq!(ident("we`ird"), "`we``ird`");
        assert_eq!(literal("plain"), "'plain'");
        assert_eq!(literal(r"a'b\c"), r"'a\'b\\c'");
        assert_eq!(literal("nl\nx\0"), r"'nl\nx\0'");
        assert_eq!(account("nova", "%"), "'nova'@'%'");
    }

    #[test]
    fn ensure_is_idempotent_statements_for_one_database() {
        let sql = ensure_database("keystone", "keystone", &Secret::new("p'w"));
        assert_eq!(
            sql,
            "CREATE DATABASE IF NOT EXISTS `keystone`;\n\
             CREATE USER IF NOT EXISTS 'keystone'@'%' IDENTIFIED BY 'p\\'w';\n\
             ALTER USER 'keystone'@'%' IDENTIFIED BY 'p\\'w';\n\
             GRANT ALL PRIVILEGES ON `keystone`.* TO 'keystone'@'%';\n"
        );
    }

    #[test]
    fn check_reads_three_facts() {
        let sql = check_database("nova_api", "nova_api", &Secret::new("x"));
        assert!(sql.starts_with("SELECT\n"));
        assert_eq!(sql.matches("'nova_api'").count(), 4);
        assert!(sql.contains("PASSWORD('x')"));
        assert!(
            !sql.contains("UPDATE") && !sql.contains("CREATE"),
            "read-only"
        );
    }
}
