//! kolla-ansible's `merge_configs`: INI files merged key by key, later sources winning.
//!
//! Parsing follows `oslo_config.iniparser` as kolla's `OverrideConfigParser` uses it: a key
//! repeated within one file accumulates values (a multi-valued option), a key in a later file
//! replaces the earlier values entirely, sections merge key by key, keys before any section go
//! to an orphan section written without a header, indented lines continue the previous value,
//! and an empty value is written as `key =`.

use indexmap::IndexMap;

/// One key's values: each assignment is a list of lines (continuations).
type Values = Vec<Vec<String>>;

/// An INI document being merged.
#[derive(Debug, Default, Clone)]
pub struct IniDoc {
    sections: IndexMap<Option<String>, IndexMap<String, Values>>,
}

/// A line that is neither a section, an assignment, a continuation nor a comment.
#[derive(Debug, Clone, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct IniError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl IniDoc {
    /// An empty document.
    pub fn new() -> IniDoc {
        IniDoc::default()
    }

    /// Parses one source and merges it in: keys it sets replace earlier values.
    pub fn merge_source(&mut self, text: &str) -> Result<(), IniError> {
        let mut cur: IndexMap<Option<String>, IndexMap<String, Values>> = IndexMap::new();
        let mut section: Option<Option<String>> = None;
        let mut last_key: Option<String> = None;
        for (idx, raw) in text.lines().enumerate() {
            let lineno = idx + 1;
            let line = raw.trim_end();
            if line.trim().is_empty() {
                last_key = None;
                continue;
            }
            let first = line.chars().next().unwrap_or(' ');
            if first == '#' || first == ';' {
                continue;
            }
            if first.is_whitespace() {
                // continuation of the previous value
                let Some(key) = &last_key else {
                    return Err(IniError {
                        line: lineno,
                        message: format!("unexpected continuation line {:?}", line.trim()),
                    });
                };
                let sec = section.clone().unwrap_or(None);
                if let Some(vals) = cur.get_mut(&sec).and_then(|s| s.get_mut(key)) {
                    if let Some(last) = vals.last_mut() {
                        last.push(line.trim().to_string());
                    }
                }
                continue;
            }
            if first == '[' {
                let Some(name) = line
                    .trim()
                    .strip_prefix('[')
                    .and_then(|l| l.strip_suffix(']'))
                else {
                    return Err(IniError {
                        line: lineno,
                        message: format!("invalid section header {line:?}"),
                    });
                };
                let name = name.trim();
                if name.is_empty() {
                    return Err(IniError {
                        line: lineno,
                        message: "empty section name".into(),
                    });
                }
                section = Some(Some(name.to_string()));
                cur.entry(Some(name.to_string())).or_default();
                last_key = None;
                continue;
            }
            let (key, value) = split_key_value(line).ok_or_else(|| IniError {
                line: lineno,
                message: format!("expected 'key = value', found {line:?}"),
            })?;
            let sec = section.clone().unwrap_or(None);
            let entry = cur.entry(sec).or_default();
            let value = if value.is_empty() {
                Vec::new()
            } else {
                vec![value]
            };
            entry.entry(key.clone()).or_default().push(value);
            last_key = Some(key);
        }
        for (sec, keys) in cur {
            let target = self.sections.entry(sec).or_default();
            for (k, v) in keys {
                target.insert(k, v);
            }
        }
        Ok(())
    }

    /// Writes the document as `merge_configs` does (`key = value`, blank line after sections).
    pub fn write(&self) -> String {
        let mut out = String::new();
        for (sec, keys) in &self.sections {
            if let Some(name) = sec {
                out.push_str(&format!("[{name}]\n"));
            }
            for (key, values) in keys {
                for v in values {
                    if v.is_empty() {
                        out.push_str(&format!("{key} =\n"));
                    }
                    for (i, line) in v.iter().enumerate() {
                        if i == 0 {
                            out.push_str(&format!("{key} = {line}\n"));
                        } else {
                            out.push_str(&format!("{}{line}\n", " ".repeat(key.len() + 3)));
                        }
                    }
                }
            }
            out.push('\n');
        }
        out
    }
}

/// oslo's split: the first `=` or `:` separates key and value; values lose surrounding quotes.
fn split_key_value(line: &str) -> Option<(String, String)> {
    let eq = line.find('=');
    let colon = line.find(':');
    let pos = match (eq, colon) {
        (Some(e), Some(c)) => e.min(c),
        (Some(e), None) => e,
        (None, Some(c)) => c,
        (None, None) => return None,
    };
    let key = line[..pos].trim();
    if key.is_empty() {
        return None;
    }
    let mut value = line[pos + 1..].trim().to_string();
    let b = value.as_bytes();
    if b.len() >= 2 && (b[0] == b'"' || b[0] == b'\'') && b[b.len() - 1] == b[0] {
        value = value[1..value.len() - 1].to_string();
    }
    Some((key.to_string(), value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_file_replaces_key_and_multivalues_accumulate() {
        let mut d = IniDoc::new();
        d.merge_source("[DEFAULT]\ndebug = False\nx = 1\nx = 2\n[db]\nconn = a\n")
            .unwrap();
        d.merge_source("[DEFAULT]\ndebug = True\n[new]\nk =\n")
            .unwrap();
        let out = d.write();
        assert_eq!(
            out,
            "[DEFAULT]\ndebug = True\nx = 1\nx = 2\n\n[db]\nconn = a\n\n[new]\nk =\n\n"
        );
    }

    #[test]
    fn orphans_continuations_and_quotes() {
        let mut d = IniDoc::new();
        d.merge_source("top = 1\n[s]\nk = \"quoted\"\nlist = a\n  b\n")
            .unwrap();
        let out = d.write();
        assert!(out.starts_with("top = 1\n\n[s]\n"), "{out}");
        assert!(out.contains("k = quoted\n"));
        assert!(out.contains("list = a\n       b\n"), "{out}");
    }

    #[test]
    fn bad_line_is_reported() {
        let err = IniDoc::new().merge_source("[s]\njust words\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(IniDoc::new().merge_source("[s\n").is_err());
    }
}
