//! `kollars prechecks`: what kolla-ansible's prechecks check that an engine can see, changing
//! nothing. Every check gives a line (host, check, ok or FAILED and why); any failure makes
//! the exit code 2, as bad input does, since each is something the operator fixes before a
//! deploy.
//!
//! The checks that need no engine (`site`: inventory groups, VIP, passwords) run on the
//! loaded inputs before rendering; the host checks run per host through its engine: the
//! engine's version ([`kollars_docker::inquire`]), the ports the services will bind (from each
//! service dict's `precheck_ports`, on `api_interface_address`, for services whose container
//! does not exist yet, as kolla checks), the images each host needs (present or known to the
//! registry), and the free space of the engine's data root; ports and space come from one
//! probe container on the host's network.

mod site;

use anyhow::Result;
use kollars_docker::inquire::{HostProbe, ImageSource};

use crate::cli::{EngineArgs, OutputFormat};
use crate::commands::prepare::{for_hosts, prepare_loaded, HostTarget, Needs};
use crate::error::ExitStatus;
use crate::reporter::CliReporter;
use crate::workspace::Workspace;

/// The free space the engine's data root needs, by default (GiB; the variable
/// `kollars_precheck_min_free_gib` sets another).
const DEFAULT_MIN_FREE_GIB: u64 = 10;

/// One check's outcome.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The host, or `site` for checks of the inputs as a whole.
    pub host: String,
    /// The check: `engine`, `ports`, `images`, `disk`, `inventory`, `vip`, `passwords`.
    pub check: &'static str,
    /// Passed.
    pub ok: bool,
    /// What was found.
    pub message: String,
}

impl Finding {
    fn host(host: &str, check: &'static str, ok: bool, message: impl Into<String>) -> Finding {
        Finding {
            host: host.to_owned(),
            check,
            ok,
            message: message.into(),
        }
    }

    fn site(check: &'static str, ok: bool, message: impl Into<String>) -> Finding {
        Finding::host("site", check, ok, message)
    }

    fn print(&self, format: OutputFormat) {
        match format {
            OutputFormat::Json => crate::outln!(
                "{}",
                serde_json::json!({
                    "host": self.host, "check": self.check, "ok": self.ok, "message": self.message,
                })
            ),
            OutputFormat::Text => crate::outln!(
                "{:<12} {:<10} {} {}",
                self.host,
                self.check,
                if self.ok { "ok    " } else { "FAILED" },
                self.message
            ),
        }
    }
}

/// `kollars prechecks`: exit 2 when any check fails.
pub async fn prechecks(engine_args: &EngineArgs) -> Result<ExitStatus> {
    let ws = Workspace::load_with_engines(&engine_args.input).await?;
    let data_dir = crate::workspace::data_dir(engine_args.input.data_dir.as_deref())?;
    let mut findings = site::inventory(&ws);
    findings.extend(site::vip(&ws));
    findings.extend(site::passwords(&ws, &data_dir));
    let format = engine_args.output;
    findings.iter().for_each(|f| f.print(format));
    let mut failed = findings.iter().filter(|f| !f.ok).count();
    let reporter = CliReporter::new(format);
    let prepared = prepare_loaded(ws, engine_args, reporter, Needs::READ).await?;
    let ws = &prepared.ws;
    let results = for_hosts(&prepared.targets, engine_args.forks, |target| async move {
        Ok::<_, anyhow::Error>(host_checks(ws, target).await)
    })
    .await;
    for (_, r) in results {
        for f in r.unwrap_or_default() {
            f.print(format);
            failed += usize::from(!f.ok);
        }
    }
    for (host, e) in &prepared.unreachable {
        Finding::host(host, "engine", false, format!("{e:#}")).print(format);
        failed += 1;
    }
    if failed > 0 {
        crate::errln!("prechecks: {failed} check(s) FAILED");
        return Ok(ExitStatus::BadInput);
    }
    Ok(ExitStatus::Success)
}

/// The checks of one host through its engine.
async fn host_checks(ws: &Workspace, target: &HostTarget) -> Vec<Finding> {
    let host = target.host();
    let engine = &target.engine;
    let mut out = Vec::new();
    let facts = match engine.engine_facts().await {
        Ok(f) => f,
        Err(e) => {
            let e = anyhow::Error::new(e);
            out.push(Finding::host(host, "engine", false, format!("{e:#}")));
            return out;
        }
    };
    out.push(Finding::host(
        host,
        "engine",
        true,
        format!(
            "{} {} (API {}) at {}, data root {}",
            engine.kind(),
            facts.version,
            facts.api_version,
            engine.endpoint(),
            facts.root_dir
        ),
    ));
    out.extend(images(target).await);
    let probe = match crate::settings::helper_image(&ws.vars, host) {
        Ok(image) => engine.probe_host(&image, &facts.root_dir).await,
        Err(e) => {
            out.push(Finding::host(host, "ports", false, format!("{e:#}")));
            return out;
        }
    };
    match probe {
        Ok(p) => {
            out.extend(ports(ws, target, &p).await);
            out.push(disk(ws, host, &facts.root_dir, &p));
        }
        Err(e) => {
            let e = anyhow::Error::new(e).context("probing the host's ports and disk");
            out.push(Finding::host(host, "ports", false, format!("{e:#}")));
        }
    }
    out
}

/// Every image the host's containers need is present, or its registry knows it.
async fn images(target: &HostTarget) -> Vec<Finding> {
    let host = target.host();
    let mut wanted: Vec<&str> = Vec::new();
    for c in target.containers.values() {
        for image in std::iter::once(&c.main.image).chain(c.bootstrap.iter().map(|b| &b.image)) {
            if !wanted.contains(&image.as_str()) {
                wanted.push(image);
            }
        }
    }
    let mut out = Vec::new();
    let (mut local, mut remote) = (0, 0);
    for image in wanted {
        match target.engine.image_source(image).await {
            Ok(ImageSource::Local) => local += 1,
            Ok(ImageSource::Registry) => remote += 1,
            Err(e) => {
                let e = anyhow::Error::new(e);
                out.push(Finding::host(
                    host,
                    "images",
                    false,
                    format!("{image} is neither on the host nor resolvable in its registry: {e:#}"),
                ));
            }
        }
    }
    if out.is_empty() {
        out.push(Finding::host(
            host,
            "images",
            true,
            format!("{local} present, {remote} to pull from the registry"),
        ));
    }
    out
}

/// The ports of each service whose container does not exist yet are free on the host.
async fn ports(ws: &Workspace, target: &HostTarget, probe: &HostProbe) -> Vec<Finding> {
    let host = target.host();
    let mut out = Vec::new();
    let mut checked = 0;
    for svc in &target.rendered.services {
        let Some(c) = target.containers.get(&svc.name) else {
            continue;
        };
        let wanted = match svc.container.get_attr("precheck_ports") {
            Ok(v) if !v.is_undefined() && !v.is_none() => v,
            _ => continue,
        };
        match target.engine.inspect(&c.main.name).await {
            Ok(Some(_)) => continue,
            Ok(None) => {}
            Err(e) => {
                let e = anyhow::Error::new(e);
                out.push(Finding::host(host, "ports", false, format!("{e:#}")));
                continue;
            }
        }
        let address = match site::eval(ws, host, "{{ api_interface_address }}") {
            Ok(a) => a.to_string(),
            Err(e) => {
                out.push(Finding::host(
                    host,
                    "ports",
                    false,
                    format!("api_interface_address: {e}"),
                ));
                return out;
            }
        };
        let Ok(ip) = address.parse::<std::net::IpAddr>() else {
            out.push(Finding::host(
                host,
                "ports",
                false,
                format!("api_interface_address `{address}` is not an IP address"),
            ));
            return out;
        };
        for p in wanted.try_iter().into_iter().flatten() {
            let Ok(port) = p.to_string().parse::<u16>() else {
                out.push(Finding::host(
                    host,
                    "ports",
                    false,
                    format!(
                        "service {}: precheck_ports item `{p}` is not a port",
                        svc.name
                    ),
                ));
                continue;
            };
            checked += 1;
            if let Some((a, n)) = probe.taken(ip, port) {
                let at = std::net::SocketAddr::new(a, n);
                out.push(Finding::host(
                    host,
                    "ports",
                    false,
                    format!(
                        "port {port} of {} on {address} is taken: something already listens on {at}",
                        svc.name
                    ),
                ));
            }
        }
    }
    if out.is_empty() {
        out.push(Finding::host(
            host,
            "ports",
            true,
            format!("{checked} port(s) free for services not yet running"),
        ));
    }
    out
}

/// The engine's data root has the free space the variable `kollars_precheck_min_free_gib`
/// asks (10 GiB when unset).
fn disk(ws: &Workspace, host: &str, root: &str, probe: &HostProbe) -> Finding {
    let min = match site::eval(
        ws,
        host,
        &format!("{{{{ kollars_precheck_min_free_gib | default({DEFAULT_MIN_FREE_GIB}) }}}}"),
    )
    .map(|v| v.to_string())
    {
        Ok(v) => match v.parse::<u64>() {
            Ok(n) => n,
            Err(_) => {
                return Finding::host(
                    host,
                    "disk",
                    false,
                    format!("kollars_precheck_min_free_gib `{v}` is not a whole number of GiB"),
                )
            }
        },
        Err(e) => return Finding::host(host, "disk", false, e),
    };
    let Some(free) = probe.free_kib else {
        return Finding::host(
            host,
            "disk",
            false,
            format!("df said nothing readable of {root}"),
        );
    };
    let free_gib = free / (1024 * 1024);
    let ok = free >= min.saturating_mul(1024 * 1024);
    Finding::host(
        host,
        "disk",
        ok,
        match ok {
            true => format!("{free_gib} GiB free under {root} (at least {min} GiB wanted)"),
            false => format!(
                "only {free_gib} GiB free under {root}, at least {min} GiB wanted \
                 (kollars_precheck_min_free_gib)"
            ),
        },
    )
}
