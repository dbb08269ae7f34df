#!/usr/bin/env bash
# The two-computer mode's shared storage is Debian's etcd (package etcd-server, 3.4.x), never a
# binary downloaded by a test tool. Installed with apt-get when run as root and missing.
set -euo pipefail
if command -v etcd >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "etcd is missing: run 'sudo apt-get install -y etcd-server' (Debian/Ubuntu) and retry." >&2
  exit 1
fi
echo "Installing Debian's etcd-server…"
# A half-synced mirror index (seen for foreign architectures) must not stop the install.
apt-get update -qq || echo "apt-get update reported errors; trying the install anyway" >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends etcd-server >/dev/null
# The package starts a system etcd on 2379; the project starts its own on other ports, so
# leave the service alone (stopping it would need systemd, which containers often lack).
etcd --version | head -1
