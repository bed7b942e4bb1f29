//! `copy:` entries carry bytes, not text: a binary file (a PNG logo in a horizon theme, a
//! binary keyring) reaches `/etc/kolla/<service>/` byte for byte with its mode, written
//! locally (`genconfig --output`, a local engine's host) or through an engine, and `plan`
//! shows one line for a binary file that differs where it shows a unified diff for text.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::util::{
    engines, ensure_images, kollars, root, site_inputs, site_inventory, stderr, IMAGE_NAMESPACE,
    IMAGE_TAG,
};

/// A project with a copied theme directory and a single copied file, both holding binary
/// files.
const PROJECT: &str = r#"
order: 99
after: []
services:
  copydemo:
    container_name: copydemo
    group: copydemo
    enabled: true
    image: "{{ docker_image_url }}cron:{{ openstack_tag }}"
    volumes: ["{{ node_config_directory }}/copydemo/:{{ container_config_directory }}/:ro"]
    dimensions: {}
    config:
      - dest: config.json
        json: { command: sleep, config_files: [] }
      - dest: themes/custom
        copy: copydemo/theme
      - dest: keyring.gpg
        copy: copydemo/keyring.gpg
        mode: "0600"
"#;

/// Not UTF-8: a PNG header, then bytes no UTF-8 text holds.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\xff\xfe\xff\x00\xc3\x28";

/// A binary keyring: every byte value.
fn keyring() -> Vec<u8> {
    (0..=255u8).rev().collect()
}

/// The operator's files: (path under the service directory, content, mode).
fn expected() -> Vec<(&'static str, Vec<u8>, u32)> {
    vec![
        ("keyring.gpg", keyring(), 0o600),
        ("themes/custom/img/logo.png", PNG.to_vec(), 0o660),
        ("themes/custom/notes.txt", b"plain text\n".to_vec(), 0o660),
        ("themes/custom/theme.css", b"body {}\n".to_vec(), 0o660),
    ]
}

struct Site {
    dir: tempfile::TempDir,
}

impl Site {
    /// `hosts`: (name, engine endpoint, extra host variables), all in group `copydemo`.
    fn new(hosts: &[(&str, &str, &str)]) -> Site {
        let dir = tempfile::tempdir().unwrap();
        let names: Vec<&str> = hosts.iter().map(|(h, _, _)| *h).collect();
        site_inputs(
            dir.path(),
            &names,
            &format!(
                "kolla_base_distro: debian\ndocker_registry: \"\"\ndocker_namespace: {IMAGE_NAMESPACE}\n\
                 openstack_tag: {IMAGE_TAG}\nnetwork_interface: lo\n\
                 kolla_internal_vip_address: 127.0.0.1\n"
            ),
        );
        site_inventory(dir.path(), "copydemo", hosts, &[]);
        // The real catalogue (symlinks to this tree's services/ and templates/) plus PROJECT.
        let data = dir.path().join("data");
        let services = data.join("services");
        std::fs::create_dir_all(&services).unwrap();
        std::os::unix::fs::symlink(root().join("templates"), data.join("templates")).unwrap();
        for e in std::fs::read_dir(root().join("services")).unwrap() {
            let e = e.unwrap();
            std::os::unix::fs::symlink(e.path(), services.join(e.file_name())).unwrap();
        }
        std::fs::write(services.join("copydemo.yml"), PROJECT).unwrap();
        // node_custom_config is <configdir>/config.
        let custom = dir.path().join("config/config/copydemo");
        for (path, content, _) in expected() {
            let src = match path.strip_prefix("themes/custom/") {
                Some(rest) => custom.join("theme").join(rest),
                None => custom.join(path),
            };
            std::fs::create_dir_all(src.parent().unwrap()).unwrap();
            std::fs::write(src, content).unwrap();
        }
        Site { dir }
    }

    fn etc(&self, host: &str) -> PathBuf {
        self.dir.path().join(format!("etc-{host}"))
    }

    fn run(&self, cmd: &str, extra: &[&str]) -> Output {
        let d = self.dir.path();
        let mut a: Vec<String> = vec![
            cmd.into(),
            "-i".into(),
            d.join("inventory").display().to_string(),
            "--configdir".into(),
            d.join("config").display().to_string(),
            "--facts".into(),
            d.join("facts").display().to_string(),
            "--data-dir".into(),
            d.join("data").display().to_string(),
            "-t".into(),
            "copydemo".into(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        kollars(a)
    }

    fn ok(&self, cmd: &str, extra: &[&str]) -> String {
        let o = self.run(cmd, extra);
        assert!(
            o.status.success(),
            "kollars {cmd} failed ({:?}): {}\n{}",
            o.status.code(),
            stderr(&o),
            String::from_utf8_lossy(&o.stdout)
        );
        format!("{}{}", String::from_utf8_lossy(&o.stdout), stderr(&o))
    }
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o7777
}

/// Asserts the copied files under a service directory are the operator's, byte for byte,
/// with their modes.
fn assert_copied(svc: &Path, what: &str) {
    for (path, content, m) in expected() {
        let p = svc.join(path);
        let got = std::fs::read(&p).unwrap_or_else(|e| panic!("{what}: {}: {e}", p.display()));
        assert!(got == content, "{what}: {path}: {got:?} != {content:?}");
        assert_eq!(mode(&p), m, "{what}: {path}");
    }
    for d in ["themes", "themes/custom", "themes/custom/img"] {
        assert_eq!(mode(&svc.join(d)), 0o755, "{what}: {d}");
    }
}

#[test]
fn genconfig_output_copies_binary_files_byte_for_byte() {
    let site = Site::new(&[("node1", "unix:///nonexistent.sock", "")]);
    let out = site.dir.path().join("out");
    let log = site.ok("genconfig", &["--output", &out.display().to_string()]);
    assert!(log.contains("(5 changed)"), "{log}");
    assert_copied(&out.join("node1/copydemo"), "--output");
    // Written again: the bytes compare equal, nothing changes.
    let log = site.ok("genconfig", &["--output", &out.display().to_string()]);
    assert!(log.contains("(0 changed)"), "{log}");
}

/// Every host's `copydemo` config diffs from `plan --output json`, by host.
fn plan_diffs(site: &Site) -> std::collections::BTreeMap<String, Vec<String>> {
    let plan = site.ok("plan", &["--output", "json"]);
    let mut out = std::collections::BTreeMap::new();
    for line in plan.lines().filter(|l| l.starts_with('{')) {
        let j: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(j["service"], "copydemo", "{line}");
        let diffs = j["diffs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap().to_string())
            .collect();
        out.insert(j["host"].as_str().unwrap().to_string(), diffs);
    }
    out
}

#[test]
fn binary_files_through_engines_and_in_plan() {
    let engines = engines();
    for e in &engines[..2] {
        ensure_images(e, &["kolla-toolbox"]);
    }
    // node1 is written on this machine's filesystem, node2 through its engine.
    let site = Site::new(&[
        ("node1", &engines[0], ""),
        ("node2", &engines[1], "kollars_config_transfer=engine"),
    ]);
    let log = site.ok("genconfig", &[]);
    assert!(log.contains("(10 changed)"), "{log}");
    for h in ["node1", "node2"] {
        assert_copied(&site.etc(h).join("copydemo"), h);
    }
    // Identical bytes are no change, for plan (reading the host's files) as for writing.
    for (h, diffs) in plan_diffs(&site) {
        assert!(diffs.is_empty(), "{h}: {diffs:?}");
    }
    let log = site.ok("genconfig", &[]);
    assert!(log.contains("(0 changed)"), "{log}");

    // On each host: a binary file with other bytes, a binary file turned text, a text file
    // turned binary, and a text file edited.
    for h in ["node1", "node2"] {
        let svc = site.etc(h).join("copydemo");
        std::fs::write(svc.join("themes/custom/img/logo.png"), b"\x89PNG\xff other").unwrap();
        std::fs::write(svc.join("keyring.gpg"), "now text\n").unwrap();
        std::fs::write(svc.join("themes/custom/notes.txt"), b"\xff\xfe").unwrap();
        std::fs::write(svc.join("themes/custom/theme.css"), "body { color: red }\n").unwrap();
    }
    let all = plan_diffs(&site);
    assert_eq!(all.len(), 2, "{all:?}");
    for (h, diffs) in all {
        let svc = site.etc(&h).join("copydemo");
        let binary = |p: &str| format!("binary file {} differs\n", svc.join(p).display());
        assert_eq!(diffs.len(), 4, "{h}: {diffs:?}");
        assert_eq!(diffs[0], binary("keyring.gpg"), "{h}");
        assert_eq!(diffs[1], binary("themes/custom/img/logo.png"), "{h}");
        assert_eq!(diffs[2], binary("themes/custom/notes.txt"), "{h}");
        // text stays a unified diff
        let css = svc.join("themes/custom/theme.css").display().to_string();
        assert!(
            diffs[3].starts_with(&format!("--- {css}")),
            "{h}: {}",
            diffs[3]
        );
        assert!(
            diffs[3].contains("\n-body { color: red }\n+body {}\n"),
            "{h}: {}",
            diffs[3]
        );
    }
    // The text plan prints the same line.
    let plan = site.ok("plan", &[]);
    assert!(
        plan.contains(&format!(
            "binary file {} differs\n",
            site.etc("node2")
                .join("copydemo/themes/custom/img/logo.png")
                .display()
        )),
        "{plan}"
    );

    // genconfig puts every byte back; then plan shows nothing.
    let log = site.ok("genconfig", &[]);
    assert!(log.contains("(8 changed)"), "{log}");
    for h in ["node1", "node2"] {
        assert_copied(&site.etc(h).join("copydemo"), h);
    }
    for (h, diffs) in plan_diffs(&site) {
        assert!(diffs.is_empty(), "{h}: {diffs:?}");
    }
}
