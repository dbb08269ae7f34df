import { describe, expect, it } from "vitest";
import { TourCore, initialTourState, type TourWorld } from "../../../src/ui/teach/tour-core.ts";
import { holdFor, readingMs, stepTitle, transcriptText, wordCount, type Ctx, type Scenario, type Step } from "../../../src/ui/teach/tour.ts";

/** A virtual clock: sleep() resolves only when advance() passes its wake time. */
function fakeWorld(freezeWorld: ((on: boolean) => void) | null = null) {
  let t = 0;
  let sleepers: { at: number; wake: () => void }[] = [];
  const world: TourWorld = {
    ctx: () => ({ vars: {} }) as unknown as Ctx,
    now: () => t,
    sleep: (ms) => new Promise<void>((wake) => sleepers.push({ at: t + ms, wake })),
    freezeWorld,
  };
  const flush = () => new Promise((r) => setImmediate(r));
  async function advance(ms: number): Promise<void> {
    const end = t + ms;
    await flush();
    while (t < end) {
      t = Math.min(end, t + 10);
      const due = sleepers.filter((s) => s.at <= t);
      sleepers = sleepers.filter((s) => s.at > t);
      for (const s of due) s.wake();
      await flush();
    }
  }
  return { world, advance, now: () => t };
}

const words = (n: number) => Array.from({ length: n }, (_, i) => `word${i}`).join(" ") + ".";

function tour(steps: Step[]): Scenario {
  return { id: "t", title: "Test tour", summary: "", steps };
}

describe("reading time", () => {
  it("is 1 s plus 250 ms a word at pace 1, multiplied by the pace", () => {
    expect(wordCount("The client types `kv set course ft`. Its echo…")).toBe(9);
    expect(readingMs(words(20))).toBe(6000);
    expect(readingMs(words(54))).toBe(14_500);
    expect(holdFor({ caption: words(20) }, 1.5)).toBe(9000);
    // A step's own hold wins when it is longer than the reading time.
    expect(holdFor({ caption: words(2), holdMs: 4000 }, 1)).toBe(4000);
  });

  it("keeps a 20-word caption up 6 s at normal pace, 3 s at pace 0.5", async () => {
    for (const [pace, ms] of [[1, 6000], [0.5, 3000]] as const) {
      const w = fakeWorld();
      const core = new TourCore(initialTourState(pace), w.world);
      core.start(tour([{ caption: words(20) }, { caption: "end" }]));
      await w.advance(ms - 150);
      expect(core.state.step).toBe(0);
      await w.advance(300);
      expect(core.state.step).toBe(1);
    }
  });

  it("a caption waits for the event it describes, and for its reading time", async () => {
    const w = fakeWorld();
    const core = new TourCore(initialTourState(1), w.world);
    core.start(tour([{ caption: words(4), until: () => w.now() >= 10_000 }, { caption: words(40), until: () => true }, { caption: "end" }]));
    await w.advance(9_800);
    expect(core.state.step).toBe(0);
    await w.advance(400);
    expect(core.state.step).toBe(1);
    // The event already happened: the 40-word caption still stays its 11 s.
    await w.advance(10_500);
    expect(core.state.step).toBe(1);
    await w.advance(800);
    expect(core.state.step).toBe(2);
  });

  it("a pace change applies to the caption on screen", async () => {
    const w = fakeWorld();
    const core = new TourCore(initialTourState(1), w.world);
    core.start(tour([{ caption: words(20) }, { caption: "end" }]));
    await w.advance(2000);
    core.setPace(0.2); // 1.2 s in all: already over
    await w.advance(200);
    expect(core.state.step).toBe(1);
  });
});

describe("lecture controls", () => {
  it("previous shows the earlier caption and holds the tour; next returns and resumes", async () => {
    const w = fakeWorld();
    const core = new TourCore(initialTourState(1), w.world);
    core.start(tour([{ caption: words(4) }, { caption: words(20) }, { caption: "end" }]));
    await w.advance(2500);
    expect(core.state.step).toBe(1);
    core.prev();
    expect(core.state).toMatchObject({ step: 1, viewing: 0, status: "paused" });
    // Paused time does not count as reading time.
    await w.advance(20_000);
    expect(core.state.step).toBe(1);
    core.next();
    expect(core.state).toMatchObject({ step: 1, viewing: 1, status: "running" });
    await w.advance(5_000);
    expect(core.state.step).toBe(1);
    await w.advance(1_200);
    expect(core.state.step).toBe(2);
  });

  it("next at the current caption skips its reading time but not its event", async () => {
    const w = fakeWorld();
    let happened = false;
    const core = new TourCore(initialTourState(1), w.world);
    core.start(tour([{ caption: words(30), until: () => happened }, { caption: "end" }]));
    await w.advance(500);
    core.next();
    await w.advance(500);
    expect(core.state.step).toBe(0);
    happened = true;
    await w.advance(200);
    expect(core.state.step).toBe(1);
  });

  it("the step list skips ahead: steps between run without reading time, each still waits for its event", async () => {
    const w = fakeWorld();
    const ran: number[] = [];
    const core = new TourCore(initialTourState(1), w.world);
    core.start(
      tour([
        { caption: words(30), run: () => ran.push(0) },
        { caption: words(30), run: () => ran.push(1), until: () => w.now() >= 3000 },
        { caption: words(30), run: () => ran.push(2) },
        { caption: words(30), run: () => ran.push(3) },
      ]),
    );
    await w.advance(300);
    core.jumpTo(3);
    await w.advance(2000);
    expect(core.state.step).toBe(1); // waits for its event at 3 s
    await w.advance(1300);
    expect(core.state.step).toBe(3);
    expect(ran).toEqual([0, 1, 2, 3]);
    // At the target the reading time applies again.
    await w.advance(7000);
    expect(core.state.status).toBe("running");
    await w.advance(2000);
    expect(core.state.status).toBe("done");
    // After the run any caption can be shown again.
    core.jumpTo(1);
    expect(core.state.viewing).toBe(1);
  });

  it("timeouts count running time only", async () => {
    const w = fakeWorld();
    const core = new TourCore(initialTourState(1), w.world);
    core.start(tour([{ caption: "x", until: () => false, timeoutMs: 1000 }]));
    await w.advance(500);
    core.pause();
    await w.advance(5000);
    expect(core.state.status).toBe("paused");
    core.resume();
    await w.advance(700);
    expect(core.state.status).toBe("failed");
    expect(core.state.error).toContain("timed out");
  });

  it("keeps a transcript of every caption with its final numbers", async () => {
    const w = fakeWorld();
    const core = new TourCore(initialTourState(0.1), w.world);
    core.start(
      tour([
        { caption: "Boot. Two hosts.", note: () => "booted" },
        { caption: "The end.", verdict: () => ({ kind: "k", ok: true, text: "it worked" }) },
      ]),
    );
    await w.advance(2000);
    expect(core.state.status).toBe("done");
    const text = transcriptText("Test tour", core.state.transcript, core.state.verdict, core.state.error);
    expect(text).toContain("1. [0.0 s] Boot. Two hosts.\n   booted");
    expect(text).toMatch(/2\. \[0\.\d s\] The end\./);
    expect(text).toContain("Result (as expected): it worked");
    expect(stepTitle({ caption: "Boot. Two hosts." })).toBe("Boot.");
  });
});

describe("freezing the world", () => {
  it("a critical event that comes after the caption's reading time still gets its slow motion", async () => {
    const calls: boolean[] = [];
    const w = fakeWorld((on) => calls.push(on));
    const core = new TourCore(initialTourState(1), w.world);
    core.start(tour([{ caption: words(4), critical: true, until: () => w.now() >= 5000 }, { caption: "end" }]));
    await w.advance(5100);
    expect(core.state).toMatchObject({ step: 0, frozen: true });
    await w.advance(2000); // 1 s + 4 words = 2 s of reading after the event
    expect(core.state).toMatchObject({ step: 1, frozen: false });
    expect(calls).toEqual([true, false]);
  });

  it("without a freeze switch, a critical step moves on as soon as its event happened", async () => {
    const w = fakeWorld(null);
    const core = new TourCore(initialTourState(1), w.world);
    core.start(tour([{ caption: words(30), critical: true, until: () => w.now() >= 300 }, { caption: "end" }]));
    await w.advance(500);
    expect(core.state.step).toBe(1);
    expect(core.freezes).toBe(false);
  });

  it("with one, a critical caption is read in a frozen world, and pause freezes it too", async () => {
    const calls: boolean[] = [];
    const w = fakeWorld((on) => calls.push(on));
    const core = new TourCore(initialTourState(1), w.world);
    core.start(tour([{ caption: words(20), critical: true, until: () => w.now() >= 300 }, { caption: words(20) }, { caption: "end" }]));
    await w.advance(500);
    expect(core.state).toMatchObject({ step: 0, frozen: true });
    expect(calls).toEqual([true]);
    // Its whole reading time (6 s) comes after the event (at 300 ms).
    await w.advance(5700);
    expect(core.state).toMatchObject({ step: 0, frozen: true });
    await w.advance(200);
    expect(core.state).toMatchObject({ step: 1, frozen: false });
    expect(calls).toEqual([true, false]);
    core.pause();
    expect(calls).toEqual([true, false, true]);
    core.resume();
    expect(calls).toEqual([true, false, true, false]);
  });
});
