//! `healthcheck_curl`: one HTTP/1.1 GET with the exit code and write-out line kolla expects.
//!
//! Images built FROM scratch have no curl; the healthchecks kolla-ansible configures call
//! `healthcheck_curl` with curl's flags and read its exit code and write-out, so this module
//! reproduces exactly that much of curl and no more.

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use super::net::{base64, parse_url, resolve};

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

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_string()).collect()
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
}
