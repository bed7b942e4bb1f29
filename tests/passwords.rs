//! `kollars genpwd` and `kollars mergepwd`, run as the real binary on temporary files.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_yaml::{Mapping, Value};

use crate::util::{files_under, kollars, stderr, SmallDisk};

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
}

fn read(path: &Path) -> Mapping {
    match serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap() {
        Value::Mapping(m) => m,
        other => panic!("not a mapping: {other:?}"),
    }
}

fn get<'a>(m: &'a Mapping, key: &str) -> &'a Value {
    m.get(key).unwrap_or_else(|| panic!("{key} missing"))
}

fn s<'a>(m: &'a Mapping, key: &str) -> &'a str {
    get(m, key)
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string"))
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

fn is_uuid4(v: &str) -> bool {
    let parts: Vec<&str> = v.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && v.chars()
            .all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        && parts[2].starts_with('4')
        && matches!(parts[3].chars().next(), Some('8' | '9' | 'a' | 'b'))
}

const TEMPLATE: &str = "\
keystone_admin_password:
database_password: ''
rabbitmq_password: keep-me
rbd_secret_uuid:
designate_rndc_key:
osprofiler_secret:
barbican_crypto_key:
prometheus_bcrypt_salt:
docker_registry_password:
nova_ssh_key:
  private_key:
  public_key:
keystone_ssh_key:
  private_key: existing-private
  public_key: existing-public
";

#[test]
fn genpwd_fills_only_empty_keys_with_the_right_kinds() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("passwords.yml");
    write(&p, TEMPLATE);
    let out = kollars(["genpwd", "-p", p.to_str().unwrap()]);
    assert!(out.status.success(), "genpwd failed: {}", stderr(&out));
    assert_eq!(mode(&p), 0o640, "passwords.yml must be 0640");
    let m = read(&p);

    for key in ["keystone_admin_password", "database_password"] {
        let v = s(&m, key);
        assert_eq!(v.len(), 40, "{key}: {v}");
        assert!(v.chars().all(|c| c.is_ascii_alphanumeric()), "{key}: {v}");
    }
    assert_ne!(s(&m, "keystone_admin_password"), s(&m, "database_password"));
    assert_eq!(s(&m, "rabbitmq_password"), "keep-me");
    assert!(
        is_uuid4(s(&m, "rbd_secret_uuid")),
        "{}",
        s(&m, "rbd_secret_uuid")
    );
    for key in ["designate_rndc_key", "osprofiler_secret"] {
        let v = s(&m, key);
        assert_eq!(v.len(), 32, "{key}: {v}");
        assert!(v.chars().all(|c| c.is_ascii_hexdigit()), "{key}: {v}");
    }
    let fernet = s(&m, "barbican_crypto_key");
    assert_eq!(fernet.len(), 44, "{fernet}");
    assert!(fernet.ends_with('='));
    assert!(fernet[..43]
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    let salt = s(&m, "prometheus_bcrypt_salt");
    assert_eq!(salt.len(), 22, "{salt}");
    assert!(get(&m, "docker_registry_password").is_null());

    let nova = get(&m, "nova_ssh_key").as_mapping().unwrap();
    let private = s(nova, "private_key");
    let public = s(nova, "public_key");
    assert!(
        private.starts_with("-----BEGIN PRIVATE KEY-----"),
        "{private}"
    );
    assert!(private.trim_end().ends_with("-----END PRIVATE KEY-----"));
    assert!(public.starts_with("ssh-rsa AAAA"), "{public}");
    assert!(!public.contains('\n'));
    let keystone = get(&m, "keystone_ssh_key").as_mapping().unwrap();
    assert_eq!(s(keystone, "private_key"), "existing-private");
    assert_eq!(s(keystone, "public_key"), "existing-public");

    // a second run changes nothing: every key has a value now
    let before = std::fs::read_to_string(&p).unwrap();
    let out = kollars(["genpwd", "-p", p.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&p).unwrap(), before);
}

#[test]
fn genpwd_missing_or_malformed_file_fails() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("nope.yml");
    let out = kollars(["genpwd", "-p", p.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("missing"), "{}", stderr(&out));
    write(&p, "- a list\n");
    let out = kollars(["genpwd", "-p", p.to_str().unwrap()]);
    assert!(!out.status.success());
    assert_eq!(std::fs::read_to_string(&p).unwrap(), "- a list\n");
}

fn merge(old: &str, new: &str, clean: bool) -> (Mapping, u32) {
    let dir = tempfile::tempdir().unwrap();
    let (o, n, f) = (
        dir.path().join("old.yml"),
        dir.path().join("new.yml"),
        dir.path().join("final.yml"),
    );
    write(&o, old);
    write(&n, new);
    let mut args = vec![
        "mergepwd".to_string(),
        "--old".into(),
        o.display().to_string(),
        "--new".into(),
        n.display().to_string(),
        "--final".into(),
        f.display().to_string(),
    ];
    if clean {
        args.push("--clean".into());
    }
    let out = kollars(&args);
    assert!(out.status.success(), "mergepwd failed: {}", stderr(&out));
    (read(&f), mode(&f))
}

const OLD: &str = "a: old-a\ngone: old-gone\nredis_master_password: r3dis\n";
const NEW: &str = "a:\nb:\nvalkey_master_password:\n";

#[test]
fn mergepwd_keeps_old_values_and_old_keys() {
    let (m, mode) = merge(OLD, NEW, false);
    assert_eq!(mode, 0o640);
    assert_eq!(s(&m, "a"), "old-a");
    assert!(get(&m, "b").is_null());
    assert_eq!(s(&m, "gone"), "old-gone");
    assert_eq!(s(&m, "redis_master_password"), "r3dis");
    assert_eq!(s(&m, "valkey_master_password"), "r3dis");
}

#[test]
fn mergepwd_clean_keeps_only_template_keys() {
    let (m, mode) = merge(OLD, NEW, true);
    assert_eq!(mode, 0o640);
    assert_eq!(s(&m, "a"), "old-a");
    assert!(get(&m, "b").is_null());
    assert!(m.get("gone").is_none());
    assert!(m.get("redis_master_password").is_none());
    assert_eq!(s(&m, "valkey_master_password"), "r3dis");
    assert_eq!(m.len(), 3);
}

/// 36 passwords set and 18 empty, padded to just under one page (4 KiB): the file genpwd or
/// mergepwd writes from it (18 passwords longer) needs a second page.
fn one_page_of_passwords() -> String {
    let mut text = String::new();
    for i in 0..36 {
        text += &format!("set_{i:02}_password: {i:02}{}\n", "s".repeat(38));
    }
    for i in 0..18 {
        text += &format!("empty_{i:02}_password:\n");
    }
    let pad = 4000 - text.len() - "padding: \n".len();
    text += &format!("padding: {}\n", "p".repeat(pad));
    assert_eq!(text.len(), 4000);
    text
}

#[test]
fn genpwd_on_a_full_disk_loses_no_password() {
    let Some(disk) = SmallDisk::mount(64) else {
        return;
    };
    let p = disk.path().join("passwords.yml");
    let text = one_page_of_passwords();
    write(&p, &text);
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    disk.fill();
    let out = kollars(["genpwd", "-p", p.to_str().unwrap()]);
    assert!(!out.status.success(), "genpwd wrote on a full disk");
    let err = stderr(&out);
    assert!(err.contains(&p.display().to_string()), "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&p).unwrap(),
        text,
        "passwords.yml changed"
    );
    assert_eq!(mode(&p), 0o600);
    assert_eq!(
        files_under(disk.path()),
        ["filler", "passwords.yml"],
        "a file left behind"
    );

    // with room again, it fills the empty keys and keeps the file's own mode
    std::fs::remove_file(disk.path().join("filler")).unwrap();
    let out = kollars(["genpwd", "-p", p.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let m = read(&p);
    assert_eq!(s(&m, "set_07_password"), format!("07{}", "s".repeat(38)));
    assert_eq!(s(&m, "empty_07_password").len(), 40);
    assert_eq!(mode(&p), 0o600, "genpwd widened a 0600 passwords file");
    assert_eq!(files_under(disk.path()), ["passwords.yml"]);
}

#[test]
fn mergepwd_on_a_full_disk_keeps_the_final_file() {
    let Some(disk) = SmallDisk::mount(64) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (dir.path().join("old.yml"), dir.path().join("new.yml"));
    let full: String = one_page_of_passwords()
        .lines()
        .map(|l| match l.strip_suffix(':') {
            Some(k) => format!("{k}: {}\n", "n".repeat(40)),
            None => format!("{l}\n"),
        })
        .collect();
    write(&old, &full);
    write(
        &new,
        "set_00_password:\nempty_00_password:\nbrand_new_password:\n",
    );
    let fin = disk.path().join("passwords.yml");
    let text = one_page_of_passwords();
    write(&fin, &text);
    disk.fill();
    let args = [
        "mergepwd",
        "--old",
        old.to_str().unwrap(),
        "--new",
        new.to_str().unwrap(),
        "--final",
        fin.to_str().unwrap(),
    ];
    let out = kollars(args);
    assert!(!out.status.success(), "mergepwd wrote on a full disk");
    let err = stderr(&out);
    assert!(err.contains(&fin.display().to_string()), "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&fin).unwrap(),
        text,
        "the final file changed"
    );
    assert_eq!(
        files_under(disk.path()),
        ["filler", "passwords.yml"],
        "a file left behind"
    );
}
