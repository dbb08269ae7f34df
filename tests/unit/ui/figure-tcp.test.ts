import { describe, expect, it } from "vitest";
import { flowLine, KINDS, kindCounts, sameTcpCounts, tcpCounts } from "../../../src/ui/teach/figure.ts";
import { emptyTcpStats } from "../../../src/net/tcp-types.ts";

// The Figure's TCP counters at the client: the latest download's (the one a failover happens under).
describe("the Figure's client TCP counters", () => {
  const stats = (over: Partial<ReturnType<typeof emptyTcpStats>>) => ({ tcp: { ...emptyTcpStats(), ...over } });

  it("are the latest download's: resent by the VM, duplicates discarded, the client's own retransmissions", () => {
    expect(tcpCounts([])).toEqual({ downloads: 0, resent: 0, duplicates: 0, clientRetransmits: 0 });
    const t = tcpCounts([stats({ retransmitsIn: 50, duplicates: 40 }), stats({ retransmitsIn: 7, duplicates: 3, timeouts: 1, fastRetransmits: 2 })]);
    expect(t).toEqual({ downloads: 2, resent: 7, duplicates: 3, clientRetransmits: 3 });
    expect(sameTcpCounts(t, { ...t })).toBe(true);
    expect(sameTcpCounts(t, { ...t, duplicates: 4 })).toBe(false);
  });

  it("have a legend entry whose live numbers say what filled the gap", () => {
    expect(KINDS.tcp.label).toBe("TCP resends");
    const t = tcpCounts([stats({ retransmitsIn: 7, duplicates: 3 })]);
    expect(kindCounts("tcp", undefined, undefined, 0, 0, 0, t)).toBe(
      "latest download: sent again by the VM 7 · duplicates discarded 3 · gap filled 4 · the client's own retransmissions 0",
    );
    expect(kindCounts("tcp", undefined, undefined, 0, 0, 0, tcpCounts([]))).toMatch(/no download yet/);
  });
});

describe("the primary's flow line (paper 3.2)", () => {
  it("shows the unacknowledged log while it runs, and which buffer stopped it while flow control holds it", () => {
    expect(flowLine({ unackedBytes: 2048 })).toBe("unacked 2.0 KiB");
    expect(flowLine({ unackedBytes: 2048, flowControl: { pausedBy: null, pauses: 2 } })).toBe("unacked 2.0 KiB");
    expect(flowLine({ unackedBytes: 30_000, flowControl: { pausedBy: "log", pauses: 3 } })).toBe("⏸ log buffer full");
    expect(flowLine({ unackedBytes: 900, flowControl: { pausedBy: "held", pauses: 3 } })).toBe("⏸ held outputs full");
  });
});
