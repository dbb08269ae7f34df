import { describe, expect, it } from "vitest";
import { Rig, state, type RigHost } from "./rig.ts";

async function until(rig: Rig, done: () => boolean, limitMs: number): Promise<void> {
  const t0 = rig.q.now;
  while (!done() && rig.q.now - t0 < limitMs) await rig.run(0.5);
  expect(done()).toBe(true);
}

/** The log counters a host reported, in order. */
const logOf = (h: RigHost) => h.statuses.map((s) => ({ rate: s.logBytesPerSec, sent: s.logBytesSent, role: s.role }));

describe("host status: the log bandwidth is never negative, at its source", () => {
  it("across a promotion (bytes received → bytes sent) and an FT VMotion (a new logging channel counting from 0)", async () => {
    const rig = new Rig();
    const { a, b } = rig.pair();
    // Longer than the rate's 1 s window each time: a counter that restarts shows as negative.
    await rig.run(1500);
    // B received a lot of log; as a promoted primary it counts what it sends, from far less.
    rig.crash(a);
    await until(rig, () => state(b) === "primary/alone", 500);
    await rig.run(1500);
    const c = rig.add("C#1", { role: "standby" });
    rig.start(c);
    await rig.run(20);
    rig.link(b, c);
    b.host.startClone("C#1");
    await until(rig, () => state(c) === "backup/replaying", 500);
    await rig.run(500);

    const log = logOf(b);
    expect(log.some((l) => l.role === "backup" && l.rate > 0)).toBe(true);
    expect(log.some((l) => l.role === "primary" && l.rate > 0)).toBe(true);
    expect(log.filter((l) => l.rate < 0)).toEqual([]);
    // What a primary has sent, since it started: it only grows, across the new channel too.
    const sent = log.flatMap((l) => (l.sent === undefined ? [] : [l.sent]));
    expect(sent.length).toBeGreaterThan(10);
    for (let i = 1; i < sent.length; i++) expect(sent[i]).toBeGreaterThanOrEqual(sent[i - 1]!);
    // The new backup's log arrives and is counted from its own start.
    expect(logOf(c).filter((l) => l.rate < 0)).toEqual([]);
    expect(logOf(c).some((l) => l.rate > 0)).toBe(true);
  });
});
