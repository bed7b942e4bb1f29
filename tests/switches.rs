//! Project switches and relative paths: what an operator turns off does not render anywhere,
//! and a relative --configdir finds the same overrides as an absolute one.

use crate::util::{copy_tree, files_under, kollars, reference, stderr};

#[test]
fn disabled_projects_render_nowhere() {
    let r = reference();
    let out = tempfile::tempdir().unwrap();
    let o = kollars([
        "genconfig",
        "-i",
        &r.join("inputs/inventory").display().to_string(),
        "--configdir",
        &r.join("inputs").display().to_string(),
        "--facts",
        &r.join("inputs/facts").display().to_string(),
        "--output",
        &out.path().display().to_string(),
        "-e",
        "enable_heat=no",
        "-e",
        "enable_horizon=false",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let files = files_under(out.path());
    assert!(!files.is_empty());
    for f in &files {
        assert!(
            !f.contains("heat") && !f.contains("horizon"),
            "disabled project rendered: {f}"
        );
    }
    assert!(files
        .iter()
        .any(|f| f == "localhost/keystone/keystone.conf"));
    let proxysql_users: Vec<_> = files
        .iter()
        .filter(|f| f.contains("proxysql/users/"))
        .collect();
    assert!(!proxysql_users.is_empty());
}

#[test]
fn relative_configdir_finds_overrides() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&reference().join("inputs"), &dir.path().join("inputs"));
    std::fs::create_dir_all(dir.path().join("inputs/config")).unwrap();
    std::fs::write(
        dir.path().join("inputs/config/global.conf"),
        "[DEFAULT]\nkollars_marker = {{ inventory_hostname }}\n",
    )
    .unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_kollars"))
        .current_dir(dir.path())
        .args([
            "genconfig",
            "-i",
            "inputs/inventory",
            "--configdir",
            "inputs",
            "--facts",
            "inputs/facts",
            "--output",
            "out",
            "-t",
            "keystone",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let conf =
        std::fs::read_to_string(dir.path().join("out/localhost/keystone/keystone.conf")).unwrap();
    assert!(conf.contains("kollars_marker = localhost"), "{conf}");
}
