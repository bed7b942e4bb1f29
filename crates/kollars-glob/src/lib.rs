//! Python `glob.glob`'s matching of one path component, for both ends of a deploy: the
//! renderer's `copy:` globs (Ansible's `with_fileglob`) and kolla-start's `config_files` and
//! `permissions` globs (kolla's `glob.glob`). One implementation, so a pattern means the same
//! thing when kollars renders it and when the container applies it.
//!
//! Semantics are Python's `fnmatch.fnmatchcase` plus glob's hidden-file rule: `*` matches any
//! run of characters, `?` one, `[...]` one of a set (`a-z` ranges; `]` right after `[` or
//! `[!` is a member; `-` first or last is a member), `[!...]` one not in it (`^` is an
//! ordinary member, as in Python); a `[` that is not closed is a literal; no escapes. A name
//! starting with `.` only matches a pattern starting with `.`. Walking directories is the
//! caller's: each maps paths its own way (kolla-start under a root, the renderer in the
//! operator's config directory). std only, as kolla-start is a static binary.

#![deny(missing_docs)]

/// Whether `s` contains glob magic (`*`, `?` or `[`): a path without it is taken literally.
pub fn has_magic(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Whether the path component `name` matches the pattern component `pat`, as `glob.glob`
/// decides it: fnmatch, and a leading `.` in `name` only matched by one in `pat`.
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

    // kolla-start's cases (config_files sources, permissions paths).
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

    // The renderer's cases (`copy:` globs): its documented `*`, `?`, `[abc]`, `[a-z]`,
    // `[!abc]`, and the shell's leading-dot rule it applied before matching.
    #[test]
    fn copy_glob_rules() {
        assert!(fnmatch("*.cfg", "a.cfg"));
        assert!(!fnmatch("*.cfg", "a.cfg.bak"));
        assert!(!fnmatch("*.cfg", ".a.cfg"));
        assert!(fnmatch(".*.cfg", ".a.cfg"));
        assert!(!fnmatch("*", ".keep"));
        assert!(fnmatch("?.pem", "a.pem"));
        assert!(!fnmatch("?.pem", "ab.pem"));
        assert!(fnmatch("[abc].crt", "b.crt"));
        assert!(!fnmatch("[abc].crt", "d.crt"));
        assert!(fnmatch("node[0-9]", "node3"));
        assert!(!fnmatch("node[0-9]", "nodex"));
        assert!(fnmatch("[!abc]", "d"));
        assert!(!fnmatch("[!abc]", "a"));
        assert!(fnmatch("*.*", "x.y.z"));
        assert!(fnmatch("", ""));
        assert!(!fnmatch("", "x"));
        assert!(!fnmatch("[a]", ""));
    }

    // Where Python's fnmatch is particular. The renderer's matcher before this crate differed
    // on the first two: it negated on `^` and closed `[!]...]` at the first `]`.
    #[test]
    fn python_bracket_corners() {
        assert!(fnmatch("[^a]", "^"));
        assert!(fnmatch("[^a]", "a"));
        assert!(!fnmatch("[^a]", "b"));
        assert!(fnmatch("[!]]", "x"));
        assert!(!fnmatch("[!]]", "]"));
        assert!(!fnmatch("[!]]", "x]"));
        assert!(fnmatch("[!]", "[!]"));
        assert!(fnmatch("[]", "[]"));
        assert!(fnmatch("[a-]", "-"));
        assert!(fnmatch("[-a]", "-"));
        assert!(!fnmatch("[z-a]", "m"));
        assert!(fnmatch("[]-a]", "^"));
        assert!(fnmatch("a\\b", "a\\b"));
    }

    #[test]
    fn magic() {
        assert!(has_magic("*.conf"));
        assert!(has_magic("a?"));
        assert!(has_magic("[ab]"));
        assert!(!has_magic("/etc/nova/nova.conf"));
    }
}
