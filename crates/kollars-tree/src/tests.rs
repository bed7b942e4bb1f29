use std::collections::BTreeMap;

use super::*;

/// A picture of a directory tree, as the engine writer has one: directories and their modes,
/// file paths; what `make` did is recorded.
#[derive(Default)]
struct Picture {
    dirs: BTreeMap<String, u32>,
    files: BTreeSet<String>,
    made: Vec<(String, u32, Made)>,
}

impl DirTarget for Picture {
    type Error = String;

    fn make(&mut self, path: &str, mode: u32) -> Result<Made, String> {
        if self.files.contains(path) {
            return Err(format!("{path} is a file"));
        }
        let parent_there = match path.rsplit_once('/') {
            None => true,
            Some((parent, _)) => self.dirs.contains_key(parent),
        };
        let made = match self.dirs.get(path) {
            Some(_) => Made::Existed,
            None if parent_there => Made::Created,
            None => Made::ParentMissing,
        };
        if made != Made::ParentMissing {
            self.dirs.insert(path.to_owned(), mode);
        }
        self.made.push((path.to_owned(), mode, made));
        Ok(made)
    }

    fn no_parent(&mut self, path: &str) -> String {
        format!("{path}: no parent")
    }
}

fn tree() -> Tree {
    Tree::new(
        [
            TreeDir::new("haproxy", DEFAULT_DIR_MODE),
            TreeDir::new("haproxy/services.d", 0o750),
            // the first mention wins
            TreeDir::new("haproxy", 0o700),
            TreeDir::new("nova/copied/sub", 0o755),
        ],
        [
            TreeFile::new("haproxy/haproxy.cfg", 0o660, "x"),
            TreeFile::new("haproxy/services.d/a.cfg", 0o640, "a"),
            TreeFile::new("haproxy/extra/b/c.cfg", 0o660, ""),
            TreeFile::new("haproxy/extra/b/d.cfg", 0o660, ""),
            TreeFile::new("nova/copied/sub/e", 0o644, "e"),
            TreeFile::new("nova/other/f", 0o644, "f"),
            TreeFile::new("top-level", 0o600, "t"),
            // the first mention wins
            TreeFile::new("top-level", 0o644, "other"),
        ],
    )
}

#[test]
fn directories_are_the_declared_ones_then_undeclared_directories_of_files() {
    let t = tree();
    assert_eq!(t.dirs["haproxy"], DEFAULT_DIR_MODE);
    assert_eq!(t.files["top-level"].content, b"t");
    assert_eq!(
        t.directories(),
        [
            ("haproxy", DEFAULT_DIR_MODE),
            ("haproxy/services.d", 0o750),
            ("nova/copied/sub", 0o755),
            // files' directories that nobody declared, each once; the root never
            ("haproxy/extra/b", DEFAULT_DIR_MODE),
            ("nova/other", DEFAULT_DIR_MODE),
        ]
    );
    assert_eq!(DEFAULT_DIR_MODE, 0o770);
}

#[test]
fn missing_parents_take_the_mode_of_the_directory_that_needed_them() {
    let t = tree();
    let mut p = Picture::default();
    t.make_directories(&mut p).unwrap();
    assert_eq!(
        p.dirs,
        BTreeMap::from([
            ("haproxy".into(), DEFAULT_DIR_MODE),
            ("haproxy/extra".into(), DEFAULT_DIR_MODE),
            ("haproxy/extra/b".into(), DEFAULT_DIR_MODE),
            ("haproxy/services.d".into(), 0o750),
            // made as parents of nova/copied/sub: its mode
            ("nova".into(), 0o755),
            ("nova/copied".into(), 0o755),
            ("nova/copied/sub".into(), 0o755),
            // an undeclared directory of a file in an existing one
            ("nova/other".into(), DEFAULT_DIR_MODE),
        ])
    );
    // each directory is asked once, except one retried after its parent was made
    let asked: Vec<&str> = p.made.iter().map(|(d, ..)| d.as_str()).collect();
    assert_eq!(
        asked,
        [
            "haproxy",
            "haproxy/services.d",
            "nova/copied/sub",
            "nova/copied",
            "nova",
            "nova/copied",
            "nova/copied/sub",
            "haproxy/extra/b",
            "haproxy/extra",
            "haproxy/extra/b",
            "nova/other",
        ]
    );

    // Again over the result: every listed directory exists and is only asked once.
    p.made.clear();
    t.make_directories(&mut p).unwrap();
    assert!(
        p.made.iter().all(|(.., m)| *m == Made::Existed),
        "{:?}",
        p.made
    );
    assert_eq!(p.made.len(), t.directories().len());
}

#[test]
fn existing_parents_are_left_alone_unless_listed() {
    let t = Tree::new(
        [TreeDir::new("x/y/z", 0o750)],
        [TreeFile::new("w/v/f", 0o660, "")],
    );
    let mut p = Picture::default();
    p.dirs.insert("x".into(), 0o700);
    p.dirs.insert("w".into(), 0o711);
    p.dirs.insert("w/v".into(), 0o700);
    t.make_directories(&mut p).unwrap();
    assert_eq!(
        p.dirs,
        BTreeMap::from([
            ("w".into(), 0o711),
            // a file's directory gets DEFAULT_DIR_MODE, also when it existed with another
            ("w/v".into(), DEFAULT_DIR_MODE),
            ("x".into(), 0o700),
            ("x/y".into(), 0o750),
            ("x/y/z".into(), 0o750),
        ])
    );
}

#[test]
fn a_file_in_the_way_and_a_missing_root_are_errors() {
    let t = Tree::new([TreeDir::new("svc/d/e", 0o770)], []);
    let mut p = Picture::default();
    p.dirs.insert("svc".into(), 0o770);
    p.files.insert("svc/d".into());
    assert_eq!(t.make_directories(&mut p).unwrap_err(), "svc/d is a file");

    /// A target whose root is gone: every directory's parent is missing.
    struct NoRoot;
    impl DirTarget for NoRoot {
        type Error = String;
        fn make(&mut self, _: &str, _: u32) -> Result<Made, String> {
            Ok(Made::ParentMissing)
        }
        fn no_parent(&mut self, path: &str) -> String {
            format!("{path}: no parent")
        }
    }
    let t = Tree::new([TreeDir::new("a/b", 0o770)], []);
    assert_eq!(t.make_directories(&mut NoRoot).unwrap_err(), "a: no parent");
}
