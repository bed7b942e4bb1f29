//! The INI inventory syntax, as Ansible's `ini` inventory plugin reads it.
//!
//! Most kolla-ansible inventories (`multinode`, `all-in-one`) are INI; its quirks (sections
//! `[g:children]` and `[g:vars]`, shell-like host lines, Python literals as values) are kept in
//! one place so that a file means here what it means to Ansible.

use std::path::Path;

use indexmap::IndexMap;
use serde_yaml::Value;

use crate::error::{InputError, Location};

use super::{expand_host_pattern, Inventory};

impl Inventory {
    pub(super) fn parse_ini(&mut self, path: &Path, text: &str) -> Result<(), InputError> {
        enum Section {
            Hosts(String),
            Children(String),
            Vars(String),
        }
        let mut section = Section::Hosts("ungrouped".to_string());
        for (idx, raw) in text.lines().enumerate() {
            let loc = Location::new(path, idx + 1);
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if line.starts_with('[') {
                let Some(inner) = line.strip_prefix('[').and_then(|l| {
                    let end = l.find(']')?;
                    let rest = l[end + 1..].trim();
                    (rest.is_empty() || rest.starts_with('#') || rest.starts_with(';'))
                        .then(|| &l[..end])
                }) else {
                    return Err(InputError::syntax(
                        loc,
                        format!("malformed section header {line:?}"),
                    ));
                };
                let (name, kind) = match inner.split_once(':') {
                    Some((n, k)) => (n.trim(), Some(k.trim())),
                    None => (inner.trim(), None),
                };
                if name.is_empty() || name.contains(char::is_whitespace) {
                    return Err(InputError::syntax(
                        loc,
                        format!("invalid group name {name:?}"),
                    ));
                }
                self.group_mut(name);
                section = match kind {
                    None => Section::Hosts(name.to_string()),
                    Some("children") => Section::Children(name.to_string()),
                    Some("vars") => Section::Vars(name.to_string()),
                    Some(other) => {
                        return Err(InputError::syntax(
                            loc,
                            format!(
                                "unknown section kind {other:?} (expected 'children' or 'vars')"
                            ),
                        ))
                    }
                };
                continue;
            }
            match &section {
                Section::Hosts(group) => {
                    let tokens =
                        split_ini_tokens(line).map_err(|m| InputError::syntax(loc.clone(), m))?;
                    let mut iter = tokens.into_iter();
                    let pattern = iter.next().unwrap_or_default();
                    let mut vars = IndexMap::new();
                    for tok in iter {
                        if tok.starts_with('#') {
                            break;
                        }
                        let Some((k, v)) = tok.split_once('=') else {
                            return Err(InputError::syntax(
                                loc,
                                format!("expected key=value after host {pattern:?}, found {tok:?}"),
                            ));
                        };
                        vars.insert(k.to_string(), literal_value(v));
                    }
                    let group = group.clone();
                    for host in expand_host_pattern(&pattern)
                        .map_err(|m| InputError::syntax(loc.clone(), m))?
                    {
                        self.add_host(&group, &host, vars.clone());
                    }
                }
                Section::Children(group) => {
                    let child = line
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_string();
                    if child == *group {
                        return Err(InputError::syntax(
                            loc,
                            format!("group {group:?} cannot be its own child"),
                        ));
                    }
                    self.group_mut(&child);
                    let group = group.clone();
                    self.group_mut(&group).children.insert(child);
                }
                Section::Vars(group) => {
                    let Some((k, v)) = line.split_once('=') else {
                        return Err(InputError::syntax(
                            loc,
                            format!("expected key=value in [{group}:vars], found {line:?}"),
                        ));
                    };
                    let value = unquote(v.trim());
                    let group = group.clone();
                    self.group_mut(&group)
                        .vars
                        .insert(k.trim().to_string(), Value::String(value));
                }
            }
        }
        Ok(())
    }
}

/// Splits a host line into whitespace-separated tokens, honouring quotes (shlex-like).
fn split_ini_tokens(line: &str) -> Result<Vec<String>, String> {
    let mut tokens = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut in_token = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) if c == '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            Some(_) => cur.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                in_token = true;
            }
            None if c.is_whitespace() => {
                if in_token {
                    tokens.push(std::mem::take(&mut cur));
                    in_token = false;
                }
            }
            None if c == '#' && !in_token => break,
            None => {
                cur.push(c);
                in_token = true;
            }
        }
    }
    if quote.is_some() {
        return Err(format!("unterminated quote in {line:?}"));
    }
    if in_token {
        tokens.push(cur);
    }
    Ok(tokens)
}

fn unquote(s: &str) -> String {
    let b = s.as_bytes();
    if b.len() >= 2 && (b[0] == b'"' || b[0] == b'\'') && b[b.len() - 1] == b[0] {
        s[1..s.len() - 1].to_string()
    } else {
        s.to_string()
    }
}

/// Host-line values are Python literals where they parse as one (numbers, booleans, lists,
/// dicts), strings otherwise, as Ansible's INI inventory does.
fn literal_value(v: &str) -> Value {
    match v {
        "True" | "true" => return Value::Bool(true),
        "False" | "false" => return Value::Bool(false),
        "None" => return Value::Null,
        _ => {}
    }
    if let Ok(i) = v.parse::<i64>() {
        return Value::Number(i.into());
    }
    if let Ok(f) = v.parse::<f64>() {
        if v.contains('.') {
            return Value::Number(f.into());
        }
    }
    if (v.starts_with('[') && v.ends_with(']')) || (v.starts_with('{') && v.ends_with('}')) {
        if let Ok(parsed) = serde_yaml::from_str::<Value>(v) {
            return parsed;
        }
    }
    Value::String(v.to_string())
}
