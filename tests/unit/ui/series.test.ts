import { describe, expect, it } from "vitest";
import type { HostStatus, ProtocolEvent } from "../../../src/host/status.ts";
import { MetricsSeries, type HostLike } from "../../../src/ui/teach/series.ts";

type S = Partial<HostStatus> & Pick<HostStatus, "role" | "state">;
const host = (id: string, s: S | null, dead = false): HostLike => ({
  id,
  dead,
  status: s && ({ hostId: id, frame: 0, icount: "0", lagMs: 0, logBytesPerSec: 0, unackedBytes: 0, heldOutputs: 0, epoch: 1, verifiedFrame: 0, speed: 1, ...s } as HostStatus),
});
const ev = (hostId: string, e: Record<string, unknown>): ProtocolEvent => ({ at: 0, hostId, text: "", ...e }) as unknown as ProtocolEvent;

/** Samples every 250 ms; `sent` is the primary's cumulative logBytesSent at each. */
function run(series: MetricsSeries, from: number, steps: { hosts: HostLike[] }[]) {
  return steps.map((s, i) => series.sample(from + i * 250, s.hosts));
}

describe("metrics series", () => {
  it("log bandwidth from the primary's own counter: 1 kB/s reads 8 kbit/s", () => {
    const m = new MetricsSeries();
    const pts = run(m, 0, [0, 250, 500, 750, 1000, 1250].map((sent) => ({ hosts: [host("A#1", { role: "primary", state: "recording", logBytesSent: sent })] })));
    expect(pts[0]!.logBitsPerSec).toBeNull();
    for (const p of pts.slice(1)) expect(p.logBitsPerSec).toBeCloseTo(8000);
  });

  it("never negative across a failover and a new logging channel (the −46,248 bit/s of issue 18)", () => {
    const m = new MetricsSeries();
    const seq = [
      [host("A#1", { role: "primary", state: "recording", logBytesSent: 90_000 }), host("B#1", { role: "backup", state: "replaying", lagMs: 40 })],
      [host("A#1", { role: "primary", state: "recording", logBytesSent: 90_500 }), host("B#1", { role: "backup", state: "replaying", lagMs: 40 })],
      // The primary dies; B#1 goes live: its counter is its own endpoint's bytes out (acks it sent).
      [host("A#1", null, true), host("B#1", { role: "primary", state: "alone", logBytesSent: 5_800 })],
      [host("A#1", null, true), host("B#1", { role: "primary", state: "alone", logBytesSent: 5_800 })],
      // FT VMotion: a new channel, the counter starts again from 0.
      [host("A#1", null, true), host("B#1", { role: "primary", state: "recording", logBytesSent: 120 }), host("C#1", { role: "backup", state: "replaying" })],
      [host("A#1", null, true), host("B#1", { role: "primary", state: "recording", logBytesSent: 370 }), host("C#1", { role: "backup", state: "replaying" })],
    ];
    const pts = seq.map((hosts, i) => m.sample(i * 250, hosts));
    for (const p of pts) if (p.logBitsPerSec !== null) expect(p.logBitsPerSec).toBeGreaterThanOrEqual(0);
    expect(pts[2]!.logBitsPerSec).toBeNull(); // a new primary: known from its second sample
    expect(pts[3]!.logBitsPerSec).toBe(0);
    expect(pts[5]!.logBitsPerSec).toBeGreaterThan(0);
  });

  it("a halted or dead backup's frozen lag is not plotted: the line ends", () => {
    const m = new MetricsSeries();
    const p = (b: HostLike) => m.sample(0, [host("A#1", { role: "primary", state: "recording", logBytesSent: 0 }), b]);
    expect(p(host("B#1", { role: "backup", state: "replaying", lagMs: 120 })).lagMs).toBe(120);
    expect(p(host("B#1", { role: "backup", state: "halted", lagMs: 3100 })).lagMs).toBeNull();
    expect(p(host("B#1", { role: "backup", state: "stopped", lagMs: 3100 })).lagMs).toBeNull();
    expect(p(host("B#1", { role: "backup", state: "replaying", lagMs: 3100 }, true)).lagMs).toBeNull();
  });

  it("the FT VMotion snapshot is counted apart from the log", () => {
    const m = new MetricsSeries();
    const at = (sent: number) => [host("A#1", { role: "primary", state: "alone", logBytesSent: sent }), host("C#1", { role: "standby", state: "waiting" })];
    m.sample(0, at(10_000));
    m.sample(250, at(10_200));
    m.event(ev("A#1", { kind: "clone-snapshot", frame: 1, bytes: 4_000_000, pauseMs: 80, withDisk: false }));
    const during = m.sample(500, at(10_200 + 4_000_000 + 200));
    expect(during.snapshotBitsPerSec).toBeGreaterThan(10e6);
    // The log's own rate stays what it was (200 B a quarter second = 6.4 kbit/s).
    expect(during.logBitsPerSec).toBeCloseTo(6400);
    m.event(ev("C#1", { kind: "clone-restoring", bytes: 4_000_000 }));
    let p = m.sample(750, at(4_010_600));
    for (let t = 1000; t <= 2000; t += 250) p = m.sample(t, at(4_010_600 + ((t - 750) / 250) * 200));
    expect(p.snapshotBitsPerSec).toBeNull();
    expect(p.logBitsPerSec).toBeCloseTo(6400);
  });

  it("a snapshot that went through shared storage owes nothing once the standby restores", () => {
    const m = new MetricsSeries();
    const at = (sent: number) => [host("A#1", { role: "primary", state: "alone", logBytesSent: sent })];
    m.sample(0, at(0));
    m.event(ev("A#1", { kind: "clone-snapshot", frame: 1, bytes: 4_000_000, pauseMs: 80, withDisk: false }));
    m.event(ev("C#1", { kind: "clone-restoring", bytes: 4_000_000 }));
    const p = m.sample(250, at(500));
    expect(p.snapshotBitsPerSec).toBeNull();
    expect(p.logBitsPerSec).toBeCloseTo(16_000);
  });
});
