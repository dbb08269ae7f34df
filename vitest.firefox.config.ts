import { defineConfig } from "vitest/config";

// Firefox (Debian's firefox-esr) over WebDriver BiDi with puppeteer-core: `npm test` runs it
// after the Chromium e2e suite (scripts/test-all.sh). One file at a time, one browser each.
export default defineConfig({
  test: {
    include: ["tests/firefox/**/*.test.ts"],
    environment: "node",
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 120_000,
  },
});
