use std::os::unix::fs::MetadataExt;

use super::*;
use crate::{TreeDir, DEFAULT_DIR_MODE};

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn inode(p: &Path) -> u64 {
    std::fs::metadata(p).unwrap().ino()
}

fn tree() -> Tree {
    Tree::new(
        [
            TreeDir::new("haproxy", DEFAULT_DIR_MODE),
            TreeDir::new("haproxy/services.d", DEFAULT_DIR_MODE),
            TreeDir::new("proxysql", DEFAULT_DIR_MODE),
            TreeDir::new("proxysql/rules", 0o750),
            TreeDir::new("nova/copied/sub", 0o755),
        ],
        [
            TreeFile::new("haproxy/haproxy.cfg", 0o660, "global\n"),
            TreeFile::new("nova/copied/sub/b.conf", 0o644, vec![0u8, 255]),
            TreeFile::new("nova/undeclared/c.conf", 0o600, "c"),
            TreeFile::new("cron/logrotate.conf", 0o660, ""),
        ],
    )
}

#[test]
fn writes_directories_and_files_with_their_modes() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("etc-kolla");
    let t = tree();
    let changed = write_local(&root, &t).unwrap();
    assert_eq!(changed, t.files.keys().cloned().collect::<Vec<_>>());
    for f in t.files.values() {
        let p = root.join(&f.path);
        assert_eq!(std::fs::read(&p).unwrap(), f.content, "{}", f.path);
        assert_eq!(mode(&p), f.mode, "{}", f.path);
    }
    for (d, m) in [
        ("haproxy", 0o770),
        ("haproxy/services.d", 0o770),
        ("proxysql/rules", 0o750),
        ("nova", 0o755),
        ("nova/copied", 0o755),
        ("nova/copied/sub", 0o755),
        ("nova/undeclared", 0o770),
        ("cron", 0o770),
    ] {
        assert_eq!(mode(&root.join(d)), m, "{d}");
    }
    assert!(std::fs::read_dir(root.join("haproxy/services.d"))
        .unwrap()
        .next()
        .is_none());
    assert_eq!(read_local(&root, &t), t);
}

#[test]
fn only_what_differs_is_rewritten_atomically() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let mut t = tree();
    write_local(root, &t).unwrap();
    let cfg = root.join("haproxy/haproxy.cfg");
    let (cfg_inode, cron_inode) = (inode(&cfg), inode(&root.join("cron/logrotate.conf")));

    // Unchanged: nothing written, not even a directory mode that drifted counts as a file.
    std::fs::set_permissions(
        root.join("proxysql/rules"),
        std::fs::Permissions::from_mode(0o700),
    )
    .unwrap();
    std::fs::write(root.join("haproxy/operator-note"), "keep me").unwrap();
    assert!(write_local(root, &t).unwrap().is_empty());
    assert_eq!(inode(&cfg), cfg_inode);
    assert_eq!(mode(&root.join("proxysql/rules")), 0o750);

    // A content change and a mode change: replaced by a new file (rename), the rest kept.
    t.files.get_mut("haproxy/haproxy.cfg").unwrap().content = b"global\n  debug\n".to_vec();
    t.files.get_mut("cron/logrotate.conf").unwrap().mode = 0o600;
    assert_eq!(
        write_local(root, &t).unwrap(),
        ["cron/logrotate.conf", "haproxy/haproxy.cfg"]
    );
    assert_ne!(inode(&cfg), cfg_inode);
    assert_ne!(inode(&root.join("cron/logrotate.conf")), cron_inode);
    assert_eq!(std::fs::read(&cfg).unwrap(), b"global\n  debug\n");
    assert_eq!(mode(&root.join("cron/logrotate.conf")), 0o600);
    assert_eq!(
        std::fs::read_to_string(root.join("haproxy/operator-note")).unwrap(),
        "keep me"
    );
    // no temp file left behind
    let names: Vec<String> = std::fs::read_dir(root.join("haproxy"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.starts_with(".tmp")), "{names:?}");
}

#[test]
fn errors_name_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::write(root.join("svc"), "a file in the way").unwrap();
    let t = Tree::new([], [TreeFile::new("svc/f", 0o660, "x")]);
    let err = write_local(root, &t).unwrap_err();
    assert_eq!(err.path, root.join("svc"));
    assert!(err
        .to_string()
        .starts_with(&root.join("svc").display().to_string()));

    // what cannot be read is absent
    assert_eq!(read_local(root, &t), Tree::default());
}

#[test]
fn replace_file_replaces_whole_files_with_their_mode_and_leaves_no_temp_file() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("passwords.yml");
    replace_file(&p, b"first\n", 0o640).unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b"first\n");
    assert_eq!(mode(&p), 0o640);
    replace_file(&p, b"second\n", 0o600).unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b"second\n");
    assert_eq!(mode(&p), 0o600);
    // a symlink is replaced, its target untouched
    let target = tmp.path().join("target");
    std::fs::write(&target, "kept").unwrap();
    let link = tmp.path().join("link");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    replace_file(&link, b"new", 0o600).unwrap();
    assert!(!std::fs::symlink_metadata(&link).unwrap().is_symlink());
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "kept");
    let mut names: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["link", "passwords.yml", "target"]);
    // a directory that is not there: named, nothing made
    let err = replace_file(&tmp.path().join("nope/f"), b"x", 0o600).unwrap_err();
    assert_eq!(err.path, tmp.path().join("nope"));
}
