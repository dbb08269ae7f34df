import { describe, expect, it } from "vitest";
import { FreezableTime } from "../../../src/host/freezable-time.ts";
import { FakeClock } from "../cluster/harness.ts";
import { Rig, state } from "./rig.ts";

/** FreezableTime over the cluster tests' fake clock (virtual ms, timers fired in order). */
function clocked() {
  const base = new FakeClock();
  const time = new FreezableTime({ now: () => base.now(), after: (ms, fn) => base.after(ms, fn), every: (ms, fn) => base.every(ms, fn), soon: (fn) => base.after(0, fn) });
  return { base, time };
}

describe("freezable time: the lecture's pause is not counted", () => {
  it("now() stands still while frozen and never counts the frozen span", async () => {
    const { base, time } = clocked();
    await base.advance(100);
    expect(time.now()).toBe(100);
    time.freeze();
    await base.advance(5000);
    expect(time.now()).toBe(100);
    expect(time.frozenMs).toBe(5000);
    time.thaw();
    await base.advance(50);
    expect(time.now()).toBe(150);
  });

  it("a timeout set before a freeze fires after its full time of unfrozen time, not at the thaw", async () => {
    const { base, time } = clocked();
    const fired: number[] = [];
    time.after(2000, () => fired.push(base.now()));
    await base.advance(1500);
    time.freeze();
    await base.advance(10_000); // long past the base's due time
    expect(fired).toEqual([]);
    time.thaw();
    await base.advance(499);
    expect(fired).toEqual([]);
    await base.advance(1);
    expect(fired).toEqual([12_000]); // 1500 before + 500 after the 10 s freeze
  });

  it("periodic timers stop while frozen and keep their phase; yields wait for the thaw; cancel still cancels", async () => {
    const { base, time } = clocked();
    const ticks: number[] = [];
    time.every(100, () => ticks.push(time.now()));
    await base.advance(250);
    expect(ticks).toEqual([100, 200]);
    time.freeze();
    let yielded = false;
    time.soon(() => (yielded = true));
    const cancelled = time.after(10, () => ticks.push(-1));
    await base.advance(1000);
    expect(ticks).toEqual([100, 200]);
    expect(yielded).toBe(false);
    cancelled();
    time.thaw();
    await base.advance(0);
    expect(yielded).toBe(true);
    await base.advance(250);
    // In the clock's own time the ticks go on at 300, 400, 500 as if nothing had happened.
    expect(ticks).toEqual([100, 200, 300, 400, 500]);
  });

  it("a freeze and thaw twice: both spans are left out", async () => {
    const { base, time } = clocked();
    for (let i = 0; i < 2; i++) {
      await base.advance(10);
      time.freeze();
      await base.advance(1000);
      time.thaw();
    }
    expect(time.now()).toBe(20);
    expect(time.frozenMs).toBe(2000);
  });
});

describe("host: freezeWorld stops the whole host, and nothing fails over because of it", () => {
  it("a pair frozen for 50 failure timeouts, with input sent meanwhile, resumes in lockstep: no go-live, no halt", async () => {
    const rig = new Rig();
    const { a, b } = rig.pair();
    await rig.run(60);
    expect([state(a), state(b)]).toEqual(["primary/recording", "backup/replaying"]);
    const frameBefore = a.host.engine!.position().frame;

    // The two hosts freeze a little apart, as two workers receiving the page's message do.
    a.host.freezeWorld(true);
    await rig.run(1);
    b.host.freezeWorld(true);
    const fedWhileFrozen = [a.fed.length, b.fed.length];
    const input = { t: "client-input" as const, seq: 0, bytes: new TextEncoder().encode("k0") };
    a.host.client(input);
    b.host.client(input);
    await rig.run(50 * rig.ft.failureTimeoutMs);
    // Nothing ran: no event reached either agent (the input waits), the VM did not move.
    expect([a.fed.length, b.fed.length]).toEqual(fedWhileFrozen);
    expect(a.host.engine!.position().frame).toBe(frameBefore);
    expect(a.host.frozen && b.host.frozen).toBe(true);

    b.host.freezeWorld(false);
    await rig.run(1);
    a.host.freezeWorld(false);
    await rig.run(40);
    expect([state(a), state(b)]).toEqual(["primary/recording", "backup/replaying"]);
    for (const h of [a, b]) expect(h.performed.filter((x) => x.type === "goLive" || x.type === "halt" || x.type === "testAndSet")).toEqual([]);
    // The input that waited was applied after the thaw, on both sides.
    expect(a.fed.filter((f) => f.ev.type === "inputApplied").length).toBe(1);
    expect(b.node.engine!.vm.nextInputSeq).toBe(1);
    expect(a.host.engine!.position().frame).toBeGreaterThan(frameBefore);
  });

  it("control: without the freeze, the same silence of one host is a failure (the test can see one)", async () => {
    const rig = new Rig();
    const { a, b } = rig.pair();
    await rig.run(60);
    // Only the backup stands still: the primary's failure detector sees it fall silent.
    b.host.freezeWorld(true);
    await rig.run(5 * rig.ft.failureTimeoutMs);
    expect(state(a)).toBe("primary/alone");
  });
});
