//! `kollars post-deploy` against kolla-ansible 22.2.0's own `post-deploy` output, rendered by
//! `tests/reference/render-post-deploy-with-kolla.sh`: the same inputs give the same files,
//! byte for byte (kolla's templates leave no whitespace artefacts to forgive), each 0600.
//! Also: a second run changes nothing, bad input writes nothing, no password is printed, no
//! engine is needed (the multinode hosts are remote and have no facts given).

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::util::{files_under, kollars, reference, root, stderr, SmallDisk};

/// A temporary configuration directory holding a case's globals.yml and passwords.yml.
struct Case {
    dir: tempfile::TempDir,
    inputs: PathBuf,
    extra: Vec<String>,
}

impl Case {
    fn new(inputs: &Path) -> Case {
        let dir = tempfile::tempdir().unwrap();
        for f in ["globals.yml", "passwords.yml"] {
            std::fs::copy(inputs.join(f), dir.path().join(f)).unwrap();
        }
        Case {
            dir,
            inputs: inputs.to_path_buf(),
            extra: Vec::new(),
        }
    }
    fn aio() -> Case {
        Case::new(&reference().join("inputs"))
    }
    fn conf(&self) -> &Path {
        self.dir.path()
    }
    fn run(&self) -> std::process::Output {
        let mut args = vec![
            "post-deploy".to_string(),
            "-i".into(),
            self.inputs.join("inventory").display().to_string(),
            "--configdir".into(),
            self.conf().display().to_string(),
        ];
        args.extend(self.extra.iter().cloned());
        kollars(args)
    }
    /// Runs post-deploy, expecting success.
    fn ok(&self) -> std::process::Output {
        let o = self.run();
        assert!(o.status.success(), "post-deploy failed: {}", stderr(&o));
        o
    }
    /// The files post-deploy wrote (all but the inputs).
    fn written(&self) -> Vec<String> {
        files_under(self.conf())
            .into_iter()
            .filter(|f| f != "globals.yml" && f != "passwords.yml")
            .collect()
    }
    fn passwords(&self) -> Vec<String> {
        let text = std::fs::read_to_string(self.conf().join("passwords.yml")).unwrap();
        let map: serde_yaml::Mapping = serde_yaml::from_str(&text).unwrap();
        map.values()
            .filter_map(|v| v.as_str())
            .filter(|s| s.len() >= 8)
            .map(str::to_string)
            .collect()
    }
}

/// The case's output equals kolla's in `expected`: the same file names, the same bytes, 0600;
/// nothing printed holds a password.
fn matches_kolla(case: &Case, expected: &Path) {
    // As kolla's CLI would be run on a deploy host: no engine reachable.
    let o = case.ok();
    let want = files_under(expected);
    assert!(
        !want.is_empty(),
        "no expected files in {}",
        expected.display()
    );
    assert_eq!(case.written(), want, "file names differ from kolla's");
    for f in &want {
        let got = std::fs::read(case.conf().join(f)).unwrap();
        let exp = std::fs::read(expected.join(f)).unwrap();
        assert!(
            got == exp,
            "{f} differs from kolla's {}",
            expected.join(f).display()
        );
        let mode = std::fs::metadata(case.conf().join(f)).unwrap().mode() & 0o7777;
        assert_eq!(mode, 0o600, "{f}: mode {mode:o}");
    }
    no_secret_printed(case, &o);
}

fn no_secret_printed(case: &Case, o: &std::process::Output) {
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    for p in case.passwords() {
        assert!(!printed.contains(&p), "a password was printed: {printed}");
    }
}

#[test]
fn post_deploy_aio_matches_kolla() {
    matches_kolla(&Case::aio(), &reference().join("post-deploy"));
}

#[test]
fn post_deploy_multinode_matches_kolla_without_facts_or_engines() {
    // ctl1…cmp2 are remote hosts and no --facts is given: post-deploy needs neither their
    // facts nor their engines (implicit localhost: the inventory has no such host).
    let dir = root().join("tests/scenarios/multinode");
    matches_kolla(&Case::new(&dir.join("inputs")), &dir.join("post-deploy"));
}

#[test]
fn post_deploy_options_match_kolla() {
    // octavia on (octavia-openrc.sh, and still no octavia cloud in clouds.yaml, as in kolla),
    // manila, mistral, a CA file, another public endpoint, region, user and project.
    let dir = reference().join("post-deploy-options");
    let mut case = Case::aio();
    case.extra = vec!["-e".into(), format!("@{}", dir.join("extra.yml").display())];
    matches_kolla(&case, &dir.join("expected"));
}

#[test]
fn post_deploy_second_run_changes_nothing_and_fixes_only_what_differs() {
    let case = Case::aio();
    case.ok();
    let stat = |f: &str| {
        let m = std::fs::metadata(case.conf().join(f)).unwrap();
        (m.ino(), m.mtime(), m.mtime_nsec())
    };
    let before: Vec<_> = case.written().iter().map(|f| stat(f)).collect();
    let o = case.ok();
    let after: Vec<_> = case.written().iter().map(|f| stat(f)).collect();
    assert_eq!(before, after, "a second run rewrote files");
    assert!(stderr(&o).contains("written: none"), "{}", stderr(&o));

    // An operator's edit is replaced (kolla keeps no backup either), through a new inode;
    // a wrong mode alone is fixed in place; the other files stay untouched.
    let clouds = case.conf().join("clouds.yaml");
    let original = std::fs::read(&clouds).unwrap();
    std::fs::write(&clouds, "clouds: {}\n").unwrap();
    let edited_ino = std::fs::metadata(&clouds).unwrap().ino();
    let openrc = case.conf().join("admin-openrc.sh");
    std::fs::set_permissions(&openrc, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let openrc_ino = std::fs::metadata(&openrc).unwrap().ino();
    let o = case.ok();
    assert_eq!(std::fs::read(&clouds).unwrap(), original);
    let m = std::fs::metadata(&clouds).unwrap();
    assert_ne!(
        m.ino(),
        edited_ino,
        "clouds.yaml was not replaced by a rename"
    );
    assert_eq!(m.mode() & 0o7777, 0o600);
    let m = std::fs::metadata(&openrc).unwrap();
    assert_eq!((m.ino(), m.mode() & 0o7777), (openrc_ino, 0o600));
    assert!(
        stderr(&o).contains("written: clouds.yaml, admin-openrc.sh;"),
        "{}",
        stderr(&o)
    );
    let untouched = ["admin-openrc-system.sh", "public-openrc.sh"];
    for (f, b) in case.written().iter().zip(&before) {
        if untouched.contains(&f.as_str()) {
            assert_eq!(&stat(f), b, "{f} was rewritten");
        }
    }
    // no temp file left behind
    assert_eq!(case.written().len(), 5, "{:?}", case.written());
}

#[test]
fn post_deploy_missing_password_is_bad_input_and_writes_nothing() {
    let case = Case::aio();
    let p = case.conf().join("passwords.yml");
    let text = std::fs::read_to_string(&p).unwrap();
    let kept: String = text
        .lines()
        .filter(|l| !l.starts_with("keystone_admin_password:"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(kept, text, "the key was in passwords.yml");
    std::fs::write(&p, kept).unwrap();
    let o = case.run();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("keystone_admin_password"), "{err}");
    assert!(case.written().is_empty(), "{:?}", case.written());
    no_secret_printed(&case, &o);

    // the same for octavia's password when octavia is on
    let case = Case::aio();
    let p = case.conf().join("passwords.yml");
    let text = std::fs::read_to_string(&p).unwrap();
    let kept: String = text
        .lines()
        .filter(|l| !l.starts_with("octavia_keystone_password:"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&p, kept).unwrap();
    let mut case = case;
    case.extra = vec!["-e".into(), "enable_octavia=yes".into()];
    let o = case.run();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("octavia_keystone_password"), "{err}");
    assert!(case.written().is_empty(), "{:?}", case.written());
}

#[test]
fn post_deploy_refuses_tags_and_limit() {
    for extra in [["-t", "nova"], ["-l", "localhost"]] {
        let mut case = Case::aio();
        case.extra = extra.iter().map(|s| s.to_string()).collect();
        let o = case.run();
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(case.written().is_empty());
    }
}

#[test]
fn post_deploy_values_that_need_quoting_read_back_as_themselves() {
    // kolla writes values unquoted (public-openrc, clouds.yaml) or in bare '' quotes; ours
    // quote what needs it, so YAML and the shell read back the operator's exact strings.
    let password = r#"it's a "pw": #1 $HOME `x` \ ok:"#;
    let mut case = Case::aio();
    let extra = serde_json::json!({
        "keystone_admin_password": password,
        "openstack_region_name": "yes",
        "keystone_admin_project": "0x1F",
    });
    case.extra = vec!["-e".into(), extra.to_string()];
    let o = case.ok();
    assert!(!stderr(&o).contains(password));
    let clouds: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(case.conf().join("clouds.yaml")).unwrap())
            .unwrap();
    let admin = &clouds["clouds"]["kolla-admin"];
    assert_eq!(admin["auth"]["password"].as_str(), Some(password));
    assert_eq!(admin["auth"]["project_name"].as_str(), Some("0x1F"));
    assert_eq!(admin["region_name"].as_str(), Some("yes"));
    for f in [
        "admin-openrc.sh",
        "admin-openrc-system.sh",
        "public-openrc.sh",
        "public-openrc-system.sh",
    ] {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(r#". "$1" && printf '%s|%s' "$OS_PASSWORD" "$OS_REGION_NAME""#)
            .arg("sh")
            .arg(case.conf().join(f))
            .output()
            .unwrap();
        assert!(out.status.success(), "{f}: {}", stderr(&out));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("{password}|yes"),
            "{f}"
        );
    }
}

#[test]
fn post_deploy_on_a_full_disk_keeps_the_files_it_had() {
    let Some(disk) = SmallDisk::mount(256) else {
        return;
    };
    let conf = disk.path();
    let inputs = reference().join("inputs");
    for f in ["globals.yml", "passwords.yml"] {
        std::fs::copy(inputs.join(f), conf.join(f)).unwrap();
    }
    let run = || {
        kollars([
            "post-deploy",
            "-i",
            inputs.join("inventory").to_str().unwrap(),
            "--configdir",
            conf.to_str().unwrap(),
        ])
    };
    let o = run();
    assert!(o.status.success(), "{}", stderr(&o));
    let clouds = conf.join("clouds.yaml");
    std::fs::write(&clouds, "clouds: {}\n").unwrap();
    let before = files_under(conf);
    disk.fill();
    let o = run();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains(&clouds.display().to_string()), "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert_eq!(std::fs::read_to_string(&clouds).unwrap(), "clouds: {}\n");
    let mut after = files_under(conf);
    after.retain(|f| f != "filler");
    assert_eq!(after, before, "a file left behind or lost");
}
