#!/usr/bin/env bash
# The TURN relay of the two-computer mode (npm run classroom -- --turn) and of its relay test is
# Debian's coturn (turnserver), never a binary downloaded by a test tool. Installed with apt-get
# when run as root and missing.
set -euo pipefail
if command -v turnserver >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "turnserver is missing: run 'sudo apt-get install -y coturn' (Debian/Ubuntu) and retry." >&2
  exit 1
fi
echo "Installing Debian's coturn…"
# A half-synced mirror index (seen for foreign architectures) must not stop the install.
apt-get update -qq || echo "apt-get update reported errors; trying the install anyway" >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends coturn >/dev/null
# The package may start a system turnserver on 3478 where systemd runs; the tests start their
# own on a free port, so leave the service alone.
command -v turnserver
