import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

// The scripts themselves, started the way npm starts them: a bad option stops them before any
// work, with exit status 2 and the message on stderr.
const root = resolve(__dirname, "../../..");
const run = (script: string, args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [resolve(root, "node_modules/tsx/dist/cli.mjs"), resolve(root, "scripts", script), ...args], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 60_000,
  });

describe("scripts on the command line", () => {
  it("sim refuses a malformed --seeds instead of running 1000 seeds", () => {
    const r = run("sim.ts", ["--seeds", "abc"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--seeds: "abc" is not allowed: expected an integer ≥ 1');
    expect(r.stdout).not.toContain("sim: seeds=");
  });

  it("bench:ft refuses a malformed env knob before building anything", () => {
    const r = run("bench-ft.ts", [], { BENCH_FAILOVERS: "five" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('BENCH_FAILOVERS: "five" is not allowed');
  });
});
