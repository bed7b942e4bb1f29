#!/usr/bin/env bash
# The browser the horizon test drives, nobody here wrote it: Debian's chromium and
# chromedriver (apt, when missing) and Selenium from PyPI in a venv. Prints the path of the
# venv's python (which runs tests/horizon/browse.py).
#
# Usage: scripts/browser.sh [VENV]   (default /var/cache/kollars-images/browser)
# Reuses the venv when it holds exactly this pin (its kollars-browser.txt) and imports it.
set -euo pipefail
venv=${1:-/var/cache/kollars-images/browser}
pins="selenium==4.38.0"
if ! [ -x /usr/bin/chromium ] || ! [ -x /usr/bin/chromedriver ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq chromium chromium-driver >/dev/null
fi
if [ "$(cat "$venv/kollars-browser.txt" 2>/dev/null)" != "$pins" ] ||
  ! "$venv/bin/python" -c 'import selenium' >/dev/null 2>&1; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  # shellcheck disable=SC2086
  "$venv/bin/pip" install --quiet --disable-pip-version-check $pins >&2
  echo "$pins" > "$venv/kollars-browser.txt"
fi
echo "$venv/bin/python"
