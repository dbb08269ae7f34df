#!/usr/bin/env bash
# Every Debian package CI needs (the scripts/ensure-*.sh below) in ONE apt-get run: one index
# update and one dpkg pass instead of four (each run costs seconds of apt/dpkg overhead even for a
# small package). Then each script runs again: a no-op when installed, its message when not root.
set -euo pipefail
cd "$(dirname "$0")"
scripts=(ensure-chromium.sh ensure-firefox.sh ensure-etcd.sh ensure-coturn.sh)
missing=$(for s in "${scripts[@]}"; do ENSURE_DEB_LIST=1 bash "$s"; done | xargs)
if [ -n "$missing" ] && [ "$(id -u)" = 0 ]; then
  echo "Installing Debian's $missing…"
  # A half-synced mirror index (seen for foreign architectures) must not stop the install.
  apt-get update -qq || echo "apt-get update reported errors; trying the install anyway" >&2
  # shellcheck disable=SC2086 # one word per package
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
for s in "${scripts[@]}"; do bash "$s"; done
