//! The desired state of one container, as a kolla-ansible service dict describes it.
//!
//! kolla-ansible passes a service's keys (`container_name`, `image`, `volumes`, `privileged`,
//! `environment`, `dimensions`, `healthcheck`, ...) to `kolla_container` twice: once to compare
//! (`check-containers`) and once to create (the restart handler), and the two calls pass
//! different subsets of keys (research §5.3, "Caveat"). kollars has one type, [`ContainerSpec`],
//! from which both the create options and the comparison are derived (through
//! [`crate::DesiredContainer`]), so they cannot disagree.
//!
//! The type deserializes from the *evaluated* service YAML. Values that Jinja renders to
//! strings are accepted the way Ansible's module argument parsing accepts them: `"yes"`/`"True"`
//! as booleans, digit strings as integers, a Python-literal list string (`"['CMD-SHELL', 'x']"`)
//! as a healthcheck test list. Keys kollars does not use (`group`, `enabled`, `haproxy`, `wsgi`,
//! ...) are ignored.

use std::collections::BTreeMap;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// Desired state of one container: the one type both compare and create are derived from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct ContainerSpec {
    /// Engine container name (`container_name` in kolla service dicts), e.g. `nova_api`.
    #[serde(alias = "container_name")]
    pub name: String,
    /// Full image reference `repo:tag`.
    pub image: String,
    /// Command (shell words, split like `shlex.split`); `None` keeps the image's `CMD`.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub command: Option<String>,
    /// Environment; a null value becomes `""` (kolla: `KOLLA_BOOTSTRAP: null`).
    #[serde(default, deserialize_with = "de_string_map")]
    pub environment: BTreeMap<String, String>,
    /// Labels; a null value becomes `""`.
    #[serde(default, deserialize_with = "de_string_map")]
    pub labels: BTreeMap<String, String>,
    /// kolla volume strings `src:dst[:mode]`; empty strings are dropped, a source without `/` is
    /// a named volume.
    #[serde(default, deserialize_with = "de_string_list")]
    pub volumes: Vec<String>,
    /// Containers whose volumes to mount (`volumes_from`).
    #[serde(default, deserialize_with = "de_string_list")]
    pub volumes_from: Vec<String>,
    /// Run privileged.
    #[serde(default, deserialize_with = "de_bool")]
    pub privileged: bool,
    /// Added capabilities.
    #[serde(default, deserialize_with = "de_string_list")]
    pub cap_add: Vec<String>,
    /// Security options (`apparmor=...`, `label=...`).
    #[serde(default, deserialize_with = "de_string_list")]
    pub security_opt: Vec<String>,
    /// IPC mode (`host`, `private`, `shareable`); `""` means unset.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub ipc_mode: Option<String>,
    /// PID mode (`host`, `private`); `""` means unset.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub pid_mode: Option<String>,
    /// Cgroup namespace mode (`host`, `private`); `""` means unset.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub cgroupns_mode: Option<String>,
    /// Paths mounted as tmpfs.
    #[serde(default, deserialize_with = "de_string_list")]
    pub tmpfs: Vec<String>,
    /// Resource limits (kolla's dimension keys).
    #[serde(default)]
    pub dimensions: Dimensions,
    /// Healthcheck; `None` keeps the image's (kolla images have none).
    #[serde(default, deserialize_with = "de_healthcheck")]
    pub healthcheck: Option<Healthcheck>,
    /// Restart policy; `None` takes the engine's [`crate::CommonOptions::restart_policy`].
    #[serde(default)]
    pub restart_policy: Option<RestartPolicy>,
    /// Seconds `stop` waits before killing; `None` takes
    /// [`crate::CommonOptions::graceful_timeout`].
    #[serde(default, deserialize_with = "de_opt_u64")]
    pub graceful_timeout: Option<u64>,
    /// Allocate a TTY.
    #[serde(default, deserialize_with = "de_bool")]
    pub tty: bool,
}

impl ContainerSpec {
    /// A spec with only a name and an image; set the other public fields as needed.
    pub fn new(name: impl Into<String>, image: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            image: image.into(),
            ..Self::default()
        }
    }

    /// The spec of the one-shot bootstrap container kolla-ansible runs before a service starts
    /// (`bootstrap_service.yml`): same image and volumes, `KOLLA_BOOTSTRAP` set (the image's
    /// `extend_start.sh` then runs `db_sync` and exits), label `BOOTSTRAP`, restart policy
    /// `oneshot`, no healthcheck.
    pub fn bootstrap(&self, name: impl Into<String>) -> ContainerSpec {
        let mut environment = BTreeMap::new();
        environment.insert("KOLLA_BOOTSTRAP".to_owned(), String::new());
        let mut labels = BTreeMap::new();
        labels.insert("BOOTSTRAP".to_owned(), String::new());
        ContainerSpec {
            name: name.into(),
            image: self.image.clone(),
            environment,
            labels,
            volumes: self.volumes.clone(),
            privileged: self.privileged,
            restart_policy: Some(RestartPolicy::Oneshot),
            ..ContainerSpec::default()
        }
    }

    /// Parses the volume strings (empty ones dropped) as kolla's `generate_volumes` does.
    pub fn parsed_volumes(&self) -> Result<Vec<Volume>, String> {
        self.volumes
            .iter()
            .filter(|v| !v.trim().is_empty())
            .map(|v| Volume::parse(v))
            .collect()
    }
}

/// One parsed kolla volume string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Volume {
    /// `dst` alone: an anonymous volume.
    Anonymous {
        /// Container path.
        dst: String,
    },
    /// `src:dst[:mode]`; `src` without `/` is a named volume.
    Bind {
        /// Host path or volume name.
        src: String,
        /// Container path.
        dst: String,
        /// Mode (`rw`, `ro`, `shared`, `ro,shared`, ...); `rw` when the spec had two parts.
        mode: String,
    },
}

impl Volume {
    /// Parses `src:dst[:mode]` like kolla's `generate_volumes`: a 2-part spec gets `:rw`.
    pub fn parse(spec: &str) -> Result<Volume, String> {
        let spec = spec.trim();
        let parts: Vec<&str> = spec.split(':').collect();
        match parts.as_slice() {
            [dst] => Ok(Volume::Anonymous {
                dst: (*dst).to_owned(),
            }),
            [src, dst] if !src.is_empty() && !dst.is_empty() => Ok(Volume::Bind {
                src: (*src).to_owned(),
                dst: (*dst).to_owned(),
                mode: "rw".to_owned(),
            }),
            [src, dst, mode] if !src.is_empty() && !dst.is_empty() && !mode.is_empty() => {
                Ok(Volume::Bind {
                    src: (*src).to_owned(),
                    dst: (*dst).to_owned(),
                    mode: (*mode).to_owned(),
                })
            }
            _ => Err(format!("volume `{spec}` is not `src:dst[:mode]`")),
        }
    }

    /// The container path.
    pub fn dst(&self) -> &str {
        match self {
            Volume::Anonymous { dst } | Volume::Bind { dst, .. } => dst,
        }
    }

    /// The named volume this mounts, if its source has no `/`.
    pub fn named(&self) -> Option<&str> {
        match self {
            Volume::Bind { src, .. } if !src.contains('/') => Some(src),
            _ => None,
        }
    }

    /// The bind string Docker stores in `HostConfig.Binds` (`src:dst:mode`).
    pub fn bind(&self) -> Option<String> {
        match self {
            Volume::Bind { src, dst, mode } => Some(format!("{src}:{dst}:{mode}")),
            Volume::Anonymous { .. } => None,
        }
    }
}

/// kolla's restart policies (`kolla_container` `restart_policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum RestartPolicy {
    /// Never restart.
    #[serde(rename = "no")]
    No,
    /// Restart on non-zero exit, up to `restart_retries` times.
    #[serde(rename = "on-failure")]
    OnFailure,
    /// A one-shot container (bootstrap): never restarted, no systemd unit in kolla.
    #[serde(rename = "oneshot")]
    Oneshot,
    /// Always restart.
    #[serde(rename = "always")]
    Always,
    /// Restart unless explicitly stopped: kolla's default, and what kollars gives the engine.
    #[serde(rename = "unless-stopped")]
    UnlessStopped,
}

impl RestartPolicy {
    /// Every policy with its kolla name, in the order kolla's module lists its choices.
    pub const ALL: [(&'static str, RestartPolicy); 5] = [
        ("no", RestartPolicy::No),
        ("on-failure", RestartPolicy::OnFailure),
        ("oneshot", RestartPolicy::Oneshot),
        ("always", RestartPolicy::Always),
        ("unless-stopped", RestartPolicy::UnlessStopped),
    ];

    /// The kolla name (`no`, `on-failure`, `oneshot`, `always`, `unless-stopped`).
    pub fn name(self) -> &'static str {
        RestartPolicy::ALL
            .iter()
            .find(|(_, p)| *p == self)
            .map(|(n, _)| *n)
            .expect("every policy is in ALL")
    }

    /// Parses a kolla restart policy name, exactly as kolla's module checks its `choices`
    /// (so `docker_restart_policy: oneshot` is accepted, as kolla accepts it). Anything else is
    /// an [`UnknownRestartPolicy`] naming the value and the allowed ones.
    pub fn parse(value: &str) -> Result<RestartPolicy, UnknownRestartPolicy> {
        RestartPolicy::ALL
            .iter()
            .find(|(n, _)| *n == value)
            .map(|(_, p)| *p)
            .ok_or_else(|| UnknownRestartPolicy {
                value: value.to_owned(),
            })
    }

    /// The Docker restart policy name this maps to (`oneshot` is Docker's `no`).
    pub fn docker_name(self) -> &'static str {
        match self {
            RestartPolicy::No | RestartPolicy::Oneshot => "no",
            RestartPolicy::OnFailure => "on-failure",
            RestartPolicy::Always => "always",
            RestartPolicy::UnlessStopped => "unless-stopped",
        }
    }
}

impl std::str::FromStr for RestartPolicy {
    type Err = UnknownRestartPolicy;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        RestartPolicy::parse(value)
    }
}

impl std::fmt::Display for RestartPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A restart policy name kolla does not know ([`RestartPolicy::parse`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown restart policy `{value}`: expected one of no, on-failure, oneshot, always, \
     unless-stopped"
)]
pub struct UnknownRestartPolicy {
    /// The value as given.
    pub value: String,
}

/// kolla's healthcheck dict: exactly `interval`, `retries`, `start_period`, `test`, `timeout`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Healthcheck {
    /// The test; [`HealthTest::None`] (`NONE`) disables any healthcheck.
    pub test: HealthTest,
    /// Seconds between checks.
    pub interval: u64,
    /// Seconds before a check is considered hung.
    pub timeout: u64,
    /// Seconds of grace after start.
    pub start_period: u64,
    /// Consecutive failures before unhealthy.
    pub retries: u64,
}

/// A healthcheck test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum HealthTest {
    /// `NONE`: no healthcheck (also disables one declared by the image).
    None,
    /// `["CMD-SHELL", "..."]` or `["CMD", ...]`; a plain string is wrapped as `CMD-SHELL`.
    Command(Vec<String>),
}

impl Healthcheck {
    /// Parses kolla's dict (research §7): all five keys required, no others.
    pub fn from_value(v: &Value) -> Result<Option<Healthcheck>, String> {
        let map = match v {
            Value::Null => return Ok(None),
            Value::Object(m) if m.is_empty() => return Ok(None),
            Value::Object(m) => m,
            other => return Err(format!("healthcheck must be a dict, got {other}")),
        };
        const KEYS: [&str; 5] = ["interval", "retries", "start_period", "test", "timeout"];
        if let Some(k) = map.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(format!("healthcheck: unsupported key `{k}`"));
        }
        if let Some(k) = KEYS.iter().find(|k| !map.contains_key(**k)) {
            return Err(format!("healthcheck: missing key `{k}`"));
        }
        let int = |k: &str| value_u64(&map[k]).map_err(|e| format!("healthcheck `{k}`: {e}"));
        let test = parse_health_test(&map["test"])?;
        Ok(Some(Healthcheck {
            test,
            interval: int("interval")?,
            timeout: int("timeout")?,
            start_period: int("start_period")?,
            retries: int("retries")?,
        }))
    }
}

fn parse_health_test(v: &Value) -> Result<HealthTest, String> {
    let list: Vec<String> = match v {
        Value::Array(items) => items.iter().map(scalar_string).collect(),
        Value::String(s) => {
            let t = s.trim();
            if t.starts_with('[') && t.ends_with(']') {
                parse_literal_list(t)
                    .ok_or_else(|| format!("healthcheck `test`: cannot parse list `{t}`"))?
            } else if t == "NONE" {
                vec!["NONE".to_owned()]
            } else {
                vec!["CMD-SHELL".to_owned(), s.clone()]
            }
        }
        other => {
            return Err(format!(
                "healthcheck `test` must be a list or string, got {other}"
            ))
        }
    };
    if list.is_empty() || list == ["NONE"] {
        Ok(HealthTest::None)
    } else {
        Ok(HealthTest::Command(list))
    }
}

/// Parses a Python/JSON literal list of strings, e.g. `['CMD-SHELL', "healthcheck_curl x"]`:
/// what a Jinja-rendered list looks like when it came back as a string.
fn parse_literal_list(s: &str) -> Option<Vec<String>> {
    let inner = s.strip_prefix('[')?.strip_suffix(']')?;
    let mut out = Vec::new();
    let mut chars = inner.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(q) = chars.next() else { break };
        if q != '\'' && q != '"' {
            return None;
        }
        let mut item = String::new();
        loop {
            match chars.next()? {
                '\\' => item.push(chars.next()?),
                c if c == q => break,
                c => item.push(c),
            }
        }
        out.push(item);
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.next() {
            None => break,
            Some(',') => continue,
            Some(_) => return None,
        }
    }
    Some(out)
}

/// kolla's `dimensions`: resource limits. Memory values accept `b`/`k`/`m`/`g` suffixes
/// (×1024). `kernel_memory` is accepted and dropped (kolla drops it for Docker); any other
/// key is an error, as in kolla.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Dimensions {
    /// `mem_limit` → `HostConfig.Memory` (bytes).
    pub mem_limit: Option<i64>,
    /// `mem_reservation` → `HostConfig.MemoryReservation` (bytes).
    pub mem_reservation: Option<i64>,
    /// `memswap_limit` → `HostConfig.MemorySwap` (bytes).
    pub memswap_limit: Option<i64>,
    /// `cpu_period` → `HostConfig.CpuPeriod`.
    pub cpu_period: Option<i64>,
    /// `cpu_quota` → `HostConfig.CpuQuota`.
    pub cpu_quota: Option<i64>,
    /// `cpu_shares` → `HostConfig.CpuShares`.
    pub cpu_shares: Option<i64>,
    /// `cpuset_cpus` → `HostConfig.CpusetCpus`.
    pub cpuset_cpus: Option<String>,
    /// `cpuset_mems` → `HostConfig.CpusetMems`.
    pub cpuset_mems: Option<String>,
    /// `blkio_weight` → `HostConfig.BlkioWeight`.
    pub blkio_weight: Option<u16>,
    /// `ulimits: {nofile: {soft: N, hard: N}}` → `HostConfig.Ulimits`.
    pub ulimits: BTreeMap<String, Ulimit>,
}

/// One ulimit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ulimit {
    /// Soft limit.
    pub soft: i64,
    /// Hard limit.
    pub hard: i64,
}

impl Dimensions {
    /// Parses kolla's dimensions dict.
    pub fn from_value(v: &Value) -> Result<Dimensions, String> {
        let map = match v {
            Value::Null => return Ok(Dimensions::default()),
            Value::Object(m) => m,
            other => return Err(format!("dimensions must be a dict, got {other}")),
        };
        let mut d = Dimensions::default();
        for (k, v) in map {
            if v.is_null() {
                continue;
            }
            let err = |e: String| format!("dimensions `{k}`: {e}");
            match k.as_str() {
                "mem_limit" => d.mem_limit = Some(parse_memory(v).map_err(err)?),
                "mem_reservation" => d.mem_reservation = Some(parse_memory(v).map_err(err)?),
                "memswap_limit" => d.memswap_limit = Some(parse_memory(v).map_err(err)?),
                "cpu_period" => d.cpu_period = Some(value_i64(v).map_err(err)?),
                "cpu_quota" => d.cpu_quota = Some(value_i64(v).map_err(err)?),
                "cpu_shares" => d.cpu_shares = Some(value_i64(v).map_err(err)?),
                "cpuset_cpus" => d.cpuset_cpus = Some(scalar_string(v)),
                "cpuset_mems" => d.cpuset_mems = Some(scalar_string(v)),
                "blkio_weight" => {
                    let w = value_i64(v).map_err(err)?;
                    d.blkio_weight = Some(
                        u16::try_from(w).map_err(|_| format!("dimensions `{k}`: {w} too large"))?,
                    );
                }
                "kernel_memory" => {}
                "ulimits" => d.ulimits = parse_ulimits(v).map_err(err)?,
                other => return Err(format!("dimensions: unsupported key `{other}`")),
            }
        }
        Ok(d)
    }
}

impl<'de> Deserialize<'de> for Dimensions {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Dimensions::from_value(&v).map_err(D::Error::custom)
    }
}

fn parse_ulimits(v: &Value) -> Result<BTreeMap<String, Ulimit>, String> {
    let map = match v {
        Value::Null => return Ok(BTreeMap::new()),
        Value::Object(m) => m,
        other => {
            return Err(format!(
                "must be a dict of name: {{soft, hard}}, got {other}"
            ))
        }
    };
    let mut out = BTreeMap::new();
    for (name, lim) in map {
        let get = |k: &str| {
            lim.get(k)
                .ok_or_else(|| format!("`{name}` needs `{k}`"))
                .and_then(|v| value_i64(v).map_err(|e| format!("`{name}.{k}`: {e}")))
        };
        out.insert(
            name.clone(),
            Ulimit {
                soft: get("soft")?,
                hard: get("hard")?,
            },
        );
    }
    Ok(out)
}

/// Memory size: an integer (bytes) or a string with a `b`/`k`/`m`/`g` suffix (×1024).
fn parse_memory(v: &Value) -> Result<i64, String> {
    if let Ok(n) = value_i64(v) {
        return Ok(n);
    }
    let s = scalar_string(v).trim().to_ascii_lowercase();
    let s = s.strip_suffix('b').filter(|r| !r.is_empty()).unwrap_or(&s);
    let (num, mult) = match s.chars().last() {
        Some('k') => (&s[..s.len() - 1], 1024_i64),
        Some('m') => (&s[..s.len() - 1], 1024 * 1024),
        Some('g') => (&s[..s.len() - 1], 1024 * 1024 * 1024),
        _ => (s, 1),
    };
    num.trim()
        .parse::<i64>()
        .map(|n| n * mult)
        .map_err(|_| format!("`{}` is not a memory size", scalar_string(v)))
}

fn value_i64(v: &Value) -> Result<i64, String> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
            .ok_or_else(|| format!("`{n}` is not an integer")),
        Value::String(s) => s
            .trim()
            .parse::<i64>()
            .map_err(|_| format!("`{s}` is not an integer")),
        other => Err(format!("`{other}` is not an integer")),
    }
}

fn value_u64(v: &Value) -> Result<u64, String> {
    let n = value_i64(v)?;
    u64::try_from(n).map_err(|_| format!("`{n}` is negative"))
}

/// A scalar as a string the way Python's `str()` would print it (kolla passes env values
/// through `str`): booleans as `True`/`False`, null as `""`.
fn scalar_string(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

fn de_string_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(BTreeMap::new()),
        Value::Object(m) => Ok(m
            .iter()
            .map(|(k, v)| (k.clone(), scalar_string(v)))
            .collect()),
        other => Err(D::Error::custom(format!("expected a dict, got {other}"))),
    }
}

fn de_string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => Ok(items
            .iter()
            .filter(|v| !v.is_null())
            .map(scalar_string)
            .collect()),
        Value::String(s) if s.trim().is_empty() => Ok(Vec::new()),
        Value::String(s) => Ok(vec![s]),
        other => Err(D::Error::custom(format!("expected a list, got {other}"))),
    }
}

fn de_opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = Value::deserialize(d)?;
    let s = scalar_string(&v);
    Ok(if s.trim().is_empty() { None } else { Some(s) })
}

fn de_opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        v => value_u64(&v).map(Some).map_err(D::Error::custom),
    }
}

/// Ansible's boolean coercion: `yes`/`no`, `true`/`false`, `on`/`off`, `1`/`0`.
fn de_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(false),
        Value::Bool(b) => Ok(b),
        Value::Number(n) => Ok(n.as_f64().is_some_and(|f| f != 0.0)),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "yes" | "true" | "on" | "1" | "y" | "t" => Ok(true),
            "no" | "false" | "off" | "0" | "n" | "f" | "" => Ok(false),
            other => Err(D::Error::custom(format!("`{other}` is not a boolean"))),
        },
        other => Err(D::Error::custom(format!("`{other}` is not a boolean"))),
    }
}

fn de_healthcheck<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Healthcheck>, D::Error> {
    let v = Value::deserialize(d)?;
    Healthcheck::from_value(&v).map_err(D::Error::custom)
}

#[cfg(test)]
mod tests;
