import { describe, expect, it } from "vitest";
import { COMPUTER_KEY, computerName, renameComputer, type NameStore } from "../../../src/ui/lib/computer-name.ts";

const store = (init: Record<string, string> = {}): NameStore & { m: Map<string, string> } => {
  const m = new Map(Object.entries(init));
  return { m, getItem: (k) => m.get(k) ?? null, setItem: (k, v) => void m.set(k, v) };
};

describe("computer name", () => {
  it("?computer= wins over the kept name, and is kept", () => {
    const s = store({ [COMPUTER_KEY]: "old" });
    expect(computerName(new URLSearchParams("computer=%20Projector%20%20laptop "), s, "Linux x86_64")).toBe("Projector laptop");
    expect(s.m.get(COMPUTER_KEY)).toBe("Projector laptop");
  });

  it("the kept name next, else platform and a short id, kept for the next visit", () => {
    expect(computerName(new URLSearchParams(""), store({ [COMPUTER_KEY]: "student-3" }), "Win32")).toBe("student-3");
    const s = store();
    const name = computerName(new URLSearchParams("computer="), s, "Linux x86_64", () => 0.5);
    expect(name).toBe("Linux-8000");
    expect(s.m.get(COMPUTER_KEY)).toBe(name);
    expect(computerName(new URLSearchParams(""), null, "", () => 0)).toBe("computer-0000");
  });

  it("a refusing storage still gives a name; renaming keeps it, an empty rename keeps the old", () => {
    const refusing: NameStore = { getItem: () => { throw new Error("denied"); }, setItem: () => { throw new Error("denied"); } };
    expect(computerName(new URLSearchParams(""), refusing, "MacIntel", () => 1 / 65536)).toBe("MacIntel-0001");
    const s = store();
    expect(renameComputer("  ", "A", s)).toBe("A");
    expect(renameComputer("x".repeat(50), "A", s)).toBe("x".repeat(40));
    expect(s.m.get(COMPUTER_KEY)).toBe("x".repeat(40));
  });
});
