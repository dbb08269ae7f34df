#!/usr/bin/env bash
# The Firefox tests (tests/firefox) drive Debian's Firefox ESR over WebDriver BiDi; never a browser
# downloaded by a test tool (puppeteer-core downloads nothing).
set -euo pipefail
source "$(dirname "$0")/lib/ensure-deb.sh"
ensure_deb /usr/bin/firefox-esr "Firefox ESR" firefox-esr
