//! The operator's configuration directory (`--configdir`, default `/etc/kolla`).
//!
//! kolla-ansible passes `globals.yml`, `passwords.yml`, `globals.d/*.yml` and the user's `-e`
//! values to Ansible as extra variables, the highest precedence there is; this module reads
//! them in that same order so later sources win the same way.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde_yaml::Value;

use crate::error::{InputError, Location};
use crate::secrets::Masker;

/// A flat mapping of variable names to (unevaluated) values.
pub type VarMap = IndexMap<String, Value>;

/// Everything read from the configuration directory and the command line's `-e`.
#[derive(Debug, Clone, Default)]
pub struct ConfigDir {
    /// The directory (`CONFIG_DIR` / `node_config`).
    pub path: PathBuf,
    /// globals.yml then globals.d/*.yml (sorted), merged.
    pub globals: VarMap,
    /// passwords.yml.
    pub passwords: VarMap,
    /// `-e` values, in order. Values of `-e key=value` are strings whatever they look like
    /// (Ansible keeps them as given): they carry YAML's `!!str` tag, see [`kv_string`].
    pub extra: VarMap,
    /// The passwords file that was read.
    pub passwords_path: PathBuf,
    /// What Ansible would warn about and accept (a duplicate YAML key), as `file:line: …`.
    pub warnings: Vec<String>,
}

impl ConfigDir {
    /// Reads globals, globals.d and passwords from `dir`; `passwords` overrides the passwords
    /// file (kolla-ansible's `--passwords`, which kollars honours).
    pub fn load(
        dir: &Path,
        passwords: Option<&Path>,
        extra: &[String],
    ) -> Result<ConfigDir, InputError> {
        let meta = std::fs::metadata(dir).map_err(|e| InputError::Read {
            path: dir.to_path_buf(),
            source: e,
        })?;
        if !meta.is_dir() {
            return Err(InputError::Read {
                path: dir.to_path_buf(),
                source: std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a directory"),
            });
        }
        std::fs::read_dir(dir).map_err(|e| InputError::Read {
            path: dir.to_path_buf(),
            source: e,
        })?;
        let mut out = ConfigDir {
            // absolute, so that node_config / node_custom_config name the same files whatever
            // the working directory (override paths must not be read as template names)
            path: dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf()),
            ..ConfigDir::default()
        };
        let globals = dir.join("globals.yml");
        if globals.exists() {
            out.globals
                .extend(read_globals(&globals, &mut out.warnings)?);
        }
        let globals_d = dir.join("globals.d");
        if globals_d.exists() && !globals_d.is_dir() {
            // kolla-ansible globs globals.d/*.yml: a file there would be ignored, and with it
            // whatever the operator meant to put in it
            return Err(InputError::syntax(
                Location::new(&globals_d, 0),
                "must be a directory of *.yml files",
            ));
        }
        if globals_d.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&globals_d)
                .map_err(|e| InputError::Read {
                    path: globals_d.clone(),
                    source: e,
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    matches!(
                        p.extension().and_then(|e| e.to_str()),
                        Some("yml" | "yaml" | "json")
                    )
                })
                .collect();
            files.sort();
            for f in files {
                out.globals.extend(read_globals(&f, &mut out.warnings)?);
            }
        }
        out.passwords_path = passwords
            .map(Path::to_path_buf)
            .unwrap_or_else(|| dir.join("passwords.yml"));
        if out.passwords_path.exists() || passwords.is_some() {
            out.passwords = read_vars(&out.passwords_path, &mut out.warnings)?;
            crate::passwords::check(&out.passwords_path, &out.passwords)?;
        }
        for e in extra {
            let vars = parse_extra_var(e)?;
            crate::shapes::check(&vars)
                .map_err(|m| InputError::syntax(Location::new(Path::new("-e"), 0), m))?;
            out.extra.extend(vars);
        }
        Ok(out)
    }

    /// What masks the secrets of these inputs in what kollars prints: every value of
    /// passwords.yml, and whatever is given to one of its keys (see [`crate::secrets`]).
    pub fn masker(&self) -> Masker {
        fn collect(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::String(s) => out.push(s.clone()),
                Value::Mapping(m) => m.values().for_each(|v| collect(v, out)),
                Value::Sequence(s) => s.iter().for_each(|v| collect(v, out)),
                _ => {}
            }
        }
        let mut values = Vec::new();
        for v in self.passwords.values() {
            collect(v, &mut values);
        }
        Masker::new(values, self.passwords.keys().cloned())
    }
}

/// Reads a YAML (or JSON) file of variables; an empty file is an empty mapping.
pub fn read_var_file(path: &Path) -> Result<VarMap, InputError> {
    read_vars(path, &mut Vec::new())
}

/// A globals file, its variables' shapes checked ([`crate::shapes`]).
fn read_globals(path: &Path, warnings: &mut Vec<String>) -> Result<VarMap, InputError> {
    let vars = read_vars(path, warnings)?;
    crate::shapes::check(&vars).map_err(|m| InputError::syntax(Location::new(path, 0), m))?;
    Ok(vars)
}

/// [`read_var_file`], keeping what Ansible would warn about in `warnings`.
fn read_vars(path: &Path, warnings: &mut Vec<String>) -> Result<VarMap, InputError> {
    let text = std::fs::read_to_string(path).map_err(|e| InputError::Read {
        path: path.to_path_buf(),
        source: e,
    })?;
    parse_vars(path, &text, warnings)
}

/// Parses YAML (or JSON) text holding a mapping of variables, with YAML 1.1's rules
/// (see [`crate::yaml`]).
pub fn parse_var_text(path: &Path, text: &str) -> Result<VarMap, InputError> {
    parse_vars(path, text, &mut Vec::new())
}

fn parse_vars(path: &Path, text: &str, warnings: &mut Vec<String>) -> Result<VarMap, InputError> {
    let doc = crate::yaml::parse_warn(path, text, warnings)?;
    match doc {
        Value::Null => Ok(VarMap::new()),
        Value::Mapping(m) => Ok(m
            .into_iter()
            .map(|(k, v)| {
                let k = match k {
                    Value::String(s) => s,
                    other => serde_yaml::to_string(&other)
                        .unwrap_or_default()
                        .trim()
                        .to_string(),
                };
                (k, v)
            })
            .collect()),
        _ => Err(InputError::syntax(
            Location::new(path, 1),
            "expected a mapping of variable names to values",
        )),
    }
}

/// One `-e` argument: `@file.yml`, an inline YAML/JSON mapping, or `k=v k2=v2`.
pub fn parse_extra_var(arg: &str) -> Result<VarMap, InputError> {
    if let Some(file) = arg.strip_prefix('@') {
        return read_var_file(Path::new(file));
    }
    let trimmed = arg.trim_start();
    if trimmed.starts_with('{') {
        return parse_var_text(Path::new("<-e>"), arg)
            .map_err(|_| InputError::ExtraVar(arg.to_string()));
    }
    let mut out = VarMap::new();
    for part in split_kv(arg) {
        let Some((k, v)) = part.split_once('=') else {
            return Err(InputError::ExtraVar(arg.to_string()));
        };
        if k.is_empty() {
            return Err(InputError::ExtraVar(arg.to_string()));
        }
        out.insert(k.to_string(), kv_string(v));
    }
    if out.is_empty() {
        return Err(InputError::ExtraVar(arg.to_string()));
    }
    Ok(out)
}

/// A `-e key=value` value: a string, whatever it looks like (Ansible keeps `-e k=v` values as
/// given; only YAML files and inline YAML follow YAML's rules). It carries the `!!str` tag so
/// that its origin stays visible to later layers.
pub fn kv_string(v: &str) -> Value {
    Value::Tagged(Box::new(serde_yaml::value::TaggedValue {
        tag: serde_yaml::value::Tag::new("!!str"),
        value: Value::String(v.to_string()),
    }))
}

/// Whether a value is a `!!str`-tagged string (see [`kv_string`]); its text.
pub fn tagged_string(v: &Value) -> Option<&str> {
    match v {
        Value::Tagged(t) if t.tag == "!!str" || t.tag == "str" => t.value.as_str(),
        _ => None,
    }
}

fn split_kv(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote = None;
    for c in s.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            None => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_vars_forms() {
        let m = parse_extra_var("a=1 b='x y' c=yes").unwrap();
        assert_eq!(tagged_string(&m["a"]), Some("1"));
        assert_eq!(tagged_string(&m["b"]), Some("x y"));
        assert_eq!(tagged_string(&m["c"]), Some("yes"));
        let m = parse_extra_var("{\"a\": [1, 2]}").unwrap();
        assert!(m["a"].is_sequence());
        assert!(parse_extra_var("novalue").is_err());
    }

    #[test]
    fn bad_yaml_names_file_and_line() {
        let err = parse_var_text(Path::new("globals.yml"), "a: 1\nb: [1,\nc: 2\n").unwrap_err();
        let s = err.to_string();
        assert!(s.starts_with("globals.yml:"), "{s}");
        assert!(s.contains("malformed YAML"), "{s}");
    }
}
