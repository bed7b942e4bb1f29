//! `kollars genpwd` and `kollars mergepwd`: kolla-genpwd and kolla-mergepwd.
//!
//! genpwd fills only the keys whose value is null or empty, by the key's kind:
//! - `*_ssh_key` keys: a dict `{private_key, public_key}` (RSA 4096, PKCS#8 PEM and OpenSSH),
//!   made by `ssh-keygen`; also when the dict has neither key;
//! - the UUID keys: a random (version 4) UUID;
//! - `designate_rndc_key` and `osprofiler_secret`: 32 hex digits (kolla: an HMAC-MD5 digest
//!   keyed with a random UUID, i.e. 128 random-looking bits);
//! - `barbican_crypto_key`: a Fernet key (32 random bytes, URL-safe base64);
//! - `prometheus_bcrypt_salt`: a 22-character bcrypt salt;
//! - `docker_registry_password`: left null;
//! - anything else: 40 characters of `[A-Za-z0-9]`.
//!
//! Randomness comes from the operating system (getrandom). Files are written keys sorted, as
//! kolla's `yaml.safe_dump` writes them, and replaced atomically and durably
//! ([`kollars_tree::replace_file`]): kolla removes the file and then writes it, which on a
//! full disk loses passwords. A file keeps its mode without the bits for others; a new one is
//! 0640, as kolla makes it.

use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

use anyhow::{anyhow, bail, Context, Result};
use serde_yaml::{Mapping, Value};

use crate::cli::{GenpwdArgs, MergepwdArgs};
use crate::error::ExitStatus;

const UUID_KEYS: &[&str] = &[
    "rbd_secret_uuid",
    "cinder_rbd_secret_uuid",
    "gnocchi_project_id",
    "gnocchi_resource_id",
    "gnocchi_user_id",
    "designate_pool_id",
];
const SSH_KEYS: &[&str] = &[
    "kolla_ssh_key",
    "nova_ssh_key",
    "keystone_ssh_key",
    "bifrost_ssh_key",
    "octavia_amp_ssh_key",
    "neutron_ssh_key",
    "haproxy_ssh_key",
];
use kollars_inputs::passwords::BLANK_KEYS;
const HEX_KEYS: &[&str] = &["designate_rndc_key", "osprofiler_secret"];
const FERNET_KEYS: &[&str] = &["barbican_crypto_key"];
const BCRYPT_SALT_KEYS: &[&str] = &["prometheus_bcrypt_salt"];
const PASSWORD_LENGTH: usize = 40;

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const BCRYPT_ALPHABET: &[u8] = b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn random_bytes(n: usize) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; n];
    getrandom::getrandom(&mut buf).map_err(|e| anyhow!("no randomness from the OS: {e}"))?;
    Ok(buf)
}

/// `len` characters drawn uniformly from `alphabet` (rejection sampling, no modulo bias).
fn random_string(alphabet: &[u8], len: usize) -> Result<String> {
    let limit = 256 - (256 % alphabet.len());
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for b in random_bytes(len * 2)? {
            if (b as usize) < limit && out.len() < len {
                out.push(alphabet[b as usize % alphabet.len()] as char);
            }
        }
    }
    Ok(out)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn uuid4() -> Result<String> {
    let mut b = [0u8; 16];
    b.copy_from_slice(&random_bytes(16)?);
    Ok(kollars_vars::filters::uuid_text(b, 4))
}

/// URL-safe base64 with padding (Python's `base64.urlsafe_b64encode`).
fn urlsafe_b64(data: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk.len();
        let v = (chunk[0] as u32) << 16
            | (*chunk.get(1).unwrap_or(&0) as u32) << 8
            | *chunk.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= n {
                out.push(A[((v >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// An RSA 4096 key pair from `ssh-keygen`: (PKCS#8 PEM private key, OpenSSH public key).
fn ssh_key_pair() -> Result<(String, String)> {
    let dir = std::env::temp_dir().join(format!("kollars-genpwd-{}", hex(&random_bytes(8)?)));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .with_context(|| format!("creating {}", dir.display()))?;
    let result = ssh_keygen(&dir.join("id_rsa"));
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn ssh_keygen(key: &Path) -> Result<(String, String)> {
    let out = Command::new("ssh-keygen")
        .args([
            "-q", "-t", "rsa", "-b", "4096", "-m", "PKCS8", "-N", "", "-C", "", "-f",
        ])
        .arg(key)
        .output()
        .context("running ssh-keygen (needed for the *_ssh_key entries)")?;
    if !out.status.success() {
        bail!(
            "ssh-keygen failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let private = std::fs::read_to_string(key)?;
    let public = std::fs::read_to_string(key.with_extension("pub"))?;
    Ok((private, public.trim().to_string()))
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

fn needs_ssh_key(v: &Value) -> bool {
    match v {
        Value::Mapping(m) => {
            let missing = |k: &str| m.get(k).map(is_empty).unwrap_or(true);
            missing("private_key") && missing("public_key")
        }
        other => is_empty(other),
    }
}

/// The value genpwd gives to `key`, or None to leave it alone.
fn generate(key: &str, value: &Value) -> Result<Option<Value>> {
    if SSH_KEYS.contains(&key) {
        if !needs_ssh_key(value) {
            return Ok(None);
        }
        let (private, public) = ssh_key_pair()?;
        let mut m = Mapping::new();
        m.insert("private_key".into(), Value::String(private));
        m.insert("public_key".into(), Value::String(public));
        return Ok(Some(Value::Mapping(m)));
    }
    if !is_empty(value) || BLANK_KEYS.contains(&key) {
        return Ok(None);
    }
    let s = if UUID_KEYS.contains(&key) {
        uuid4()?
    } else if HEX_KEYS.contains(&key) {
        hex(&random_bytes(16)?)
    } else if FERNET_KEYS.contains(&key) {
        urlsafe_b64(&random_bytes(32)?)
    } else if BCRYPT_SALT_KEYS.contains(&key) {
        random_string(BCRYPT_ALPHABET, 22)?
    } else {
        random_string(ALNUM, PASSWORD_LENGTH)?
    };
    Ok(Some(Value::String(s)))
}

fn warn_permissions(path: &Path, fixing: bool) {
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = meta.permissions().mode();
        let tail = if fixing {
            " The permissions will be changed."
        } else {
            ""
        };
        if mode & 0o004 != 0 {
            crate::errln!(
                "WARNING: Passwords file \"{}\" is world-readable.{tail}",
                path.display()
            );
        }
        if mode & 0o002 != 0 {
            crate::errln!(
                "WARNING: Passwords file \"{}\" is world-writeable.{tail}",
                path.display()
            );
        }
    }
}

fn load(path: &Path, what: &str) -> Result<Mapping> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail!("{what} \"{}\" is missing", path.display())
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    match serde_yaml::from_str::<Value>(&text)
        .with_context(|| format!("{}: not valid YAML", path.display()))?
    {
        Value::Mapping(m) => Ok(m),
        _ => bail!(
            "{what} \"{}\" is not in the expected key/value format",
            path.display()
        ),
    }
}

/// The mode of a passwords file kollars writes where none was: kolla's.
const NEW_FILE_MODE: u32 = 0o640;

/// Writes `map` to `path`, keys sorted, through [`kollars_tree::replace_file`]: the old file
/// stays whole until the new one is complete and synced, so a full disk or a kill never
/// loses a password. The file keeps its mode without the bits for others (which kolla takes
/// away, see [`warn_permissions`]); a new file is 0640, as kolla makes it. A symlink is
/// followed: the file it points to is replaced.
fn store(path: &Path, map: &Mapping) -> Result<()> {
    let mut entries: Vec<(&Value, &Value)> = map.iter().collect();
    entries.sort_by_key(|(k, _)| k.as_str().map(str::to_string).unwrap_or_default());
    let sorted: Mapping = entries
        .into_iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let text = serde_yaml::to_string(&Value::Mapping(sorted))?;
    let (path, mode) = match std::fs::canonicalize(path) {
        Ok(real) => {
            let mode = std::fs::metadata(&real)
                .with_context(|| format!("reading {}", real.display()))?
                .permissions()
                .mode();
            (real, mode & 0o770)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (path.to_path_buf(), NEW_FILE_MODE),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    kollars_tree::replace_file(&path, text.as_bytes(), mode)
        .context("passwords not written, the file is as it was")?;
    Ok(())
}

/// Fills the empty keys of a passwords file.
pub fn genpwd(args: &GenpwdArgs) -> Result<ExitStatus> {
    let path = &args.passwords;
    let mut map = load(path, "Passwords file")?;
    warn_permissions(path, true);
    let mut filled = 0usize;
    for (k, v) in map.iter_mut() {
        let Some(key) = k.as_str() else { continue };
        if let Some(new) = generate(key, v)? {
            *v = new;
            filled += 1;
        }
    }
    store(path, &map)?;
    crate::errln!("{}: filled {filled} empty key(s)", path.display());
    Ok(ExitStatus::Success)
}

/// Merges an old passwords file into a new template.
pub fn mergepwd(args: &MergepwdArgs) -> Result<ExitStatus> {
    let old = load(&args.old, "Old passwords file")?;
    warn_permissions(&args.old, false);
    let mut new = load(&args.new, "New passwords file")?;
    warn_permissions(&args.new, false);
    // Valkey replaced Redis: carry the old Redis password over (as kolla-mergepwd does).
    let (valkey, redis) = (
        Value::from("valkey_master_password"),
        Value::from("redis_master_password"),
    );
    if new.contains_key(&valkey) && !old.contains_key(&valkey) {
        if let Some(pw) = old.get(&redis).filter(|v| !is_empty(v)) {
            new.insert(valkey, pw.clone());
        }
    }
    if args.clean {
        // only the template's keys, with the old values where there are some
        let keys: Vec<Value> = new.keys().cloned().collect();
        for k in keys {
            if let Some(v) = old.get(&k) {
                new.insert(k, v.clone());
            }
        }
    } else {
        for (k, v) in old {
            new.insert(k, v);
        }
    }
    store(&args.final_path, &new)?;
    Ok(ExitStatus::Success)
}
