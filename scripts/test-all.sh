#!/usr/bin/env bash
# `npm test`: every check the project has, fastest first, stopping at the first failure (the two
# Playwright runs at the end both run: see there).
set -euo pipefail
cd "$(dirname "$0")/.."
# Each step says how long the run has taken so far, so a slow CI names its slow step.
started=$SECONDS
step() { printf '\n== %s == (at %ds)\n' "$*" "$((SECONDS - started))"; }

bash scripts/ensure-chromium.sh
bash scripts/ensure-firefox.sh
bash scripts/ensure-etcd.sh
step "typecheck"
npx svelte-check --tsconfig ./tsconfig.json --threshold error --output human
step "unit tests"
npx vitest run
if [ -f scripts/sim.ts ]; then
  step "fault simulator (10,000 seeds)"
  # One process per core: each seed runs the same wherever it runs.
  npx tsx scripts/sim.ts --seeds 10000 --jobs "$(nproc)"
fi
# replay-check and ft-check each run on one Node thread (one VM recorded then replayed; both VMs of
# a pair on one thread), so on 2 cores replay-check runs beside the three ft-checks, its output
# shown when it ends. ft-check keeps a core of its own, as when they ran one after the other.
replay_log=$(mktemp)
replay_pid=
if [ -f scripts/replay-check.ts ]; then
  npx tsx scripts/replay-check.ts >"$replay_log" 2>&1 &
  replay_pid=$!
fi
step "FT system in Node (primary + backup, failover)"
npx tsx scripts/ft-check.ts
step "FT system in Node, backup reads the shared disk itself (paper 4.2)"
npx tsx scripts/ft-check.ts --reads backup
step "FT system in Node, non-shared disk: each host's own copy, synchronised by FT VMotion (paper 4.1)"
npx tsx scripts/ft-check.ts --disk non-shared
if [ -n "$replay_pid" ]; then
  step "deterministic replay check (ran beside the FT checks)"
  replay_rc=0
  wait "$replay_pid" || replay_rc=$?
  cat "$replay_log"
  rm -f "$replay_log"
  [ "$replay_rc" = 0 ] || exit "$replay_rc"
fi
# The browser suites share one build of dist/: Firefox serves it with the plain static server,
# Playwright's web server previews it (LOCKSTEP_PREBUILT: no second `vite build`).
step "production build (dist/, used by both browser suites)"
npx vite build --logLevel error
step "end-to-end tests in Firefox ESR (WebDriver BiDi): one-page failover, the kill-tab demo, machines built in workers"
npx vitest run --config vitest.firefox.config.ts
# Two runs (playwright.config.ts says which spec files and why): the page checks two at a time,
# then the failover and timing tests one at a time. Both run even if the first fails.
step "end-to-end tests (headless Chromium), page checks two at a time"
e2e_rc=0
LOCKSTEP_PREBUILT=1 npx playwright test --project side-by-side --workers 2 || e2e_rc=$?
step "end-to-end tests (headless Chromium), failover and timing tests one at a time"
LOCKSTEP_PREBUILT=1 npx playwright test --project alone --workers 1 || e2e_rc=$?
step "done"
exit "$e2e_rc"
