//! The healthchecks kolla-ansible wires into containers, under kolla's names and arguments.
//!
//! * `healthcheck_curl [OPTIONS] URL`: an HTTP/1.1 GET with curl's exit contract as kolla
//!   uses it: 0 when a status line arrives with a code below 400 (redirects are not followed),
//!   1 otherwise. A write-out line (`HEALTHCHECK_CURL_WRITE_OUT`, default
//!   `\n%{http_code} %{remote_ip}:%{remote_port} %{time_total} seconds\n`) goes to stdout.
//!   `http://` only: there is no TLS in this binary, so an `https://` URL fails with a message
//!   saying so rather than pretending. Host names are resolved from IP literals,
//!   `localhost` and `/etc/hosts` (a static binary has no NSS/DNS).
//! * `healthcheck_port PROCESS PORT…`: a process whose command line matches the regex
//!   PROCESS (as `pgrep -f`) owns a connected TCP socket whose local or remote port is one of
//!   PORT. kolla greps `ss -ntp` output with an unanchored regex, so `:5672` also matched
//!   `:56720`; ports here match exactly.
//! * `healthcheck_listen PROCESS PORT…`: such a process listens (TCP) or is bound (UDP) on one
//!   of PORT.
//!
//! The socket checks read `/proc/net/{tcp,tcp6,udp,udp6}` and `/proc/<pid>/fd`, so neither
//! `ss` nor `pgrep` is needed. Exit: 0 found, 1 not found, 2 bad arguments.

use std::collections::HashSet;
use std::fs;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use regex::Regex;

/// Which sockets `healthcheck_port` / `healthcheck_listen` look for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Connected TCP sockets, local or remote port (`healthcheck_port`).
    Connected,
    /// Listening TCP or bound UDP sockets, local port (`healthcheck_listen`).
    Listening,
}

/// `healthcheck_port` / `healthcheck_listen`.
pub fn sockets(args: &[String], mode: Mode) -> ExitCode {
    let name = if mode == Mode::Listening {
        "healthcheck_listen"
    } else {
        "healthcheck_port"
    };
    let (Some(process), ports) = (args.first(), &args[1.min(args.len())..]) else {
        eprintln!("usage: {name} PROCESS PORT [PORT...]");
        return ExitCode::from(2);
    };
    if ports.is_empty() {
        eprintln!("usage: {name} PROCESS PORT [PORT...]");
        return ExitCode::from(2);
    }
    let Ok(ports) = ports
        .iter()
        .map(|p| p.parse::<u16>())
        .collect::<Result<Vec<_>, _>>()
    else {
        eprintln!("{name}: ports must be numbers, got {ports:?}");
        return ExitCode::from(2);
    };
    let re = match Regex::new(process) {
        Ok(re) => re,
        Err(e) => {
            eprintln!("{name}: bad process pattern {process:?}: {e}");
            return ExitCode::from(2);
        }
    };
    let pids = matching_pids(&re);
    let inodes: HashSet<u64> = pids.iter().flat_map(|&pid| socket_inodes(pid)).collect();
    let found = proc_sockets()
        .iter()
        .any(|s| inodes.contains(&s.inode) && s.matches(mode, &ports));
    if found {
        ExitCode::SUCCESS
    } else {
        let what = if mode == Mode::Listening {
            "listens on"
        } else {
            "has a connection on"
        };
        println!(
            "no process matching {process:?} ({} found) {what} port {ports:?}",
            pids.len()
        );
        ExitCode::from(1)
    }
}

/// Pids (other than this one) whose command line, NULs as spaces, matches `re`.
fn matching_pids(re: &Regex) -> Vec<u32> {
    let me = std::process::id();
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != me)
        .filter(|pid| {
            let Ok(raw) = fs::read(format!("/proc/{pid}/cmdline")) else {
                return false;
            };
            let line: String = String::from_utf8_lossy(&raw).replace('\0', " ");
            let line = line.trim_end();
            !line.is_empty() && re.is_match(line)
        })
        .collect()
}

/// The socket inodes among a process's open files.
fn socket_inodes(pid: u32) -> Vec<u64> {
    let Ok(dir) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| fs::read_link(e.path()).ok())
        .filter_map(|l| {
            let l = l.to_string_lossy().into_owned();
            l.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
        })
        .collect()
}

/// One line of `/proc/net/{tcp,udp}{,6}`.
#[derive(Debug, PartialEq, Eq)]
pub struct Socket {
    /// TCP (else UDP).
    pub tcp: bool,
    /// Local port.
    pub local: u16,
    /// Remote port.
    pub remote: u16,
    /// Kernel state (`0A` listen for TCP, `07` unconnected for UDP).
    pub state: u8,
    /// Socket inode.
    pub inode: u64,
}

impl Socket {
    fn matches(&self, mode: Mode, ports: &[u16]) -> bool {
        match mode {
            Mode::Listening => {
                let bound = if self.tcp {
                    self.state == 0x0A
                } else {
                    self.state == 0x07
                };
                bound && ports.contains(&self.local)
            }
            Mode::Connected => {
                self.tcp
                    && self.state != 0x0A
                    && (ports.contains(&self.local) || ports.contains(&self.remote))
            }
        }
    }
}

fn proc_sockets() -> Vec<Socket> {
    let mut all = Vec::new();
    for (file, tcp) in [
        ("tcp", true),
        ("tcp6", true),
        ("udp", false),
        ("udp6", false),
    ] {
        if let Ok(text) = fs::read_to_string(format!("/proc/net/{file}")) {
            all.extend(parse_proc_net(&text, tcp));
        }
    }
    all
}

/// Parses the table of `/proc/net/tcp` and friends.
pub fn parse_proc_net(text: &str, tcp: bool) -> Vec<Socket> {
    let port = |addr: &str| u16::from_str_radix(addr.rsplit(':').next()?, 16).ok();
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            Some(Socket {
                tcp,
                local: port(f.get(1)?)?,
                remote: port(f.get(2)?)?,
                state: u8::from_str_radix(f.get(3)?, 16).ok()?,
                inode: f.get(9)?.parse().ok()?,
            })
        })
        .collect()
}

/// The options of `healthcheck_curl` that matter; the rest of curl's flags kolla passes
/// (`-q -g -k -s -S --fail`) are accepted and describe what happens anyway.
#[derive(Debug, Default, PartialEq)]
pub struct CurlArgs {
    /// The URL.
    pub url: String,
    /// `-u user:password` (basic auth).
    pub user: Option<String>,
    /// `-H 'Name: value'`.
    pub headers: Vec<String>,
    /// `-m/--max-time` seconds.
    pub max_time: Option<f64>,
}

/// Parses curl-style arguments.
pub fn parse_curl_args(args: &[String]) -> Result<CurlArgs, String> {
    let mut out = CurlArgs::default();
    let mut urls = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |flag: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("option {flag} needs a value"))
        };
        match a.as_str() {
            "-u" | "--user" => out.user = Some(value(a)?),
            "-H" | "--header" => out.headers.push(value(a)?),
            "-m" | "--max-time" => {
                let v = value(a)?;
                out.max_time = Some(v.parse().map_err(|_| format!("bad --max-time {v:?}"))?);
            }
            "-q" | "-g" | "-k" | "-s" | "-S" | "-f" | "-sS" | "--fail" | "--silent"
            | "--show-error" | "--insecure" | "--globoff" | "--disable" => {}
            s if s.starts_with('-') => return Err(format!("unsupported option {s}")),
            url => urls.push(url.to_string()),
        }
    }
    match urls.as_slice() {
        [url] => out.url.clone_from(url),
        [] => return Err("no URL given".into()),
        _ => return Err(format!("one URL expected, got {urls:?}")),
    }
    Ok(out)
}

/// `healthcheck_curl`.
pub fn curl(args: &[String]) -> ExitCode {
    let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_string());
    let parsed = match parse_curl_args(args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("healthcheck_curl: {e}");
            return ExitCode::from(1);
        }
    };
    let max_time = parsed.max_time.unwrap_or_else(|| {
        env("HEALTHCHECK_CURL_MAX_TIME", "10")
            .parse()
            .unwrap_or(10.0)
    });
    let agent = env("HEALTHCHECK_CURL_USER_AGENT", "curl-healthcheck");
    let output = env("HEALTHCHECK_CURL_OUTPUT", "/dev/null");
    let write_out = env(
        "HEALTHCHECK_CURL_WRITE_OUT",
        "\\n%{http_code} %{remote_ip}:%{remote_port} %{time_total} seconds\\n",
    );
    let start = Instant::now();
    let result = get(
        &parsed,
        &agent,
        Duration::from_secs_f64(max_time.max(0.001)),
        &output,
    );
    let (code, peer) = match &result {
        Ok((code, peer)) => (*code, Some(*peer)),
        Err(e) => (0, e.peer),
    };
    print!(
        "{}",
        write_out_text(&write_out, code, peer, start.elapsed())
    );
    let _ = std::io::stdout().flush();
    match result {
        Ok((code, _)) if code < 400 => ExitCode::SUCCESS,
        Ok((code, _)) => {
            eprintln!("curl: (22) The requested URL returned error: {code}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("curl: {}", e.msg);
            ExitCode::from(1)
        }
    }
}

struct CurlError {
    msg: String,
    peer: Option<SocketAddr>,
}

fn fail(msg: impl Into<String>) -> CurlError {
    CurlError {
        msg: msg.into(),
        peer: None,
    }
}

/// Splits `http://host[:port][/path]` into host, port and path.
pub fn parse_url(url: &str) -> Result<(String, u16, String), String> {
    if url.starts_with("https://") {
        return Err("https is not supported: kolla-start has no TLS; use an http:// URL".into());
    }
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("unsupported URL {url:?} (only http:// is supported)"))?;
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) if rest.as_bytes()[i] == b'/' => (&rest[..i], rest[i..].to_string()),
        Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
        None => (rest, "/".to_string()),
    };
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6
            .split_once(']')
            .ok_or_else(|| format!("bad host in {url:?}"))?;
        (h.to_string(), after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        }
    };
    let port = match port {
        None | Some("") => 80,
        Some(p) => p.parse().map_err(|_| format!("bad port in {url:?}"))?,
    };
    if host.is_empty() {
        return Err(format!("no host in {url:?}"));
    }
    Ok((host, port, path))
}

/// Resolves a host without NSS: IP literals, `localhost`, then `/etc/hosts`.
pub fn resolve(host: &str, hosts_file: &str) -> Vec<IpAddr> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return vec![ip];
    }
    let mut found: Vec<IpAddr> = hosts_file
        .lines()
        .map(|l| l.split('#').next().unwrap_or_default())
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let ip = f.next()?.parse::<IpAddr>().ok()?;
            f.any(|n| n.eq_ignore_ascii_case(host)).then_some(ip)
        })
        .collect();
    if found.is_empty() && host.eq_ignore_ascii_case("localhost") {
        found = vec![
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ];
    }
    found
}

fn get(
    a: &CurlArgs,
    agent: &str,
    max: Duration,
    output: &str,
) -> Result<(u16, SocketAddr), CurlError> {
    let deadline = Instant::now() + max;
    let left = || {
        deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1))
    };
    let (host, port, path) = parse_url(&a.url).map_err(|m| fail(format!("(1) {m}")))?;
    let hosts = fs::read_to_string("/etc/hosts").unwrap_or_default();
    let ips = resolve(&host, &hosts);
    if ips.is_empty() {
        return Err(fail(format!(
            "(6) Could not resolve host: {host} (IP literals and /etc/hosts only)"
        )));
    }
    let mut last = String::new();
    let mut conn = None;
    for ip in ips {
        let addr = SocketAddr::new(ip, port);
        match TcpStream::connect_timeout(&addr, left()) {
            Ok(s) => {
                conn = Some((s, addr));
                break;
            }
            Err(e) => last = format!("(7) Failed to connect to {host} port {port}: {e}"),
        }
    }
    let (mut s, peer) = conn.ok_or_else(|| fail(last))?;
    let err = |m: String| CurlError {
        msg: m,
        peer: Some(peer),
    };
    let host_header = if port == 80 {
        host.clone()
    } else if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: {agent}\r\nAccept: */*\r\nConnection: close\r\n");
    if let Some(user) = &a.user {
        req.push_str(&format!(
            "Authorization: Basic {}\r\n",
            base64(user.as_bytes())
        ));
    }
    for h in &a.headers {
        req.push_str(&format!("{h}\r\n"));
    }
    req.push_str("\r\n");
    let io_err = |e: std::io::Error| {
        if matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ) {
            format!(
                "(28) Operation timed out after {} milliseconds",
                max.as_millis()
            )
        } else {
            format!("(56) Failure when receiving data from the peer: {e}")
        }
    };
    s.set_write_timeout(Some(left()))
        .map_err(|e| err(io_err(e)))?;
    s.write_all(req.as_bytes()).map_err(|e| err(io_err(e)))?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        s.set_read_timeout(Some(left()))
            .map_err(|e| err(io_err(e)))?;
        let n = s.read(&mut chunk).map_err(|e| err(io_err(e)))?;
        if n == 0 {
            break buf.len();
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > 1 << 20 {
            return Err(err("(8) Response header too large".into()));
        }
    };
    let status_line = String::from_utf8_lossy(&buf[..head_end])
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    let code = status_line
        .strip_prefix("HTTP/")
        .and_then(|r| r.split_whitespace().nth(1))
        .and_then(|c| c.parse::<u16>().ok())
        .ok_or_else(|| err(format!("(8) Weird server reply: {status_line:?}")))?;
    if output != "/dev/null" {
        // The body as received (a chunked body is not decoded).
        let mut body = buf[head_end..].to_vec();
        while Instant::now() < deadline {
            s.set_read_timeout(Some(left()))
                .map_err(|e| err(io_err(e)))?;
            match s.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => body.extend_from_slice(&chunk[..n]),
            }
        }
        fs::write(output, body)
            .map_err(|e| err(format!("(23) Failure writing output to {output}: {e}")))?;
    }
    Ok((code, peer))
}

/// Expands curl's write-out escapes and the variables kolla uses.
pub fn write_out_text(fmt: &str, code: u16, peer: Option<SocketAddr>, took: Duration) -> String {
    let mut out = String::new();
    let mut rest = fmt;
    while let Some(c) = rest.chars().next() {
        if let Some(r) = rest.strip_prefix("%{") {
            if let Some(end) = r.find('}') {
                match &r[..end] {
                    "http_code" | "response_code" => out.push_str(&format!("{code:03}")),
                    "remote_ip" => {
                        out.push_str(&peer.map(|p| p.ip().to_string()).unwrap_or_default())
                    }
                    "remote_port" => {
                        out.push_str(&peer.map(|p| p.port().to_string()).unwrap_or_default())
                    }
                    "time_total" => out.push_str(&format!("{:.6}", took.as_secs_f64())),
                    _ => {}
                }
                rest = &r[end + 1..];
                continue;
            }
        }
        let (text, skip) = match rest.get(..2) {
            Some("\\n") => ("\n", 2),
            Some("\\r") => ("\r", 2),
            Some("\\t") => ("\t", 2),
            Some("\\\\") => ("\\", 2),
            Some("%%") => ("%", 2),
            _ => ("", 0),
        };
        if skip > 0 {
            out.push_str(text);
            rest = &rest[skip..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// Standard base64 with padding.
pub fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(T[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn proc_net_table() {
        let text = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:2BCB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0
   1: 0100007F:D2F0 0100007F:1628 01 00000000:00000000 00:00000000 00000000 42436        0 777 1 0000000000000000 20 4 30 10 -1
";
        let s = parse_proc_net(text, true);
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].local, s[0].state, s[0].inode), (11211, 0x0A, 12345));
        assert_eq!((s[1].local, s[1].remote, s[1].state), (54000, 5672, 1));
        assert!(s[0].matches(Mode::Listening, &[11211]));
        assert!(!s[0].matches(Mode::Connected, &[11211]));
        assert!(s[1].matches(Mode::Connected, &[5672]));
        assert!(
            !s[1].matches(Mode::Connected, &[567]),
            "ports match exactly"
        );
        assert!(!s[1].matches(Mode::Listening, &[54000]));
    }

    #[test]
    fn curl_arguments() {
        let a = parse_curl_args(&strings(&["-u", "admin:pw", "http://10.0.0.1:1984"])).unwrap();
        assert_eq!(a.user.as_deref(), Some("admin:pw"));
        assert_eq!(a.url, "http://10.0.0.1:1984");
        assert!(parse_curl_args(&strings(&["--fail", "-k", "http://x"])).is_ok());
        assert!(parse_curl_args(&strings(&["--resolve", "x", "http://x"])).is_err());
        assert!(parse_curl_args(&strings(&[])).is_err());
    }

    #[test]
    fn urls() {
        assert_eq!(
            parse_url("http://10.0.0.5:5000").unwrap(),
            ("10.0.0.5".into(), 5000, "/".into())
        );
        assert_eq!(
            parse_url("http://h/v3?x=1").unwrap(),
            ("h".into(), 80, "/v3?x=1".into())
        );
        assert_eq!(
            parse_url("http://[::1]:8774/v2.1").unwrap(),
            ("::1".into(), 8774, "/v2.1".into())
        );
        assert_eq!(
            parse_url("http://u:p@h:81").unwrap(),
            ("h".into(), 81, "/".into())
        );
        assert!(parse_url("https://h")
            .unwrap_err()
            .contains("https is not supported"));
        assert!(parse_url("ftp://h").is_err());
    }

    #[test]
    fn resolution_without_nss() {
        let hosts = "127.0.0.1 localhost\n10.1.2.3 ctl1 ctl1.example # c\n";
        assert_eq!(
            resolve("10.9.9.9", hosts),
            vec!["10.9.9.9".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(
            resolve("CTL1", hosts),
            vec!["10.1.2.3".parse::<IpAddr>().unwrap()]
        );
        assert!(resolve("nowhere", hosts).is_empty());
        assert_eq!(resolve("localhost", "").len(), 2);
    }

    #[test]
    fn write_out() {
        let peer: SocketAddr = "10.0.0.1:5000".parse().unwrap();
        let s = write_out_text(
            "\\n%{http_code} %{remote_ip}:%{remote_port} %{time_total} seconds\\n",
            200,
            Some(peer),
            Duration::from_millis(1500),
        );
        assert_eq!(s, "\n200 10.0.0.1:5000 1.500000 seconds\n");
        assert_eq!(
            write_out_text("%{http_code}%%", 0, None, Duration::ZERO),
            "000%"
        );
    }

    #[test]
    fn base64_encodes() {
        assert_eq!(base64(b"admin:pw"), "YWRtaW46cHc=");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
        assert_eq!(base64(b""), "");
    }
}
