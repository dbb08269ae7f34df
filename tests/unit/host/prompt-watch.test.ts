import { describe, expect, it } from "vitest";
import { PromptWatch } from "../../../src/host/prompt-watch.ts";

const enc = (s: string) => new TextEncoder().encode(s);

describe("PromptWatch", () => {
  it("fires once, only when the prompt follows the ready line", () => {
    const w = new PromptWatch("LOCKSTEP READY", "lockstep# ");
    expect(w.feed(enc("kernel: lockstep# early noise\n"))).toBe(false);
    expect(w.feed(enc("LOCKSTEP READY\r\n"))).toBe(false);
    expect(w.feed(enc("lockstep"))).toBe(false);
    expect(w.feed(enc("# "))).toBe(true);
    expect(w.ready).toBe(true);
    expect(w.feed(enc("lockstep# "))).toBe(false);
  });

  it("finds markers split across many chunks after long output", () => {
    const w = new PromptWatch("LOCKSTEP READY", "lockstep# ");
    w.feed(enc("x".repeat(10_000)));
    let fired = 0;
    for (const ch of "LOCKSTEP READY\nlockstep# ") if (w.feed(enc(ch))) fired++;
    expect(fired).toBe(1);
  });
});
