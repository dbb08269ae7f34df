import { defineConfig } from "@playwright/test";
import base from "./playwright.config.ts";

// `npm run screenshots`: regenerates docs/screenshots with the same server and browser as the tests.
export default defineConfig({ ...base, testMatch: "**/*.shots.ts" });
