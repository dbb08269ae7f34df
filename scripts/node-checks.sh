#!/usr/bin/env bash
# The Node-only checks of `npm test` that take more than a few seconds, in two chains that
# scripts/test-all.sh runs beside the guided tours (one chain per core, about equally long there):
#   bash scripts/node-checks.sh sim   the fault simulator (one process per core)
#   bash scripts/node-checks.sh vms   the deterministic replay check, then the three FT systems in Node
# Each step says when it began, counted from LOCKSTEP_TEST_STARTED (seconds since the epoch).
set -euo pipefail
cd "$(dirname "$0")/.."
started=${LOCKSTEP_TEST_STARTED:-$(date +%s)}
step() { printf '\n== %s == (at %ds)\n' "$*" "$(($(date +%s) - started))"; }

case "${1:-}" in
  sim)
    step "fault simulator (10,000 seeds)"
    # One process per core: each seed runs the same wherever it runs.
    npx tsx scripts/sim.ts --seeds 10000 --jobs "$(nproc)"
    ;;
  vms)
    step "deterministic replay check"
    npx tsx scripts/replay-check.ts
    step "FT system in Node (primary + backup, failover)"
    npx tsx scripts/ft-check.ts
    # The first boots the kernel under FT; the other two start from the boot image, as the page's
    # pairs do (their clone ships the recording without the image, the new backup fills it in).
    step "FT system in Node, from the boot image, backup reads the shared disk itself (paper 4.2)"
    npx tsx scripts/ft-check.ts --reads backup --start image
    step "FT system in Node, from the boot image, non-shared disk: each host's own copy, synchronised by FT VMotion (paper 4.1)"
    npx tsx scripts/ft-check.ts --disk non-shared --start image
    ;;
  *)
    echo "usage: bash scripts/node-checks.sh sim|vms" >&2
    exit 2
    ;;
esac
