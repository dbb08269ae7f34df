import { describe, expect, it } from "vitest";
import { Rig, state } from "./rig.ts";

describe("host: power off (paper §3.3) is a control entry in the log, not a failure", () => {
  it("the primary logs it and halts; the backup replays up to it and halts too: nobody goes live", async () => {
    const rig = new Rig();
    const { a, b } = rig.pair();
    await rig.run(60);
    a.host.powerOff();
    await rig.run(10 * rig.ft.failureTimeoutMs);
    expect([state(a), state(b)]).toEqual(["primary/halted", "backup/halted"]);
    expect(a.sent.some((m) => m.t === "log" && m.records.some((r) => r.kind === "control"))).toBe(true);
    for (const h of [a, b]) expect(h.performed.filter((x) => x.type === "goLive" || x.type === "testAndSet")).toEqual([]);
    expect(b.events).toContainEqual({ kind: "halt", reason: "primary powered off" });
  });
});
