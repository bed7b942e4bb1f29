#!/usr/bin/env bash
# Makes local engines (scripts/engines.sh) reachable as ssh:// hosts through a real sshd
# (Debian's openssh-server) with key authentication, as an operator's hosts are.
#
# Usage: scripts/ssh-hosts.sh up DIR ENDPOINT...   -> prints one "ssh://root@ssh-hostI" per
#                                                    engine, in order
#
# No sshd listens anywhere: each host alias of DIR/config has a ProxyCommand that starts
# `sshd -i` (inetd mode, one sshd per connection) inside the engine's network namespace
# (`nsenter --net=/proc/<dockerd pid>/ns/net`), so the connection never leaves this machine
# and each host is its own namespace as the engines are. Each host's sshd config sets
# DOCKER_HOST to its engine's socket, so `docker system dial-stdio` on the "remote" side
# reaches that engine, as it reaches /var/run/docker.sock on a real host.
#
# DIR/bin/ssh runs the system ssh with `-F DIR/config` (and records its arguments in
# DIR/ssh-args.log) in engine 1's network namespace, so that what it connects to by address
# (ssh-refused) is there too: put DIR/bin first in PATH and kollars (and the docker CLI) reach
# the hosts.
# Each host's sshd logs to DIR/ssh-hostI.log (one "Accepted publickey" per connection).
#
# Besides ssh-host1..N, aliases that fail as hosts do (on engine 1's namespace):
#   ssh-wrongenv     sshd's DOCKER_HOST names a socket that does not exist
#   ssh-unknownkey   a host key that is not in known_hosts
#   ssh-refused      the connection is refused (127.0.0.1 port 1 in that namespace)
#   ssh-hanging      the connection is made but the host never answers
# Keys are made once (DIR/id, DIR/hostkey); the configs are rewritten on every call.
set -euo pipefail
# shellcheck source=scripts/lib/apt.sh
. "$(dirname "$0")/lib/apt.sh"
cmd=${1:-}
dir=${2:-}
[ "$cmd" = up ] && [ -n "$dir" ] && [ $# -ge 3 ] || {
  echo "usage: $0 up DIR ENDPOINT..." >&2; exit 2; }
shift 2
case "$dir" in /*) ;; *) dir=$PWD/$dir ;; esac
[ -x /usr/sbin/sshd ] || apt_install --no-install-recommends openssh-server
[ -x /bin/busybox ] || apt_install busybox-static
mkdir -p "$dir/bin" /run/sshd
chmod 700 "$dir"

# the key kollars logs in with, and the hosts' key
[ -f "$dir/id" ] || ssh-keygen -q -t ed25519 -N '' -C kollars-test -f "$dir/id"
[ -f "$dir/hostkey" ] || ssh-keygen -q -t ed25519 -N '' -C kollars-test-host -f "$dir/hostkey"
[ -f "$dir/otherkey" ] || ssh-keygen -q -t ed25519 -N '' -C kollars-test-other -f "$dir/otherkey"
cp "$dir/id.pub" "$dir/authorized_keys"
# every host shows the same key, known under one alias
printf 'kollars-ssh-test %s\n' "$(cut -d' ' -f1,2 "$dir/hostkey.pub")" >"$dir/known_hosts"

# write FILE: stdin to FILE, atomically (several tests may run this at once)
write() { cat >"$1.tmp.$$"; mv -f "$1.tmp.$$" "$1"; }

# sshd_conf NAME DOCKER_HOST [HOSTKEY]
sshd_conf() {
  write "$dir/$1.sshd" <<EOF
HostKey ${3:-$dir/hostkey}
AuthorizedKeysFile $dir/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile none
SetEnv DOCKER_HOST=$2
EOF
}

# netns ENDPOINT: the network namespace of the engine at unix://…/docker.sock
netns() {
  local sock=${1#unix://} pid
  pid=$(cat "$(dirname "$sock")/docker.pid" 2>/dev/null) ||
    { echo "ssh-hosts.sh: $1 is not a scripts/engines.sh engine (no docker.pid)" >&2; exit 2; }
  [ -e "/proc/$pid/ns/net" ] || { echo "ssh-hosts.sh: the engine at $1 is not running" >&2; exit 2; }
  printf '/proc/%s/ns/net' "$pid"
}

config=""
i=0
first=""
for ep in "$@"; do
  i=$((i + 1))
  ns=$(netns "$ep")
  [ -n "$first" ] || first=$ns
  sshd_conf "ssh-host$i" "$ep"
  config+="Host ssh-host$i
  ProxyCommand nsenter --net=$ns /usr/sbin/sshd -i -f $dir/ssh-host$i.sshd -E $dir/ssh-host$i.log
"
done
sshd_conf ssh-wrongenv "unix:///run/kollars-no-such-engine/docker.sock"
sshd_conf ssh-unknownkey "$1" "$dir/otherkey"
config+="Host ssh-wrongenv
  ProxyCommand nsenter --net=$first /usr/sbin/sshd -i -f $dir/ssh-wrongenv.sshd -E $dir/ssh-wrongenv.log
Host ssh-unknownkey
  HostKeyAlias kollars-ssh-unknown
  ProxyCommand nsenter --net=$first /usr/sbin/sshd -i -f $dir/ssh-unknownkey.sshd -E $dir/ssh-unknownkey.log
Host ssh-refused
  Hostname 127.0.0.1
  Port 1
Host ssh-hanging
  ProxyCommand /bin/busybox sh -c 'cat >/dev/null; exit 0'
Host *
  User root
  IdentityFile $dir/id
  IdentitiesOnly yes
  HostKeyAlias kollars-ssh-test
  UserKnownHostsFile $dir/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  BatchMode yes
"
printf '%s' "$config" | write "$dir/config"
write "$dir/bin/ssh" <<EOF
#!/bin/sh
printf '%s\n' "\$*" >>"$dir/ssh-args.log"
exec nsenter --net=$first /usr/bin/ssh -F "$dir/config" "\$@"
EOF
chmod +x "$dir/bin/ssh"
for j in $(seq 1 "$i"); do echo "ssh://root@ssh-host$j"; done
