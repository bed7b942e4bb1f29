//! `kolla_set_configs --check`: does the running container still match the config?
//!
//! kolla-ansible runs it in each container to decide on a restart: exit 0 = unchanged,
//! 1 = changed (the output is shown as the diff), anything else fails the play. Compared to
//! kolla, the comparison is exact instead of noisy: modes are compared as numbers (kolla
//! compared the last four characters of `oct(mode)` with the perm string, so `644` always
//! differed), `preserve_properties` entries compare against the source's mode and owner
//! (kolla compared against a missing perm: always "changed"), sub-directories are compared at
//! the right path and with the execute bits a directory gets, directory owners are compared,
//! and files left in a replaced (non-`merge`) directory count as a change.
//!
//! Like kolla, `directories`, `files` and `permissions` are not compared: extend_start hooks
//! legitimately change those paths after set_configs (nova-base chmods its log dir), so
//! comparing them would restart such containers on every run.

use std::fs::{self, Metadata};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::config::{Plan, Props};
use crate::error::Error;
use crate::fsops::sorted_names;
use crate::root::{Root, RUN_COMMAND};
use crate::state::State;

/// Lists every difference between the plan and the container (empty: unchanged).
pub fn differences(root: &Root, plan: &Plan) -> Result<Vec<String>, Error> {
    let mut diffs = Vec::new();
    match fs::read(root.host(RUN_COMMAND)) {
        Ok(old) if old == plan.command.as_bytes() => {}
        Ok(old) => diffs.push(format!(
            "Running command differs. {} != {}",
            plan.command,
            String::from_utf8_lossy(&old)
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            diffs.push(format!(
                "{RUN_COMMAND} is missing: the container was never configured"
            ));
        }
        Err(e) => return Err(Error::io("Unable to read", RUN_COMMAND, e)),
    }
    let stale = State::load(root)?.stale(plan);
    if !stale.is_empty() {
        diffs.push(format!(
            "StateMismatch: files no longer in the config, to be restored or removed: {stale:?}"
        ));
    }
    for copy in &plan.copies {
        for m in &copy.matches {
            let src = root.host(&m.src);
            let dest = root.host(&m.dest);
            compare(root, &src, &dest, &copy.props, copy.merge, &mut diffs)
                .map_err(|e| Error::io("Unable to compare", m.dest.clone(), e))?;
        }
    }
    Ok(diffs)
}

fn compare(
    root: &Root,
    src: &Path,
    dest: &Path,
    props: &Props,
    merge: bool,
    diffs: &mut Vec<String>,
) -> io::Result<()> {
    let shown = root.container(dest);
    let lsrc = fs::symlink_metadata(src)?;
    let ldest = fs::symlink_metadata(dest);
    if merge && *props == Props::Preserve && lsrc.file_type().is_symlink() {
        let same = ldest.is_ok_and(|d| d.file_type().is_symlink())
            && fs::read_link(dest)? == fs::read_link(src)?;
        if !same {
            diffs.push(format!(
                "{shown}: not a symlink to {}",
                fs::read_link(src)?.display()
            ));
        }
        return Ok(());
    }
    let smeta = fs::metadata(src)?;
    let dmeta = match ldest {
        Ok(d) => d,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            diffs.push(format!("{shown}: missing"));
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    if smeta.is_dir() {
        if !dmeta.is_dir() {
            diffs.push(format!("{shown}: not a directory"));
            return Ok(());
        }
        props_differ(&shown, props, &smeta, &dmeta, true, diffs);
        let names = sorted_names(src)?;
        for name in &names {
            compare(root, &src.join(name), &dest.join(name), props, merge, diffs)?;
        }
        if !merge {
            for extra in sorted_names(dest)?.iter().filter(|n| !names.contains(n)) {
                diffs.push(format!(
                    "{}: not in the source {}",
                    root.container(&dest.join(extra)),
                    root.container(src)
                ));
            }
        }
    } else {
        if !dmeta.is_file() {
            diffs.push(format!("{shown}: not a regular file"));
            return Ok(());
        }
        if smeta.len() != dmeta.len() || fs::read(src)? != fs::read(dest)? {
            diffs.push(format!(
                "The content of source file({}) and dest file({shown}) are not equal.",
                root.container(src)
            ));
        }
        props_differ(&shown, props, &smeta, &dmeta, false, diffs);
    }
    Ok(())
}

fn props_differ(
    shown: &str,
    props: &Props,
    src: &Metadata,
    dest: &Metadata,
    is_dir: bool,
    diffs: &mut Vec<String>,
) {
    let (uid, gid, mode, names) = match props {
        Props::Explicit { owner, perm } => {
            let mode = if is_dir {
                perm.dir_mode()
            } else {
                perm.file_mode()
            };
            (owner.uid, owner.gid, mode, owner.names.clone())
        }
        Props::Preserve => (
            src.uid(),
            src.gid(),
            src.mode() & 0o7777,
            "the source's".into(),
        ),
    };
    let cur = dest.mode() & 0o7777;
    if cur != mode {
        diffs.push(format!("{shown}: mode {cur:04o}, expected {mode:04o}"));
    }
    if (dest.uid(), dest.gid()) != (uid, gid) {
        diffs.push(format!(
            "{shown}: owner {}:{}, expected {uid}:{gid} ({names})",
            dest.uid(),
            dest.gid()
        ));
    }
}
