//! `kollars post-deploy`: kolla-ansible's `post-deploy` (`ansible/post-deploy.yml`).
//!
//! Writes the operator's credentials for the admin user into the configuration directory
//! (kolla's `node_config`: `{{ CONFIG_DIR | default('/etc/kolla') }}`, i.e. `--configdir`
//! unless `node_config` is overridden): `clouds.yaml` (clouds `kolla-admin`,
//! `kolla-admin-system`, `kolla-admin-internal`, `kolla-admin-system-internal`),
//! `admin-openrc.sh`, `admin-openrc-system.sh` (internal endpoint), `public-openrc.sh`,
//! `public-openrc-system.sh` (public endpoint) and, when `enable_octavia`, `octavia-openrc.sh`.
//! kolla's post-deploy `clouds.yaml` has no `kolla-octavia-internal` cloud (that one is in
//! kolla_toolbox's own `clouds.yaml`), so neither has ours.
//!
//! As in kolla, the variables are those of `localhost`: the inventory's host of that name,
//! or else Ansible's implicit localhost (no groups, so only `all`'s group variables, with
//! globals, passwords and `-e`). Nothing here needs another host's facts or engine: no engine
//! is contacted.
//!
//! Every file is rendered before any is written, so bad input writes nothing. Each is mode
//! 0600 and owned by the user running kollars (they hold passwords), replaced atomically and
//! durably ([`kollars_tree::replace_file`]). A file whose content is already right
//! is not rewritten (only its mode is fixed, as Ansible's template module does). Like kolla
//! (its `template` tasks keep no `backup`), an operator's changed file is replaced by the
//! new content.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use kollars_inputs::{ConfigDir, Inventory};
use kollars_services::Catalogue;
use kollars_vars::{HostScope, Value, Vars, VarsBuilder};

use crate::cli::{InputArgs, PostDeployArgs};
use crate::error::{BadInput, ExitStatus};
use crate::workspace::data_dir;

/// The files' mode: they hold the admin password.
const MODE: u32 = 0o600;

/// The host post-deploy runs on (`hosts: localhost`).
const LOCALHOST: &str = "localhost";

/// One file to write: its name in the configuration directory and its content.
struct File {
    name: &'static str,
    content: String,
}

/// Renders every file for localhost, then writes those that changed.
pub fn post_deploy(args: &PostDeployArgs) -> Result<ExitStatus> {
    let input = &args.input;
    if !input.tags.is_empty() || !input.limit.is_empty() {
        return Err(BadInput::new(
            "post-deploy takes no -t/--tags or -l/--limit: it writes the configuration \
             directory's files once, for localhost",
        )
        .into());
    }
    let (_vars, scope) = localhost_scope(&args.input)?;
    let dir = PathBuf::from(
        scope
            .get("node_config")
            .map_err(BadInput::from_err)?
            .to_string(),
    );
    let files = render(&scope).map_err(BadInput::from_err)?;
    match std::fs::metadata(&dir) {
        Ok(m) if m.is_dir() => {}
        _ => {
            return Err(BadInput::new(format!(
                "node_config {}: no such directory (post-deploy writes into the \
                 configuration directory)",
                dir.display()
            ))
            .into())
        }
    }
    let mut changed = Vec::new();
    for f in &files {
        if write(&dir, f).with_context(|| format!("writing {}", dir.join(f.name).display()))? {
            changed.push(f.name);
        }
    }
    let unchanged: Vec<&str> = files
        .iter()
        .map(|f| f.name)
        .filter(|n| !changed.contains(n))
        .collect();
    crate::errln!(
        "post-deploy: {}: written: {}; unchanged: {}",
        dir.display(),
        list(&changed),
        list(&unchanged)
    );
    Ok(ExitStatus::Success)
}

fn list(names: &[&str]) -> String {
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

/// The variables of localhost: the inputs loaded as for any command, with Ansible's implicit
/// localhost added when the inventory has no such host (post-deploy's and certificates'),
/// with every host's variables (keep them: `hostvars` of the scope reads them while they
/// live).
pub(crate) fn localhost_scope(input: &InputArgs) -> Result<(Vars, Arc<HostScope>)> {
    let mut inventory = Inventory::load(&input.inventory).map_err(BadInput::from_err)?;
    let config = ConfigDir::load(
        &input.configdir,
        input.passwords.as_deref(),
        &input.extra_vars,
    )
    .map_err(BadInput::from_err)?;
    let data = data_dir(input.data_dir.as_deref())?;
    let catalogue = Catalogue::load(&data.join("services")).map_err(BadInput::from_err)?;
    if !inventory.hosts.contains_key(LOCALHOST) {
        let vars = [("ansible_connection".to_string(), "local".into())];
        inventory
            .hosts
            .insert(LOCALHOST.to_string(), vars.into_iter().collect());
    }
    // Facts are localhost's (kolla gathers them: only the user's ids are read); other
    // hosts' facts only from --facts, as nothing here is meant to need them.
    let mut builder = VarsBuilder::new()
        .templates_dir(data.join("templates"))
        .global_defaults(catalogue.global_defaults.clone())
        .project_defaults(catalogue.project_defaults.clone());
    for host in inventory.hosts.keys() {
        let facts = match &input.facts {
            Some(dir) => {
                kollars_inputs::facts::load_facts(dir, host).map_err(BadInput::from_err)?
            }
            None => None,
        };
        match facts {
            Some(f) => builder = builder.facts(host, f),
            None if host == LOCALHOST => {
                builder = builder.facts(host, kollars_inputs::facts::gather_local())
            }
            None => {}
        }
    }
    let vars = builder.build(&inventory, &config);
    let scope = vars.host(LOCALHOST).map_err(BadInput::from_err)?;
    Ok((vars, scope))
}

/// Every file post-deploy writes for these variables, in kolla's order.
fn render(scope: &Arc<HostScope>) -> Result<Vec<File>, kollars_vars::VarError> {
    let openrc = |system: bool, public: bool| {
        let locals = Value::from_iter([
            ("system", Value::from(system)),
            ("public", Value::from(public)),
        ]);
        scope.render_template("post-deploy/openrc.sh.j2", Some(&locals))
    };
    let mut files = vec![
        File {
            name: "clouds.yaml",
            content: scope.render_template("post-deploy/clouds.yaml.j2", None)?,
        },
        File {
            name: "admin-openrc.sh",
            content: openrc(false, false)?,
        },
        File {
            name: "admin-openrc-system.sh",
            content: openrc(true, false)?,
        },
        File {
            name: "public-openrc.sh",
            content: openrc(false, true)?,
        },
        File {
            name: "public-openrc-system.sh",
            content: openrc(true, true)?,
        },
    ];
    if kollars_vars::filters::ansible_bool(&scope.get("enable_octavia")?) {
        files.push(File {
            name: "octavia-openrc.sh",
            content: scope.render_template("post-deploy/octavia-openrc.sh.j2", None)?,
        });
    }
    Ok(files)
}

/// Writes one file unless it is already right; returns whether anything changed.
///
/// Right = same content, owned by this user: then only a wrong mode is fixed in place.
/// Otherwise the file is replaced by [`kollars_tree::replace_file`] (a temp file, mode 0600
/// from its creation, synced, renamed over the old one), so a reader sees the old file or the
/// new one, never a part, and a failure (a full disk) leaves the old file as it was.
fn write(dir: &Path, f: &File) -> Result<bool> {
    let path = dir.join(f.name);
    let me = std::fs::metadata("/proc/self").context("reading this process's user")?;
    if let Ok(meta) = std::fs::symlink_metadata(&path) {
        let ours = meta.is_file() && meta.uid() == me.uid() && meta.gid() == me.gid();
        if ours && meta.len() == f.content.len() as u64 {
            let same = std::fs::read(&path).is_ok_and(|old| old == f.content.as_bytes());
            if same {
                if meta.permissions().mode() & 0o7777 == MODE {
                    return Ok(false);
                }
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(MODE))?;
                return Ok(true);
            }
        }
    }
    // the caller names the file
    kollars_tree::replace_file(&path, f.content.as_bytes(), MODE).map_err(|e| e.source)?;
    Ok(true)
}
