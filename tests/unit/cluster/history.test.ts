import { describe, expect, it } from "vitest";
import { RECORDING_WAIT_MS } from "../../../src/cluster/recording-relay.ts";
import { openTab as open, pairOfTabs, World } from "./harness.ts";

describe("tab mode: what a tab sees of what happened before it opened, and of another tab's host", () => {
  it("a tab opened after events happened gets the earlier feed from another tab, once, before its own lines", async () => {
    const w = new World();
    const a = await open(w, "A");
    a.machines.host("A#1").report("primary", "alone");
    a.machines.host("A#1").event({ kind: "clone-quiescing" });
    a.svc.note("page", "cluster", "a note only tab A made");
    await w.clock.advance(1000);
    const c = await open(w, "C");
    const b = await open(w, "B");
    await w.clock.advance(250);
    for (const late of [b, c]) {
      const feed = World.feed(late);
      const quiesce = feed.filter((t) => t === a.svc.log.events.find((e) => e.kind === "clone-quiescing")!.text);
      expect(quiesce, `tab ${late.svc.self}'s feed: ${feed.join(" | ")}`).toHaveLength(1);
      expect(feed).toContain("a note only tab A made");
      expect(feed.some((t) => /^the feed before this tab joined: \d+ earlier events, as tab [AC] saw them$/.test(t))).toBe(true);
      // The earlier events come first, in the order they happened.
      const at = late.svc.log.events.map((e) => e.at);
      expect(at.indexOf(Math.min(...at))).toBe(0);
    }
    // Tab A asked nobody, and took no answer it did not ask for.
    expect(World.feed(a).some((t) => t.startsWith("the feed before this tab joined"))).toBe(false);
  });

  it("the timeline of a tab without the live primary gets the primary's recording from its tab", async () => {
    const { w, b } = await pairOfTabs();
    const asked = b.svc.recordings.recording();
    await w.clock.advance(10);
    // FakeHost's recording is its id's first letter: A#1's, from tab A.
    expect([...(await asked)]).toEqual(["A".charCodeAt(0)]);
    // The backup's own tab does not answer for it; after a failover B#1 is the live primary itself.
    b.machines.host("B#1").report("primary", "alone", 2);
    expect([...(await b.svc.recordings.recording())]).toEqual(["B".charCodeAt(0)]);
  });

  it("no live primary in any tab: the request says so after its wait, it does not hang", async () => {
    const w = new World();
    const a = await open(w, "A");
    a.machines.host("A#1").report("primary", "halted");
    const b = await open(w, "B");
    const asked = b.svc.recordings.recording();
    const failed = expect(asked).rejects.toThrow(/no live primary answered within 15 s/);
    await w.clock.advance(RECORDING_WAIT_MS + 1);
    await failed;
  });
});
