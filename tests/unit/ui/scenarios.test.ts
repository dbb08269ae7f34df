import { describe, expect, it } from "vitest";
import { WORKER_DEFAULTS } from "../../../src/ft/protocol/config.ts";
import { scenarios } from "../../../src/ui/teach/scenarios.ts";

describe("tour captions", () => {
  const all = scenarios({ noOutputRule: false }).flatMap((s) => s.steps.map((st) => ({ tour: s.id, ...st })));

  it("name the configured failure timeout, not a guess", () => {
    expect(WORKER_DEFAULTS.failureTimeoutMs).toBe(500);
    const kill = all.find((s) => s.tour === "primary-failure" && s.ref === "failure")!;
    expect(kill.caption).toContain("after 0.5 s of silence (its configured timeout)");
    expect(all.filter((s) => /about a second/.test(s.caption))).toEqual([]);
    const other = scenarios({ noOutputRule: false, failureTimeoutMs: 3000 }).find((s) => s.id === "primary-failure")!;
    expect(other.steps.some((s) => s.caption.includes("after 3 s of silence"))).toBe(true);
  });

  it("only the steps before a kill are timing-critical: the Output Rule tour's two, the network tour's download and kill with the rule on and off", () => {
    for (const rule of [false, true]) {
      const crit = scenarios({ noOutputRule: rule }).flatMap((s) => s.steps.filter((st) => st.critical).map(() => s.id));
      expect(crit).toEqual(["output-rule", "output-rule", "network", "network", "network", "network"]);
    }
  });

  it("every step has a caption a reader can follow, and no step skips its reading time by a zero hold", () => {
    for (const s of all) {
      expect(s.caption.length).toBeGreaterThan(20);
      expect(s.holdMs ?? 1).toBeGreaterThan(0);
    }
  });
});
