import { defineConfig } from "@playwright/test";
import base from "./playwright.config.ts";

// `npm run screenshots`: regenerates docs/screenshots with the same server and browser as the tests
// (one project: the test suite's projects pick spec files).
export default defineConfig({ ...base, projects: undefined, testMatch: "**/*.shots.ts" });
