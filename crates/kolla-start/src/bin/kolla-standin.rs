//! The stand-in service of kollars' test and demo images (see images/README.md).
//!
//! It takes the place of a real OpenStack service so deploys can be tested end to end without
//! the real software: it listens where it is told (answering HTTP with 200), holds outgoing
//! connections open (so `healthcheck_port` sees them), and exits cleanly on SIGTERM.
//!
//! What to do comes from, in this order: the arguments when called as `kolla-standin SPEC…`
//! (arguments after `--` are the command it stands in for and are only logged), the file
//! `/etc/kolla/standin.conf` (a rendered config file), or the `KOLLA_STANDIN` variable
//! (each image sets its service's default ports). A SPEC is one of `http:[ADDR:]PORT`,
//! `tcp:[ADDR:]PORT` or `connect:ADDR:PORT`, separated by blanks or newlines; `#` starts a
//! comment.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

const CONF: &str = "/etc/kolla/standin.conf";

#[derive(Debug)]
enum Spec {
    Http(SocketAddr),
    Tcp(SocketAddr),
    Connect(SocketAddr),
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

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let service = std::env::var("KOLLA_SERVICE_NAME").unwrap_or_else(|_| "service".into());
    let (own, stands_for) = match args.iter().position(|a| a == "--") {
        Some(i) => (&args[1..i], args[i + 1..].join(" ")),
        None => (&args[1.min(args.len())..], String::new()),
    };
    let (from, text) = if !own.is_empty() {
        ("arguments", own.join(" "))
    } else if let Ok(t) = std::fs::read_to_string(CONF) {
        (CONF, t)
    } else {
        (
            "KOLLA_STANDIN",
            std::env::var("KOLLA_STANDIN").unwrap_or_default(),
        )
    };
    let specs = match parse_specs(&text) {
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
        let service = service.clone();
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
