#!/usr/bin/env bash
# The Firefox tests (tests/firefox) drive Debian's Firefox ESR over WebDriver BiDi; never a browser
# downloaded by a test tool (puppeteer-core downloads nothing).
set -euo pipefail
if [ -x /usr/bin/firefox-esr ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "Firefox ESR is missing: run 'sudo apt-get install -y firefox-esr' (Debian) and retry." >&2
  exit 1
fi
echo "Installing Debian's firefox-esr…"
# A half-synced mirror index (seen for foreign architectures) must not stop the install.
apt-get update -qq || echo "apt-get update reported errors; trying the install anyway" >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends firefox-esr >/dev/null
/usr/bin/firefox-esr --version
