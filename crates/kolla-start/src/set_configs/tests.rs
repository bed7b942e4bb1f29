//! `kolla_set_configs` on temporary roots: owners and modes are checked, so these run as root.

use std::fs;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::PathBuf;

use serde_json::json;

use super::*;
use crate::error::Error;

const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh
kolla:x:42400:42400::/:/usr/sbin/nologin
keystone:x:42425:42425::/var/lib/keystone:/usr/sbin/nologin
nova:x:42436:42436::/var/lib/nova:/usr/sbin/nologin
";
const GROUP: &str = "root:x:0:
kolla:x:42400:nova,keystone
keystone:x:42425:
nova:x:42436:
";

struct Fx {
    _dir: tempfile::TempDir,
    root: Root,
}

impl Fx {
    fn new() -> Fx {
        let dir = tempfile::tempdir().unwrap();
        let root = Root::at(dir.path());
        let fx = Fx { _dir: dir, root };
        fx.write("/etc/passwd", PASSWD);
        fx.write("/etc/group", GROUP);
        fs::create_dir_all(fx.p("/var/lib/kolla/config_files")).unwrap();
        fx
    }
    fn p(&self, path: &str) -> PathBuf {
        self.root.host(path)
    }
    fn write(&self, path: &str, text: &str) {
        let p = self.p(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }
    fn read(&self, path: &str) -> String {
        fs::read_to_string(self.p(path)).unwrap()
    }
    fn src(&self, name: &str, text: &str) {
        self.write(&format!("/var/lib/kolla/config_files/{name}"), text);
    }
    fn config(&self, v: &serde_json::Value) {
        self.src("config.json", &v.to_string());
    }
    /// `(uid, gid, mode)` without following a final symlink.
    fn stat(&self, path: &str) -> (u32, u32, u32) {
        let m = fs::symlink_metadata(self.p(path)).unwrap();
        (m.uid(), m.gid(), m.mode() & 0o7777)
    }
    fn always(&self) -> Result<Outcome, Error> {
        set_configs(&self.root, Some("COPY_ALWAYS"))
    }
    fn changed(&self) -> bool {
        check(&self.root).unwrap()
    }
}

const CFG: &str = "/var/lib/kolla/config_files";

#[test]
fn copies_files_dirs_and_globs_with_owner_and_mode() {
    let fx = Fx::new();
    fx.src("nova.conf", "[DEFAULT]\n");
    fx.src("policy.yaml", "p\n");
    fx.src("a.ini", "a");
    fx.src("b.ini", "b");
    fx.src(".hidden.ini", "h");
    fx.src("tree/top.txt", "t");
    fx.src("tree/sub/deep.txt", "d");
    fx.config(&json!({
        "command": "nova-api --config-file /etc/nova/nova.conf",
        "config_files": [
            {"source": format!("{CFG}/nova.conf"), "dest": "/etc/nova/nova.conf", "owner": "nova", "perm": "0600"},
            {"source": format!("{CFG}/policy.yaml"), "dest": "/etc/nova/", "owner": "nova:kolla", "perm": "644"},
            {"source": format!("{CFG}/*.ini"), "dest": "/etc/nova/ini/", "owner": "root", "perm": "0o640"},
            {"source": format!("{CFG}/tree"), "dest": "/etc/nova/tree", "owner": "keystone", "perm": "0640"},
            {"source": format!("{CFG}/absent*"), "dest": "/etc/x", "owner": "nova", "perm": "0600", "optional": true}
        ]
    }));
    assert_eq!(fx.always().unwrap(), Outcome::Applied);
    assert_eq!(fx.read("/etc/nova/nova.conf"), "[DEFAULT]\n");
    assert_eq!(fx.stat("/etc/nova/nova.conf"), (42436, 42436, 0o600));
    assert_eq!(
        fx.stat("/etc/nova/policy.yaml"),
        (42436, 42400, 0o644),
        "644 is octal"
    );
    assert_eq!(fx.read("/etc/nova/ini/a.ini"), "a");
    assert_eq!(fx.stat("/etc/nova/ini/b.ini"), (0, 0, 0o640));
    assert!(
        !fx.p("/etc/nova/ini/.hidden.ini").exists(),
        "* skips dot-files"
    );
    assert_eq!(
        fx.stat("/etc/nova/tree"),
        (42425, 42425, 0o750),
        "dirs get x where r"
    );
    assert_eq!(fx.stat("/etc/nova/tree/sub"), (42425, 42425, 0o750));
    assert_eq!(
        fx.stat("/etc/nova/tree/sub/deep.txt"),
        (42425, 42425, 0o640)
    );
    assert!(!fx.p("/etc/x").exists());
    assert_eq!(
        fx.read("/run_command"),
        "nova-api --config-file /etc/nova/nova.conf"
    );
    assert_eq!(fx.stat("/run_command"), (0, 0, 0o644));
    assert!(
        !fx.changed(),
        "a fresh copy checks clean (no false positives)"
    );
}

#[test]
fn check_reports_changes_and_nothing_else() {
    let fx = Fx::new();
    fx.src("a.conf", "one");
    fx.src("dir/sub/x", "x");
    fx.src("extras/e1", "e");
    fs::set_permissions(
        fx.p(&format!("{CFG}/extras/e1")),
        fs::Permissions::from_mode(0o604),
    )
    .unwrap();
    let cfg = |command: &str| {
        json!({
            "command": command,
            "config_files": [
                {"source": format!("{CFG}/a.conf"), "dest": "/etc/a.conf", "owner": "nova", "perm": "640"},
                {"source": format!("{CFG}/dir"), "dest": "/etc/dir", "owner": "nova", "perm": "0o600"},
                {"source": format!("{CFG}/extras/*"), "dest": "/etc/extras/", "preserve_properties": true}
            ]
        })
    };
    fx.config(&cfg("svc"));
    fx.always().unwrap();
    assert_eq!(
        fx.stat("/etc/extras/e1").2,
        0o604,
        "preserve_properties keeps the mode"
    );
    assert!(
        !fx.changed(),
        "3-digit perm, sub-directories and preserve_properties check clean"
    );

    fx.src("a.conf", "two");
    assert!(fx.changed(), "content change");
    fx.always().unwrap();
    assert!(!fx.changed());

    fs::set_permissions(fx.p("/etc/a.conf"), fs::Permissions::from_mode(0o644)).unwrap();
    assert!(fx.changed(), "mode change");
    fx.always().unwrap();
    std::os::unix::fs::chown(fx.p("/etc/dir/sub"), Some(0), Some(0)).unwrap();
    assert!(fx.changed(), "owner of a sub-directory");
    fx.always().unwrap();
    fx.write("/etc/dir/stray", "s");
    assert!(fx.changed(), "a file left in a replaced directory");
    fx.always().unwrap();
    assert!(!fx.p("/etc/dir/stray").exists());
    assert!(!fx.changed());

    fx.config(&cfg("svc --debug"));
    assert!(fx.changed(), "command change");
    fx.always().unwrap();
    assert!(!fx.changed());
    fs::remove_file(fx.p("/run_command")).unwrap();
    assert!(fx.changed(), "never configured");
}

#[test]
fn copy_once_keeps_the_first_copy() {
    let fx = Fx::new();
    fx.src("k.conf", "first");
    fx.config(&json!({"command": "keystone", "config_files": [
        {"source": format!("{CFG}/k.conf"), "dest": "/etc/keystone/k.conf", "owner": "keystone", "perm": "0600"}]}));
    assert_eq!(
        set_configs(&fx.root, Some("COPY_ONCE")).unwrap(),
        Outcome::Applied
    );
    assert_eq!(fx.stat("/configured"), (0, 0, 0o600));
    fx.src("k.conf", "second");
    fx.config(&json!({"command": "keystone --changed", "config_files": [
        {"source": format!("{CFG}/k.conf"), "dest": "/etc/keystone/k.conf", "owner": "keystone", "perm": "0600"}]}));
    assert_eq!(
        set_configs(&fx.root, Some("COPY_ONCE")).unwrap(),
        Outcome::Immutable
    );
    assert_eq!(fx.read("/etc/keystone/k.conf"), "first");
    assert_eq!(fx.read("/run_command"), "keystone");
    // COPY_ALWAYS on the same container applies the new config.
    fx.always().unwrap();
    assert_eq!(fx.read("/etc/keystone/k.conf"), "second");
}

#[test]
fn strategy_must_be_set() {
    let fx = Fx::new();
    fx.config(&json!({"command": "x"}));
    for bad in [None, Some(""), Some("copy_always")] {
        let e = set_configs(&fx.root, bad).unwrap_err();
        assert!(matches!(e, Error::Strategy(_)), "{e}");
    }
    assert!(!fx.p("/run_command").exists());
}

/// Each bad config fails naming the entry, before anything is written.
#[test]
fn bad_input_fails_before_copying_anything() {
    let fx = Fx::new();
    fx.src("ok.conf", "ok");
    let good = json!({"source": format!("{CFG}/ok.conf"), "dest": "/etc/ok.conf", "owner": "nova", "perm": "0600"});
    let cases: Vec<(serde_json::Value, &str)> = vec![
        (
            json!({"source": format!("{CFG}/ok.conf"), "dest": "/etc/b", "owner": "nova", "perm": "0600", "mode": "x"}),
            "unknown field `mode`",
        ),
        (
            json!({"source": format!("{CFG}/missing.conf"), "dest": "/etc/b", "owner": "nova", "perm": "0600"}),
            "missing.conf file is not found",
        ),
        (
            json!({"source": format!("{CFG}/ok.conf"), "dest": "/etc/b", "owner": "glance", "perm": "0600"}),
            "unknown user \"glance\"",
        ),
        (
            json!({"source": format!("{CFG}/ok.conf"), "dest": "/etc/b", "owner": "nova:wheel", "perm": "0600"}),
            "unknown group \"wheel\"",
        ),
        (
            json!({"source": format!("{CFG}/ok.conf"), "dest": "/etc/b", "owner": "nova", "perm": "0x600"}),
            "bad perm \"0x600\"",
        ),
        (
            json!({"source": format!("{CFG}/ok.conf"), "dest": "/etc/b", "owner": "nova", "perm": 420}),
            "perm must be a string",
        ),
        (
            json!({"source": format!("{CFG}/ok.conf"), "dest": "/etc/b", "owner": "nova"}),
            "missing field `perm`",
        ),
        (
            json!({"source": format!("{CFG}/ok.conf"), "dest": "etc/b", "owner": "nova", "perm": "0600"}),
            "absolute path",
        ),
        (
            json!({"source": format!("{CFG}/ok.conf"), "dest": "/etc/b", "owner": "nova", "perm": "0600", "optional": "maybe"}),
            "expected a boolean",
        ),
    ];
    for (bad, want) in cases {
        fx.config(&json!({"command": "x", "config_files": [good.clone(), bad]}));
        let e = fx.always().unwrap_err().to_string();
        assert!(
            e.contains("config_files[1]") && e.contains(want),
            "{e:?} should name config_files[1] and say {want:?}"
        );
        assert!(!fx.p("/etc/ok.conf").exists(), "nothing copied for {want}");
        assert!(!fx.p("/run_command").exists());
    }
    let perm_cases = vec![
        (
            json!({"command": "x", "permissions": [{"path": "/var/log", "owner": "nobody"}]}),
            "permissions[0]",
        ),
        (
            json!({"command": "x", "permissions": [{"path": "/var/log", "owner": "nova", "exclude": ["("]}]}),
            "bad exclude pattern",
        ),
        (
            json!({"command": "x", "directories": [{"path": "/var/*", "owner": "nova", "perm": "0755"}]}),
            "glob",
        ),
        (
            json!({"command": "x", "files": [{"path": "/no/such/dir/f", "owner": "nova", "perm": "0644"}]}),
            "parent directory",
        ),
        (json!({"command": 3}), "command: must be a string"),
        (json!({"config_files": []}), "missing required \"command\""),
        (
            json!({"command": "x", "config_files": {}}),
            "must be a list",
        ),
    ];
    for (cfg, want) in perm_cases {
        fx.config(&cfg);
        let e = fx.always().unwrap_err().to_string();
        assert!(e.contains(want), "{e:?} should say {want:?}");
    }
    fx.src("config.json", "{\"command\": \"x\",");
    assert!(matches!(
        fx.always(),
        Err(Error::Parse { format: "json", .. })
    ));
    fs::remove_file(fx.p(&format!("{CFG}/config.json"))).unwrap();
    let e = fx.always().unwrap_err().to_string();
    assert!(
        e.contains("Could not read file /var/lib/kolla/config_files/config.json"),
        "{e}"
    );
}

#[test]
fn yaml_config_wins_and_flags_mean_what_they_say() {
    let fx = Fx::new();
    fx.config(&json!({"command": "from-json"}));
    fx.src("config.yaml", "command: from-yaml\nconfig_files:\n  - source: /var/lib/kolla/config_files/none\n    dest: /etc/none\n    owner: nova\n    perm: '0600'\n    optional: \"true\"\n");
    fx.always().unwrap();
    assert_eq!(fx.read("/run_command"), "from-yaml");
    fx.src("config.yaml", "command: y\nconfig_files:\n  - source: /var/lib/kolla/config_files/none\n    dest: /etc/none\n    owner: nova\n    perm: '0600'\n    optional: \"false\"\n");
    assert!(
        matches!(fx.always(), Err(Error::MissingSource { .. })),
        "\"false\" is false"
    );
    fx.src("config.yaml", "");
    assert!(matches!(
        fx.always(),
        Err(Error::Parse { format: "yaml", .. })
    ));
}

#[test]
fn permissions_recurse_with_excludes_and_without_following_symlinks() {
    let fx = Fx::new();
    fx.write("/var/lib/nova/instances/a", "a");
    fx.write("/var/lib/nova/keep/b", "b");
    fx.write("/var/lib/nova/skip.lock", "l");
    fx.write("/var/lib/nova/c", "c");
    fx.write("/outside/secret", "s");
    symlink(fx.p("/outside/secret"), fx.p("/var/lib/nova/link")).unwrap();
    symlink(fx.p("/outside"), fx.p("/var/lib/nova/dirlink")).unwrap();
    fx.config(&json!({"command": "x", "permissions": [
        {"path": "/var/lib/nova", "owner": "nova:kolla", "perm": "0640", "recurse": true,
         "exclude": ["^/var/lib/nova/keep", "\\.lock$"]},
        {"path": "/var/lib/absent", "owner": "nova"}
    ]}));
    fx.always().unwrap();
    assert_eq!(fx.stat("/var/lib/nova"), (42436, 42400, 0o750));
    assert_eq!(fx.stat("/var/lib/nova/instances"), (42436, 42400, 0o750));
    assert_eq!(fx.stat("/var/lib/nova/instances/a"), (42436, 42400, 0o640));
    assert_eq!(fx.stat("/var/lib/nova/c"), (42436, 42400, 0o640));
    assert_eq!(fx.stat("/var/lib/nova/keep").0, 0, "first pattern excludes");
    assert_eq!(
        fx.stat("/var/lib/nova/keep/b").0,
        0,
        "first pattern excludes children too"
    );
    assert_eq!(
        fx.stat("/var/lib/nova/skip.lock").0,
        0,
        "second pattern excludes"
    );
    assert_eq!(
        fx.stat("/outside/secret"),
        (0, 0, 0o644),
        "symlink target untouched"
    );
    assert_eq!(fx.stat("/outside").0, 0);
    assert_eq!(
        fx.stat("/var/lib/nova/link").0,
        42436,
        "the link itself is chowned"
    );
}

#[test]
fn directories_and_files_sections() {
    let fx = Fx::new();
    fx.write("/var/log/kolla/nova/existing.log", "keep me");
    fx.config(&json!({"command": "x",
        "directories": [{"path": "/var/log/kolla/nova", "owner": "nova:kolla", "perm": "2775"},
                        {"path": "/var/lib/nova/new/deep", "owner": "nova", "perm": "0700"}],
        "files": [{"path": "/var/log/kolla/nova/existing.log", "owner": "nova", "perm": "0640"},
                  {"path": "/var/lib/nova/new/deep/f", "owner": "nova", "perm": "0600"}]}));
    fx.always().unwrap();
    assert_eq!(fx.stat("/var/log/kolla/nova"), (42436, 42400, 0o2775));
    assert_eq!(fx.stat("/var/lib/nova/new/deep"), (42436, 42436, 0o700));
    assert_eq!(fx.stat("/var/lib/nova/new").0, 0, "new parents stay root's");
    assert_eq!(
        fx.read("/var/log/kolla/nova/existing.log"),
        "keep me",
        "never truncated"
    );
    assert_eq!(
        fx.stat("/var/log/kolla/nova/existing.log"),
        (42436, 42436, 0o640)
    );
    assert_eq!(fx.stat("/var/lib/nova/new/deep/f"), (42436, 42436, 0o600));
}

#[test]
fn a_symlink_at_the_dest_is_replaced_not_written_through() {
    let fx = Fx::new();
    fx.write("/outside/target", "precious");
    fs::create_dir_all(fx.p("/etc/svc")).unwrap();
    symlink(fx.p("/outside/target"), fx.p("/etc/svc/svc.conf")).unwrap();
    fx.src("svc.conf", "new");
    fx.config(&json!({"command": "x", "config_files": [
        {"source": format!("{CFG}/svc.conf"), "dest": "/etc/svc/svc.conf", "owner": "nova", "perm": "0600"}]}));
    fx.always().unwrap();
    assert!(fs::symlink_metadata(fx.p("/etc/svc/svc.conf"))
        .unwrap()
        .is_file());
    assert_eq!(fx.read("/etc/svc/svc.conf"), "new");
    assert_eq!(fx.read("/outside/target"), "precious");
    assert_eq!(fx.stat("/outside/target").0, 0);
}

#[test]
fn merge_keeps_what_is_there_and_replace_does_not() {
    let fx = Fx::new();
    fx.src("d/new.conf", "n");
    fx.write("/etc/m/old.conf", "o");
    fx.write("/etc/r/old.conf", "o");
    fx.config(&json!({"command": "x", "config_files": [
        {"source": format!("{CFG}/d"), "dest": "/etc/m", "owner": "nova", "perm": "0600", "merge": true},
        {"source": format!("{CFG}/d"), "dest": "/etc/r", "owner": "nova", "perm": "0600"}]}));
    fx.always().unwrap();
    assert_eq!(fx.read("/etc/m/old.conf"), "o");
    assert_eq!(fx.read("/etc/m/new.conf"), "n");
    assert!(!fx.p("/etc/r/old.conf").exists());
    assert_eq!(fx.read("/etc/r/new.conf"), "n");
    assert!(!fx.changed(), "files merged into a dir are not a change");
}

#[test]
fn merge_preserve_copies_symlinks_as_links() {
    let fx = Fx::new();
    fx.src("d/real", "r");
    symlink("real", fx.p(&format!("{CFG}/d/alias"))).unwrap();
    fx.config(&json!({"command": "x", "config_files": [
        {"source": format!("{CFG}/d"), "dest": "/etc/d", "merge": true, "preserve_properties": true},
        {"source": format!("{CFG}/d/alias"), "dest": "/etc/deref", "owner": "nova", "perm": "0600"}]}));
    fx.always().unwrap();
    assert_eq!(
        fs::read_link(fx.p("/etc/d/alias")).unwrap(),
        PathBuf::from("real")
    );
    assert!(
        fs::symlink_metadata(fx.p("/etc/deref")).unwrap().is_file(),
        "followed otherwise"
    );
    assert_eq!(fx.read("/etc/deref"), "r");
    assert!(!fx.changed());
}

/// kolla's state flipped on every start and lost the image default on the third; here the
/// default survives any number of starts, is restored when the entry leaves the config, and
/// the entry is then forgotten so `--check` stops reporting a mismatch.
#[test]
fn image_defaults_are_kept_and_restored() {
    let fx = Fx::new();
    fx.write("/etc/svc/svc.conf", "image default");
    fx.src("svc.conf", "deployed");
    fx.src("extra.conf", "extra");
    let both = json!({"command": "x", "config_files": [
        {"source": format!("{CFG}/svc.conf"), "dest": "/etc/svc/svc.conf", "owner": "nova", "perm": "0600"},
        {"source": format!("{CFG}/extra.conf"), "dest": "/etc/svc/extra.conf", "owner": "nova", "perm": "0600"}]});
    fx.config(&both);
    for _ in 0..4 {
        fx.always().unwrap();
        assert_eq!(fx.read("/etc/svc/svc.conf"), "deployed");
        assert_eq!(
            fx.read("/etc/kolla/defaults/etc/svc/svc.conf"),
            "image default"
        );
    }
    let state = fx.read("/etc/kolla/defaults/state");
    assert!(
        state.contains("\"source\": \"/etc/svc/svc.conf\""),
        "kolla's format: {state}"
    );
    assert!(
        state.contains("\"dest\": \"/etc/kolla/defaults/etc/svc/svc.conf\""),
        "{state}"
    );
    assert!(
        state.contains("\"dest\": null") && !state.ends_with('\n'),
        "{state}"
    );
    assert!(!fx.changed());

    fx.config(&json!({"command": "x"}));
    assert!(fx.changed(), "a file left the config");
    fx.always().unwrap();
    assert_eq!(fx.read("/etc/svc/svc.conf"), "image default");
    assert!(
        !fx.p("/etc/svc/extra.conf").exists(),
        "no image default: deleted"
    );
    assert!(!fx.changed(), "the state was pruned");
    assert_eq!(fx.read("/etc/kolla/defaults/state"), "{}");
}

#[test]
fn reads_state_in_kollas_swapped_orientation() {
    let fx = Fx::new();
    fx.write("/etc/svc/svc.conf", "deployed");
    fx.write("/etc/kolla/defaults/etc/svc/svc.conf", "image default");
    // What kolla leaves after an even number of starts: source and dest swapped.
    fx.write(
        "/etc/kolla/defaults/state",
        r#"{"/etc/svc/svc.conf": {"source": "/etc/kolla/defaults/etc/svc/svc.conf", "preserve_properties": true, "dest": "/etc/svc/svc.conf"}}"#,
    );
    fx.config(&json!({"command": "x"}));
    fx.always().unwrap();
    assert_eq!(fx.read("/etc/svc/svc.conf"), "image default");
}
