use super::*;
use kollars_tree::TreeDir;

/// [`changes`] for the tree of these directories and files (the changed files cloned).
fn changes_of(
    current: &Tree,
    dirs: &[TreeDir],
    files: &[TreeFile],
) -> std::result::Result<(BTreeMap<String, u32>, Vec<TreeFile>), String> {
    let tree = Tree::new(dirs.to_vec(), files.to_vec());
    changes(current, &tree).map(|(up, changed)| (up, changed.into_iter().cloned().collect()))
}

#[test]
fn relative_paths_only() {
    assert!(check_rel("keystone/keystone.conf").is_ok());
    assert!(check_rel("/etc/passwd").is_err());
    assert!(check_rel("a/../b").is_err());
    assert!(check_rel("a//b").is_err());
    assert!(check_rel("").is_err());
}

#[test]
fn only_changed_files_and_wrong_dirs_are_uploaded() {
    let mut current = Tree::default();
    current.dirs.insert("a".into(), 0o770);
    current.dirs.insert("a/sub".into(), 0o755);
    current.dirs.insert("other".into(), 0o700);
    current
        .files
        .insert("a/same".into(), TreeFile::new("a/same", 0o660, "x"));
    current
        .files
        .insert("a/mode".into(), TreeFile::new("a/mode", 0o644, "x"));
    current
        .files
        .insert("a/content".into(), TreeFile::new("a/content", 0o660, "old"));
    let files = vec![
        TreeFile::new("a/same", 0o660, "x"),
        TreeFile::new("a/mode", 0o660, "x"),
        TreeFile::new("a/content", 0o660, "new"),
        TreeFile::new("b/new/deep", 0o600, "n"),
    ];
    let (dirs, changed) = changes_of(&current, &[], &files).unwrap();
    // a/sub and other are nobody's: left alone, as the local writer does.
    assert_eq!(
        dirs,
        BTreeMap::from([("b".into(), 0o770), ("b/new".into(), 0o770)])
    );
    // In path order: a tree's files are sorted.
    let names: Vec<&str> = changed.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(names, vec!["a/content", "a/mode", "b/new/deep"]);
}

#[test]
fn declared_dirs_follow_the_local_writers_rules() {
    let mut current = Tree::default();
    current.dirs.insert("proxysql".into(), 0o755);
    current.dirs.insert("proxysql/rules".into(), 0o770);
    let dirs = [
        TreeDir::new("haproxy", 0o770),
        TreeDir::new("haproxy/services.d", 0o770),
        TreeDir::new("proxysql", 0o770),
        TreeDir::new("proxysql/users", 0o770),
        TreeDir::new("proxysql/rules", 0o770),
        // Copied trees keep 0755, also for the directory of a file in them.
        TreeDir::new("nova/tree", 0o755),
        // A missing parent takes the mode of the directory that needed it.
        TreeDir::new("x/y/z", 0o750),
        // The first mention wins.
        TreeDir::new("haproxy", 0o700),
    ];
    let files = [
        TreeFile::new("haproxy/haproxy.cfg", 0o660, "c"),
        TreeFile::new("nova/tree/file", 0o644, "f"),
    ];
    let (up, changed) = changes_of(&current, &dirs, &files).unwrap();
    assert_eq!(
        up,
        BTreeMap::from([
            ("haproxy".into(), 0o770),
            ("haproxy/services.d".into(), 0o770),
            ("nova".into(), 0o755),
            ("nova/tree".into(), 0o755),
            ("proxysql".into(), 0o770),
            ("proxysql/users".into(), 0o770),
            ("x".into(), 0o750),
            ("x/y".into(), 0o750),
            ("x/y/z".into(), 0o750),
        ])
    );
    assert_eq!(changed.len(), 2);

    // Once there, nothing is uploaded again.
    let mut done = current.clone();
    done.dirs.extend(up);
    for f in &files {
        done.files.insert(f.path.clone(), f.clone());
    }
    let (up, changed) = changes_of(&done, &dirs, &files).unwrap();
    assert!(up.is_empty() && changed.is_empty(), "{up:?} {changed:?}");
}

#[test]
fn a_file_and_a_directory_in_each_others_way_are_errors() {
    let mut current = Tree::default();
    current.dirs.insert("svc".into(), 0o770);
    current
        .files
        .insert("svc/d".into(), TreeFile::new("svc/d", 0o660, "x"));
    let err = changes_of(&current, &[TreeDir::new("svc/d/e", 0o770)], &[]).unwrap_err();
    assert!(err.contains("`svc/d` is a file"), "{err}");
    let files = [TreeFile::new("svc/d/f", 0o660, "x")];
    assert!(changes_of(&current, &[], &files).is_err());
    let files = [TreeFile::new("svc", 0o660, "x")];
    let err = changes_of(&current, &[], &files).unwrap_err();
    assert!(err.contains("`svc` is a directory"), "{err}");
    let files = [
        TreeFile::new("new", 0o660, "x"),
        TreeFile::new("new/f", 0o660, "x"),
    ];
    let err = changes_of(&Tree::default(), &[], &files).unwrap_err();
    assert!(err.contains("`new` is a directory"), "{err}");
}

#[test]
fn archives_round_trip() {
    let f = TreeFile::new("svc/deep/file.conf", 0o640, "hello");
    let dirs = BTreeMap::from([
        ("svc".into(), 0o770),
        ("svc/deep".into(), 0o770),
        ("svc/empty".into(), 0o755),
    ]);
    let bytes = build_tar(&dirs, &[&f]).unwrap();
    // The engine's archives carry the directory's basename first.
    let mut wrapped = tar::Builder::new(Vec::new());
    let mut ar = tar::Archive::new(bytes.as_slice());
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let p = format!("root/{}", e.path().unwrap().display());
        let mut h = e.header().clone();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        wrapped.append_data(&mut h, p, data.as_slice()).unwrap();
    }
    let tree = parse_tree(&wrapped.into_inner().unwrap()).unwrap();
    assert_eq!(tree.files["svc/deep/file.conf"], f);
    assert_eq!(tree.dirs, dirs);
}
