import { defineConfig } from "vitest/config";

// Firefox (Debian's firefox-esr) over WebDriver BiDi with puppeteer-core: `npm test` runs it
// before the Chromium e2e suite, on the same build of dist/ (scripts/test-all.sh). One file at a
// time, one browser each.
export default defineConfig({
  test: {
    include: ["tests/firefox/**/*.test.ts"],
    environment: "node",
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 120_000,
  },
});
