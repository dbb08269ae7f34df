#!/usr/bin/env bash
# Tests drive Debian's Chromium; never a browser downloaded by a test tool.
set -euo pipefail
source "$(dirname "$0")/lib/ensure-deb.sh"
ensure_deb /usr/bin/chromium Chromium chromium fonts-dejavu-core
