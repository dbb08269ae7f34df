import { describe, expect, it } from "vitest";
import { hostEventLine, pageNoteLine, type HostEvent } from "../../../src/host/events.ts";
import { emptyFlowKinds, type HostStatus } from "../../../src/host/status.ts";
import type { Member } from "../../../src/cluster/membership.ts";
import type { HostView } from "../../../src/cluster/local-hosts.ts";
import { GONE_KEPT, SilenceWatch, TabHosts } from "../../../src/ui/lib/tab-view.ts";
import { failoverStory, type Departure } from "../../../src/ui/lib/failover-story.ts";

const status = (hostId: string, role: HostStatus["role"], state: HostStatus["state"], heard = 0): HostStatus => ({
  hostId,
  role,
  state,
  frame: 1,
  icount: "1",
  lagMs: 0,
  logBytesPerSec: 0,
  unackedBytes: 0,
  heldOutputs: 0,
  epoch: 1,
  verifiedFrame: 0,
  speed: 1,
  flow: { sent: emptyFlowKinds(), received: { ...emptyFlowKinds(), heartbeat: heard }, released: 0, packetsOut: 0, packetsIn: 0, diskWrites: 0, diskWritesRejected: 0, lastWrite: null },
});
const member = (tab: string, hostId: string | null, s: HostStatus | null, me = false): Member => ({ tab, joinedAt: 0, hostId, status: s, lastSeen: 0, me });
const local = (id: string, s: HostStatus | null): HostView => ({ id, status: s, progress: null, dead: false });

describe("the whole cluster from one tab (TabHosts)", () => {
  it("lists this tab's host from its worker and the others' from their beats, each with its tab", () => {
    const t = new TabHosts();
    const mine = status("B", "backup", "replaying");
    const v = t.update([member("T1", "A", status("A", "primary", "recording")), member("T2", null, null, true), member("T3", "C", status("C", "standby", "waiting"))], [local("B", mine)]);
    expect(v.hosts.map((h) => [h.id, h.status?.role, h.dead])).toEqual([
      ["A", "primary", false],
      ["B", "backup", false],
      ["C", "standby", false],
    ]);
    expect(v.places.get("B")).toEqual({ tab: "T2", me: true });
    expect(v.places.get("A")).toEqual({ tab: "T1", me: false });
  });

  it("a host whose tab left stays drawn as failed, last, in the tab it ran in; only the latest few are kept", () => {
    const t = new TabHosts();
    const a = status("A", "primary", "recording");
    t.update([member("T1", "A", a), member("T2", "B", status("B", "backup", "replaying"), true)], []);
    const v = t.update([member("T2", "B", null, true)], [local("B", status("B", "primary", "alone"))]);
    expect(v.hosts.at(-1)).toMatchObject({ id: "A", dead: true, status: a });
    expect(v.places.get("A")).toEqual({ tab: "T1", me: false });
    // More departures than kept: the oldest is dropped.
    const members = [member("T2", "B", null, true)];
    for (let i = 0; i < GONE_KEPT + 1; i++) {
      t.update([...members, member(`X${i}`, `S${i}`, status(`S${i}`, "standby", "waiting"))], [local("B", null)]);
      t.update(members, [local("B", null)]);
    }
    const gone = t.update(members, [local("B", null)]).hosts.filter((h) => h.dead);
    expect(gone.map((h) => h.id)).toEqual([`S${GONE_KEPT - 1}`, `S${GONE_KEPT}`]);
  });

  it("keeps a host's view object while its status is the same (only what changed re-renders)", () => {
    const t = new TabHosts();
    const s = status("A", "primary", "alone");
    const first = t.update([member("T1", "A", s)], []).hosts[0];
    expect(t.update([member("T1", "A", s)], []).hosts[0]).toBe(first);
    expect(t.update([member("T1", "A", status("A", "primary", "alone"))], []).hosts[0]).not.toBe(first);
  });
});

describe("the failure detector's countdown (SilenceWatch)", () => {
  it("times how long a paired host's receive counters have stood still, and forgets hosts that left the pair", () => {
    const w = new SilenceWatch();
    const hosts = (heard: number, state: HostStatus["state"] = "replaying") => [local("A", status("A", "primary", "recording", 5)), local("B", status("B", "backup", state, heard))];
    expect(w.observe(hosts(1), 0)).toMatchObject({ silentMs: 0 });
    // A keeps hearing? Its counter stays at 5: it is the silent one at first.
    expect(w.observe(hosts(2), 250)).toEqual({ hostId: "A", role: "primary", silentMs: 250 });
    expect(w.observe(hosts(2), 1250)).toEqual({ hostId: "A", role: "primary", silentMs: 1250 });
    expect(w.observe([local("B", status("B", "backup", "replaying", 2))], 2000)).toEqual({ hostId: "B", role: "backup", silentMs: 1750 });
    // Once it goes live (no longer paired) there is nothing to count.
    expect(w.observe([local("B", status("B", "primary", "alone", 2))], 2500)).toBeNull();
  });
});

describe("the failover told from a surviving tab (failoverStory)", () => {
  const dep: Departure = { tab: "T1", hostId: "A", role: "primary", at: 1000 };
  const ev = (host: string, at: number, e: HostEvent) => hostEventLine(host, at, e);

  it("counts down while nothing happened yet", () => {
    const s = failoverStory(dep, [], { hostId: "B", role: "backup", silentMs: 1200 }, 3000);
    expect(s.steps.map((x) => [x.id, x.done])).toEqual([
      ["gone", true],
      ["detect", false],
      ["test-and-set", false],
    ]);
    expect(s.steps[1]!.text).toContain("1.2 s of 3.0 s");
    expect(s.failoverMs).toBeNull();
  });

  it("tells detection, the test-and-set, go-live with its time, and the clone into the standby", () => {
    const events = [
      ev("A", 500, { kind: "go-live", epoch: 1, from: "primary" }), // before the departure: not this failover
      pageNoteLine("page", 1000, "cluster", "tab T1 closed"),
      ev("B", 1010, { kind: "state", role: "backup", state: "draining", epoch: 1 }),
      ev("B", 1020, { kind: "state", role: "backup", state: "going-live", epoch: 1 }),
      ev("B", 1140, { kind: "go-live", epoch: 2, from: "backup" }),
      ev("B", 1150, { kind: "state", role: "primary", state: "alone", epoch: 2 }),
      ev("B", 3000, { kind: "clone-snapshot", frame: 9, bytes: 13 * 1048576, pauseMs: 210.4, withDisk: false }),
      ev("C", 3500, { kind: "clone-progress", percent: 50 }),
      ev("C", 5000, { kind: "state", role: "backup", state: "replaying", epoch: 2 }),
    ];
    const s = failoverStory(dep, events, null, 3000);
    expect(s.steps.map((x) => [x.id, x.done])).toEqual([
      ["gone", true],
      ["detect", true],
      ["test-and-set", true],
      ["live", true],
      ["clone", true],
      ["backup", true],
    ]);
    expect(s.failoverMs).toBe(140);
    expect(s).toMatchObject({ newPrimary: "B", newBackup: "C", clonePauseMs: 210 });
    expect(s.steps[2]!.text).toContain("epoch 2");
    // Half-way: go-live done, the clone still waiting for a standby.
    const half = failoverStory(dep, events.slice(0, 6), null, 3000);
    expect(half.steps.at(-1)).toMatchObject({ id: "clone", done: false });
    expect(half.newBackup).toBeNull();
  });

  it("a go-live that reached this tab before the departure did still counts, timed from the detector", () => {
    const events = [ev("A", 100, { kind: "go-live", epoch: 1, from: "primary" }), ev("B", 990, { kind: "state", role: "backup", state: "draining", epoch: 1 }), ev("B", 995, { kind: "go-live", epoch: 2, from: "backup" })];
    const s = failoverStory(dep, events, null, 3000);
    expect(s.newPrimary).toBe("B");
    expect(s.failoverMs).toBe(5);
  });

  it("a standby's tab leaving is no failover: no detector, no test-and-set", () => {
    const s = failoverStory({ tab: "T3", hostId: "C", role: "standby", at: 0 }, [], null, 3000);
    expect(s.steps.map((x) => x.id)).toEqual(["gone"]);
  });
});
