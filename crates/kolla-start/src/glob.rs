//! Source globs with Python `glob.glob` semantics, as kolla's `config_files[].source` and
//! `permissions[].path` are written for them: `*`, `?` and `[...]` (`[!...]` negates) within
//! one path component; a wildcard does not match a leading `.` unless the pattern component
//! starts with `.`; `**` is not recursive; a pattern without magic matches if the path exists
//! without following a final symlink (a dangling symlink counts). Unlike Python, matches are
//! returned sorted, so runs are deterministic.

use std::fs;

use crate::root::Root;

/// Whether `s` contains glob magic.
pub fn has_magic(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Expands the absolute container path pattern `pattern` under `root`; returns container paths.
pub fn glob(root: &Root, pattern: &str) -> Vec<String> {
    if !has_magic(pattern) {
        let exists = fs::symlink_metadata(root.host(pattern)).is_ok();
        return if exists {
            vec![pattern.to_string()]
        } else {
            Vec::new()
        };
    }
    let comps: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
    let mut found = vec![String::new()];
    for (i, comp) in comps.iter().enumerate() {
        let last = i + 1 == comps.len();
        let mut next = Vec::new();
        for base in &found {
            let dir = if base.is_empty() { "/" } else { base.as_str() };
            if has_magic(comp) {
                let Ok(entries) = fs::read_dir(root.host(dir)) else {
                    continue;
                };
                let mut names: Vec<String> = entries
                    .filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| fnmatch(comp, n))
                    .collect();
                names.sort();
                for n in names {
                    let p = format!("{base}/{n}");
                    if last || root.host(&p).is_dir() {
                        next.push(p);
                    }
                }
            } else {
                let p = format!("{base}/{comp}");
                let host = root.host(&p);
                let ok = if last {
                    fs::symlink_metadata(&host).is_ok()
                } else {
                    host.is_dir()
                };
                if ok {
                    next.push(p);
                }
            }
        }
        found = next;
    }
    found
}

/// Matches one path component `name` against the pattern component `pat`.
pub fn fnmatch(pat: &str, name: &str) -> bool {
    if name.starts_with('.') && !pat.starts_with('.') {
        return false;
    }
    let p: Vec<char> = pat.chars().collect();
    let n: Vec<char> = name.chars().collect();
    matches(&p, &n)
}

fn matches(p: &[char], n: &[char]) -> bool {
    match p.first() {
        None => n.is_empty(),
        Some('*') => (0..=n.len()).any(|k| matches(&p[1..], &n[k..])),
        Some('?') => !n.is_empty() && matches(&p[1..], &n[1..]),
        Some('[') => match class(&p[1..]) {
            Some(cl) => {
                let Some(&c) = n.first() else { return false };
                let inside = cl.ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi);
                inside != cl.negate && matches(&p[1 + cl.len..], &n[1..])
            }
            // An unclosed `[` is a literal, as in Python.
            None => n.first() == Some(&'[') && matches(&p[1..], &n[1..]),
        },
        Some(&c) => n.first() == Some(&c) && matches(&p[1..], &n[1..]),
    }
}

/// A `[...]` character class.
struct Class {
    /// Inclusive ranges (a single char is a range of one).
    ranges: Vec<(char, char)>,
    /// `[!...]`.
    negate: bool,
    /// Pattern chars used after the `[`, the closing `]` included.
    len: usize,
}

/// Parses a class after `[`; `None` if it is not closed.
fn class(p: &[char]) -> Option<Class> {
    let mut i = 0;
    let negate = matches!(p.first(), Some('!'));
    if negate {
        i += 1;
    }
    let mut set = Vec::new();
    let start = i;
    while i < p.len() {
        if p[i] == ']' && i > start {
            return Some(Class {
                ranges: set,
                negate,
                len: i + 1,
            });
        }
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            set.push((p[i], p[i + 2]));
            i += 3;
        } else {
            set.push((p[i], p[i]));
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnmatch_rules() {
        assert!(fnmatch("*.conf", "nova.conf"));
        assert!(!fnmatch("*.conf", ".hidden.conf"));
        assert!(fnmatch(".*", ".hidden"));
        assert!(fnmatch("a?c", "abc"));
        assert!(!fnmatch("a?c", "ac"));
        assert!(fnmatch("[ab]x", "bx"));
        assert!(!fnmatch("[!ab]x", "bx"));
        assert!(fnmatch("[!ab]x", "cx"));
        assert!(fnmatch("f[0-9]", "f7"));
        assert!(fnmatch("[]]", "]"));
        assert!(fnmatch("a[b", "a[b"));
        assert!(fnmatch("*", "x"));
        assert!(!fnmatch("x*", "y"));
    }

    #[test]
    fn globs_a_tree() {
        let t = tempfile::tempdir().unwrap();
        let root = Root::at(t.path());
        let d = t.path().join("cfg");
        fs::create_dir_all(d.join("sub")).unwrap();
        for f in ["b.conf", "a.conf", ".h.conf", "x.txt", "sub/c.conf"] {
            fs::write(d.join(f), "").unwrap();
        }
        std::os::unix::fs::symlink("/nonexistent", d.join("dangling")).unwrap();
        assert_eq!(glob(&root, "/cfg/*.conf"), ["/cfg/a.conf", "/cfg/b.conf"]);
        assert_eq!(glob(&root, "/cfg/*/*.conf"), ["/cfg/sub/c.conf"]);
        assert_eq!(glob(&root, "/cfg/**/c.conf"), ["/cfg/sub/c.conf"]);
        assert_eq!(glob(&root, "/c*/x.txt"), ["/cfg/x.txt"]);
        assert_eq!(glob(&root, "/cfg/dangling"), ["/cfg/dangling"]);
        assert!(glob(&root, "/cfg/nope").is_empty());
        assert!(glob(&root, "/cfg/*.none").is_empty());
        assert_eq!(glob(&root, "/cfg/.*.conf"), ["/cfg/.h.conf"]);
    }
}
