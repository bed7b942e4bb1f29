#!/usr/bin/env bash
# Copy images from one engine to others (multi-host tests): docker save | docker load, only
# to the engines that do not already have the same image id.
#
# Usage: scripts/copy-images.sh --from DOCKER_HOST --to DOCKER_HOST [--to ...] IMAGE...
#   e.g. scripts/copy-images.sh --from "$h1" --to "$h2" --to "$h3" $(scripts/build-real-images.sh)
set -euo pipefail
from="" to=() images=()
while [ $# -gt 0 ]; do
  case "$1" in
    --from) from=$2; shift 2 ;;
    --to) to+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    -*) echo "copy-images.sh: unknown option $1" >&2; exit 2 ;;
    *) images+=("$1"); shift ;;
  esac
done
[ -n "$from" ] && [ ${#to[@]} -gt 0 ] && [ ${#images[@]} -gt 0 ] || { sed -n '4,6p' "$0" >&2; exit 2; }
id_on() { DOCKER_HOST=$1 docker image inspect -f '{{.Id}}' "$2" 2>/dev/null || true; }
copy_to() { # TARGET: the images it lacks, in one archive (the layers they share travel once)
  local t=$1 i src missing=()
  for i in "${images[@]}"; do
    src=$(id_on "$from" "$i"); [ -n "$src" ] || { echo "copy-images.sh: $i is not on $from" >&2; return 1; }
    [ "$(id_on "$t" "$i")" = "$src" ] || missing+=("$i")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  echo "copy-images.sh: ${#missing[@]} image(s) to $t" >&2
  DOCKER_HOST=$from docker save "${missing[@]}" | DOCKER_HOST=$t docker load -q >/dev/null
}
# The targets load side by side: each load waits on its own disk writes, not on the others.
pids=()
for t in "${to[@]}"; do copy_to "$t" & pids+=($!); done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
exit $rc
