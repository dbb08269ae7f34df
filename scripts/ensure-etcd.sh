#!/usr/bin/env bash
# The two-computer mode's shared storage is Debian's etcd (package etcd-server, 3.4.x), never a
# binary downloaded by a test tool. The package starts a system etcd on 2379; the project starts
# its own on other ports, so the service is left alone (stopping it would need systemd, which
# containers often lack).
set -euo pipefail
source "$(dirname "$0")/lib/ensure-deb.sh"
ensure_deb etcd etcd etcd-server
