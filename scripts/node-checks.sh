#!/usr/bin/env bash
# The Node-only checks of `npm test` that take more than a few seconds, in two chains that
# scripts/test-all.sh runs beside the browser suites (one chain per core):
#   bash scripts/node-checks.sh ft       the fault simulator, then the three FT systems in Node
#   bash scripts/node-checks.sh replay   the deterministic replay check
# Each step says when it began, counted from LOCKSTEP_TEST_STARTED (seconds since the epoch).
set -euo pipefail
cd "$(dirname "$0")/.."
started=${LOCKSTEP_TEST_STARTED:-$(date +%s)}
step() { printf '\n== %s == (at %ds)\n' "$*" "$(($(date +%s) - started))"; }

case "${1:-}" in
  ft)
    step "fault simulator (10,000 seeds)"
    # One process per core: each seed runs the same wherever it runs.
    npx tsx scripts/sim.ts --seeds 10000 --jobs "$(nproc)"
    step "FT system in Node (primary + backup, failover)"
    npx tsx scripts/ft-check.ts
    step "FT system in Node, backup reads the shared disk itself (paper 4.2)"
    npx tsx scripts/ft-check.ts --reads backup
    step "FT system in Node, non-shared disk: each host's own copy, synchronised by FT VMotion (paper 4.1)"
    npx tsx scripts/ft-check.ts --disk non-shared
    ;;
  replay)
    step "deterministic replay check"
    npx tsx scripts/replay-check.ts
    ;;
  *)
    echo "usage: bash scripts/node-checks.sh ft|replay" >&2
    exit 2
    ;;
esac
