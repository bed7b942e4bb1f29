//! The host's filesystem through the engine, on real engines: `write_tree` / `read_tree`
//! (config files through a created, never started, helper container) and `run_probe` (the fact
//! probe). The test engines run on this machine, so what they write is checked on the local
//! filesystem.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use bollard::models::ContainerSummary;
use common::{engine, IMAGE_1};
use kollars_docker::{DockerError, Engine, Tree, TreeDir, TreeFile, Written, LABEL_HELPER};
use kollars_inputs::facts_text;

/// The tree `write_tree` takes, of these directories and files.
fn tree(dirs: &[TreeDir], files: &[TreeFile]) -> Tree {
    Tree::new(dirs.to_vec(), files.to_vec())
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn inode(p: &Path) -> u64 {
    std::fs::metadata(p).unwrap().ino()
}

/// Helper containers this test made that are still on the engine: those of this process
/// (`kollars_<kind>_<pid>_…`) that `mine` recognises. Tests run in parallel on the same
/// engines, so a helper of another test of this process can be alive at that moment; only a
/// test's own helpers say whether it cleaned up.
async fn helpers_left(
    e: &Engine,
    kind: &str,
    mine: impl Fn(&ContainerSummary) -> bool,
) -> Vec<String> {
    let prefix = format!("kollars_{kind}_{}_", std::process::id());
    let filters = std::collections::HashMap::from([(
        "label".to_owned(),
        vec![format!("{LABEL_HELPER}=true")],
    )]);
    e.docker()
        .list_containers(Some(bollard::query_parameters::ListContainersOptions {
            all: true,
            filters: Some(filters),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_iter()
        .filter(|c| mine(c))
        .flat_map(|c| c.names.unwrap_or_default())
        .map(|n| n.trim_start_matches('/').to_owned())
        .filter(|n| n.starts_with(&prefix))
        .collect()
}

/// A helper of `write_tree`/`read_tree` on `dir` (each test has its own directory).
fn binding(dir: &Path) -> impl Fn(&ContainerSummary) -> bool + '_ {
    move |c| {
        c.mounts
            .iter()
            .flatten()
            .any(|m| m.source.as_deref().map(Path::new) == Some(dir))
    }
}

/// A probe running `script`.
fn running(script: &str) -> impl Fn(&ContainerSummary) -> bool + '_ {
    move |c| {
        c.command
            .as_deref()
            .is_some_and(|cmd| cmd.contains(script.trim()))
    }
}

#[tokio::test]
async fn write_tree_writes_files_modes_and_only_what_changed() {
    let e = engine(0).await;
    let tmp = tempfile::tempdir().unwrap();
    // Not there yet: the engine creates it.
    let root = tmp.path().join("etc-kolla");
    let files = vec![
        TreeFile::new(
            "keystone/keystone.conf",
            0o660,
            "[DEFAULT]\ndebug = False\n",
        ),
        TreeFile::new("keystone/config.json", 0o600, "{}\n"),
        TreeFile::new("keystone/federation/oidc/a.json", 0o640, "a"),
        TreeFile::new("cron/logrotate.conf", 0o660, vec![0u8, 1, 2, 255]),
    ];
    let mut changed = e
        .write_tree(&root, &tree(&[], &files), IMAGE_1)
        .await
        .unwrap()
        .files;
    changed.sort();
    assert_eq!(
        changed,
        vec![
            "cron/logrotate.conf",
            "keystone/config.json",
            "keystone/federation/oidc/a.json",
            "keystone/keystone.conf"
        ]
    );
    for f in &files {
        let p = root.join(&f.path);
        assert_eq!(std::fs::read(&p).unwrap(), f.content, "{}", f.path);
        assert_eq!(mode(&p), f.mode, "{}", f.path);
        let m = std::fs::metadata(&p).unwrap();
        assert_eq!((m.uid(), m.gid()), (0, 0), "{}", f.path);
    }
    for d in [
        "keystone",
        "keystone/federation",
        "keystone/federation/oidc",
        "cron",
    ] {
        assert_eq!(mode(&root.join(d)), 0o770, "{d}");
    }

    // The same tree again: nothing is uploaded, files keep their inodes.
    let before = inode(&root.join("keystone/keystone.conf"));
    assert_eq!(
        e.write_tree(&root, &tree(&[], &files), IMAGE_1)
            .await
            .unwrap(),
        Written::default()
    );
    assert_eq!(inode(&root.join("keystone/keystone.conf")), before);

    // Overwrite: one content change, one mode change, one directory mode drifted.
    std::fs::set_permissions(root.join("cron"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let config_json = inode(&root.join("keystone/config.json"));
    let mut files2 = files.clone();
    files2[0].content = b"[DEFAULT]\ndebug = True\n".to_vec();
    files2[3].mode = 0o600;
    let written = e
        .write_tree(&root, &tree(&[], &files2), IMAGE_1)
        .await
        .unwrap();
    assert_eq!(written.dirs, vec!["cron"]);
    let mut changed = written.files;
    changed.sort();
    assert_eq!(
        changed,
        vec!["cron/logrotate.conf", "keystone/keystone.conf"]
    );
    assert_eq!(
        std::fs::read_to_string(root.join("keystone/keystone.conf")).unwrap(),
        "[DEFAULT]\ndebug = True\n"
    );
    assert_eq!(mode(&root.join("cron/logrotate.conf")), 0o600);
    assert_eq!(mode(&root.join("cron")), 0o770);
    assert_eq!(
        inode(&root.join("keystone/config.json")),
        config_json,
        "unchanged files are not rewritten"
    );

    // Files kollars did not write are left alone; read_tree sees everything.
    std::fs::write(root.join("keystone/operator-note"), "keep me").unwrap();
    assert_eq!(
        e.write_tree(&root, &tree(&[], &files2), IMAGE_1)
            .await
            .unwrap(),
        Written::default()
    );
    let tree = e.read_tree(&root, IMAGE_1).await.unwrap();
    assert_eq!(tree.files["keystone/operator-note"].content, b"keep me");
    assert_eq!(tree.files["keystone/keystone.conf"], files2[0]);
    assert_eq!(tree.files["cron/logrotate.conf"], files2[3]);
    assert_eq!(tree.dirs["keystone/federation"], 0o770);

    assert_eq!(
        helpers_left(&e, "helper", binding(&root)).await,
        Vec::<String>::new()
    );
}

fn ctime(p: &Path) -> (i64, i64) {
    let m = std::fs::metadata(p).unwrap();
    (m.ctime(), m.ctime_nsec())
}

#[tokio::test]
async fn write_tree_makes_declared_directories_with_their_modes() {
    let e = engine(0).await;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("etc-kolla");
    // What the catalogue renders for haproxy, proxysql and a copied tree: empty directories,
    // and 0755 for what a recursive copy creates (its files' directories included).
    let dirs = vec![
        TreeDir::new("haproxy", 0o770),
        TreeDir::new("haproxy/services.d", 0o770),
        TreeDir::new("proxysql", 0o770),
        TreeDir::new("proxysql/rules", 0o770),
        TreeDir::new("proxysql/users", 0o770),
        TreeDir::new("nova", 0o770),
        TreeDir::new("nova/copied", 0o755),
        TreeDir::new("nova/copied/sub", 0o755),
    ];
    let files = vec![
        TreeFile::new("haproxy/haproxy.cfg", 0o660, "global\n"),
        TreeFile::new("nova/copied/sub/b.conf", 0o644, "b"),
        // Not declared: its directory gets 0770.
        TreeFile::new("nova/undeclared/c.conf", 0o660, "c"),
    ];
    let written = e
        .write_tree(&root, &tree(&dirs, &files), IMAGE_1)
        .await
        .unwrap();
    assert_eq!(written.files.len(), 3, "{written:?}");
    let mut expected: Vec<(&str, u32)> = dirs.iter().map(|d| (d.path.as_str(), d.mode)).collect();
    expected.push(("nova/undeclared", 0o770));
    expected.sort();
    assert_eq!(
        written.dirs,
        expected
            .iter()
            .map(|(p, _)| p.to_string())
            .collect::<Vec<_>>()
    );
    for (d, m) in &expected {
        let p = root.join(d);
        assert!(p.is_dir(), "{d} missing");
        assert_eq!(mode(&p), *m, "{d}");
        let meta = std::fs::metadata(&p).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (0, 0), "{d}");
    }
    assert!(std::fs::read_dir(root.join("haproxy/services.d"))
        .unwrap()
        .next()
        .is_none());

    // The same tree again: nothing is uploaded, not even a directory entry (which would
    // chmod the directory and so change its ctime).
    let empty = root.join("proxysql/users");
    let before = ctime(&empty);
    assert_eq!(
        e.write_tree(&root, &tree(&dirs, &files), IMAGE_1)
            .await
            .unwrap(),
        Written::default()
    );
    assert_eq!(
        ctime(&empty),
        before,
        "an unchanged directory was rewritten"
    );

    // Drift: modes changed, an empty directory removed, an operator's own directory added.
    let chmod = |d: &str, m: u32| {
        std::fs::set_permissions(root.join(d), std::fs::Permissions::from_mode(m)).unwrap()
    };
    chmod("haproxy/services.d", 0o700);
    chmod("nova/copied", 0o770);
    chmod("nova/undeclared", 0o755);
    std::fs::remove_dir(root.join("proxysql/rules")).unwrap();
    std::fs::create_dir(root.join("haproxy/extra")).unwrap();
    chmod("haproxy/extra", 0o711);
    let written = e
        .write_tree(&root, &tree(&dirs, &files), IMAGE_1)
        .await
        .unwrap();
    assert_eq!(
        written,
        Written {
            files: vec![],
            dirs: vec![
                "haproxy/services.d".into(),
                "nova/copied".into(),
                "nova/undeclared".into(),
                "proxysql/rules".into(),
            ],
        }
    );
    for (d, m) in &expected {
        assert_eq!(mode(&root.join(d)), *m, "{d}");
    }
    assert_eq!(
        mode(&root.join("haproxy/extra")),
        0o711,
        "nobody's directory"
    );

    // A file where a declared directory must go: an error naming host, path and entry.
    std::fs::remove_dir(root.join("proxysql/users")).unwrap();
    std::fs::write(root.join("proxysql/users"), "in the way").unwrap();
    let err = e
        .write_tree(&root, &tree(&dirs, &files), IMAGE_1)
        .await
        .unwrap_err()
        .to_string();
    for needle in [e.host(), e.endpoint(), "etc-kolla", "proxysql/users"] {
        assert!(err.contains(needle), "{needle:?} missing from: {err}");
    }
    assert_eq!(
        helpers_left(&e, "helper", binding(&root)).await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn write_tree_errors_name_host_endpoint_and_path() {
    let e = engine(1).await;
    let err = e
        .write_tree(
            Path::new("relative/dir"),
            &tree(&[], &[TreeFile::new("a", 0o600, "x")]),
            IMAGE_1,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, DockerError::Transfer { .. }), "{err:?}");
    let msg = err.to_string();
    for needle in ["host2", e.endpoint(), "relative/dir"] {
        assert!(msg.contains(needle), "{needle:?} missing from: {msg}");
    }

    let tmp = tempfile::tempdir().unwrap();
    let err = e
        .write_tree(
            tmp.path(),
            &tree(&[], &[TreeFile::new("../escape", 0o600, "x")]),
            IMAGE_1,
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("..") && err.contains("host2"), "{err}");

    let err = e
        .write_tree(
            tmp.path(),
            &tree(&[], &[TreeFile::new("a", 0o600, "x")]),
            "kollars-test/no-such-image:1",
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("host2") && err.contains("no-such-image"),
        "{err}"
    );
    assert!(std::fs::read_dir(tmp.path()).unwrap().next().is_none());
}

#[tokio::test]
async fn fact_probe_gathers_the_hosts_facts() {
    let e = engine(0).await;
    let text = e
        .run_probe(IMAGE_1, facts_text::GATHER_SCRIPT, facts_text::GATHER_BINDS)
        .await
        .unwrap();
    let facts = facts_text::parse(&text).unwrap_or_else(|err| panic!("{err}:\n{text}"));
    // The engine runs on this machine: its host is this one.
    let local = kollars_inputs::facts::gather_local();
    assert!(facts["ansible_hostname"]
        .as_str()
        .is_some_and(|h| !h.is_empty()));
    assert_eq!(facts["ansible_hostname"], local["ansible_hostname"]);
    assert!(facts["ansible_processor_vcpus"].as_u64().unwrap() >= 1);
    assert!(facts["ansible_memtotal_mb"].as_u64().unwrap() > 0);
    assert_eq!(facts["ansible_lo"]["ipv4"]["address"], "127.0.0.1");
    // scripts/engines.sh runs each engine in its own network namespace (a simulated host):
    // its interfaces are that namespace's, with lo up.
    let interfaces = facts["ansible_interfaces"].as_array().unwrap();
    assert!(interfaces.iter().any(|i| i == "lo"), "{interfaces:?}");
    for i in interfaces {
        let key = format!(
            "ansible_{}",
            i.as_str().unwrap().replace(['-', '.', ':'], "_")
        );
        assert!(
            facts.contains_key(&key),
            "interface {i} listed without facts"
        );
    }
    // os-release came from the host's /etc (through the bind), not the busybox image's.
    assert_eq!(facts["ansible_distribution"], local["ansible_distribution"]);
    assert_eq!(
        facts["ansible_distribution_version"],
        local["ansible_distribution_version"]
    );
    assert_eq!(
        facts_text::timezone(&text).unwrap_or_else(|| "UTC".into()),
        kollars_docker::local_timezone()
    );
    assert_eq!(
        helpers_left(&e, "probe", running(facts_text::GATHER_SCRIPT)).await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn failing_probe_names_host_endpoint_and_exit_code() {
    let e = engine(1).await;
    let err = e
        .run_probe(IMAGE_1, "echo broken >&2; exit 3", &[])
        .await
        .unwrap_err()
        .to_string();
    for needle in ["host2", e.endpoint(), "code 3", "broken"] {
        assert!(err.contains(needle), "{needle:?} missing from: {err}");
    }
}

#[tokio::test]
async fn read_tree_changes_nothing_on_the_host() {
    let e = engine(1).await;
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("not-yet");
    let tree = e.read_tree(&missing, IMAGE_1).await.unwrap();
    assert!(tree.files.is_empty() && tree.dirs.is_empty());
    assert!(!missing.exists(), "reading must not create the directory");
    let err = e
        .read_tree(tmp.path(), "kollars-test/no-such-image:1")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("not on the host") && err.contains("host2"),
        "{err}"
    );
    assert!(e
        .image_id("kollars-test/no-such-image:1")
        .await
        .unwrap()
        .is_none());
}
