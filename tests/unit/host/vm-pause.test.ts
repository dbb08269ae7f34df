import { describe, expect, it } from "vitest";
import { Rig, state } from "./rig.ts";

const last = <T>(xs: T[]): T => xs[xs.length - 1]!;

describe("host: the teaching pause (VM paused between frames)", () => {
  // The pause lands at moments spread over the frame loop's slices and yields: some between slices,
  // where the last slice's frames wait in a batch that is not yet due.
  for (const at of [60, 61, 63, 67, 71, 73, 79]) {
    it(`paused at ${at} ms: the backup replays every frame the primary ran, nothing is left in a batch`, async () => {
      const rig = new Rig();
      const { a, b } = rig.pair();
      await rig.run(at);
      a.host.setVmPaused(true);
      await rig.run(2000); // several status reports and heartbeats later
      const primary = last(a.statuses).frame;
      expect(last(b.statuses).frame).toBe(primary);
      expect([state(a), state(b)]).toEqual(["primary/recording", "backup/replaying"]);
    });
  }
});
