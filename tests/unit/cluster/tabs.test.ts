import { describe, expect, it } from "vitest";
import { MEMBER_TIMEOUT_MS } from "../../../src/cluster/membership.ts";
import { CLONE_RETRY_MS } from "../../../src/cluster/redundancy.ts";
import { openTab as open, pairOfTabs, World, type Member } from "./harness.ts";

/** Tab A runs the VM (not yet alone); the tabs `names` joined in this order and wait as standbys. */
async function withStandbys(...names: string[]): Promise<{ w: World; a: Member }> {
  const w = new World();
  const a = await open(w, "A");
  for (const n of names) {
    const m = await open(w, n);
    m.machines.host(`${n}#1`).report("standby", "waiting", 0);
  }
  await w.clock.advance(250);
  return { w, a };
}

describe("tabs: membership and the choice of the next backup", () => {
  it("the first tab starts the VM alone; the next joins as a standby and is cloned into over a link it answered", async () => {
    const { a, b } = await pairOfTabs();
    expect(a.machines.host("A#1").config).toMatchObject({ role: "primary", epoch: 1, transport: "tabs" });
    expect(b.machines.host("B#1").config).toMatchObject({ role: "standby", diskId: a.machines.host("A#1").config.diskId });
    // Each side's host holds its end of the logging channel to the other.
    expect(a.machines.host("A#1").channels.map((c) => c.peer)).toEqual(["B#1"]);
    expect(b.machines.host("B#1").channels.map((c) => c.peer)).toEqual(["A#1"]);
    expect(World.feed(a)).toContain("redundancy restored: B#1 replays as the new backup");
    expect(a.svc.membership.members.map((m) => m.tab)).toEqual(["A", "B"]);
  });

  it("two tabs opened at once start one VM, even when the first one's beat has not reached the second (simulator seed 5)", async () => {
    const w = new World();
    const a = w.member("A", { placement: "tab" });
    const b = w.member("B", { placement: "tab" });
    // A's beats never reach B: the slowest delivery there is. Only the VM lock tells B.
    w.hub.cut("A");
    const joined = Promise.all([a.svc.join(), b.svc.join()]);
    await w.clock.advance(800);
    await joined;
    expect(a.svc.hosts.all().map((h) => h.id)).toEqual(["A#1"]);
    expect(b.svc.hosts.all()).toEqual([]);
    expect(b.svc.vm).toBeNull();
  });

  it("a joining tab stands by as soon as a beat names a VM a host runs, without listening out its discovery span", async () => {
    const w = new World();
    const a = await open(w, "A");
    const b = w.member("B", { placement: "tab" });
    const t0 = w.clock.now();
    let joinedAt: number | null = null;
    const join = b.svc.join().then(() => (joinedAt = w.clock.now()));
    // A's host is still booting (no status yet): its beats name the VM, but nothing runs it yet.
    await w.clock.advance(300);
    expect(joinedAt).toBeNull();
    a.machines.host("A#1").report("primary", "alone");
    await w.clock.advance(250); // A's next beat
    await join;
    expect(b.machines.host("B#1").config).toMatchObject({ role: "standby", diskId: a.machines.host("A#1").config.diskId });
    // Well inside the 800 ms span it would have listened out before.
    expect(joinedAt! - t0).toBeLessThan(800);
  });

  it("the oldest standby tab is chosen first", async () => {
    const { w, a } = await withStandbys("C", "B");
    a.machines.host("A#1").report("primary", "alone");
    await w.clock.advance(250);
    expect(World.feed(a)).toContain("restoring redundancy: FT VMotion to C#1 (tab C)");
  });

  it("a silent tab leaves after the timeout; a clone into it is abandoned and the next standby is tried", async () => {
    const { w, a } = await withStandbys("B", "C");
    w.hub.cut("B"); // B's tab hangs before it answers the offer
    a.machines.host("A#1").report("primary", "alone");
    await w.clock.advance(MEMBER_TIMEOUT_MS + 500);
    expect(World.feed(a)).toContain("tab B left the cluster");
    expect(World.feed(a)).toContain("FT VMotion abandoned: the standby tab left");
    expect(a.machines.host("A#1").sent("start-clone")).toEqual([{ t: "start-clone", target: "C#1" }]);
  });

  it("a standby that got a snapshot but was declared failed is not chosen again, whatever its last beat says", async () => {
    const { w, a } = await withStandbys("B", "C");
    const primary = a.machines.host("A#1");
    primary.report("primary", "alone");
    await w.clock.advance(250);
    expect(primary.sent("start-clone")).toEqual([{ t: "start-clone", target: "B#1" }]);
    primary.report("primary", "recording");
    primary.report("primary", "alone", 2);
    expect(World.feed(a)).toContain("FT VMotion abandoned: the new backup was declared failed; retrying");
    await w.clock.advance(250);
    expect(primary.sent("start-clone").map((c) => c.target)).toEqual(["B#1", "C#1"]);
  });

  it("a tab that may not start a VM and heard of none while it listened becomes a standby when a beat announces one", async () => {
    // Found by the simulator (every seed: tabs opened together with the first, `?autostart=off`):
    // such a tab used to show "joining as a standby host…" and never spawn its host.
    const w = new World();
    const b = await open(w, "B", { placement: "tab", autoStart: false });
    expect(b.machines.hosts).toEqual([]);
    const a = await open(w, "A");
    a.machines.host("A#1").report("primary", "alone");
    await w.clock.advance(250);
    expect(b.machines.host("B#1").config).toMatchObject({ role: "standby", diskId: a.machines.host("A#1").config.diskId });
    b.machines.host("B#1").report("standby", "waiting", 0);
    await w.clock.advance(250);
    expect(a.machines.host("A#1").sent("start-clone")).toEqual([{ t: "start-clone", target: "B#1" }]);
  });

  it("an offer the standby tab never answers is made again after CLONE_RETRY_MS, not only given up after CLONE_GIVE_UP_MS", async () => {
    // Found by the simulator (seed 247): a partition dropped the offer; the primary ran alone
    // for the rest of the run although the standby waited.
    const { w, a } = await withStandbys("B");
    const hub = w.hub as unknown as { offer: (...args: unknown[]) => unknown };
    const offer = hub.offer.bind(w.hub);
    let lost = 1;
    hub.offer = (...args) => (lost-- > 0 ? { id: "lost", close: () => {} } : offer(...args));
    a.machines.host("A#1").report("primary", "alone");
    await w.clock.advance(CLONE_RETRY_MS - 250);
    expect(World.feed(a).filter((t) => t.startsWith("FT VMotion abandoned"))).toEqual([]);
    await w.clock.advance(500);
    expect(World.feed(a)).toContain("FT VMotion abandoned: the logging channel did not come up; retrying");
    await w.clock.advance(250);
    expect(a.machines.host("A#1").sent("start-clone")).toEqual([{ t: "start-clone", target: "B#1" }]);
  });

  it("a standby passed over after a clone that failed is chosen again once CLONE_RETRY_MS has passed and it still waits", async () => {
    // Found by the simulator (seed 3598): the snapshot never reached B#1 (it hung, and the
    // channel closed when the primary moved on to C); B#1 was a standby again but never chosen,
    // and after C failed the primary ran alone to the end of the run.
    const { w, a } = await withStandbys("B");
    const primary = a.machines.host("A#1");
    primary.report("primary", "alone");
    await w.clock.advance(250);
    primary.report("primary", "recording");
    primary.report("primary", "alone", 2);
    expect(World.feed(a)).toContain("FT VMotion abandoned: the new backup was declared failed; retrying");
    await w.clock.advance(CLONE_RETRY_MS - 500);
    expect(primary.sent("start-clone").map((c) => c.target)).toEqual(["B#1"]);
    await w.clock.advance(1000);
    expect(primary.sent("start-clone").map((c) => c.target)).toEqual(["B#1", "B#1"]);
  });

  it("goodbye: the surviving host is told its peer left (a hint to its failure detector)", async () => {
    const { w, a, b } = await pairOfTabs();
    b.svc.dispose();
    await w.clock.advance(10);
    expect(a.machines.host("A#1").sent("peer-left")).toEqual([{ t: "peer-left", host: "B#1" }]);
    expect(World.feed(a)).toContain("tab B closed: B#1 is gone (a hint to the failure detector)");
    expect(a.svc.membership.members.map((m) => m.tab)).toEqual(["A"]);
    expect(b.machines.host("B#1").killed).toBe(true);
  });
});

/** Tab A starts the VM, tab B joins as a standby before any clone. */
async function primaryAndStandby(): Promise<{ w: World; a: Member; b: Member }> {
  const w = new World();
  const a = await open(w, "A");
  const b = await open(w, "B");
  b.machines.host("B#1").report("standby", "waiting", 0);
  return { w, a, b };
}

const lost = (m: Member) => World.feed(m).some((line) => line.startsWith("the VM no longer runs"));

describe("tabs: a VM that is lost", () => {
  it("the primary's tab crashes while it runs alone: the standby tab says the VM is lost, takes its host out and may start a new one", async () => {
    const { w, a, b } = await primaryAndStandby();
    a.machines.host("A#1").report("primary", "alone");
    w.hub.crash("A"); // before the clone starts: nobody has the VM's state
    await w.clock.advance(MEMBER_TIMEOUT_MS + 500);
    expect(lost(b)).toBe(true);
    expect(b.machines.host("B#1").killed).toBe(true);
    expect(b.svc.vm).toBeNull();
    expect(b.svc.hosts.all()).toEqual([]);
    // Start VM (the page offers it again): a new VM, its primary at epoch 1 in this tab.
    await b.svc.startVm();
    expect(b.machines.host("B#2").config).toMatchObject({ role: "primary", epoch: 1 });
  });

  it("not while a running host remains: a backup that goes live, or a primary still booting", async () => {
    const { w, a, b } = await pairOfTabs();
    w.hub.crash("A");
    await w.clock.advance(MEMBER_TIMEOUT_MS + 500);
    expect(lost(b)).toBe(false);
    expect(b.svc.vm).not.toBeNull();
    // A tab whose primary has not reported yet may be booting the VM: its standby waits.
    const w2 = new World();
    await open(w2, "A");
    const c = await open(w2, "C");
    c.machines.host("C#1").report("standby", "waiting", 0);
    await w2.clock.advance(MEMBER_TIMEOUT_MS);
    expect(lost(c)).toBe(false);
    expect(c.machines.host("C#1").killed).toBe(false);
  });

  it("an offer made for the tab's earlier host is refused; the next one names the new host (simulator seed 1934)", async () => {
    // C gave the VM up after a false goodbye and became a standby again as C#2, while the
    // primary's tab still offered the clone to C#1: C#2 must not answer in its name.
    const { w, a, b } = await primaryAndStandby();
    const offers: string[] = [];
    b.transport.onLinkOffer((o) => offers.push(o.host));
    b.svc.hosts.drop("B#1");
    b.svc.hosts.spawn(b.svc.hosts.nextId(), "standby", b.svc.vm!);
    b.machines.host("B#2").report("standby", "waiting", 0);
    a.machines.host("A#1").report("primary", "alone"); // its last beat from B still names B#1
    await w.clock.advance(50);
    expect(offers[0]).toBe("B#1");
    expect(b.machines.host("B#2").channels).toEqual([]);
    await w.clock.advance(CLONE_RETRY_MS + 500);
    expect(offers.at(-1)).toBe("B#2");
    expect(b.machines.host("B#2").channels.map((c) => c.peer)).toEqual(["A#1"]);
  });

  it("a hung primary's tab that speaks again: the standby that gave the VM up becomes its standby again", async () => {
    const { w, a, b } = await primaryAndStandby();
    a.machines.host("A#1").report("primary", "alone");
    w.hub.cut("A"); // hung: its Web Locks stay held
    await w.clock.advance(MEMBER_TIMEOUT_MS + 500);
    expect(lost(b)).toBe(true);
    await b.svc.startVm(); // refused: a member of the VM still holds its lock
    expect(b.svc.hosts.all()).toEqual([]);
    w.hub.uncut("A");
    await w.clock.advance(500);
    expect(b.machines.host("B#2").config).toMatchObject({ role: "standby", diskId: a.machines.host("A#1").config.diskId });
  });
});

describe("tabs: a standby worker of the tab's own", () => {
  it("with no standby tab the primary clones into a second worker, which becomes the tab's host when it goes live", async () => {
    const w = new World();
    const a = await open(w, "A", { placement: "tab", localStandby: true });
    a.machines.host("A#1").report("primary", "alone");
    await w.clock.advance(10);
    expect(a.machines.host("A#1").sent("start-clone")).toEqual([{ t: "start-clone", target: "A#W1" }]);
    a.machines.host("A#1").report("primary", "recording");
    a.machines.host("A#W1").report("backup", "replaying");
    expect(a.svc.hosts.main?.id).toBe("A#1");
    a.machines.host("A#W1").report("primary", "alone", 2);
    expect(a.svc.hosts.main?.id).toBe("A#W1");
    expect(a.machines.host("A#1").killed).toBe(true);
    expect(World.feed(a)).toContain("A#W1 (this tab's second worker) is live: it becomes the tab's host");
  });
});

describe("tabs: the client mirror", () => {
  it("input typed in one tab reaches every tab's hosts with the same sequence number; released output reaches every client", async () => {
    const { w, a, b } = await pairOfTabs();
    b.svc.mirror.type("kv get x\n");
    await w.clock.advance(10);
    const inputs = (m: Member, id: string) => m.machines.host(id).heard.filter((x) => x.t === "client-input");
    expect(inputs(a, "A#1")).toEqual([{ t: "client-input", seq: 0, bytes: new TextEncoder().encode("kv get x\n") }]);
    expect(inputs(b, "B#1")).toEqual(inputs(a, "A#1"));
    a.machines.host("A#1").release({ t: "console", epoch: 1, from: "A#1", offset: 0, bytes: new TextEncoder().encode("x=1\n") });
    a.machines.host("A#1").release({ t: "input-ack", epoch: 1, from: "A#1", nextSeq: 1 });
    await w.clock.advance(10);
    for (const m of [a, b]) {
      expect(new TextDecoder().decode(m.svc.mirror.client.stream())).toBe("x=1\n");
      expect(m.svc.mirror.client.inputAcked).toBe(1);
    }
  });

  it("a tab that joins late syncs the stream and the unacknowledged input from the others", async () => {
    const { w, a } = await pairOfTabs();
    a.svc.mirror.type("one\n");
    a.svc.mirror.type("two\n");
    a.machines.host("A#1").release({ t: "console", epoch: 1, from: "A#1", offset: 0, bytes: new TextEncoder().encode("hello\n") });
    a.machines.host("A#1").release({ t: "input-ack", epoch: 1, from: "A#1", nextSeq: 1 });
    const c = await open(w, "C");
    expect(new TextDecoder().decode(c.svc.mirror.client.stream())).toBe("hello\n");
    expect(c.svc.mirror.client.sentInputs).toBe(2);
    expect(c.svc.mirror.client.inputAcked).toBe(1);
    // Its own host hears the unacknowledged input, so it can retransmit it if it outlives the others.
    await w.clock.advance(300);
    const heard = c.machines.host("C#1").heard.flatMap((x) => (x.t === "client-input" ? [`${x.seq}:${new TextDecoder().decode(x.bytes)}`] : []));
    expect(new Set(heard)).toEqual(new Set(["1:two\n"]));
  });

  it("the consoles' acknowledgement the hosts hear is the minimum over the tabs", async () => {
    const { w, a, b } = await pairOfTabs();
    const lastAck = () => a.machines.host("A#1").heard.filter((x) => x.t === "client-ack").at(-1);
    a.machines.host("A#1").release({ t: "console", epoch: 1, from: "A#1", offset: 0, bytes: new Uint8Array(10) });
    await w.clock.advance(300);
    w.hub.cut("B"); // B's client holds 10 bytes and says so no more
    a.machines.host("A#1").release({ t: "console", epoch: 1, from: "A#1", offset: 10, bytes: new Uint8Array(5) });
    await w.clock.advance(300);
    expect(b.svc.mirror.client.length).toBe(10);
    expect(lastAck()).toEqual({ t: "client-ack", consoleOffset: 10 });
    // A silent tab's acknowledgement expires with its membership: hosts may forget what A holds.
    await w.clock.advance(MEMBER_TIMEOUT_MS);
    expect(lastAck()).toEqual({ t: "client-ack", consoleOffset: 15 });
  });
});

describe("tabs: the event log", () => {
  it("a host's event reaches the other tabs' feeds, at the same wall-clock time", async () => {
    const { w, a, b } = await pairOfTabs();
    a.machines.host("A#1").event({ kind: "vm-resumed" });
    await w.clock.advance(1);
    const at = (m: Member) => m.svc.log.events.find((e) => e.kind === "vm-resumed")!.at;
    expect(at(b)).toBe(at(a));
    expect(b.svc.log.events.find((e) => e.kind === "vm-resumed")).toMatchObject({ hostId: "A#1", text: "VM resumed" });
  });
});
