import { describe, expect, it } from "vitest";
import { CLONE_GIVE_UP_MS, CLONE_RETRY_MS } from "../../../src/cluster/redundancy.ts";
import { World, flush, type Member } from "./harness.ts";

/** A page whose pair booted and runs in lockstep: A#1 records, B#1 replays (epoch 1). */
async function inLockstep(options: Parameters<World["member"]>[1] = { placement: "page" }): Promise<{ w: World; page: Member }> {
  const w = new World();
  const page = w.member("page", options);
  await page.svc.start();
  page.machines.host("A#1").report("primary", "recording");
  page.machines.host("B#1").report("backup", "replaying");
  return { w, page };
}

describe("the one page: a new VM", () => {
  it("resets the lock record, claims epoch 1 for the primary and boots a linked pair that agrees on the VM", async () => {
    const { w, page } = await inLockstep();
    expect(w.storage.record).toMatchObject({ owner: "A#1", epoch: 1 });
    const [a, b] = page.machines.hosts.map((h) => h.config);
    expect(a).toMatchObject({ hostId: "A#1", role: "primary", peer: "B#1", epoch: 1, transport: "workers", diskMode: "shared" });
    expect(b).toMatchObject({ hostId: "B#1", role: "backup", peer: "A#1", epoch: 1 });
    expect(b!.diskId).toBe(a!.diskId);
    expect(b!.sessionEpochMs).toBe(a!.sessionEpochMs);
    expect(page.machines.links).toEqual([{ a: "A#1", b: "B#1", closed: false }]);
  });

  it("polls the lock record through the storage API for display", async () => {
    const { w, page } = await inLockstep();
    expect(page.svc.lock.record).toBeNull();
    await w.clock.advance(300);
    expect(page.svc.lock.record).toMatchObject({ owner: "A#1", epoch: 1 });
  });
});

describe("restore redundancy: a user's request is kept or refused, never dropped", () => {
  it("in lockstep it is refused with the reason, in the feed too", async () => {
    const { page } = await inLockstep();
    expect(page.svc.redundancy.refusal()).toBe("backup B#1 replays: the VM is fault tolerant");
    page.svc.redundancy.request();
    expect(World.feed(page)).toContain("restore redundancy refused: backup B#1 replays: the VM is fault tolerant");
    expect(page.machines.hosts).toHaveLength(2);
  });

  it("kill the backup, restore at once: carried out when the primary notices it runs alone", async () => {
    const { page } = await inLockstep();
    page.svc.controls.kill("B#1");
    expect(page.svc.redundancy.refusal()).toBeNull();
    page.svc.redundancy.request();
    expect(World.feed(page)).toContain("restore redundancy requested: it starts when A#1 notices it runs alone");
    expect(page.svc.redundancy.refusal()).toBe("requested: it starts when A#1 notices it runs alone");
    expect(page.machines.hosts).toHaveLength(2);

    page.machines.host("A#1").report("primary", "alone", 2);
    const c = page.machines.host("C#1");
    expect(c.config).toMatchObject({ role: "standby" });
    expect(page.machines.links.at(-1)).toMatchObject({ a: "A#1", b: "C#1" });
    await flush();
    expect(page.machines.host("A#1").sent("start-clone")).toEqual([{ t: "start-clone", target: "C#1" }]);

    page.machines.host("A#1").report("primary", "recording", 2);
    c.report("backup", "replaying", 2);
    expect(World.feed(page)).toContain("redundancy restored: C#1 replays as the new backup");
    expect(page.svc.redundancy.refusal()).toBe("backup C#1 replays: the VM is fault tolerant");
  });

  it("kill the primary, restore at once: refused while no primary is live, possible once the backup took over", async () => {
    const { page } = await inLockstep();
    page.svc.controls.kill("A#1");
    expect(page.svc.redundancy.refusal()).toBe("no live primary to clone");
    page.machines.host("B#1").report("primary", "alone", 2);
    expect(page.svc.redundancy.refusal()).toBeNull();
  });
});

describe("controls act on live roles", () => {
  it("after a cut where the backup halted: restore is possible and clones the live primary", async () => {
    const { page } = await inLockstep();
    page.svc.controls.cutChannel();
    page.machines.host("A#1").report("primary", "alone", 2);
    page.machines.host("B#1").report("backup", "halted", 1);
    expect(page.svc.hosts.liveBackup()).toBeUndefined();
    expect(page.svc.redundancy.refusal()).toBeNull();
    page.svc.redundancy.request();
    await flush();
    expect(page.machines.host("A#1").sent("start-clone")).toEqual([{ t: "start-clone", target: "C#1" }]);
  });

  it("after a cut where the primary halted: the VM controls and the recording go to the promoted backup; zombie write only to the halted host", async () => {
    const { page } = await inLockstep();
    page.svc.controls.cutChannel();
    page.machines.host("A#1").report("primary", "halted", 1);
    page.machines.host("B#1").report("primary", "alone", 2);
    expect(page.svc.hosts.livePrimary()?.id).toBe("B#1");
    page.svc.controls.vm({ t: "vm-pause", paused: true });
    expect(page.machines.host("B#1").sent("vm-pause")).toHaveLength(1);
    expect(page.machines.host("A#1").sent("vm-pause")).toHaveLength(0);
    expect(await page.svc.controls.recording()).toEqual(new Uint8Array(["B".charCodeAt(0)]));
    page.svc.controls.zombieWrite();
    expect(page.machines.host("A#1").sent("zombie-write")).toHaveLength(1);
    expect(page.machines.host("B#1").sent("zombie-write")).toHaveLength(0);
  });
});

describe("the clone state machine: retry and give-up", () => {
  it("back to alone after the snapshot was sent: the new backup was declared failed; another host is tried", async () => {
    const { w, page } = await inLockstep({ placement: "page", autoRestore: true });
    page.svc.controls.kill("B#1");
    page.machines.host("A#1").report("primary", "alone", 2);
    await flush();
    page.machines.host("A#1").report("primary", "recording", 2);
    page.machines.host("A#1").report("primary", "alone", 2);
    expect(World.feed(page)).toContain("FT VMotion abandoned: the new backup was declared failed; retrying");
    expect(page.machines.host("C#1").killed).toBe(true);
    await w.clock.advance(250);
    expect(page.machines.host("A#1").sent("start-clone").map((c) => c.target)).toEqual(["C#1", "D#1"]);
  });

  it("no snapshot after start-clone: retried after CLONE_RETRY_MS, not before", async () => {
    const { w, page } = await inLockstep({ placement: "page", autoRestore: true });
    page.svc.controls.kill("B#1");
    page.machines.host("A#1").report("primary", "alone", 2);
    await flush();
    await w.clock.advance(CLONE_RETRY_MS - 100);
    expect(World.feed(page).filter((t) => t.startsWith("FT VMotion abandoned"))).toEqual([]);
    await w.clock.advance(400);
    expect(World.feed(page)).toContain("FT VMotion abandoned: no snapshot came; retrying");
    await w.clock.advance(250);
    expect(page.machines.host("A#1").sent("start-clone").map((c) => c.target)).toEqual(["C#1", "D#1"]);
  });

  it("a new host that never starts: given up after CLONE_GIVE_UP_MS", async () => {
    const { w, page } = await inLockstep({ placement: "page", autoRestore: true });
    page.machines.manualBoot = true;
    page.svc.controls.kill("B#1");
    page.machines.host("A#1").report("primary", "alone", 2);
    await w.clock.advance(CLONE_GIVE_UP_MS + 250);
    expect(World.feed(page)).toContain("FT VMotion abandoned: timed out");
    expect(page.machines.host("A#1").sent("start-clone")).toEqual([]);
    expect(page.machines.host("C#1").killed).toBe(true);
  });
});

describe("non-shared disk: collection of copies that can never be live again", () => {
  it("the live primary's page deletes the dead host's copy, once; a fresh VM clears earlier copies", async () => {
    const { page } = await inLockstep({ placement: "page", diskMode: "non-shared" });
    expect(page.disks.cleared).toBe(1);
    const diskId = page.machines.host("A#1").config.diskId;
    page.svc.controls.kill("A#1");
    page.machines.host("B#1").report("primary", "alone", 2);
    page.machines.host("B#1").report("primary", "alone", 2);
    await flush();
    expect(page.disks.deleted).toEqual([`${diskId}/A#1`]);
    expect(World.feed(page)).toContain("non-shared disk: A#1's own copy deleted (out of sync since the failure, never used again)");
  });
});

describe("the lecture's pause: freezeWorld", () => {
  it("freezes every running host and the service's own timers, a host spawned meanwhile too; thaws them all", async () => {
    const { w, page } = await inLockstep();
    await w.clock.advance(300);
    const samples = page.svc.samples.length;
    page.svc.controls.kill("B#1");
    page.svc.freezeWorld(true);
    expect(page.svc.frozen).toBe(true);
    expect(page.machines.host("A#1").sent("freeze-world")).toEqual([{ t: "freeze-world", on: true }]);
    expect(page.machines.host("B#1").sent("freeze-world")).toEqual([]); // dead: nothing to freeze
    // Restore redundancy while frozen: the new standby starts frozen too.
    page.machines.host("A#1").report("primary", "alone", 2);
    page.svc.redundancy.request();
    expect(page.machines.host("C#1").sent("freeze-world")).toEqual([{ t: "freeze-world", on: true }]);
    // No beat, no metrics sample while frozen.
    await w.clock.advance(10_000);
    expect(page.svc.samples.length).toBe(samples);

    page.svc.freezeWorld(false);
    expect(page.machines.host("A#1").sent("freeze-world")).toEqual([
      { t: "freeze-world", on: true },
      { t: "freeze-world", on: false },
    ]);
    await w.clock.advance(1000);
    expect(page.svc.samples.length).toBeGreaterThan(samples);
    expect(World.feed(page).filter((l) => l.startsWith("world"))).toEqual([
      "world frozen: both VMs, the hosts' timers and failure detectors stand still",
      "world running again after 10.0 s frozen (not counted by any timer)",
    ]);
  });
});
