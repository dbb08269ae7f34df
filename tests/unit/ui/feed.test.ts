import { describe, expect, it } from "vitest";
import { describeHostEvent, hostEventLine, type HostEvent } from "../../../src/host/events.ts";
import { emptyFlowKinds, type HostStatus } from "../../../src/host/status.ts";
import { feedLines, normalOperation, type FeedHost } from "../../../src/ui/feed.ts";

const line = (host: string, at: number, e: HostEvent) => hostEventLine(host, at, e);

describe("protocol feed", () => {
  it("a snapshot transfer is one line that updates, not a line per tenth", () => {
    const snapshot: HostEvent = { kind: "clone-snapshot", frame: 9, bytes: 4e6, pauseMs: 50, withDisk: false };
    const events = [
      line("A#1", 1, snapshot),
      ...[0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map((percent, i) => line("C#1", 2 + i, { kind: "clone-progress", percent })),
      line("C#1", 20, { kind: "clone-restoring", bytes: 4e6 }),
      line("C#1", 30, { kind: "clone-restored" }),
    ];
    const lines = feedLines(events);
    expect(lines.map((l) => l.text)).toEqual([
      describeHostEvent(snapshot),
      "receiving snapshot: 100%",
      describeHostEvent({ kind: "clone-restoring", bytes: 4e6 }),
      "FT VMotion: backup restored, replaying from the clone point",
    ]);
    expect(lines[1]!.at).toBe(12);
  });

  it("a second transfer gets its own line", () => {
    const events = [
      line("C#1", 1, { kind: "clone-progress", percent: 50 }),
      line("C#1", 2, { kind: "clone-restored" }),
      line("D#1", 3, { kind: "clone-progress", percent: 10 }),
      line("D#1", 4, { kind: "clone-progress", percent: 20 }),
    ];
    expect(feedLines(events).map((l) => `${l.hostId} ${l.text}`)).toEqual(["C#1 receiving snapshot: 50%", "C#1 FT VMotion: backup restored, replaying from the clone point", "D#1 receiving snapshot: 20%"]);
  });

  it("normal operation shows the log, the Output Rule and the verified replay, one updating line each", () => {
    const st = (s: Partial<HostStatus>): HostStatus =>
      ({ frame: 0, icount: "0", lagMs: 0, logBytesPerSec: 0, unackedBytes: 0, heldOutputs: 0, epoch: 1, verifiedFrame: 0, speed: 1, ...s }) as HostStatus;
    const flow = (sent: Partial<ReturnType<typeof emptyFlowKinds>>, received: Partial<ReturnType<typeof emptyFlowKinds>>, released = 0) => ({
      sent: { ...emptyFlowKinds(), ...sent },
      received: { ...emptyFlowKinds(), ...received },
      released,
      packetsOut: 0,
      packetsIn: 0,
      diskWrites: 0,
      diskWritesRejected: 0,
      lastWrite: null,
    });
    const hosts: FeedHost[] = [
      { id: "A#1", dead: false, status: st({ hostId: "A#1", role: "primary", state: "recording", heldOutputs: 1, flow: flow({ entry: 1200, frameEnd: 300 }, { ack: 290 }, 42) }) },
      { id: "B#1", dead: false, status: st({ hostId: "B#1", role: "backup", state: "replaying", lagMs: 38.4, verifiedFrame: 12_000 }) },
    ];
    expect(normalOperation(hosts).map((l) => l.text)).toEqual([
      "A#1 → B#1: 1,200 log entries and 300 frame ends sent; 290 acks back",
      "A#1: 42 outputs released after the backup's ack (Output Rule); 1 held now",
      "B#1 replays 38 ms behind; its state hash equalled the primary's at frame 12,000",
    ]);
    expect(normalOperation([])).toEqual([]);
  });
});
