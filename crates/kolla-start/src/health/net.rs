//! The bits of networking a static binary has to bring itself: URLs, name resolution from
//! `/etc/hosts`, base64 for basic auth.
//!
//! A static musl binary has no NSS and no DNS client, and the HTTP check must still reach
//! `http://controller:5000`; these are pure functions so their rules are tested without a
//! network.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

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
    fn base64_encodes() {
        assert_eq!(base64(b"admin:pw"), "YWRtaW46cHc=");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
        assert_eq!(base64(b""), "");
    }
}
