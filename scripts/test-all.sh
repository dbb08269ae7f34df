#!/usr/bin/env bash
# `npm test`: every check the project has, fastest first, stopping at the first failure (the
# Playwright runs at the end all run: see there).
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
# The browser suites share one build of dist/: Firefox serves it with the plain static server,
# Playwright's web server previews it (LOCKSTEP_PREBUILT: no second `vite build`).
step "production build (dist/, used by the browser suites)"
npx vite build --logLevel error

# The guided tours (playwright.config.ts) leave the cores idle about half the time: the Node-only
# checks (scripts/node-checks.sh: the fault simulator, the FT system in Node, the replay check) run
# beside them at SCHED_IDLE (`chrt --idle 0`: only on a core nothing else wants), each chain in a
# session of its own so that a failing run can stop it whole. The other browser suites wait for them.
export LOCKSTEP_TEST_STARTED=$(($(date +%s) - (SECONDS - started)))
sim_log=$(mktemp)
vms_log=$(mktemp)
setsid chrt --idle 0 bash scripts/node-checks.sh sim >"$sim_log" 2>&1 &
sim_pid=$!
setsid chrt --idle 0 bash scripts/node-checks.sh vms >"$vms_log" 2>&1 &
vms_pid=$!
trap 'kill -- -$sim_pid -$vms_pid 2>/dev/null || true' EXIT

# Three Playwright runs (playwright.config.ts says which spec files and why). All run even if one fails.
step "end-to-end tests (headless Chromium): the guided tours, every lecture tour back to back and the kill-tab tour (the Node checks beside them)"
e2e_rc=0
LOCKSTEP_PREBUILT=1 npx playwright test --project tours --workers 1 || e2e_rc=$?

step "Node checks (ran beside the tours at idle priority; their own steps follow)"
node_rc=0
wait "$sim_pid" || node_rc=$?
cat "$sim_log"
wait "$vms_pid" || node_rc=$?
cat "$vms_log"
trap - EXIT
rm -f "$sim_log" "$vms_log"
[ "$node_rc" = 0 ] || exit "$node_rc"

step "end-to-end tests in Firefox ESR (WebDriver BiDi): one-page failover, the kill-tab demo, machines built in workers"
npx vitest run --config vitest.firefox.config.ts
step "end-to-end tests (headless Chromium), page checks two at a time"
LOCKSTEP_PREBUILT=1 npx playwright test --project side-by-side --workers 2 || e2e_rc=$?
step "end-to-end tests (headless Chromium), failover and timing tests one at a time"
LOCKSTEP_PREBUILT=1 npx playwright test --project alone --workers 1 || e2e_rc=$?
step "done"
exit "$e2e_rc"
