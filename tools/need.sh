#!/usr/bin/env bash
# tools/need.sh - installs the Debian packages that are missing, and only
# those. Every Makefile dependency step (deps, e2e-deps, fuzz-deps, ...)
# goes through it, so each package or command is checked on its own and apt
# is never asked for something the machine already has in another form (a
# node from another source that ships its own npm, say).
#
#   tools/need.sh [--check] SPEC...
#
# SPEC is one of
#   pc:NAME=DEB     pkg-config module NAME, from package DEB
#   cmd:NAME=DEB    command NAME on PATH, from package DEB
#   deb:DEB         package DEB installed (dpkg)
#   file:GLOB=DEB   a file matching GLOB exists, from package DEB
#   npm             npm for the node on PATH (see below)
#
# --check lists what is missing and exits 1 if anything is, installing
# nothing. Otherwise it runs apt-get update once and apt-get install -y for
# the missing packages (root, no terminal: CI), then checks again.
#
# npm: a node that did not come from Debian's nodejs (NodeSource, nvm, a
# tarball) ships its own npm, and Debian's npm conflicts with it; npm is
# then never asked of apt. Debian's npm is installed only beside Debian's
# own nodejs.
set -u

check_only=0
if [ "${1:-}" = --check ]; then
  check_only=1
  shift
fi

missing=()   # packages to install
unmet=()     # human-readable list of what is missing

debian_node() {
  local v
  v=$(dpkg-query -W -f='${Version}' nodejs 2>/dev/null) || return 1
  case "$v" in *nodesource*) return 1 ;; esac
  return 0
}

want() {   # want PKG WHAT: record a missing package once
  local p
  for p in "${missing[@]}"; do [ "$p" = "$1" ] && return 0; done
  missing+=("$1")
  unmet+=("$2")
}

check() {
  local spec=$1 name deb
  case "$spec" in
    pc:*=*) name=${spec#pc:}; deb=${name#*=}; name=${name%%=*}
      pkg-config --exists "$name" 2>/dev/null || want "$deb" "pkg-config $name ($deb)" ;;
    cmd:*=*) name=${spec#cmd:}; deb=${name#*=}; name=${name%%=*}
      command -v "$name" >/dev/null 2>&1 || want "$deb" "command $name ($deb)" ;;
    deb:*) deb=${spec#deb:}
      dpkg-query -W -f='${Status}' "$deb" 2>/dev/null | grep -q 'ok installed' ||
        want "$deb" "package $deb" ;;
    file:*=*) name=${spec#file:}; deb=${name#*=}; name=${name%%=*}
      compgen -G "$name" >/dev/null || want "$deb" "file $name ($deb)" ;;
    npm)
      command -v npm >/dev/null 2>&1 && return 0
      if command -v node >/dev/null 2>&1 && ! debian_node; then
        echo "need.sh: $(command -v node) is not Debian's nodejs and has no npm;" \
             "install the npm that belongs to it (Debian's npm would conflict)" >&2
        exit 1
      fi
      want npm "command npm (npm)" ;;
    *) echo "need.sh: bad spec '$spec'" >&2; exit 2 ;;
  esac
}

for s in "$@"; do check "$s"; done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ $check_only -eq 1 ]; then
  printf 'missing: %s\n' "${unmet[@]}"
  exit 1
fi

echo "installing missing packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=300 update -qq || { echo "need.sh: apt-get update failed" >&2; exit 1; }
apt-get -o DPkg::Lock::Timeout=300 install -y -qq "${missing[@]}" >/dev/null ||
  { echo "need.sh: apt-get install ${missing[*]} failed" >&2; exit 1; }

# Check again: a package that installed but did not provide what was
# wanted (a renamed command, a missing .pc) is still a failure.
missing=() unmet=()
for s in "$@"; do check "$s"; done
if [ ${#missing[@]} -ne 0 ]; then
  printf 'still missing after install: %s\n' "${unmet[@]}" >&2
  exit 1
fi
exit 0
