//! Reaching a host's filesystem through its engine: config files into `node_config_directory`,
//! and a read-only probe (facts).
//!
//! kolla-ansible copies config files over SSH with Ansible's `template`/`copy` modules. kollars
//! already has a connection to every host's engine (`unix://`, `tcp://` with TLS, `ssh://`), so
//! it writes over that connection and needs nothing else on the host:
//!
//! - [`Engine::write_tree`] **creates, never starts**, a short-lived helper container from an
//!   image present on the host, with the host directory bind-mounted at
//!   [`HELPER_MOUNT`]. The engine mounts a created container's binds for archive operations
//!   (`GET`/`PUT /containers/{id}/archive`), so kollars downloads the directory as a tar,
//!   compares it with the directories and files it wants, and uploads one tar holding only the
//!   files whose content or mode differ and the directories that are missing or have another
//!   mode. Then the helper is removed, also when something failed.
//! - [`Engine::read_tree`] is the download half alone (for `plan`'s diffs).
//! - [`Engine::run_probe`] runs a one-shot container with host network and host UTS namespace
//!   (so it sees the host's interfaces and hostname), read-only binds of the host paths it
//!   needs, and returns its stdout.
//!
//! # Same tree as a local write
//! A host written through its engine must end up with exactly the tree the local writer
//! (`kollars_tree::write_local`) leaves: same paths, contents, file modes, directory modes,
//! and empty directories (haproxy's `services.d/`, proxysql's `users/` and `rules/`). So both
//! take the same value, a [`Tree`] whose directories are part of what is written, and the
//! same directory rules: `changes` runs [`Tree::make_directories`] (declared directories with
//! their modes, then files' directories with [`DEFAULT_DIR_MODE`], missing parents with the
//! mode of the directory that needed them) on `DirReplay`, a [`DirTarget`] over the
//! downloaded tree that records what to upload instead of making anything. Directories nobody
//! names (the root, an operator's extra directory) are left alone, as are files nobody names.
//!
//! # Atomicity
//! The engine's tar extraction replaces each file in place: it removes the old file and writes
//! the new one. A process that opens the file in that instant can find it missing or short.
//! The unit is therefore **one file**, not the tree, and not a temp-file-and-rename. This is
//! acceptable for kolla's layout: the files are read by `kolla_set_configs` when a container
//! starts, and `deploy` writes every file before it restarts anything. Only a container that
//! restarts on its own during the write (a crash loop) can see a half-written file, and the
//! restart kollars does next copies the complete one. Unchanged files are never rewritten.
//!
//! Files and directories are written as root:root (uid/gid 0 in the tar headers, as
//! kolla-ansible's `become` leaves them), with their modes.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use bollard::container::LogOutput;
use bollard::models::{ContainerCreateBody, HostConfig, Mount, MountTypeEnum};
use bollard::query_parameters::{
    CreateContainerOptions, DownloadFromContainerOptions, LogsOptions, RemoveContainerOptions,
    StartContainerOptions, UploadToContainerOptions, WaitContainerOptions,
};
use futures_util::{StreamExt, TryStreamExt};

#[cfg(doc)]
use kollars_tree::DEFAULT_DIR_MODE;
use kollars_tree::{DirTarget, Made, Tree, TreeFile};

use crate::engine::Engine;
use crate::error::{chain, is_not_found, DockerError, Result};
use crate::reporter::Step;

/// Where [`Engine::write_tree`]'s helper container sees the host directory.
pub const HELPER_MOUNT: &str = "/kollars-config";

/// Label on helper and probe containers (`kollars.helper=true`), so a container left behind
/// by a killed run can be found and removed ([`Engine::remove_leftover_helpers`]); never on
/// service containers.
pub const LABEL_HELPER: &str = "kollars.helper";

static HELPER_COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The labels of a helper or probe container: [`LABEL_HELPER`] and, so the next run can tell
/// whether its run is gone, [`crate::leftovers::LABEL_HELPER_OWNER`].
fn helper_labels() -> std::collections::HashMap<String, String> {
    let mut labels =
        std::collections::HashMap::from([(LABEL_HELPER.to_owned(), "true".to_owned())]);
    if let Some(owner) = crate::leftovers::this_owner() {
        labels.insert(crate::leftovers::LABEL_HELPER_OWNER.to_owned(), owner);
    }
    labels
}

/// What [`Engine::write_tree`] uploaded, by relative path. Both empty: nothing was uploaded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    /// Files whose content or mode changed (or that were missing).
    pub files: Vec<String>,
    /// Directories created or whose mode was set, parents first.
    pub dirs: Vec<String>,
}

fn unique_name(kind: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "kollars_{kind}_{}_{nanos}_{}",
        std::process::id(),
        HELPER_COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// Checks a relative path: not empty, not absolute, no `.`/`..`/empty components.
fn check_rel(path: &str) -> std::result::Result<(), String> {
    if path.is_empty() || path.starts_with('/') {
        return Err(format!("`{path}` is not a relative path"));
    }
    if path
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return Err(format!("`{path}` has an empty, `.` or `..` component"));
    }
    Ok(())
}

/// Parses the engine's archive of a directory: entries are `<basename>/...`; the first
/// component is dropped.
fn parse_tree(archive: &[u8]) -> std::io::Result<Tree> {
    let mut tree = Tree::default();
    let mut ar = tar::Archive::new(archive);
    for entry in ar.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.to_string_lossy().into_owned();
        let rel = match path.trim_end_matches('/').split_once('/') {
            Some((_, rest)) if !rest.is_empty() => rest.to_owned(),
            _ => continue, // the root itself
        };
        let mode = entry.header().mode()? & 0o7777;
        match entry.header().entry_type() {
            tar::EntryType::Directory => {
                tree.dirs.insert(rel, mode);
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let mut content = Vec::new();
                entry.read_to_end(&mut content)?;
                tree.files.insert(
                    rel.clone(),
                    TreeFile {
                        path: rel,
                        mode,
                        content,
                    },
                );
            }
            _ => {} // links and specials are left alone
        }
    }
    Ok(tree)
}

/// The downloaded tree as a [`DirTarget`]: the crate's directory rules run on it and it
/// records what to upload instead of making anything.
struct DirReplay<'a> {
    current: &'a Tree,
    /// Directory entries to upload: missing, or with another mode.
    upload: BTreeMap<String, u32>,
}

impl DirTarget for DirReplay<'_> {
    type Error = String;

    fn make(&mut self, dir: &str, mode: u32) -> std::result::Result<Made, String> {
        let mode = mode & 0o7777;
        if let Some(&have) = self.current.dirs.get(dir) {
            if have != mode {
                self.upload.insert(dir.to_owned(), mode);
            }
            return Ok(Made::Existed);
        }
        if self.current.files.contains_key(dir) {
            return Err(format!("`{dir}` is a file on the host, not a directory"));
        }
        if self.upload.contains_key(dir) {
            return Ok(Made::Existed);
        }
        let parent_there = match dir.rsplit_once('/') {
            // the root: the helper's mount
            None => true,
            Some((parent, _)) => {
                self.current.dirs.contains_key(parent) || self.upload.contains_key(parent)
            }
        };
        if !parent_there {
            return Ok(Made::ParentMissing);
        }
        self.upload.insert(dir.to_owned(), mode);
        Ok(Made::Created)
    }

    fn no_parent(&mut self, dir: &str) -> String {
        format!("`{dir}` has no parent directory on the host")
    }
}

/// What must be uploaded to turn `current` into a tree holding `tree`: directory entries
/// (path and mode, parents first) and the files whose content or mode differ. An error names
/// a path where a file is in the way of a directory, or the reverse.
fn changes<'a>(
    current: &Tree,
    tree: &'a Tree,
) -> std::result::Result<(BTreeMap<String, u32>, Vec<&'a TreeFile>), String> {
    let mut replay = DirReplay {
        current,
        upload: BTreeMap::new(),
    };
    tree.make_directories(&mut replay)?;
    // Every directory of the tree is now in one or the other.
    if let Some(f) = tree
        .files
        .values()
        .find(|f| current.dirs.contains_key(&f.path) || replay.upload.contains_key(&f.path))
    {
        return Err(format!("`{}` is a directory, not a file", f.path));
    }
    let changed = tree
        .files
        .values()
        .filter(|f| {
            current
                .files
                .get(&f.path)
                .is_none_or(|c| c.mode != f.mode & 0o7777 || c.content != f.content)
        })
        .collect();
    Ok((replay.upload, changed))
}

fn build_tar(dirs: &BTreeMap<String, u32>, files: &[&TreeFile]) -> std::io::Result<Vec<u8>> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut b = tar::Builder::new(Vec::new());
    let header = |kind: tar::EntryType, mode: u32, size: u64| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(now);
        h.set_size(size);
        h
    };
    // Sorted, so a directory comes before what it holds.
    for (d, &mode) in dirs {
        let mut h = header(tar::EntryType::Directory, mode, 0);
        b.append_data(&mut h, format!("{d}/"), std::io::empty())?;
    }
    for f in files {
        let mut h = header(
            tar::EntryType::Regular,
            f.mode & 0o7777,
            f.content.len() as u64,
        );
        b.append_data(&mut h, &f.path, f.content.as_slice())?;
    }
    b.into_inner()
}

impl Engine {
    fn transfer_err(
        &self,
        path: &Path,
        action: &'static str,
        detail: impl Into<String>,
    ) -> DockerError {
        DockerError::Transfer {
            host: self.host.clone(),
            endpoint: self.endpoint.clone(),
            path: path.to_owned(),
            action,
            detail: detail.into(),
        }
    }

    /// Creates (does not start) a helper container of `image` with `host_dir` mounted at
    /// [`HELPER_MOUNT`]. Writable: a bind the engine creates when `host_dir` is missing, and
    /// the image is pulled if missing. Read-only: neither is created, and a missing `host_dir`
    /// gives `Ok(None)`.
    async fn create_helper(
        &self,
        host_dir: &Path,
        image: &str,
        action: &'static str,
        writable: bool,
    ) -> Result<Option<String>> {
        if !host_dir.is_absolute() {
            let msg = "the host directory must be absolute";
            return Err(self.transfer_err(host_dir, action, msg));
        }
        if writable {
            self.ensure_image(image).await?;
        } else if self.image_id(image).await?.is_none() {
            let msg = format!("the helper image {image} is not on the host");
            return Err(self.transfer_err(host_dir, action, msg));
        }
        let name = unique_name("helper");
        let (binds, mounts) = if writable {
            let bind = format!("{}:{HELPER_MOUNT}:rw", host_dir.display());
            (Some(vec![bind]), None)
        } else {
            let mount = Mount {
                target: Some(HELPER_MOUNT.to_owned()),
                source: Some(host_dir.display().to_string()),
                typ: Some(MountTypeEnum::BIND),
                read_only: Some(true),
                ..Mount::default()
            };
            (None, Some(vec![mount]))
        };
        let body = ContainerCreateBody {
            image: Some(image.to_owned()),
            // Never started; a command keeps images without CMD creatable.
            cmd: Some(vec!["true".to_owned()]),
            network_disabled: Some(true),
            labels: Some(helper_labels()),
            host_config: Some(HostConfig {
                binds,
                mounts,
                network_mode: Some("none".to_owned()),
                ..HostConfig::default()
            }),
            ..ContainerCreateBody::default()
        };
        let options = CreateContainerOptions {
            name: Some(name.clone()),
            ..CreateContainerOptions::default()
        };
        match self.docker.create_container(Some(options), body).await {
            Ok(_) => Ok(Some(name)),
            // A read-only bind of a missing directory: nothing there yet.
            Err(e) if !writable && chain(&e).contains("does not exist") => Ok(None),
            Err(e) => Err(self.transfer_err(
                host_dir,
                action,
                format!("creating helper container from {image}: {}", chain(&e)),
            )),
        }
    }

    /// Removes a helper or probe container; a missing one is fine.
    async fn remove_helper(&self, name: &str, path: &Path, action: &'static str) -> Result<()> {
        match self
            .docker
            .remove_container(
                name,
                Some(RemoveContainerOptions {
                    force: true,
                    v: true,
                    ..RemoveContainerOptions::default()
                }),
            )
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(self.transfer_err(
                path,
                action,
                format!("removing helper container {name}: {}", chain(&e)),
            )),
        }
    }

    async fn download_tree(
        &self,
        helper: &str,
        host_dir: &Path,
        action: &'static str,
    ) -> Result<Tree> {
        let read = async {
            self.docker
                .download_from_container(
                    helper,
                    Some(DownloadFromContainerOptions {
                        path: HELPER_MOUNT.to_owned(),
                    }),
                )
                .map_ok(|chunk| chunk.to_vec())
                .try_concat()
                .await
                .map_err(|e| self.transfer_err(host_dir, action, format!("reading: {}", chain(&e))))
        };
        let what = format!("reading {} through the engine", host_dir.display());
        let bytes: Vec<u8> = self.while_answering(&what, read).await?;
        parse_tree(&bytes).map_err(|e| {
            self.transfer_err(
                host_dir,
                action,
                format!("reading the engine's archive: {e}"),
            )
        })
    }

    /// Everything under `host_dir` on the host, read through a helper container of `image`
    /// with a read-only mount. Changes nothing on the host: the image must already be there
    /// (else an error), and a missing `host_dir` reads as an empty tree.
    pub async fn read_tree(&self, host_dir: &Path, image: &str) -> Result<Tree> {
        let Some(helper) = self.create_helper(host_dir, image, "read", false).await? else {
            return Ok(Tree::default());
        };
        let r = self.download_tree(&helper, host_dir, "read").await;
        let removed = self.remove_helper(&helper, host_dir, "read").await;
        let tree = r?;
        removed?;
        Ok(tree)
    }

    /// Writes `tree` (paths relative to `host_dir`) into `host_dir` on the host through a
    /// helper container of `image` (pulled if missing), exactly as the local writer would
    /// (see the module docs): declared directories with their mode (empty ones included), the
    /// other directories of files [`DEFAULT_DIR_MODE`], files with their mode, all owned by
    /// root. Only what differs is uploaded; nothing else on the host is touched. Returns what
    /// was uploaded. See the module docs for the unit of atomicity (one file).
    pub async fn write_tree(&self, host_dir: &Path, tree: &Tree, image: &str) -> Result<Written> {
        for p in tree.dirs.keys().chain(tree.files.keys()) {
            check_rel(p).map_err(|e| self.transfer_err(host_dir, "write", e))?;
        }
        let subject = host_dir.display().to_string();
        self.step(&subject, Step::WriteConfig, async {
            let helper = self
                .create_helper(host_dir, image, "write", true)
                .await?
                .expect("a writable helper is always created");
            let r = async {
                let current = self.download_tree(&helper, host_dir, "write").await?;
                let (dirs, changed) =
                    changes(&current, tree).map_err(|e| self.transfer_err(host_dir, "write", e))?;
                if dirs.is_empty() && changed.is_empty() {
                    return Ok(Written::default());
                }
                let archive = build_tar(&dirs, &changed).map_err(|e| {
                    self.transfer_err(host_dir, "write", format!("building the archive: {e}"))
                })?;
                self.docker
                    .upload_to_container(
                        &helper,
                        Some(UploadToContainerOptions {
                            path: HELPER_MOUNT.to_owned(),
                            ..UploadToContainerOptions::default()
                        }),
                        bollard::body_full(archive.into()),
                    )
                    .await
                    .map_err(|e| {
                        self.transfer_err(host_dir, "write", format!("uploading: {}", chain(&e)))
                    })?;
                Ok(Written {
                    files: changed.iter().map(|f| f.path.clone()).collect(),
                    dirs: dirs.into_keys().collect(),
                })
            }
            .await;
            let removed = self.remove_helper(&helper, host_dir, "write").await;
            let written = r?;
            removed?;
            Ok(written)
        })
        .await
    }

    /// Runs `sh -c script` once on the host, in a container of `image` (pulled if missing)
    /// with host network and host UTS namespace, `ro_binds` (`(host path, container path)`,
    /// read-only; the host paths must exist) and the image's entrypoint, and returns its
    /// stdout. A non-zero exit is an error carrying the end of its stderr. The container is
    /// removed in every case.
    pub async fn run_probe(
        &self,
        image: &str,
        script: &str,
        ro_binds: &[(&str, &str)],
    ) -> Result<String> {
        let root = PathBuf::from("/");
        let perr = |detail: String| self.transfer_err(&root, "probe", detail);
        self.step("facts", Step::GatherFacts, async {
            self.ensure_image(image).await?;
            let name = unique_name("probe");
            let body = ContainerCreateBody {
                image: Some(image.to_owned()),
                cmd: Some(vec!["sh".to_owned(), "-c".to_owned(), script.to_owned()]),
                labels: Some(helper_labels()),
                host_config: Some(HostConfig {
                    network_mode: Some("host".to_owned()),
                    uts_mode: Some("host".to_owned()),
                    binds: Some(
                        ro_binds
                            .iter()
                            .map(|(h, c)| format!("{h}:{c}:ro"))
                            .collect(),
                    ),
                    ..HostConfig::default()
                }),
                ..ContainerCreateBody::default()
            };
            self.docker
                .create_container(
                    Some(CreateContainerOptions {
                        name: Some(name.clone()),
                        ..CreateContainerOptions::default()
                    }),
                    body,
                )
                .await
                .map_err(|e| {
                    perr(format!(
                        "creating probe container from {image}: {}",
                        chain(&e)
                    ))
                })?;
            let run = async {
                self.docker
                    .start_container(&name, None::<StartContainerOptions>)
                    .await
                    .map_err(|e| perr(format!("starting probe container: {}", chain(&e))))?;
                let wait = async {
                    let mut s = self
                        .docker
                        .wait_container(&name, None::<WaitContainerOptions>);
                    match s.next().await {
                        Some(Ok(r)) => Ok(r.status_code),
                        Some(Err(bollard::errors::Error::DockerContainerWaitError {
                            code,
                            ..
                        })) => Ok(code),
                        Some(Err(e)) => Err(perr(format!("waiting for the probe: {}", chain(&e)))),
                        None => Err(perr(
                            "the engine ended the wait without an exit code".into(),
                        )),
                    }
                };
                let code = tokio::time::timeout(
                    std::time::Duration::from_secs(self.common.client_timeout),
                    wait,
                )
                .await
                .map_err(|_| {
                    perr(format!(
                        "the probe did not exit within {} s",
                        self.common.client_timeout
                    ))
                })??;
                let read = async {
                    self.docker
                        .logs(
                            &name,
                            Some(LogsOptions {
                                stdout: true,
                                stderr: true,
                                ..LogsOptions::default()
                            }),
                        )
                        .try_collect::<Vec<LogOutput>>()
                        .await
                        .map_err(|e| perr(format!("reading the probe's output: {}", chain(&e))))
                };
                let chunks = self
                    .while_answering("reading the probe's output", read)
                    .await?;
                let (mut out, mut err) = (Vec::new(), Vec::new());
                for c in chunks {
                    match c {
                        LogOutput::StdErr { message } => err.extend_from_slice(&message),
                        LogOutput::StdOut { message } | LogOutput::Console { message } => {
                            out.extend_from_slice(&message)
                        }
                        LogOutput::StdIn { .. } => {}
                    }
                }
                if code != 0 {
                    let err = String::from_utf8_lossy(&err);
                    let lines: Vec<&str> = err.lines().collect();
                    return Err(perr(format!(
                        "the probe exited with code {code}: {}",
                        lines[lines.len().saturating_sub(10)..].join("\n")
                    )));
                }
                Ok(String::from_utf8_lossy(&out).into_owned())
            }
            .await;
            let removed = self.remove_helper(&name, &root, "probe").await;
            let out = run?;
            removed?;
            Ok(out)
        })
        .await
    }
}

#[cfg(test)]
mod tests;
