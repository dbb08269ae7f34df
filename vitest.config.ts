import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/unit/**/*.test.ts"],
    environment: "node",
    testTimeout: 120_000,
    // Vitest 4 runs `cores - 1` files at a time: one on CI's 2 cores, so the guest-booting engine
    // files (record-replay, go-live-disk-cache) ran one after the other with a core idle.
    maxWorkers: availableParallelism(),
  },
});
