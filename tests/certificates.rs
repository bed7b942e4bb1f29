//! `kollars certificates`: the root CA and the external, internal and backend certificates
//! laid out as kolla's certificates role lays them out, checked by the `openssl` command
//! (chain, names, key pairs, modes); a rerun changes nothing; genconfig copies them into the
//! services' directories.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use crate::util::{genconfig, kollars, reference, site_inputs, standin_globals, stderr};

const TLS: &str = "kolla_enable_tls_internal: \"yes\"\nkolla_enable_tls_external: \"yes\"\n\
kolla_external_vip_address: 192.0.2.251\nkolla_external_fqdn: public.example.test\n\
kolla_enable_tls_backend: \"yes\"\nrabbitmq_enable_tls: true\nkolla_copy_ca_into_containers: \"yes\"\n";

fn openssl(args: &[&str]) -> String {
    let o = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl");
    assert!(o.status.success(), "openssl {args:?}: {}", stderr(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn certificates(d: &Path, extra: &[&str]) -> std::process::Output {
    let mut a: Vec<String> = vec![
        "certificates".into(),
        "-i".into(),
        d.join("inventory").display().to_string(),
        "--configdir".into(),
        d.join("config").display().to_string(),
        "--facts".into(),
        d.join("facts").display().to_string(),
    ];
    a.extend(extra.iter().map(|s| s.to_string()));
    kollars(a)
}

/// Every file under `dir` with its bytes and mode.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>, u32)> {
    crate::util::files_under(dir)
        .into_iter()
        .map(|f| {
            let p = dir.join(&f);
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o7777;
            (f, std::fs::read(&p).unwrap(), mode)
        })
        .collect()
}

#[test]
fn certificates_as_kolla_lays_them_out() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    site_inputs(d, &[], &format!("{}{TLS}", standin_globals()));
    // kolla's all-in-one inventory: localhost in every group, tls-backend included
    std::fs::copy(reference().join("inputs/inventory"), d.join("inventory")).unwrap();
    let certs = d.join("config/certificates");

    // --plan lists every file and writes none
    let o = certificates(d, &["--plan"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let plan = String::from_utf8_lossy(&o.stdout);
    for f in [
        "private/root/root.key",
        "ca/root.crt",
        "private/external/external.crt",
        "private/internal/internal.key",
        "private/backend/backend.csr",
        "haproxy.pem",
        "haproxy-internal.pem",
        "backend-cert.pem",
        "rabbitmq-key.pem",
        "mariadb-cert.pem",
    ] {
        assert!(
            plan.contains(&format!("create         {}", certs.join(f).display())),
            "{f}:\n{plan}"
        );
    }
    assert!(!certs.exists());

    let o = certificates(d, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let p = |f: &str| certs.join(f).display().to_string();
    let ca = p("ca/root.crt");
    assert_eq!(
        std::fs::read(&ca).unwrap(),
        std::fs::read(p("private/root/root.crt")).unwrap()
    );
    let root = openssl(&[
        "x509",
        "-in",
        &ca,
        "-noout",
        "-subject",
        "-ext",
        "basicConstraints,keyUsage",
    ]);
    assert!(root.contains("CN = KollaTestCA"), "{root}");
    assert!(
        root.contains("critical") && root.contains("CA:TRUE"),
        "{root}"
    );
    assert!(root.contains("Certificate Sign"), "{root}");
    // each server certificate chains to the root and carries its names
    let verify = |crt: &str, check: &[&str]| {
        let mut a = vec!["verify", "-CAfile", &ca];
        a.extend_from_slice(check);
        a.push(crt);
        assert!(openssl(&a).contains(": OK"), "{crt}");
    };
    verify(
        &p("private/external/external.crt"),
        &["-verify_hostname", "public.example.test"],
    );
    verify(
        &p("private/external/external.crt"),
        &["-verify_ip", "192.0.2.251"],
    );
    verify(
        &p("private/internal/internal.crt"),
        &["-verify_ip", "192.0.2.250"],
    );
    verify(
        &p("private/backend/backend.crt"),
        &["-verify_ip", "192.0.2.2"],
    );
    let ext = openssl(&[
        "x509",
        "-in",
        &p("private/external/external.crt"),
        "-noout",
        "-ext",
        "subjectAltName",
        "-subject",
    ]);
    assert!(
        ext.contains("DNS:public.example.test, IP Address:192.0.2.251"),
        "{ext}"
    );
    assert!(ext.contains("OU = kolla"), "{ext}");
    // haproxy's PEM files: the certificate, then its key; the key pairs match
    for (pem, name) in [
        ("haproxy.pem", "external"),
        ("haproxy-internal.pem", "internal"),
    ] {
        let crt = std::fs::read_to_string(p(&format!("private/{name}/{name}.crt"))).unwrap();
        let key = std::fs::read_to_string(p(&format!("private/{name}/{name}.key"))).unwrap();
        assert_eq!(
            std::fs::read_to_string(p(pem)).unwrap(),
            format!("{crt}{key}"),
            "{pem}"
        );
        let from_cert = openssl(&["x509", "-in", &p(pem), "-noout", "-pubkey"]);
        let from_key = openssl(&["pkey", "-in", &p(pem), "-pubout"]);
        assert_eq!(from_cert, from_key, "{pem}");
    }
    let bits = openssl(&[
        "pkey",
        "-in",
        &p("private/root/root.key"),
        "-noout",
        "-text",
    ]);
    assert!(bits.contains("4096 bit"), "root key size");
    // backend copies, and their modes
    let backend = std::fs::read(p("private/backend/backend.crt")).unwrap();
    for f in ["backend-cert.pem", "rabbitmq-cert.pem", "mariadb-cert.pem"] {
        assert_eq!(std::fs::read(p(f)).unwrap(), backend, "{f}");
    }
    let modes: Vec<(String, u32)> = snapshot(&certs)
        .into_iter()
        .map(|(f, _, m)| (f, m))
        .collect();
    for (f, m) in &modes {
        let want = match f.as_str() {
            "rabbitmq-cert.pem" | "rabbitmq-key.pem" | "mariadb-key.pem" => 0o600,
            "mariadb-cert.pem" => 0o644,
            _ => 0o660,
        };
        assert_eq!(*m, want, "{f}: {m:o}");
    }
    assert!(
        !modes
            .iter()
            .any(|(f, _)| f.contains(".kollars-certificates-")),
        "{modes:?}"
    );
    for sub in ["", "/ca", "/private", "/private/root", "/private/backend"] {
        let m = std::fs::metadata(format!("{}{sub}", certs.display()))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(m & 0o7777, 0o770, "{sub}");
    }

    // a rerun changes nothing; a removed copy comes back the same
    let before = snapshot(&certs);
    let o = certificates(d, &[]);
    assert!(stderr(&o).contains(": 0 written"), "{}", stderr(&o));
    assert_eq!(snapshot(&certs), before);
    std::fs::remove_file(p("haproxy.pem")).unwrap();
    let o = certificates(d, &[]);
    assert!(stderr(&o).contains("1 written"), "{}", stderr(&o));
    assert_eq!(snapshot(&certs), before);
    // no key is printed
    let key = std::fs::read_to_string(p("private/root/root.key")).unwrap();
    let line = key.lines().nth(1).unwrap();
    assert!(!stderr(&o).contains(line) && !String::from_utf8_lossy(&o.stdout).contains(line));

    // genconfig copies them where the services read them
    let out = d.join("out");
    let o = genconfig(
        &d.join("inventory"),
        &d.join("config"),
        &d.join("facts"),
        &out,
        &["-t", "keystone,haproxy"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let rendered = |f: &str| {
        std::fs::read(out.join("localhost").join(f)).unwrap_or_else(|e| panic!("{f}: {e}"))
    };
    assert_eq!(
        rendered("keystone/ca-certificates/root.crt"),
        std::fs::read(&ca).unwrap()
    );
    assert_eq!(rendered("keystone/keystone-cert.pem"), backend);
    assert_eq!(
        rendered("haproxy/haproxy.pem"),
        std::fs::read(p("haproxy.pem")).unwrap()
    );
    assert_eq!(
        rendered("haproxy/haproxy-internal.pem"),
        std::fs::read(p("haproxy-internal.pem")).unwrap()
    );
}

#[test]
fn octavia_certificates_as_kolla_makes_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    site_inputs(d, &[], &standin_globals());
    std::fs::copy(reference().join("inputs/inventory"), d.join("inventory")).unwrap();
    let run = |extra: &[&str]| {
        let mut a: Vec<String> = vec![
            "octavia-certificates".into(),
            "-i".into(),
            d.join("inventory").display().to_string(),
            "--configdir".into(),
            d.join("config").display().to_string(),
            "--facts".into(),
            d.join("facts").display().to_string(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        kollars(a)
    };
    let out = d.join("config/config/octavia");
    let o = run(&["--plan"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let plan = String::from_utf8_lossy(&o.stdout);
    for f in [
        "server_ca.cert.pem",
        "server_ca.key.pem",
        "client_ca.cert.pem",
        "client.cert-and-key.pem",
    ] {
        assert!(
            plan.contains(&format!("create         {}", out.join(f).display())),
            "{f}:\n{plan}"
        );
    }
    assert!(!out.exists());

    let o = run(&[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let p = |f: &str| out.join(f).display().to_string();
    // the CA keys are encrypted under their passwords (given to openssl through its environment)
    let passwords = std::fs::read_to_string(d.join("config/passwords.yml")).unwrap();
    let password = |name: &str| {
        passwords
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap()
            .trim()
            .to_owned()
    };
    let key = std::fs::read_to_string(p("server_ca.key.pem")).unwrap();
    assert!(
        key.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"),
        "{key:.40}"
    );
    let o = Command::new("openssl")
        .args([
            "pkey",
            "-in",
            &p("server_ca.key.pem"),
            "-passin",
            "env:PW",
            "-noout",
        ])
        .env("PW", password("octavia_ca_password"))
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "the server CA key opens with octavia_ca_password: {}",
        stderr(&o)
    );
    let ca = openssl(&[
        "x509",
        "-in",
        &p("server_ca.cert.pem"),
        "-noout",
        "-subject",
        "-ext",
        "basicConstraints",
    ]);
    assert!(
        ca.contains("CN = server-ca.example.org") && ca.contains("O = OpenStack"),
        "{ca}"
    );
    assert!(ca.contains("CA:TRUE"), "{ca}");
    // the client certificate is the client CA's, and the bundle holds its key
    let v = openssl(&[
        "verify",
        "-CAfile",
        &p("client_ca.cert.pem"),
        &p("client.cert-and-key.pem"),
    ]);
    assert!(v.contains(": OK"), "{v}");
    let from_cert = openssl(&[
        "x509",
        "-in",
        &p("client.cert-and-key.pem"),
        "-noout",
        "-pubkey",
    ]);
    let from_key = openssl(&["pkey", "-in", &p("client.cert-and-key.pem"), "-pubout"]);
    assert_eq!(from_cert, from_key);
    let subject = openssl(&[
        "x509",
        "-in",
        &p("client.cert-and-key.pem"),
        "-noout",
        "-subject",
    ]);
    assert!(subject.contains("CN = client.example.org"), "{subject}");
    // a rerun changes nothing
    let before = snapshot(&d.join("config"));
    let o = run(&[]);
    assert!(stderr(&o).contains(": 0 written"), "{}", stderr(&o));
    assert_eq!(snapshot(&d.join("config")), before);
    for pw in ["octavia_ca_password", "octavia_client_ca_password"] {
        assert!(!stderr(&o).contains(&password(pw)));
    }
}
