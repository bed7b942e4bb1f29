//! The run lock: two kollars runs against the same configuration directory never act at the
//! same time on this workstation.
//!
//! Commands that change hosts hold it from before they read anything from an engine until
//! they end (see `commands::prepare`). It is an advisory `flock` on a file of the user's own,
//! so that no one else can hold it, swap it or fill its directory:
//!
//! - the file is `<hash of the configuration directory>.lock` in `$XDG_RUNTIME_DIR/kollars`
//!   when that runtime directory is the user's, else in `$XDG_STATE_HOME/kollars` (default
//!   `~/.local/state/kollars`), or `$KOLLARS_LOCK_FILE`;
//! - the directory is made 0700 (and made 0700 again when it is more open), the file 0600; a
//!   directory or file that is a symlink or belongs to another user is refused, never used
//!   (a lock in `/tmp` that anyone could create first would let any local user block root's
//!   runs);
//! - a run that finds the lock held says so and waits, at most `--lock-timeout` seconds
//!   (default [`DEFAULT_TIMEOUT_SECS`]), then fails naming the lock and the pid of the run
//!   holding it (each holder writes its pid into the file).
//!
//! Runs on other workstations are not seen here; that is the hosts' own lock's business.

use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, FileExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a run waits for the lock unless told otherwise: longer than most deploys.
pub const DEFAULT_TIMEOUT_SECS: u64 = 600;

/// The lock, held until dropped (closing the file releases it).
#[derive(Debug)]
pub struct RunLock {
    _file: std::fs::File,
}

/// Why the lock could not be had.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Neither a runtime directory nor a home to keep the lock in.
    #[error("no directory of this user's for the run lock: set XDG_RUNTIME_DIR, HOME or KOLLARS_LOCK_FILE")]
    NoDirectory,
    /// The lock's directory or file could not be made, opened or locked.
    #[error("run lock {}", path.display())]
    Io {
        /// The directory or file.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The lock's directory or file is not one this user alone controls.
    #[error("refusing the run lock {}: {why}", path.display())]
    Unsafe {
        /// The directory or file.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// Another run held the lock for longer than the timeout.
    #[error(
        "another kollars run{} still holds the run lock {} after {} s; giving up \
         (--lock-timeout or KOLLARS_LOCK_TIMEOUT to wait longer)",
        holder.map(|p| format!(" (pid {p})")).unwrap_or_default(),
        path.display(),
        waited.as_secs()
    )]
    Timeout {
        /// The lock file.
        path: PathBuf,
        /// The pid the holder wrote, if it did.
        holder: Option<u32>,
        /// How long this run waited.
        waited: Duration,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> LockError + '_ {
    move |source| LockError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The user this process runs as (the owner of its `/proc` entry).
fn my_uid(path: &Path) -> Result<u32, LockError> {
    std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .map_err(io(path))
}

/// Where the lock of runs on `configdir` is: `$KOLLARS_LOCK_FILE`, or a file in this user's
/// private lock directory (made if missing, see the [module](self)).
pub fn path(configdir: &Path) -> Result<PathBuf, LockError> {
    if let Some(file) = crate::env::lock_file() {
        return Ok(file);
    }
    let name = format!("{}.lock", hash_path(configdir));
    let uid = my_uid(configdir)?;
    let runtime = crate::env::runtime_dir()
        .filter(|d| std::fs::symlink_metadata(d).is_ok_and(|m| m.is_dir() && m.uid() == uid));
    let dir = match runtime {
        Some(d) => d.join("kollars"),
        None => crate::env::state_dir()
            .ok_or(LockError::NoDirectory)?
            .join("kollars"),
    };
    private_dir(&dir, uid)?;
    Ok(dir.join(name))
}

/// Makes `dir` (and missing parents) 0700, or checks the one there is this user's own.
fn private_dir(dir: &Path, uid: u32) -> Result<(), LockError> {
    match std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
    {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io(dir)(e)),
    }
    let meta = std::fs::symlink_metadata(dir).map_err(io(dir))?;
    check_owner(dir, &meta, uid, "directory")?;
    if !meta.is_dir() {
        return Err(unsafe_lock(dir, "not a directory".into()));
    }
    if meta.permissions().mode() & 0o7777 != 0o700 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io(dir))?;
    }
    Ok(())
}

fn unsafe_lock(path: &Path, why: String) -> LockError {
    LockError::Unsafe {
        path: path.to_path_buf(),
        why,
    }
}

fn check_owner(
    path: &Path,
    meta: &std::fs::Metadata,
    uid: u32,
    what: &str,
) -> Result<(), LockError> {
    if meta.file_type().is_symlink() {
        return Err(unsafe_lock(path, format!("a symlink, not a {what}")));
    }
    if meta.uid() != uid {
        return Err(unsafe_lock(
            path,
            format!("owned by uid {}, not by this user (uid {uid})", meta.uid()),
        ));
    }
    Ok(())
}

/// Opens the lock file (made 0600 if missing) without following a symlink, and checks it is
/// this user's regular file.
fn open(path: &Path) -> Result<std::fs::File, LockError> {
    let uid = my_uid(path)?;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path);
    let file = match file {
        Ok(f) => f,
        // O_NOFOLLOW's answer for a symlink
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(unsafe_lock(path, "a symlink, not a file".into()))
        }
        Err(e) => return Err(io(path)(e)),
    };
    let meta = file.metadata().map_err(io(path))?;
    check_owner(path, &meta, uid, "file")?;
    if !meta.is_file() {
        return Err(unsafe_lock(path, "not a regular file".into()));
    }
    if meta.permissions().mode() & 0o7777 != 0o600 {
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(io(path))?;
    }
    Ok(file)
}

/// The pid the lock's holder wrote into it.
fn holder(file: &std::fs::File) -> Option<u32> {
    let mut buf = [0u8; 32];
    let n = file.read_at(&mut buf, 0).ok()?;
    std::str::from_utf8(&buf[..n]).ok()?.trim().parse().ok()
}

/// Takes the lock at `path`, waiting at most `timeout` for another run to release it (and
/// saying so once, when it has to wait).
pub async fn acquire(path: &Path, timeout: Duration) -> Result<RunLock, LockError> {
    let file = open(path)?;
    let start = Instant::now();
    let mut said = false;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(e)) => return Err(io(path)(e)),
        }
        let waited = start.elapsed();
        if waited >= timeout {
            return Err(LockError::Timeout {
                path: path.to_path_buf(),
                holder: holder(&file),
                waited,
            });
        }
        if !said {
            said = true;
            crate::errln!(
                "waiting for another kollars run{} to finish (lock {}, at most {} s)",
                holder(&file)
                    .map(|p| format!(" (pid {p})"))
                    .unwrap_or_default(),
                path.display(),
                timeout.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(100).min(timeout - waited)).await;
    }
    // for a run that waits: who holds it now
    let pid = format!("{}\n", std::process::id());
    file.set_len(0)
        .and_then(|()| file.write_all_at(pid.as_bytes(), 0))
        .map_err(io(path))?;
    Ok(RunLock { _file: file })
}

/// FNV-1a of the canonical path: one lock per configuration directory.
fn hash_path(p: &Path) -> String {
    let canonical = p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let mut h: u64 = 0xcbf29ce484222325;
    for b in canonical.to_string_lossy().bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}")
}
