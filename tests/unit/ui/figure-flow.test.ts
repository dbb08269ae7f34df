import { describe, expect, it } from "vitest";
import type { FlowCounters, FlowKinds } from "../../../src/host/status.ts";
import { flowSeen, flowTokens } from "../../../src/ui/teach/figure-flow.ts";

const kinds = (over: Partial<FlowKinds> = {}): FlowKinds => ({ entry: 0, entryBytes: 0, frameEnd: 0, control: 0, log: 0, ack: 0, heartbeat: 0, clone: 0, ...over });

function counters(over: Partial<FlowCounters> = {}): FlowCounters {
  return { sent: kinds(), received: kinds(), released: 0, packetsOut: 0, packetsIn: 0, diskWrites: 0, diskWritesRejected: 0, lastWrite: null, ...over } as FlowCounters;
}

const drawn = (t: ReturnType<typeof flowTokens>) => t.filter((x) => x.n > 0).map((x) => `${x.kind}@${x.lane}×${x.n}`);

describe("the Figure's tokens from a host's counters", () => {
  it("a primary: entries, one frame end a batch, outputs apart from packets, writes", () => {
    const prev = flowSeen(counters({ sent: kinds({ entry: 10, frameEnd: 2, heartbeat: 1 }), released: 5, packetsOut: 1, diskWrites: 3 }));
    const now = counters({ sent: kinds({ entry: 17, frameEnd: 6, heartbeat: 2, control: 1 }), released: 9, packetsOut: 3, packetsIn: 2, diskWrites: 4 });
    expect(drawn(flowTokens("primary", prev, now))).toEqual([
      "entry@log×7",
      "frameEnd@log×1",
      "control@log×1",
      "heartbeat@hbOut×1",
      "output@output×2",
      "packetOut@output×2",
      "packetIn@input×2",
      "write@write×1",
    ]);
  });

  it("a backup: at most two acks, heartbeats the other way; a standby draws nothing", () => {
    const prev = flowSeen(counters({ sent: kinds({ ack: 3, heartbeat: 4 }) }));
    const now = counters({ sent: kinds({ ack: 30, heartbeat: 5 }) });
    expect(drawn(flowTokens("backup", prev, now))).toEqual(["ack@ack×2", "heartbeat@hbIn×1"]);
    expect(flowTokens("standby", prev, now)).toEqual([]);
  });

  it("remembers a copy: later changes to the host's counters do not move what was seen", () => {
    const f = counters({ sent: kinds({ entry: 1 }) });
    const seen = flowSeen(f);
    f.sent.entry = 9;
    expect(seen.sent.entry).toBe(1);
  });
});
