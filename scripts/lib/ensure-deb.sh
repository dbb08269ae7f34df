#!/usr/bin/env bash
# Sourced by scripts/ensure-*.sh: what the tests need from Debian comes from apt-get, never a
# binary a test tool downloads.
#   ensure_deb COMMAND LABEL PACKAGE...
# does nothing when COMMAND (a name on PATH or an absolute path) runs; as root installs the
# packages; otherwise says what to install and fails. With ENSURE_DEB_LIST set it only prints the
# missing packages: scripts/ensure-debs.sh collects them for one apt-get run.
ensure_deb() {
  local cmd=$1 label=$2
  shift 2
  if command -v "$cmd" >/dev/null 2>&1; then return 0; fi
  if [ -n "${ENSURE_DEB_LIST:-}" ]; then
    echo "$*"
    return 0
  fi
  if [ "$(id -u)" != 0 ]; then
    echo "$label is missing: run 'sudo apt-get install -y $*' (Debian/Ubuntu) and retry." >&2
    return 1
  fi
  echo "Installing Debian's $*…"
  # A half-synced mirror index (seen for foreign architectures) must not stop the install.
  apt-get update -qq || echo "apt-get update reported errors; trying the install anyway" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  "$cmd" --version | head -1
}
