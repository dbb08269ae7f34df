import { describe, expect, it } from "vitest";
import { PACE_CHOICES, paceChoice, paceFromParam, urlWithPace } from "../../../src/ui/teach/pace.ts";

describe("caption pace (?pace=)", () => {
  it("reads any positive number and falls back to normal", () => {
    expect(paceFromParam(null)).toBe(1);
    expect(paceFromParam("0.2")).toBe(0.2);
    expect(paceFromParam("1.5")).toBe(1.5);
    for (const bad of ["0", "-1", "fast", ""]) expect(paceFromParam(bad)).toBe(1);
  });

  it("writes the choice into the URL, keeping the other parameters", () => {
    const base = "https://l.example.org/?scenario=normal&autoplay=1";
    const slow = urlWithPace(base, PACE_CHOICES[0].factor);
    expect(new URL(slow).searchParams.get("pace")).toBe("1.5");
    expect(new URL(slow).searchParams.get("scenario")).toBe("normal");
    expect(paceFromParam(new URL(slow).searchParams.get("pace"))).toBe(1.5);
    expect(new URL(urlWithPace(slow, 1)).searchParams.has("pace")).toBe(false);
  });

  it("names the three choices; other factors are custom", () => {
    expect(PACE_CHOICES.map((p) => p.id)).toEqual(["slow", "normal", "fast"]);
    expect(paceChoice(0.6)?.id).toBe("fast");
    expect(paceChoice(0.2)).toBeNull();
  });
});
