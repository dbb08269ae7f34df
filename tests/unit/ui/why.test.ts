import { describe, expect, it } from "vitest";
import type { HostView } from "../../../src/cluster/local-hosts.ts";
import { flowPause, inputWaits, noVmLeft, roleMissing } from "../../../src/ui/lib/why.ts";
import { status } from "../cluster/harness.ts";

const host = (id: string, role: "primary" | "backup", state: Parameters<typeof status>[2], extra: Partial<HostView> = {}): HostView => ({
  id,
  status: status(id, role, state),
  progress: null,
  dead: false,
  ...extra,
});
const world = (hosts: HostView[], storageAvailable = true, frozen = false) => ({ hosts, storageAvailable, frozen });

describe("controls with feedback", () => {
  it("in lockstep nothing waits and every role control can act", () => {
    const w = world([host("A#1", "primary", "recording"), host("B#1", "backup", "replaying")]);
    expect(inputWaits(w)).toBeNull();
    expect(roleMissing(w, "primary")).toBeNull();
    expect(roleMissing(w, "backup")).toBeNull();
  });

  it("storage unreachable while a backup goes live: input waits for the lock record, and says so", () => {
    const w = world([host("A#1", "primary", "recording", { dead: true }), host("B#1", "backup", "going-live")], false);
    expect(inputWaits(w)).toBe("B#1 is going live, waiting for the lock record: shared storage is unreachable: input and output wait until it is live.");
    expect(roleMissing(w, "primary")).toContain("No live primary");
  });

  it("a paused VM and a frozen world say why input waits", () => {
    const paused = host("A#1", "primary", "recording");
    paused.status = { ...paused.status!, vm: { paused: true, pace: 1 } };
    expect(inputWaits(world([paused, host("B#1", "backup", "replaying")]))).toContain("The VM is paused");
    expect(inputWaits(world([host("A#1", "primary", "recording")], true, true))).toContain("frozen");
  });

  it("no VM left: every control says so and points to New pair", () => {
    const w = world([host("A#1", "primary", "recording", { dead: true }), host("B#1", "backup", "halted")]);
    expect(noVmLeft(w)).toBe(true);
    expect(inputWaits(w)).toContain("New pair");
    expect(roleMissing(w, "primary")).toContain("Start a New pair");
    expect(roleMissing(w, "backup")).toContain("Start a New pair");
    // A host still starting is not "no VM".
    expect(noVmLeft(world([{ id: "A#1", status: null, progress: null, dead: false }]))).toBe(false);
  });
});

describe("flowPause: the host card's word for flow control (paper 3.2)", () => {
  it("says nothing while the primary runs, and which buffer stopped it when paused", () => {
    expect(flowPause(undefined)).toBeNull();
    expect(flowPause({ pausedBy: null, pauses: 3 })).toBeNull();
    expect(flowPause({ pausedBy: "log", pauses: 1 })).toEqual({ badge: "paused: log buffer full", why: expect.stringContaining("stopped 1 time so far") });
    expect(flowPause({ pausedBy: "held", pauses: 4 })?.badge).toBe("paused: outputs held");
    expect(flowPause({ pausedBy: "held", pauses: 4 })?.why).toContain("stopped 4 times so far");
  });
});
