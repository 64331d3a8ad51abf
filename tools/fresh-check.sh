#!/usr/bin/env bash
# tools/fresh-check.sh - what a new user meets: a clean clone of the
# committed tree in a temporary directory, then the README's `make test`
# there. With --remove PKG..., those Debian packages are removed first
# (apt-get remove), so the run proves that `make test` installs them again by
# itself, e.g. on a machine without Chromium:
#
#   bash tools/fresh-check.sh --remove chromium fonts-noto-cjk libcmocka-dev
#
# Root and no terminal, as CI. Exits with make test's status; the clone is
# removed afterwards unless KEEP=1.
set -euo pipefail
top=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
remove=()
if [ "${1:-}" = --remove ]; then
  shift
  remove=("$@")
fi

if [ ${#remove[@]} -gt 0 ]; then
  echo "fresh-check: removing ${remove[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq "${remove[@]}" >/dev/null
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/deskd-fresh.XXXXXX")
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$dir"' EXIT
git clone -q "$top" "$dir/deskd"
echo "fresh-check: clone of $(git -C "$top" rev-parse --short HEAD) in $dir/deskd"
cd "$dir/deskd"
make test </dev/null
echo "fresh-check: make test passed in a clean clone"
