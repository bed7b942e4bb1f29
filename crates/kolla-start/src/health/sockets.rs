//! `healthcheck_port` and `healthcheck_listen`: sockets of a process, read from `/proc`.
//!
//! kolla's versions pipe `ss -ntp` through `grep`; kolla images built FROM scratch have
//! neither, and the grep matched ports as substrings. Reading `/proc/net/*` and
//! `/proc/<pid>/fd` directly needs no tool and matches ports exactly.

use std::collections::HashSet;
use std::fs;
use std::process::ExitCode;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
