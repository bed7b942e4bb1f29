//! kolla-ansible's `check_container_differs`, field by field (research §5.3).
//!
//! Each check yields [`Difference`]s `{field, current, desired}`, like kolla's
//! `comparison_failures`. The rules follow kolla's worker, including its asymmetries: the
//! environment is a subset check (the image adds `PATH` and friends), image-provided labels are
//! ignored, `security_opt` is not compared for privileged or host-ipc/pid containers,
//! dimensions that are not requested must be unset. Divergences, each because kolla's rule
//! would report a difference forever or miss one:
//! - `command` is compared with `Config.Cmd`, not `Path`+`Args` (those include the image's
//!   entrypoint, `dumb-init` in kolla images);
//! - image-declared volumes and healthchecks are accepted when the spec does not override them;
//! - `restart_policy` is compared, because kollars gives the engine the restart policy where
//!   kolla writes it into a systemd unit (whose text kolla compares);
//! - `graceful_timeout` (`Config.StopTimeout`) and `tty` are compared for the same reason.
//!
//! The `kollars.spec-hash` label is recorded for information (what a container was created
//! from) but is not a decision input: a spec whose hash changed while every compared field is
//! still satisfied (e.g. an environment key removed: kolla's subset rule) is not recreated.
//!
//! The container *state* and the *config* hash are not parameters; [`crate::Engine::decide`]
//! handles them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use bollard::models::{ContainerInspectResponse, HealthConfig, HostConfigCgroupnsModeEnum};
use serde::Serialize;

use crate::desired::{DesiredContainer, LABEL_CONFIG_HASH, LABEL_MANAGED, LABEL_SPEC_HASH};
use crate::spec::HealthTest;

/// One difference between the running container and the desired state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// The compared field (kolla's names: `image`, `volumes`, `environment`, ...).
    pub field: String,
    /// The engine's current value, rendered for humans.
    pub current: String,
    /// The desired value, rendered for humans.
    pub desired: String,
}

impl Difference {
    pub(crate) fn new(
        field: impl Into<String>,
        current: impl Into<String>,
        desired: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            current: current.into(),
            desired: desired.into(),
        }
    }
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} -> {}", self.field, self.current, self.desired)
    }
}

/// What the engine knows about the images involved.
#[derive(Debug, Clone, Default)]
pub struct ImageFacts {
    /// ID of the local image the desired `repo:tag` points to (`None`: not present locally).
    pub desired_image_id: Option<String>,
    /// Labels of the container's image (excluded from the labels comparison).
    pub image_labels: BTreeMap<String, String>,
    /// Volumes declared by the container's image.
    pub image_volumes: BTreeSet<String>,
    /// Healthcheck declared by the container's image.
    pub image_healthcheck: Option<HealthConfig>,
}

/// Every parameter difference between `current` and `desired` (kolla's
/// `check_container_differs`, in kolla's order).
pub fn compare(
    desired: &DesiredContainer,
    current: &ContainerInspectResponse,
    images: &ImageFacts,
) -> Vec<Difference> {
    let mut out = Vec::new();
    let config = current.config.clone().unwrap_or_default();
    let host = current.host_config.clone().unwrap_or_default();

    // cap_add: symmetric difference, `CAP_` prefix and case normalised.
    let norm_cap = |c: &String| {
        let c = c.to_ascii_uppercase();
        c.strip_prefix("CAP_").map(str::to_owned).unwrap_or(c)
    };
    let cur_caps: BTreeSet<String> = host.cap_add.iter().flatten().map(norm_cap).collect();
    let want_caps: BTreeSet<String> = desired.cap_add.iter().map(norm_cap).collect();
    if cur_caps != want_caps {
        out.push(Difference::new("cap_add", set(&cur_caps), set(&want_caps)));
    }

    // security_opt: skipped with host ipc/pid or privileged (Docker disables it there).
    let skip_secopt = desired.ipc_mode.as_deref() == Some("host")
        || desired.pid_mode.as_deref() == Some("host")
        || desired.privileged;
    if !skip_secopt {
        let cur: BTreeSet<String> = host.security_opt.iter().flatten().cloned().collect();
        if cur != desired.security_opt {
            out.push(Difference::new(
                "security_opt",
                set(&cur),
                set(&desired.security_opt),
            ));
        }
    }

    // image: the local image the tag points to must be the container's, and the container
    // must have been created from the same repo:tag.
    let cur_image_id = current.image.clone().unwrap_or_default();
    let cur_ref = config.image.clone().unwrap_or_default();
    match &images.desired_image_id {
        None => out.push(Difference::new(
            "image",
            format!("{cur_ref} ({})", short_id(&cur_image_id)),
            format!("{} (not present locally)", desired.image),
        )),
        Some(id) if *id != cur_image_id => out.push(Difference::new(
            "image",
            format!("{cur_ref} ({})", short_id(&cur_image_id)),
            format!("{} ({})", desired.image, short_id(id)),
        )),
        Some(_) if parse_repository_tag(&cur_ref) != parse_repository_tag(&desired.image) => {
            out.push(Difference::new("image", cur_ref, desired.image.clone()))
        }
        Some(_) => {}
    }

    // ipc_mode: only when desired; an empty current value is unset.
    if let Some(want) = &desired.ipc_mode {
        let cur = non_empty(host.ipc_mode.as_deref());
        if cur != Some(want.as_str()) {
            out.push(Difference::new("ipc_mode", opt(cur), want.clone()));
        }
    }

    // labels: the container's minus image-provided ones (unless the spec overrides them) and
    // minus kollars' own bookkeeping labels.
    let mut cur_labels: BTreeMap<String, String> = config
        .labels
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    for k in [LABEL_MANAGED, LABEL_SPEC_HASH, LABEL_CONFIG_HASH] {
        cur_labels.remove(k);
    }
    for (k, v) in &images.image_labels {
        if !desired.labels.contains_key(k) && cur_labels.get(k) == Some(v) {
            cur_labels.remove(k);
        }
    }
    if cur_labels != desired.labels {
        out.push(Difference::new(
            "labels",
            map(&cur_labels),
            map(&desired.labels),
        ));
    }

    // privileged: strict.
    let cur_priv = host.privileged.unwrap_or(false);
    if cur_priv != desired.privileged {
        out.push(Difference::new(
            "privileged",
            cur_priv.to_string(),
            desired.privileged.to_string(),
        ));
    }

    // pid_mode: unset and empty are the same.
    let cur_pid = non_empty(host.pid_mode.as_deref());
    if cur_pid != desired.pid_mode.as_deref() {
        out.push(Difference::new(
            "pid_mode",
            opt(cur_pid),
            opt(desired.pid_mode.as_deref()),
        ));
    }

    // cgroupns_mode: only when desired; an empty current value means `host`.
    if let Some(want) = &desired.cgroupns_mode {
        let cur = match host.cgroupns_mode {
            Some(HostConfigCgroupnsModeEnum::PRIVATE) => "private",
            _ => "host",
        };
        if cur != want {
            out.push(Difference::new("cgroupns_mode", cur, want.clone()));
        }
    }

    // tmpfs: set of paths.
    let cur_tmpfs: BTreeSet<String> = host.tmpfs.clone().unwrap_or_default().into_keys().collect();
    if cur_tmpfs != desired.tmpfs {
        out.push(Difference::new(
            "tmpfs",
            set(&cur_tmpfs),
            set(&desired.tmpfs),
        ));
    }

    // volumes: container paths (minus image-declared ones the spec does not name) and binds.
    let cur_paths: BTreeSet<String> = config
        .volumes
        .clone()
        .unwrap_or_default()
        .into_keys()
        .filter(|p| desired.container_paths.contains(p) || !images.image_volumes.contains(p))
        .collect();
    let cur_binds: BTreeSet<String> = host.binds.iter().flatten().cloned().collect();
    if cur_paths != desired.container_paths || cur_binds != desired.binds {
        out.push(Difference::new(
            "volumes",
            set(&cur_binds.union(&cur_paths).cloned().collect()),
            set(&desired
                .binds
                .union(&desired.container_paths)
                .cloned()
                .collect()),
        ));
    }

    // volumes_from.
    let cur_vf: BTreeSet<String> = host.volumes_from.iter().flatten().cloned().collect();
    if cur_vf != desired.volumes_from {
        out.push(Difference::new(
            "volumes_from",
            set(&cur_vf),
            set(&desired.volumes_from),
        ));
    }

    // environment: every desired key present with the same value; extra keys are ignored.
    let cur_env: BTreeMap<&str, &str> = config
        .env
        .iter()
        .flatten()
        .map(|kv| kv.split_once('=').unwrap_or((kv.as_str(), "")))
        .collect();
    for (k, v) in &desired.env {
        match cur_env.get(k.as_str()) {
            Some(cur) if *cur == v => {}
            Some(cur) => out.push(Difference::new(
                format!("environment.{k}"),
                format!("{k}={cur}"),
                format!("{k}={v}"),
            )),
            None => out.push(Difference::new(
                format!("environment.{k}"),
                format!("{k} unset"),
                format!("{k}={v}"),
            )),
        }
    }

    compare_dimensions(desired, &host, &mut out);

    // command: against Config.Cmd (see module docs).
    if let Some(want) = &desired.cmd {
        let cur = config.cmd.clone().unwrap_or_default();
        if &cur != want {
            out.push(Difference::new("command", cur.join(" "), want.join(" ")));
        }
    }

    // healthcheck.
    let cur_hc = config.healthcheck.clone();
    let hc_ok = match &desired.healthcheck {
        None => cur_hc.is_none() || cur_hc == images.image_healthcheck,
        Some(h) if h.test == HealthTest::None => cur_hc
            .as_ref()
            .is_none_or(|c| c.test.as_deref() == Some(&["NONE".to_owned()][..])),
        Some(_) => {
            let want = desired.health_config();
            let strip = |h: Option<HealthConfig>| {
                h.map(|h| (h.test, h.interval, h.timeout, h.start_period, h.retries))
            };
            strip(cur_hc.clone()) == strip(want)
        }
    };
    if !hc_ok {
        out.push(Difference::new(
            "healthcheck",
            health(cur_hc.as_ref()),
            health(desired.health_config().as_ref()),
        ));
    }

    // restart_policy (kollars: the engine's restart policy stands in for kolla's systemd unit).
    let cur_rp = host
        .restart_policy
        .as_ref()
        .and_then(|r| r.name)
        .map(|n| n.to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "no".to_owned());
    if cur_rp != desired.restart_policy.docker_name() {
        out.push(Difference::new(
            "restart_policy",
            cur_rp,
            desired.restart_policy.docker_name(),
        ));
    }

    // graceful_timeout and tty: parameters kolla keeps in the systemd unit or ignores; kollars
    // gives them to the engine (`StopTimeout`, `Tty`), so they are compared.
    let cur_stop = config.stop_timeout.unwrap_or(10);
    if cur_stop != desired.stop_timeout as i64 {
        out.push(Difference::new(
            "graceful_timeout",
            cur_stop.to_string(),
            desired.stop_timeout.to_string(),
        ));
    }
    let cur_tty = config.tty.unwrap_or(false);
    if cur_tty != desired.tty {
        out.push(Difference::new(
            "tty",
            cur_tty.to_string(),
            desired.tty.to_string(),
        ));
    }
    out
}

fn compare_dimensions(
    desired: &DesiredContainer,
    host: &bollard::models::HostConfig,
    out: &mut Vec<Difference>,
) {
    let d = &desired.dimensions;
    let ints: [(&str, Option<i64>, Option<i64>); 6] = [
        ("mem_limit", d.mem_limit, host.memory),
        (
            "mem_reservation",
            d.mem_reservation,
            host.memory_reservation,
        ),
        ("memswap_limit", d.memswap_limit, host.memory_swap),
        ("cpu_period", d.cpu_period, host.cpu_period),
        ("cpu_quota", d.cpu_quota, host.cpu_quota),
        ("cpu_shares", d.cpu_shares, host.cpu_shares),
    ];
    for (name, want, cur) in ints {
        let cur = cur.unwrap_or(0);
        let differs = match want {
            Some(w) => cur != w,
            // Docker fills MemorySwap itself when only a memory limit is set (2x, or -1).
            None if name == "memswap_limit" && d.mem_limit.is_some() => false,
            None => cur != 0,
        };
        if differs {
            out.push(Difference::new(
                format!("dimensions.{name}"),
                cur.to_string(),
                want.map_or_else(|| "unset".to_owned(), |w| w.to_string()),
            ));
        }
    }
    let strs = [
        ("cpuset_cpus", &d.cpuset_cpus, &host.cpuset_cpus),
        ("cpuset_mems", &d.cpuset_mems, &host.cpuset_mems),
    ];
    for (name, want, cur) in strs {
        let cur = non_empty(cur.as_deref());
        if cur != want.as_deref() {
            out.push(Difference::new(
                format!("dimensions.{name}"),
                opt(cur),
                opt(want.as_deref()),
            ));
        }
    }
    let cur_blkio = host.blkio_weight.unwrap_or(0);
    if cur_blkio != d.blkio_weight.unwrap_or(0) {
        out.push(Difference::new(
            "dimensions.blkio_weight",
            cur_blkio.to_string(),
            d.blkio_weight.unwrap_or(0).to_string(),
        ));
    }
    let mut cur_ul: Vec<(String, i64, i64)> = host
        .ulimits
        .iter()
        .flatten()
        .map(|u| {
            (
                u.name.clone().unwrap_or_default(),
                u.soft.unwrap_or(0),
                u.hard.unwrap_or(0),
            )
        })
        .collect();
    cur_ul.sort();
    let want_ul: Vec<(String, i64, i64)> = d
        .ulimits
        .iter()
        .map(|(n, u)| (n.clone(), u.soft, u.hard))
        .collect();
    if cur_ul != want_ul {
        let show = |v: &[(String, i64, i64)]| {
            v.iter()
                .map(|(n, s, h)| format!("{n}={s}:{h}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        out.push(Difference::new(
            "dimensions.ulimits",
            show(&cur_ul),
            show(&want_ul),
        ));
    }
}

/// kolla's `parse_repository_tag`: `(repo, tag)`, tag `latest` when absent; a digest counts as
/// the tag.
pub fn parse_repository_tag(image: &str) -> (String, String) {
    if let Some((repo, digest)) = image.split_once('@') {
        return (repo.to_owned(), digest.to_owned());
    }
    match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo.to_owned(), tag.to_owned()),
        _ => (image.to_owned(), "latest".to_owned()),
    }
}

fn short_id(id: &str) -> String {
    let id = id.strip_prefix("sha256:").unwrap_or(id);
    if id.is_empty() {
        "none".to_owned()
    } else {
        id.chars().take(12).collect()
    }
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.is_empty())
}

fn opt(s: Option<&str>) -> String {
    s.unwrap_or("unset").to_owned()
}

fn set(s: &BTreeSet<String>) -> String {
    if s.is_empty() {
        "[]".to_owned()
    } else {
        format!("[{}]", s.iter().cloned().collect::<Vec<_>>().join(", "))
    }
}

fn map(m: &BTreeMap<String, String>) -> String {
    format!(
        "{{{}}}",
        m.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn health(h: Option<&HealthConfig>) -> String {
    match h {
        None => "none".to_owned(),
        Some(h) => format!(
            "test={:?} interval={}s timeout={}s start_period={}s retries={}",
            h.test.clone().unwrap_or_default(),
            h.interval.unwrap_or(0) / 1_000_000_000,
            h.timeout.unwrap_or(0) / 1_000_000_000,
            h.start_period.unwrap_or(0) / 1_000_000_000,
            h.retries.unwrap_or(0)
        ),
    }
}

#[cfg(test)]
mod tests;
