//! Source globs with Python `glob.glob` semantics, as kolla's `config_files[].source` and
//! `permissions[].path` are written for them: `*`, `?` and `[...]` (`[!...]` negates) within
//! one path component; a wildcard does not match a leading `.` unless the pattern component
//! starts with `.`; `**` is not recursive; a pattern without magic matches if the path exists
//! without following a final symlink (a dangling symlink counts). Unlike Python, matches are
//! returned sorted, so runs are deterministic. Matching one component is `kollars-glob`'s,
//! shared with the renderer's `copy:` globs; walking the tree under [`Root`] is here.

use std::fs;

use crate::root::Root;

pub use kollars_glob::{fnmatch, has_magic};

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

#[cfg(test)]
mod tests {
    use super::*;

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
