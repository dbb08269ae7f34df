import { defineConfig } from "@playwright/test";
import { CHROMIUM_ARGS, CHROMIUM_PATH, TEST_CONTEXT } from "./tests/chromium.ts";

// LOCKSTEP_PORT lets several checkouts (git worktrees) run their suites side by side.
const PORT = Number(process.env.LOCKSTEP_PORT ?? 4173);

/**
 * Spec files that check what the page shows (layout, launch errors, refusals, the embed API, a
 * deployment, a replay in workers), none a failover deadline: `npm test` runs them two at a time
 * (`--project side-by-side --workers 2`, scripts/test-all.sh), then every other file ALONE: a pair
 * racing its failure detector must not share the 2 cores with another pair, nor with a page
 * measured against a deadline. A plain `playwright test` runs all of them one at a time.
 */
const SIDE_BY_SIDE = /\/(boot|browser-support|deploy|launch|lecture-layout|presenter|replay|teach)\.spec\.ts$/;
/**
 * The guided tours (every lecture tour back to back, the lecture controls, the kill-tab tour):
 * most of their time is spent waiting for what a tour waits for (a failure timeout, a slowed
 * backup, a stuck connection, a caption), the cores idle about half of it (measured: 35–64 %).
 * `npm test` runs them alone (one at a time, no other browser) while the Node-only checks use the
 * idle cores at idle priority (scripts/test-all.sh).
 */
const TOURS = /\/(lecture|lecture-all|tabs-view)\.spec\.ts$/;

export default defineConfig({
  testDir: "tests/e2e",
  timeout: 300_000,
  expect: { timeout: 60_000 },
  fullyParallel: false,
  workers: 1,
  // No retries: a test that needs one has found a bug (a false failover, or a racy test).
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    browserName: "chromium",
    launchOptions: { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS },
    // Off unless asked for (LOCKSTEP_TRACE=1, or `--trace on`): recording a trace snapshots the
    // page at every action and costs the failover tests a quarter of their wall time on 2 cores
    // (failover + ft-controls: 88 s with it, 66 s without), and CI keeps no artifacts to read it from.
    trace: process.env.LOCKSTEP_TRACE ? "retain-on-failure" : "off",
    ...TEST_CONTEXT,
  },
  projects: [
    { name: "side-by-side", testMatch: SIDE_BY_SIDE, fullyParallel: true },
    { name: "tours", testMatch: TOURS },
    { name: "alone", testIgnore: [SIDE_BY_SIDE, TOURS] },
  ],
  webServer: {
    // `npm test` builds dist/ once for both browser suites and says so with LOCKSTEP_PREBUILT.
    command: `${process.env.LOCKSTEP_PREBUILT ? "" : "npx vite build && "}npx vite preview --host 127.0.0.1 --port ${PORT} --strictPort`,
    url: `http://127.0.0.1:${PORT}`,
    reuseExistingServer: !process.env.CI,
    timeout: 120_000,
  },
});
