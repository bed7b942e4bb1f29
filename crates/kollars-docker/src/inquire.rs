//! What `kollars prechecks` asks an engine about itself and its host, changing nothing.
//!
//! kolla-ansible's prechecks run on the host (Ansible's `wait_for` on each port, `df`, the
//! docker CLI). Here the host is reached only through its engine, so the questions are the
//! engine's own answers (`/version`, `/info`, the registry's `/distribution`), and what only
//! the host knows (which TCP ports something listens on, the free space of the engine's data
//! root) is read by one probe container with the host's network ([`Engine::run_probe`]) and
//! parsed here, so the parsing is testable without an engine.

use std::net::IpAddr;

use bollard::auth::DockerCredentials;

use crate::engine::Engine;
use crate::error::{DockerError, EngineError, Result};

/// What the engine says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineFacts {
    /// The engine's version (`28.1.1`).
    pub version: String,
    /// The API version it speaks at most (`1.49`).
    pub api_version: String,
    /// Where it keeps images and containers (`/var/lib/docker`).
    pub root_dir: String,
}

/// Where an image comes from, as far as the engine can tell without pulling it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageSource {
    /// Already on the host.
    Local,
    /// Not on the host; its registry knows the name and tag.
    Registry,
}

/// What the host probe saw: listening TCP sockets and the data root's free space.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HostProbe {
    /// Every listening TCP socket (IPv4 and IPv6), as (address, port).
    pub listening: Vec<(IpAddr, u16)>,
    /// Free kilobytes of the filesystem holding the engine's data root (`None`: `df` said
    /// nothing readable).
    pub free_kib: Option<u64>,
}

impl HostProbe {
    /// The listening socket that takes `port` on `address`: one on the same address, or on
    /// the wildcard address of either side.
    pub fn taken(&self, address: IpAddr, port: u16) -> Option<(IpAddr, u16)> {
        self.listening
            .iter()
            .find(|(a, p)| {
                *p == port && (a == &address || a.is_unspecified() || address.is_unspecified())
            })
            .copied()
    }
}

/// Where the probe sees the engine's data root (bound read-only).
const DATA_ROOT: &str = "/kollars-data-root";

/// The probe's script: the kernel's TCP tables of the host's network namespace, then `df` of
/// the data root. Only `cat` and `df` (busybox has both).
fn probe_script() -> String {
    format!("cat /proc/net/tcp /proc/net/tcp6 2>/dev/null; echo '--- df'; df -Pk {DATA_ROOT}")
}

impl Engine {
    /// The engine's version, API version and data root.
    pub async fn engine_facts(&self) -> Result<EngineFacts> {
        let err = |what: &'static str| {
            move |source: bollard::errors::Error| {
                self.no_answer(&source, || format!("reading the engine's {what}"))
                    .unwrap_or_else(|| DockerError::Info {
                        host: self.host.clone(),
                        endpoint: self.endpoint.clone(),
                        what,
                        source: EngineError::from(source),
                    })
            }
        };
        let v = self.docker.version().await.map_err(err("version"))?;
        let info = self.docker.info().await.map_err(err("info"))?;
        Ok(EngineFacts {
            version: v.version.unwrap_or_default(),
            api_version: v.api_version.unwrap_or_default(),
            root_dir: info.docker_root_dir.unwrap_or_default(),
        })
    }

    /// Whether `image` can be had on this host: present, or known to its registry (asked
    /// with the registry credentials of the common options, nothing pulled).
    pub async fn image_source(&self, image: &str) -> Result<ImageSource> {
        if self.image_id(image).await?.is_some() {
            return Ok(ImageSource::Local);
        }
        let creds = self
            .common
            .registry_auth
            .as_ref()
            .map(|a| DockerCredentials {
                username: Some(a.username.clone()),
                password: Some(a.password.clone()),
                email: a.email.clone(),
                serveraddress: a.registry.clone(),
                ..DockerCredentials::default()
            });
        match self.docker.inspect_registry_image(image, creds).await {
            Ok(_) => Ok(ImageSource::Registry),
            Err(e) => Err(self.image_err(image, "resolve")(e)),
        }
    }

    /// Probes the host through a one-shot container of `image` with the host's network:
    /// its listening TCP sockets and the free space under `data_root` (the engine's).
    pub async fn probe_host(&self, image: &str, data_root: &str) -> Result<HostProbe> {
        let out = self
            .run_probe(image, &probe_script(), &[(data_root, DATA_ROOT)])
            .await?;
        Ok(parse_probe(&out))
    }
}

/// Reads the probe's output: `/proc/net/tcp{,6}` lines in state `0A` (LISTEN), then the last
/// line of `df -Pk` after the `--- df` marker.
pub fn parse_probe(out: &str) -> HostProbe {
    let mut probe = HostProbe::default();
    let (tcp, df) = out.split_once("--- df").unwrap_or((out, ""));
    for line in tcp.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 4 || f[3] != "0A" {
            continue;
        }
        if let Some(sock) = parse_socket(f[1]) {
            if !probe.listening.contains(&sock) {
                probe.listening.push(sock);
            }
        }
    }
    probe.free_kib = df
        .lines()
        .rev()
        .find_map(|l| l.split_whitespace().nth(3).and_then(|v| v.parse().ok()));
    probe
}

/// One `ADDRESS:PORT` of the kernel's tables: the address as 4 or 16 bytes in hex, each
/// 32-bit word in host (little-endian) order, the port in hex.
fn parse_socket(field: &str) -> Option<(IpAddr, u16)> {
    let (addr, port) = field.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let words: Vec<u32> = (0..addr.len() / 8)
        .map(|i| u32::from_str_radix(&addr[i * 8..i * 8 + 8], 16))
        .collect::<std::result::Result<_, _>>()
        .ok()?;
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    let ip = match bytes.len() {
        4 => IpAddr::from(<[u8; 4]>::try_from(bytes).ok()?),
        16 => IpAddr::from(<[u8; 16]>::try_from(bytes).ok()?),
        _ => return None,
    };
    Some((ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:2BCB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1
   1: 00000000:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1
   2: 0100007F:2BCB 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 3 1
  sl  local_address                         remote_address                        st
   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 0
   1: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 0A 0
--- df
Filesystem           1024-blocks    Used Available Capacity Mounted on
/dev/vda             263174212 13100000 81234567  15% /kollars-data-root
";

    #[test]
    fn listening_sockets_and_free_space() {
        let p = parse_probe(SAMPLE);
        let v4 = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(
            p.listening,
            vec![
                (v4("127.0.0.1"), 11211),
                (v4("0.0.0.0"), 3306),
                (v4("::"), 8080),
                (v4("::1"), 22),
            ]
        );
        assert_eq!(p.free_kib, Some(81234567));
        // the established socket (state 01) is not listening
        assert_eq!(
            p.taken(v4("127.0.0.1"), 11211),
            Some((v4("127.0.0.1"), 11211))
        );
        assert_eq!(p.taken(v4("10.0.0.5"), 11211), None);
        // a wildcard listener takes the port on every address
        assert_eq!(p.taken(v4("10.0.0.5"), 3306), Some((v4("0.0.0.0"), 3306)));
        assert_eq!(p.taken(v4("10.0.0.5"), 8080), Some((v4("::"), 8080)));
        assert_eq!(p.taken(v4("10.0.0.5"), 80), None);
    }

    #[test]
    fn nothing_readable() {
        assert_eq!(parse_probe(""), HostProbe::default());
        assert_eq!(parse_probe("garbage\n--- df\nnone"), HostProbe::default());
    }
}
