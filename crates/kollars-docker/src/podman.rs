//! Podman's Docker-compatible API, read as dockerd's.
//!
//! Why a module of its own: podman (`podman system service`, Debian's 4.3) answers the same
//! requests as dockerd, but its inspect output for a container created from the same body
//! differs in ways that would make every run see a change (research: remote-engines.md).
//! [`normalize`] rewrites a podman inspect into what dockerd would have shown for the same
//! create request, so [`crate::compare`] keeps one set of kolla's rules for both engines, and
//! each rewrite is unit-tested here:
//! - `HostConfig.Binds` gain the propagation and mount flags podman applies by default
//!   (`rprivate`, `rbind`, and `nosuid,nodev` for named volumes) and `rw` beside `shared`;
//! - `IpcMode` reads `shareable` for both the host's IPC namespace and the default (podman's
//!   compat inspect cannot tell them apart): it counts as whatever was asked for;
//! - `PidMode` reads `private` for the default (kolla's podman worker: None equals `private`);
//! - `CgroupnsMode` is always empty (not reported): it counts as whatever was asked for;
//! - ulimit names are `RLIMIT_NOFILE`, and the engine's default ulimits (containers.conf
//!   `default_ulimits`) show on every container: the names are lowered to Docker's, and a
//!   `nofile`/`nproc` limit that was not asked for is the engine's default, not a difference;
//! - `Config.Image` is qualified (`docker.io/kollars/cron:latest`, `localhost/…`): the
//!   qualification is dropped when the desired reference has none;
//! - the container listing keeps showing a container's image name after the tag moved to
//!   another image (dockerd shows the image ID then, which the survey relies on): the survey
//!   checks each listed name's image ID ([`crate::Engine::survey`]).
//!
//! One difference goes the other way, in the create request ([`adapt_create`]): podman makes
//! an anonymous volume of every `Config.Volumes` path, so a path that a bind also mounts is a
//! "duplicate mount destination"; only the paths no bind mounts are sent there.
//!
//! What podman adds that the comparison already ignores: extra environment (`TERM`,
//! `container=podman`, `HOSTNAME`; kolla's environment rule is a subset check), image labels
//! (`io.buildah.version`, excluded as image-provided), `Entrypoint: []` (not compared).

use std::collections::{BTreeSet, HashMap};

use bollard::models::{ContainerInspectResponse, HostConfigCgroupnsModeEnum};

use crate::desired::DesiredContainer;

/// Mount options podman adds to a bind or named volume by itself.
const IMPLIED_MOUNT_OPTIONS: [&str; 4] = ["rprivate", "rbind", "nosuid", "nodev"];

/// Ulimits podman applies to every container from its `containers.conf`.
const ENGINE_DEFAULT_ULIMITS: [&str; 2] = ["nofile", "nproc"];

/// Rewrites podman's inspect of a container into dockerd's form for comparing with `desired`.
pub fn normalize(current: &mut ContainerInspectResponse, desired: &DesiredContainer) {
    let host = current.host_config.get_or_insert_with(Default::default);
    let config = current.config.get_or_insert_with(Default::default);
    if let Some(image) = config.image.as_mut() {
        *image = unqualified_image(image, &desired.image);
    }
    if let Some(binds) = host.binds.as_mut() {
        // anonymous volumes show as binds of their generated volume's name
        let mut anonymous = Vec::new();
        binds.retain(|b| match anonymous_volume(b) {
            Some(dst) => {
                anonymous.push(dst.to_owned());
                false
            }
            None => true,
        });
        for b in binds.iter_mut() {
            *b = docker_bind(b, &desired.binds);
        }
        // `Config.Volumes` is null: dockerd shows every volume's container path there
        if config.volumes.is_none() {
            let paths: HashMap<String, HashMap<(), ()>> = binds
                .iter()
                .filter_map(|b| b.split(':').nth(1))
                .map(str::to_owned)
                .chain(anonymous)
                .map(|p| (p, HashMap::new()))
                .collect();
            config.volumes = (!paths.is_empty()).then_some(paths);
        }
        if binds.is_empty() {
            host.binds = None;
        }
    }
    if host.ipc_mode.as_deref() == Some("shareable") {
        host.ipc_mode = desired.ipc_mode.clone();
    }
    if host.pid_mode.as_deref() == Some("private") {
        host.pid_mode = None;
    }
    if host.cgroupns_mode.is_none_or(|m| m.to_string().is_empty()) {
        host.cgroupns_mode = desired.cgroupns_mode.as_deref().map(|m| match m {
            "private" => HostConfigCgroupnsModeEnum::PRIVATE,
            _ => HostConfigCgroupnsModeEnum::HOST,
        });
    }
    if let Some(ulimits) = host.ulimits.as_mut() {
        for u in ulimits.iter_mut() {
            if let Some(name) = u.name.as_mut() {
                *name = docker_ulimit_name(name);
            }
        }
        ulimits.retain(|u| {
            let name = u.name.as_deref().unwrap_or_default();
            desired.dimensions.ulimits.contains_key(name) || !ENGINE_DEFAULT_ULIMITS.contains(&name)
        });
    }
}

/// The container path of an anonymous volume as podman shows it in `Binds`
/// (`<64 hex digits>:/path:opts`), else `None`.
fn anonymous_volume(bind: &str) -> Option<&str> {
    let mut parts = bind.split(':');
    let src = parts.next()?;
    let dst = parts.next()?;
    (src.len() == 64 && src.bytes().all(|b| b.is_ascii_hexdigit())).then_some(dst)
}

/// The create request for podman: `Config.Volumes` holds only the container paths no bind
/// mounts (dockerd accepts both, podman refuses a path mounted twice).
pub fn adapt_create(body: &mut bollard::models::ContainerCreateBody) {
    let bound: BTreeSet<String> = body
        .host_config
        .as_ref()
        .and_then(|h| h.binds.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|b| b.split(':').nth(1))
        .map(|d| d.trim_end_matches('/').to_owned())
        .collect();
    if let Some(v) = body.volumes.as_mut() {
        v.retain(|path, _| !bound.contains(path.trim_end_matches('/')));
        if v.is_empty() {
            body.volumes = None;
        }
    }
}

/// `RLIMIT_NOFILE` → `nofile`.
pub fn docker_ulimit_name(name: &str) -> String {
    name.strip_prefix("RLIMIT_")
        .map_or_else(|| name.to_owned(), str::to_ascii_lowercase)
}

/// `current` (podman's `Config.Image`) without the registry podman put before a reference
/// that `desired` gives unqualified.
pub fn unqualified_image(current: &str, desired: &str) -> String {
    for prefix in ["docker.io/library/", "docker.io/", "localhost/"] {
        if let Some(rest) = current.strip_prefix(prefix) {
            if !desired.starts_with(prefix) && (rest == desired || same_repo(rest, desired)) {
                return rest.to_owned();
            }
        }
    }
    current.to_owned()
}

/// `image` without the registry podman puts before an unqualified reference
/// (`docker.io/library/`, `docker.io/`, `localhost/`).
pub fn unqualified(image: &str) -> String {
    ["docker.io/library/", "docker.io/", "localhost/"]
        .iter()
        .find_map(|p| image.strip_prefix(p))
        .unwrap_or(image)
        .to_owned()
}

fn same_repo(a: &str, b: &str) -> bool {
    crate::compare::parse_repository_tag(a).0 == crate::compare::parse_repository_tag(b).0
}

/// A podman bind (`src:dst:opts`) as dockerd shows the desired bind it stands for: the
/// desired string itself when they mean the same mount, else podman's without the options it
/// implies.
pub fn docker_bind(current: &str, desired: &BTreeSet<String>) -> String {
    let key = bind_key(current);
    if let Some(d) = desired.iter().find(|d| bind_key(d) == key) {
        return d.clone();
    }
    let (head, opts) = split_bind(current);
    let kept: Vec<&str> = opts
        .iter()
        .copied()
        .filter(|o| !IMPLIED_MOUNT_OPTIONS.contains(o))
        .collect();
    if kept.is_empty() {
        head.to_owned()
    } else {
        format!("{head}:{}", kept.join(","))
    }
}

/// `src:dst:opts` → `(src:dst, [opts])`.
fn split_bind(bind: &str) -> (&str, Vec<&str>) {
    let mut parts = bind.splitn(3, ':');
    let src = parts.next().unwrap_or_default();
    let dst = parts.next().unwrap_or_default();
    let head = &bind[..src.len() + if dst.is_empty() { 0 } else { dst.len() + 1 }];
    let opts = parts
        .next()
        .map(|o| o.split(',').filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    (head, opts)
}

/// What a bind means: source and destination without a trailing `/` (podman drops it), and
/// its options less the
/// ones podman implies, with `rw` when not `ro`.
fn bind_key(bind: &str) -> (String, String, Vec<String>) {
    let (head, opts) = split_bind(bind);
    let (src, dst) = head.split_once(':').unwrap_or((head, ""));
    let trim = |p: &str| match p.trim_end_matches('/') {
        "" => p.to_owned(),
        t => t.to_owned(),
    };
    let mut o: Vec<String> = opts
        .into_iter()
        .filter(|o| !IMPLIED_MOUNT_OPTIONS.contains(o))
        .map(str::to_owned)
        .collect();
    if !o.iter().any(|x| x == "ro" || x == "rw") {
        o.push("rw".to_owned());
    }
    o.sort();
    o.dedup();
    (trim(src), trim(dst), o)
}

#[cfg(test)]
mod tests;
