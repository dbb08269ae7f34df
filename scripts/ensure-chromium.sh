#!/usr/bin/env bash
# Tests drive Debian's Chromium; never a browser downloaded by a test tool.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "Chromium is missing: run 'sudo apt-get install -y chromium' (Debian) and retry." >&2
  exit 1
fi
echo "Installing Debian's chromium…"
# A half-synced mirror index (seen for foreign architectures) must not stop the install.
apt-get update -qq || echo "apt-get update reported errors; trying the install anyway" >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
/usr/bin/chromium --version
