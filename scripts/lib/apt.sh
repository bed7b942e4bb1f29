# shellcheck shell=bash
# apt_install PKG…: installs Debian packages on this machine, quietly, waiting for another
# apt or dpkg run (another script, an unattended upgrade) to let go of its locks instead of
# failing at once: up to 10 minutes for the dpkg lock, and up to 5 more attempts of the whole
# update + install when the lists lock is held.
apt_install() {
  local i
  for i in 1 2 3 4 5 6; do
    if DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null &&
       DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "$@" >/dev/null; then
      return 0
    fi
    [ "$i" = 6 ] && break
    echo "apt_install: apt-get failed (attempt $i; another apt run holding its lock?), retrying in 10 s" >&2
    sleep 10
  done
  echo "apt_install: could not install $*" >&2
  return 1
}
