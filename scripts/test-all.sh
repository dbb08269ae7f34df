#!/usr/bin/env bash
# `npm test`: every check the project has. The browser suites run in the foreground, one after the
# other; the Node-only checks that need no deadline of their own (the fault simulator, the FT system
# in Node, the replay check) run beside them at idle CPU priority, so they use the cores the browser
# tests leave idle (about a quarter of them: failover tests wait for timeouts, freezes, etcd) and
# never take a core from a pair racing its failure detector. Their output is shown when they end.
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
step "production build (dist/, used by both browser suites)"
npx vite build --logLevel error

# The Node checks (scripts/node-checks.sh), at SCHED_IDLE (`chrt --idle 0`: they run only on a core
# nothing else wants), each chain in a session of its own so that a failing run can stop it whole.
export LOCKSTEP_TEST_STARTED=$(($(date +%s) - (SECONDS - started)))
ft_log=$(mktemp)
replay_log=$(mktemp)
setsid chrt --idle 0 bash scripts/node-checks.sh ft >"$ft_log" 2>&1 &
ft_pid=$!
setsid chrt --idle 0 bash scripts/node-checks.sh replay >"$replay_log" 2>&1 &
replay_pid=$!
trap 'kill -- -$ft_pid -$replay_pid 2>/dev/null || true' EXIT

step "end-to-end tests in Firefox ESR (WebDriver BiDi): one-page failover, the kill-tab demo, machines built in workers"
npx vitest run --config vitest.firefox.config.ts
# Two runs (playwright.config.ts says which spec files and why): the page checks two at a time,
# then the failover and timing tests one at a time. Both run even if the first fails.
step "end-to-end tests (headless Chromium), page checks two at a time"
e2e_rc=0
LOCKSTEP_PREBUILT=1 npx playwright test --project side-by-side --workers 2 || e2e_rc=$?
step "end-to-end tests (headless Chromium), failover and timing tests one at a time"
LOCKSTEP_PREBUILT=1 npx playwright test --project alone --workers 1 || e2e_rc=$?

step "Node checks (ran beside the browser tests at idle priority; their own steps follow)"
node_rc=0
wait "$ft_pid" || node_rc=$?
cat "$ft_log"
wait "$replay_pid" || node_rc=$?
cat "$replay_log"
trap - EXIT
rm -f "$ft_log" "$replay_log"
step "done"
[ "$node_rc" = 0 ] || exit "$node_rc"
exit "$e2e_rc"
