//! `kollars nova-libvirt-cleanup`: kolla-ansible's `nova-libvirt-cleanup`, for hosts moved
//! from the containerised libvirt to one of the host's own: refused while
//! `enable_nova_libvirt_container` is true; on each selected host of the compute group, a
//! `nova_libvirt` container whose host still runs QEMU guests is refused (unless
//! `nova_libvirt_cleanup_running_vms_fatal` is false), else stopped and removed; its volumes
//! (`libvirtd`, `nova_libvirt_qemu`, `nova_libvirt_secrets`) go when
//! `nova_libvirt_cleanup_remove_volumes`, and its config directory
//! `node_config_directory/nova-libvirt` goes. The guests are looked for in `/proc` inside the
//! container, which shares the host's process namespace (`pid_mode: host`). kolla's revert of
//! the host's udev rules and `/dev/kvm` ownership is not done (the host's files are not
//! reached here). `--plan` says what it would do.

use anyhow::{bail, Result};
use kollars_docker::ExecRequest;

use crate::cli::PlanningArgs;
use crate::commands::prepare::{for_hosts, prepare, Needs};
use crate::error::{BadInput, ExitStatus};
use crate::recorder::RunInfo;
use crate::reporter::CliReporter;

const CONTAINER: &str = "nova_libvirt";
/// The host's QEMU processes but the guest agent and qemu-img, by pid, read from `/proc`
/// with shell builtins only (an image need not have `pgrep`).
const GUESTS: &str = "for d in /proc/[0-9]*; do read -r c < \"$d/comm\" 2>/dev/null || continue; \
                      case \"$c\" in qemu-ga|qemu-img*) ;; qemu*) echo \"${d#/proc/}\" ;; esac; done";

const VOLUMES: [&str; 3] = ["libvirtd", "nova_libvirt_qemu", "nova_libvirt_secrets"];

fn flag(ws: &crate::workspace::Workspace, host: &str, name: &str) -> Result<bool> {
    let scope = ws.vars.host(host).map_err(BadInput::from_err)?;
    let v = scope
        .get(name)
        .map_err(|e| BadInput::from_err(format!("host {host}: {name}: {e}")))?;
    Ok(kollars_vars::filters::ansible_bool(&v))
}

/// `kollars nova-libvirt-cleanup`.
pub async fn nova_libvirt_cleanup(args: &PlanningArgs, run: RunInfo) -> Result<ExitStatus> {
    let reporter = match args.plan {
        true => CliReporter::new(args.engine.output),
        false => CliReporter::recording(args.engine.output, run),
    };
    let needs = if args.plan {
        Needs::READ
    } else {
        Needs::CHANGE
    };
    let prepared = prepare(&args.engine, reporter, needs).await?;
    let ws = &prepared.ws;
    let compute = ws.inventory.group_hosts("compute");
    for t in &prepared.targets {
        if compute.contains(&t.host().to_owned())
            && flag(ws, t.host(), "enable_nova_libvirt_container")?
        {
            bail!(BadInput::new(format!(
                "host {}: enable_nova_libvirt_container is true: the nova_libvirt container is \
                 in use and is not cleaned up (set it false, e.g. with another \
                 nova_compute_virt_type or a libvirt of the host's own)",
                t.host()
            )));
        }
    }
    let plan = args.plan;
    let results = for_hosts(&prepared.targets, args.engine.forks, |t| {
        let compute = &compute;
        async move {
            let host = t.host();
            if !compute.contains(&host.to_owned()) {
                return Ok(());
            }
            let engine = &t.engine;
            let say = |what: &str, subject: &str| crate::outln!("{host:<12} {what:<17} {subject}");
            let running = engine
                .inspect(CONTAINER)
                .await?
                .map(|c| c.state.and_then(|s| s.running) == Some(true));
            if running == Some(true) {
                let req = ExecRequest {
                    cmd: vec!["sh".into(), "-c".into(), GUESTS.into()],
                    stdin: None,
                    user: Some("root".into()),
                };
                let guests = engine.exec_ok(CONTAINER, &req).await?.stdout;
                let guests: Vec<&str> = guests.split_whitespace().collect();
                if !guests.is_empty() && flag(ws, host, "nova_libvirt_cleanup_running_vms_fatal")? {
                    bail!(
                        "refusing to remove {CONTAINER} with running guests (QEMU pids {}); \
                         nova_libvirt_cleanup_running_vms_fatal: false removes it anyway",
                        guests.join(", ")
                    );
                }
            }
            if running.is_some() {
                match plan {
                    true => say("remove container", CONTAINER),
                    false => {
                        engine.stop_and_remove(CONTAINER, None).await?;
                    }
                }
            }
            if flag(ws, host, "nova_libvirt_cleanup_remove_volumes")? {
                for v in VOLUMES {
                    match plan {
                        true => say("remove volume", v),
                        false => {
                            engine.remove_volume(v).await?;
                        }
                    }
                }
            }
            let config = t.rendered.node_config_directory.display().to_string();
            match plan {
                true => say("remove directory", &format!("{config}/nova-libvirt")),
                false => {
                    let helper = crate::settings::helper_image(&ws.vars, host)?;
                    super::stop::remove_dirs(
                        engine,
                        &helper,
                        vec![format!("{config}:/kollars-destroy/config")],
                        &["/kollars-destroy/config/nova-libvirt".to_owned()],
                    )
                    .await?;
                }
            }
            Ok(())
        }
    })
    .await;
    Ok(prepared.finish(results))
}
