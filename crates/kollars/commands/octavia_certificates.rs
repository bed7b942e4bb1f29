//! `kollars octavia-certificates`: kolla-ansible's `octavia-certificates`, the two CAs Octavia
//! needs (its server CA signs the amphorae's certificates, its client CA the controllers'),
//! made in `{{ node_config }}/octavia-certificates` as kolla makes them and copied where the
//! octavia role reads them, `{{ node_custom_config }}/octavia/`: `server_ca.cert.pem`,
//! `server_ca.key.pem` (RSA 4096, AES-256 under `octavia_ca_password`), `client_ca.cert.pem`
//! (its key under `octavia_client_ca_password`) and `client.cert-and-key.pem` (a client
//! certificate of the client CA, then its key). Subjects and lifetimes are kolla's
//! `octavia_certs_*` variables with kolla's defaults. The passphrases reach `openssl` through
//! its environment, never its arguments. As in `certificates`, what exists is kept and the
//! copies follow their sources; `--plan` lists the files.

use std::path::PathBuf;

use anyhow::Result;

use super::certificates::{copy_if_changed, make_dirs, path, Openssl, PASS_ENV};
use crate::cli::CertificatesArgs;
use crate::error::{BadInput, ExitStatus};

const MODE: u32 = 0o660;

/// `kollars octavia-certificates`.
pub fn octavia_certificates(args: &CertificatesArgs) -> Result<ExitStatus> {
    let (_vars, scope) = super::post_deploy::localhost_scope(&args.input)?;
    let text = |expr: &str| -> Result<String> {
        scope
            .eval(
                &kollars_vars::Value::from(expr),
                None,
                "octavia-certificates",
            )
            .map(|v| v.to_string())
            .map_err(BadInput::from_err)
    };
    let opt = |name: &str, default: &str| text(&format!("{{{{ {name} | default('{default}') }}}}"));
    let work = PathBuf::from(text("{{ node_config }}/octavia-certificates")?);
    let out = PathBuf::from(text("{{ node_custom_config }}/octavia")?);
    let subject = |who: &str, cn: &str| -> Result<String> {
        let g = |f: &str, d: &str| {
            opt(
                &format!("octavia_certs_{who}_{f}"),
                &opt(&format!("octavia_certs_{f}"), d)?,
            )
        };
        Ok(format!(
            "/C={}/ST={}/O={}/OU={}/CN={}",
            g("country", "US")?,
            g("state", "Oregon")?,
            g("organization", "OpenStack")?,
            g("organizational_unit", "Octavia")?,
            opt(&format!("octavia_certs_{who}_common_name"), cn)?
        ))
    };
    let files = [
        ("server_ca/server_ca.cert.pem", "server_ca.cert.pem"),
        ("server_ca/server_ca.key.pem", "server_ca.key.pem"),
        ("client_ca/client_ca.cert.pem", "client_ca.cert.pem"),
        (
            "client_ca/client.cert-and-key.pem",
            "client.cert-and-key.pem",
        ),
    ];
    if args.plan {
        for (src, dest) in files {
            for f in [work.join(src), out.join(dest)] {
                let what = if f.exists() {
                    "keep or update"
                } else {
                    "create"
                };
                crate::outln!("{what:<14} {}", f.display());
            }
        }
        return Ok(ExitStatus::Success);
    }
    let server_pass = text("{{ octavia_ca_password }}")?;
    let client_pass = text("{{ octavia_client_ca_password }}")?;
    make_dirs(&work, &["server_ca", "client_ca"])?;
    let scratch = tempfile::Builder::new()
        .prefix(".kollars-certificates-")
        .tempdir_in(&work)?;
    let tool = Openssl {
        scratch: scratch.path(),
    };
    let passout = format!("env:{PASS_ENV}");
    let mut made = Vec::new();
    let ca_ext = [
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,digitalSignature,cRLSign,keyCertSign",
    ];
    for (who, cn, pass) in [
        ("server_ca", "server-ca.example.org", &server_pass),
        ("client_ca", "client-ca.example.org", &client_pass),
    ] {
        let key = work.join(format!("{who}/{who}.key.pem"));
        let crt = work.join(format!("{who}/{who}.cert.pem"));
        made.extend(tool.make_with(
            &key,
            &["genrsa", "-aes256", "-passout", &passout],
            &["4096"],
            Some(pass),
        )?);
        let days = opt(&format!("octavia_certs_{who}_expiry"), "3650")?;
        let subj = subject(who, cn)?;
        made.extend(tool.make_with(
            &crt,
            &[
                "req",
                "-new",
                "-x509",
                "-key",
                path(&key),
                "-passin",
                &passout,
                "-days",
                &days,
                "-subj",
                &subj,
                "-sha256",
            ],
            &ca_ext,
            Some(pass),
        )?);
    }
    let dir = work.join("client_ca");
    let (key, csr, crt) = (
        dir.join("client.key.pem"),
        dir.join("client.csr.pem"),
        dir.join("client.cert.pem"),
    );
    made.extend(tool.key(&key, 4096)?);
    let subj = subject("client_req", "client.example.org")?;
    made.extend(tool.make(
        &csr,
        &["req", "-new", "-key", path(&key), "-subj", &subj, "-sha256"],
        &[],
    )?);
    let days = opt("octavia_certs_client_expiry", "365")?;
    let (ca_crt, ca_key) = (
        dir.join("client_ca.cert.pem"),
        dir.join("client_ca.key.pem"),
    );
    made.extend(tool.make_with(
        &crt,
        &[
            "x509",
            "-req",
            "-in",
            path(&csr),
            "-CA",
            path(&ca_crt),
            "-CAkey",
            path(&ca_key),
            "-passin",
            &passout,
            "-CAcreateserial",
            "-days",
            &days,
            "-sha256",
        ],
        &[],
        Some(&client_pass),
    )?);
    let mut bundle = std::fs::read(&crt)?;
    bundle.extend(std::fs::read(&key)?);
    made.extend(copy_if_changed(
        &bundle,
        &dir.join("client.cert-and-key.pem"),
        MODE,
    )?);
    make_dirs(&out, &[])?;
    for (src, dest) in files {
        made.extend(copy_if_changed(
            &std::fs::read(work.join(src))?,
            &out.join(dest),
            MODE,
        )?);
    }
    let serial = dir.join("client_ca.cert.srl");
    if serial.exists() {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&serial, std::fs::Permissions::from_mode(MODE))?;
    }
    crate::errln!(
        "octavia-certificates: {}: {} written",
        out.display(),
        made.len()
    );
    Ok(ExitStatus::Success)
}
