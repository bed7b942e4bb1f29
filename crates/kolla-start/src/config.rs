//! Loading `config.yaml` / `config.json` and turning it into a validated [`Plan`].
//!
//! Everything that can be checked before touching the filesystem is checked here: the JSON or
//! YAML, every key of every entry, owners (against the image's accounts), perms, `exclude`
//! regexes, absolute paths, and that each non-optional source matches something. Only then
//! does anything get copied, so bad input never leaves a half-applied config behind.

use std::collections::HashSet;
use std::fs;

use regex::Regex;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::error::Error;
use crate::glob::{glob, has_magic};
use crate::log;
use crate::perm::Perm;
use crate::root::{Root, CONFIG_DIR};
use crate::users::{Accounts, Owner};

/// One entry of `config_files`, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfigFile {
    source: String,
    dest: String,
    #[serde(default)]
    owner: Option<String>,
    #[serde(default, deserialize_with = "perm_string")]
    perm: Option<String>,
    #[serde(default, deserialize_with = "flag")]
    optional: bool,
    #[serde(default, deserialize_with = "flag")]
    merge: bool,
    #[serde(default, deserialize_with = "flag")]
    preserve_properties: bool,
}

/// One entry of `permissions` (and of `directories`, which may also recurse).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPermission {
    path: String,
    owner: String,
    #[serde(default, deserialize_with = "perm_string")]
    perm: Option<String>,
    #[serde(default, deserialize_with = "flag")]
    recurse: bool,
    #[serde(default, deserialize_with = "patterns")]
    exclude: Vec<String>,
}

/// One entry of `files`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    path: String,
    owner: String,
    #[serde(deserialize_with = "perm_string")]
    perm: Option<String>,
}

/// How the properties of copied files are set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Props {
    /// `owner` and `perm` from the entry.
    Explicit {
        /// The owner.
        owner: Owner,
        /// The mode (directories get execute bits where readable).
        perm: Perm,
    },
    /// `preserve_properties`: mode, times and owner of the source.
    Preserve,
}

/// One matched source of a `config_files` entry and where it goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Match {
    /// The source path in the container.
    pub src: String,
    /// The effective destination (a `dest` ending in `/` gets the source's basename).
    pub dest: String,
}

/// A validated `config_files` entry.
#[derive(Debug)]
pub struct CopyPlan {
    /// Names the entry in messages.
    pub at: String,
    /// The matches, sorted; empty only for an optional entry.
    pub matches: Vec<Match>,
    /// How properties are set.
    pub props: Props,
    /// Merge directories into the destination instead of replacing it.
    pub merge: bool,
}

/// A validated `directories`, `files` or `permissions` entry.
#[derive(Debug)]
pub struct PermPlan {
    /// Names the entry in messages.
    pub at: String,
    /// The path (a glob for `permissions`; literal for `directories` and `files`).
    pub path: String,
    /// The owner.
    pub owner: Owner,
    /// The mode, if any (without one, only the owner is set).
    pub perm: Option<Perm>,
    /// Walk the tree below `path` (never following symlinks).
    pub recurse: bool,
    /// Paths (in the container) matching any of these are left alone.
    pub exclude: Vec<Regex>,
}

/// A config that passed validation.
#[derive(Debug)]
pub struct Plan {
    /// The file it came from.
    pub file: String,
    /// The service command, written to `/run_command`.
    pub command: String,
    /// `config_files`.
    pub copies: Vec<CopyPlan>,
    /// `directories`.
    pub directories: Vec<PermPlan>,
    /// `files`.
    pub files: Vec<PermPlan>,
    /// `permissions`.
    pub permissions: Vec<PermPlan>,
}

impl Plan {
    /// Every effective destination of `config_files`, in order.
    pub fn dests(&self) -> Vec<&str> {
        self.copies
            .iter()
            .flat_map(|c| c.matches.iter().map(|m| m.dest.as_str()))
            .collect()
    }
}

/// Reads `config.yaml` (preferred when present) or `config.json` from the config directory;
/// returns the container path of the file and its parsed value.
pub fn load(root: &Root) -> Result<(String, Value), Error> {
    let yaml = format!("{CONFIG_DIR}/config.yaml");
    let json = format!("{CONFIG_DIR}/config.json");
    let (file, format) = if fs::symlink_metadata(root.host(&yaml)).is_ok() {
        (yaml, "yaml")
    } else {
        (json, "json")
    };
    log::info(format!("Loading config file at {file}"));
    let text = fs::read(root.host(&file)).map_err(|source| Error::Read {
        path: file.clone().into(),
        source,
    })?;
    let parse_err = |reason: String| Error::Parse {
        format,
        path: file.clone().into(),
        reason,
    };
    let value: Value = if format == "yaml" {
        serde_yaml::from_slice(&text).map_err(|e| parse_err(e.to_string()))?
    } else {
        serde_json::from_slice(&text).map_err(|e| parse_err(e.to_string()))?
    };
    if value.is_null() {
        return Err(parse_err("the file is empty".into()));
    }
    Ok((file, value))
}

/// Loads and validates the config; see the module docs.
pub fn plan(root: &Root) -> Result<Plan, Error> {
    let (file, value) = load(root)?;
    log::info("Validating config file");
    let mut plan = validate(root, &value)?;
    plan.file = file;
    Ok(plan)
}

/// Validates a parsed config against the image under `root`.
pub fn validate(root: &Root, value: &Value) -> Result<Plan, Error> {
    let Value::Object(top) = value else {
        return Err(Error::invalid("config", "the top level must be an object"));
    };
    for key in top.keys() {
        if ![
            "command",
            "config_files",
            "directories",
            "files",
            "permissions",
        ]
        .contains(&key.as_str())
        {
            log::warn(format!("Ignoring unknown top-level key {key:?}"));
        }
    }
    let command = match top.get("command") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(Error::invalid(
                "command",
                format!("must be a string, not {}", kind(other)),
            ))
        }
        None => {
            return Err(Error::invalid(
                "config",
                "Config is missing required \"command\" key",
            ))
        }
    };
    let accounts = Accounts::load(root);

    let mut copies = Vec::new();
    for (i, v) in section(top, "config_files")?.iter().enumerate() {
        copies.push(copy_plan(root, &accounts, i, v)?);
    }
    let mut directories = Vec::new();
    for (i, v) in section(top, "directories")?.iter().enumerate() {
        let at = label("directories", i, v, "path");
        let raw: RawPermission = entry(&at, v)?;
        if raw.perm.is_none() {
            return Err(Error::invalid(&at, "missing field `perm`"));
        }
        let p = perm_plan(&accounts, at, raw)?;
        if has_magic(&p.path) {
            return Err(Error::invalid(
                &p.at,
                "directories does not support glob paths",
            ));
        }
        directories.push(p);
    }
    let mut files = Vec::new();
    for (i, v) in section(top, "files")?.iter().enumerate() {
        let at = label("files", i, v, "path");
        let raw: RawFile = entry(&at, v)?;
        let raw = RawPermission {
            path: raw.path,
            owner: raw.owner,
            perm: raw.perm,
            recurse: false,
            exclude: Vec::new(),
        };
        let p = perm_plan(&accounts, at, raw)?;
        if has_magic(&p.path) {
            return Err(Error::invalid(&p.at, "files does not support glob paths"));
        }
        if p.perm.is_none() {
            return Err(Error::invalid(&p.at, "perm must not be empty"));
        }
        preflight_file(root, &p, &directories)?;
        files.push(p);
    }
    let mut permissions = Vec::new();
    for (i, v) in section(top, "permissions")?.iter().enumerate() {
        let at = label("permissions", i, v, "path");
        let raw: RawPermission = entry(&at, v)?;
        permissions.push(perm_plan(&accounts, at, raw)?);
    }
    Ok(Plan {
        file: String::new(),
        command,
        copies,
        directories,
        files,
        permissions,
    })
}

fn copy_plan(root: &Root, accounts: &Accounts, i: usize, v: &Value) -> Result<CopyPlan, Error> {
    let at = label("config_files", i, v, "source");
    let raw: RawConfigFile = entry(&at, v)?;
    absolute(&at, "source", &raw.source)?;
    absolute(&at, "dest", &raw.dest)?;
    // owner and perm are resolved even with preserve_properties, so typos still fail.
    let owner = raw
        .owner
        .as_deref()
        .map(|o| accounts.owner(o, &at))
        .transpose()?;
    let perm = raw
        .perm
        .as_deref()
        .map(|p| parse_perm(&at, p))
        .transpose()?;
    let props = if raw.preserve_properties {
        Props::Preserve
    } else {
        match (owner, perm) {
            (Some(owner), Some(perm)) => Props::Explicit { owner, perm },
            (None, _) => {
                return Err(Error::invalid(
                    &at,
                    "missing field `owner` (needed unless preserve_properties)",
                ))
            }
            (_, None) => {
                return Err(Error::invalid(
                    &at,
                    "missing field `perm` (needed unless preserve_properties)",
                ))
            }
        }
    };
    let matches: Vec<Match> = glob(root, &raw.source)
        .into_iter()
        .map(|src| {
            let dest = if raw.dest.ends_with('/') {
                let base = src.rsplit('/').next().unwrap_or_default();
                format!("{}{base}", raw.dest)
            } else {
                raw.dest.clone()
            };
            Match { src, dest }
        })
        .collect();
    if matches.is_empty() && !raw.optional {
        return Err(Error::MissingSource {
            at,
            pattern: raw.source,
        });
    }
    Ok(CopyPlan {
        at,
        matches,
        props,
        merge: raw.merge,
    })
}

fn perm_plan(accounts: &Accounts, at: String, raw: RawPermission) -> Result<PermPlan, Error> {
    absolute(&at, "path", &raw.path)?;
    let owner = accounts.owner(&raw.owner, &at)?;
    let perm = match raw.perm.as_deref() {
        None | Some("") => None,
        Some(p) => Some(parse_perm(&at, p)?),
    };
    let exclude = raw
        .exclude
        .iter()
        .map(|p| {
            Regex::new(p)
                .map_err(|e| Error::invalid(&at, format!("bad exclude pattern {p:?}: {e}")))
        })
        .collect::<Result<_, _>>()?;
    Ok(PermPlan {
        at,
        path: raw.path,
        owner,
        perm,
        recurse: raw.recurse,
        exclude,
    })
}

/// `files` entries fail on symlinks, directories and missing parents: check that up front
/// (a parent created by a `directories` entry counts).
fn preflight_file(root: &Root, p: &PermPlan, dirs: &[PermPlan]) -> Result<(), Error> {
    let host = root.host(&p.path);
    if let Ok(m) = fs::symlink_metadata(&host) {
        if m.file_type().is_symlink() {
            return Err(Error::invalid(&p.at, format!("{} is a symlink", p.path)));
        }
        if m.is_dir() {
            return Err(Error::invalid(&p.at, format!("{} is a directory", p.path)));
        }
        return Ok(());
    }
    let parent = p
        .path
        .rsplit_once('/')
        .map_or("/", |(d, _)| if d.is_empty() { "/" } else { d });
    let created = dirs.iter().any(|d| {
        parent == d.path.trim_end_matches('/') || d.path.starts_with(&format!("{parent}/"))
    });
    if created || root.host(parent).is_dir() {
        Ok(())
    } else {
        Err(Error::invalid(
            &p.at,
            format!("the parent directory {parent} does not exist"),
        ))
    }
}

fn parse_perm(at: &str, p: &str) -> Result<Perm, Error> {
    Perm::parse(p).ok_or_else(|| {
        Error::invalid(
            at,
            format!("bad perm {p:?}: expected 3 or 4 octal digits such as \"0644\" or \"0o2775\""),
        )
    })
}

fn absolute(at: &str, key: &str, path: &str) -> Result<(), Error> {
    if path.starts_with('/') {
        Ok(())
    } else {
        Err(Error::invalid(
            at,
            format!("{key} must be an absolute path, got {path:?}"),
        ))
    }
}

fn section<'a>(top: &'a serde_json::Map<String, Value>, key: &str) -> Result<&'a [Value], Error> {
    match top.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(other) => Err(Error::invalid(
            key,
            format!("must be a list, not {}", kind(other)),
        )),
    }
}

fn entry<T: for<'de> Deserialize<'de>>(at: &str, v: &Value) -> Result<T, Error> {
    T::deserialize(v).map_err(|e| Error::invalid(at, e.to_string()))
}

/// `section[i] (key value)`, for messages.
fn label(section: &str, i: usize, v: &Value, key: &str) -> String {
    match v.get(key).and_then(Value::as_str) {
        Some(s) => format!("{section}[{i}] ({key} {s})"),
        None => format!("{section}[{i}]"),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A boolean flag. kolla uses Python truthiness, where the string `"false"` is true; here
/// strings mean what they say, and anything unclear is an error.
fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    use serde::de::Error as _;
    match Value::deserialize(d)? {
        Value::Null => Ok(false),
        Value::Bool(b) => Ok(b),
        Value::Number(n) if n.as_u64() == Some(0) => Ok(false),
        Value::Number(n) if n.as_u64() == Some(1) => Ok(true),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Ok(true),
            "false" | "no" | "off" | "0" | "" => Ok(false),
            _ => Err(D::Error::custom(format!("expected a boolean, got {s:?}"))),
        },
        other => Err(D::Error::custom(format!(
            "expected a boolean, got {}",
            kind(&other)
        ))),
    }
}

/// `perm` must be a string; see [`crate::perm`].
fn perm_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    use serde::de::Error as _;
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        other => Err(D::Error::custom(format!(
            "bad perm {other}: perm must be a string of octal digits such as \"0644\", not {}",
            kind(&other)
        ))),
    }
}

/// `exclude`: a list of regexes (a single string is taken as a list of one).
fn patterns<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    use serde::de::Error as _;
    match Value::deserialize(d)? {
        Value::Null => Ok(Vec::new()),
        Value::String(s) => Ok(vec![s]),
        Value::Array(a) => a
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                other => Err(D::Error::custom(format!(
                    "exclude patterns must be strings, not {}",
                    kind(&other)
                ))),
            })
            .collect(),
        other => Err(D::Error::custom(format!(
            "exclude must be a list, not {}",
            kind(&other)
        ))),
    }
}

/// Every path a plan will write, for tests and `--check`.
pub fn dest_set(plan: &Plan) -> HashSet<String> {
    plan.dests().into_iter().map(str::to_string).collect()
}
