import { defineConfig } from "@playwright/test";
import { CHROMIUM_ARGS, CHROMIUM_PATH, TEST_CONTEXT } from "./tests/chromium.ts";

// LOCKSTEP_PORT lets several checkouts (git worktrees) run their suites side by side.
const PORT = Number(process.env.LOCKSTEP_PORT ?? 4173);

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
    trace: "retain-on-failure",
    ...TEST_CONTEXT,
  },
  webServer: {
    // `npm test` builds dist/ once for both browser suites and says so with LOCKSTEP_PREBUILT.
    command: `${process.env.LOCKSTEP_PREBUILT ? "" : "npx vite build && "}npx vite preview --host 127.0.0.1 --port ${PORT} --strictPort`,
    url: `http://127.0.0.1:${PORT}`,
    reuseExistingServer: !process.env.CI,
    timeout: 120_000,
  },
});
