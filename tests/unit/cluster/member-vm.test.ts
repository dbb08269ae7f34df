// MemberVm alone (no ClusterService around it): which VM a member is part of, the new-VM
// sequence, standing by, and forgetting a lost VM, over the in-memory hub and fake hosts.

import { describe, expect, it } from "vitest";
import { InMemoryHub } from "../../../src/cluster/adapters/in-memory-transport.ts";
import { LocalHosts } from "../../../src/cluster/local-hosts.ts";
import { Membership } from "../../../src/cluster/membership.ts";
import { MemberVm, VM_LOCK } from "../../../src/cluster/member-vm.ts";
import type { ClusterOptions, ClusterPart } from "../../../src/cluster/options.ts";
import type { ClusterStorage } from "../../../src/cluster/ports.ts";
import { FakeClock, FakeDisks, FakeMachines, FakeStorage, PAGE, TAB } from "./harness.ts";

function memberVm(options: ClusterOptions, storage: ClusterStorage | null = null) {
  const clock = new FakeClock();
  const hub = new InMemoryHub(() => [{ fake: "a" } as unknown as MessagePort, { fake: "b" } as unknown as MessagePort]);
  const transport = hub.join("A");
  const other = hub.join("B");
  const machines = new FakeMachines();
  const membership = new Membership("A", clock.wallNow(), clock.now());
  const sink = { status: () => {}, event: () => {}, toClient: () => {}, progress: () => {}, note: () => {} };
  const hosts = new LocalHosts(options.placement, "A", machines, () => options, sink);
  const disks = new FakeDisks();
  const parts: ClusterPart[] = [];
  const notes: string[] = [];
  let beats = 0;
  const vm = new MemberVm({
    options: () => options,
    clock,
    transport,
    hosts,
    membership,
    storage: () => storage,
    generation: () => 0,
    clearDiskCopies: () => disks.clearAll(),
    changed: (p) => parts.push(p),
    beat: () => beats++,
    note: (t) => notes.push(t),
  });
  return { vm, machines, hosts, other, parts, notes, disks, beats: () => beats };
}

describe("MemberVm", () => {
  it("boots a pair in the one page: lock record at epoch 1 owned by the primary, a new disk id", async () => {
    const storage = new FakeStorage();
    const m = memberVm({ ...PAGE, diskMode: "non-shared" }, await storage.open());
    await m.vm.start();
    expect(storage.record).toEqual({ owner: "A#1", epoch: 1 });
    expect(m.vm.vm).toEqual({ diskId: "disk-1700000000000", diskMode: "non-shared" });
    expect(m.disks.cleared).toBe(1);
    expect(m.machines.hosts.map((h) => [h.id, h.config.role])).toEqual([["A#1", "primary"], ["B#1", "backup"]]);
    expect(m.machines.links).toEqual([{ a: "A#1", b: "B#1", closed: false }]);
    expect(m.parts).toEqual(["vm", "hosts"]);
    expect(m.beats()).toBe(1);
  });

  it("a tab does not boot a VM while another member holds the VM lock; the VM's next beat makes it a standby", async () => {
    const storage = new FakeStorage();
    const m = memberVm({ ...TAB }, await storage.open());
    m.other.holdShared(VM_LOCK);
    await m.vm.afterDiscovery();
    expect(m.machines.hosts).toEqual([]);
    expect(storage.record.epoch).toBe(0);
    m.vm.heard({ diskId: "disk-1", diskMode: "shared" }, true);
    expect(m.vm.vm).toEqual({ diskId: "disk-1", diskMode: "shared" });
    expect(m.machines.hosts.map((h) => [h.id, h.config.role])).toEqual([["A#1", "standby"]]);
  });

  it("with autostart off a tab waits, and stands by for the first VM it hears of (once)", async () => {
    const m = memberVm({ ...TAB, autoStart: false });
    await m.vm.afterDiscovery();
    expect(m.machines.hosts).toEqual([]);
    m.vm.heard({ diskId: "disk-1", diskMode: "shared" }, true);
    m.vm.heard({ diskId: "disk-2", diskMode: "shared" }, true);
    expect(m.vm.vm?.diskId).toBe("disk-1");
    expect(m.machines.hosts.length).toBe(1);
  });

  it("forgets a lost VM (its standby dropped, the VM lock released) and stands by for the next one", async () => {
    const m = memberVm({ ...TAB, autoStart: false });
    m.vm.heard({ diskId: "disk-1", diskMode: "shared" }, true);
    await m.vm.afterDiscovery();
    m.vm.standBy();
    expect(m.machines.hosts.length).toBe(1);
    const standby = m.machines.host("A#1");
    standby.report("standby", "waiting", 0);
    // Nobody else runs the VM (no other member announced a host): it is lost.
    m.vm.forgetIfLost();
    expect(m.vm.vm).toBeNull();
    expect(standby.killed).toBe(true);
    expect(m.notes).toEqual([expect.stringMatching(/^the VM no longer runs on any host/)]);
    expect(await m.other.isHeld(VM_LOCK)).toBe(false);
    // Another member that has not seen the loss yet still names the lost VM in its beats, its
    // host halted: not a VM to stand by for again (that went on between tabs without end).
    m.vm.heard({ diskId: "disk-1", diskMode: "shared" }, false);
    expect(m.vm.vm).toBeNull();
    expect(m.machines.hosts.map((h) => h.id)).toEqual(["A#1"]);
    m.vm.heard({ diskId: "disk-2", diskMode: "shared" }, true);
    expect(m.machines.hosts.map((h) => h.id)).toEqual(["A#1", "A#2"]);
  });
});
