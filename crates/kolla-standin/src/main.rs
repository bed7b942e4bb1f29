//! The stand-in service of kollars' test and demo images (see images/README.md).
//!
//! It takes the place of the real programs of an OpenStack image so deploys can be tested end
//! to end without the real software. The images link every program name that a kolla command,
//! run script or healthcheck executes (`/usr/sbin/haproxy`, `uwsgi`, `nova-manage`,
//! `ovsdb-client`, ...) to this binary, and `/etc/kolla-standin/programs` says what each name
//! is:
//!
//! * `daemon`: a long-running service. It listens where it is told (answering HTTP with 200),
//!   holds outgoing connections open (so `healthcheck_port` sees them), keeps its command line
//!   (so process-name healthchecks match) and exits 0 on SIGTERM or SIGINT.
//! * `uwsgi`: a daemon that listens where its ini file (`uwsgi FILE.ini`) says: `http`,
//!   `http-socket`, `https`, `socket`, `uwsgi-socket`.
//! * `tool`: a command-line tool (`nova-manage`, `rabbitmqctl`, ...): does nothing, exits 0.
//! * `probe`: a healthcheck program (`ovsdb-client list-dbs`, mariadb's `healthcheck.sh`,
//!   ...): exits 0 if a stand-in daemon runs in this container and every port it should listen
//!   on accepts a connection, else 1.
//! * `init`: kolla's `dumb-init --single-child -- COMMAND...`, the images' entrypoint: runs
//!   COMMAND as its child, forwards SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to
//!   it, and exits with its status (128 + the signal if a signal ended it). Without it, a
//!   run script that does not `exec` its service (proxysql_run.sh) is PID 1 and ignores
//!   `docker stop`'s SIGTERM until the engine kills it. A one-shot with `KOLLA_BOOTSTRAP`
//!   whose command exited 0 appends its `KOLLA_SERVICE_NAME` to
//!   `/var/log/kolla/standin-bootstraps.log` first, so tests can count completed bootstraps.
//!
//! Called as `kolla-standin [SPEC...] [-- COMMAND...]` it is a daemon standing in for COMMAND.
//!
//! What a daemon listens on (its specs) comes from the first of: the arguments of
//! `kolla-standin SPEC...`; the file `/etc/kolla/standin.conf` (a rendered config file); the
//! variable `KOLLA_STANDIN` (set, even empty); the program's own config (uwsgi's ini); the
//! image's map `/etc/kolla-standin/services`, one line per service: the service name
//! (`KOLLA_SERVICE_NAME`, which kolla-ansible and kollars derive from the container name) and
//! its specs. A SPEC is one of `http:[ADDR:]PORT`, `tcp:[ADDR:]PORT` or `connect:ADDR:PORT`,
//! separated by blanks or newlines; `#` starts a comment.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

const SELF: &str = "kolla-standin";
const CONF: &str = "/etc/kolla/standin.conf";
const SERVICES: &str = "/etc/kolla-standin/services";
const PROGRAMS: &str = "/etc/kolla-standin/programs";

#[derive(Debug)]
enum Spec {
    Http(SocketAddr),
    Tcp(SocketAddr),
    Connect(SocketAddr),
}

/// What a program name stands in for (`/etc/kolla-standin/programs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Daemon,
    Uwsgi,
    Tool,
    Probe,
    Init,
}

fn parse_addr(s: &str) -> Option<SocketAddr> {
    if let Ok(port) = s.parse::<u16>() {
        return Some(SocketAddr::V4(SocketAddrV4::new(
            Ipv4Addr::UNSPECIFIED,
            port,
        )));
    }
    s.parse().ok()
}

fn parse_specs(text: &str) -> Result<Vec<Spec>, String> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or_default())
        .flat_map(str::split_whitespace)
        .map(|item| {
            let (kind, addr) = item
                .split_once(':')
                .ok_or_else(|| format!("bad spec {item:?}"))?;
            let a = parse_addr(addr).ok_or_else(|| format!("bad address in {item:?}"))?;
            match kind {
                "http" => Ok(Spec::Http(a)),
                "tcp" => Ok(Spec::Tcp(a)),
                "connect" if !a.ip().is_unspecified() => Ok(Spec::Connect(a)),
                _ => Err(format!(
                    "bad spec {item:?} (http:, tcp: or connect:ADDR:PORT)"
                )),
            }
        })
        .collect()
}

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Non-comment words of each line of a list file.
fn list_lines(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or_default())
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|w| !w.is_empty())
}

/// The kind of `program` (a name or path) in a programs list (`PATH KIND` lines, matched by
/// file name). Names that are not listed are daemons.
fn kind_of(program: &str, programs: &str) -> Kind {
    let name = basename(program);
    list_lines(programs)
        .find(|w| basename(w[0]) == name)
        .map_or(Kind::Daemon, |w| match w.get(1).copied() {
            Some("uwsgi") => Kind::Uwsgi,
            Some("tool") => Kind::Tool,
            Some("probe") => Kind::Probe,
            Some("init") => Kind::Init,
            _ => Kind::Daemon,
        })
}

/// The specs of `service` in a services map (`SERVICE SPEC...` lines; `-` for none).
fn service_specs(map: &str, service: &str) -> Option<String> {
    list_lines(map).find(|w| w[0] == service).map(|w| {
        w[1..]
            .iter()
            .filter(|s| **s != "-")
            .copied()
            .collect::<Vec<_>>()
            .join(" ")
    })
}

/// Specs from a uWSGI ini file's sockets: `http`/`http-socket` answer HTTP, `https`,
/// `socket` and `uwsgi-socket` accept TCP (no TLS, no uwsgi protocol here). Unix sockets
/// are skipped; `:PORT` means every address, as in uWSGI.
fn uwsgi_ini_specs(ini: &str) -> Vec<String> {
    let mut specs = Vec::new();
    for line in ini.lines().map(str::trim) {
        if line.starts_with(['#', ';', '[']) {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let kind = match key.trim() {
            "http" | "http-socket" => "http",
            "https" | "socket" | "uwsgi-socket" => "tcp",
            _ => continue,
        };
        // https = ADDR,CERT,KEY
        let addr = value.trim().split(',').next().unwrap_or_default().trim();
        let addr = match addr.strip_prefix(':') {
            Some(port) => format!("0.0.0.0:{port}"),
            None => addr.to_string(),
        };
        if parse_addr(&addr).is_some() && addr.contains(':') {
            specs.push(format!("{kind}:{addr}"));
        }
    }
    specs
}

/// The ini file of a uwsgi command line (`uwsgi FILE.ini` or `uwsgi --ini FILE`).
fn uwsgi_ini_path(args: &[String]) -> Option<&str> {
    args.iter()
        .position(|a| a == "--ini")
        .and_then(|i| args.get(i + 1))
        .or_else(|| args.iter().find(|a| a.ends_with(".ini")))
        .map(String::as_str)
}

/// Where the specs come from, and their text.
fn resolve(own: &[String], program: Option<(Kind, &[String])>, service: &str) -> (String, String) {
    if !own.is_empty() {
        return ("arguments".into(), own.join(" "));
    }
    if let Ok(t) = std::fs::read_to_string(CONF) {
        return (CONF.into(), t);
    }
    if let Ok(t) = std::env::var("KOLLA_STANDIN") {
        return ("KOLLA_STANDIN".into(), t);
    }
    if let Some((Kind::Uwsgi, args)) = program {
        if let Some(ini) = uwsgi_ini_path(args) {
            match std::fs::read_to_string(ini) {
                Ok(t) => {
                    let specs = uwsgi_ini_specs(&t);
                    if !specs.is_empty() {
                        return (ini.to_string(), specs.join(" "));
                    }
                }
                Err(e) => eprintln!("kolla-standin: cannot read {ini}: {e}"),
            }
        }
    }
    let map = std::fs::read_to_string(SERVICES).unwrap_or_default();
    match service_specs(&map, service) {
        Some(t) => (format!("{SERVICES} ({service})"), t),
        None => (
            format!("nothing ({service} is not in {SERVICES})"),
            String::new(),
        ),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let service = std::env::var("KOLLA_SERVICE_NAME").unwrap_or_else(|_| "service".into());
    let programs = std::fs::read_to_string(PROGRAMS).unwrap_or_default();
    let called = basename(args.first().map_or(SELF, String::as_str)).to_string();
    if called == SELF || called.is_empty() {
        // kolla-standin [SPEC...] [-- COMMAND...]
        let (own, command) = match args.iter().position(|a| a == "--") {
            Some(i) => (&args[1..i], &args[i + 1..]),
            None => (&args[1.min(args.len())..], &args[args.len()..]),
        };
        let kind = command
            .first()
            .map_or(Kind::Daemon, |p| kind_of(p, &programs));
        let (from, text) = resolve(own, Some((kind, command)), &service);
        return daemon(&service, &command.join(" "), &from, &text);
    }
    let kind = kind_of(&called, &programs);
    match kind {
        Kind::Tool => {
            eprintln!(
                "kolla-standin: {service}: {:?} is a stand-in tool (kollars test image): nothing to do",
                args.join(" ")
            );
            ExitCode::SUCCESS
        }
        Kind::Probe => {
            let (from, text) = resolve(&[], None, &service);
            probe(&service, &called, &from, &text, &programs)
        }
        Kind::Init => init(&called, &args[1..]),
        Kind::Daemon | Kind::Uwsgi => {
            let (from, text) = resolve(&[], Some((kind, &args[1..])), &service);
            daemon(&service, &args.join(" "), &from, &text)
        }
    }
}

fn daemon(service: &str, stands_for: &str, from: &str, text: &str) -> ExitCode {
    let specs = match parse_specs(text) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("kolla-standin: {from}: {e}");
            return ExitCode::from(2);
        }
    };
    println!(
        "kolla-standin: {service} standing in for {stands_for:?}; specs from {from}: {specs:?}"
    );
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        if let Err(e) = signal_hook::flag::register(sig, Arc::clone(&stop)) {
            eprintln!("kolla-standin: cannot handle signal {sig}: {e}");
            return ExitCode::from(2);
        }
    }
    for spec in specs {
        let service = service.to_string();
        match spec {
            Spec::Http(a) | Spec::Tcp(a) => {
                let http = matches!(spec, Spec::Http(_));
                let l = match TcpListener::bind(a) {
                    Ok(l) => l,
                    Err(e) => {
                        eprintln!("kolla-standin: cannot listen on {a}: {e}");
                        return ExitCode::from(1);
                    }
                };
                println!(
                    "kolla-standin: listening on {a} ({})",
                    if http { "http" } else { "tcp" }
                );
                thread::spawn(move || accept(&l, http, &service));
            }
            Spec::Connect(a) => {
                thread::spawn(move || hold(a));
            }
        }
    }
    let _ = std::io::stdout().flush();
    while !stop.load(Ordering::Relaxed) {
        thread::sleep(Duration::from_millis(100));
    }
    println!("kolla-standin: stopping");
    ExitCode::SUCCESS
}

/// `dumb-init [--single-child] [--] COMMAND...`: COMMAND as a child that gets our signals.
fn init(called: &str, args: &[String]) -> ExitCode {
    let mut rest = args;
    while let Some(a) = rest.first().filter(|a| a.starts_with('-')) {
        rest = &rest[1..];
        if a == "--" {
            break;
        }
    }
    let Some((program, program_args)) = rest.split_first() else {
        eprintln!("usage: {called} [--single-child] [--] COMMAND [ARGS...]");
        return ExitCode::from(2);
    };
    use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};
    // Handlers first, so no signal between the spawn and the forwarder is lost.
    let mut signals = match signal_hook::iterator::Signals::new([
        SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2,
    ]) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{called}: cannot handle signals: {e}");
            return ExitCode::from(2);
        }
    };
    let mut child = match std::process::Command::new(program)
        .args(program_args)
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{called}: {program}: {e}");
            return ExitCode::from(if e.kind() == std::io::ErrorKind::NotFound {
                127
            } else {
                126
            });
        }
    };
    let pid = child.id().to_string();
    thread::spawn(move || {
        for sig in signals.forever() {
            // No unsafe here (so no kill(2)): busybox's kill, in every stand-in image.
            let _ = std::process::Command::new("kill")
                .args([format!("-{sig}"), pid.clone()])
                .status();
        }
    });
    match child.wait() {
        Ok(status) => {
            use std::os::unix::process::ExitStatusExt;
            let code = status
                .code()
                .or_else(|| status.signal().map(|s| 128 + s))
                .unwrap_or(1);
            if code == 0 && std::env::var_os("KOLLA_BOOTSTRAP").is_some() {
                note_bootstrap(called);
            }
            ExitCode::from(u8::try_from(code).unwrap_or(1))
        }
        Err(e) => {
            eprintln!("{called}: waiting for {program}: {e}");
            ExitCode::from(1)
        }
    }
}

/// Where a one-shot with `KOLLA_BOOTSTRAP` that exited 0 appends its `KOLLA_SERVICE_NAME`
/// (`bootstrap-keystone`), the last thing before the container exits: `kolla_logs` is shared
/// by every service, so the tests count how often each bootstrap ran to completion.
const BOOTSTRAPS_LOG: &str = "/var/log/kolla/standin-bootstraps.log";

/// Appends this one-shot to [`BOOTSTRAPS_LOG`]; a failure is only reported.
fn note_bootstrap(called: &str) {
    let service = std::env::var("KOLLA_SERVICE_NAME").unwrap_or_else(|_| "unknown".into());
    let appended = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(BOOTSTRAPS_LOG)
        .and_then(|mut f| f.write_all(format!("{service}\n").as_bytes()));
    if let Err(e) = appended {
        eprintln!("{called}: cannot note the bootstrap in {BOOTSTRAPS_LOG}: {e}");
    }
}

/// A healthcheck program: a stand-in daemon runs here and each of its listeners answers.
fn probe(service: &str, called: &str, from: &str, text: &str, programs: &str) -> ExitCode {
    let specs = match parse_specs(text) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{called} (kolla-standin): {from}: {e}");
            return ExitCode::from(2);
        }
    };
    if !daemon_running(programs) {
        eprintln!("{called} (kolla-standin): no stand-in service runs in this container");
        return ExitCode::from(1);
    }
    for spec in &specs {
        let (Spec::Http(a) | Spec::Tcp(a)) = spec else {
            continue;
        };
        let mut a = *a;
        if a.ip().is_unspecified() {
            a.set_ip(if a.is_ipv4() {
                IpAddr::V4(Ipv4Addr::LOCALHOST)
            } else {
                IpAddr::V6(Ipv6Addr::LOCALHOST)
            });
        }
        if let Err(e) = TcpStream::connect_timeout(&a, Duration::from_secs(5)) {
            eprintln!("{called} (kolla-standin): {service}: {a}: {e}");
            return ExitCode::from(1);
        }
    }
    println!("{called} (kolla-standin): {service} is up");
    ExitCode::SUCCESS
}

/// Whether another process of this binary runs here as a daemon.
fn daemon_running(programs: &str) -> bool {
    let Ok(me) = std::env::current_exe() else {
        return false;
    };
    let own = std::process::id().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.flatten().any(|e| {
        let pid = e.file_name().to_string_lossy().into_owned();
        if pid == own || !pid.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
        let proc = Path::new("/proc").join(&pid);
        if std::fs::read_link(proc.join("exe")).ok().as_deref() != Some(me.as_path()) {
            return false;
        }
        let cmdline = std::fs::read(proc.join("cmdline")).unwrap_or_default();
        let argv0 = String::from_utf8_lossy(cmdline.split(|b| *b == 0).next().unwrap_or_default())
            .into_owned();
        let name = basename(&argv0);
        name == SELF || matches!(kind_of(name, programs), Kind::Daemon | Kind::Uwsgi)
    })
}

fn accept(l: &TcpListener, http: bool, service: &str) {
    for conn in l.incoming().flatten() {
        let body = format!("{service} stand-in (kollars)\n");
        thread::spawn(move || {
            let mut conn = conn;
            if http {
                let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 65536 {
                    match conn.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let resp = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = conn.write_all(resp.as_bytes());
            } else {
                // Hold the connection until the peer closes it.
                let mut sink = [0u8; 1024];
                while matches!(conn.read(&mut sink), Ok(n) if n > 0) {}
            }
        });
    }
}

/// Keeps a connection to `a` open, reconnecting every second when it drops.
fn hold(a: SocketAddr) {
    let mut said = false;
    loop {
        if let Ok(mut s) = TcpStream::connect_timeout(&a, Duration::from_secs(2)) {
            println!("kolla-standin: connected to {a}");
            said = false;
            let mut sink = [0u8; 1024];
            while matches!(s.read(&mut sink), Ok(n) if n > 0) {}
        } else if !said {
            println!("kolla-standin: waiting for {a}");
            said = true;
        }
        let _ = std::io::stdout().flush();
        thread::sleep(Duration::from_secs(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROGRAMS: &str = "# path kind\n/var/lib/kolla/venv/bin/uwsgi uwsgi\n\
        /var/lib/kolla/venv/bin/nova-manage   tool\n/usr/bin/ovsdb-client probe # healthcheck\n\
        /usr/sbin/haproxy daemon\n";

    #[test]
    fn kinds_by_file_name() {
        assert_eq!(kind_of("uwsgi", PROGRAMS), Kind::Uwsgi);
        assert_eq!(kind_of("/usr/local/bin/nova-manage", PROGRAMS), Kind::Tool);
        assert_eq!(kind_of("ovsdb-client", PROGRAMS), Kind::Probe);
        assert_eq!(kind_of("/usr/sbin/haproxy", PROGRAMS), Kind::Daemon);
        assert_eq!(
            kind_of("nova-conductor", PROGRAMS),
            Kind::Daemon,
            "unlisted"
        );
        assert_eq!(
            kind_of("kind", PROGRAMS),
            Kind::Daemon,
            "comments are not names"
        );
    }

    #[test]
    fn services_map() {
        let map = "# service specs\nnova-api http:8774\nnova-metadata  http:8775 # metadata\n\
                   nova-api-bootstrap -\n";
        assert_eq!(service_specs(map, "nova-api").as_deref(), Some("http:8774"));
        assert_eq!(
            service_specs(map, "nova-metadata").as_deref(),
            Some("http:8775")
        );
        assert_eq!(
            service_specs(map, "nova-api-bootstrap").as_deref(),
            Some("")
        );
        assert_eq!(service_specs(map, "nova"), None);
    }

    #[test]
    fn uwsgi_sockets() {
        let ini = "[uwsgi]\nhttp = 127.0.0.1:8774\nhttp-auto-chunked = true\n\
                   socket = 127.0.0.1:5001\nsocket-timeout = 30\n# http = 1.2.3.4:1\n\
                   https = [::1]:443,/c.pem,/k.pem\nuwsgi-socket = /run/x.sock\nhttp-socket = :8080\n";
        assert_eq!(
            uwsgi_ini_specs(ini),
            [
                "http:127.0.0.1:8774",
                "tcp:127.0.0.1:5001",
                "tcp:[::1]:443",
                "http:0.0.0.0:8080"
            ]
        );
        assert!(parse_specs(&uwsgi_ini_specs(ini).join(" ")).is_ok());
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            uwsgi_ini_path(&args(&["/etc/nova/nova-api-uwsgi.ini"])),
            Some("/etc/nova/nova-api-uwsgi.ini")
        );
        assert_eq!(
            uwsgi_ini_path(&args(&["--master", "--ini", "/etc/x.conf"])),
            Some("/etc/x.conf")
        );
        assert_eq!(uwsgi_ini_path(&args(&["--master"])), None);
    }

    #[test]
    fn specs() {
        let s =
            parse_specs("http:8774 tcp:127.0.0.2:5000 # comment\nconnect:127.0.0.1:5672").unwrap();
        assert_eq!(s.len(), 3);
        assert!(
            parse_specs("connect:5672").is_err(),
            "connect needs an address"
        );
        assert!(parse_specs("udp:53").is_err());
        assert!(parse_specs("").unwrap().is_empty());
    }
}
