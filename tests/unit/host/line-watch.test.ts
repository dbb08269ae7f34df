import { describe, expect, it } from "vitest";
import { LineWatch } from "../../../src/host/line-watch.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

describe("LineWatch", () => {
  it("fires once on the whole line, not on the command that echoes it", () => {
    let hits = 0;
    const w = new LineWatch("PAID", () => hits++);
    w.produced(bytes("lockstep# echo PAID\r\n"));
    expect(hits).toBe(0);
    w.produced(bytes("PA"));
    w.produced(bytes("ID\r"));
    expect(hits).toBe(0);
    w.produced(bytes("\nlockstep# PAID\r\nPAID\r\n"));
    expect(hits).toBe(1);
  });

  it("does not match a longer line that ends with it", () => {
    let hits = 0;
    const w = new LineWatch("OK", () => hits++);
    w.produced(bytes("NOT OK\r\nOKAY\r\n"));
    expect(hits).toBe(0);
    w.produced(bytes("OK\n"));
    expect(hits).toBe(1);
  });
});
