//! `kollars certificates`: kolla-ansible's `certificates` (self-signed TLS for development
//! and tests), laid out in `kolla_certificates_dir` (`<configdir>/certificates`) as kolla's
//! certificates role lays it out, so the services' `copy` entries (haproxy's PEM files,
//! `<service>-cert.pem`, `ca/`) find them:
//!
//! - `private/root/root.{key,csr,crt}`: the root CA (RSA 4096, `CN=KollaTestCA`, CA and
//!   key-signing key usage, 1024 days), and its copy `ca/root.crt`, the CA the containers
//!   trust with `kolla_copy_ca_into_containers`;
//! - with `kolla_enable_tls_external`: `private/external/external.{key,csr,crt}` (RSA 2048,
//!   365 days, SAN `kolla_external_fqdn` and `kolla_external_vip_address`) and
//!   `kolla_external_fqdn_cert` (`haproxy.pem`: certificate, then key), copied to
//!   `kolla_internal_fqdn_cert` when internal TLS shares the VIP;
//! - with `kolla_enable_tls_internal` on a VIP of its own: the same as `internal`, into
//!   `kolla_internal_fqdn_cert` (`haproxy-internal.pem`);
//! - with `kolla_enable_tls_backend` or `rabbitmq_enable_tls`:
//!   `private/backend/backend.{key,csr,crt}` (RSA 2048, 500 days, SAN the `api` address of
//!   every host of group `tls-backend`), copied to `backend-cert.pem` and `backend-key.pem`,
//!   and to `rabbitmq-{cert,key}.pem` (0600) and `mariadb-{cert,key}.pem` (0644, 0600) when
//!   those use TLS.
//!
//! As kolla's tasks, a key or certificate that exists is kept (a rerun changes nothing; delete
//! a file to have it made again) and the copies follow their sources. Unlike kolla's
//! `openssl x509 -req`, the server certificates carry their subject alternative names (kolla's
//! lose them, OpenSSL not copying a request's extensions by default): clients check names
//! there. The keys are made by the `openssl` command (Debian's `openssl` package), in a
//! scratch directory of mode 0700, and every file is put in place atomically
//! ([`kollars_tree::replace_file`]); no key is ever printed or passed as an argument.
//! `--plan` lists what would be written and changes nothing.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use kollars_vars::{HostScope, Value};

use crate::cli::CertificatesArgs;
use crate::error::{BadInput, ExitStatus};

/// Files' mode (kolla's 0660).
const MODE: u32 = 0o660;
/// Directories' mode (kolla's 0770).
const DIR_MODE: u32 = 0o770;

/// One server certificate to make: where, for which names, for how long.
struct Server {
    /// `external`, `internal` or `backend`: the directory under `private/` and the files'
    /// stem.
    name: &'static str,
    /// Subject alternative names, OpenSSL's form (`DNS:x`, `IP:y`).
    san: Vec<String>,
    days: u32,
}

/// What the site asks for, read from localhost's variables.
struct Wanted {
    dir: PathBuf,
    servers: Vec<Server>,
    /// (source, destination, mode) copies, in order, after the certificates exist.
    copies: Vec<(Copy, PathBuf, u32)>,
}

/// What a copy is made of.
enum Copy {
    /// One file.
    File(PathBuf),
    /// A certificate and its key, concatenated (haproxy's PEM).
    Pem(&'static str),
}

/// `kollars certificates`.
pub fn certificates(args: &CertificatesArgs) -> Result<ExitStatus> {
    let (_vars, scope) = super::post_deploy::localhost_scope(&args.input)?;
    let wanted = wanted(&scope).map_err(BadInput::from_err)?;
    let dir = &wanted.dir;
    let root = dir.join("private/root");
    let mut files: Vec<PathBuf> = ["root.key", "root.csr", "root.crt"]
        .iter()
        .map(|f| root.join(f))
        .collect();
    files.push(dir.join("ca/root.crt"));
    for s in &wanted.servers {
        for ext in ["key", "csr", "crt"] {
            files.push(dir.join(format!("private/{0}/{0}.{ext}", s.name)));
        }
    }
    files.extend(wanted.copies.iter().map(|(_, d, _)| d.clone()));
    if args.plan {
        for f in &files {
            let what = if f.exists() {
                "keep or update"
            } else {
                "create"
            };
            crate::outln!("{what:<14} {}", f.display());
        }
        return Ok(ExitStatus::Success);
    }
    if !dir.parent().is_some_and(Path::is_dir) {
        bail!(BadInput::new(format!(
            "kolla_certificates_dir {}: its parent directory does not exist",
            dir.display()
        )));
    }
    let mut made = Vec::new();
    make_dirs(dir, &["ca", "private", "private/root"])?;
    let scratch = tempfile::Builder::new()
        .prefix(".kollars-certificates-")
        .tempdir_in(dir)
        .context("making a scratch directory")?;
    std::fs::set_permissions(scratch.path(), std::fs::Permissions::from_mode(0o700))?;
    let tool = Openssl {
        scratch: scratch.path(),
    };
    // the root CA
    let (key, csr, crt) = (
        root.join("root.key"),
        root.join("root.csr"),
        root.join("root.crt"),
    );
    made.extend(tool.key(&key, 4096)?);
    made.extend(tool.make(
        &csr,
        &[
            "req",
            "-new",
            "-key",
            path(&key),
            "-subj",
            "/CN=KollaTestCA",
            "-sha256",
        ],
        &[
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,digitalSignature,keyCertSign",
        ],
    )?);
    made.extend(tool.make(
        &crt,
        &[
            "x509",
            "-req",
            "-in",
            path(&csr),
            "-key",
            path(&key),
            "-days",
            "1024",
            "-sha256",
        ],
        &["-copy_extensions", "copyall"],
    )?);
    made.extend(copy_if_changed(
        &std::fs::read(&crt)?,
        &dir.join("ca/root.crt"),
        MODE,
    )?);
    // the server certificates, signed by it
    for s in &wanted.servers {
        let sub = format!("private/{}", s.name);
        make_dirs(dir, &[&sub])?;
        let base = dir.join(&sub).join(s.name);
        let (k, r, c) = (
            base.with_extension("key"),
            base.with_extension("csr"),
            base.with_extension("crt"),
        );
        made.extend(tool.key(&k, 2048)?);
        let san = format!("subjectAltName={}", s.san.join(","));
        made.extend(tool.make(
            &r,
            &["req", "-new", "-key", path(&k), "-sha256"],
            &["-subj", "/C=US/ST=NC/L=RTP/OU=kolla", "-addext", &san],
        )?);
        let days = s.days.to_string();
        made.extend(tool.make(
            &c,
            &[
                "x509",
                "-req",
                "-in",
                path(&r),
                "-CA",
                path(&crt),
                "-CAkey",
                path(&key),
                "-CAcreateserial",
                "-days",
                &days,
                "-sha256",
            ],
            &["-copy_extensions", "copy"],
        )?);
        // openssl's serial file next to the root (`-CAcreateserial`), mode as the rest
        let serial = root.join("root.srl");
        if serial.exists() {
            std::fs::set_permissions(&serial, std::fs::Permissions::from_mode(MODE))?;
        }
    }
    for (from, to, mode) in &wanted.copies {
        let bytes = match from {
            Copy::File(p) => {
                std::fs::read(p).with_context(|| format!("reading {}", p.display()))?
            }
            Copy::Pem(name) => {
                let base = dir.join(format!("private/{name}/{name}"));
                let mut b = std::fs::read(base.with_extension("crt"))?;
                b.extend(std::fs::read(base.with_extension("key"))?);
                b
            }
        };
        made.extend(copy_if_changed(&bytes, to, *mode)?);
    }
    let list: Vec<String> = made.iter().map(|p| p.display().to_string()).collect();
    crate::errln!(
        "certificates: {}: {} written{}",
        dir.display(),
        made.len(),
        if list.is_empty() {
            String::new()
        } else {
            format!(": {}", list.join(", "))
        }
    );
    Ok(ExitStatus::Success)
}

/// The certificates and copies the variables ask for.
fn wanted(scope: &Arc<HostScope>) -> Result<Wanted, String> {
    let get = |name: &str| -> Result<String, String> {
        scope
            .get(name)
            .map(|v| v.to_string())
            .map_err(|e| e.to_string())
    };
    let on = |name: &str| -> Result<bool, String> {
        scope
            .get(name)
            .map(|v| kollars_vars::filters::ansible_bool(&v))
            .map_err(|e| e.to_string())
    };
    let dir = PathBuf::from(get("kolla_certificates_dir")?);
    let same_vip = on("kolla_same_external_internal_vip")?;
    let (external, internal) = (
        on("kolla_enable_tls_external")?,
        on("kolla_enable_tls_internal")?,
    );
    let names = |fqdn: &str, vip: &str| -> Result<Vec<String>, String> {
        let (fqdn, vip) = (get(fqdn)?, get(vip)?);
        let mut san = Vec::new();
        if fqdn != vip {
            san.push(format!("DNS:{fqdn}"));
        }
        san.push(format!("IP:{vip}"));
        Ok(san)
    };
    let mut servers = Vec::new();
    let mut copies = Vec::new();
    let external_pem = PathBuf::from(get("kolla_external_fqdn_cert")?);
    let internal_pem = PathBuf::from(get("kolla_internal_fqdn_cert")?);
    if external {
        servers.push(Server {
            name: "external",
            san: names("kolla_external_fqdn", "kolla_external_vip_address")?,
            days: 365,
        });
        copies.push((Copy::Pem("external"), external_pem.clone(), MODE));
        if internal && same_vip {
            copies.push((Copy::File(external_pem), internal_pem.clone(), MODE));
        }
    }
    if internal && !same_vip {
        servers.push(Server {
            name: "internal",
            san: names("kolla_internal_fqdn", "kolla_internal_vip_address")?,
            days: 365,
        });
        copies.push((Copy::Pem("internal"), internal_pem, MODE));
    }
    if on("kolla_enable_tls_backend")? || on("rabbitmq_enable_tls")? {
        let ips = scope
            .eval(
                &Value::from(
                    "{% for h in groups['tls-backend'] | default([]) %}{{ 'api' | kolla_address(h) }}\n{% endfor %}",
                ),
                None,
                "the api addresses of group tls-backend",
            )
            .map_err(|e| e.to_string())?
            .to_string();
        let san: Vec<String> = ips
            .lines()
            .filter(|l| !l.is_empty())
            .map(|ip| format!("IP:{ip}"))
            .collect();
        if san.is_empty() {
            return Err(
                "backend TLS is on but group tls-backend has no host: the backend \
                        certificate names its hosts' api addresses"
                    .into(),
            );
        }
        servers.push(Server {
            name: "backend",
            san,
            days: 500,
        });
        let crt = dir.join("private/backend/backend.crt");
        let key = dir.join("private/backend/backend.key");
        let (cert_file, key_file) = (
            PathBuf::from(get("kolla_tls_backend_cert")?),
            PathBuf::from(get("kolla_tls_backend_key")?),
        );
        copies.push((Copy::File(crt), cert_file.clone(), MODE));
        copies.push((Copy::File(key), key_file.clone(), MODE));
        if on("rabbitmq_enable_tls")? {
            copies.push((
                Copy::File(cert_file.clone()),
                dir.join("rabbitmq-cert.pem"),
                0o600,
            ));
            copies.push((
                Copy::File(key_file.clone()),
                dir.join("rabbitmq-key.pem"),
                0o600,
            ));
        }
        if on("database_enable_tls_backend")? {
            copies.push((Copy::File(cert_file), dir.join("mariadb-cert.pem"), 0o644));
            copies.push((Copy::File(key_file), dir.join("mariadb-key.pem"), 0o600));
        }
    }
    Ok(Wanted {
        dir,
        servers,
        copies,
    })
}

pub(super) fn path(p: &Path) -> &str {
    p.to_str().unwrap_or_default()
}

/// Makes `subdirs` of `dir` (and `dir`) with kolla's mode, when missing.
pub(super) fn make_dirs(dir: &Path, subdirs: &[&str]) -> Result<()> {
    for d in std::iter::once(dir.to_path_buf()).chain(subdirs.iter().map(|s| dir.join(s))) {
        if !d.is_dir() {
            std::fs::create_dir_all(&d).with_context(|| format!("making {}", d.display()))?;
            std::fs::set_permissions(&d, std::fs::Permissions::from_mode(DIR_MODE))?;
        }
    }
    Ok(())
}

/// Writes `bytes` to `to` with `mode` unless it already holds them; returns it when written.
pub(super) fn copy_if_changed(bytes: &[u8], to: &Path, mode: u32) -> Result<Option<PathBuf>> {
    if std::fs::read(to).is_ok_and(|old| old == bytes) {
        let meta = std::fs::metadata(to)?;
        if meta.permissions().mode() & 0o7777 != mode {
            std::fs::set_permissions(to, std::fs::Permissions::from_mode(mode))?;
        }
        return Ok(None);
    }
    kollars_tree::replace_file(to, bytes, mode)
        .map_err(|e| e.source)
        .with_context(|| format!("writing {}", to.display()))?;
    Ok(Some(to.to_path_buf()))
}

/// The `openssl` command, writing into a private scratch directory.
pub(super) struct Openssl<'a> {
    pub(super) scratch: &'a Path,
}

/// The environment variable a passphrase reaches openssl through (`env:`), never an argument.
pub(super) const PASS_ENV: &str = "KOLLARS_OPENSSL_PASSPHRASE";

impl Openssl<'_> {
    /// An RSA key of `bits` at `to`, unless one is there.
    pub(super) fn key(&self, to: &Path, bits: u32) -> Result<Option<PathBuf>> {
        self.make(to, &["genrsa"], &[&bits.to_string()])
    }

    /// Runs `openssl ARGS -out SCRATCH REST` and moves the result to `to` (mode 0660),
    /// unless `to` exists (kept, as kolla's `creates:`).
    pub(super) fn make(&self, to: &Path, args: &[&str], rest: &[&str]) -> Result<Option<PathBuf>> {
        self.make_with(to, args, rest, None)
    }

    /// [`Openssl::make`] with `pass` in [`PASS_ENV`] (for `-passout env:…`/`-passin env:…`).
    pub(super) fn make_with(
        &self,
        to: &Path,
        args: &[&str],
        rest: &[&str],
        pass: Option<&str>,
    ) -> Result<Option<PathBuf>> {
        if to.exists() {
            return Ok(None);
        }
        let out = self.scratch.join(to.file_name().unwrap_or_default());
        let mut cmd = Command::new("openssl");
        cmd.args(args).arg("-out").arg(&out).args(rest);
        if let Some(p) = pass {
            cmd.env(PASS_ENV, p);
        }
        let o = cmd
            .output()
            .context("running openssl (Debian's package `openssl`)")?;
        if !o.status.success() {
            bail!(
                "openssl {} for {} failed: {}",
                args[0],
                to.display(),
                String::from_utf8_lossy(&o.stderr).trim()
            );
        }
        let bytes = std::fs::read(&out)?;
        std::fs::remove_file(&out)?;
        kollars_tree::replace_file(to, &bytes, MODE)
            .map_err(|e| e.source)
            .with_context(|| format!("writing {}", to.display()))?;
        Ok(Some(to.to_path_buf()))
    }
}
