import { describe, expect, it } from "vitest";
import { Rig, state } from "./rig.ts";

describe("host: power off (paper §3.3) is a control entry in the log, not a failure", () => {
  it("the primary stops its VM, logs it and halts once acknowledged; the backup replays up to it and halts too: nobody goes live", async () => {
    const rig = new Rig();
    const { a, b } = rig.pair();
    await rig.run(60);
    const frames = () => a.fed.filter((f) => f.ev.type === "frameDone").length;
    a.host.powerOff();
    const ranBefore = frames();
    await rig.run(10 * rig.ft.failureTimeoutMs);
    // The VM ran no frame after the power-off, though the host waited for the acknowledgement.
    expect(frames()).toBe(ranBefore);
    expect(a.events).toContainEqual({ kind: "halt", reason: "powered off: the backup has the power-off entry and stops too" });
    expect([state(a), state(b)]).toEqual(["primary/halted", "backup/halted"]);
    expect(a.sent.some((m) => m.t === "log" && m.records.some((r) => r.kind === "control"))).toBe(true);
    for (const h of [a, b]) expect(h.performed.filter((x) => x.type === "goLive" || x.type === "testAndSet")).toEqual([]);
    expect(b.events).toContainEqual({ kind: "halt", reason: "primary powered off" });
  });

  it("the entry lost on the channel (every copy): the primary takes the lock record, and the backup, its detector fired, loses and halts", async () => {
    const rig = new Rig();
    const a = rig.add("A#1", { role: "primary", epoch: 1, backup: "B#1" });
    const b = rig.add("B#1", { role: "backup", epoch: 1, primary: "A#1" });
    let lose = false;
    rig.link(a, b, (from, msg) => lose && from === a && msg.t === "log" && msg.records.some((r) => r.kind === "control"));
    rig.start(a, b);
    await rig.run(60);
    lose = true;
    a.host.powerOff();
    await rig.run(10 * rig.ft.failureTimeoutMs);
    expect([state(a), state(b)]).toEqual(["primary/halted", "backup/halted"]);
    expect(b.performed.filter((x) => x.type === "goLive")).toEqual([]);
    expect(a.events.find((e) => e.kind === "halt")).toMatchObject({ reason: expect.stringMatching(/^powered off: the backup did not acknowledge/) });
  });
});
