//! `kolla_start`: set the configs, run the extend-start hooks, exec the service.
//!
//! The hooks (`/usr/local/bin/kolla_extend_start`, a shell script kolla images chain per
//! project and service) are sourced by a shell with `CMD` and `ARGS` set, under
//! `set -o errexit -o nounset` (and `pipefail` where the shell has it), so they keep their
//! power to change `CMD`/`ARGS`, export variables, or `exit` (bootstrap). The shell then
//! execs this binary again (`run-command`), which splits `CMD ARGS` into words honouring
//! quotes and execs the result, so the service replaces the shell and keeps its pid. With no
//! hooks (the file is missing or empty, or `KOLLA_SKIP_EXTEND_START` is set) no shell is
//! needed at all: this binary execs the command directly.

use std::env;
use std::ffi::OsString;
use std::fs;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, ExitCode};

use crate::log;
use crate::root::{Root, RUN_COMMAND};
use crate::set_configs::set_configs;
use crate::words::split;

/// The hook file kolla images install (empty in the base image).
pub const EXTEND_START: &str = "/usr/local/bin/kolla_extend_start";

/// The shell program the hooks run in (`$KOLLA_START_BIN` is this binary).
const HOOK_SCRIPT: &str = "set -o errexit -o nounset
(set -o pipefail) 2>/dev/null && set -o pipefail
. /usr/local/bin/kolla_extend_start
export CMD ARGS
exec \"$KOLLA_START_BIN\" run-command
";

/// The path kolla's sudoers rule lets members of `kolla` run as root.
pub const SET_CONFIGS: &str = "/usr/local/bin/kolla_set_configs";

/// The effective uid from the text of `/proc/self/status` (its `Uid:` line: real,
/// effective, saved, filesystem).
pub fn effective_uid(status: &str) -> Option<u32> {
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// Runs `kolla_start` in the container.
pub fn kolla_start() -> ExitCode {
    let root = Root::system();
    // As root the configs are set in-process. An image whose USER is a service account
    // (mariadb's mysql, rabbitmq, memcached) cannot chown or write /etc as itself: as kolla's
    // start.sh does, it runs `sudo -E kolla_set_configs`, which kolla's sudoers allows to
    // the members of `kolla` (-E keeps KOLLA_CONFIG_STRATEGY).
    let uid = fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| effective_uid(&s));
    if uid.is_some_and(|u| u != 0) {
        match Command::new("sudo").args(["-E", SET_CONFIGS]).status() {
            Ok(s) if s.success() => {}
            Ok(s) => {
                log::error(format!("sudo -E {SET_CONFIGS} failed: {s}"));
                return ExitCode::from(s.code().map_or(2, |c| c.clamp(1, 255) as u8));
            }
            Err(e) => {
                log::error(format!("Unable to run sudo -E {SET_CONFIGS}: {e}"));
                return ExitCode::from(2);
            }
        }
    } else {
        let strategy = env::var("KOLLA_CONFIG_STRATEGY").ok();
        if let Err(e) = set_configs(&root, strategy.as_deref()) {
            log::error(&e);
            return ExitCode::from(2);
        }
    }
    let cmd = match fs::read_to_string(root.host(RUN_COMMAND)) {
        Ok(c) => c.trim_end_matches('\n').to_string(),
        Err(e) => {
            log::error(format!("Unable to read {RUN_COMMAND}: {e}"));
            return ExitCode::from(2);
        }
    };
    let hooks = Path::new(EXTEND_START);
    let has_hooks = fs::metadata(hooks).is_ok_and(|m| m.len() > 0);
    if env::var_os("KOLLA_SKIP_EXTEND_START").is_some() || !has_hooks {
        return exec_command(&cmd, "", &[]);
    }
    let Some(shell) = ["/bin/bash", "/bin/sh"]
        .into_iter()
        .find(|s| Path::new(s).exists())
    else {
        log::error(format!(
            "{EXTEND_START} is not empty, but there is no /bin/sh to run it"
        ));
        return ExitCode::from(2);
    };
    let exe = env::current_exe().unwrap_or_else(|_| "/usr/local/bin/kolla_start".into());
    let err = Command::new(shell)
        .arg("-c")
        .arg(HOOK_SCRIPT)
        .arg("kolla_start")
        .env("CMD", &cmd)
        .env("ARGS", "")
        .env("KOLLA_START_BIN", exe)
        .exec();
    log::error(format!("Unable to run {shell}: {err}"));
    ExitCode::from(126)
}

/// The end of the hook script: exec `$CMD $ARGS` (variables that only served the hooks are
/// removed from the service's environment).
pub fn run_command() -> ExitCode {
    let cmd = env::var("CMD").unwrap_or_default();
    let args = env::var("ARGS").unwrap_or_default();
    exec_command(&cmd, &args, &["CMD", "ARGS", "KOLLA_START_BIN"])
}

/// Prints `Running command: '…'` and execs `cmd args` split into words.
fn exec_command(cmd: &str, args: &str, unset: &[&str]) -> ExitCode {
    let line = if args.is_empty() {
        cmd.to_string()
    } else {
        format!("{cmd} {args}")
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "Running command: '{line}'");
    let _ = out.flush();
    drop(out);
    let words = match split(&line) {
        Ok(w) if !w.is_empty() => w,
        Ok(_) => {
            log::error("The command is empty");
            return ExitCode::from(2);
        }
        Err(e) => {
            log::error(format!("Cannot split the command {line:?}: {e}"));
            return ExitCode::from(2);
        }
    };
    let mut c = Command::new(&words[0]);
    c.args(words[1..].iter().map(OsString::from));
    for v in unset {
        c.env_remove(v);
    }
    let err = c.exec();
    log::error(format!("Unable to run {}: {err}", words[0]));
    if err.kind() == std::io::ErrorKind::NotFound {
        ExitCode::from(127)
    } else {
        ExitCode::from(126)
    }
}

#[cfg(test)]
mod tests {
    use super::effective_uid;

    #[test]
    fn reads_the_effective_uid() {
        let status = "Name:\tkolla_start\nUmask:\t0022\nUid:\t42434\t42434\t42434\t42434\nGid:\t42434\t42434\t42434\t42434\n";
        assert_eq!(effective_uid(status), Some(42434));
        assert_eq!(effective_uid("Uid:\t1000\t0\t0\t0\n"), Some(0));
        assert_eq!(effective_uid("Name:\tx\n"), None);
    }
}
