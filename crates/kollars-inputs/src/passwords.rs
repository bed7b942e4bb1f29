//! What `passwords.yml` must hold before anything renders from it.
//!
//! Templates put passwords into connection strings and config files as text: an empty value
//! renders `root:None@…` or an empty secret, and a plain YAML scalar that is not a string is
//! not what the operator typed (`0755` is 493, `yes` is true, `1e3` stays text but `1.0` is a
//! float). kolla-genpwd writes every password as a string and leaves only
//! `docker_registry_password` blank, so anything else is refused here, every culprit named at
//! once, and no value ever printed.

use std::path::Path;

use serde_yaml::Value;

use crate::configdir::VarMap;
use crate::error::{InputError, Location};
use crate::yaml::kind;

/// The keys kolla-genpwd leaves blank (kept in step with `kollars genpwd`).
pub const BLANK_KEYS: &[&str] = &["docker_registry_password"];

/// Checks every value of `passwords` (read from `path`): each is a non-empty string (an
/// `!unsafe` string too), or a mapping of strings (the `*_ssh_key` pairs); only
/// [`BLANK_KEYS`] may be empty. The error names every offending key, never a value.
pub fn check(path: &Path, passwords: &VarMap) -> Result<(), InputError> {
    if passwords.is_empty() {
        return Err(InputError::syntax(
            Location::new(path, 0),
            "holds no passwords: copy kolla's passwords.yml here and fill it with `kollars \
             genpwd`",
        ));
    }
    let mut empty = Vec::new();
    let mut wrong = Vec::new();
    for (key, value) in passwords {
        match value {
            Value::Null if BLANK_KEYS.contains(&key.as_str()) => {}
            Value::String(s) if s.is_empty() && BLANK_KEYS.contains(&key.as_str()) => {}
            Value::Null => empty.push(key.clone()),
            Value::String(s) if s.is_empty() => empty.push(key.clone()),
            Value::String(_) => {}
            Value::Tagged(t) if t.value.is_string() => {}
            Value::Mapping(m) => {
                for (k, v) in m {
                    if !v.is_string() {
                        let k = k.as_str().unwrap_or("?");
                        wrong.push(format!("{key}.{k} ({})", kind(v)));
                    }
                }
            }
            other => wrong.push(format!("{key} ({})", kind(other))),
        }
    }
    let mut problems = Vec::new();
    if !empty.is_empty() {
        problems.push(format!(
            "empty password(s) {} (fill them with `kollars genpwd`)",
            empty.join(", ")
        ));
    }
    if !wrong.is_empty() {
        problems.push(format!(
            "password(s) that are not strings: {} (quote them: unquoted, YAML reads some as numbers or \
             booleans)",
            wrong.join(", ")
        ));
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(InputError::syntax(
        Location::new(path, 0),
        problems.join("; "),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_text(text: &str) -> Result<(), String> {
        let path = Path::new("passwords.yml");
        let vars = crate::configdir::parse_var_text(path, text).unwrap();
        check(path, &vars).map_err(|e| e.to_string())
    }

    #[test]
    fn every_culprit_is_named_and_no_value() {
        let e = check_text(concat!(
            "a: ''\nb:\nc: 0755\nd: [s3cret]\ne: good-s3cret\ndocker_registry_password:\n",
            "k_ssh_key: {private_key: x, public_key: 12}\nf: !unsafe 'x{{y'\n",
        ))
        .unwrap_err();
        assert!(
            e.starts_with("passwords.yml: empty password(s) a, b "),
            "{e}"
        );
        assert!(
            e.contains("not strings: c (a number), d (a list), k_ssh_key.public_key (a number)"),
            "{e}"
        );
        assert!(!e.contains("s3cret") && !e.contains("493"), "{e}");
        assert!(check_text("").unwrap_err().contains("holds no passwords"));
        assert!(check_text("a: x\nk: {private_key: p, public_key: q}\n").is_ok());
    }
}
