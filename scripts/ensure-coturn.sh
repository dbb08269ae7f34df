#!/usr/bin/env bash
# The TURN relay of the two-computer mode (npm run classroom -- --turn) and of its relay test is
# Debian's coturn (turnserver), never a binary downloaded by a test tool. Installed with apt-get
# when run as root and missing. The package may start a system turnserver on 3478 where systemd
# runs; the tests start their own on a free port, so the service is left alone.
set -euo pipefail
source "$(dirname "$0")/lib/ensure-deb.sh"
ensure_deb turnserver coturn coturn
